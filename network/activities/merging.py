"""When two structures merge (hub.hooks.StructureMerged, inside the merge's transaction): the dropped structure's
activity records continue in the kept one, so its figures and the pack count them there.

Activities, their participants and satisfaction answers, series and redirections move. A free-access tally of
the same place and day in both is added to the kept one's (one row per structure, place and day).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from network.activities.tables import Activity, Feedback, Participant, Series, Tally

if TYPE_CHECKING:
    from hub.runtime import Runtime


async def structure_merged(rt: Runtime, event: Any) -> Mapping[str, int]:
    kept, dropped = event.kept_id, event.dropped_id
    moved = (
        await Activity.update({Activity.structure: kept}).where(Activity.structure == dropped).returning(Activity.id)
    )
    await Participant.update({Participant.structure: kept}).where(Participant.structure == dropped)
    await Feedback.update({Feedback.structure: kept}).where(Feedback.structure == dropped)
    await Activity.update({Activity.redirect_structure: kept}).where(Activity.redirect_structure == dropped)
    series = await Series.update({Series.structure: kept}).where(Series.structure == dropped).returning(Series.id)
    theirs = {(r["place_key"], r["day"]): r for r in await Tally.select().where(Tally.structure == dropped)}
    ours = {(r["place_key"], r["day"]): r for r in await Tally.select().where(Tally.structure == kept)}
    for key, row in theirs.items():
        if key in ours:  # the same place and day counted by both: one count
            await Tally.update({Tally.visits: Tally.visits + row["visits"]}).where(Tally.id == ours[key]["id"])
            await Tally.delete().where(Tally.id == row["id"])
        else:
            await Tally.update({Tally.structure: kept}).where(Tally.id == row["id"])
    return {"activities_moved": len(moved), "activity_series_moved": len(series), "tallies_moved": len(theirs)}
