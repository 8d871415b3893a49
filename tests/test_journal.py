"""The audit journal: append-only in the database, hash-chained, and tampering is caught."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from hub import journal
from hub.db import current_engine
from hub.journal import Act
from hub.tables import JournalEntry
from tests.conftest import TEST_SECRET


async def _fill(rt, count: int) -> None:
    for n in range(count):
        await journal.append(rt, Act("test_act", 1, 2, "thing", n, {"n": n, "code": "ok"}))


async def _raw(sql: str) -> None:
    await current_engine().run_ddl(sql)


def _is_postgres() -> bool:
    return current_engine().engine_type == "postgres"


async def _drop_guards() -> None:
    """What an attacker with direct database access would do first."""
    if _is_postgres():
        await _raw("DROP TRIGGER hub_journal_no_change ON hub_journal")
    else:
        await _raw("DROP TRIGGER hub_journal_no_update")
        await _raw("DROP TRIGGER hub_journal_no_delete")


def _cli_verify(settings) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MAILLAGE_SECRET_KEY": TEST_SECRET,
        "MAILLAGE_VAR_DIR": str(settings.var_dir),
    }
    return subprocess.run(  # noqa: S603 (our own console script)
        [sys.executable, "-m", "hub.cli", "journal", "verify"], env=env, capture_output=True, text=True, timeout=60
    )


async def test_entries_chain_and_verify(rt, app):
    await _fill(rt, 5)
    result = await journal.verify(rt.secrets.journal_key)
    assert result.ok and result.checked == 5
    rows = await JournalEntry.select().order_by(JournalEntry.seq)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == "" and all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))


async def test_database_refuses_update_and_delete(rt, app):
    await _fill(rt, 2)
    with pytest.raises(Exception, match="ajout seul"):
        await _raw("UPDATE hub_journal SET action = 'forged' WHERE seq = 1")
    with pytest.raises(Exception, match="ajout seul"):
        await _raw("DELETE FROM hub_journal WHERE seq = 2")
    assert await JournalEntry.count() == 2
    assert (await journal.verify(rt.secrets.journal_key)).ok


async def test_altered_entry_is_named_by_verify_and_the_cli(rt, app, settings):
    await _fill(rt, 4)
    await _drop_guards()
    await _raw("UPDATE hub_journal SET details = '{\"n\":99}' WHERE seq = 3")
    result = await journal.verify(rt.secrets.journal_key)
    assert not result.ok and result.first_bad_seq == 3 and result.reason == "entrée modifiée"
    completed = await asyncio.to_thread(_cli_verify, settings)
    assert completed.returncode == 1
    assert "entrée n° 3" in completed.stderr


async def test_removed_entry_in_the_middle_is_caught(rt, app):
    await _fill(rt, 4)
    await _drop_guards()
    await _raw("DELETE FROM hub_journal WHERE seq = 2")
    result = await journal.verify(rt.secrets.journal_key)
    assert not result.ok and result.first_bad_seq == 2 and result.reason == "entrée manquante"


async def test_cut_tail_is_caught(rt, app):
    await _fill(rt, 4)
    await _drop_guards()
    await _raw("DELETE FROM hub_journal WHERE seq >= 3")
    result = await journal.verify(rt.secrets.journal_key)
    assert not result.ok and result.first_bad_seq == 3 and result.reason == "fin du journal supprimée"


async def test_entry_forged_without_the_key_is_caught(rt, app):
    await _fill(rt, 2)
    forged_key = b"x" * 32
    await journal.append_signed(forged_key, Act("forged_act"), rt.now())
    result = await journal.verify(rt.secrets.journal_key)
    assert not result.ok and result.first_bad_seq == 3


async def test_cli_verify_passes_on_an_intact_journal(rt, app, settings):
    await _fill(rt, 3)
    completed = await asyncio.to_thread(_cli_verify, settings)
    assert completed.returncode == 0, completed.stderr
    assert "3 entrées vérifiées" in completed.stdout


@pytest.mark.parametrize(
    "details", [{"note": "Jeanne Dupont"}, {"email": "jeanne@example.fr"}, {"Bad-Key": 1}, {"x": 1.5}]
)
async def test_details_refuse_free_text_and_personal_data(rt, app, details):
    with pytest.raises(ValueError):
        await journal.append(rt, Act("test_act", details=details))
    assert await JournalEntry.count() == 0


async def test_concurrent_appends_keep_one_unbroken_chain(rt, client):
    await asyncio.gather(*[journal.append(rt, Act("concurrent_act", object_id=n)) for n in range(25)])
    result = await journal.verify(rt.secrets.journal_key)
    assert result.ok and result.checked == 25


# ---------------------------------------------------------------- recorded full checks
async def test_page_verifies_only_what_follows_the_last_full_check_and_shows_it(client, rt):
    from hub import jobs
    from tests.conftest import make_person, sign_in

    await sign_in(client, await make_person(rt, "coord@reseau.example.fr", coordinator=True))
    await _fill(rt, 4)
    first = await client.get("/journal")
    assert "Chaîne intacte" in first.text and "Dernière vérification complète" not in first.text  # none recorded yet

    report = await jobs.tick(rt)  # the daily full check is due: it runs and is recorded
    assert report.journal_checked and report.journal_ok
    assert (await jobs.tick(rt)).journal_checked is False  # not twice the same day
    await _fill(rt, 2)
    status = await journal.status(rt.secrets.journal_key)
    # the sign-in left entries too: everything up to the check is counted there, the 2 new ones verified now
    assert status.ok and status.full_check_at is not None and status.since_checked == 2
    page = await client.get("/journal")
    assert "Dernière vérification complète le" in page.text
    assert "Les 2 entrées ajoutées depuis viennent d'être vérifiées." in page.text


async def test_tampering_after_the_last_full_check_shows_at_once(client, rt):
    await _fill(rt, 3)
    await journal.full_check(rt.secrets.journal_key, rt.now())
    await _fill(rt, 3)
    await _drop_guards()
    await _raw("UPDATE hub_journal SET details = '{\"n\":99}' WHERE seq = 5")
    status = await journal.status(rt.secrets.journal_key)
    assert not status.ok and status.first_bad_seq == 5 and status.reason == "entrée modifiée"


async def test_tampering_before_it_is_caught_by_the_next_full_check_which_alerts_the_admins(client, rt, inbox):
    from hub import jobs
    from tests.conftest import make_person

    await make_person(rt, "admin@reseau.example.fr", admin=True)
    await _fill(rt, 5)
    assert (await jobs.tick(rt)).journal_ok
    await _drop_guards()
    await _raw("UPDATE hub_journal SET action = 'forged' WHERE seq = 2")
    rt.advance_clock(journal.FULL_CHECK_EVERY)
    report = await jobs.tick(rt)
    assert report.journal_checked and not report.journal_ok
    await jobs.tick(rt)  # delivers the alert
    [message] = inbox.to("admin@reseau.example.fr")
    assert message["Subject"] == "Maillage : alerte sur le journal des actions"
    body = message.get_payload(decode=True).decode()
    assert "Entrée concernée : n° 2" in body and "Motif : entrée modifiée" in body
    # and from now on the page reports the failed full check, whatever the newer entries
    status = await journal.status(rt.secrets.journal_key)
    assert not status.ok and status.first_bad_seq == 2


async def test_a_check_row_forged_in_the_database_is_ignored(rt, app):
    await _fill(rt, 3)
    await _drop_guards()
    await _raw("UPDATE hub_journal SET action = 'forged' WHERE seq = 1")
    # a forger records a "good" check after the altered entry, without the key
    await _raw(
        "INSERT INTO hub_journal_check (checked_at, ok, entries, last_seq, last_hash, reason, seal) "
        "VALUES (CURRENT_TIMESTAMP, true, 3, 3, (SELECT hash FROM hub_journal WHERE seq = 3), '', 'forged')"
    )
    status = await journal.status(rt.secrets.journal_key)
    assert not status.ok and status.first_bad_seq == 1 and status.full_check_at is None


async def test_the_button_runs_a_full_check(client, rt):
    from tests.conftest import make_person, post_form, sign_in

    await sign_in(client, await make_person(rt, "coord@reseau.example.fr", coordinator=True))
    await _fill(rt, 3)
    done = await post_form(client, "/journal/verifier")
    assert "Journal vérifié en entier" in done.text and "entrées intactes" in done.text
    await _drop_guards()
    await _raw("DELETE FROM hub_journal WHERE seq = 2")
    alarm = await post_form(client, "/journal/verifier")
    assert "Journal altéré à l&#39;entrée n° 2 : entrée manquante." in alarm.text
