"""Appointment slots: a receiving service publishes weekly schedules for its places; a prescriber books a seat
when sending; the seat is freed when the referral is refused, redirected, cancelled or expires.

Two prescribers never get the same seat: a live booking is unique per (schedule, time, seat) in the database
itself (a partial unique index), and a booking takes the first free seat with INSERT … ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from hub import db
from hub.accounts import Actor
from hub.errors import Conflict, Invalid, NotFound
from hub.runtime import Runtime
from hub.web import MONTHS_FR, WEEKDAYS_FR
from network import referral_lookup as directory
from referrals.module import REFERRAL_ROLES
from referrals.tables import Booking, SlotClosure, SlotSchedule

PARIS = ZoneInfo("Europe/Paris")
HORIZON_DAYS = 28


class ScheduleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    service_id: int
    place: str = ""
    weekday: int  # 0 Monday … 5 Saturday
    start_time: str  # "09:00"
    end_time: str  # "12:00"
    length: int = 30
    seats: int = 1


class FreeSlot(msgspec.Struct, kw_only=True, frozen=True):
    schedule_id: int
    service_id: int
    place: str
    starts_at: datetime
    seats_left: int

    @property
    def label(self) -> str:
        return when_in_french(self.starts_at)


def when_in_french(moment: datetime) -> str:
    """ "jeudi 3 décembre à 14 h", "mardi 1er décembre à 9 h 30" (Europe/Paris)."""
    local = moment.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    clock = f"{local.hour} h" + (f" {local.minute:02d}" if local.minute else "")
    return f"{WEEKDAYS_FR[local.weekday()]} {day} {MONTHS_FR[local.month - 1]} à {clock}"


def when_in_french_day(day: date) -> str:
    """ "jeudi 3 décembre 2026"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS_FR[day.weekday()]} {number} {MONTHS_FR[day.month - 1]} {day.year}"


async def schedules_of(structure_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The active schedules of these structures, with their services' names and closed days to come."""
    if not structure_ids:
        return []
    rows = await (
        SlotSchedule.select()
        .where(SlotSchedule.structure.is_in(list(structure_ids)) & (SlotSchedule.active == True))  # noqa: E712
        .order_by(SlotSchedule.service_id)
        .order_by(SlotSchedule.weekday)
    )
    names = {c.service_id: c.name for c in (await directory.cards(r["service_id"] for r in rows)).values()}
    return [
        {**row, "service_name": names.get(row["service_id"], ""), "day_name": WEEKDAYS_FR[row["weekday"]]}
        for row in rows
    ]


def _clock(value: str, field: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise Invalid("Heure invalide : écrivez-la comme 09:30.", {field: "Format HH:MM."}) from None


async def publish(rt: Runtime, actor: Actor, command: ScheduleCreate) -> int:
    """A service's members publish a weekly schedule of slots for one of its places."""
    card = (await directory.cards([command.service_id])).get(command.service_id)
    if card is None or not actor.has_role(card.structure_id, *REFERRAL_ROLES):
        raise NotFound("Ce service n'existe pas.")
    errors: dict[str, str] = {}
    start, end = _clock(command.start_time, "start_time"), _clock(command.end_time, "end_time")
    if not 0 <= command.weekday <= 5:
        errors["weekday"] = "Choisissez un jour du lundi au samedi."
    if end <= start:
        errors["end_time"] = "La fin vient après le début."
    if not 10 <= command.length <= 240:
        errors["length"] = "Un créneau dure de 10 minutes à 4 heures."
    if not 1 <= command.seats <= 50:
        errors["seats"] = "De 1 à 50 personnes par créneau."
    if errors:
        raise Invalid("Les créneaux ne sont pas publiés : corrigez les champs signalés.", errors)
    schedule = SlotSchedule(
        service_id=card.service_id,
        structure=card.structure_id,
        place=command.place.strip()[:200] or card.places[0].name,
        weekday=command.weekday,
        start_time=start.strftime("%H:%M"),
        end_time=end.strftime("%H:%M"),
        length=command.length,
        seats=command.seats,
        created_at=rt.now(),
    )
    await schedule.save()
    return int(schedule.id)


async def close_day(actor: Actor, schedule_id: int, day: date) -> None:
    row = await SlotSchedule.select().where(SlotSchedule.id == schedule_id).first()
    if row is None or not actor.has_role(row["structure"], *REFERRAL_ROLES):
        raise NotFound("Ces créneaux n'existent pas.")
    if not await SlotClosure.exists().where((SlotClosure.schedule == schedule_id) & (SlotClosure.day == day)):
        await SlotClosure.insert(SlotClosure(schedule=schedule_id, day=day))


def _times(schedule: dict[str, Any], closed: set[date], since: datetime, days: int) -> Iterable[datetime]:
    """The slots' start times of a schedule in the next `days` days, after `since`."""
    start, end = _clock(schedule["start_time"], "start_time"), _clock(schedule["end_time"], "end_time")
    first = since.astimezone(PARIS).date()
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() != schedule["weekday"] or day in closed:
            continue
        moment = datetime.combine(day, start, tzinfo=PARIS)
        while moment.time() < end and (moment + timedelta(minutes=schedule["length"])).time() <= end:
            if moment > since:
                yield moment
            moment += timedelta(minutes=schedule["length"])


async def free_slots(
    service_ids: Sequence[int], since: datetime, days: int = HORIZON_DAYS, limit: int = 40
) -> dict[int, list[FreeSlot]]:
    """Per service, its next slots with a free seat (at most `limit` each), soonest first."""
    if not service_ids:
        return {}
    return await _free(await _schedules(service_ids), since, days, limit)


async def offer(service_ids: Sequence[int], since: datetime) -> tuple[dict[int, list[FreeSlot]], set[int]]:
    """What routing says of these services' slots: each one's next free slot, and which publish slots at all
    (one that publishes but has nothing free within the horizon is told apart from one taking people without
    appointments)."""
    if not service_ids:
        return {}, set()
    schedules = await _schedules(service_ids)
    return await _free(schedules, since, HORIZON_DAYS, 1), {s["service_id"] for s in schedules}


async def _schedules(service_ids: Sequence[int]) -> list[dict[str, Any]]:
    return await SlotSchedule.select().where(
        db.among(SlotSchedule.service_id, service_ids) & (SlotSchedule.active == True)  # noqa: E712
    )


async def _free(
    schedules: Sequence[dict[str, Any]], since: datetime, days: int, limit: int
) -> dict[int, list[FreeSlot]]:
    if not schedules:
        return {}
    ids = [s["id"] for s in schedules]
    until = since + timedelta(days=days)
    closures: dict[int, set[date]] = {}
    for row in await SlotClosure.select().where(SlotClosure.schedule.is_in(ids)):
        closures.setdefault(row["schedule"], set()).add(row["day"])
    taken: dict[tuple[int, datetime], int] = {}
    for row in await Booking.select(Booking.schedule, Booking.starts_at).where(
        Booking.schedule.is_in(ids)
        & Booking.released_at.is_null()
        & (Booking.starts_at >= since)
        & (Booking.starts_at < until)
    ):
        key = (row["schedule"], row["starts_at"].astimezone(PARIS))
        taken[key] = taken.get(key, 0) + 1
    found: dict[int, list[FreeSlot]] = {}
    for schedule in schedules:
        for moment in _times(schedule, closures.get(schedule["id"], set()), since, days):
            left = schedule["seats"] - taken.get((schedule["id"], moment), 0)
            if left > 0:
                found.setdefault(schedule["service_id"], []).append(
                    FreeSlot(
                        schedule_id=schedule["id"],
                        service_id=schedule["service_id"],
                        place=schedule["place"],
                        starts_at=moment,
                        seats_left=left,
                    )
                )
    return {sid: sorted(slots, key=lambda s: (s.starts_at, s.schedule_id))[:limit] for sid, slots in found.items()}


async def book(referral_id: int, service_id: int, schedule_id: int, starts_at: datetime, now: datetime) -> int:
    """Hold a seat of this slot for the referral (inside the caller's transaction); 409 when none is left."""
    schedule = await SlotSchedule.select().where(SlotSchedule.id == schedule_id).first()
    if schedule is None or schedule["service_id"] != service_id or not schedule["active"]:
        raise Invalid("Ce créneau n'existe pas pour ce service.", {"slot": "Créneau inconnu."})
    closed = {r["day"] for r in await SlotClosure.select(SlotClosure.day).where(SlotClosure.schedule == schedule_id)}
    wanted = starts_at.astimezone(PARIS)
    days = (wanted.date() - now.astimezone(PARIS).date()).days + 1
    if days < 1 or days > HORIZON_DAYS + 1 or wanted not in set(_times(schedule, closed, now, days)):
        raise Invalid("Ce créneau n'est pas proposé (passé, fermé ou hors des horaires).", {"slot": "Créneau inconnu."})
    for seat in range(schedule["seats"]):
        rows = await Booking.raw(
            "INSERT INTO referrals_booking (schedule, starts_at, seat, referral, created_at) "
            "VALUES ({}, {}, {}, {}, {}) "
            "ON CONFLICT (schedule, starts_at, seat) WHERE released_at IS NULL DO NOTHING RETURNING id",
            schedule_id,
            wanted,
            seat,
            referral_id,
            now,
        )
        if rows:
            return int(rows[0]["id"])
    raise Conflict("Ce créneau vient d'être pris : choisissez-en un autre.")


async def release(referral_id: int, now: datetime) -> None:
    """Free the seat a referral held (refused, redirected, cancelled, expired)."""
    await Booking.update({Booking.released_at: now}).where(
        (Booking.referral == referral_id) & Booking.released_at.is_null()
    )


async def appointment_of(referral_id: int) -> dict[str, Any] | None:
    row = await (
        Booking.select(Booking.starts_at, Booking.schedule.place.as_alias("place"))
        .where((Booking.referral == referral_id) & Booking.released_at.is_null())
        .first()
    )
    return {**row, "label": when_in_french(row["starts_at"])} if row else None


async def day_view(actor: Actor, structure_id: int, day: date) -> list[dict[str, Any]]:
    """The day's appointments of a structure's services, per place and time (its members only)."""
    if not actor.has_role(structure_id, *REFERRAL_ROLES):
        raise NotFound("Cette structure n'a pas de rendez-vous pour vous.")
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    rows = await (
        Booking.select(
            Booking.starts_at,
            Booking.schedule.place.as_alias("place"),
            Booking.referral.id.as_alias("referral_id"),
            Booking.referral.resident_name.as_alias("resident_name"),
            Booking.referral.service_name.as_alias("service_name"),
            Booking.referral.status.as_alias("status"),
        )
        .where(
            (Booking.schedule.structure == structure_id)
            & Booking.released_at.is_null()
            & (Booking.starts_at >= start)
            & (Booking.starts_at < start + timedelta(days=1))
        )
        .order_by(Booking.starts_at)
    )
    return [{**row, "time": when_in_french(row["starts_at"]).split(" à ")[1]} for row in rows]


async def next_appointment_day(structure_ids: Sequence[int], today: date) -> date | None:
    """The first day from today on with an appointment at one of these structures (the slots page opens on it)."""
    if not structure_ids:
        return None
    row = await (
        Booking.select(Booking.starts_at)
        .where(
            Booking.schedule.structure.is_in(list(structure_ids))
            & Booking.released_at.is_null()
            & (Booking.starts_at >= datetime.combine(today, time(0), tzinfo=PARIS))
        )
        .order_by(Booking.starts_at)
        .first()
    )
    return row["starts_at"].astimezone(PARIS).date() if row else None


async def referral_ids_with_booking(ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    rows = await Booking.select(Booking.referral).where(
        Booking.referral.is_in(list(ids)) & Booking.released_at.is_null()
    )
    return {r["referral"] for r in rows}
