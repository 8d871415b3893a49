"""The directory search page: one box, filters, the list (and the map's data), on the demo town."""

from __future__ import annotations

import json
import re

import pytest

from hub import demo


async def _seeded(rt) -> None:
    await demo.seed(rt)


async def test_search_finds_caf_services_without_accents(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "demarches caf"})
    assert page.status_code == 200
    assert "Point numérique CAF" in page.text
    assert re.search(r"\d+ résultats?", page.text)


async def test_filters_and_the_map_data(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"theme": "numerique--acquerir-un-equipement"})
    assert "Ordinateurs solidaires" in page.text and "Point numérique CAF" not in page.text
    data = json.loads(re.search(r'id="carte-donnees">(.*?)</script>', page.text, re.S).group(1))
    assert data["markers"] and all(-90 <= m["lat"] <= 90 for m in data["markers"])
    assert data["tiles"]["url"].startswith("https://")


async def test_sort_by_distance_from_a_neighbourhood(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "numerique", "pres_de": "Les Aubiers"})
    distances = [float(d.replace(",", ".")) for d in re.findall(r"à (\d+,\d) km", page.text)]
    assert distances and distances == sorted(distances)


async def test_bad_hour_is_explained_in_french(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"jour": "mardi", "heure": "25:99"})
    assert page.status_code == 200
    assert "Choisissez un jour et une heure" in page.text


async def test_no_result_says_what_to_do(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "zzzyxw"})
    assert "0 résultat" in page.text and "Essayez moins de mots" in page.text


async def test_results_are_paginated(client, rt):
    await _seeded(rt)
    first = await client.get("/annuaire")
    assert "Page 1 sur 1" in first.text  # 20 demo services fit on one page
    beyond = await client.get("/annuaire", params={"page": "2"})
    assert beyond.status_code == 200 and "Aucun service ne correspond" in beyond.text
    assert (await client.get("/annuaire", params={"page": "0"})).status_code == 400


async def test_sort_by_distance_from_a_typed_address(client, rt):
    await _seeded(rt)
    page = await client.get("/annuaire", params={"q": "numerique", "adresse": "22 allée des Aubiers"})
    assert "Du plus proche au plus loin de" in page.text
    assert "22 allée des Aubiers, 45990 Montclair-sur-Loire" in page.text
    distances = [float(d.replace(",", ".")) for d in re.findall(r"à (\d+,\d) km", page.text)]
    assert distances and distances == sorted(distances) and distances[0] == 0.0
    data = json.loads(re.search(r'id="carte-donnees">(.*?)</script>', page.text, re.S).group(1))
    assert data["origin"]["lat"] == pytest.approx(47.9132)
    assert 'value="22 allée des Aubiers"' in page.text  # kept in the form for the next search


async def test_an_address_not_found_is_said_and_results_come_by_relevance(client, rt):
    await _seeded(rt)
    page = await client.get(
        "/annuaire", params={"q": "demarches caf", "adresse": "3 chemin des Oubliettes, Trifouilly"}
    )
    assert page.status_code == 200
    assert "Adresse introuvable" in page.text and "classés par pertinence" in page.text
    assert 'aria-invalid="true"' in page.text
    assert "Point numérique CAF" in page.text and "Du plus proche" not in page.text
