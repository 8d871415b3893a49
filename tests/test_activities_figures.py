"""Activity figures on a handmade set, every number computed by hand (network.activities.figures), and the rules
every recorded activity passes (French messages, nothing written when one fails)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hub import accounts
from hub.errors import Invalid, NotFound
from hub.runtime import Runtime
from network.activities import figures, service
from network.activities.schemas import ActivityCreate, Profile
from network.activities.tables import Activity, Feedback, FeedbackCode, Participant, Tally
from tests.conftest import make_person, make_structure

JAN, JUN = date(2026, 1, 1), date(2026, 6, 30)


def test_means_round_half_up_to_one_decimal() -> None:
    """Percentages follow the pack's one rule (hub.reporting.percent, tests/test_reporting.py)."""
    assert figures.mean_tenths(12, 3) == 4.0 and figures.mean_tenths(13, 3) == 4.3 and figures.mean_tenths(0, 0) is None


async def _handmade(rt: Runtime) -> tuple[int, int, accounts.Actor]:
    a = await make_structure("Espace numérique A")
    b = await make_structure("Espace numérique B")
    person = await make_person(rt, "mediatrice@exemple.fr", {a: ["prescriber"], b: ["prescriber"]})
    actor = await accounts.actor_for_user(person.id)
    records = [
        ActivityCreate(
            structure_id=a,
            day=date(2026, 1, 10),
            duration=30,
            thematiques=("email", "procedures"),
            materials=("computer",),
            referral_id=7,  # sent by a partner: the channel follows, whatever was ticked
            profiles=(Profile("60-69", "f", "retired", "45999", "Montclair", "", "internet", True, 5),),
        ),
        ActivityCreate(
            structure_id=a,
            day=date(2026, 2, 3),
            duration=45,
            thematiques=("email",),
            profiles=(Profile("70+", "m", "retired", channel="word_of_mouth", first_visit=False, satisfaction=3),),
        ),
        ActivityCreate(
            structure_id=a,
            day=date(2026, 2, 20),
            kind="workshop",
            duration=120,
            thematiques=("browsing",),
            participants=4,
            profiles=(Profile("25-39", "f", "employed"),),
        ),
        ActivityCreate(
            structure_id=a,
            day=date(2026, 3, 5),
            duration=90,
            thematiques=("procedures",),
            demarches=("money",),
            redirect_category="social",
        ),
        ActivityCreate(structure_id=a, day=date(2025, 12, 31), thematiques=("email",)),  # before the period
        ActivityCreate(structure_id=b, day=date(2026, 1, 15), thematiques=("email",)),  # another structure
    ]
    for command in records:
        await service.record(rt, actor, command)
    workshop = await Activity.select(Activity.id).where(Activity.kind == "workshop").first()
    code = FeedbackCode(code="c" * 20, activity=workshop["id"], expires_at=rt.now() + timedelta(days=1))
    await code.save()
    await Feedback.insert(
        Feedback(
            code=code.id, activity=workshop["id"], structure=a, day=date(2026, 2, 20), satisfaction=4, channel="poster"
        )
    )
    await Tally.insert(Tally(structure=a, place_key=0, place_label="Accueil", day=date(2026, 1, 10), visits=10))
    return a, b, actor


def _count(shares: list[figures.Share], code: str) -> tuple[int, int]:
    found = next(s for s in shares if s.code == code)
    return found.count, found.percent


async def test_a_structures_figures_on_a_handmade_set(rt: Runtime) -> None:
    a, b, _ = await _handmade(rt)
    f = await figures.structure_figures(rt, [a], JAN, JUN)
    assert (f.activities, f.individual, f.workshops) == (4, 3, 1)
    assert (f.accompaniments, f.workshop_participants) == (7, 4)  # 1 + 1 + 4 + 1
    assert (f.new_people, f.followed_people, f.unique_people) == (1, 1, 1)
    assert f.redirected == 1
    assert (f.satisfaction_count, f.satisfaction_mean, f.answers) == (3, 4.0, 1)  # 5, 3 told; 4 answered
    assert f.free_access_visits == 10
    assert _count(f.shares("thematique"), "email") == (2, 50.0)
    assert _count(f.shares("thematique"), "procedures") == (2, 50.0)
    assert _count(f.shares("thematique"), "browsing") == (1, 25.0)
    assert _count(f.shares("thematique"), "ai") == (0, 0)  # the whole list, zeros too
    assert _count(f.shares("duration"), "lt30") == (0, 0)
    assert _count(f.shares("duration"), "30-60") == (2, 50.0)  # 30 and 45 min
    assert _count(f.shares("duration"), "60-120") == (2, 50.0)  # 120 and 90 min
    assert _count(f.shares("age"), "60-69") == (1, 14.3)  # of 7 people: one decimal, half up
    assert _count(f.shares("age"), "nc") == (4, 57.1)
    assert _count(f.shares("gender"), "f") == (2, 28.6)
    assert _count(f.shares("channel"), "partner") == (1, 14.3)
    assert _count(f.shares("channel"), "internet") == (0, 0)
    assert _count(f.shares("channel"), "nc") == (5, 71.4)
    assert _count(f.shares("answer_channel"), "poster") == (1, 100.0)
    assert _count(f.shares("demarche"), "money") == (1, 25.0)
    assert [(s.code, s.count) for s in f.shares("month")] == [
        ("2026-01", 1),
        ("2026-02", 2),
        ("2026-03", 1),
        ("2026-04", 0),
        ("2026-05", 0),
        ("2026-06", 0),
    ]
    assert _count(f.shares("commune"), "Montclair") == (1, 14.3)
    assert _count(f.shares("satisfaction"), "5") == (1, 33.3)

    network, lines = await figures.network_figures(rt, JAN, JUN)
    assert network.activities == 5 and network.accompaniments == 8
    assert [(line["structure_id"], line["activities"], line["people"]) for line in lines] == [(a, 4, 7), (b, 1, 1)]
    assert [line["share"] for line in lines] == [87.5, 12.5]  # of 8 people
    empty = await figures.structure_figures(rt, [a], date(2024, 1, 1), date(2024, 1, 31))
    assert empty.activities == 0 and all(s.percent == 0 for s in empty.shares("age"))


async def test_bad_activities_are_refused_in_french_and_nothing_is_written(rt: Runtime) -> None:
    a = await make_structure("Espace numérique A")
    other = await make_structure("Centre social B")
    person = await make_person(rt, "mediateur@exemple.fr", {a: ["prescriber"]})
    actor = await accounts.actor_for_user(person.id)
    bad = ActivityCreate(
        structure_id=a,
        day=rt.today() + timedelta(days=1),
        duration=900,
        thematiques=("astrologie",),
        participants=5,
        profiles=(Profile(age_band="99+"),),
    )
    with pytest.raises(Invalid) as caught:
        await service.record(rt, actor, bad)
    fields = caught.value.fields
    assert "futur" in fields["day"]
    assert "480" in fields["duration"]
    assert "astrologie" in fields["thematiques"]
    assert "individuel" in fields["participants"]
    assert "99+" in fields["age_band"]
    negative = ActivityCreate(structure_id=a, day=rt.today(), duration=-5, thematiques=("email",))
    with pytest.raises(Invalid, match="corrigez") as caught:
        await service.record(rt, actor, negative)
    assert "positif" in caught.value.fields["duration"]
    six_of_five = ActivityCreate(
        structure_id=a,
        day=rt.today(),
        kind="workshop",
        participants=5,
        thematiques=("email",),
        profiles=(Profile(),) * 6,
    )
    with pytest.raises(Invalid) as caught:
        await service.record(rt, actor, six_of_five)
    assert "6 personnes décrites pour 5" in caught.value.fields["participants"]
    with pytest.raises(NotFound):  # another structure's: as if it did not exist
        await service.record(rt, actor, ActivityCreate(structure_id=other, day=rt.today(), thematiques=("email",)))
    assert await Activity.count() == 0 and await Participant.count() == 0
