"""A merge of two structures carries the dropped one's open action items, audience places and partner-indicator
values to the kept one (network.meetings.merging, run by the merge's hook in its transaction)."""

from __future__ import annotations

from datetime import date

from hub import accounts
from hub.runtime import Runtime
from network import duplicates
from network.meetings.tables import ActionItem, EventStructure, IndicatorValue, MeetingEvent, PartnerIndicator
from tests.conftest import make_person, make_structure


async def test_a_merge_hands_the_dropped_structures_actions_and_values_to_the_kept_one(rt: Runtime) -> None:
    kept = await make_structure("CCAS de Montclair", "CCAS")
    dropped = await make_structure("C.C.A.S. Montclair", "CCAS")
    event = MeetingEvent(title="Réunion du réseau", day=date(2026, 6, 12), start_time="14:00", end_time="16:00")
    await event.save()
    await EventStructure.insert(
        EventStructure(event=event.id, structure=kept), EventStructure(event=event.id, structure=dropped)
    )
    await ActionItem.insert(ActionItem(event=event.id, title="Mettre à jour les horaires", owner_structure=dropped))
    indicator = PartnerIndicator(label="Nouvelles inscriptions CAF")
    await indicator.save()
    await IndicatorValue.insert(
        IndicatorValue(indicator=indicator.id, structure=kept, period="2026-S1", value=12.0),
        IndicatorValue(indicator=indicator.id, structure=dropped, period="2026-S1", value=5.0),  # kept's word wins
        IndicatorValue(indicator=indicator.id, structure=dropped, period="2025-S2", value=7.0),  # moves
    )
    coordinator = await make_person(rt, "coordination@exemple.fr", coordinator=True)

    await duplicates.merge(rt, await accounts.actor_for_user(coordinator.id), kept, dropped)

    assert [r["owner_structure"] for r in await ActionItem.select(ActionItem.owner_structure)] == [kept]
    assert [r["structure"] for r in await EventStructure.select(EventStructure.structure)] == [kept]  # once
    values = {
        (r["structure"], r["period"]): r["value"]
        for r in await IndicatorValue.select(IndicatorValue.structure, IndicatorValue.period, IndicatorValue.value)
    }
    assert values == {(kept, "2026-S1"): 12.0, (dropped, "2026-S1"): 5.0, (kept, "2025-S2"): 7.0}
