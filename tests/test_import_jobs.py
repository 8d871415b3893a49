"""Large imports never freeze the service: the desk's upload is streamed to the var directory, imported by the
jobs loop (a job of kind directory.import), followed on its page, and other requests are answered meanwhile."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import json
from pathlib import Path

from hub import jobs
from hub.tables import Job
from network.exchange import import_jobs
from network.module import IMPORT_JOB, DirectorySettings
from network.tables import ImportJob, ImportRecord, Service, Structure
from tests.conftest import base_settings, csrf_token, make_person, make_structure, sign_in

DATA = Path(__file__).parent / "data"


def export(services: int, bad: int = 0) -> bytes:
    """A data·inclusion export of `services` services (3 per structure), the first `bad` structures refused."""
    template = json.loads((DATA / "datainclusion_valid.json").read_text(encoding="utf-8"))
    structure, service = template["structures"][0], template["services"][0]
    structures, rows = [], []
    for n in range(services // 3):
        sid = f"dora--cs-{n}"
        name = hashlib.sha256(str(n).encode()).hexdigest()[:24]  # names far apart: no duplicate flags
        postcode = "4500" if n < bad else structure["code_postal"]
        structures.append({**structure, "id": sid, "nom": f"Lieu {name}", "siret": "", "code_postal": postcode})
        for k in range(3):
            rows.append({**service, "id": f"dora--svc-{n}-{k}", "structure_id": sid, "nom": f"Atelier {n} {k}"})
    return json.dumps({"structures": structures, "services": rows}).encode()


async def _coordinator(client, rt) -> None:
    await sign_in(client, await make_person(rt, "camille@reseau.example.fr", coordinator=True))
    await client.get("/annuaire/coordination")


async def _send(client, content: bytes, **fields: str):
    files = [("file", ("departement.json", content, "application/json"))]
    data = {"_csrf_token": csrf_token(client), "format": "datainclusion", **fields}
    return await client.post("/annuaire/import", data=data, files=files)


async def test_an_upload_becomes_a_job_whose_page_shows_its_phases_then_its_report(client, rt, settings):
    await _coordinator(client, rt)
    sent = await _send(client, export(3000, bad=2), source="cd45")
    page = html.unescape(sent.text)
    # the coordinator lands on the import's page; the import waits for the jobs loop
    assert sent.status_code == 200 and sent.url.path.startswith("/annuaire/imports/"), sent.url
    assert "Fichier reçu : l'import a commencé." in page and "En attente de démarrage" in page
    assert 'href="' + sent.url.path + '" id="actualiser">Actualiser' in page
    assert '<script src="/static/js/import-progress.js" defer></script>' in page
    [job] = await Job.select(Job.kind, Job.payload, Job.done_at)
    [row] = await ImportJob.select(ImportJob.id, ImportJob.status, ImportJob.folder, ImportJob.source)
    assert job["kind"] == IMPORT_JOB and job["done_at"] is None and row["status"] == "queued"
    assert row["source"] == "cd45" and sent.url.path == f"/annuaire/imports/{row['id']}"
    # the file is on disk under the var directory, as sent
    stored = settings.var_dir / "imports" / row["folder"]
    assert sum(path.stat().st_size for path in stored.glob("*.donnees")) == len(export(3000, bad=2))
    assert await Structure.count() == 0

    running = asyncio.create_task(jobs.run_due_jobs(rt))
    phases: list[str] = []
    while not running.done():
        text = html.unescape((await client.get(sent.url)).text)
        for phase in import_jobs.PHASES.values():
            if f"Étape : <strong>{phase}</strong>" in text and phase not in phases:
                phases.append(phase)
                counted = phase in (import_jobs.PHASES["validation"], import_jobs.PHASES["écriture"])
                assert ("ligne(s) sur" in text) == counted, text  # rows done out of the total, where counted
        await asyncio.sleep(0.02)
    assert await running == (1, 0)
    seen = [p for p in phases if p != import_jobs.PHASES["queued"]]
    assert seen, phases
    order = list(import_jobs.PHASES.values())
    assert seen == sorted(seen, key=order.index)  # phases only move forward

    done = html.unescape((await client.get(sent.url)).text)
    assert "Import terminé" in done and "Import en cours" not in done
    assert "Structures : 998 créée(s), 0 mise(s) à jour, 0 inchangée(s), 2 refusée(s)." in done
    assert "Lignes refusées (8)" in done  # 2 structures and their 6 services
    assert "code_postal : 5 chiffres attendus (reçu « 4500 »)" in done
    record = await ImportRecord.select(ImportRecord.id).first()
    assert f'href="/annuaire/imports/{record["id"]}/rapport.csv"' in done
    assert (await ImportJob.select(ImportJob.status, ImportJob.record_id).first()) == {
        "status": "done",
        "record_id": record["id"],
    }
    assert await Service.count() == 2994 and not stored.exists()  # the files are removed once imported
    # a job claimed again (a process killed after the commit) does not import twice
    await import_jobs.run(rt, {"import": row["id"]})
    assert await ImportRecord.count() == 1


async def test_requests_are_answered_while_a_large_import_runs(client, rt):
    await make_structure("Centre social des Tilleuls")
    await _coordinator(client, rt)
    sent = await _send(client, export(6000))
    running = asyncio.create_task(jobs.run_due_jobs(rt))
    await asyncio.sleep(0)  # the job has started
    answered = []
    while not running.done() and len(answered) < 3:
        search = await client.get("/annuaire", params={"q": "Tilleuls"})
        desk = await client.get("/annuaire/coordination")
        answered.append(search.status_code == desk.status_code == 200 and "Tilleuls" in search.text)
        progress = await client.get(sent.url)
        assert progress.status_code == 200
    # answered while the import was still running, not after it
    assert answered == [True, True, True] and not running.done()
    assert await running == (1, 0)
    assert "Import terminé" in (await client.get(sent.url)).text and await Service.count() == 6000


async def test_a_refused_file_says_why_and_writes_nothing(client, rt):
    await _coordinator(client, rt)
    broken = export(6000)[:-5000]  # over elsewhere.IN_PROCESS_FROM_BYTES: refused by the child process
    sent = await _send(client, broken)
    await jobs.run_due_jobs(rt)
    page = html.unescape((await client.get(sent.url)).text)
    assert "L'import a échoué" in page and "JSON invalide ou tronqué" in page and "Rien n'a été importé" in page
    assert await Structure.count() == 0 and await ImportRecord.count() == 0
    assert (await ImportJob.select(ImportJob.status).first())["status"] == "failed"
    # bad form values are said on the desk at once, beside the fields, and nothing is queued
    refused = await _send(client, export(30), source="CD 45!")
    assert refused.status_code == 400 and "Nom de source invalide" in html.unescape(refused.text)
    assert refused.url.path == "/annuaire/import" and await ImportJob.count() == 1


async def test_an_upload_over_the_cap_is_refused_in_french(tmp_path, database_url, smtp_server):
    import httpx

    from hub.app import create_app

    settings = base_settings(
        tmp_path, database_url, smtp_server.port, sections=(DirectorySettings(import_max_megabytes=0.5),)
    )
    app = create_app(settings)
    rt = app.state.runtime
    from hub import db

    engine = db.current_engine()
    await db.start(engine)
    await rt.callers.start(engine)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local", follow_redirects=True
        ) as client:
            await _coordinator(client, rt)
            refused = await _send(client, export(3000))
            text = html.unescape(refused.text)
            assert refused.status_code == 413 and "Fichier trop volumineux : 0,5 Mo au plus" in text
            assert 'aria-invalid="true"' in text and "Rien n'a été importé" in text
            assert await ImportJob.count() == 0
            assert not list((settings.var_dir / "imports").glob("envoi-*"))
    finally:
        await rt.callers.stop()
        await db.stop(engine)


async def test_a_new_import_wakes_the_jobs_loop_at_once(client, rt):
    """The loop's interval is an hour here: only the wake-up sent with the import can start it."""
    rt.settings = dataclasses.replace(rt.settings, jobs_interval_seconds=3600.0)
    await _coordinator(client, rt)
    stop = asyncio.Event()
    loop = asyncio.create_task(jobs.loop(rt, stop))
    try:
        await asyncio.sleep(0.5)  # the loop's first tick is over: it now sleeps for its interval
        sent = await _send(client, export(30))
        for _ in range(600):
            if (await ImportJob.select(ImportJob.status).first())["status"] == "done":
                break
            await asyncio.sleep(0.1)
        assert "Import terminé" in html.unescape((await client.get(sent.url)).text)
    finally:
        stop.set()
        await loop
