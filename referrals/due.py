"""Referrals' due work, run by the jobs loop: reminders to the receiver, escalation to the coordinator, expiry,
and the anonymisation of residents' data. Each step works in batches inside its own transactions and is
idempotent (a step run twice, or by two processes, does nothing twice: the rows it changes leave its query)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from hub import journal, mail
from hub.db import write_transaction
from hub.journal import Act
from hub.runtime import Runtime
from hub.tables import Structure, User
from referrals import attachments, slots
from referrals.lifecycle import ACTIVE, OPEN
from referrals.module import ReferralSettings
from referrals.service import mail_sender, mail_structure
from referrals.tables import Referral, ReferralEvent

BATCH = 500


def _settings(rt: Runtime) -> ReferralSettings:
    return rt.settings.section(ReferralSettings)


async def remind(rt: Runtime) -> int:
    """Open referrals unanswered for reminder_days (and not reminded since): the receiver is reminded."""
    conf = _settings(rt)
    now = rt.now()
    every = timedelta(days=conf.reminder_days)
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Referral.select(Referral.id, Referral.receiver_structure, Referral.service_name, Referral.created_at)
                .where(
                    Referral.status.is_in(list(OPEN))
                    & (Referral.created_at <= now - every)
                    & (Referral.reminded_at.is_null() | (Referral.reminded_at <= now - every))
                )
                .order_by(Referral.id)
                .limit(BATCH)
            )
            if not rows:
                return done
            await Referral.update({Referral.reminded_at: now}).where(Referral.id.is_in([r["id"] for r in rows]))
            for row in rows:
                days = (now - row["created_at"]).days
                await ReferralEvent.insert(ReferralEvent(referral=row["id"], at=now, action="remind"))
                await mail_structure(
                    rt,
                    row["receiver_structure"],
                    "referral_reminder",
                    row["id"],
                    row["service_name"],
                    days=days,
                    expires_in=max(conf.expiry_days - days, 0),
                )
            done += len(rows)


async def escalate(rt: Runtime) -> int:
    """Open referrals unanswered for escalation_days: every coordinator gets one mail per receiving structure."""
    conf = _settings(rt)
    now = rt.now()
    async with write_transaction():
        rows = await Referral.select(Referral.id, Referral.receiver_structure).where(
            Referral.status.is_in(list(OPEN))
            & (Referral.created_at <= now - timedelta(days=conf.escalation_days))
            & Referral.escalated_at.is_null()
        )
        if not rows:
            return 0
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), BATCH):
            await Referral.update({Referral.escalated_at: now}).where(Referral.id.is_in(ids[start : start + BATCH]))
            await ReferralEvent.insert(
                *[ReferralEvent(referral=i, at=now, action="escalate") for i in ids[start : start + BATCH]]
            )
        per_structure = Counter(r["receiver_structure"] for r in rows)
        names = {
            r["id"]: r["name"]
            for r in await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(list(per_structure)))
        }
        coordinators = await User.select(User.email).where(
            (User.is_coordinator == True) & (User.is_active == True)  # noqa: E712
        )
        for structure_id, count in sorted(per_structure.items()):
            for coordinator in coordinators:
                await mail.enqueue(
                    rt,
                    to=coordinator["email"],
                    template="referral_escalated",
                    context={"count": count, "structure": names.get(structure_id, ""), "days": conf.escalation_days},
                )
    return len(rows)


async def expire(rt: Runtime) -> int:
    """Open referrals unanswered for expiry_days expire; the prescriber is told."""
    conf = _settings(rt)
    now = rt.now()
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Referral.select()
                .where(
                    Referral.status.is_in(list(OPEN)) & (Referral.created_at <= now - timedelta(days=conf.expiry_days))
                )
                .order_by(Referral.id)
                .limit(BATCH)
            )
            if not rows:
                return done
            ids = [r["id"] for r in rows]
            await Referral.update(
                {
                    Referral.status: "expired",
                    Referral.version: Referral.version + 1,
                    Referral.closed_at: now,
                    Referral.updated_at: now,
                }
            ).where(Referral.id.is_in(ids) & Referral.status.is_in(list(OPEN)))
            await ReferralEvent.insert(
                *[
                    ReferralEvent(
                        referral=r["id"], at=now, action="expire", from_status=r["status"], to_status="expired"
                    )
                    for r in rows
                ]
            )
            for row in rows:
                await slots.release(row["id"], now)
                await mail_sender(rt, row, "referral_expired", "expirée", days=conf.expiry_days)
            await journal.append(rt, Act("referrals_expired", None, None, "referral", "", {"count": len(rows)}))
            done += len(rows)


RESIDENT_FIELDS: dict[Any, Any] = {
    Referral.resident_name: "",
    Referral.resident_phone: "",
    Referral.resident_email: "",
    Referral.need: "",
    Referral.note: "",
    Referral.decision_message: "",
    Referral.availability: "[]",
}


async def anonymise(rt: Runtime) -> int:
    """Residents' data of referrals finished for anonymise_months is emptied, their files deleted; the figures
    stay."""
    conf = _settings(rt)
    now = rt.now()
    before = now - timedelta(days=round(30.44 * conf.anonymise_months))
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Referral.select(Referral.id)
                .where(
                    Referral.status.not_in(list(ACTIVE))
                    & (Referral.updated_at <= before)
                    & Referral.anonymised_at.is_null()
                )
                .limit(BATCH)
            )
            if not rows:
                return done
            ids = [r["id"] for r in rows]
            await Referral.update({**RESIDENT_FIELDS, Referral.anonymised_at: now}).where(Referral.id.is_in(ids))
            await attachments.delete_for(ids, now)
            done += len(rows)
