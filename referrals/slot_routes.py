"""Appointment slots' pages: a receiving structure publishes its weekly slots, closes a day, and sees the
day's appointments per place. Thin: parse, call referrals.slots, render or redirect."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from hub import auth
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid
from hub.web import page, redirect
from network import referral_lookup as directory
from referrals import slots
from referrals.module import REFERRAL_ROLES

AnyRequest = Request[Any, Any, Any]
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")


class ScheduleForm(msgspec.Struct, kw_only=True):
    service_id: str = ""
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""
    weekday: str = ""
    start_time: Annotated[str, msgspec.Meta(max_length=5)] = ""
    end_time: Annotated[str, msgspec.Meta(max_length=5)] = ""
    length: str = "30"
    seats: str = "1"


class ClosureForm(msgspec.Struct, kw_only=True):
    day: Annotated[str, msgspec.Meta(max_length=10)] = ""


def _number(value: str, field: str, errors: dict[str, str]) -> int:
    try:
        return int(value.strip())
    except ValueError:
        errors[field] = "Un nombre entier."
        return 0


def schedule_command(form: ScheduleForm) -> slots.ScheduleCreate:
    """The posted strings as a command; every field's French error at once."""
    errors: dict[str, str] = {}
    service_id = _number(form.service_id, "service_id", errors)
    weekday = _number(form.weekday, "weekday", errors)
    length = _number(form.length, "length", errors)
    seats = _number(form.seats, "seats", errors)
    if errors:
        raise Invalid("Les créneaux ne sont pas publiés : corrigez les champs signalés.", errors)
    return slots.ScheduleCreate(
        service_id=service_id,
        place=form.place,
        weekday=weekday,
        start_time=form.start_time,
        end_time=form.end_time,
        length=length,
        seats=seats,
    )


async def _context(actor: Any, rt: Any, day: date) -> dict[str, Any]:
    structures = actor.structures_with(*REFERRAL_ROLES)
    services = [c for c in await directory.accepting_services() if c.structure_id in structures]
    schedules = await slots.schedules_of(structures)
    appointments = {sid: await slots.day_view(actor, sid, day) for sid in structures}
    return {
        "services": services,
        "schedules": schedules,
        "appointments": [row for rows in appointments.values() for row in rows],
        "day": day,
        "day_label": slots.when_in_french_day(day),
        "days": DAYS,
    }


class SlotPages(Controller):
    path = "/orientations/creneaux"
    guards = [auth.signed_in]
    include_in_schema = False

    @get("/", operation_id="slotsPage")
    async def show(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        jour: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """The structure's published slots, and one day's appointments per place: the day asked, else the next
        day with appointments (today when there are none to come)."""
        try:
            day = date.fromisoformat(jour) if jour else None
        except ValueError:
            day = None
        if day is None:
            structures = actor.structures_with(*REFERRAL_ROLES)
            day = await slots.next_appointment_day(sorted(structures), rt.today()) or rt.today()
        return page(request, "referrals/slots.html", values={}, errors={}, **await _context(actor, rt, day))

    @post("/", operation_id="slotsPublish")
    async def publish(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[ScheduleForm]
    ) -> Redirect | Template:
        """Publish a weekly schedule of slots."""
        try:
            await slots.publish(rt, actor, schedule_command(data))
        except Invalid as error:
            return page(
                request,
                "referrals/slots.html",
                status_code=400,
                values=msgspec.structs.asdict(data),
                errors=error.fields or {"service_id": error.message},
                **await _context(actor, rt, rt.today()),
            )
        return redirect(request, "/orientations/creneaux", "Créneaux publiés.")

    @post("/{schedule_id:int}/fermer", operation_id="slotsCloseDay")
    async def close_day(
        self,
        request: AnyRequest,
        actor: CurrentActor,
        schedule_id: FromPath[int],
        data: URLEncodedBody[ClosureForm],
    ) -> Redirect:
        """Close one day of a schedule (holiday, training)."""
        try:
            day = date.fromisoformat(data.day)
        except ValueError:
            raise Invalid("Date invalide.", {"day": "Choisissez une date."}) from None
        await slots.close_day(actor, schedule_id, day)
        return redirect(request, "/orientations/creneaux", f"Pas de créneau le {slots.when_in_french_day(day)}.")


SLOT_CONTROLLERS = [SlotPages]
