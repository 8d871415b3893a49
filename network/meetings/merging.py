"""When two structures merge (hub.hooks.StructureMerged, inside the merge's transaction): the dropped structure's
action items are owned by the kept one (still carried to the next agendas while open), its place in an event's
audience and its partner-indicator values follow it. A value the kept structure already gave for the same
indicator, period and neighbourhood is the kept one's word: the dropped one's stays with it, as history.
Invitations and attendance keep the structure people came for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from network.meetings.tables import ActionItem, EventStructure, IndicatorValue

if TYPE_CHECKING:
    from hub.runtime import Runtime


async def structure_merged(rt: Runtime, event: Any) -> Mapping[str, int]:
    kept, dropped = event.kept_id, event.dropped_id
    actions = (
        await ActionItem.update({ActionItem.owner_structure: kept})
        .where(ActionItem.owner_structure == dropped)
        .returning(ActionItem.id)
    )
    invited = {
        r["event"] for r in await EventStructure.select(EventStructure.event).where(EventStructure.structure == kept)
    }
    for row in await EventStructure.select().where(EventStructure.structure == dropped):
        if row["event"] in invited:
            await EventStructure.delete().where(EventStructure.id == row["id"])
        else:
            await EventStructure.update({EventStructure.structure: kept}).where(EventStructure.id == row["id"])
    given = {
        (r["indicator"], r["period"], r["neighbourhood"])
        for r in await IndicatorValue.select().where(IndicatorValue.structure == kept)
    }
    values = 0
    for row in await IndicatorValue.select().where(IndicatorValue.structure == dropped):
        if (row["indicator"], row["period"], row["neighbourhood"]) not in given:
            await IndicatorValue.update({IndicatorValue.structure: kept}).where(IndicatorValue.id == row["id"])
            values += 1
    return {"action_items_moved": len(actions), "indicator_values_moved": values}
