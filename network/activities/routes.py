"""Activity records' pages: quick entry, the structure's list, its figures, the free-access tally, and the
coordinator's network figures. Thin: forms.py turns posted strings into commands, the rules live in service.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template

from hub import auth
from hub.accounts import Actor
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Forbidden, Invalid, NotFound
from hub.reporting import asked_period
from hub.runtime import Runtime
from hub.web import page, redirect
from network.activities import figures, forms, service, workshops
from network.activities import vocabulary as vocab

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 30


class ActivityMember(auth.Policy):
    """A member of a structure (any role) or the coordinator; which structure is the service's rule (404)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        actor = auth.signed_in_actor(actor)
        if not (actor.structures_with() or actor.oversees_network):
            raise Forbidden("Réservé aux membres des structures du réseau et à la coordination.")


activity_member = ActivityMember("activity_member", "a member of a structure (any role), or the coordinator")


LIMITS = {  # the services' limits, as the fields' maxlength
    "label": service.MAX_LABEL,
    "commune": service.MAX_COMMUNE,
    "initial": workshops.MAX_INITIAL,
    "modules": forms.MAX_MODULES_TEXT,
}


def labels() -> dict[str, Any]:
    return {
        "limits": LIMITS,
        "kinds": vocab.KINDS,
        "thematiques": vocab.THEMATIQUES,
        "demarches": vocab.DEMARCHES,
        "materials": vocab.MATERIALS,
        "place_kinds": vocab.PLACE_KINDS,
        "autonomy_levels": vocab.AUTONOMY,
        "workshop_levels": vocab.LEVELS,
        "redirect_categories": vocab.REDIRECT_CATEGORIES,
        "age_bands": vocab.AGE_BANDS,
        "genders": vocab.GENDERS,
        "statuses": vocab.STATUSES,
        "channels": vocab.CHANNELS,
        "satisfaction_labels": vocab.SATISFACTION,
        "durations": vocab.DURATIONS,
    }


async def _structure(actor: Actor, structure_id: int) -> str:
    service.require_member(actor, structure_id)
    return (await service.structure_names([structure_id])).get(structure_id, "")


async def _entry_page(
    request: AnyRequest,
    actor: Actor,
    structure_id: int,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "activities/entry.html",
        status_code=400 if errors else 200,
        structure_id=structure_id,
        structure_name=await _structure(actor, structure_id),
        places=await service.places(structure_id),
        redirect_structures=await service.directory_structures(),
        values=values,
        errors=errors or {},
        **labels(),
    )


class ActivityPages(Controller):
    path = "/activites"
    guards = [activity_member]
    include_in_schema = False

    @get("/", operation_id="activitiesHome")
    async def home(self, request: AnyRequest, actor: CurrentActor) -> Response[Any]:
        """One's structures' activity pages (straight to quick entry with a single structure)."""
        mine = await service.my_structures(actor)
        if len(mine) == 1 and not actor.oversees_network:
            return redirect(request, f"/activites/{next(iter(mine))}/saisie")
        return page(request, "activities/home.html", structures=mine)

    @get("/{structure_id:int}/saisie", operation_id="activityEntryPage")
    async def entry_form(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        depuis: Annotated[int | None, QueryParameter(ge=1, le=auth.ID_MAX)] = None,
        orientation: Annotated[int | None, QueryParameter(ge=1, le=auth.ID_MAX)] = None,
    ) -> Template:
        """Quick entry: today, the worker's place, one click to save; "depuis" fills in a recorded session again."""
        service.require_member(actor, structure_id)
        place_id = await service.last_place(actor, structure_id)
        values: dict[str, Any] = {"kind": "individual", "duration": "30", "participants": "1"}
        if place_id:
            values["place"] = f"p:{place_id}"
        if depuis is not None:
            values = forms.values_from_activity(await service.read(actor, structure_id, depuis))
        if orientation is not None:  # a referral closed as "helped": the person was sent by a partner
            values |= {"referral_id": str(orientation), "channel": "partner"}
        values["day"] = rt.today().isoformat()
        return await _entry_page(request, actor, structure_id, values)

    @post("/{structure_id:int}/saisie", operation_id="activityEntrySubmit")
    async def entry(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[forms.EntryForm],
    ) -> Response[Any]:
        """Record the activity; "même chose" comes back with the same session filled in for the next person."""
        try:
            command = forms.activity_create(data, structure_id)
            activity_id = await service.record(rt, actor, command)
        except Invalid as error:
            fields = error.fields or {"kind": error.message}
            return await _entry_page(request, actor, structure_id, forms.values_of(data), fields)
        if data.action == "same":
            return redirect(
                request,
                f"/activites/{structure_id}/saisie?depuis={activity_id}",
                "Activité enregistrée. La même est prête pour la personne suivante.",
            )
        return redirect(request, f"/activites/{structure_id}/saisie", "Activité enregistrée.")

    @get("/{structure_id:int}", operation_id="activityListPage")
    async def activities(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        du: Annotated[str, QueryParameter(max_length=10)] = "",
        au: Annotated[str, QueryParameter(max_length=10)] = "",
        type_: Annotated[str, QueryParameter(name="type", max_length=20)] = "",
        thematique: Annotated[str, QueryParameter(max_length=20)] = "",
        lieu: Annotated[str, QueryParameter(max_length=20)] = "",
        source: Annotated[str, QueryParameter(max_length=20)] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
    ) -> Template:
        """The structure's activities, newest first, filtered by period, type, thématique, place and source."""
        name = await _structure(actor, structure_id)
        errors: dict[str, str] = {}
        start = end = None
        if du or au:
            start, end, errors = asked_period(rt.today(), du, au, counted=False)
        if type_ and type_ not in vocab.KINDS:
            errors["type"] = "Type inconnu."
        if thematique and thematique not in vocab.THEMATIQUES:
            errors["thematique"] = "Thématique inconnue."
        if lieu and lieu not in vocab.PLACE_KINDS:
            errors["lieu"] = "Lieu inconnu."
        if source and source not in ("maillage", "coop", "template"):
            errors["source"] = "Origine inconnue."
        rows: list[dict[str, Any]] = []
        total = 0
        if not errors:
            filters = service.ListFilters(start, end, type_, thematique, lieu, source)
            rows, total = await service.list_activities(
                actor, structure_id, filters, PAGE_SIZE, (page_number - 1) * PAGE_SIZE
            )
        query = "&".join(
            f"{k}={v}"
            for k, v in (
                ("du", du),
                ("au", au),
                ("type", type_),
                ("thematique", thematique),
                ("lieu", lieu),
                ("source", source),
            )
            if v
        )
        return page(
            request,
            "activities/list.html",
            status_code=400 if errors else 200,
            structure_id=structure_id,
            structure_name=name,
            rows=rows,
            total=total,
            page_number=page_number,
            pages=max(1, -(-total // PAGE_SIZE)),
            query=query,
            filters={"du": du, "au": au, "type": type_, "thematique": thematique, "lieu": lieu, "source": source},
            errors=errors,
            **labels(),
        )

    @get("/{structure_id:int}/activite/{activity_id:int}", operation_id="activityPage")
    async def activity(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        activity_id: FromPath[int],
    ) -> Template:
        """One activity: what was done, its people's anonymous profiles, its satisfaction codes to show or print."""
        return await activity_page(request, rt, actor, structure_id, activity_id)

    @get("/{structure_id:int}/chiffres", operation_id="activityFiguresPage")
    async def figures_page(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        du: Annotated[str, QueryParameter(max_length=10)] = "",
        au: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """A structure's figures for any period (its members; the coordinator too: aggregates only)."""
        service.require_figures(actor, structure_id)
        name = (await service.structure_names([structure_id])).get(structure_id)
        if name is None:
            raise NotFound(service.NOT_FOUND)
        start, end, errors = asked_period(rt.today(), du, au)
        found = None if errors else await figures.structure_figures(rt, [structure_id], start, end)
        return page(
            request,
            "activities/figures.html",
            status_code=400 if errors else 200,
            structure_id=structure_id,
            structure_name=name,
            member=actor.has_role(structure_id),
            figures=found,
            lines=[],
            action=f"/activites/{structure_id}/chiffres",
            du=du or start.isoformat(),
            au=au or end.isoformat(),
            errors=errors,
        )

    @get("/{structure_id:int}/accueil-libre", operation_id="activityTallyPage")
    async def tally(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, structure_id: FromPath[int]
    ) -> Template:
        """Free-access visits: a big "+1" per place for today, and the last seven days."""
        return await _tally_page(request, rt, actor, structure_id)

    @post("/{structure_id:int}/accueil-libre", operation_id="activityTallySubmit")
    async def tap(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[forms.TallyForm],
    ) -> Response[Any]:
        """One more visit at a place (or one less, to undo a tap)."""
        errors = forms.FieldErrors()
        place_key = forms.parse_int(data.place, errors, "place", "Choisissez un lieu de la liste.") or 0
        delta = forms.parse_int(data.delta, errors, "delta", "+1 ou −1.")
        time_limit = forms.parse_int(data.time_limit, errors, "time_limit", "Une limite en minutes, par exemple 40.")
        try:
            errors.raise_if_any()
            count = await service.tap(rt, actor, structure_id, place_key, 1 if delta is None else delta, time_limit)
        except Invalid as error:
            return await _tally_page(request, rt, actor, structure_id, error.fields or {"place": error.message})
        word = "passage" if count <= 1 else "passages"
        return redirect(request, f"/activites/{structure_id}/accueil-libre", f"Compté : {count} {word} aujourd'hui.")


async def activity_page(
    request: AnyRequest,
    rt: Runtime,
    actor: Actor,
    structure_id: int,
    activity_id: int,
    errors: dict[str, str] | None = None,
) -> Template:
    row = await service.read(actor, structure_id, activity_id)  # 404 outside the structure
    base = rt.settings.base_url.rstrip("/")
    codes = [
        {"code": code, "url": f"{base}/avis/{code}", "qr": workshops.qr_svg(f"{base}/avis/{code}")}
        for code in await workshops.open_codes(actor, structure_id, activity_id)
    ]
    names = await service.structure_names([structure_id, row["redirect_structure"] or 0])
    return page(
        request,
        "activities/activity.html",
        status_code=400 if errors else 200,
        structure_id=structure_id,
        structure_name=names.get(structure_id, ""),
        row=row,
        people=await service.participants(activity_id),
        redirect_name=names.get(row["redirect_structure"] or 0, ""),
        feedback=await workshops.feedback_of(activity_id),
        codes=codes,
        errors=errors or {},
        **labels(),
    )


async def _tally_page(
    request: AnyRequest, rt: Runtime, actor: Actor, structure_id: int, errors: dict[str, str] | None = None
) -> Template:
    name = await _structure(actor, structure_id)
    today = rt.today()
    counters = await service.tally_day(actor, structure_id, today)
    places = [(0, name)] + [(p.id, p.name) for p in await service.places(structure_id)]
    return page(
        request,
        "activities/tally.html",
        status_code=400 if errors else 200,
        structure_id=structure_id,
        structure_name=name,
        places=places,
        counters=counters,
        week=await service.tally_week(actor, structure_id, today),
        today=today,
        errors=errors or {},
    )


class NetworkFigures(Controller):
    path = "/activites/reseau"
    guards = [auth.coordinator]
    include_in_schema = False

    @get("/", operation_id="activityNetworkFiguresPage")
    async def network(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        du: Annotated[str, QueryParameter(max_length=10)] = "",
        au: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """The network's figures for any period, and each structure's share."""
        start, end, errors = asked_period(rt.today(), du, au)
        found, lines = (None, []) if errors else await figures.network_figures(rt, start, end)
        return page(
            request,
            "activities/figures.html",
            status_code=400 if errors else 200,
            structure_id=None,
            structure_name="Tout le réseau",
            member=False,
            figures=found,
            lines=lines,
            action="/activites/reseau",
            du=du or start.isoformat(),
            au=au or end.isoformat(),
            errors=errors,
        )


CONTROLLERS = [ActivityPages, NetworkFigures]
