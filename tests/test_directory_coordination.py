"""The coordinator's desk: importing a real-looking export from the browser form, deciding on duplicates."""

from __future__ import annotations

import csv
import html
import json
from datetime import timedelta
from pathlib import Path

from hub import jobs
from network.exchange import records
from network.search import index as search_index
from network.tables import DuplicateFlag, ImportRecord, Service, Structure, Synonym
from tests.conftest import csrf_token, make_person, make_structure, post_form, sign_in

DATA = Path(__file__).parent / "data"


async def _coordinator(client, rt) -> None:
    await sign_in(client, await make_person(rt, "camille@reseau.example.fr", coordinator=True))


async def run_import(client, rt, files, data):
    """Send the desk's import form, let the jobs loop run the import, and read its page (progress, then report)."""
    sent = await client.post("/annuaire/import", data={"_csrf_token": csrf_token(client), **data}, files=files)
    if sent.status_code != 200 or "/annuaire/imports/" not in str(sent.url):
        return sent  # refused at once, on the desk
    assert "Import en cours" in sent.text and "Actualiser" in sent.text
    await jobs.run_due_jobs(rt)
    return await client.get(sent.url)


async def _upload(client, rt, *names: str, fmt: str, dry_run: bool = False):
    files = [("file", (name, (DATA / name).read_bytes(), "application/octet-stream")) for name in names]
    return await run_import(client, rt, files, {"format": fmt, **({"dry_run": "on"} if dry_run else {})})


async def test_coordinator_imports_a_datainclusion_export_and_reads_the_report(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    dry = await _upload(client, rt, "datainclusion_valid.json", fmt="datainclusion", dry_run=True)
    assert dry.status_code == 200 and "Simulation : rien n'a été enregistré" in html.unescape(dry.text)
    assert await Structure.count() == 0
    done = await _upload(client, rt, "datainclusion_valid.json", fmt="datainclusion")
    assert done.status_code == 200 and "Import terminé" in done.text
    assert await Structure.count() > 0 and await Service.count() > 0


async def test_a_csv_export_in_two_files_is_imported_in_one_go(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    done = await _upload(client, rt, "datainclusion_structures.csv", "datainclusion_services.csv", fmt="datainclusion")
    text = html.unescape(done.text)
    assert done.status_code == 200 and "Import terminé" in text
    structures, services = await Structure.count(), await Service.count()
    assert structures > 0 and services > 0
    assert f"Structures : {structures} créée(s)" in text and f"Services : {services} créé(s)" in text
    # every service found its structure in the other file
    assert not await Service.exists().where(Service.structure.is_null())


async def test_broken_rows_are_listed_and_a_truncated_file_changes_nothing(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    broken = await _upload(client, rt, "datainclusion_broken_rows.json", fmt="datainclusion")
    assert "Lignes refusées" in broken.text
    before = await Structure.count()
    truncated = await _upload(client, rt, "datainclusion_truncated.json", fmt="datainclusion")
    text = html.unescape(truncated.text)
    assert "L'import a échoué" in text and "Rien n'a été importé" in text and "JSON invalide" in text
    assert await Structure.count() == before


async def test_a_row_kept_without_its_unreadable_phone_is_listed_with_the_reason(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    document = json.loads((DATA / "datainclusion_valid.json").read_text())
    document["structures"][1]["telephone"] = "voir accueil"
    done = await run_import(
        client,
        rt,
        [("file", ("annuaire.json", json.dumps(document).encode(), "application/json"))],
        {"format": "datainclusion"},
    )
    page = html.unescape(done.text)
    assert "Import terminé" in page and "Champs facultatifs illisibles laissés vides : 1." in page
    assert "Lignes gardées avec un champ laissé vide (1)" in page and "Lignes refusées" not in page
    assert "dora--ccas-orleans" in page and "telephone : numéro non reconnu « voir accueil », laissé vide" in page
    assert await Structure.count() == 3


async def test_coordinator_merges_a_flagged_pair_keeping_history(client, rt):
    a = await make_structure("Centre social des Tilleuls")
    b = await make_structure("Centre Social des Tilleuls")
    await DuplicateFlag.insert(DuplicateFlag(structure=a, other=b, reason="name_commune", score=97.0))
    await _coordinator(client, rt)
    desk = await client.get("/annuaire/coordination")
    assert "Comparer et garder" in html.unescape(desk.text)
    flag_id = (await DuplicateFlag.select(DuplicateFlag.id).first())["id"]
    merged = await post_form(
        client, f"/annuaire/doublons/{flag_id}/fusionner", {"keep": "structure", "confirmation": "oui"}
    )
    assert "Structures fusionnées" in merged.text
    dropped = await Structure.select().where(Structure.id == b).first()
    assert dropped["status"] == "closed" and dropped["merged_into"] == a


async def test_only_the_coordinator_reaches_the_desk(client, rt):
    sid = await make_structure()
    await sign_in(client, await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]}))
    assert (await client.get("/annuaire/coordination")).status_code == 403


async def test_every_import_keeps_its_whole_report_for_the_coordinator_to_download(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    done = await _upload(client, rt, "datainclusion_broken_rows.json", fmt="datainclusion")
    record = await ImportRecord.select(ImportRecord.id, ImportRecord.dry_run, ImportRecord.files).first()
    assert record["files"] == "datainclusion_broken_rows.json" and not record["dry_run"]
    link = f"/annuaire/imports/{record['id']}/rapport.csv"
    assert f'<a href="{link}" download>Télécharger le rapport complet' in html.unescape(done.text)
    download = await client.get(link)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="rapport-import-' in download.headers["content-disposition"]
    lines = download.content.decode("utf-8-sig").splitlines()
    rows = list(csv.DictReader(lines, delimiter=";"))
    assert len(rows) == 9  # every row of the file, kept or not
    by_id = {row["identifiant"]: row for row in rows}
    assert by_id["cd45--ok"]["statut"] == "créée"
    assert by_id["cd45--bad-postcode"]["statut"] == "refusée"
    assert by_id["cd45--bad-postcode"]["raisons du refus"] == "code_postal : 5 chiffres attendus (reçu « 4500 »)"
    assert by_id["cd45--bad-siret"]["statut"] == "créée" and "SIRET" in by_id["cd45--bad-siret"]["champs laissés vides"]
    assert (
        by_id["cd45--bad-hours"]["statut"] == "créée"
        and "laissés vides" in by_id["cd45--bad-hours"]["champs laissés vides"]
    )
    # the desk lists the last imports, simulations included, each with its report
    await _upload(client, rt, "datainclusion_valid.json", fmt="datainclusion", dry_run=True)
    desk = html.unescape((await client.get("/annuaire/coordination")).text)
    assert desk.count("Rapport complet (CSV)") == 2 and "· simulation" in desk
    # a structure manager cannot read them
    await client.post("/deconnexion", data={"_csrf_token": csrf_token(client)})
    sid = await make_structure()
    await sign_in(client, await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]}))
    assert (await client.get(link)).status_code == 403


async def test_old_import_reports_are_purged_by_the_jobs_loop(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    await _upload(client, rt, "datainclusion_valid.json", fmt="datainclusion")
    old = rt.now() - records.REPORT_KEEP - timedelta(days=1)
    await ImportRecord.update({ImportRecord.created_at: old}).where(ImportRecord.id > 0)
    await _upload(client, rt, "datainclusion_valid.json", fmt="datainclusion", dry_run=True)
    assert await ImportRecord.count() == 2
    await jobs.tick(rt)
    assert [row["dry_run"] for row in await ImportRecord.select(ImportRecord.dry_run)] == [True]
    assert (await client.get("/annuaire/imports/999999/rapport.csv")).status_code == 404


async def test_the_coordinator_adds_the_networks_own_synonyms_to_the_search(client, rt):
    structure = await make_structure("Maison des solidarités")
    service = Service(structure=structure, name="Permanence RSA", description="Le revenu minimum, pas à pas.")
    await service.save()
    await search_index.sync_tags(service.id)
    await search_index.reindex_service(service.id)
    await _coordinator(client, rt)
    assert "Permanence RSA" not in (await client.get("/annuaire", params={"q": "coup de pouce"})).text

    refused = await post_form(client, "/annuaire/synonymes", {"mots": "coup de pouce"})
    assert refused.status_code == 400 and "au moins deux mots" in html.unescape(refused.text)
    assert 'value="coup de pouce"' in refused.text  # what was typed comes back beside the error
    too_long = await post_form(client, "/annuaire/synonymes", {"mots": "a" * 501 + ", b"})
    assert too_long.status_code == 400 and "500 caractères" in html.unescape(too_long.text)

    added = await post_form(client, "/annuaire/synonymes", {"mots": "coup de pouce, RSA"})
    assert added.status_code == 200 and "Synonymes ajoutés" in html.unescape(added.text)
    assert "Permanence RSA" in (await client.get("/annuaire", params={"q": "coup de pouce"})).text

    [group] = await Synonym.select(Synonym.id)
    removed = await post_form(client, f"/annuaire/synonymes/{group['id']}/retirer")
    assert "Synonymes retirés" in html.unescape(removed.text)
    assert "Permanence RSA" not in (await client.get("/annuaire", params={"q": "coup de pouce"})).text


async def test_a_file_of_the_other_format_is_refused_on_the_desk_with_a_clear_message(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    refused = await _upload(client, rt, "mednum_valid.csv", fmt="datainclusion")
    text = html.unescape(refused.text)
    assert refused.status_code == 400 and "ressemble à un fichier médiation numérique (LaMednum)" in text
    assert "Rien n'a été importé" in text and await Structure.count() == 0
