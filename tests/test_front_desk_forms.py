"""The directory's forms at the front desk (issue 10): opening hours in a grid, languages by name, the position
found from the address, what to bring, and forms that never lose what was typed (limits checked in French,
the pages' maxlength the server's own)."""

from __future__ import annotations

import html
import json
import time
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.errors import Invalid
from hub.forms import FieldErrors
from network import forms, geocoding, opening_grid, validation
from network.exchange import bring, export, importing, outgoing
from network.locating import ADDRESS_NOT_FOUND
from network.referral_lookup import cards
from network.schemas import ServiceForm
from network.tables import Place, Service, Structure
from tests.conftest import make_person, make_service, make_structure, post_form, read_datainclusion_export, sign_in

# ---------------------------------------------------------------- the hours grid
GRID_POSTED = {
    "hours_mo_1_from": "8h30",
    "hours_mo_1_to": "12:30",
    "hours_mo_2_from": "14",
    "hours_mo_2_to": "17 h",
    "hours_tu_1_from": "08:30",
    "hours_tu_1_to": "12:30",
    "hours_tu_2_from": "14:00",
    "hours_tu_2_to": "17:00",
    "hours_we_1_from": "08:30",
    "hours_we_1_to": "12:30",
    "hours_th_1_from": "18:00",
    "hours_th_1_to": "20:00",
    "hours_th_weeks": "1,3",
    "hours_sa_1_from": "09:00",
    "hours_sa_1_to": "12:00",
    "hours_sa_weeks": "-1",
    "hours_ph_off": "on",
}
GRID_OSM = "Mo,Tu 08:30-12:30,14:00-17:00; We 08:30-12:30; Th[1,3] 18:00-20:00; Sa[-1] 09:00-12:00; PH off"


def test_the_grid_becomes_osm_hours_and_comes_back_the_same() -> None:
    grid, errors = opening_grid.grid_of(GRID_POSTED)
    assert errors == {}
    assert opening_grid.to_osm(grid) == GRID_OSM
    assert forms.hours_of(ServiceForm(**GRID_POSTED), FieldErrors()) == GRID_OSM  # type: ignore[arg-type]
    again = opening_grid.grid_from_osm(GRID_OSM)
    assert again == grid
    values = again.values()
    assert (values["hours_mo_1_from"], values["hours_mo_2_to"], values["hours_th_weeks"]) == ("08:30", "17:00", "1,3")
    assert values["hours_fr_1_from"] == "" and values["hours_ph_off"] == "on"


@pytest.mark.parametrize(
    ("stored", "in_grid"),
    [
        ("Mo-Fr 08:30-12:30,14:00-17:00; PH off", "Mo-Fr 08:30-12:30,14:00-17:00; PH off"),
        ("Mo-Fr 09:00-12:00; We 14:00-17:00", "Mo,Tu,Th,Fr 09:00-12:00; We 14:00-17:00"),  # a later rule wins
        ("Mo-Fr 09:00-12:00; We off", "Mo,Tu,Th,Fr 09:00-12:00"),
        ("Tu[1,3] 09:00-12:00", "Tu[1,3] 09:00-12:00"),
        ("Mo-Fr 09:00-12:00; Tu[1,3] 14:00-16:00", None),  # a Tuesday of two kinds: not in the grid
        ("Mo-Fr 09:00-12:00; Aug off", None),
        ("Mo 08:00-10:00,11:00-12:00,14:00-16:00", None),  # three ranges
        ("24/7", None),
        ("sur rendez-vous", None),
    ],
)
def test_stored_hours_fill_the_grid_only_when_they_fit_exactly(stored: str, in_grid: str | None) -> None:
    grid = opening_grid.grid_from_osm(stored)
    assert (opening_grid.to_osm(grid) if grid else None) == in_grid
    values = forms.hours_values(stored)
    assert values["opening_hours"] == ("" if in_grid else stored)


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"hours_tu_1_from": "14:00", "hours_tu_1_to": "12:00"}, "Mardi : l'heure de fermeture vient après"),
        ({"hours_we_1_from": "09:00"}, "Mercredi : indiquez l'heure d'ouverture et l'heure de fermeture."),
        ({"hours_th_1_from": "midi", "hours_th_1_to": "14:00"}, "Jeudi : écrivez les heures ainsi"),
        (
            {
                "hours_fr_1_from": "09:00",
                "hours_fr_1_to": "13:00",
                "hours_fr_2_from": "12:00",
                "hours_fr_2_to": "17:00",
            },
            "Vendredi : la 2e plage commence après la fin de la 1re",
        ),
        ({"hours_sa_1_from": "09:00", "hours_sa_1_to": "12:00", "hours_sa_weeks": "5,6"}, "Samedi : choisissez"),
    ],
)
def test_a_day_at_fault_is_named_in_french(posted: dict[str, str], message: str) -> None:
    _grid, errors = opening_grid.grid_of(posted)
    assert len(errors) == 1 and next(iter(errors.values())).startswith(message)


def test_grid_and_expert_field_saying_different_things_are_refused_and_the_same_thing_accepted() -> None:
    both = {"hours_mo_1_from": "09:00", "hours_mo_1_to": "12:00"}
    with pytest.raises(Invalid) as refused:
        forms.service_update(ServiceForm(name="Permanence", opening_hours="Tu 09:00-12:00", **both))
    assert refused.value.fields == {"opening_hours": forms.HOURS_BOTH}
    same = forms.service_update(ServiceForm(name="Permanence", opening_hours="Mo 09:00-12:00", **both))
    assert same.opening_hours == "Mo 09:00-12:00"
    expert = forms.service_update(ServiceForm(name="Permanence", opening_hours=" Mo-Fr 09:00-12:00;  Aug off "))
    assert expert.opening_hours == "Mo-Fr 09:00-12:00; Aug off"


async def test_the_structure_form_fills_the_grid_from_stored_hours_or_shows_the_expert_field(client, rt) -> None:
    fits = await make_structure("Centre social Dauphine", opening_hours="Mo-Fr 08:30-12:30,14:00-17:00; PH off")
    odd = await make_structure("Médiathèque", opening_hours="Mo-Sa 10:00-18:00; Aug off")
    await sign_in(client, await make_person(rt, "coordination@reseau.example.fr", coordinator=True))
    page = html.unescape((await client.get(f"/annuaire/structures/{fits}/modifier")).text)
    assert 'name="hours_mo_1_from" value="08:30"' in page and 'name="hours_fr_2_to" value="17:00"' in page
    assert 'id="hours_ph_off" name="hours_ph_off" checked' in page
    assert 'name="opening_hours" value=""' in page and "ne tiennent pas dans la grille" not in page
    page = html.unescape((await client.get(f"/annuaire/structures/{odd}/modifier")).text)
    assert 'name="opening_hours" value="Mo-Sa 10:00-18:00; Aug off"' in page
    assert "ne tiennent pas dans la grille" in page and 'name="hours_mo_1_from" value=""' in page
    assert '<details class="hours-expert" open>' in page


async def test_a_manager_changes_hours_with_the_grid_and_the_place_form_takes_the_grid_too(client, rt) -> None:
    sid = await make_structure(opening_hours="Mo-Fr 09:00-12:00")
    service = await make_service(sid, "Aide aux démarches", opening_hours="")
    await sign_in(client, await make_person(rt, "referente@cs.example.fr", {sid: ["manager"]}))
    posted = {**GRID_POSTED, "name": "Aide aux démarches", "languages": ["fr", "ar", "uk"]}
    response = await post_form(client, f"/annuaire/structures/{sid}/services/{service}/modifier", posted)
    assert response.status_code == 200, response.text
    row = await Service.select().where(Service.id == service).output(load_json=True).first()
    assert row["opening_hours"] == GRID_OSM and row["languages"] == ["ar", "fr", "uk"]
    page = html.unescape((await client.get(f"/annuaire/services/{service}")).text)
    assert "arabe, français, ukrainien" in page
    place = {"commune": "Montclair-sur-Loire", "name": "Bus France Services", "hours_we_1_from": "14:00"}
    response = await post_form(client, f"/annuaire/structures/{sid}/services/{service}/lieux", place)
    text = html.unescape(response.text)
    assert response.status_code == 400 and await Place.count() == 0
    assert 'id="p-name" name="name" type="text" value="Bus France Services"' in text  # what was typed stays
    assert '<p class="error-text" id="p-hours_we-error">Mercredi : indiquez' in text
    place["hours_we_1_to"] = "17:00"
    response = await post_form(client, f"/annuaire/structures/{sid}/services/{service}/lieux", place)
    assert response.status_code == 200 and await Place.select(Place.opening_hours).first() == {
        "opening_hours": "We 14:00-17:00"
    }


# ---------------------------------------------------------------- forms that never lose what was typed
LONG = "é" * 10_000


async def _manager(client: Any, rt: Any) -> tuple[int, int]:
    sid = await make_structure(address="8 avenue des Tilleuls", latitude=47.9, longitude=1.9)
    service = await make_service(sid, "Aide aux démarches")
    await sign_in(client, await make_person(rt, "referente@cs.example.fr", {sid: ["manager"]}))
    return sid, service


@pytest.mark.parametrize(
    ("path", "posted", "field"),
    [
        ("/annuaire/structures/{sid}/services/nouveau", {"name": "Atelier", "description": LONG + "x"}, "description"),
        ("/annuaire/structures/{sid}/services/{service}/modifier", {"name": LONG}, "name"),
        ("/annuaire/structures/{sid}/services/{service}/modifier", {"name": "Atelier", "fees_details": LONG}, "fees_details"),
        ("/annuaire/structures/{sid}/services/{service}/modifier", {"name": "Atelier", "weekly_capacity": "9" * 10_000}, "weekly_capacity"),
        ("/annuaire/structures/{sid}/modifier", {"name": "Centre social", "kind": "CS", "commune": "Olivet", "address": LONG}, "address"),
        ("/annuaire/structures/{sid}/modifier", {"name": "Centre social", "kind": "CS", "commune": "Olivet", "opening_hours": LONG}, "opening_hours"),
        ("/annuaire/structures/{sid}/services/{service}/lieux", {"commune": LONG}, "p-commune"),
        ("/annuaire/rejoindre", {"name": "Centre social", "kind": "CS", "commune": "Olivet", "contact_email": "a@b.fr", "neighbourhood": LONG}, "neighbourhood"),
    ],
)  # fmt: skip
async def test_ten_thousand_characters_come_back_with_the_value_and_a_french_error(client, rt, path, posted, field):
    sid, service = await _manager(client, rt)
    before = (await Structure.count(), await Service.count(), await Place.count())
    response = await post_form(client, path.format(sid=sid, service=service), posted)
    assert response.status_code == 400
    text = html.unescape(response.text)
    error = text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert "caractères au plus" in error or "nombre entier" in error, error
    long_value = next(v for v in posted.values() if len(v) >= 10_000)
    assert long_value in text  # what was typed is on the page again
    assert (await Structure.count(), await Service.count(), await Place.count()) == before


class _Inputs(HTMLParser):
    """Each form's text inputs and textareas: (form action, name, id, maxlength or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.found: list[tuple[str, str, str, int | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        elif tag == "textarea" or (tag == "input" and a.get("type") in ("text", "email", "url", "tel", None)):
            limit = a.get("maxlength")
            self.found.append((self.action, a.get("name") or "", a.get("id") or "", int(limit) if limit else None))


FORM_BASELINES = {  # what each form needs besides the field tried (a valid entry)
    "/rejoindre": {"name": "Centre social", "kind": "CS", "commune": "Olivet", "contact_email": "a@b.fr"},
    "/modifier": {"name": "Centre social", "kind": "CS", "commune": "Olivet"},
    "/nouveau": {"name": "Atelier"},
    "/lieux": {"commune": "Olivet"},
}


async def test_every_maxlength_is_the_servers_own_limit(client, rt):
    """Each text field of the four forms has a maxlength; one character more is refused beside the field in
    French, and exactly that many is not refused for its length: the pages and the server cannot drift apart."""
    sid, service = await _manager(client, rt)
    tried = 0
    for path in (
        "/annuaire/rejoindre",
        f"/annuaire/structures/{sid}/modifier",
        f"/annuaire/structures/{sid}/services/{service}/modifier",
    ):
        parser = _Inputs()
        parser.feed((await client.get(path)).text)
        for action, name, ident, limit in parser.found:
            if not action.startswith("/annuaire/") or action.endswith(("/fermer", "/retirer", "/recherche")):
                continue
            assert limit, f"{path}: {name} has no maxlength"
            base = next(v for k, v in FORM_BASELINES.items() if action.split("#")[0].endswith(k))
            too_long = await post_form(client, action.split("#")[0], {**base, name: "7" * (limit + 1)})
            text = html.unescape(too_long.text)
            assert too_long.status_code == 400 and f'id="{ident}-error"' in text, (action, name)
            assert f"{limit:,}".replace(",", "\u202f") + " caractères au plus" in text or name == "weekly_capacity"
            just_right = await post_form(client, action.split("#")[0], {**base, name: "7" * limit})
            after = html.unescape(just_right.text).split(f'id="{ident}-error">', 1)
            assert len(after) == 1 or "caractères au plus" not in after[1].split("</p>", 1)[0], (action, name)
            tried += 1
    assert tried >= 35  # join 17, structure 16 (contact aside), service 10, place 5: the forms were all read


def test_each_limit_fits_its_column() -> None:
    """A field's limit holds in its column once tidied (Varchar lengths are not enforced by SQLite)."""
    tidied_elsewhere = {"siret", "phone", "latitude", "longitude", "weekly_capacity", "justificatifs", "contact_email"}
    for limits, table in (
        (forms.STRUCTURE_LIMITS, Structure),
        (forms.SERVICE_LIMITS, Service),
        (forms.PLACE_LIMITS, Place),
    ):
        for name, limit in limits.items():
            column = table._meta.get_column_by_name(name)
            length = getattr(column, "length", None)
            if length and name not in tidied_elsewhere:
                assert limit <= length, (table, name)


# ---------------------------------------------------------------- the position from the address
async def test_the_join_form_finds_the_position_and_insee_code_from_the_address(client, rt):
    await make_structure(
        "CAF",
        address="8 avenue des Tilleuls",
        postal_code="45990",
        commune="Montclair-sur-Loire",
        insee_code="45234",
        latitude=47.9012,
        longitude=1.9045,
        status="active",
    )
    base = {"kind": "CS", "postal_code": "45990", "commune": "Montclair-sur-Loire", "contact_email": "a@cs.example.fr"}
    response = await post_form(
        client, "/annuaire/rejoindre", {**base, "name": "Centre social Est", "address": "10 avenue des Tilleuls"}
    )
    assert response.status_code == 200, response.text
    row = await Structure.select().where(Structure.name == "Centre social Est").first()
    assert (row["latitude"], row["longitude"], row["insee_code"]) == (47.9012, 1.9045, "45234")
    # an address nobody knows: said in French, the form kept; posted again as it is, saved without a position
    unknown = {**base, "name": "Centre social Ouest", "address": "3 impasse Inconnue"}
    response = await post_form(client, "/annuaire/rejoindre", unknown)
    text = html.unescape(response.text)
    assert response.status_code == 400 and ADDRESS_NOT_FOUND in text and 'value="3 impasse Inconnue"' in text
    unfound = text.split('name="address_unfound" value="', 1)[1].split('"', 1)[0]
    assert unfound == "3 impasse inconnue 45990 montclair sur loire"
    response = await post_form(client, "/annuaire/rejoindre", {**unknown, "address_unfound": unfound})
    assert response.status_code == 200
    row = await Structure.select().where(Structure.name == "Centre social Ouest").first()
    assert (row["latitude"], row["insee_code"]) == (None, "45234")


async def test_the_structure_form_moves_the_position_with_the_address_and_keeps_a_correction(client, rt):
    await make_structure(
        "CAF", address="2 place du Marché", postal_code="45990", commune="Montclair-sur-Loire",
        insee_code="45234", latitude=47.95, longitude=1.95, status="active",
    )  # fmt: skip
    sid = await make_structure(
        "Centre social", address="8 avenue des Tilleuls", postal_code="45990", commune="Montclair-sur-Loire",
        insee_code="45234", latitude=47.9, longitude=1.9, status="active",
    )  # fmt: skip
    await sign_in(client, await make_person(rt, "referente@cs.example.fr", {sid: ["manager"]}))
    page = (await client.get(f"/annuaire/structures/{sid}/modifier")).text
    assert "Corriger la position sur la carte" in page
    form = {
        "name": "Centre social", "kind": "CS", "postal_code": "45990", "commune": "Montclair-sur-Loire",
        "insee_code": "45234", "latitude": "47.9", "longitude": "1.9",
    }  # fmt: skip
    await post_form(client, f"/annuaire/structures/{sid}/modifier", {**form, "address": "2 place du Marché"})
    row = await Structure.select().where(Structure.id == sid).first()
    assert (row["address"], row["latitude"], row["longitude"]) == ("2 place du Marché", 47.95, 1.95)
    corrected = {**form, "address": "2 place du Marché", "latitude": "47.951", "longitude": "1.952"}
    await post_form(client, f"/annuaire/structures/{sid}/modifier", corrected)
    row = await Structure.select().where(Structure.id == sid).first()
    assert (row["latitude"], row["longitude"]) == (47.951, 1.952)


# ---------------------------------------------------------------- what to bring
async def test_what_to_bring_is_edited_shown_read_by_referrals_and_exchanged(client, rt, tmp_path):
    sid, service = await _manager(client, rt)
    posted = {"name": "Aide aux démarches", "access_conditions": "Sur rendez-vous.",
              "justificatifs": "- Pièce d'identité\r\n\r\n• Dernier avis d'imposition\r\n"}  # fmt: skip
    response = await post_form(client, f"/annuaire/structures/{sid}/services/{service}/modifier", posted)
    assert response.status_code == 200
    row = await Service.select().where(Service.id == service).output(load_json=True).first()
    assert row["justificatifs"] == ["Pièce d'identité", "Dernier avis d'imposition"]
    page = html.unescape((await client.get(f"/annuaire/services/{service}")).text)
    assert "<dt>À apporter</dt>" in page and "<li>Dernier avis d'imposition</li>" in page
    edit = html.unescape((await client.get(f"/annuaire/structures/{sid}/services/{service}/modifier")).text)
    assert ">Pièce d'identité\nDernier avis d'imposition</textarea>" in edit
    assert (await cards([service]))[service].justificatifs == ("Pièce d'identité", "Dernier avis d'imposition")

    await Structure.update({Structure.status: "active"}).where(Structure.id == sid)
    for fmt, name in (("datainclusion-json", "annuaire.json"), ("datainclusion-csv", "annuaire.csv")):
        exported = await export.export_directory(rt, fmt, tmp_path / name)
        rows = [r for kind, r in read_datainclusion_export(exported.paths) if kind == "service"]
        assert rows[0]["conditions_acces"] == (
            "Sur rendez-vous.\n\nJustificatifs à apporter :\n- Pièce d'identité\n- Dernier avis d'imposition"
        )
        await Service.update({Service.justificatifs: "[]", Service.access_conditions: ""}).where(Service.id > 0)
        report = await importing.import_paths(rt, exported.paths, "datainclusion")
        assert not report.rejected
        back = await Service.select().output(load_json=True)
        assert [(r["access_conditions"], r["justificatifs"]) for r in back] == [
            ("Sur rendez-vous.", ["Pièce d'identité", "Dernier avis d'imposition"])
        ]


async def test_a_files_own_justificatifs_list_is_imported(rt, tmp_path):
    structure = {"source": "dora", "id": "dora--cs", "nom": "Centre social", "date_maj": "2025-03-10",
                 "commune": "Olivet", "description": "Un centre social du quartier."}  # fmt: skip
    service = {"source": "dora", "id": "dora--svc", "structure_id": "dora--cs", "nom": "Aide CAF",
               "description": "Aide aux démarches CAF.", "date_maj": "2025-03-10",
               "justificatifs": ["Numéro d'allocataire", "RIB"],
               "conditions_acces": "Sur rendez-vous.\n\nJustificatifs à apporter :\n- RIB\n- Pièce d'identité"}  # fmt: skip
    path = tmp_path / "v0.json"
    path.write_text(json.dumps({"structures": [structure], "services": [service]}), encoding="utf-8")
    report = await importing.import_paths(rt, [path], "datainclusion")
    assert not report.rejected
    row = await Service.select().output(load_json=True).first()
    assert row["access_conditions"] == "Sur rendez-vous."
    assert row["justificatifs"] == ["RIB", "Pièce d'identité", "Numéro d'allocataire"]


def test_the_block_reads_back_what_it_writes() -> None:
    items = ["Pièce d'identité", "Justificatif de domicile de moins de 3 mois"]
    for conditions in ("", "Sur rendez-vous.", "Ligne 1\n\n- une liste des conditions\n- qui reste"):
        written = bring.with_block(conditions, items)
        assert bring.split_block(written) == (conditions, items)
    assert bring.split_block("Sur rendez-vous.") == ("Sur rendez-vous.", [])


def test_the_bans_citycode_is_the_insee_code() -> None:
    body = {
        "features": [
            {
                "geometry": {"coordinates": [1.9011, 47.8655]},
                "properties": {"label": "17 Rue des Lilas 45160 Olivet", "score": 0.93, "type": "housenumber",
                               "citycode": "45232"},
            }
        ]
    }  # fmt: skip
    answer = geocoding._ban_origin(json.dumps(body).encode())
    assert answer is not None
    found, insee_code = answer
    assert (found.latitude, insee_code, found.precision) == (47.8655, "45232", "housenumber")


async def test_an_entry_saved_without_a_position_is_not_asked_about_its_address_again(client, rt):
    sid = await make_structure("Centre social", address="3 impasse Inconnue", status="active")
    await sign_in(client, await make_person(rt, "referente@cs.example.fr", {sid: ["manager"]}))
    form = {"name": "Centre social", "kind": "CS", "address": "3 impasse Inconnue", "postal_code": "45990",
            "commune": "Montclair-sur-Loire", "phone": "02 38 00 00 00"}  # fmt: skip
    response = await post_form(client, f"/annuaire/structures/{sid}/modifier", form)
    assert response.status_code == 200 and "Fiche enregistrée." in response.text
    assert (await Structure.select(Structure.phone).where(Structure.id == sid).first())["phone"] == "02 38 00 00 00"
    moved = await post_form(client, f"/annuaire/structures/{sid}/modifier", {**form, "address": "5 impasse Inconnue"})
    assert moved.status_code == 400 and ADDRESS_NOT_FOUND in html.unescape(moved.text)


async def test_a_new_place_is_put_on_the_map_from_its_address(client, rt):
    sid, service = await _manager(client, rt)
    await make_structure("Médiathèque", address="3 rue des Écoles", postal_code="45990", latitude=47.91, longitude=2.13,
                         status="active")  # fmt: skip
    path = f"/annuaire/structures/{sid}/services/{service}/lieux"
    found = await post_form(client, path, {"name": "Salle", "address": "3 rue des Ecoles", "postal_code": "45990",
                                           "commune": "Montclair-sur-Loire"})  # fmt: skip
    assert "Lieu ajouté." in found.text
    lost = await post_form(client, path, {"name": "Bus", "address": "9 chemin Perdu", "commune": "Montclair-sur-Loire"})
    assert "Lieu ajouté, sans position sur la carte : son adresse est introuvable." in html.unescape(lost.text)
    rows = await Place.select(Place.name, Place.latitude, Place.longitude).order_by(Place.id)
    assert rows == [
        {"name": "Salle", "latitude": 47.91, "longitude": 2.13},
        {"name": "Bus", "latitude": None, "longitude": None},
    ]


def test_a_day_of_some_weeks_is_written_out_as_such_not_as_this_week_happens_to_be() -> None:
    week = validation.hours_in_french(GRID_OSM, date(2026, 11, 23))  # the 4th Thursday: closed this week
    assert dict(week) == {
        "Lundi": "8 h 30 à 12 h 30, 14 h à 17 h",
        "Mardi": "8 h 30 à 12 h 30, 14 h à 17 h",
        "Mercredi": "8 h 30 à 12 h 30",
        "Jeudi": "le 1er et le 3e du mois : 18 h à 20 h",
        "Vendredi": "fermé",
        "Samedi": "le dernier du mois : 9 h à 12 h",
        "Dimanche": "fermé",
    }


def test_an_export_never_dates_an_entry_after_the_servers_day(monkeypatch) -> None:
    """data·inclusion's schema refuses a date_maj after the server's `date.today()`: from midnight in Paris to
    midnight UTC (a server on UTC), the export's "today" is still the server's day, and the row validates."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        late = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # already the 30th in Paris
        assert late.astimezone(ZoneInfo("Europe/Paris")).date() == date(2026, 11, 30)
        assert outgoing.export_today(late) == date(2026, 11, 29)
        assert outgoing.export_today(datetime(2026, 11, 29, 22, 30, tzinfo=UTC)) == date(2026, 11, 29)
        assert outgoing.export_date(outgoing.export_today(late), date(2026, 11, 30)) == "2026-11-29"
        assert outgoing.export_today(datetime.now(UTC)) <= date.today()  # the schema's own test, at any hour
    finally:
        monkeypatch.undo()
        time.tzset()
