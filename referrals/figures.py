"""Referrals' figures: per structure (each sees its own, the coordinator all) and the flows between kinds of
structures. Counts are aggregated in SQL; no resident's data is read.

Definitions (the reporting pack will use the same): a referral counts in the period of its sending date.
- sent / received: referrals a structure sent / received in the period (redirected ones count where they went);
- acceptance rate: accepted or closed ÷ decided (accepted, closed, refused, redirected), rounded to the unit,
  0 when nothing was decided;
- median time to first answer: median of (first answer − sending) over referrals answered, in hours;
- expiry rate: expired ÷ received, rounded to the unit, 0 when none was received.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from hub.tables import Structure
from referrals.tables import Referral


def rate(part: int, whole: int) -> int:
    """A percentage rounded half up to the unit; 0 when the whole is 0."""
    return 0 if whole == 0 else int(100 * part / whole + 0.5)


async def structure_figures(
    structure_ids: Sequence[int] | None, since: datetime, until: datetime, *, with_delays: bool = True
) -> list[dict[str, Any]]:
    """One row per structure that sent or received in the period (all of them when structure_ids is None).

    with_delays=False leaves out the median time to first answer (None), which reads every answered referral."""
    period = (Referral.created_at >= since) & (Referral.created_at < until)
    received: dict[int, dict[str, int]] = {}
    for row in await (
        Referral.select(Referral.receiver_structure, Referral.status, Count(alias="n"))
        .where(period)
        .group_by(Referral.receiver_structure, Referral.status)
    ):
        received.setdefault(row["receiver_structure"], {})[row["status"]] = row["n"]
    sent: dict[int, int] = {}
    for row in await (
        Referral.select(Referral.sender_structure, Count(alias="n"))
        .where(period & Referral.redirected_from.is_null())
        .group_by(Referral.sender_structure)
    ):
        sent[row["sender_structure"]] = row["n"]
    delays: dict[int, list[float]] = {}
    for row in (
        []
        if not with_delays
        else await Referral.select(Referral.receiver_structure, Referral.created_at, Referral.first_answer_at).where(
            period & Referral.first_answer_at.is_not_null()
        )
    ):
        delays.setdefault(row["receiver_structure"], []).append(
            (row["first_answer_at"] - row["created_at"]).total_seconds() / 3600
        )
    wanted = set(received) | set(sent)
    if structure_ids is not None:
        wanted &= set(structure_ids)
        wanted |= set(structure_ids)  # a structure of one's own shows even with nothing in the period
    if not wanted:
        return []
    names = {
        row["id"]: row
        for row in await Structure.select(Structure.id, Structure.name, Structure.kind).where(
            Structure.id.is_in(sorted(wanted))
        )
    }
    rows = []
    for structure_id in sorted(wanted, key=lambda sid: (names.get(sid, {}).get("name", ""), sid)):
        counts = received.get(structure_id, {})
        total = sum(counts.values())
        accepted = counts.get("accepted", 0) + counts.get("closed", 0)
        decided = accepted + counts.get("refused", 0) + counts.get("redirected", 0)
        found = delays.get(structure_id)
        rows.append(
            {
                "structure_id": structure_id,
                "name": names.get(structure_id, {}).get("name", ""),
                "kind": names.get(structure_id, {}).get("kind", ""),
                "sent": sent.get(structure_id, 0),
                "received": total,
                "accepted": accepted,
                "refused": counts.get("refused", 0),
                "redirected": counts.get("redirected", 0),
                "expired": counts.get("expired", 0),
                "open": counts.get("sent", 0) + counts.get("in_review", 0),
                "acceptance_rate": rate(accepted, decided),
                "median_first_answer_hours": round(statistics.median(found), 1) if found else None,
                "expiry_rate": rate(counts.get("expired", 0), total),
            }
        )
    return rows


async def flows(since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Referrals between kinds of structures in the period (who sends to whom), largest first."""
    rows = await Referral.raw(
        """SELECT s.kind AS sender_kind, r.kind AS receiver_kind, COUNT(*) AS count
           FROM referrals_referral f
           JOIN network_structure s ON s.id = f.sender_structure
           JOIN network_structure r ON r.id = f.receiver_structure
           WHERE f.created_at >= {} AND f.created_at < {}
           GROUP BY s.kind, r.kind
           ORDER BY count DESC, sender_kind, receiver_kind""",
        since,
        until,
    )
    return [dict(row) for row in rows]
