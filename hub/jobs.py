"""Due work kept in the database, run by `maillage jobs run` (cron) or by the app's own loop."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from hub import journal, leases, mail, throttle
from hub.runtime import Runtime
from hub.tables import AccessLink, Job, LoginFailure, User, WebSession

log = logging.getLogger("maillage.jobs")

JobHandler = Callable[[Runtime, dict[str, Any]], Awaitable[None]]
HANDLERS: dict[str, JobHandler] = {}
CLAIM_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8
LINK_KEEP = timedelta(days=30)
_WAKERS: weakref.WeakKeyDictionary[Runtime, asyncio.Event] = weakref.WeakKeyDictionary()


def _handlers(rt: Runtime) -> dict[str, JobHandler]:
    found = dict(HANDLERS)
    for module in rt.modules:
        found.update(module.job_handlers)
    return found


def handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register a coroutine that runs jobs of this kind (modules declare theirs in Module.job_handlers)."""

    def register(fn: JobHandler) -> JobHandler:
        HANDLERS[kind] = fn
        return fn

    return register


@dataclasses.dataclass
class TickReport:
    mails_sent: int = 0
    mails_postponed: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    purged: int = 0
    journal_checked: bool = False
    journal_ok: bool = True
    work: dict[str, int] = dataclasses.field(default_factory=dict)  # "<module>.<work>" -> things done
    labels: dict[str, str] = dataclasses.field(default_factory=dict)  # the same keys -> French label

    def work_lines(self) -> list[str]:
        return [f"{self.labels[key]} : {count}" for key, count in self.work.items()]


async def schedule(
    kind: str, due_at: datetime, payload: dict[str, Any] | None = None, dedupe_key: str | None = None
) -> None:
    """Queue a job; a dedupe_key makes scheduling the same work twice a no-op."""
    if dedupe_key and await Job.exists().where(Job.dedupe_key == dedupe_key):
        return
    await Job.insert(Job(kind=kind, due_at=due_at, payload=payload or {}, dedupe_key=dedupe_key))


async def _claim_jobs(rt: Runtime, limit: int) -> list[dict[str, Any]]:
    now = rt.now()
    return await leases.claim(
        Job,
        Job.done_at.is_null() & (Job.due_at <= now) & (Job.attempts < MAX_ATTEMPTS),
        order_by=Job.due_at,
        limit=limit,
        now=now,
        lease=CLAIM_LEASE,
    )


async def run_due_jobs(rt: Runtime, limit: int = 20) -> tuple[int, int]:
    done = failed = 0
    for row in await _claim_jobs(rt, limit):
        fn = _handlers(rt).get(row["kind"])
        try:
            if fn is None:
                raise LookupError(f"no handler for job kind {row['kind']}")
            payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
            await fn(rt, payload)
        except Exception as error:  # a failing job must not stop the others; it is retried later
            attempts = row["attempts"] + 1
            log.exception("job %s #%s failed (attempt %d)", row["kind"], row["id"], attempts)
            await Job.update(
                {
                    Job.attempts: attempts,
                    Job.claimed_until: None,
                    Job.due_at: rt.now() + leases.backoff(attempts),
                    Job.last_error: type(error).__name__,
                }
            ).where(Job.id == row["id"])
            failed += 1
        else:
            await Job.update({Job.done_at: rt.now(), Job.claimed_until: None}).where(Job.id == row["id"])
            done += 1
    return done, failed


async def purge_expired(rt: Runtime) -> int:
    """Retention of the core's own traces: dead sessions, old sign-in failures, spent links."""
    now = rt.now()
    idle = now - timedelta(minutes=rt.settings.session_idle_minutes)
    too_old = now - timedelta(hours=rt.settings.session_max_hours)
    purged = 0
    purged += len(
        await WebSession.delete()
        .where((WebSession.last_seen_at < idle) | (WebSession.created_at < too_old))
        .returning(WebSession.id)
    )
    purged += len(
        await LoginFailure.delete().where(LoginFailure.at < now - timedelta(days=1)).returning(LoginFailure.id)
    )
    purged += await throttle.purge(rt)
    purged += len(await AccessLink.delete().where(AccessLink.expires_at < now - LINK_KEEP).returning(AccessLink.id))
    return purged


async def check_journal(rt: Runtime) -> journal.Verification | None:
    """Once a day, verify the whole journal; when it fails, every active admin gets an alert."""
    now = rt.now()
    if not await journal.full_check_due(now):
        return None
    result = await journal.full_check(rt.secrets.journal_key, now)
    if not result.ok:
        log.error("journal altéré : entrée n° %s (%s)", result.first_bad_seq, result.reason)
        admins = await User.select(User.email).where((User.is_admin == True) & (User.is_active == True))  # noqa: E712
        for admin in admins:
            await mail.enqueue(
                rt,
                to=admin["email"],
                template="journal_alert",
                context={"seq": result.first_bad_seq, "reason": result.reason},
            )
    return result


async def tick(rt: Runtime) -> TickReport:
    report = TickReport()
    report.mails_sent, report.mails_postponed = await mail.deliver_due(rt)
    report.jobs_done, report.jobs_failed = await run_due_jobs(rt)
    report.purged = await purge_expired(rt)
    for module in rt.modules:
        for work in module.periodic:
            key = f"{module.name}.{work.name}"
            report.labels[key] = work.label
            try:
                report.work[key] = await work.run(rt)
            except Exception:  # one module's failure must not stop the others' work nor the mail
                log.exception("periodic work %s failed", key)
                report.work[key] = 0
    checked = await check_journal(rt)
    if checked is not None:
        report.journal_checked, report.journal_ok = True, checked.ok
    return report


def wake(rt: Runtime) -> None:
    """A job was just queued for now: this process's loop ticks at once instead of at its next interval (no-op
    without a loop in this process: `maillage jobs run` or another process's loop takes the job)."""
    event = _WAKERS.get(rt)
    if event is not None:
        event.set()


async def loop(rt: Runtime, stop: asyncio.Event) -> None:
    """Run tick() every interval (or when woken) until stop is set; an error in one tick never ends the loop."""
    woken = _WAKERS.setdefault(rt, asyncio.Event())
    while not stop.is_set():
        woken.clear()
        try:
            await tick(rt)
        except Exception:
            log.exception("jobs tick failed")
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
        await asyncio.wait(waits, timeout=rt.settings.jobs_interval_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
