"""The activities' section of the network's reporting pack, on the handmade set of test_activities_figures: every
figure beside the previous semester, the tables with their counts, the crowded and empty places, and the section
as the pack's builder collects it from the module."""

from __future__ import annotations

from hub.reporting import Period
from hub.runtime import Runtime
from network.activities import report
from network.activities.module import MODULE
from tests.test_activities_figures import _handmade


async def test_the_activities_section_beside_the_previous_semester(rt: Runtime) -> None:
    a, b, _ = await _handmade(rt)
    section = await report.report(rt, Period.parse("2026-S1"))
    assert (section.key, section.order, section.empty) == ("activities", 40, False)
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    # 2026-S1: A's four activities (7 people) and B's one; 2025-S2: A's single activity of 31 December
    assert values["activities.activities"] == (5, 1)
    assert values["activities.accompaniments"] == (8, 1)
    assert values["activities.workshops"] == (1, 0)
    assert values["activities.workshop_participants"] == (4, 0)
    assert values["activities.free_access_visits"] == (10, 0)
    assert values["activities.redirected"] == (1, 0)
    assert values["activities.satisfaction_mean"] == (4.0, None)  # 5 and 3 told, 4 answered; nothing before
    assert values["activities.satisfaction_count"] == (3, 0)
    assert values["activities.series_attendance"] == (0.0, 0.0)  # no series: 0, never a division by zero
    tables = {t.key: t for t in section.tables}
    thematiques = dict((row[0], row[1:]) for row in tables["activites_thematiques"].rows)
    assert [row for label, row in thematiques.items() if "mail" in label.lower()] == [(3, 1)]  # A's two, B's one
    months = tables["activites_mois"].rows
    assert [row[1] for row in months] == [2, 2, 1, 0, 0, 0]  # in the calendar's order, zeros kept
    places = tables["frequentation_lieux"].rows
    assert ("Espace numérique A – Accueil", 0, 10) in places  # the tally's visits
    assert places[0][0].startswith("Espace numérique A")  # the busiest first
    assert {i.key for i in section.indicators} >= {"activities.activities", "activities.per_place"}


async def test_the_module_gives_its_section_to_the_pack(rt: Runtime) -> None:
    assert MODULE.report is not None
    empty = await MODULE.report(rt, Period.parse("2025-S1"))
    assert empty.empty  # nothing recorded: the pack says "aucune donnée"


async def test_a_merge_carries_the_dropped_structures_activities_to_the_kept_one(rt: Runtime) -> None:
    from datetime import date

    from network import duplicates
    from network.activities import figures
    from network.activities.tables import Activity, Tally
    from tests.conftest import make_person

    a, b, _ = await _handmade(rt)  # A: 4 activities in 2026-S1 and 10 visits on 10 January; B: 1 activity
    await Tally.insert(Tally(structure=b, place_key=0, place_label="Accueil", day=date(2026, 1, 10), visits=3))
    await Tally.insert(Tally(structure=b, place_key=0, place_label="Accueil", day=date(2026, 1, 11), visits=2))
    coordinator = await make_person(rt, "coordination@exemple.fr", coordinator=True)
    from hub import accounts

    outcome = await duplicates.merge(rt, await accounts.actor_for_user(coordinator.id), a, b)
    assert outcome is not None
    assert await Activity.count().where(Activity.structure == b) == 0
    kept = await figures.structure_figures(rt, [a], date(2026, 1, 1), date(2026, 6, 30))
    assert (kept.activities, kept.accompaniments) == (5, 8)  # B's activity counts in A now
    assert kept.free_access_visits == 15  # 10 + 3 on the same day (one row), + 2 the next day
    assert await Tally.count().where(Tally.structure == a) == 2
