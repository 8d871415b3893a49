"""The activities' section of the network's reporting pack, on the handmade set of test_activities_figures: every
figure beside the previous semester, the tables with their counts, the crowded and empty places, and the section
as the pack's builder collects it from the module."""

from __future__ import annotations

from datetime import date

from hub import accounts
from hub.reporting import Period, percent
from hub.runtime import Runtime
from network.activities import report, workshops
from network.activities.module import MODULE
from network.activities.schemas import RegistrationCreate, SeriesCreate, SessionCreate
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


async def _series(rt: Runtime, actor: accounts.Actor, structure: int, days: list[date], people: int) -> list[int]:
    """A series with its registrations (ids returned, in order) and no session yet; `days` are its sessions'."""
    series = await workshops.create_series(
        rt,
        actor,
        SeriesCreate(structure_id=structure, title="Premiers pas", starts_on=days[0], thematiques=("equipment",)),
    )
    regs = [await workshops.register(rt, actor, structure, series, RegistrationCreate()) for _ in range(people)]
    return [series, *regs]


async def _session(rt: Runtime, actor: accounts.Actor, structure: int, series: int, day: date, came: list[int]) -> None:
    await workshops.record_session(rt, actor, structure, series, SessionCreate(day=day, present=tuple(came)))


async def test_series_attendance_and_dropout_over_the_series_that_met_in_each_semester(rt: Runtime) -> None:
    a, _, actor = await _handmade(rt)
    # 2026-S1, three sessions in March: R1 comes to all three, R2 to the first only (dropped out: absent from the
    # last two), R3 never (not a drop-out: never came), R4 comes once then withdraws (dropped out)
    s1, r1, r2, r3, r4 = await _series(rt, actor, a, [date(2026, 3, 2)], 4)
    await _session(rt, actor, a, s1, date(2026, 3, 2), [r1, r2, r4])
    await workshops.withdraw(rt, actor, a, s1, r4)
    await _session(rt, actor, a, s1, date(2026, 3, 9), [r1])
    await _session(rt, actor, a, s1, date(2026, 3, 16), [r1])
    # 2025-S2 only: both come to both sessions
    s2, r5, r6 = await _series(rt, actor, a, [date(2025, 11, 3)], 2)
    await _session(rt, actor, a, s2, date(2025, 11, 3), [r5, r6])
    await _session(rt, actor, a, s2, date(2025, 11, 10), [r5, r6])
    # across both semesters, counted whole in each: R7 comes to the first of three only (dropped), R8 to all
    s3, r7, r8 = await _series(rt, actor, a, [date(2025, 12, 1)], 2)
    await _session(rt, actor, a, s3, date(2025, 12, 1), [r7, r8])
    await _session(rt, actor, a, s3, date(2025, 12, 8), [r8])
    await _session(rt, actor, a, s3, date(2026, 1, 12), [r8])

    section = await report.report(rt, Period.parse("2026-S1"))
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    # 2026-S1: S1 and S3, 6 registered, 3 + 3 sessions: 18 expected, 5 + 4 present, R2, R4 and R7 dropped
    # 2025-S2: S2 and S3, 4 registered, 2×2 + 2×3 = 10 expected, 4 + 4 present, R7 dropped
    assert values["activities.series_attendance"] == (percent(9, 18), percent(8, 10)) == (50, 80)
    assert values["activities.series_dropout"] == (percent(3, 6), percent(1, 4)) == (50, 25)
