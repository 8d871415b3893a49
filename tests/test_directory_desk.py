"""Directory and journal pages as a desk reads them: withdrawn services, merged structures, the merge page's hours,
the import form's errors, the "près de" box, a page past the end, failed imports on the desk, the journal's words."""

from __future__ import annotations

import html
import re
from pathlib import Path

from hub import jobs
from hub.journal import of
from network.tables import DuplicateFlag, ImportJob, ImportRecord, Structure
from tests.conftest import csrf_token, make_person, make_service, make_structure, post_form, sign_in

DATA = Path(__file__).parent / "data"


async def _coordinator(client, rt) -> None:
    await sign_in(client, await make_person(rt, "alix.martin@reseau.example.fr", coordinator=True))


async def test_a_withdrawn_service_no_longer_says_it_receives_referrals(client, rt):
    sid = await make_structure()
    service_id = await make_service(sid, "Aide aux démarches CAF", accepts_referrals=True)
    await sign_in(client, await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]}))
    withdrawn = await post_form(
        client, f"/annuaire/structures/{sid}/services/{service_id}/fermer", {"confirmation": "oui"}
    )
    page = html.unescape(withdrawn.text)
    assert "Ce service est retiré de l'annuaire" in page
    assert "reçoit les orientations des partenaires" not in page
    assert "Ce service ne reçoit plus d'orientation : il est retiré de l'annuaire." in page
    card = html.unescape((await client.get(f"/annuaire/structures/{sid}")).text)
    assert "Retiré de l'annuaire" in card and "Reçoit des orientations" not in card


async def test_a_merged_structure_points_to_the_one_kept_and_offers_no_editing(client, rt):
    kept = await make_structure("Centre social des Tilleuls")
    dropped = await make_structure("Centre Social des Tilleuls")
    await DuplicateFlag.insert(DuplicateFlag(structure=kept, other=dropped, reason="name_commune", score=97.0))
    await _coordinator(client, rt)
    flag_id = (await DuplicateFlag.select(DuplicateFlag.id).first())["id"]
    await post_form(client, f"/annuaire/doublons/{flag_id}/fusionner", {"keep": "structure", "confirmation": "oui"})
    page = html.unescape((await client.get(f"/annuaire/structures/{dropped}")).text)
    assert "Fermée" in page
    assert f'fusionnée avec <a href="/annuaire/structures/{kept}">Centre social des Tilleuls</a>' in page
    for action in ("Modifier la fiche", "Tout est encore juste", "Ajouter un service"):
        assert action not in page
    # and posted all the same, nothing happens to a closed entry
    refused = await post_form(client, f"/annuaire/structures/{dropped}/confirmer")
    assert refused.status_code == 409
    assert (await Structure.select(Structure.confirmed_on).where(Structure.id == dropped).first())[
        "confirmed_on"
    ] is None
    # the structure kept is still edited as before
    assert "Modifier la fiche" in html.unescape((await client.get(f"/annuaire/structures/{kept}")).text)


async def test_the_merge_page_writes_hours_in_french(client, rt):
    kept = await make_structure("Médiathèque Colette", opening_hours="Mo-Fr 09:00-12:00,14:00-17:00; PH off")
    dropped = await make_structure("Mediatheque Colette", opening_hours="Sa 09:30-12:00")
    await DuplicateFlag.insert(DuplicateFlag(structure=kept, other=dropped, reason="name_commune", score=97.0))
    await _coordinator(client, rt)
    flag_id = (await DuplicateFlag.select(DuplicateFlag.id).first())["id"]
    page = html.unescape((await client.get(f"/annuaire/doublons/{flag_id}/fusionner?garder=structure")).text)
    assert "Mo-Fr" not in page and "PH off" not in page and "Sa 09:30" not in page
    assert "Lundi : 9 h à 12 h, 14 h à 17 h" in page and "Samedi : 9 h 30 à 12 h" in page


async def test_a_bad_source_name_is_said_once_beside_its_field_and_kept(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    refused = await client.post(
        "/annuaire/import",
        data={"_csrf_token": csrf_token(client), "format": "mednum", "source": "Dora 45!", "dry_run": "on"},
        files=[("file", ("mednum_valid.csv", (DATA / "mednum_valid.csv").read_bytes(), "text/csv"))],
    )
    assert refused.status_code == 400
    page = html.unescape(refused.text)
    assert page.count("Nom de source invalide") == 2  # once in the summary, once beside the field
    assert '<p class="error-text" id="source-error">Nom de source invalide' in page
    assert 'id="file-error"' not in page
    assert re.search(r'<input id="source" name="source" type="text" value="Dora 45!"[^>]*aria-invalid="true"', page)
    assert '<option value="mednum" selected>' in page
    assert re.search(r'id="dry_run" name="dry_run" checked', page)
    assert await ImportJob.count() == 0


async def test_an_address_not_found_stays_in_the_box(client, rt):
    sid = await make_structure()
    await make_service(sid, "Aide aux démarches CAF")
    await client.get("/annuaire")
    page = await post_form(
        client, "/annuaire/recherche", {"q": "caf", "adresse": "3 chemin des Oubliettes, Trifouilly"}
    )
    assert "Oubliettes" not in str(page.url)
    text = html.unescape(page.text)
    assert "Adresse introuvable" in text
    assert 'name="adresse" type="text" value="3 chemin des Oubliettes, Trifouilly"' in text
    # shown once: the same results page again no longer holds it
    again = html.unescape((await client.get(str(page.url))).text)
    assert "Oubliettes" not in again


async def test_a_page_past_the_end_says_so_and_leads_to_the_last_one(client, rt):
    sid = await make_structure()
    for n in range(3):
        await make_service(sid, f"Atelier numérique {n}")
    page = html.unescape((await client.get("/annuaire", params={"q": "atelier", "page": "2"})).text)
    assert "3 résultats" in page and "Aucun service ne correspond" not in page
    assert "La page 2 n'existe pas : ces résultats tiennent sur 1 page." in page
    assert re.search(r'<a href="/annuaire\?q=atelier&page=1#resultats">Aller à la dernière page</a>', page)


async def test_the_desk_lists_failed_imports_with_their_state(client, rt):
    await ImportJob.insert(
        ImportJob(format="datainclusion", files="annuaire.json", status="failed", message="Fichier illisible.")
    )
    job_id = (await ImportJob.select(ImportJob.id).first())["id"]
    await _coordinator(client, rt)
    desk = html.unescape((await client.get("/annuaire/coordination")).text)
    assert "Derniers imports" in desk
    assert f"Import n° {job_id} : échec" in desk and "Fichier illisible." in desk
    assert f'<a href="/annuaire/imports/{job_id}">Voir pourquoi' in desk


async def test_the_journal_names_an_import_by_its_number_in_good_french(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    export = (DATA / "datainclusion_valid.json").read_bytes()
    files = [("file", ("annuaire.json", export, "application/json"))]
    sent = await client.post(
        "/annuaire/import", data={"_csrf_token": csrf_token(client), "format": "datainclusion"}, files=files
    )
    assert "/annuaire/imports/" in str(sent.url)
    await jobs.run_due_jobs(rt)
    record_id = (await ImportRecord.select(ImportRecord.id).first())["id"]
    page = html.unescape((await client.get("/journal?action=directory_import")).text)
    assert f"import n° {record_id}" in page and "import n° datainclusion" not in page
    assert "(e)s" not in page and "(es)" not in page
    assert "Structures créées" in page and "Services créés" in page


async def test_the_journal_elides_de_before_a_vowel(client, rt):
    assert of("Alix Martin") == "d'Alix Martin" and of("Ordinateurs solidaires") == "d'Ordinateurs solidaires"
    assert of("Élodie") == "d'Élodie" and of("Hélène") == "d'Hélène" and of("Sophie") == "de Sophie"
    assert of("n° 12") == "de n° 12"
    await _coordinator(client, rt)
    await make_person(rt, "alain.roux@a.example.fr")
    page = html.unescape((await client.get("/journal?action=user_created")).text)
    assert "compte d'Alain Roux" in page and "compte de Alain" not in page


async def test_the_import_report_is_sent_with_one_charset(client, rt):
    await _coordinator(client, rt)
    await client.get("/annuaire/coordination")
    files = [("file", ("mednum_valid.csv", (DATA / "mednum_valid.csv").read_bytes(), "text/csv"))]
    await client.post(
        "/annuaire/import", data={"_csrf_token": csrf_token(client), "format": "mednum", "dry_run": "on"}, files=files
    )
    await jobs.run_due_jobs(rt)
    record_id = (await ImportRecord.select(ImportRecord.id).first())["id"]
    download = await client.get(f"/annuaire/imports/{record_id}/rapport.csv")
    assert download.status_code == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"


def test_pages_elide_de_before_a_vowel() -> None:
    from hub.web import template_environment

    of = template_environment().filters["of"]
    assert of("Ordinateurs solidaires") == "d'Ordinateurs solidaires" and of("Paul Martin") == "de Paul Martin"
