"""Effects across domains: the core announces what happened to a structure or a service, inside the caller's
transaction; the core updates its own rows, then every module subscribed to the event updates its own.

Handlers write rows only (mail leaves through the outbox, after commit). Each returns counts of what it
changed, merged into the announcement's result so the caller can report them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # light at import: modules name these events in their MODULE, read by `maillage --help`
    from hub.runtime import Runtime


@dataclasses.dataclass(frozen=True)
class StructureMerged:
    """`dropped_id` was merged into `kept_id` (the dropped one is closed, never deleted)."""

    kept_id: int
    dropped_id: int


@dataclasses.dataclass(frozen=True)
class StructureClosed:
    structure_id: int


@dataclasses.dataclass(frozen=True)
class ServiceClosed:
    """A directory service stopped (withdrawn or its structure closed): whatever points at it must know."""

    service_id: int
    structure_id: int


Event = StructureMerged | StructureClosed | ServiceClosed


async def announce(rt: Runtime, event: Event) -> dict[str, int]:
    """Run the core's own handling, then each subscribed module's, in the caller's transaction."""
    counts: dict[str, int] = {}
    if isinstance(event, StructureMerged):
        counts.update(await _move_members(event))
    for handler in rt.subscribers(type(event)):
        counts.update(await handler(rt, event))
    return counts


async def _move_members(event: StructureMerged) -> Mapping[str, int]:
    """Members of the dropped structure hold their roles in the kept one; pending invitations follow."""
    from hub.tables import AccessLink, Membership

    held = {
        (r["user"], r["role"])
        for r in await Membership.select(Membership.user, Membership.role).where(Membership.structure == event.kept_id)
    }
    movable, left = [], 0
    for member in await Membership.select().where(Membership.structure == event.dropped_id):
        if (member["user"], member["role"]) in held:
            left += 1  # a role already held in the kept structure stays on the closed one
        else:
            movable.append(member["id"])
    if movable:
        await Membership.update({Membership.structure: event.kept_id}).where(Membership.id.is_in(movable))
    pending = await AccessLink.select(AccessLink.id).where(
        (AccessLink.structure == event.dropped_id) & AccessLink.used_at.is_null()
    )
    if pending:
        await AccessLink.update({AccessLink.structure: event.kept_id}).where(
            AccessLink.id.is_in([r["id"] for r in pending])
        )
    return {"memberships": len(movable), "memberships_left": left, "invitations": len(pending)}
