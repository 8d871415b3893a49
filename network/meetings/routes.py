"""The meetings' pages: the coordinator's events and event page (agenda, invitations and answers, attendance,
minutes, actions), a member's "Réunions" page, the answer link's page, the action item's signed link, and the
partner indicators. Thin: forms.py makes the commands, the services hold the rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template

from hub import auth
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid
from hub.reporting import Period
from hub.runtime import Runtime
from hub.tables import Structure
from hub.web import page, redirect
from network.meetings import attendance, forms, indicators, rsvp, service
from network.meetings.service import ANSWERS, AUDIENCES, EVENT_STATUSES, KINDS, STATUSES

AnyRequest = Request[Any, Any, Any]
NO_INDEX = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


LIMITS = {  # the services' limits, as the fields' maxlength
    "title": service.MAX_TITLE,
    "place": service.MAX_PLACE,
    "agenda": service.MAX_AGENDA_CHARS,
    "agenda_items": service.MAX_AGENDA_ITEMS,
    "agenda_line": service.MAX_AGENDA_LINE,
    "minutes": service.MAX_MINUTES,
    "action_title": service.MAX_ACTION_TITLE,
    "indicator_label": indicators.MAX_LABEL,
    "indicator_definition": indicators.MAX_DEFINITION,
    "indicator_unit": indicators.MAX_UNIT,
    "indicator_period": indicators.MAX_PERIOD,
    "indicator_value": indicators.MAX_VALUE_CHARS,
}


def current_semester(rt: Runtime) -> str:
    today = rt.today()
    return f"{today.year}-S{1 if today.month <= 6 else 2}"


def previous_semester(rt: Runtime) -> str:
    return Period.parse(current_semester(rt)).previous().label


async def _active_structures() -> list[dict[str, Any]]:
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.status == "active")
    return sorted(rows, key=lambda r: r["name"])


def _labels() -> dict[str, Any]:
    return {
        "kinds": KINDS,
        "statuses": STATUSES,
        "answers": ANSWERS,
        "audiences": AUDIENCES,
        "event_statuses": EVENT_STATUSES,
        "day_text": rsvp.day_text,
        "time_text": rsvp.time_text,
        "limits": LIMITS,
    }


async def _event_form_page(
    request: AnyRequest, values: dict[str, Any], errors: dict[str, str], event_id: int | None = None
) -> Template:
    return page(
        request,
        "meetings/event_form.html",
        status_code=400 if errors else 200,
        values=values,
        errors=errors,
        event_id=event_id,
        structures=await _active_structures(),
        **_labels(),
    )


async def _event_page(
    request: AnyRequest, rt: Runtime, actor: Any, event_id: int, errors: dict[str, str] | None = None, **values: Any
) -> Template:
    data = await service.event_page(rt, actor, event_id)
    return page(
        request,
        "meetings/event.html",
        status_code=400 if errors else 200,
        errors=errors or {},
        values=values,
        structures=await _active_structures(),
        carried=await service.carried_over(data["event"], rt.today()),
        today=rt.today(),
        **data,
        **_labels(),
    )


class MeetingPages(Controller):
    path = "/reunions"
    guards = [auth.signed_in]
    include_in_schema = False

    @get("/", operation_id="meetingsPage")
    async def home(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Template:
        """The coordinator's events; a member's invitations and their structures' action items."""
        if actor.oversees_network:
            return page(request, "meetings/events.html", events=await service.list_events(rt), **_labels())
        return page(
            request,
            "meetings/mine.html",
            invitations=await service.my_invitations(rt, actor),
            actions=await service.structure_actions(actor, rt.today()),
            my_structures=[s for s in await _active_structures() if actor.has_role(s["id"])],
            semester=previous_semester(rt),
            **_labels(),
        )

    @post("/invitations/{invitation_id:int}", operation_id="meetingsAnswerSubmit")
    async def answer(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        invitation_id: FromPath[int],
        data: URLEncodedBody[forms.AnswerForm],
    ) -> Response[Any]:
        """The invitee changes their answer (until the event's day included)."""
        try:
            await rsvp.answer_signed_in(rt, actor, invitation_id, data.answer)
        except Invalid as error:
            return redirect(request, "/reunions", error.message, category="error")
        return redirect(request, "/reunions", "Réponse enregistrée.")

    @post("/actions/{action_id:int}", operation_id="meetingsActionStatusSubmit")
    async def action_status(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        action_id: FromPath[int],
        data: URLEncodedBody[forms.StatusForm],
    ) -> Response[Any]:
        """The owner structure's members (or the coordinator) update an action item's status."""
        item = await service.action_for(actor, action_id)
        back = f"/reunions/{item['event']}" if actor.oversees_network else "/reunions"
        try:
            await service.set_action_status(rt, actor, action_id, data.status)
        except Invalid as error:
            return redirect(request, back, error.message, category="error")
        return redirect(request, back, "Statut de l'action mis à jour.")


class CoordinatorPages(Controller):
    path = "/reunions"
    guards = [auth.coordinator]
    include_in_schema = False

    @get("/nouvelle", operation_id="meetingsNewEventPage")
    async def new_form(self, request: AnyRequest) -> Template:
        """The form of a new event."""
        values = {"kind": "meeting", "audience": "all", "start_time": "14:00", "end_time": "16:30", "structure_ids": []}
        return await _event_form_page(request, values, {})

    @post("/nouvelle", operation_id="meetingsNewEventSubmit")
    async def create(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.EventForm]
    ) -> Response[Any]:
        """Create the event (nothing is sent yet)."""
        try:
            event_id = await service.create_event(rt, actor, forms.event_command(data, rt.today()))
        except Invalid as error:
            return await _event_form_page(request, forms.event_values(data), error.fields or {"title": error.message})
        return redirect(request, f"/reunions/{event_id}", "Événement créé. Vérifiez-le, puis envoyez les invitations.")

    @get("/{event_id:int}", operation_id="meetingsEventPage")
    async def event(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, event_id: FromPath[int]
    ) -> Template:
        """An event: agenda (with the open action items carried over), answers, attendance, minutes, actions."""
        return await _event_page(request, rt, actor, event_id)

    @get("/{event_id:int}/modifier", operation_id="meetingsEditEventPage")
    async def edit_form(self, request: AnyRequest, event_id: FromPath[int]) -> Template:
        """The event's form, filled in."""
        event = await service.event_row(event_id)
        chosen = await service.chosen_structure_ids(event_id) if event["audience"] == "chosen" else []
        values = {
            **event,
            "day": event["day"].isoformat(),
            "agenda": "\n".join(event["agenda"]),
            "structure_ids": [str(i) for i in chosen],
        }
        return await _event_form_page(request, values, {}, event_id)

    @post("/{event_id:int}/modifier", operation_id="meetingsEditEventSubmit")
    async def edit(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        event_id: FromPath[int],
        data: URLEncodedBody[forms.EventForm],
    ) -> Response[Any]:
        """Change the event."""
        try:
            told = await rsvp.update_event(rt, actor, event_id, forms.event_command(data, rt.today()))
        except Invalid as error:
            fields = error.fields or {"title": error.message}
            return await _event_form_page(request, forms.event_values(data), fields, event_id)
        message = f"Événement modifié. Invités prévenus : {told}." if told else "Événement modifié."
        return redirect(request, f"/reunions/{event_id}", message)

    @post("/{event_id:int}/inviter", operation_id="meetingsInviteSubmit")
    async def invite(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, event_id: FromPath[int]
    ) -> Response[Any]:
        """Send the invitations (to those not yet invited)."""
        try:
            count = await rsvp.invite(rt, actor, event_id)
        except Invalid as error:
            return redirect(request, f"/reunions/{event_id}", error.message, category="error")
        message = f"Invitations envoyées : {count}." if count else "Tout le monde est déjà invité."
        return redirect(request, f"/reunions/{event_id}", message)

    @get("/{event_id:int}/presence", operation_id="meetingsAttendancePage")
    async def attendance_form(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, event_id: FromPath[int]
    ) -> Template:
        """The checklist of the day: tick who came."""
        data = await service.event_page(rt, actor, event_id)
        return page(request, "meetings/attendance.html", errors={}, today=rt.today(), **data, **_labels())

    @post("/{event_id:int}/presence", operation_id="meetingsAttendanceSubmit")
    async def attendance(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        event_id: FromPath[int],
        data: URLEncodedBody[forms.AttendanceForm],
    ) -> Response[Any]:
        """Record who came."""
        try:
            count = await attendance.record(rt, actor, event_id, forms.present_ids(data))
        except Invalid as error:
            details = await service.event_page(rt, actor, event_id)
            return page(
                request,
                "meetings/attendance.html",
                status_code=400,
                errors=error.fields or {"present": error.message},
                today=rt.today(),
                **details,
                **_labels(),
            )
        return redirect(request, f"/reunions/{event_id}", f"Présences enregistrées : {count}.")

    @get("/{event_id:int}/feuille.docx", operation_id="meetingsSheetDocx")
    async def sheet_docx(self, rt: RuntimeDep, actor: CurrentActor, event_id: FromPath[int]) -> Response[bytes]:
        """The attendance sheet as a Word file."""
        return await attendance.download(rt, actor, event_id, "docx")

    @get("/{event_id:int}/feuille.pdf", operation_id="meetingsSheetPdf")
    async def sheet_pdf(self, rt: RuntimeDep, actor: CurrentActor, event_id: FromPath[int]) -> Response[bytes]:
        """The attendance sheet as a PDF to print (503 in French without LibreOffice)."""
        return await attendance.download(rt, actor, event_id, "pdf")

    @post("/{event_id:int}/compte-rendu", operation_id="meetingsMinutesSubmit")
    async def minutes(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        event_id: FromPath[int],
        data: URLEncodedBody[forms.MinutesForm],
    ) -> Response[Any]:
        """Save the minutes."""
        try:
            await service.save_minutes(rt, actor, event_id, data.minutes)
        except Invalid as error:
            return await _event_page(request, rt, actor, event_id, error.fields, minutes=data.minutes)
        return redirect(request, f"/reunions/{event_id}#compte-rendu", "Compte rendu enregistré.")

    @post("/{event_id:int}/actions", operation_id="meetingsActionSubmit")
    async def add_action(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        event_id: FromPath[int],
        data: URLEncodedBody[forms.ActionForm],
    ) -> Response[Any]:
        """Record a decision or an action item (its owner structure is told by mail)."""
        try:
            event = await service.event_row(event_id)
            await service.add_action(rt, actor, event_id, forms.action_command(data, event["day"]))
        except Invalid as error:
            values = {f"action_{k}": v for k, v in msgspec_dict(data).items()}
            return await _event_page(request, rt, actor, event_id, error.fields or {"title": error.message}, **values)
        return redirect(request, f"/reunions/{event_id}#actions", "Enregistré.")


def msgspec_dict(data: Any) -> dict[str, Any]:
    return msgspec.structs.asdict(data)


class AnswerPages(Controller):
    """The links sent by mail: they need no password (the token or the signature is the key)."""

    path = "/reunions"
    guards = [auth.public]
    include_in_schema = False

    @get("/reponse/{token:str}", operation_id="meetingsRsvpPage")
    async def rsvp_page(self, request: AnyRequest, rt: RuntimeDep, token: FromPath[str]) -> Template:
        """The event, and three buttons: oui, non, peut-être (a GET changes nothing: mail scanners open links)."""
        found = await rsvp.peek(rt, token[:100])
        response = page(request, "meetings/rsvp.html", done=None, token=token, **found, **_labels())
        response.headers.update(NO_INDEX)
        return response

    @post("/reponse/{token:str}", operation_id="meetingsRsvpSubmit")
    async def rsvp_submit(
        self, request: AnyRequest, rt: RuntimeDep, token: FromPath[str], data: URLEncodedBody[forms.AnswerForm]
    ) -> Template:
        """Record the answer; the link is then spent."""
        found = await rsvp.answer_by_link(rt, token[:100], data.answer)
        response = page(request, "meetings/rsvp.html", done=data.answer, token="", **found, **_labels())
        response.headers.update(NO_INDEX)
        return response

    @get("/action/{action_id:int}/{signature:str}", operation_id="meetingsActionLinkPage")
    async def action_link(
        self, request: AnyRequest, rt: RuntimeDep, action_id: FromPath[int], signature: FromPath[str]
    ) -> Template:
        """An action item from the owner's mail: its status, and buttons to change it."""
        service.check_signature(rt, action_id, signature)
        item = await service.action_for(None, action_id)
        response = page(request, "meetings/action_link.html", item=item, signature=signature, done=False, **_labels())
        response.headers.update(NO_INDEX)
        return response

    @post("/action/{action_id:int}/{signature:str}", operation_id="meetingsActionLinkSubmit")
    async def action_link_submit(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        action_id: FromPath[int],
        signature: FromPath[str],
        data: URLEncodedBody[forms.StatusForm],
    ) -> Template:
        """Change the action item's status from the mail's link."""
        service.check_signature(rt, action_id, signature)
        await service.set_action_status(rt, None, action_id, data.status)
        item = await service.action_for(None, action_id)
        response = page(request, "meetings/action_link.html", item=item, signature=signature, done=True, **_labels())
        response.headers.update(NO_INDEX)
        return response


class IndicatorPages(Controller):
    path = "/reunions/indicateurs"
    guards = [auth.signed_in]
    include_in_schema = False

    @get("/", operation_id="meetingsIndicatorsPage")
    async def indicators_page(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Template:
        """The indicators: the coordinator defines them and sees the totals; members reach their entry page."""
        return await _indicators_page(request, rt, actor, {}, {})

    @post("/", operation_id="meetingsIndicatorDefineSubmit")
    async def define(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.IndicatorForm]
    ) -> Response[Any]:
        """The coordinator defines an indicator."""
        try:
            await indicators.define(rt, actor, forms.indicator_command(data))
        except Invalid as error:
            return await _indicators_page(
                request, rt, actor, msgspec_dict(data), error.fields or {"label": error.message}
            )
        return redirect(request, "/reunions/indicateurs", "Indicateur ajouté. Les structures peuvent le saisir.")

    @get("/{structure_id:int}", operation_id="meetingsIndicatorEntryPage")
    async def entry(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        periode: Annotated[str, QueryParameter(max_length=indicators.MAX_PERIOD)] = "",
    ) -> Template:
        """A structure's values for a period (its members, or the coordinator)."""
        data = await indicators.entry_form(rt, actor, structure_id, periode or previous_semester(rt))
        return page(
            request,
            "meetings/indicator_entry.html",
            errors={},
            places=await indicators.neighbourhoods(),
            field_name=indicators.field_name,
            types=indicators.VALUE_TYPES,
            limits=LIMITS,
            **data,
        )

    @post("/{structure_id:int}", operation_id="meetingsIndicatorEntrySubmit")
    async def enter(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, structure_id: FromPath[int]
    ) -> Response[Any]:
        """Save a structure's values for a period: all checked, then all saved, or nothing."""
        form = await request.form()
        posted = {key: str(value)[:200] for key, value in form.items() if isinstance(value, str)}
        label = posted.get("period", "")
        try:
            count = await indicators.enter_values(rt, actor, structure_id, label, posted)
        except Invalid as error:
            data = await indicators.entry_form(rt, actor, structure_id, _safe_period(label, rt))
            data["values"] = posted
            return page(
                request,
                "meetings/indicator_entry.html",
                status_code=400,
                errors=error.fields,
                message=error.message,
                places=await indicators.neighbourhoods(),
                field_name=indicators.field_name,
                types=indicators.VALUE_TYPES,
                limits=LIMITS,
                **data,
            )
        return redirect(
            request,
            f"/reunions/indicateurs/{structure_id}?periode={label.strip().upper()}",
            f"Valeurs enregistrées : {count}.",
        )


def _safe_period(label: str, rt: Runtime) -> str:
    try:
        return Period.parse(label).label
    except Invalid:
        return previous_semester(rt)


async def _indicators_page(
    request: AnyRequest, rt: Runtime, actor: Any, values: dict[str, Any], errors: dict[str, str]
) -> Template:
    semester = previous_semester(rt)
    return page(
        request,
        "meetings/indicators.html",
        status_code=400 if errors else 200,
        values=values,
        errors=errors,
        coordinator=actor.oversees_network,
        totals=await indicators.totals(Period.parse(semester)) if actor.oversees_network else [],
        semester=semester,
        my_structures=[s for s in await _active_structures() if actor.has_role(s["id"])],
        types=indicators.VALUE_TYPES,
        limits=LIMITS,
    )


CONTROLLERS = [IndicatorPages, AnswerPages, CoordinatorPages, MeetingPages]
