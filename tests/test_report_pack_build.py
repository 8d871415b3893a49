"""Building the pack: the coordinator's one click (a background job run by the jobs loop, its progress page,
then the dashboard and the downloads), bad periods refused in French with the form back, coordinator-only
files, and `maillage report build` run as a user runs it."""

from __future__ import annotations

import asyncio
import io
import re

import httpx
import openpyxl
import pytest

from hub import jobs
from hub.runtime import Runtime
from hub.tables import JournalEntry
from network.meetings import jobs as pack_jobs
from tests.conftest import make_person, post_form, sign_in
from tests.test_cli import maillage
from tests.test_report_pack_outputs import needs_soffice
from tests.test_report_pack_sections import _referral, at, handmade_network


async def _coordinator(client: httpx.AsyncClient, rt: Runtime) -> None:
    person = await make_person(rt, "claire.coordinatrice@reseau.example.fr", coordinator=True)
    await sign_in(client, person)


async def test_a_future_or_missing_period_brings_the_form_back_with_a_french_message(client, rt):
    await _coordinator(client, rt)
    page = await client.get("/reunions/bilan")
    assert page.status_code == 200 and "Construire le bilan" in page.text
    future = await post_form(client, "/reunions/bilan", {"period": f"{rt.today().year + 1}-S1"})
    assert future.status_code == 400 and "n&#39;a pas commencé" in future.text
    missing = await post_form(client, "/reunions/bilan", {"period": "", "start": "", "end": ""})
    assert missing.status_code == 400 and "Choisissez une période" in missing.text
    backwards = await post_form(client, "/reunions/bilan", {"start": "2026-03-02", "end": "2026-03-01"})
    assert backwards.status_code == 400 and "avant la date de début" in backwards.text
    assert 'value="2026-03-02"' in backwards.text  # the values come back
    assert not await jobs.Job.exists().where(jobs.Job.kind == pack_jobs.BUILD_KIND)
    assert not pack_jobs.builds_dir(rt).exists() or not any(pack_jobs.builds_dir(rt).iterdir())


async def test_a_period_of_two_dates_is_queued_and_journaled_by_its_dates(client, rt):
    await _coordinator(client, rt)
    response = await post_form(client, "/reunions/bilan", {"start": "2026-01-01", "end": "2026-03-31"})
    assert response.status_code == 200 and re.search(r"/reunions/bilan/[0-9a-f]{16}$", response.url.path)
    entry = await JournalEntry.select().where(JournalEntry.action == "meetings.pack_requested").first()
    assert entry is not None and '"period":"2026-01-01/2026-03-31"' in entry["details"]
    assert await jobs.Job.count().where(jobs.Job.kind == pack_jobs.BUILD_KIND) == 1
    # sixteen years are not a period to count: the form comes back with the dates typed
    decade = await post_form(client, "/reunions/bilan", {"start": "2010-01-01", "end": "2026-03-31"})
    assert decade.status_code == 400 and "au plus 5 ans" in decade.text and 'value="2010-01-01"' in decade.text
    first_century = await post_form(client, "/reunions/bilan", {"start": "0001-01-01", "end": "0001-01-31"})
    assert first_century.status_code == 400 and "entre l&#39;an 2000 et l&#39;an 2100" in first_century.text
    assert await jobs.Job.count().where(jobs.Job.kind == pack_jobs.BUILD_KIND) == 1


async def test_an_empty_period_ends_the_job_with_its_message_on_the_progress_page(client, rt):
    await _coordinator(client, rt)
    response = await post_form(client, "/reunions/bilan", {"period": "2019-S1"})
    build = response.url.path.rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{16}", build)
    waiting = await client.get(f"/reunions/bilan/{build}")
    assert "En attente" in waiting.text and 'value="0"' in waiting.text
    assert "/static/js/pack-progress.js" in waiting.text
    assert await jobs.run_due_jobs(rt) == (1, 0)
    failed = await client.get(f"/reunions/bilan/{build}")
    assert "n'a pas pu être construit" in failed.text and "Rien n&#39;a été enregistré" in failed.text


@needs_soffice
async def test_one_click_builds_the_pack_then_each_file_downloads(client, rt):
    ids = await handmade_network()
    await _referral(ids["a"], ids["b"], at(2026, 2, 1, 9), "accepted", first_answer_at=at(2026, 2, 1, 11))
    await _coordinator(client, rt)
    response = await post_form(client, "/reunions/bilan", {"period": "2026-S1"})
    assert response.status_code == 200 and response.history[0].status_code in (302, 303)
    build = response.url.path.rsplit("/", 1)[-1]
    assert await jobs.run_due_jobs(rt) == (1, 0)
    entry = await JournalEntry.select().where(JournalEntry.action == "meetings.pack_requested").first()
    assert entry is not None and entry["object_id"] == build
    done = await client.get(f"/reunions/bilan/{build}")
    assert done.status_code == 200
    text = done.text
    assert "Bilan du réseau – 2026-S1" in text and "Structures membres" in text
    assert "Aucune donnée pour cette période." in text  # the mandates and the meetings recorded nothing
    assert "Annexe : définitions des indicateurs" in text
    charts = re.findall(rf'src="(/reunions/bilan/{build}/graphiques/[^"]+)"', text)
    assert charts
    image = await client.get(charts[0])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK"), ("xlsx", b"PK"), ("html", b"<!DOCTYPE")):
        file = await client.get(f"/reunions/bilan/{build}/fichiers/{fmt}")
        assert file.status_code == 200 and file.content.startswith(magic), fmt
        assert "attachment" in file.headers["content-disposition"]
        assert file.headers["content-type"].count("charset") <= 1, fmt
    xlsx = await client.get(f"/reunions/bilan/{build}/fichiers/xlsx")
    assert "Chiffres clés" in openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames
    assert (await client.get(f"/reunions/bilan/{build}/fichiers/exe")).status_code == 404
    listing = await client.get("/reunions/bilan")
    assert f"/reunions/bilan/{build}" in listing.text and "Terminé" in listing.text
    # a member of a structure (not the coordinator) gets nothing
    client.cookies.clear()
    member = await make_person(rt, "lea.aidante@tilleuls.example.fr", {ids["a"]: ["prescriber"]})
    await sign_in(client, member)
    for path in (f"/reunions/bilan/{build}", f"/reunions/bilan/{build}/fichiers/pdf", charts[0]):
        assert (await client.get(path)).status_code == 403


@needs_soffice
async def test_the_command_line_builds_the_four_files(database_url, tmp_path, app, rt):
    await handmade_network()
    out = tmp_path / "bilan"
    done = await asyncio.to_thread(
        maillage,
        "report",
        "build",
        "--period",
        "2026-S1",
        "--out",
        str(out),
        database_url=database_url,
        var_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Bilan 2026-S1 écrit" in done.stdout
    assert "100 % Terminé" in done.stderr  # the steps, one a line when stderr is not a terminal
    shared = openpyxl.load_workbook(out / "bilan-reseau-2026-S1.xlsx")["Chiffres clés"]
    assert ("Le réseau et son annuaire", "Structures membres", 3, 2, 1, None) in list(shared.values)
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert [n for n in names if n.startswith("bilan-reseau-2026-S1.")] == [
        "bilan-reseau-2026-S1.docx",
        "bilan-reseau-2026-S1.html",
        "bilan-reseau-2026-S1.pdf",
        "bilan-reseau-2026-S1.xlsx",
    ]


@needs_soffice
async def test_the_coordinations_own_copy_has_exact_small_counts(database_url, tmp_path, app, rt):
    ids = await handmade_network()
    await _referral(ids["a"], ids["b"], at(2026, 2, 1, 9), "accepted", first_answer_at=at(2026, 2, 1, 11))
    for exact, value, change in ((False, "< 5", "–"), (True, 1, 1)):
        out = tmp_path / f"bilan-{exact}"
        flags = ("--exact",) if exact else ()
        done = await asyncio.to_thread(
            maillage,
            "report",
            "build",
            "--period",
            "2026-S1",
            "--out",
            str(out),
            *flags,
            database_url=database_url,
            var_dir=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        rows = list(openpyxl.load_workbook(out / "bilan-reseau-2026-S1.xlsx")["Chiffres clés"].values)
        assert ("Orientations entre structures", "Orientations envoyées", value, 0, change, None) in rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2999-S1"), "n'a pas commencé"),
        (("--period", "S1"), "Période inconnue"),
        (("--from", "2026-02-01", "--to", "2026-01-01"), "avant la date de début"),
        (("--from", "2026-02-01"), "Choisissez une période"),
    ],
)
async def test_the_command_line_refuses_a_bad_period_in_french(database_url, tmp_path, app, args, message):
    done = await asyncio.to_thread(
        maillage,
        "report",
        "build",
        *args,
        "--out",
        str(tmp_path / "x"),
        database_url=database_url,
        var_dir=tmp_path,
    )
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "x").exists()
