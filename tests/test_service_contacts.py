"""A service's phone and booking link: imported, exported in every format, shown, edited, published by the API."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import pytest
from data_inclusion.schema import v1 as di
from data_inclusion.schema.v1 import ModeMobilisation, PersonneMobilisatrice

from hub import contacts as reaching
from network import demo as town
from network import validation, vocabulary
from network.exchange import export, importing
from network.tables import Service, Structure
from tests.conftest import make_person, make_structure, post_form, read_datainclusion_export, sign_in

DATA = Path(__file__).parent / "data"


async def import_all(rt) -> None:
    for names, fmt in (
        (["datainclusion_valid.json"], "datainclusion"),
        (["datainclusion_structures.csv", "datainclusion_services.csv"], "datainclusion"),
        (["mednum_valid.csv"], "mednum"),
    ):
        report = await importing.import_paths(rt, [DATA / name for name in names], fmt)
        assert not report.rejected, report.rejected


async def contacts(source_id: str) -> tuple[str, str]:
    row = await Service.select(Service.phone, Service.booking_url).where(Service.source_id == source_id).first()
    return row["phone"], row["booking_url"]


# ---------------------------------------------------------------- exchange
async def test_phone_and_booking_link_are_imported_from_every_format(rt):
    await import_all(rt)
    assert await contacts("svc-atelier") == ("02 38 00 00 12", "https://rdv.example.org/argonne/atelier")
    assert await contacts("svc-ccas-droits") == ("02 38 00 00 30", "")  # "+33238000030": written as forms write it
    assert await contacts("svc-mds-budget") == ("02 38 00 00 40", "")  # data·inclusion CSV
    assert await contacts("svc-fs-demarches") == ("", "https://rdv.example.org/")  # as the package writes it
    assert await contacts("epn-la-source") == (
        "02 38 00 00 20",
        "https://www.rdv-solidarites.fr/",
    )  # LaMednum prise_rdv
    structures = {r["source_id"]: r["phone"] for r in await Structure.select(Structure.source_id, Structure.phone)}
    assert structures["cs-argonne"] == "02 38 00 00 01" and structures["epn-la-source"] == "02 38 00 00 20"


async def test_an_unreadable_imported_phone_is_left_out_and_the_row_kept_with_a_note(rt, tmp_path):
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"][0]["telephone"] = "Tél. : voir le site"
    document["services"][1]["telephone"] = "02.38.00.00.12"
    document["services"][2]["telephone"] = "+44 20 7946 0958"
    edited = tmp_path / "telephones.json"
    edited.write_text(json.dumps(document))

    report = await importing.import_paths(rt, [edited], "datainclusion")
    assert not report.rejected
    assert report.counts("structure") == {"created": 3} and report.counts("service") == {"created": 4}
    expected = "10 chiffres, par exemple 02 38 00 00 00 (ou +33 2 38 00 00 00, ou un numéro court comme 32 30)"
    assert {row.ident: row.notes for row in report.noted} == {
        "dora--cs-argonne": [
            f"telephone : numéro non reconnu « Tél. : voir le site », laissé vide ; attendu : {expected}"
        ],
        "dora--svc-ccas-droits": [
            f"telephone : numéro non reconnu « +44 20 7946 0958 », laissé vide ; attendu : {expected}"
        ],
    }
    assert "Champs facultatifs illisibles laissés vides : 2." in report.summary_lines()
    argonne = await Structure.select(Structure.phone).where(Structure.source_id == "cs-argonne").first()
    assert argonne["phone"] == ""
    assert await contacts("svc-ccas-droits") == ("", "")
    assert await contacts("svc-atelier") == ("02 38 00 00 12", "https://rdv.example.org/argonne/atelier")

    again = await importing.import_paths(rt, [edited], "datainclusion")  # the same file changes nothing
    assert again.counts("structure") == {"unchanged": 3} and again.counts("service") == {"unchanged": 4}
    assert len(again.noted) == 2


async def test_a_lamednum_row_with_an_unreadable_phone_is_kept_with_one_note(rt, tmp_path):
    text = (DATA / "mednum_valid.csv").read_text(encoding="utf-8")
    assert text.count(",+33238000020,") == 1
    edited = tmp_path / "lieux.csv"
    edited.write_text(text.replace(",+33238000020,", ",standard de la mairie,"), encoding="utf-8")
    report = await importing.import_paths(rt, [edited], "mednum")
    assert report.counts("lieu") == {"created": 3}
    [noted] = report.noted  # one cell, one note, though it gives a structure and its service
    assert noted.ident == "epn-la-source" and noted.notes == [
        "telephone : numéro non reconnu « standard de la mairie », laissé vide ; attendu : 10 chiffres, "
        "par exemple 02 38 00 00 00 (ou +33 2 38 00 00 00, ou un numéro court comme 32 30)"
    ]
    assert await contacts("epn-la-source") == ("", "https://www.rdv-solidarites.fr/")
    epn = await Structure.select(Structure.phone).where(Structure.source_id == "epn-la-source").first()
    assert epn["phone"] == ""


@pytest.mark.parametrize(
    ("fmt", "name"), [("datainclusion-json", "annuaire.json"), ("datainclusion-csv", "annuaire.csv")]
)
async def test_round_trip_keeps_phone_and_booking_link_valid_for_the_package(rt, tmp_path, fmt, name):
    await import_all(rt)
    report = await export.export_directory(rt, fmt, tmp_path / name)
    assert not report.skipped and not report.fields_dropped
    services = {}
    for kind, row in read_datainclusion_export(report.paths):
        (di.Structure if kind == "structure" else di.Service).model_validate(row)
        if kind == "service":
            services[row["id"]] = row
    atelier = services["dora--svc-atelier"]
    assert atelier["telephone"] == "02 38 00 00 12"
    assert atelier["lien_mobilisation"] == "https://rdv.example.org/argonne/atelier"
    assert services["cd45--svc-mds-budget"]["telephone"] == "02 38 00 00 40"
    assert services["mediation-numerique--epn-la-source"]["lien_mobilisation"] == "https://www.rdv-solidarites.fr/"
    assert services["dora--svc-internet"].get("lien_mobilisation") is None  # nothing made up
    again = await importing.import_paths(rt, report.paths, "datainclusion")
    assert again.counts("service") == {"unchanged": 10}


async def test_mednum_export_writes_the_booking_link_in_prise_rdv(rt, tmp_path):
    await importing.import_paths(rt, [DATA / "mednum_valid.csv"], "mednum")
    await export.export_directory(rt, "mednum-csv", tmp_path / "lieux.csv")
    with (tmp_path / "lieux.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    epn = rows["mediation-numerique--epn-la-source"]
    assert epn["prise_rdv"] == "https://www.rdv-solidarites.fr/" and epn["telephone"] == "02 38 00 00 20"
    assert "Prendre un RDV en ligne" in epn["modalites_acces"].split("|")
    assert rows["mediation-numerique--bus-numerique-45"]["prise_rdv"] == ""
    await importing.import_paths(rt, [tmp_path / "lieux.csv"], "mednum", source="reexport")
    copy = await Service.select(Service.booking_url).where(Service.source == "reexport").output(as_list=True)
    assert "https://www.rdv-solidarites.fr/" in copy


async def test_geojson_places_carry_the_service_phone_and_booking_link(rt, tmp_path):
    await importing.import_paths(rt, [DATA / "datainclusion_valid.json"], "datainclusion")
    await export.export_directory(rt, "geojson", tmp_path / "carte.geojson")
    features = json.loads((tmp_path / "carte.geojson").read_text())["features"]
    [place] = [f["properties"] for f in features if f["properties"]["type"] == "lieu"]
    assert place["service_id"] == "dora--svc-atelier" and place["telephone"] == "02 38 00 00 12"
    assert place["lien_mobilisation"] == "https://rdv.example.org/argonne/atelier"


# ---------------------------------------------------------------- pages
SERVICE = {
    "name": "Aide aux démarches en ligne",
    "description": "Un conseiller vous aide à faire vos démarches.",
    "fees": "gratuit",
}


async def manager_of_new_structure(client, rt) -> int:
    sid = await make_structure()
    await sign_in(client, await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]}))
    return sid


async def test_manager_gives_a_phone_and_a_booking_link_shown_on_the_service_page(client, rt):
    sid = await manager_of_new_structure(client, rt)
    saved = await post_form(
        client,
        f"/annuaire/structures/{sid}/services/nouveau",
        {**SERVICE, "phone": "+33 2 38 00 00 07", "booking_url": " https://rdv.example.fr/cs-tilleuls "},
    )
    assert "Service enregistré." in saved.text
    service = await Service.select().first()
    assert service["phone"] == "02 38 00 00 07"  # written the French way
    assert service["booking_url"] == "https://rdv.example.fr/cs-tilleuls"
    assert 'href="tel:0238000007">02 38 00 00 07</a>' in saved.text
    assert 'href="https://rdv.example.fr/cs-tilleuls"' in saved.text and "Prendre rendez-vous" in saved.text
    form = await client.get(f"/annuaire/structures/{sid}/services/{service['id']}/modifier")
    assert 'value="02 38 00 00 07"' in form.text and 'value="https://rdv.example.fr/cs-tilleuls"' in form.text
    short = await post_form(
        client, f"/annuaire/structures/{sid}/services/{service['id']}/modifier", {**SERVICE, "phone": "3230"}
    )
    assert short.status_code == 200 and 'href="tel:3230"' in short.text
    assert await Service.select(Service.phone, Service.booking_url).first() == {"phone": "32 30", "booking_url": ""}


async def test_a_service_without_contacts_shows_no_empty_block(client, rt):
    sid = await manager_of_new_structure(client, rt)
    saved = await post_form(client, f"/annuaire/structures/{sid}/services/nouveau", SERVICE)
    assert "Service enregistré." in saved.text
    assert "Contacter ce service" not in saved.text and "Prendre rendez-vous" not in saved.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12 34", "Numéro de téléphone invalide : 10 chiffres"),
        ("phone", "+44 20 7946 0958", "Numéro de téléphone invalide"),
        ("phone", "02 38 00 00 00 poste 12", "Numéro de téléphone invalide"),
        ("booking_url", "javascript:alert(1)", "Adresse web invalide : elle commence par https://"),
        ("booking_url", "www.rdv.example.fr", "Adresse web invalide : elle commence par https://"),
        ("booking_url", "ftp://rdv.example.fr/", "Adresse web invalide"),
        ("booking_url", "https://rdv.example.fr/" + "a" * 480, "Adresse web trop longue : 500 caractères au plus."),
    ],
)
async def test_a_bad_phone_or_link_is_explained_in_french_and_nothing_is_written(client, rt, field, value, message):
    sid = await manager_of_new_structure(client, rt)
    refused = await post_form(client, f"/annuaire/structures/{sid}/services/nouveau", {**SERVICE, field: value})
    assert refused.status_code == 400 and message in html.unescape(refused.text)
    assert 'aria-invalid="true"' in refused.text and html.escape(value) in refused.text  # kept on screen to fix
    assert await Service.count() == 0

    kept = {"phone": "02 38 00 00 07", "booking_url": "https://rdv.example.fr/cs"}
    service = Service(structure=sid, name="Permanence", **kept)
    await service.save()
    edited = await post_form(
        client, f"/annuaire/structures/{sid}/services/{service.id}/modifier", {**SERVICE, field: value}
    )
    assert edited.status_code == 400 and message in html.unescape(edited.text)
    row = await Service.select(Service.name, Service.phone, Service.booking_url).where(Service.id == service.id)
    assert row == [{"name": "Permanence", **kept}]


async def test_the_structure_phone_follows_the_same_rule(client, rt):
    sid = await manager_of_new_structure(client, rt)
    entry = {"name": "Centre social des Tilleuls", "kind": "CS", "commune": "Montclair-sur-Loire"}
    refused = await post_form(client, f"/annuaire/structures/{sid}/modifier", {**entry, "phone": "12 34 56"})
    assert refused.status_code == 400 and "Numéro de téléphone invalide" in html.unescape(refused.text)
    saved = await post_form(client, f"/annuaire/structures/{sid}/modifier", {**entry, "phone": "+33238000001"})
    assert "Fiche enregistrée." in saved.text
    assert (await Structure.select(Structure.phone).where(Structure.id == sid).first())["phone"] == "02 38 00 00 01"


def facts_of(page: str) -> str:
    """The service page's list of facts, unescaped."""
    return html.unescape(page.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0])


async def test_service_page_says_how_to_reach_it_in_plain_words(client, rt):
    sid = await make_structure()
    await Structure.update({Structure.status: "active"}).where(Structure.id == sid)
    every_way = Service(
        structure=sid,
        name="Rendez-vous droits",
        phone="02 38 00 00 07",
        booking_url="https://rdv.example.fr/droits",
        referral_email="orientations@cs.example.fr",
        mobilisation_modes=sorted(vocabulary.MOBILISATION_MODES),  # stored as the package's codes
        mobilisable_by=["professionnels", "usagers"],
    )
    prescribed = Service(
        structure=sid,
        name="Accompagnement budgétaire",
        referral_email="orientations@cs.example.fr",
        mobilisation_modes=["envoyer-un-courriel"],
        mobilisable_by=["professionnels"],
    )
    await every_way.save()
    await prescribed.save()

    facts = facts_of((await client.get(f"/annuaire/services/{every_way.id}")).text)
    ways = "".join(
        f"<li>{way}</li>"
        for way in ("Prendre rendez-vous en ligne", "Téléphoner", "Envoyer un e-mail", "Se présenter sur place")
    )
    assert f'<dt>Pour en bénéficier</dt><dd><ul class="ways">{ways}</ul></dd>' in facts
    assert "<dt>Qui peut faire la demande</dt><dd>Vous-même ou un professionnel qui vous accompagne</dd>" in facts
    for jargon in ("mobilisation", "courriel", "usagers", "professionnels"):  # the data·inclusion labels
        assert jargon not in facts.lower()

    facts = facts_of((await client.get(f"/annuaire/services/{prescribed.id}")).text)
    assert "<dt>Pour en bénéficier</dt><dd>Envoyer un e-mail</dd>" in facts
    assert "<dt>Qui peut faire la demande</dt><dd>Un professionnel qui vous accompagne</dd>" in facts


async def test_service_page_names_languages_and_gives_the_team_mailbox_only_when_asked_to(client, rt):
    sid = await make_structure()
    await Structure.update({Structure.status: "active"}).where(Structure.id == sid)
    by_mail = Service(
        structure=sid,
        name="Écrivain public",
        referral_email="ecrivain@cs.example.fr",
        mobilisation_modes=["envoyer-un-courriel"],
        languages=["fr", "ar", "uk"],
    )
    by_phone_only = Service(
        structure=sid, name="Permanence CAF", phone="02 38 00 00 08", referral_email="caf@cs.example.fr",
        mobilisation_modes=["telephoner"],
    )  # fmt: skip
    personal = Service(
        structure=sid,
        name="Atelier CV",
        referral_email="jeanne.martin@cs.example.fr",
        mobilisation_modes=["envoyer-un-courriel"],
    )
    for service in (by_mail, by_phone_only, personal):
        await service.save()

    page = (await client.get(f"/annuaire/services/{by_mail.id}")).text
    assert "<dt>Langues</dt><dd>français, arabe, ukrainien</dd>" in page
    assert '<a href="mailto:ecrivain@cs.example.fr">ecrivain@cs.example.fr</a>' in page
    # a service reached by phone keeps its referral mailbox for the partners; a person's address never shows
    assert "caf@cs.example.fr" not in (await client.get(f"/annuaire/services/{by_phone_only.id}")).text
    assert "jeanne.martin" not in (await client.get(f"/annuaire/services/{personal.id}")).text


def test_every_code_of_the_package_has_plain_words_and_keeps_its_official_label():
    assert set(vocabulary.WAYS_TO_REACH) == {str(m.value) for m in ModeMobilisation}
    assert set(vocabulary.WHO_ASKS) == {str(p.value) for p in PersonneMobilisatrice}
    assert vocabulary.MOBILISATION_MODES["utiliser-lien-mobilisation"] == "Utiliser le lien de mobilisation"
    assert vocabulary.who_asks(["usagers"]) == "Vous-même" and vocabulary.who_asks([]) == ""
    assert vocabulary.ways_to_reach(["se-presenter", "inconnu"]) == ["Se présenter sur place", "inconnu"]


def test_french_phone_numbers_are_written_the_french_way():
    assert validation.french_phone("0238000000") == "02 38 00 00 00"
    assert validation.french_phone("+33 (0)2.38.00.00.00") == "02 38 00 00 00"
    assert validation.french_phone("+262 262 12 34 56") == "02 62 12 34 56"  # La Réunion
    assert validation.french_phone("3949") == "39 49"
    assert validation.french_phone("00 00 00 00 00") is None and validation.french_phone("+32 2 123 45 67") is None


def test_a_residents_number_is_french_or_from_abroad_and_can_be_called():
    assert reaching.person_phone("06.12.34.56.78") == "06 12 34 56 78"
    assert reaching.person_phone("+33 6 12 34 56 78") == "06 12 34 56 78"
    assert reaching.person_phone("+32 470 12 34 56") == "+32 470 12 34 56"  # from abroad, as typed
    for wrong in ("06 12 34", "+33 6 12 34", "3230", "+1 23", "zéro six", "06 12 34 56 78 90 12 34 56"):
        assert reaching.person_phone(wrong) is None, wrong
    assert reaching.contact_errors("06 12 34", "nom@exemple", phone_field="tel") == {
        "tel": reaching.PERSON_PHONE_PROBLEM,
        "email": reaching.EMAIL_PROBLEM,
    }


# ---------------------------------------------------------------- open API
async def test_public_api_gives_service_contacts_but_no_personal_address(client, rt):
    sid = await make_structure()
    await Structure.update({Structure.email: "marie.durand@example.org"}).where(Structure.id == sid)
    team, personal = (
        Service(
            structure=sid,
            name="Rendez-vous droits",
            phone="02 38 00 00 07",
            booking_url="https://rdv.example.fr/droits",
            referral_email="orientations@cs.example.fr",
        ),
        Service(structure=sid, name="Permanence", referral_email="jean.dupont@example.org"),
    )
    await team.save()
    await personal.save()
    body = (await client.get(f"/api/v1/directory/structures/{sid}")).json()
    assert body["email"] == ""  # a person's own address is never published
    services = {s["name"]: s for s in body["services"]}
    assert services["Rendez-vous droits"] | {"id": 0} == {
        "id": 0,
        "name": "Rendez-vous droits",
        "thematiques": [],
        "fees": [],
        "opening_hours": "",
        "accepts_referrals": False,
        "phone": "02 38 00 00 07",
        "email": "orientations@cs.example.fr",
        "booking_url": "https://rdv.example.fr/droits",
    }
    assert services["Permanence"]["email"] == "" and services["Permanence"]["booking_url"] == ""


# ---------------------------------------------------------------- demo
def test_demo_contacts_follow_the_form_rules():
    phones = [s.phone for s in town.SERVICES if s.phone]
    links = [s.booking_url for s in town.SERVICES if s.booking_url]
    assert len(phones) >= 4 and all(validation.french_phone(p) == p for p in phones)
    appointment = next(s for s in town.SERVICES if s.name == "Rendez-vous droits et prestations")
    assert appointment.booking_url in links
    for link in links:
        validation.check({"booking_url": link})  # raises Invalid on a bad one


async def test_manager_says_how_to_reach_the_service_and_the_export_says_so(client, rt, tmp_path):
    sid = await manager_of_new_structure(client, rt)
    # "Téléphoner" without a phone: refused with the reason, nothing written
    refused = await post_form(
        client,
        f"/annuaire/structures/{sid}/services/nouveau",
        {**SERVICE, "mobilisation_modes": ["telephoner", "se-presenter"], "mobilisable_by": "usagers"},
    )
    assert refused.status_code == 400
    assert "Pour « Téléphoner », indiquez le téléphone du service." in html.unescape(refused.text)
    assert await Service.count() == 0

    saved = await post_form(
        client,
        f"/annuaire/structures/{sid}/services/nouveau",
        {
            **SERVICE,
            "phone": "02 38 00 00 07",
            "mobilisation_modes": ["telephoner", "se-presenter"],
            "mobilisable_by": ["usagers", "professionnels"],
        },
    )
    assert "Service enregistré." in saved.text
    assert "<li>Téléphoner</li><li>Se présenter sur place</li>" in html.unescape(saved.text)
    assert "Vous-même ou un professionnel qui vous accompagne" in html.unescape(saved.text)
    row = (
        await Service.select(Service.id, Service.mobilisation_modes, Service.mobilisable_by)
        .output(load_json=True)
        .first()
    )
    assert row["mobilisation_modes"] == ["se-presenter", "telephoner"]
    assert row["mobilisable_by"] == ["professionnels", "usagers"]
    form = await client.get(f"/annuaire/structures/{sid}/services/{row['id']}/modifier")
    assert form.text.count("checked") >= 4  # the four ticks come back on the edit form

    await Structure.update({Structure.status: "active"}).where(Structure.id == sid)
    report = await export.export_directory(rt, "datainclusion-json", tmp_path / "annuaire.json")
    [service] = [r for kind, r in read_datainclusion_export(report.paths) if kind == "service"]
    di.Service.model_validate(service)
    assert service["modes_mobilisation"] == ["se-presenter", "telephoner"]
    assert service["mobilisable_par"] == ["professionnels", "usagers"]
