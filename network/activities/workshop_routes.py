"""Workshop series' pages (registrations, sessions and attendance), satisfaction codes, and the public FALC
satisfaction page a person opens from a QR code. Thin: forms.py then workshops.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from hub import auth
from hub.accounts import Actor
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid
from hub.runtime import Runtime
from hub.web import page, redirect
from network.activities import forms, service, workshops
from network.activities import vocabulary as vocab
from network.activities.routes import activity_member, activity_page, labels

AnyRequest = Request[Any, Any, Any]
WEEKDAYS = {"0": "lundi", "1": "mardi", "2": "mercredi", "3": "jeudi", "4": "vendredi", "5": "samedi", "6": "dimanche"}


async def _series_list_page(
    request: AnyRequest,
    rt: Runtime,
    actor: Actor,
    structure_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    names = await service.structure_names([structure_id])
    return page(
        request,
        "activities/series_list.html",
        status_code=400 if errors else 200,
        structure_id=structure_id,
        structure_name=names.get(structure_id, ""),
        series=await workshops.list_series(actor, structure_id),
        places=await service.places(structure_id),
        weekdays=WEEKDAYS,
        values=values
        or {
            "starts_on": rt.today().isoformat(),
            "level": "1",
            "weekday": "0",
            "start_time": "14:00",
            "duration": "120",
            "seats": "10",
        },
        errors=errors or {},
        **labels(),
    )


async def _series_page(
    request: AnyRequest,
    rt: Runtime,
    actor: Actor,
    structure_id: int,
    series_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    detail = await workshops.series_detail(actor, structure_id, series_id)
    names = await service.structure_names([structure_id])
    return page(
        request,
        "activities/series.html",
        status_code=400 if errors else 200,
        structure_id=structure_id,
        structure_name=names.get(structure_id, ""),
        weekdays=WEEKDAYS,
        today=rt.today().isoformat(),
        errors=errors or {},
        values=values or {},
        **detail,
        **labels(),
    )


class WorkshopPages(Controller):
    path = "/activites"
    guards = [activity_member]
    include_in_schema = False

    @get("/{structure_id:int}/ateliers", operation_id="activitySeriesListPage")
    async def series_list(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, structure_id: FromPath[int]
    ) -> Template:
        """The structure's workshop series, their attendance and drop-out, and a form for a new one."""
        return await _series_list_page(request, rt, actor, structure_id)

    @post("/{structure_id:int}/ateliers", operation_id="activitySeriesCreate")
    async def series_create(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[forms.SeriesForm],
    ) -> Response[Any]:
        """Create a series (title, level, place, weekly pattern, seats, modules)."""
        try:
            series_id = await workshops.create_series(rt, actor, forms.series_create(data, structure_id))
        except Invalid as error:
            values = {
                **{k: getattr(data, k) for k in data.__struct_fields__},
                "thematiques": forms.as_list(data.thematiques),
            }
            return await _series_list_page(
                request, rt, actor, structure_id, values, error.fields or {"title": error.message}
            )
        return redirect(request, f"/activites/{structure_id}/ateliers/{series_id}", "Série créée.")

    @get("/{structure_id:int}/ateliers/{series_id:int}", operation_id="activitySeriesPage")
    async def series(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        series_id: FromPath[int],
    ) -> Template:
        """A series: registrations, attendance per session, drop-out, progression through the modules."""
        return await _series_page(request, rt, actor, structure_id, series_id)

    @post("/{structure_id:int}/ateliers/{series_id:int}/inscriptions", operation_id="activityRegistrationCreate")
    async def register(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        series_id: FromPath[int],
        data: URLEncodedBody[forms.RegistrationForm],
    ) -> Response[Any]:
        """Register a person: an initial at most, and an anonymous profile."""
        try:
            await workshops.register(rt, actor, structure_id, series_id, forms.registration_create(data))
        except Invalid as error:
            values = {k: getattr(data, k) for k in data.__struct_fields__}
            return await _series_page(
                request, rt, actor, structure_id, series_id, error.fields or {"initial": error.message}, values
            )
        return redirect(request, f"/activites/{structure_id}/ateliers/{series_id}", "Personne inscrite.")

    @post(
        "/{structure_id:int}/ateliers/{series_id:int}/inscriptions/{registration_id:int}/retrait",
        operation_id="activityRegistrationWithdraw",
    )
    async def withdraw(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        series_id: FromPath[int],
        registration_id: FromPath[int],
    ) -> Response[Any]:
        """The person said they stop coming: counted as a drop-out, their seat freed."""
        await workshops.withdraw(rt, actor, structure_id, series_id, registration_id)
        return redirect(request, f"/activites/{structure_id}/ateliers/{series_id}", "Désinscription notée.")

    @post("/{structure_id:int}/ateliers/{series_id:int}/seances", operation_id="activitySessionCreate")
    async def session(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        series_id: FromPath[int],
        data: URLEncodedBody[forms.SessionForm],
    ) -> Response[Any]:
        """Record a session held: who came among the registered, walk-ins, the module covered."""
        try:
            activity_id = await workshops.record_session(rt, actor, structure_id, series_id, forms.session_create(data))
        except Invalid as error:
            values = {
                "day": data.day,
                "walk_ins": data.walk_ins,
                "module_no": data.module_no,
                "present": forms.as_list(data.present),
            }
            return await _series_page(
                request, rt, actor, structure_id, series_id, error.fields or {"present": error.message}, values
            )
        return redirect(
            request, f"/activites/{structure_id}/activite/{activity_id}", "Séance enregistrée avec ses présences."
        )

    @post("/{structure_id:int}/activite/{activity_id:int}/avis", operation_id="activityFeedbackCodes")
    async def codes(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        activity_id: FromPath[int],
        data: URLEncodedBody[forms.CodesForm],
    ) -> Response[Any]:
        """Single-use satisfaction codes for the activity's people, shown as QR codes to scan or print."""
        errors = forms.FieldErrors()
        count = forms.parse_int(data.count, errors, "count", "Un nombre de codes, par exemple 1.") or 0
        try:
            errors.raise_if_any()
            await workshops.new_codes(rt, actor, structure_id, activity_id, count)
        except Invalid as error:
            return await activity_page(
                request, rt, actor, structure_id, activity_id, error.fields or {"count": error.message}
            )
        word = "Code créé" if count == 1 else "Codes créés"
        return redirect(
            request,
            f"/activites/{structure_id}/activite/{activity_id}#avis",
            f"{word} : montrez-le ou imprimez la page.",
        )


def _falc_context(errors: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
    return {"smileys": vocab.SATISFACTION, "channels": vocab.CHANNELS_FALC, "errors": errors, "values": values}


class FeedbackPages(Controller):
    path = "/avis"
    guards = [auth.public]
    include_in_schema = False

    @get("/{code:str}", operation_id="activityFeedbackPage")
    async def form(self, request: AnyRequest, rt: RuntimeDep, code: FromPath[str]) -> Template:
        """The satisfaction page in FALC, opened from a QR code: a smiley scale and how the person knew the place."""
        await workshops.check_code(rt, code)  # 404 unknown, 410 used or expired: in easy French
        return _no_trace(page(request, "activities/feedback.html", code=code, **_falc_context({}, {})))

    @post("/{code:str}", operation_id="activityFeedbackSubmit")
    async def submit(
        self, request: AnyRequest, rt: RuntimeDep, code: FromPath[str], data: URLEncodedBody[forms.AnswerForm]
    ) -> Template:
        """Record the answer (one per code) and thank the person."""
        try:
            await workshops.answer(rt, code, forms.answer_of(data))
        except Invalid as error:
            values = {"satisfaction": data.satisfaction, "channel": data.channel}
            response = page(
                request, "activities/feedback.html", status_code=400, code=code, **_falc_context(error.fields, values)
            )
            return _no_trace(response)
        return _no_trace(page(request, "activities/feedback_thanks.html"))


def _no_trace(response: Template) -> Template:
    # the code is the key: no search engine keeps the page, no other site learns the address
    response.headers.update({"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"})
    return response


WORKSHOP_CONTROLLERS = [WorkshopPages, FeedbackPages]
