"""Open-data exchange: data·inclusion v1 and médiation numérique files in, four formats out, on real engines."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pydantic
import pytest
from data_inclusion.schema import v1 as di

from hub import jobs
from hub.db import current_engine, write_transaction
from hub.errors import Invalid
from hub.tables import JournalEntry, User
from network import validation
from network.exchange import export, importing, mednum, rows
from network.search import sql
from network.search.query import SearchQuery, search
from network.tables import Place, Service, ServiceTag, Structure
from tests.conftest import TEST_SECRET, read_datainclusion_export

DATA = Path(__file__).parent / "data"


async def run_import(rt, *names: str, fmt: str = "datainclusion", **options):
    return await importing.import_paths(rt, [DATA / name for name in names], fmt, **options)


async def counts() -> tuple[int, int, int]:
    return await Structure.count(), await Service.count(), await Place.count()


def reasons_of(report, ident: str) -> list[str]:
    return next(row.reasons for row in report.rows if row.ident == ident)


# ---------------------------------------------------------------- data·inclusion import
async def test_valid_json_creates_every_row_and_reports_it(rt):
    report = await run_import(rt, "datainclusion_valid.json")
    assert report.counts("structure") == {"created": 3}
    assert report.counts("service") == {"created": 4}
    assert not report.rejected
    argonne = await Structure.select().where(Structure.source_id == "cs-argonne").first()
    assert argonne["source"] == "dora" and argonne["siret"] == "63353632004716" and argonne["status"] == "active"
    assert argonne["kind"] == "CS"  # inferred from the fcsf network, v1 has no typologie
    assert json.loads(argonne["networks"]) == ["fcsf"] and str(argonne["confirmed_on"]) == "2025-03-10"
    service = await Service.select().where(Service.source_id == "svc-demarches").first()
    assert service["structure"] == argonne["id"]
    assert json.loads(service["thematiques"]) == [
        "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
        "numerique--acceder-a-des-services-en-ligne",
    ]
    assert service["accepts_referrals"] and service["referral_email"] == "orientation.argonne@example.org"
    assert "Jeanne" not in json.dumps(service, default=str)  # contact_nom_prenom is never stored
    droits = await Service.select().where(Service.source_id == "svc-ccas-droits").first()
    assert "Personnes domiciliées à Orléans" in droits["access_conditions"]
    # a service with its own address gets a place; the others are delivered at their structure
    atelier = await Service.select(Service.id).where(Service.source_id == "svc-atelier").first()
    place = await Place.select().where(Place.service == atelier["id"]).first()
    assert place["address"] == "Salle Pellicer, 3 rue de la Gare" and place["latitude"] == 47.9131
    assert await Place.count() == 1
    # tags mirrored for the search filters by the time the import returns
    assert await ServiceTag.exists().where(
        (ServiceTag.service == service["id"]) & (ServiceTag.code == "numerique--acceder-a-des-services-en-ligne")
    )


async def queued_services() -> int:
    """Services an import queued for indexing and no one indexed yet."""
    async with current_engine().transaction():
        rows = await sql.fetch("SELECT COUNT(*) AS n FROM network_search_pending")
    return int(rows[0]["n"])


async def test_reimport_of_the_same_file_changes_nothing(rt):
    await run_import(rt, "datainclusion_valid.json")
    before = await Structure.select(Structure.id, Structure.updated_at).order_by(Structure.id)
    again = await run_import(rt, "datainclusion_valid.json")
    assert again.counts("structure") == {"unchanged": 3} and again.counts("service") == {"unchanged": 4}
    assert await Structure.select(Structure.id, Structure.updated_at).order_by(Structure.id) == before
    assert await counts() == (3, 4, 1)


async def test_a_changed_row_is_updated_and_only_it(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"][1]["telephone"] = "+33238999999"
    document["services"][1]["latitude"] = 47.9140  # the atelier's place moved
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    report = await importing.import_paths(rt, [changed], "datainclusion")
    assert report.counts("structure") == {"updated": 1, "unchanged": 2}
    assert report.counts("service") == {"updated": 1, "unchanged": 3}
    ccas = await Structure.select(Structure.phone).where(Structure.source_id == "ccas-orleans").first()
    assert ccas["phone"] == "02 38 99 99 99"  # written as the forms write it
    assert (await Place.select(Place.latitude).first())["latitude"] == 47.9140
    assert await counts() == (3, 4, 1)


async def test_structures_and_services_csv_files_import_together(rt):
    report = await run_import(rt, "datainclusion_structures.csv", "datainclusion_services.csv")
    assert report.counts("structure") == {"created": 2} and report.counts("service") == {"created": 3}
    saran = await Structure.select().where(Structure.source_id == "france-services-saran").first()
    assert json.loads(saran["networks"]) == ["communes", "france-service"] and saran["kind"] == "RFS"
    demarches = await Service.select().where(Service.source_id == "svc-fs-demarches").first()
    assert json.loads(demarches["reception_modes"]) == ["a-distance", "en-presentiel"]  # "a|b" cell
    assert len(json.loads(demarches["thematiques"])) == 2  # a JSON-array cell
    assert json.loads(demarches["eligibility_zone"]) == ["45302", "45234"]
    assert demarches["structure"] == saran["id"]


async def test_a_file_dated_today_east_of_the_server_imports_with_its_dates(rt, tmp_path):
    """data·inclusion's schema refuses a date_maj after the server's day: a file written after midnight in
    Paris (before midnight UTC) is dated one day later, and is still today's file; two days later is not."""
    tomorrow, later = date.today() + timedelta(days=1), date.today() + timedelta(days=2)
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"][0]["date_maj"] = document["services"][0]["date_maj"] = tomorrow.isoformat()
    document["structures"][1]["date_maj"] = later.isoformat()
    dated = tmp_path / "dated.json"
    dated.write_text(json.dumps(document))
    report = await importing.import_paths(rt, [dated], "datainclusion")
    assert report.counts("structure") == {"created": 2, "rejected": 1}
    assert reasons_of(report, document["structures"][1]["id"])[0].startswith("date_maj")
    argonne = await Structure.select(Structure.confirmed_on).where(Structure.source_id == "cs-argonne").first()
    assert argonne["confirmed_on"] == tomorrow  # its own date, kept
    demarches = await Service.select(Service.updated_on).where(Service.source_id == "svc-demarches").first()
    assert demarches["updated_on"] == tomorrow


async def test_bad_rows_are_rejected_with_french_reasons_and_good_rows_import(rt):
    report = await run_import(rt, "datainclusion_broken_rows.json")
    assert report.counts("structure") == {"created": 3, "rejected": 2}
    assert report.counts("service") == {"created": 2, "rejected": 2}
    # a SIRET failing its key is left out of a row that is kept, with a note (as data·inclusion does)
    bad_siret = next(row for row in report.rows if row.ident == "cd45--bad-siret")
    assert bad_siret.status == "created" and bad_siret.notes == [
        "siret : ce SIRET n'est pas valide : vérifiez les chiffres (reçu « 63353632004717 »), laissé vide"
    ]
    kept = await Structure.select(Structure.siret).where(Structure.source_id == "bad-siret").first()
    assert kept is not None and not kept["siret"]
    assert reasons_of(report, "cd45--bad-postcode") == ["code_postal : 5 chiffres attendus (reçu « 4500 »)"]
    assert reasons_of(report, "cd45--bad-coords")[0].startswith("latitude : doit être comprise entre -90 et 90")
    # free-text hours are left out of a row that is kept, and the report says so
    hours = next(row for row in report.rows if row.ident == "cd45--bad-hours")
    assert hours.status == "created" and hours.notes == [
        "horaires_accueil : horaires illisibles « lundi 9h-12h », laissés vides ; "
        "format OpenStreetMap attendu, par exemple « Mo-Fr 08:30-12:30; PH off »"
    ]
    assert "Champs facultatifs illisibles laissés vides : 2." in report.summary_lines()
    kept = await Structure.select(Structure.opening_hours).where(Structure.source_id == "bad-hours").first()
    assert kept == {"opening_hours": ""}
    assert reasons_of(report, "cd45--svc-unknown-code") == [
        "thematiques : valeur inconnue « numerique--apprendre-a-coder »"
    ]
    assert "introuvable" in reasons_of(report, "cd45--svc-orphan")[0]
    assert next(row for row in report.rows if row.ident == "cd45--svc-on-rejected").status == "created"
    assert all(row.where.startswith("élément") for row in report.rejected)
    assert await counts() == (3, 2, 0)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("datainclusion_truncated.json", "JSON invalide ou tronqué (ligne 20"),
        ("datainclusion_latin1.csv", "pas encodé en UTF-8 (ligne 2). Il semble enregistré en Latin-1"),
        ("datainclusion_semicolon.csv", "séparées par des « point-virgule »"),
        ("datainclusion_missing_columns.csv", "colonne(s) obligatoire(s) absente(s) : nom, date_maj"),
    ],
)
async def test_a_fatal_file_error_changes_nothing(rt, name, message):
    # the good file comes first: the whole import is refused, not half done
    with pytest.raises(Invalid) as refused:
        await run_import(rt, "datainclusion_structures.csv", name)
    assert message in refused.value.message
    assert await counts() == (0, 0, 0)
    assert not await JournalEntry.exists().where(JournalEntry.action == "directory_import")


def edited_file(tmp_path: Path) -> Path:
    """The valid file with one phone changed and one service more."""
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"][0]["telephone"] = "+33238111111"
    document["services"].append(dict(document["services"][0], id="dora--svc-nouveau", nom="Atelier tablette du soir"))
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    return edited


async def test_a_database_error_after_the_writes_rolls_everything_back(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    edited = edited_file(tmp_path)
    # the services written are queued for the search index last, in the same transaction: make the database refuse
    await Structure.raw("ALTER TABLE network_search_pending RENAME TO network_search_pending_away")
    with pytest.raises(Exception, match="network_search_pending"):
        await importing.import_paths(rt, [edited], "datainclusion")
    phone = (await Structure.select(Structure.phone).where(Structure.source_id == "cs-argonne").first())["phone"]
    assert phone == "02 38 00 00 01" and await counts() == (3, 4, 1)
    assert await JournalEntry.count().where(JournalEntry.action == "directory_import") == 1


async def test_the_search_index_is_built_after_commit_and_caught_up_by_the_jobs_loop(rt, tmp_path):
    first = await run_import(rt, "datainclusion_valid.json")
    assert not first.index_deferred and await queued_services() == 0
    # the import has committed when the index is built: an index failure loses nothing…
    await Structure.raw("ALTER TABLE network_search RENAME TO network_search_away")
    report = await importing.import_paths(rt, [edited_file(tmp_path)], "datainclusion")
    assert report.index_deferred and report.counts("service") == {"unchanged": 4, "created": 1}
    assert "La recherche sera à jour dans quelques minutes" in " ".join(report.summary_lines())
    assert await counts() == (3, 5, 1)
    assert await JournalEntry.count().where(JournalEntry.action == "directory_import") == 2
    argonne = await Structure.select(Structure.id).where(Structure.source_id == "cs-argonne").first()
    queued = await Service.count().where(Service.structure == argonne["id"])
    assert queued == 3 and await queued_services() == queued  # every service of the structure changed, new one too
    await Structure.raw("ALTER TABLE network_search_away RENAME TO network_search")
    assert [hit.service_name for hit in (await search(SearchQuery(text="tablette"), now=rt.now())).hits] == []
    # …and the jobs loop indexes what is left
    tick = await jobs.tick(rt)
    assert tick.work["directory.reindexed"] == queued and await queued_services() == 0
    assert [hit.service_name for hit in (await search(SearchQuery(text="tablette"), now=rt.now())).hits] == [
        "Atelier tablette du soir"
    ]
    assert (await jobs.tick(rt)).work["directory.reindexed"] == 0


async def test_dry_run_reports_and_writes_nothing(rt):
    report = await run_import(rt, "datainclusion_valid.json", dry_run=True)
    assert (
        report.dry_run and report.counts("structure") == {"created": 3} and report.counts("service") == {"created": 4}
    )
    assert await counts() == (0, 0, 0)
    assert not await JournalEntry.exists().where(JournalEntry.action == "directory_import")
    await run_import(rt, "datainclusion_valid.json")
    again = await run_import(rt, "datainclusion_broken_rows.json", dry_run=True)
    assert again.counts("structure")["rejected"] == 2 and await counts() == (3, 4, 1)


async def test_import_is_journalled_with_counts_only(rt):
    await run_import(rt, "datainclusion_broken_rows.json", source="cd45", actor_id=None)
    entry = await JournalEntry.select().where(JournalEntry.action == "directory_import").first()
    details = json.loads(entry["details"])
    assert details["structures_created"] == 3 and details["structures_rejected"] == 2
    assert details["services_rejected"] == 2 and details["source"] == "cd45"
    assert "Orléans" not in entry["details"]


async def test_rows_repeated_in_a_file_are_rejected(rt, tmp_path):
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"].append(dict(document["structures"][0], nom="Autre nom"))
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps(document))
    report = await importing.import_paths(rt, [twice], "datainclusion")
    assert reasons_of(report, "dora--cs-argonne") == []
    repeated = [row for row in report.rejected if row.ident == "dora--cs-argonne"]
    assert repeated and "déjà présent dans le fichier" in repeated[0].reasons[0]


@pytest.mark.parametrize("table", [Structure, Service])
async def test_two_rows_cannot_share_a_source_and_source_id(rt, table):
    structure = Structure(name="Centre social", source="maillage")
    await structure.save()

    def row(**values):
        return table(**values) if table is Structure else table(structure=structure.id, **values)

    await table.insert(row(name="Premier", source="dora", source_id="42"))
    with pytest.raises(Exception, match="(?i)unique"):  # the database refuses it, whoever writes
        await table.insert(row(name="Second", source="dora", source_id="42"))
    await table.insert(row(name="Ailleurs", source="cd45", source_id="42"))  # another source may use the id
    await table.insert(row(name="Local A", source="maillage"), row(name="Local B", source="maillage"))  # no id
    assert await table.count().where(table.source_id == "42") == 2


async def test_an_id_empty_after_its_source_prefix_is_rejected(rt, tmp_path):
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"][2]["id"] = "dora--"
    emptied = tmp_path / "emptied.json"
    emptied.write_text(json.dumps(document))
    report = await importing.import_paths(rt, [emptied], "datainclusion")
    assert reasons_of(report, "dora--") == ["id : identifiant vide après le préfixe « dora-- »"]
    assert report.counts("structure") == {"created": 2, "rejected": 1}


async def test_imports_of_one_file_at_the_same_time_make_each_row_once(rt):
    # on PostgreSQL both read the directory before either writes: the unique index makes the second an update
    first, second = await asyncio.gather(
        run_import(rt, "datainclusion_valid.json"), run_import(rt, "datainclusion_valid.json")
    )
    assert not first.rejected and not second.rejected
    assert await counts() == (3, 4, 1)
    # each report says what the database did: every row created once, by one import or the other
    for a, b in zip(first.rows, second.rows, strict=True):
        assert a.ident == b.ident and sorted([a.status, b.status]) in (
            ["created", "unchanged"],  # the second read the directory after the first committed
            ["created", "updated"],  # both read it before: the second's insert became an update
        ), (a.ident, a.status, b.status)
    again = await run_import(rt, "datainclusion_valid.json")
    assert again.counts("structure") == {"unchanged": 3} and again.counts("service") == {"unchanged": 4}


@pytest.mark.parametrize("table", [Structure, Service])
async def test_the_upsert_tells_the_rows_it_inserted_from_those_another_import_made_meanwhile(rt, table):
    # the second of two racing imports on PostgreSQL: its preload missed a row that the first has since committed
    structure = Structure(name="Centre social", source="maillage")
    await structure.save()
    owner = {} if table is Structure else {"structure": structure.id}
    await table.insert(table(name="Créé par l'autre import", source="dora", source_id="42", **owner))
    columns = ["name", *owner, "source", "source_id", "created_at", "updated_at"]
    now = datetime.now(UTC)
    rows = [("Accueil", *owner.values(), "dora", source_id, now, now) for source_id in ("42", "43")]
    async with write_transaction() as transaction:
        written = await importing._upsert_many(transaction, table, columns, rows, ["name", "updated_at"])
    assert {key: w.inserted for key, w in written.items()} == {("dora", "42"): False, ("dora", "43"): True}
    by_id = {row["id"]: row for row in await table.select(table.id, table.source_id, table.name)}
    assert {by_id[w.id]["source_id"] for w in written.values()} == {"42", "43"}  # the ids are theirs
    assert {row["name"] for row in by_id.values() if row["source_id"]} == {"Accueil"}
    assert await table.count().where(table.source == "dora") == 2


# ---------------------------------------------------------------- médiation numérique import
async def test_mednum_csv_gives_a_structure_and_its_digital_service_per_row(rt):
    report = await run_import(rt, "mednum_valid.csv", fmt="mednum")
    assert report.counts("lieu") == {"created": 3}
    epn = await Structure.select().where(Structure.source_id == "epn-la-source").first()
    assert epn["source"] == "mediation-numerique" and epn["kind"] == "EPN"
    assert json.loads(epn["networks"]) == ["aidants-connect", "conseillers-numeriques"]
    service = await Service.select().where(Service.structure == epn["id"]).first()
    assert set(json.loads(service["thematiques"])) == {
        "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
        "numerique--acceder-a-des-services-en-ligne",
        "numerique--maitriser-les-fondamentaux-du-numerique",
    }
    assert json.loads(service["publics"]) == ["seniors"] and json.loads(service["accommodations"]) == ["surdite"]
    assert json.loads(service["languages"]) == ["en"] and service["accepts_referrals"]
    assert json.loads(service["types"]) == ["accompagnement", "atelier"]
    bus = await Structure.select().where(Structure.source_id == "bus-numerique-45").first()
    assert bus["siret"] == ""  # an RNA number is not a SIRET
    bus_service = await Service.select().where(Service.structure == bus["id"]).first()
    assert bus_service["fees_details"] == "Gratuit sous condition"
    assert (await Place.select().where(Place.service == bus_service["id"]).first())["itinerant"]
    again = await run_import(rt, "mednum_valid.csv", fmt="mednum")
    assert again.counts("lieu") == {"unchanged": 3}


async def test_mednum_bad_rows_name_their_column(rt):
    report = await run_import(rt, "mednum_broken.csv", fmt="mednum", source="hub-cvl")
    assert report.counts("lieu") == {"created": 2, "rejected": 3}
    assert reasons_of(report, "bad-service") == ["services : valeur inconnue « Cours de cuisine »"]
    assert reasons_of(report, "bad-pivot")[0].startswith("pivot : ni un SIRET")
    assert reasons_of(report, "no-date") == ["date_maj : champ obligatoire manquant"]
    hours = next(row for row in report.rows if row.ident == "bad-hours")
    assert hours.status == "created" and hours.notes == [  # one cell: one note, for the structure and its service
        "horaires : horaires illisibles « tous les jours le matin », laissés vides ; "
        "format OpenStreetMap attendu, par exemple « Mo-Fr 08:30-12:30; PH off »"
    ]
    assert [row.where for row in report.rejected] == ["ligne 3", "ligne 4", "ligne 5"]
    assert (await Structure.select(Structure.source).first())["source"] == "hub-cvl"


# ---------------------------------------------------------------- export
def validate_all(rows) -> tuple[int, int]:
    seen = {"structure": 0, "service": 0}
    for kind, row in rows:
        (di.Structure if kind == "structure" else di.Service).model_validate(row)
        seen[kind] += 1
    return seen["structure"], seen["service"]


async def test_round_trip_import_export_is_valid_for_the_package(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    await run_import(rt, "datainclusion_structures.csv", "datainclusion_services.csv")
    await run_import(rt, "mednum_valid.csv", fmt="mednum")
    as_json = await export.export_directory(rt, "datainclusion-json", tmp_path / "annuaire.json")
    assert (as_json.structures, as_json.services) == (8, 10) and not as_json.skipped
    assert validate_all(read_datainclusion_export(as_json.paths)) == (8, 10)
    as_csv = await export.export_directory(rt, "datainclusion-csv", tmp_path / "annuaire.csv")
    assert [p.name for p in as_csv.paths] == ["annuaire-structures.csv", "annuaire-services.csv"]
    assert validate_all(read_datainclusion_export(as_csv.paths)) == (8, 10)
    # what was imported comes back: ids, lists, the place of a service
    rows = dict(((kind, row["id"]), row) for kind, row in read_datainclusion_export(as_json.paths))
    atelier = rows[("service", "dora--svc-atelier")]
    assert atelier["structure_id"] == "dora--cs-argonne" and atelier["adresse"] == "Salle Pellicer, 3 rue de la Gare"
    assert rows[("structure", "cd45--france-services-saran")]["reseaux_porteurs"] == ["communes", "france-service"]
    # and an export imports back unchanged, as JSON and as the CSV pair
    assert (await importing.import_paths(rt, as_json.paths, "datainclusion")).counts("service") == {"unchanged": 10}
    again = await importing.import_paths(rt, as_csv.paths, "datainclusion")
    assert again.counts("structure") == {"unchanged": 8} and again.counts("service") == {"unchanged": 10}


async def test_export_leaves_out_closed_structures_users_and_personal_addresses(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    await Structure.update({Structure.status: "closed"}).where(Structure.source_id == "mediatheque-madeleine")
    await Structure.update({Structure.email: "jean.dupont@example.org"}).where(Structure.source_id == "ccas-orleans")
    own = Structure(name="Centre social des Tilleuls", commune="Orléans", postal_code="45000", email="x@y.fr")
    await own.save()
    await User.insert(User(email="agent.prive@example.org", full_name="Agent Privé"))
    report = await export.export_directory(rt, "datainclusion-json", tmp_path / "out.json")
    text = (tmp_path / "out.json").read_text()
    assert "Madeleine" not in text and "Accès libre à internet" not in text
    assert "jean.dupont" not in text and "agent.prive" not in text and "Agent Privé" not in text
    assert report.withheld_emails == 1 and "accueil.argonne@example.org" in text
    assert f'"maillage--{own.id}"' in text  # a structure made in Maillage gets an id in our own source
    again = await importing.import_paths(rt, [tmp_path / "out.json"], "datainclusion")
    assert again.counts("structure")["created"] == 0 and await Structure.count() == 4  # matched, not duplicated
    assert validation.looks_personal("j.dupont@mairie-orleans.fr")
    assert not validation.looks_personal("accueil.ccas@orleans.fr") and not validation.looks_personal("contact@x.fr")


MEDNUM_PATTERNS = {  # LaMednum v1.0.1 constraints on the columns we fill
    "code_postal": r"\d{5}",
    "services": r"(?:(?:^|\|)(Aide aux démarches administratives|Maîtrise des outils numériques du quotidien|"
    r"Insertion professionnelle via le numérique|Utilisation sécurisée du numérique|Parentalité et éducation avec "
    r"le numérique|Loisirs et créations numériques|Compréhension du monde numérique|Accès internet et matériel "
    r"informatique|Acquisition de matériel informatique à prix solidaire))+",
    "frais_a_charge": r"(?:(?:^|\|)(Gratuit|Gratuit sous condition|Payant))+",
    "itinerance": r"(?:(?:^|\|)(Itinérant|Fixe))+",
    "modalites_acces": r"(?:(?:^|\|)(Se présenter|Téléphoner|Contacter par mail|Prendre un RDV en ligne|"
    r"Ce lieu n'accueille pas de public|Envoyer un mail avec une fiche de prescription))+",
    "modalites_accompagnement": r"(?:(?:^|\|)(En autonomie|Accompagnement individuel|Dans un atelier collectif|"
    r"À distance))+",
    "prise_en_charge_specifique": r"(?:(?:^|\|)(Surdité|Handicaps moteurs|Handicaps mentaux|Illettrisme|"
    r"Langues étrangères \(anglais\)|Langues étrangères \(autres\)|Déficience visuelle))+",
    "publics_specifiquement_adresses": r"(?:(?:^|\|)(Jeunes|Étudiants|Familles et/ou enfants|Seniors|Femmes))+",
    "pivot": r"[a-zA-Z0-9]{9,14}",
}


async def test_mednum_export_follows_the_lamednum_schema_and_round_trips(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    await run_import(rt, "mednum_valid.csv", fmt="mednum")
    report = await export.export_directory(rt, "mednum-csv", tmp_path / "lieux.csv")
    with (tmp_path / "lieux.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(mednum.MEDNUM_COLUMNS)
    # digital inclusion places only: the CCAS (no numerique-- thématique) is not one
    assert {r["nom"] for r in rows} == {
        "Centre social de l'Argonne",
        "Médiathèque Madeleine",
        "Espace public numérique de La Source",
        "Bus numérique du Loiret",
        "Ressourcerie R3 ordinateurs solidaires",
    } and report.structures == 5
    for row in rows:
        for column in mednum.MEDNUM_REQUIRED:
            assert row[column], (row["id"], column)
        for column, pattern in MEDNUM_PATTERNS.items():
            assert not row[column] or re.fullmatch(pattern, row[column]), (column, row[column])
    epn = next(r for r in rows if r["nom"].startswith("Espace public"))
    assert epn["services"] == "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien"
    assert "Envoyer un mail avec une fiche de prescription" in epn["modalites_acces"]
    assert epn["prise_en_charge_specifique"] == "Surdité|Langues étrangères (anglais)"
    again = await importing.import_paths(rt, [tmp_path / "lieux.csv"], "mednum", source="export")
    assert again.counts("lieu") == {"created": 5}


async def test_geojson_has_structures_and_places_with_coordinates(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    await run_import(rt, "mednum_valid.csv", fmt="mednum")
    report = await export.export_directory(rt, "geojson", tmp_path / "carte.geojson")
    document = json.loads((tmp_path / "carte.geojson").read_text())
    assert document["type"] == "FeatureCollection"
    kinds = [f["properties"]["type"] for f in document["features"]]
    assert kinds.count("structure") == 6 and kinds.count("lieu") == 2 and report.places == 2
    for feature in document["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point" and -180 <= lon <= 180 and -90 <= lat <= 90
    bus = next(f for f in document["features"] if f["properties"].get("itinerant"))
    assert bus["properties"]["structure"] == "Bus numérique du Loiret"


async def test_export_is_journalled(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    await export.export_directory(rt, "geojson", tmp_path / "carte.geojson", actor_id=None)
    entry = await JournalEntry.select().where(JournalEntry.action == "directory_export").first()
    assert json.loads(entry["details"])["format"] == "geojson"


def test_pydantic_errors_are_translated_naming_the_field():
    with pytest.raises(pydantic.ValidationError) as caught:
        di.Service.model_validate(
            {"source": "x", "structure_id": "x--1", "id": "x--2", "nom": "Ab", "date_maj": "2031-01-01",
             "description": "Une description", "zone_eligibilite": ["4"], "latitude": "47,9", "courriel": "a@"}
        )  # fmt: skip
    reasons = rows.french_errors(caught.value)
    assert "nom : 3 caractères au moins" in reasons
    assert "date_maj : La date de dernière modification ne peut pas être dans le futur." in reasons
    assert any(r.startswith("zone_eligibilite : valeur inconnue « 4 »") for r in reasons)
    assert "latitude : nombre attendu (reçu « 47,9 ») : le séparateur décimal est le point" in reasons
    assert "courriel : adresse e-mail invalide" in reasons


# ---------------------------------------------------------------- the command
def maillage(*args: str, database_url: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAILLAGE_SECRET_KEY": TEST_SECRET,
        "MAILLAGE_VAR_DIR": str(var_dir),
    }
    return subprocess.run(  # noqa: S603 (our own console script)
        [sys.executable, "-m", "hub.cli", *args], env=environ, capture_output=True, text=True, timeout=120
    )


async def test_cli_import_reports_in_french_with_exit_codes(rt, database_url, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return maillage("directory", *args, database_url=database_url, var_dir=tmp_path)

    dry = await asyncio.to_thread(
        run, "import", str(DATA / "datainclusion_valid.json"), "--format", "datainclusion", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        "Simulation" in dry.stdout
        and "Structures : 3 créée(s), 0 mise(s) à jour" in dry.stdout
        and await Structure.count() == 0
    )

    done = await asyncio.to_thread(run, "import", str(DATA / "datainclusion_valid.json"), "--format", "datainclusion")
    assert done.returncode == 0 and "Services : 4 créé(s)" in done.stdout and await Structure.count() == 3

    partial = await asyncio.to_thread(run, "import", str(DATA / "mednum_broken.csv"), "--format", "mednum")
    assert partial.returncode == 1
    assert "mednum_broken.csv ligne 3 (bad-service) : services : valeur inconnue « Cours de cuisine »" in partial.stdout

    fatal = await asyncio.to_thread(
        run, "import", str(DATA / "datainclusion_semicolon.csv"), "--format", "datainclusion"
    )
    assert fatal.returncode == 2 and "point-virgule" in fatal.stderr and "Rien n'a été importé" in fatal.stderr

    missing = await asyncio.to_thread(run, "import", str(tmp_path / "absent.json"), "--format", "datainclusion")
    assert missing.returncode == 2 and "absent.json" in missing.stderr

    out = tmp_path / "export" / "annuaire.csv"
    exported = await asyncio.to_thread(run, "export", "--format", "datainclusion-csv", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "annuaire-structures.csv" in exported.stdout and (tmp_path / "export" / "annuaire-services.csv").exists()


async def test_export_drops_invalid_optional_fields_and_leaves_out_invalid_rows(rt, tmp_path):
    await run_import(rt, "datainclusion_valid.json")
    # rows edited by hand in the database, past the forms' checks
    await Structure.update({Structure.website: "pas une adresse"}).where(Structure.source_id == "cs-argonne")
    await Structure.update({Structure.name: "AB"}).where(Structure.source_id == "ccas-orleans")
    report = await export.export_directory(rt, "datainclusion-json", tmp_path / "out.json")
    assert report.fields_dropped == 1 and report.structures == 2
    assert report.skipped == ["dora--ccas-orleans : nom : 3 caractères au moins"]
    rows = list(read_datainclusion_export(report.paths))
    assert validate_all(rows) == (2, 3)  # the CCAS's service goes with it
    assert all("pas une adresse" not in json.dumps(row) for _, row in rows)


@pytest.mark.parametrize(
    ("name", "chosen", "looks_like"),
    [
        ("mednum_valid.csv", "datainclusion", "médiation numérique (LaMednum) (sa colonne « pivot »)"),
        ("datainclusion_valid.json", "mednum", "data·inclusion (un document JSON)"),
        ("datainclusion_structures.csv", "mednum", "data·inclusion (ses colonnes « source » et « siret »)"),
    ],
)
async def test_a_file_of_the_other_format_is_refused_with_the_format_it_looks_like(rt, name, chosen, looks_like):
    with pytest.raises(Invalid) as refused:
        await run_import(rt, name, fmt=chosen)
    assert f"« {name} » ressemble à un fichier {looks_like}" in refused.value.message
    assert "Rien n'a été importé" in refused.value.message and await counts() == (0, 0, 0)
