"""Referrals: sending, the life of a referral, who sees it, mail without personal data, due work, routing."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import accounts, jobs
from hub.accounts import Actor
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.runtime import Runtime
from hub.tables import User
from referrals import lifecycle, routing, service
from referrals.schemas import ReferralCreate, RouteRequest, Transition
from referrals.tables import Referral, ReferralEvent
from tests.conftest import Inbox, make_person, make_service, make_structure

DEMARCHES = "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"
EN_LIGNE = "numerique--acceder-a-des-services-en-ligne"
RESIDENT = "Awa Diallo"
PHONE = "06 39 98 12 34"


@dataclasses.dataclass
class Town:
    a: int  # sends
    b: int  # receives
    c: int  # has nothing to do with it
    service: int  # B's, takes referrals
    other: int  # B's too, for redirections
    closed_door: int  # B's, takes no referral
    sender: Actor
    receiver: Actor
    outsider: Actor
    coordinator: Actor
    sender_email: str
    receiver_email: str


async def _actor(user_id: int) -> Actor:
    return await accounts.actor_for_user(user_id)


@pytest.fixture
async def town(rt: Runtime) -> Town:
    a = await make_structure("CAF du Loiret", "CAF", latitude=47.90, longitude=2.12)
    b = await make_structure("Centre social de la Roseraie", "CS", latitude=47.89, longitude=2.11)
    c = await make_structure("Médiathèque des Aubiers", "BIB")
    hours = "Mo-Fr 09:00-12:00,14:00-17:00"
    svc = await make_service(
        b,
        "Aide aux démarches en ligne",
        accepts_referrals=True,
        thematiques=[DEMARCHES],
        opening_hours=hours,
        weekly_capacity=10,
        places=[
            {"name": "Accueil", "latitude": 47.89, "longitude": 2.11, "commune": "Montclair", "opening_hours": hours}
        ],
    )
    other = await make_service(b, "Atelier numérique", accepts_referrals=True, thematiques=[EN_LIGNE])
    closed_door = await make_service(b, "Accès libre", accepts_referrals=False, thematiques=[EN_LIGNE])
    sender = await make_person(rt, "sophie@caf.example.fr", {a: ["prescriber"]})
    receiver = await make_person(rt, "karim@roseraie.example.fr", {b: ["prescriber"]})
    outsider = await make_person(rt, "lea@aubiers.example.fr", {c: ["prescriber"]})
    coordinator = await make_person(rt, "coordination@reseau.example.fr", coordinator=True)
    return Town(
        a,
        b,
        c,
        svc,
        other,
        closed_door,
        await _actor(sender.id),
        await _actor(receiver.id),
        await _actor(outsider.id),
        await _actor(coordinator.id),
        sender.email,
        receiver.email,
    )


def referral_for(service_id: int, **changes: Any) -> ReferralCreate:
    values: dict[str, Any] = {
        "service_id": service_id,
        "thematiques": [DEMARCHES],
        "need": "Déclarer ses ressources trimestrielles",
        "resident_name": RESIDENT,
        "resident_phone": PHONE,
        "availability": ["tu-am"],
        "consent_method": "oral",
        "consent_confirmed": True,
    }
    return ReferralCreate(**(values | changes))


async def _deliver(rt: Runtime) -> None:
    await jobs.tick(rt)


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _mail_text(message: Any) -> str:
    return f"{_subject(message)}\n{message.get_payload(decode=True).decode()}"


# ---------------------------------------------------------------- the whole loop
async def test_the_prescriber_learns_what_became_of_the_referral_without_a_phone_call(
    rt: Runtime, town: Town, inbox: Inbox
) -> None:
    referral_id, created = await service.create(rt, town.sender, referral_for(town.service))
    assert created
    await _deliver(rt)
    [arrival] = inbox.to(town.receiver_email)
    assert _subject(arrival) == "Nouvelle orientation reçue" and f"/orientations/{referral_id}" in _mail_text(arrival)

    rows, counts, total = await service.inbox(town.receiver, "received")
    assert [r["id"] for r in rows] == [referral_id] and counts["sent"] == 1 and total == 1
    assert (await service.read(town.receiver, referral_id)).actions == ["review", "accept", "refuse", "redirect"]
    assert (await service.read(town.sender, referral_id)).actions == ["amend", "cancel"]

    assert await service.transition(rt, town.receiver, referral_id, Transition(action="accept")) == "accepted"
    assert (
        await service.transition(rt, town.receiver, referral_id, Transition(action="close", outcome="helped"))
        == "closed"
    )
    await _deliver(rt)
    told = inbox.to(town.sender_email)
    assert len(told) == 2 and all("a avancé" in _subject(m) for m in told)
    assert "acceptée" in _mail_text(told[0]) and "clôturée" in _mail_text(told[1])

    seen = await service.read(town.sender, referral_id)
    assert (seen.status, seen.outcome) == ("closed", "helped")
    assert [e.action for e in seen.timeline] == ["send", "accept", "close"]
    assert [e.by for e in seen.timeline] == [
        "la structure qui oriente",
        "le service qui reçoit",
        "le service qui reçoit",
    ]


async def test_no_mail_carries_personal_data(rt: Runtime, town: Town, inbox: Inbox) -> None:
    first, _ = await service.create(rt, town.sender, referral_for(town.service, note="Préfère être appelée le matin"))
    await service.transition(rt, town.sender, first, Transition(action="amend", message="Elle a changé de numéro"))
    await service.transition(
        rt, town.receiver, first, Transition(action="refuse", reason="full", message="Plus de place en décembre")
    )
    second, _ = await service.create(rt, town.sender, referral_for(town.service))
    await service.transition(rt, town.receiver, second, Transition(action="redirect", service_id=town.other))
    rt.advance_clock(timedelta(days=31))
    await _deliver(rt)
    assert len(inbox.messages) >= 5
    for message in inbox.messages:
        text = _mail_text(message)
        for secret in (RESIDENT, "Awa", "Diallo", PHONE, "06 39 98", "ressources", "matin", "numéro", "décembre"):
            assert secret not in text, (_subject(message), secret)


# ---------------------------------------------------------------- who sees what
async def test_nobody_outside_the_two_structures_reads_a_referral(rt: Runtime, town: Town) -> None:
    referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
    for stranger in (town.outsider, town.coordinator):
        with pytest.raises(NotFound):
            await service.read(stranger, referral_id)
        with pytest.raises(NotFound):
            await service.transition(rt, stranger, referral_id, Transition(action="accept"))
        assert (await service.inbox(stranger, "received"))[0] == []
    assert (await service.read(town.receiver, referral_id)).resident_name == RESIDENT


async def test_an_impossible_transition_is_a_conflict_and_changes_nothing(rt: Runtime, town: Town) -> None:
    referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
    with pytest.raises(Conflict, match="Seul le service qui reçoit"):
        await service.transition(rt, town.sender, referral_id, Transition(action="accept"))
    await service.transition(rt, town.receiver, referral_id, Transition(action="refuse", reason="not_eligible"))
    with pytest.raises(Conflict, match="refusée"):
        await service.transition(rt, town.receiver, referral_id, Transition(action="accept"))
    with pytest.raises(Conflict, match="refusée"):
        await service.transition(rt, town.sender, referral_id, Transition(action="cancel"))
    row = await Referral.select(Referral.status, Referral.version).where(Referral.id == referral_id).first()
    assert row == {"status": "refused", "version": 2}


# ---------------------------------------------------------------- bad input: a clear message, nothing written
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"note": "Son numéro de sécu : 2 84 05 45 234 567 89"}, "note"),
        ({"need": "NIR 184127645108946"}, "need"),
        ({"consent_confirmed": False}, "consent_confirmed"),
        ({"resident_phone": "", "resident_email": ""}, "resident_phone"),
        ({"preferred_contact": "email"}, "resident_email"),
        ({"availability": ["dimanche"]}, "availability"),
    ],
)
async def test_bad_referrals_are_refused_with_the_field_named(
    rt: Runtime, town: Town, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        await service.create(rt, town.sender, referral_for(town.service, **changes))
    assert field in refused.value.fields and refused.value.fields[field]
    assert await Referral.count() == 0 and await ReferralEvent.count() == 0


async def test_a_service_that_takes_no_referral_or_does_not_exist_is_refused(rt: Runtime, town: Town) -> None:
    with pytest.raises(Conflict, match="ne reçoit pas d'orientations"):
        await service.create(rt, town.sender, referral_for(town.closed_door))
    with pytest.raises(Invalid):
        await service.create(rt, town.sender, referral_for(999_999))
    with pytest.raises(Forbidden):
        await service.create(rt, town.coordinator, referral_for(town.service))  # no structure to send from
    assert await Referral.count() == 0


async def test_an_idempotency_key_returns_the_first_referral_or_refuses_another_body(rt: Runtime, town: Town) -> None:
    first, created = await service.create(rt, town.sender, referral_for(town.service), "clé-1")
    again, created_again = await service.create(rt, town.sender, referral_for(town.service), "clé-1")
    assert (again, created, created_again) == (first, True, False)
    with pytest.raises(Conflict, match="idempotence"):
        await service.create(rt, town.sender, referral_for(town.service, need="Autre chose"), "clé-1")
    assert await Referral.count() == 1


# ---------------------------------------------------------------- concurrency
async def test_two_members_deciding_at_once_one_wins(rt: Runtime, town: Town, app: Any) -> None:
    second_receiver = await _actor((await make_person(rt, "nadia@roseraie.example.fr", {town.b: ["prescriber"]})).id)
    for _ in range(3):
        referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
        outcomes = await asyncio.gather(
            service.transition(rt, town.receiver, referral_id, Transition(action="accept")),
            service.transition(rt, second_receiver, referral_id, Transition(action="refuse", reason="full")),
            return_exceptions=True,
        )
        wins = [o for o in outcomes if isinstance(o, str)]
        losses = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        row = await Referral.select(Referral.status, Referral.version).where(Referral.id == referral_id).first()
        assert row == {"status": wins[0], "version": 2}
        assert await ReferralEvent.count().where(ReferralEvent.referral == referral_id) == 2


# ---------------------------------------------------------------- redirect
async def test_a_redirect_sends_a_linked_referral_and_tells_the_prescriber(
    rt: Runtime, town: Town, inbox: Inbox
) -> None:
    referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
    await service.transition(rt, town.receiver, referral_id, Transition(action="redirect", service_id=town.other))
    first = await service.read(town.sender, referral_id)
    assert first.status == "redirected" and first.redirected_to is not None
    onward = await service.read(town.sender, first.redirected_to)
    assert (onward.status, onward.service_id, onward.redirected_from) == ("sent", town.other, referral_id)
    assert onward.resident_name == RESIDENT
    await _deliver(rt)
    assert any("a avancé" in _subject(m) for m in inbox.to(town.sender_email))


# ---------------------------------------------------------------- due work, with the clock moved
async def test_unanswered_referrals_are_reminded_escalated_then_expire(rt: Runtime, town: Town, inbox: Inbox) -> None:
    referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
    await _deliver(rt)
    inbox.messages.clear()
    rt.advance_clock(timedelta(days=10, hours=1))
    report = await jobs.tick(rt)
    assert report.work["referrals.reminded"] == 1 and report.work["referrals.escalated"] == 0
    assert (await jobs.tick(rt)).work["referrals.reminded"] == 0  # not twice the same day
    rt.advance_clock(timedelta(days=10))
    report = await jobs.tick(rt)
    assert report.work["referrals.reminded"] == 1 and report.work["referrals.escalated"] == 1
    await _deliver(rt)
    assert [_subject(m) for m in inbox.to(town.receiver_email)] == ["Une orientation attend votre réponse"] * 2
    assert [_subject(m) for m in inbox.to("coordination@reseau.example.fr")] == [
        "Des orientations restent sans réponse"
    ]
    rt.advance_clock(timedelta(days=10))
    assert (await jobs.tick(rt)).work["referrals.expired"] == 1
    await _deliver(rt)
    assert (await service.read(town.sender, referral_id)).status == "expired"
    assert "a expiré" in _subject(inbox.to(town.sender_email)[-1])


async def test_residents_data_is_emptied_after_the_retention_period(rt: Runtime, town: Town) -> None:
    done, _ = await service.create(rt, town.sender, referral_for(town.service, note="Appeler après 17 h"))
    await service.transition(rt, town.receiver, done, Transition(action="refuse", reason="full"))
    ongoing, _ = await service.create(rt, town.sender, referral_for(town.service))
    await service.transition(rt, town.receiver, ongoing, Transition(action="accept"))
    rt.advance_clock(timedelta(days=24 * 31))
    assert (await jobs.tick(rt)).work["referrals.anonymised"] == 1
    gone = await Referral.select().where(Referral.id == done).first()
    assert (gone["resident_name"], gone["resident_phone"], gone["note"], gone["need"]) == ("", "", "", "")
    assert gone["status"] == "refused" and gone["refusal_reason"] == "full"  # the figures stay
    kept = await Referral.select(Referral.resident_name).where(Referral.id == ongoing).first()
    assert kept["resident_name"] == RESIDENT  # still on the way: kept


# ---------------------------------------------------------------- the resident's status page
async def test_the_status_page_says_what_happened_without_personal_data(rt: Runtime, town: Town) -> None:
    referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
    _, code = await service.read_with_code(town.receiver, referral_id)  # as the page and the slip read it
    assert len(code) >= 20
    await service.transition(
        rt, town.receiver, referral_id, Transition(action="refuse", reason="full", share_reason=True)
    )
    status = await service.public_status(code)
    assert status["status"] == "refused" and status["reason_for_resident"] == "Le service n'a plus de place."
    assert RESIDENT not in str(status) and PHONE not in str(status)
    with pytest.raises(NotFound):
        await service.public_status("pas-un-code-connu-du-tout")
    with pytest.raises(NotFound):
        await service.read_with_code(town.outsider, referral_id)


# ---------------------------------------------------------------- routing
TUESDAY_10H = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris


async def test_routing_ranks_by_fit_and_explains_why(rt: Runtime, town: Town) -> None:
    far = await make_structure("France Services de Saran", "RFS", latitude=47.95, longitude=1.87)
    await make_service(
        far,
        "Aide aux démarches administratives",
        accepts_referrals=True,
        thematiques=[DEMARCHES],
        opening_hours="We 14:00-17:00",
        places=[{"name": "Saran", "latitude": 47.95, "longitude": 1.87, "commune": "Saran"}],
    )
    rt.advance_clock(TUESDAY_10H - rt.now())
    request = RouteRequest(thematiques=[DEMARCHES], latitude=47.895, longitude=2.115, availability=["tu-am"])
    result = await routing.route(rt, request)
    names = [c.service_name for c in result.candidates]
    assert names == ["Aide aux démarches en ligne", "Aide aux démarches administratives"]
    best = result.candidates[0]
    assert "ouvert le mardi matin" in best.reasons and any(r.startswith("à ") for r in best.reasons)
    assert "10 places libres cette semaine" in best.reasons
    assert "fermé aux moments où la personne est disponible" in result.candidates[1].warnings
    assert await routing.route(rt, request) == result  # the same request, the same order


async def test_why_not_names_the_rule(rt: Runtime, town: Town) -> None:
    request = RouteRequest(thematiques=[DEMARCHES], accommodations=["surdite"], latitude=47.9, longitude=2.1)
    judged = await routing.why_not(rt, request, town.service)
    assert any("Aménagement non indiqué" in rule for rule in judged.excluded)
    assert (await routing.route(rt, request)).candidates == []
    closed = await routing.why_not(rt, RouteRequest(thematiques=[EN_LIGNE]), town.closed_door)
    assert any("ne reçoit pas d'orientations" in rule for rule in closed.excluded)
    with pytest.raises(Invalid):
        await routing.route(rt, RouteRequest())


async def test_a_full_service_is_lowered_and_says_so(rt: Runtime, town: Town) -> None:
    for n in range(10):
        await service.create(rt, town.sender, referral_for(town.service, resident_name=f"Personne {n}"))
    judged = await routing.why_not(rt, RouteRequest(thematiques=[DEMARCHES]), town.service)
    assert "complet cette semaine (10 orientations pour 10 places)" in judged.warnings and not judged.excluded


# ---------------------------------------------------------------- any sequence of actions by anyone
ACTIONS = ["review", "accept", "refuse", "redirect", "close", "amend", "cancel"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.tuples(st.sampled_from(["sender", "receiver", "outsider"]), st.sampled_from(ACTIONS)), max_size=8)
)
async def test_any_sequence_of_actions_keeps_the_table(rt: Runtime, town: Town, steps: list[tuple[str, str]]) -> None:
    actors = {"sender": town.sender, "receiver": town.receiver, "outsider": town.outsider}
    referral_id, _ = await service.create(rt, town.sender, referral_for(town.service))
    status = "sent"
    for who, action in steps:
        command = Transition(
            action=action,  # type: ignore[arg-type]
            reason="full",
            outcome="helped",
            message="Précision",
            service_id=town.other,
        )
        try:
            after = await service.transition(rt, actors[who], referral_id, command)
        except NotFound:
            assert who == "outsider"  # only strangers are told it does not exist
            continue
        except Conflict:
            rule = lifecycle.ACTIONS[action]
            assert who != "outsider" and (rule.side != who or status not in rule.sources)
            continue
        rule = lifecycle.ACTIONS[action]
        assert rule.side == who and status in rule.sources and after == (rule.target or status)
        assert after in lifecycle.STATUSES
        status = after
        if who == "receiver":  # every decision tells the prescriber
            assert await _queued_to(town.sender_email) > 0
    row = await Referral.select(Referral.status).where(Referral.id == referral_id).first()
    assert row["status"] == status


async def _queued_to(address: str) -> int:
    from hub.tables import OutboxMessage

    return await OutboxMessage.count().where(OutboxMessage.recipient == address)


@pytest.mark.demo_town  # a clone of the demo town: the seed below finds it there
async def test_the_demo_has_referrals_in_every_state(rt: Runtime) -> None:
    from hub import demo

    await demo.seed(rt)
    statuses = {row["status"] for row in await Referral.select(Referral.status).distinct()}
    assert statuses == set(lifecycle.STATUSES)
    prescriber = await User.select(User.id).where(User.email == "prescripteur.caf@demo.maillage.fr").first()
    sent = (await service.inbox(await _actor(prescriber["id"]), "sent"))[2]
    assert sent >= 20


# ---------------------------------------------------------------- appointment slots
async def _publish(rt: Runtime, town: Town, seats: int = 2) -> int:
    from referrals import slots

    return await slots.publish(
        rt,
        town.receiver,
        slots.ScheduleCreate(
            service_id=town.service, weekday=3, start_time="14:00", end_time="16:00", length=60, seats=seats
        ),
    )


async def test_a_booked_slot_is_held_then_freed_when_the_referral_is_refused(rt: Runtime, town: Town) -> None:
    from referrals import slots

    rt.advance_clock(TUESDAY_10H - rt.now())
    schedule = await _publish(rt, town, seats=1)
    [first, *_] = (await slots.free_slots([town.service], rt.now()))[town.service]
    assert first.label == "jeudi 3 décembre à 14 h" and first.seats_left == 1
    candidate = await routing.why_not(rt, RouteRequest(thematiques=[DEMARCHES]), town.service)
    assert (
        candidate.next_slot == "jeudi 3 décembre à 14 h"
        and "prochain créneau jeudi 3 décembre à 14 h" in candidate.reasons
    )

    booked = referral_for(town.service, schedule_id=schedule, starts_at=first.starts_at)
    referral_id, _ = await service.create(rt, town.sender, booked)
    seen = await service.read(town.receiver, referral_id)
    assert seen.appointment == "jeudi 3 décembre à 14 h"
    assert (await slots.free_slots([town.service], rt.now()))[town.service][0].label == "jeudi 3 décembre à 15 h"
    with pytest.raises(Conflict, match="vient d'être pris"):
        await service.create(
            rt, town.sender, referral_for(town.service, schedule_id=schedule, starts_at=first.starts_at)
        )
    assert await Referral.count() == 1  # the refused one left nothing behind

    await service.transition(rt, town.receiver, referral_id, Transition(action="refuse", reason="full"))
    assert (await slots.free_slots([town.service], rt.now()))[town.service][0].label == "jeudi 3 décembre à 14 h"
    [day] = [row for row in await slots.day_view(town.receiver, town.b, first.starts_at.date())] or [None]
    assert day is None  # a freed seat is no appointment


async def test_a_slot_that_is_not_offered_is_refused(rt: Runtime, town: Town) -> None:
    rt.advance_clock(TUESDAY_10H - rt.now())
    schedule = await _publish(rt, town)
    wrong = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # 15:30 in Paris, between two slots
    with pytest.raises(Invalid) as refused:
        await service.create(rt, town.sender, referral_for(town.service, schedule_id=schedule, starts_at=wrong))
    assert "slot" in refused.value.fields
    with pytest.raises(Invalid):
        await service.create(rt, town.sender, referral_for(town.service, schedule_id=schedule))  # no time
    assert await Referral.count() == 0


async def test_fifty_prescribers_booking_ten_seats_at_once_get_exactly_ten(
    rt: Runtime, town: Town, app: Any, client: Any
) -> None:
    """On the app's connection pool (`client` starts it, as the app's lifespan does): 50 bookings share its
    connections as they would in production, instead of opening 50 PostgreSQL connections of their own."""
    from referrals import slots
    from referrals.tables import Booking

    rt.advance_clock(TUESDAY_10H - rt.now())
    schedule = await _publish(rt, town, seats=10)
    first = (await slots.free_slots([town.service], rt.now()))[town.service][0]
    command = referral_for(town.service, schedule_id=schedule, starts_at=first.starts_at)
    outcomes = await asyncio.gather(
        *[service.create(rt, town.sender, command) for _ in range(50)], return_exceptions=True
    )
    won = [o for o in outcomes if isinstance(o, tuple)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(won), len(lost)) == (10, 40), [o for o in outcomes if not isinstance(o, tuple | Conflict)]
    assert await Booking.count().where(Booking.released_at.is_null()) == 10
    assert await Referral.count() == 10  # a lost booking leaves no referral behind
    seats = {row["seat"] for row in await Booking.select(Booking.seat)}
    assert seats == set(range(10))
