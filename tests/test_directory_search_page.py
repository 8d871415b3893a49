"""The directory search page: one box, filters, the list (and the map's data), on the demo town."""

from __future__ import annotations

import html
import json
import re

import pytest

from hub import demo
from network.search import index as search_index
from network.tables import Service, Structure


async def _seeded(rt) -> None:
    await demo.seed(rt)  # a demo_town test's clone has the demo already: this finds it all and adds nothing


@pytest.mark.demo_town
async def test_search_finds_caf_services_without_accents(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "demarches caf"})
    assert page.status_code == 200
    assert "Point numérique CAF" in page.text
    assert re.search(r"\d+ résultats?", page.text)


@pytest.mark.demo_town
async def test_filters_and_the_map_data(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"theme": "numerique--acquerir-un-equipement"})
    assert "Ordinateurs solidaires" in page.text and "Point numérique CAF" not in page.text
    data = json.loads(re.search(r'id="carte-donnees">(.*?)</script>', page.text, re.S).group(1))
    assert data["markers"] and all(-90 <= m["lat"] <= 90 for m in data["markers"])
    assert data["tiles"]["url"].startswith("https://")


@pytest.mark.demo_town
async def test_sort_by_distance_from_a_neighbourhood(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "numerique", "pres_de": "Les Aubiers"})
    distances = [float(d.replace(",", ".")) for d in re.findall(r"à (\d+,\d) km", page.text)]
    assert distances and distances == sorted(distances)


@pytest.mark.demo_town
async def test_bad_hour_is_explained_in_french(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"jour": "mardi", "heure": "25:99"})
    assert page.status_code == 200
    assert "Choisissez un jour et une heure" in page.text


@pytest.mark.demo_town
async def test_no_result_says_what_to_do(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "zzzyxw"})
    assert "0 résultat" in page.text and "Essayez moins de mots" in page.text


@pytest.mark.demo_town
async def test_results_are_paginated(client, rt):
    await _seeded(rt)
    first = await client.get("/annuaire")
    assert "Page 1 sur 2" in first.text  # the demo's 36 services: a broad search has two pages
    second = await client.get("/annuaire", params={"page": "2"})
    assert second.status_code == 200 and "Page 2 sur 2" in second.text
    beyond = await client.get("/annuaire", params={"page": "3"})
    assert beyond.status_code == 200 and "Aucun service ne correspond" not in beyond.text
    assert "La page 3 n'existe pas" in beyond.text and "Aller à la dernière page" in beyond.text
    assert (await client.get("/annuaire", params={"page": "0"})).status_code == 400


@pytest.mark.demo_town
async def test_sort_by_distance_from_a_typed_address_that_never_shows_in_a_url(client, rt):
    await _seeded(rt)
    page = await client.post("/annuaire/recherche", data={"q": "numerique", "adresse": "22 allée des Aubiers"})
    # posted, then the results by GET: the address is not in the URL, the point is rounded to ~100 m
    [hop] = page.history
    assert hop.status_code == 303 and "Aubiers" not in hop.headers["location"]
    assert page.url.params["lat"] == "47.913" and page.url.params["origine"] == "adresse"
    assert "Du plus proche au plus loin de" in page.text and "l&#39;adresse indiquée (à 100 m près)" in page.text
    assert "Aubiers" not in str(page.url) and 'value="22 allée des Aubiers"' not in page.text
    distances = [float(d.replace(",", ".")) for d in re.findall(r"à (\d+,\d) km", page.text)]
    assert distances and distances == sorted(distances) and distances[0] <= 0.1
    data = json.loads(re.search(r'id="carte-donnees">(.*?)</script>', page.text, re.S).group(1))
    assert data["origin"]["lat"] == pytest.approx(47.913)
    # every link to the next page carries the rounded point, never the address
    assert all("Aubiers" not in link for link in re.findall(r'href="(/annuaire\?[^"]*)"', page.text))


@pytest.mark.demo_town
async def test_an_area_is_named_in_the_url_a_street_is_not(client, rt):
    await _seeded(rt)
    page = await client.post("/annuaire/recherche", data={"q": "numerique", "adresse": "les aubiers"})
    assert page.url.params["precision"] == "neighbourhood" and page.url.params["origine"]
    assert "centre du quartier" in page.text


@pytest.mark.demo_town
async def test_an_address_not_found_is_said_and_results_come_by_relevance(client, rt):
    await _seeded(rt)
    page = await client.post(
        "/annuaire/recherche", data={"q": "demarches caf", "adresse": "3 chemin des Oubliettes, Trifouilly"}
    )
    assert page.status_code == 200 and "Oubliettes" not in str(page.url)
    assert "Adresse introuvable" in page.text and "classés par pertinence" in page.text
    assert 'aria-invalid="true"' in page.text
    assert "Point numérique CAF" in page.text and "Du plus proche" not in page.text


@pytest.mark.demo_town
async def test_autour_de_moi_is_rounded_before_it_reaches_a_url(client, rt):
    await _seeded(rt)
    page = await client.post("/annuaire/recherche", data={"lat": "47.912345", "lon": "1.903456"})
    assert page.url.params["lat"] == "47.912" and page.url.params["lon"] == "1.903"
    assert "votre position (à 100 m près)" in page.text


async def test_filter_lists_offer_only_what_a_search_can_find(client, rt):
    async def structure(name: str, status: str, commune: str, neighbourhood: str) -> int:
        row = Structure(
            name=name, status=status, commune=commune, neighbourhood=neighbourhood, latitude=47.9, longitude=1.9
        )
        await row.save()
        return int(row.id)

    async def service(structure_id: int, thematique: str, *, active: bool = True) -> int:
        row = Service(structure=structure_id, name="Accueil", thematiques=[thematique], is_active=active)
        await row.save()
        return int(row.id)

    open_ = await structure("Centre social des Tilleuls", "active", "Montclair-sur-Loire", "Les Aubiers")
    idle = await structure("Maison des familles", "active", "Saint-Jean-de-Braye", "Le Bourg")
    closed = await structure("Point info fermé", "closed", "Ingré", "Les Roches")
    pending = await structure("Association en attente", "pending", "Olivet", "Le Larry")
    ids = [
        await service(open_, "numerique--acceder-a-une-connexion-internet"),
        await service(open_, "famille--garde-denfants", active=False),  # its thématique appears nowhere else
        await service(idle, "sante--constituer-un-dossier-mdph-invalidite", active=False),
        await service(closed, "logement-hebergement--louer-un-logement"),
        await service(pending, "equipement-et-alimentation--habillement"),
    ]
    await search_index.sync_tags_bulk(ids)  # every service has its tags, searchable or not
    await search_index.reindex_services(ids)

    page = (await client.get("/annuaire")).text
    offered = set(re.findall(r'name="theme" value="([^"]+)"', page))
    assert offered == {"numerique--acceder-a-une-connexion-internet"}
    assert set(re.findall(r'<option value="([^"]+)"', page.split('id="commune"')[1].split("</select>")[0])) == {
        "Montclair-sur-Loire"
    }
    assert set(re.findall(r'<option value="([^"]+)"', page.split('id="quartier"')[1].split("</select>")[0])) == {
        "Les Aubiers"
    }

    # the service comes back: so does its thématique (the lists follow the index)
    await Service.update({Service.is_active: True}).where(Service.id == ids[1])
    await search_index.reindex_service(ids[1])
    page = (await client.get("/annuaire")).text
    assert "famille--garde-denfants" in set(re.findall(r'name="theme" value="([^"]+)"', page))


def _form_values(text: str) -> dict[str, str]:
    """The search form's text and hidden inputs as the page gives them back."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input[^>]*name="(\w+)"[^>]*type="(?:text|search|hidden)"[^>]*value="([^"]*)"', text
        )
        + re.findall(r'<input[^>]*type="hidden" name="(\w+)" value="([^"]*)"', text)
    }


@pytest.mark.demo_town
async def test_a_filter_a_sort_or_a_page_keeps_the_place_of_the_search(client, rt):
    await _seeded(rt)
    first = await client.post(
        "/annuaire/recherche", data={"q": "aide aux démarches", "adresse": "22 allée des Aubiers"}
    )
    assert first.history[0].headers["location"].endswith("#resultats")
    form = _form_values(first.text)
    assert form["adresse"] == form["adresse_affichee"] == "l'adresse indiquée (à 100 m près)"
    assert (form["lat"], form["origine"]) == ("47.913", "adresse")

    # "Gratuit" ticked, the box left as it was: the same point, still nearest first, never the address
    ticked = await client.post("/annuaire/recherche", data={**form, "frais": "gratuit"})
    assert "Aubiers" not in str(ticked.url)
    assert (ticked.url.params["lat"], ticked.url.params["origine"], ticked.url.params["frais"]) == (
        "47.913",
        "adresse",
        "gratuit",
    )
    assert "Du plus proche au plus loin de" in ticked.text
    distances = [float(d.replace(",", ".")) for d in re.findall(r"à (\d+,\d) km", ticked.text)]
    assert len(distances) > 2 and distances == sorted(distances)

    by_name = await client.post("/annuaire/recherche", data={**form, "tri": "nom"})
    assert by_name.url.params["lat"] == "47.913" and by_name.url.params["tri"] == "nom"
    assert "Du plus proche" not in by_name.text
    assert 'value="l&#39;adresse indiquée (à 100 m près)"' in by_name.text

    emptied = await client.post("/annuaire/recherche", data={**form, "adresse": ""})
    assert "lat" not in emptied.url.params and "Du plus proche" not in emptied.text


@pytest.mark.demo_town
async def test_an_area_is_shown_again_in_the_box_and_kept_across_pages(client, rt):
    await _seeded(rt)
    page = await client.post("/annuaire/recherche", data={"adresse": "les aubiers"})
    form = _form_values(page.text)
    assert form["precision"] == "neighbourhood" and form["adresse"] == form["origine"] and "Aubiers" in form["adresse"]
    kept = await client.post("/annuaire/recherche", data={**form, "orientation": "oui"})
    assert kept.url.params["origine"] == form["origine"] and kept.url.params["precision"] == "neighbourhood"
    assert "centre du quartier" in kept.text
    second = await client.get("/annuaire", params={**kept.url.params, "page": "2"})  # a page's link: the same query
    assert "centre du quartier" in second.text and _form_values(second.text)["origine"] == form["origine"]


@pytest.mark.demo_town
async def test_the_bus_parked_in_les_aubiers_comes_first_for_aide_aux_demarches(client, rt):
    await _seeded(rt)
    page = await client.post("/annuaire/recherche", data={"q": "aide aux démarches", "adresse": "Les Aubiers"})
    names = [html.unescape(n) for n in re.findall(r'<h3><a href="/annuaire/services/\d+">(.*?)</a></h3>', page.text)]
    assert names[0] == "Bus France Services", names
    free = await client.post("/annuaire/recherche", data={**_form_values(page.text), "frais": "gratuit"})
    names = [html.unescape(n) for n in re.findall(r'<h3><a href="/annuaire/services/\d+">(.*?)</a></h3>', free.text)]
    assert names[0] == "Bus France Services" and "Du plus proche" in free.text


@pytest.mark.demo_town
async def test_a_search_over_the_length_limit_comes_back_with_its_words_and_the_error(client, rt):
    await _seeded(rt)
    long_words = "démarches " * 25
    page = await client.post("/annuaire/recherche", data={"q": long_words, "frais": "gratuit"})
    assert page.status_code == 200
    assert "au plus 200 caractères" in page.text and 'aria-invalid="true"' in page.text
    assert long_words.strip() in html.unescape(page.text) and 'maxlength="200"' in page.text
