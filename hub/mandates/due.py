"""Mandates' due work, run by the jobs loop: expiry reminders to the structure's aidants, expiry, and the purge
of mandates and residents' data once the retention has passed. Each step works in batches inside its own
transactions and is idempotent (the rows it changes leave its query). Mail goes through the outbox and names
no resident; the journal keeps counts and ids only."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hub import journal, mail
from hub.db import write_transaction
from hub.journal import Act
from hub.mandates.module import MandateSettings
from hub.mandates.rules import event
from hub.mandates.tables import Habilitation, Mandate, Resident
from hub.runtime import Runtime
from hub.tables import Membership, Structure

BATCH = 500


def _settings(rt: Runtime) -> MandateSettings:
    return rt.settings.section(MandateSettings)


async def aidants_of(structure_id: int) -> list[str]:
    """The addresses of the structure's habilitated aidants who are still its members and active."""
    habilitated = await Habilitation.select(Habilitation.user).where(
        (Habilitation.structure == structure_id) & Habilitation.withdrawn_at.is_null()
    )
    ids = [row["user"] for row in habilitated]
    if not ids:
        return []
    members = await Membership.select(Membership.user.email.as_alias("email")).where(
        (Membership.structure == structure_id)
        & Membership.user.is_in(ids)
        & Membership.role.is_in(["aidant", "manager"])
        & (Membership.user.is_active == True)  # noqa: E712
    )
    return sorted({row["email"] for row in members})


async def remind(rt: Runtime) -> int:
    """Active mandates ending within reminder_days, not reminded yet: each structure's aidants get one mail per
    mandate (no name in it: the number, the end date and a link)."""
    today = rt.today()
    soon = today + timedelta(days=_settings(rt).reminder_days)
    now = rt.now()
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Mandate.select(Mandate.id, Mandate.number, Mandate.structure, Mandate.ends_on)
                .where(
                    (Mandate.status == "active")
                    & (Mandate.ends_on >= today)
                    & (Mandate.ends_on <= soon)
                    & Mandate.reminded_at.is_null()
                )
                .order_by(Mandate.id)
                .limit(BATCH)
            )
            if not rows:
                return done
            await Mandate.update({Mandate.reminded_at: now}).where(Mandate.id.is_in([r["id"] for r in rows]))
            names = {
                r["id"]: r["name"]
                for r in await Structure.select(Structure.id, Structure.name).where(
                    Structure.id.is_in(sorted({row["structure"] for row in rows}))
                )
            }
            addresses: dict[int, list[str]] = {}
            for row in rows:
                await event(row["id"], now, None, "remind")
                if row["structure"] not in addresses:
                    addresses[row["structure"]] = await aidants_of(row["structure"])
                for address in addresses[row["structure"]]:
                    await mail.enqueue(
                        rt,
                        to=address,
                        template="mandate_expiring",
                        context={
                            "structure": names.get(row["structure"], ""),
                            "number": row["number"],
                            "ends_on": _french_date(row["ends_on"]),
                            "days": (row["ends_on"] - today).days,
                            "mandate_id": row["id"],
                        },
                    )
            await journal.append(rt, Act("mandates_reminded", None, None, "mandate", "", {"count": len(rows)}))
            done += len(rows)


def _french_date(day: date) -> str:
    """ "1er octobre 2026": the French way."""
    from hub.web import MONTHS_FR

    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"


async def expire(rt: Runtime) -> int:
    """Active mandates past their last day become expired (the pages and the verification say so already)."""
    today = rt.today()
    now = rt.now()
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Mandate.select(Mandate.id, Mandate.structure)
                .where((Mandate.status == "active") & (Mandate.ends_on < today))
                .order_by(Mandate.id)
                .limit(BATCH)
            )
            if not rows:
                return done
            ids = [r["id"] for r in rows]
            await Mandate.update(
                {
                    Mandate.status: "expired",
                    Mandate.expired_at: now,
                    Mandate.updated_at: now,
                    Mandate.version: Mandate.version + 1,
                }
            ).where(Mandate.id.is_in(ids) & (Mandate.status == "active"))
            for mandate_id in ids:
                await event(mandate_id, now, None, "expire")
            per_structure: dict[int, int] = defaultdict(int)
            for row in rows:
                per_structure[row["structure"]] += 1
            for structure_id, count in sorted(per_structure.items()):
                await journal.append(rt, Act("mandates_expired", None, structure_id, "mandate", "", {"count": count}))
            done += len(rows)


async def purge(rt: Runtime) -> int:
    """Mandates whose end (last valid day, revocation or abandonment) is older than the retention are deleted with
    their documents; then residents without any mandate, created before the retention, are deleted too.
    Returns how many mandates and residents went."""
    years = _settings(rt).retention_years
    today = rt.today()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    cutoff_at = rt.now() - (today - cutoff)
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Mandate.select(Mandate.id, Mandate.structure, Mandate.resident)
                .where(
                    (Mandate.status.is_in(["active", "expired"]) & (Mandate.ends_on < cutoff))
                    | ((Mandate.status == "revoked") & (Mandate.revoked_at < cutoff_at))
                    | (Mandate.status.is_in(["draft", "signed", "cancelled"]) & (Mandate.updated_at < cutoff_at))
                )
                .order_by(Mandate.id)
                .limit(BATCH)
            )
            if not rows:
                break
            await Mandate.delete().where(
                Mandate.id.is_in([r["id"] for r in rows])
            )  # scopes, events, revocations cascade
            per_structure: dict[int, int] = defaultdict(int)
            for row in rows:
                per_structure[row["structure"]] += 1
            for structure_id, count in sorted(per_structure.items()):
                await journal.append(rt, Act("mandates_purged", None, structure_id, "mandate", "", {"count": count}))
            done += len(rows)
    async with write_transaction():
        orphans = await Resident.select(Resident.id, Resident.structure).where(
            (Resident.created_at < cutoff_at) & Resident.id.not_in(Mandate.select(Mandate.resident))
        )
        if orphans:
            await Resident.delete().where(Resident.id.is_in([r["id"] for r in orphans]))
            per_structure = defaultdict(int)
            for row in orphans:
                per_structure[row["structure"]] += 1
            for structure_id, count in sorted(per_structure.items()):
                await journal.append(rt, Act("residents_purged", None, structure_id, "resident", "", {"count": count}))
    return done + len(orphans)
