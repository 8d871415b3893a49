"""Outbox and jobs: mail survives an SMTP outage and arrives once; due work runs, retries, purges."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from litestar import Litestar

from hub import jobs, leases, mail
from hub.app import create_app
from hub.tables import Job, OutboxMessage, WebSession
from tests.conftest import SmtpServer, free_port, make_person, sign_in


async def _queue_invitation_mail(rt, to: str = "lea@ccas.example.fr") -> None:
    await mail.enqueue(
        rt,
        to=to,
        template="invitation",
        context={"token": "t0k3n", "structure": "CCAS", "role": "Aidant", "inviter": "Nadia", "days": 7},
    )


async def test_mail_queued_while_smtp_is_down_arrives_once_when_it_is_back(app, rt, settings):
    port = free_port()  # nothing listens there yet: the SMTP server is "down"
    rt.settings = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}?starttls=0")
    await _queue_invitation_mail(rt)

    report = await jobs.tick(rt)
    assert (report.mails_sent, report.mails_postponed) == (0, 1)
    row = await OutboxMessage.select().first()
    assert row["attempts"] == 1 and row["sent_at"] is None and row["last_error"]
    assert "lea" not in row["last_error"]  # errors keep no address

    server = SmtpServer(port)
    server.start()
    try:
        assert (await jobs.tick(rt)).mails_sent == 0  # backing off: not due yet
        rt.advance_clock(leases.backoff(1) + timedelta(seconds=1))
        assert (await jobs.tick(rt)).mails_sent == 1
        rt.advance_clock(timedelta(hours=2))
        assert (await jobs.tick(rt)).mails_sent == 0  # never twice
        assert len(server.inbox.messages) == 1
        message = server.inbox.messages[0]
        assert message["To"] == "lea@ccas.example.fr"
        assert message["Message-ID"] == row["message_id"]
        assert "/invitation/t0k3n" in message.get_payload(decode=True).decode()
    finally:
        server.stop()
    assert (await OutboxMessage.select().first())["sent_at"] is not None


async def test_backoff_grows_and_is_capped():
    delays = [leases.backoff(n) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(seconds=30) and delays[-1] == leases.MAX_BACKOFF


async def test_a_claimed_message_is_not_sent_by_a_second_worker(app, rt, inbox):
    await _queue_invitation_mail(rt)
    claimed = await mail._claim(rt, 10)
    assert len(claimed) == 1
    assert await mail._claim(rt, 10) == []  # a concurrent worker finds nothing to take
    rt.advance_clock(mail.CLAIM_LEASE + timedelta(seconds=1))  # the first worker died: the lease runs out
    assert (await jobs.tick(rt)).mails_sent == 1
    assert len(inbox.messages) == 1


async def test_failing_job_is_retried_later_then_done(app, rt):
    calls: list[dict] = []

    @jobs.handler("test_flaky")
    async def flaky(runtime, payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")

    await jobs.schedule("test_flaky", rt.now(), {"structure_id": 3}, dedupe_key="flaky-1")
    await jobs.schedule("test_flaky", rt.now(), {"structure_id": 3}, dedupe_key="flaky-1")  # no duplicate
    assert await Job.count() == 1
    assert (await jobs.run_due_jobs(rt)) == (0, 1)
    assert (await jobs.run_due_jobs(rt)) == (0, 0)  # backing off
    rt.advance_clock(timedelta(minutes=5))
    assert (await jobs.run_due_jobs(rt)) == (1, 0)
    assert calls == [{"structure_id": 3}, {"structure_id": 3}]
    job = await Job.select().first()
    assert job["done_at"] is not None and job["attempts"] == 1 and job["last_error"] == "RuntimeError"


async def test_purge_removes_dead_sessions(client, rt, settings):
    person = await make_person(rt, "sophie@caf.example.fr")
    await sign_in(client, person)
    assert await jobs.purge_expired(rt) == 0
    rt.advance_clock(timedelta(minutes=settings.session_idle_minutes + 1))
    assert await jobs.purge_expired(rt) >= 1
    assert await WebSession.count() == 0


async def test_the_app_runs_the_jobs_loop_in_process(settings, smtp_server, inbox):
    app: Litestar = create_app(dataclasses.replace(settings, run_jobs_in_process=True, jobs_interval_seconds=0.05))
    rt = app.state.runtime
    async with app.lifespan():
        await _queue_invitation_mail(rt, "loop@ccas.example.fr")
        for _ in range(100):
            if inbox.to("loop@ccas.example.fr"):
                break
            await asyncio.sleep(0.05)
    assert len(inbox.to("loop@ccas.example.fr")) == 1
