"""Referrals' pages: routing a need, sending, the inboxes, a referral's page and its actions, the figures, and
the resident's status page. Thin: referrals.forms turns posted strings into commands; the rules live in
referrals.service and referrals.routing.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter, URLEncodedBody
from litestar.response import Template

from hub import auth
from hub.accounts import Actor
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Conflict, Forbidden, Invalid, NotFound, Unprocessable
from hub.reporting import asked_period
from hub.runtime import Runtime
from hub.tables import STRUCTURE_KINDS, Structure
from hub.web import page, redirect
from network import referral_lookup as directory
from referrals import attachments, figures, forms, lifecycle, routing, service, slots
from referrals.lifecycle import OPEN, STATUSES
from referrals.module import REFERRAL_ROLES, ReferralSettings
from referrals.schemas import Candidate, ReferralOut, RouteRequest, RouteResult

AnyRequest = Request[Any, Any, Any]
MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)
PARIS = ZoneInfo("Europe/Paris")
PAGE_SIZE = 25
WHY_NOT_CHOICES = 300  # beyond this many services, "pourquoi pas" takes a typed number only
BOXES = {"recues": "received", "envoyees": "sent"}
# The status filter as the inbox's URL spells it (French words, not the code's)
STATUS_SLUGS = {
    "envoyee": "sent",
    "en-etude": "in_review",
    "acceptee": "accepted",
    "refusee": "refused",
    "reorientee": "redirected",
    "cloturee": "closed",
    "expiree": "expired",
    "annulee": "cancelled",
}
SLUG_OF = {code: slug for slug, code in STATUS_SLUGS.items()}
DONE = {
    "review": "Vous étudiez la demande : la structure qui oriente le voit.",
    "accept": "Orientation acceptée. La structure qui oriente est prévenue.",
    "refuse": "Orientation refusée. La structure qui oriente est prévenue.",
    "redirect": "Orientation réorientée : le nouveau service a reçu la demande.",
    "close": "Orientation clôturée avec son résultat.",
    "amend": "Demande complétée. Le service est prévenu.",
    "cancel": "Demande annulée. Le service est prévenu.",
}


# ---------------------------------------------------------------- policies
class ReferralMember(auth.Policy):
    """A member of a structure with a referral role; which referral they may see is the service's rule (404)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if not auth.signed_in_actor(actor).structures_with(*REFERRAL_ROLES):
            raise Forbidden("Réservé aux membres des structures qui orientent (prescripteur, aidant, référent).")


class ReferralFigures(auth.Policy):
    """A member of a structure with a referral role (their structures' figures) or the coordinator (all)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        actor = auth.signed_in_actor(actor)
        if not (actor.oversees_network or actor.structures_with(*REFERRAL_ROLES)):
            raise Forbidden("Réservé aux structures qui orientent et à la coordination du réseau.")


referral_member = ReferralMember("referral_member", "a member of a structure as prescriber, aidant or manager")
referral_figures = ReferralFigures("referral_figures", "a member who orients, or the coordinator")


# ---------------------------------------------------------------- helpers
def day_fr(moment: datetime | date) -> str:
    """ "mardi 13 octobre 2026" (FALC: dates written out, with the day)."""
    return slots.when_in_french_day(moment.astimezone(PARIS).date() if isinstance(moment, datetime) else moment)


def km_text(distance_m: float | None) -> str:
    return "" if distance_m is None else routing.distance_text(distance_m)


async def structure_names(ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Structure.select(Structure.id, Structure.name, Structure.kind).where(Structure.id.is_in(ids))
    return {row["id"]: row for row in rows}


async def _my_structures(actor: Actor) -> dict[int, str]:
    rows = await structure_names(actor.structures_with(*REFERRAL_ROLES))
    return {sid: rows[sid]["name"] for sid in sorted(rows, key=lambda sid: rows[sid]["name"])}


def _route_context(values: dict[str, Any]) -> dict[str, Any]:
    """What the routing form's template needs besides the values."""
    return {
        "values": values,
        "thematique_groups": forms.thematique_groups(),
        "thematique_labels": directory.choices("thematique"),
        "accommodations": directory.choices("accommodation"),
        "languages": directory.choices("language"),
        "publics": directory.choices("public"),
        "modes": forms.MODES,
        "half_days": service.HALF_DAYS,
    }


def _map(rt: Runtime, result: RouteResult | None) -> dict[str, Any]:
    """The results' map (an enhancement: the list says it all): numbered markers like the list, the person's place."""
    if result is None:
        return {"map_markers": [], "map_origin": None, "tiles": {}}
    markers = [
        {"n": n, "lat": c.latitude, "lon": c.longitude, "name": c.service_name, "place": c.place_name}
        for n, c in enumerate(result.candidates, 1)
        if c.latitude is not None and c.longitude is not None
    ]
    origin = None
    if result.origin_latitude is not None and result.origin_longitude is not None:
        origin = {"lat": result.origin_latitude, "lon": result.origin_longitude}
    return {"map_markers": markers, "map_origin": origin, "tiles": directory.map_tiles(rt.settings)}


async def _why_not_choices(candidates: list[Candidate]) -> dict[int, str]:
    """Services that take referrals and are not in the results, for the "pourquoi pas" select."""
    shown = {c.service_id for c in candidates}
    cards = await directory.accepting_services(WHY_NOT_CHOICES + 1)
    if len(cards) > WHY_NOT_CHOICES:
        return {}
    found = [c for c in cards if c.service_id not in shown]
    return {c.service_id: f"{c.name} — {c.structure_name}" for c in sorted(found, key=lambda c: (c.name, c.service_id))}


def _send_context(card: directory.ServiceCard, structures: dict[int, str]) -> dict[str, Any]:
    return {
        "card": card,
        "structures": structures,
        "thematique_labels": directory.choices("thematique"),
        "half_days": service.HALF_DAYS,
        "contact_modes": lifecycle.CONTACT_MODES,
        "consent_methods": lifecycle.CONSENT_METHODS,
        "nir_warning": "Pas d'information de santé, jamais le numéro de sécurité sociale.",
        "idempotency_key": secrets.token_urlsafe(18),
        "max_files": attachments.MAX_PER_UPLOAD,
    }


async def uploads_of(request: AnyRequest, field: str = attachments.FIELD) -> list[attachments.Upload]:
    """The files a form sent (an empty file input sends a nameless empty part: not a file). Each is read up to
    one byte past the limit, enough to refuse it."""
    found = []
    for value in (await request.form()).getall(field, []):
        if not isinstance(value, UploadFile):
            continue
        content = await value.read(attachments.MAX_BYTES + 1)
        if value.filename or content:
            found.append(attachments.Upload(value.filename or "", content))
    return found


async def _free_slots(rt: RuntimeDep, service_id: int) -> list[slots.FreeSlot]:
    return (await slots.free_slots([service_id], rt.now(), limit=24)).get(service_id, [])


async def _service_card(service_id: int) -> directory.ServiceCard:
    card = (await directory.cards([service_id])).get(service_id)
    if card is None or not card.active:
        raise NotFound("Ce service n'existe pas ou n'est plus actif.")
    return card


async def _redirect_choices(rt: Runtime, referral: ReferralOut) -> list[Candidate]:
    """Other services for the same need, to redirect to (empty when the need names nothing to search)."""
    request = RouteRequest(
        thematiques=referral.thematiques[:30], text="" if referral.thematiques else referral.need[:200]
    )
    try:
        result = await routing.route(rt, request)
    except (Invalid, Unprocessable):
        return []
    return [c for c in result.candidates if c.service_id != referral.service_id]


async def _nothing() -> list[Candidate]:
    return []


async def _referral_page(
    request: AnyRequest,
    rt: Runtime,
    actor: Actor,
    referral_id: int,
    errors: dict[str, str] | None = None,
    failed: str = "",
    values: dict[str, Any] | None = None,
) -> Template:
    referral, code = await service.read_with_code(actor, referral_id)  # 404 outside the two structures
    names, cards, candidates = await asyncio.gather(
        structure_names([referral.sender_structure_id, referral.receiver_structure_id]),
        directory.cards([referral.service_id]),
        _redirect_choices(rt, referral) if "redirect" in referral.actions else _nothing(),
    )
    card = cards.get(referral.service_id)
    now = rt.now()
    reminder_days = rt.settings.section(ReferralSettings).reminder_days
    open_days = (now - referral.created_at).days
    return page(
        request,
        "referrals/referral.html",
        status_code=400 if errors else 200,
        referral=referral,
        sender=names.get(referral.sender_structure_id, {}),
        receiver=names.get(referral.receiver_structure_id, {}),
        kinds=STRUCTURE_KINDS,
        card=card,
        phone=service.contact_phone(card),
        phone_owners=service.PHONE_OWNERS,
        status_url=f"{rt.settings.base_url.rstrip('/')}/suivi/{code}",
        overdue=referral.status in OPEN and open_days >= reminder_days,
        open_days=open_days,
        thematiques=directory.labels("thematique", referral.thematiques),
        availability=service.available_half_days(referral.availability),
        contact_mode=lifecycle.CONTACT_MODES.get(referral.preferred_contact, referral.preferred_contact),
        refusal_reason=lifecycle.REFUSAL_REASONS.get(referral.refusal_reason, ""),
        outcome=lifecycle.OUTCOMES.get(referral.outcome, ""),
        actions={name: lifecycle.ACTIONS[name] for name in referral.actions},
        reasons=lifecycle.REFUSAL_REASONS,
        outcomes=lifecycle.OUTCOMES,
        candidates=candidates,
        errors=errors or {},
        failed=failed,
        values=values or {},
        km_text=km_text,
        size_text=attachments.size_text,
        max_files=attachments.MAX_PER_UPLOAD,
    )


# ---------------------------------------------------------------- pages of the structures that orient
class ReferralPages(Controller):
    path = "/orientations"
    guards = [referral_member]
    include_in_schema = False

    @get("/", operation_id="referralInboxPage")
    async def inbox(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        boite: Annotated[str, QueryParameter(max_length=20)] = "",
        statut: Annotated[str, QueryParameter(max_length=20)] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
    ) -> Template:
        """The received (or sent) referrals of the actor's structures, by status, the overdue ones marked; without a
        box asked, the received ones, or the sent ones when the structures only send."""
        if not boite:
            boite = {value: key for key, value in BOXES.items()}[await service.default_box(actor)]
        if boite not in BOXES or (statut and statut not in STATUS_SLUGS):
            raise Invalid("Filtre inconnu.", {"statut": "Choisissez une boîte et un statut parmi les onglets."})
        status = STATUS_SLUGS.get(statut, "")
        rows, counts, total = await service.inbox(actor, BOXES[boite], status, PAGE_SIZE, (page_number - 1) * PAGE_SIZE)
        now = rt.now()
        reminder_days = rt.settings.section(ReferralSettings).reminder_days
        for row in rows:
            row["open_days"] = (now - row["created_at"]).days
            row["overdue"] = row["status"] in OPEN and row["open_days"] >= reminder_days
        return page(
            request,
            "referrals/inbox.html",
            rows=rows,
            counts=counts,
            total=total,
            box=boite,
            statut=statut,
            current_status=status,
            status_labels=STATUSES,
            slug_of=SLUG_OF,
            page_number=page_number,
            pages=max(1, -(-total // PAGE_SIZE)),
            reminder_days=reminder_days,
        )

    @get("/nouvelle", operation_id="referralRoutePage")
    async def route_form(self, request: AnyRequest) -> Template:
        """The need, the person's place and constraints: which services fit."""
        return page(
            request, "referrals/route.html", errors={}, result=None, why=None, why_choices={}, **_route_context({})
        )

    @post("/nouvelle", operation_id="referralRouteSubmit", status_code=200)
    async def route(self, request: AnyRequest, rt: RuntimeDep, data: URLEncodedBody[forms.RouteForm]) -> Template:
        """The ranked services for this need, on the same page (a search changes nothing: no redirect, and the
        typed address stays in the form, never in a URL); "pourquoi pas" judges one more service."""
        values = forms.values_of(data)
        errors: dict[str, str] = {}
        result, why = None, None
        try:
            route_request = forms.route_request(data)
            result = await routing.route(rt, route_request)
        except Invalid as error:
            errors = error.fields or {"thematiques": error.message}
        except Unprocessable as error:
            errors = {"address": error.message}
        else:
            wanted = forms.why_not_service(data)
            if wanted is None and (data.why_not_id.strip() or data.why_not.strip()):
                errors["why_not"] = "Choisissez un service dans la liste, ou tapez son numéro (un nombre entier)."
            elif wanted is not None:
                try:
                    why = await routing.why_not(rt, route_request, wanted)
                except NotFound:
                    errors["why_not"] = "Aucun service de l'annuaire n'a ce numéro."
        return page(
            request,
            "referrals/route.html",
            status_code=400 if errors else 200,
            errors=errors,
            result=result,
            **_map(rt, result),
            why=why,
            why_choices=await _why_not_choices(result.candidates) if result else {},
            km_text=km_text,
            **_route_context(values),
        )

    @get("/nouvelle/{service_id:int}", operation_id="referralSendPage")
    async def send_form(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, service_id: FromPath[int]
    ) -> Template:
        """The sending form for one service: the person, the need, the consent, a slot when it publishes some."""
        card = await _service_card(service_id)
        return page(
            request,
            "referrals/send.html",
            values={"preferred_contact": "phone"},
            errors={},
            free_slots=await _free_slots(rt, service_id),
            **_send_context(card, await _my_structures(actor)),
        )

    @post(
        "/nouvelle/{service_id:int}",
        operation_id="referralSendSubmit",
        request_max_body_size=attachments.MAX_BODY_BYTES,
    )
    async def send(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        service_id: FromPath[int],
        data: Annotated[forms.SendForm, MULTIPART],
    ) -> Response[Any]:
        """Send the referral (step "send"), or show the form with the need the results carried (step "prepare")."""
        card = await _service_card(service_id)
        structures = await _my_structures(actor)
        values = forms.values_of(data)
        free = await _free_slots(rt, service_id)
        if data.step == "prepare":
            values = {**values, "need": data.need or data.text, "preferred_contact": "phone"}
            return page(
                request,
                "referrals/send.html",
                values=values,
                errors={},
                free_slots=free,
                **_send_context(card, structures),
            )
        uploads = await uploads_of(request)
        try:
            try:
                command = forms.referral_create(data, service_id, structures)
            except Invalid as error:
                raise attachments.with_files_checked(error, uploads) from None
            referral_id, _ = await service.create(
                rt, actor, command, idempotency_key=data.idempotency_key or None, uploads=uploads
            )
        except (Invalid, Conflict) as error:
            taken = isinstance(error, Conflict) and data.slot
            return page(
                request,
                "referrals/send.html",
                status_code=error.status_code,
                values={**values, "slot": "" if taken else values.get("slot", "")},
                errors=error.fields or {"slot" if taken else "service": error.message},
                free_slots=free,
                files_again=bool(uploads),  # a browser never keeps chosen files: say to choose them again
                **_send_context(card, structures),
            )
        return redirect(request, f"/orientations/{referral_id}", "Orientation envoyée.")

    @get("/{referral_id:int}", operation_id="referralPage")
    async def referral(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, referral_id: FromPath[int]
    ) -> Template:
        """A referral: the need, the person's contact, the service, the timeline, and the viewer's actions."""
        return await _referral_page(request, rt, actor, referral_id)

    @post("/{referral_id:int}/action", operation_id="referralActionSubmit")
    async def action(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        referral_id: FromPath[int],
        data: URLEncodedBody[forms.ActionForm],
    ) -> Response[Any]:
        """Take an action; a 409 (someone decided first, or not from this status) comes back as a message."""
        try:
            command = forms.transition(data)
            await service.transition(rt, actor, referral_id, command)
        except Invalid as error:
            fields = error.fields or {"message": error.message}
            return await _referral_page(request, rt, actor, referral_id, fields, data.action, forms.values_of(data))
        except Conflict as error:
            return redirect(request, f"/orientations/{referral_id}", error.message, category="error")
        return redirect(request, f"/orientations/{referral_id}", DONE[command.action])

    @post(
        "/{referral_id:int}/pieces",
        operation_id="referralAttachSubmit",
        request_max_body_size=attachments.MAX_BODY_BYTES,
    )
    async def attach(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, referral_id: FromPath[int]
    ) -> Response[Any]:
        """Add files (PDF, PNG, JPEG) to a referral under way, from either structure."""
        uploads = await uploads_of(request)
        try:
            added = await service.attach(rt, actor, referral_id, uploads)
        except Invalid as error:
            return await _referral_page(request, rt, actor, referral_id, error.fields, "attach")
        except Conflict as error:
            return redirect(request, f"/orientations/{referral_id}", error.message, category="error")
        word = "Pièce jointe ajoutée." if len(added) == 1 else f"{len(added)} pièces jointes ajoutées."
        return redirect(request, f"/orientations/{referral_id}#pieces", word)

    @get("/{referral_id:int}/pieces/{attachment_id:int}", operation_id="referralAttachmentDownload")
    async def attachment(
        self, actor: CurrentActor, referral_id: FromPath[int], attachment_id: FromPath[int]
    ) -> Response[bytes]:
        """One file of a referral, downloaded (never shown inline), to the two structures only."""
        found = await service.attachment(actor, referral_id, attachment_id)
        return Response(
            bytes(found["content"]),
            media_type=found["media_type"],
            headers=attachments.download_headers(found["filename"]),
        )

    @get("/{referral_id:int}/fiche.docx", operation_id="referralSlipDocx")
    async def slip_docx(self, rt: RuntimeDep, actor: CurrentActor, referral_id: FromPath[int]) -> Response[bytes]:
        """The resident's FALC slip as a Word file (to adapt before printing)."""
        from referrals import slip

        return await slip.download(rt, actor, referral_id, "docx")

    @get("/{referral_id:int}/fiche.pdf", operation_id="referralSlipPdf")
    async def slip_pdf(self, rt: RuntimeDep, actor: CurrentActor, referral_id: FromPath[int]) -> Response[bytes]:
        """The resident's FALC slip as a PDF to print (503 in French without LibreOffice)."""
        from referrals import slip

        return await slip.download(rt, actor, referral_id, "pdf")


# ---------------------------------------------------------------- figures
class FiguresPages(Controller):
    path = "/orientations/chiffres"
    guards = [referral_figures]
    include_in_schema = False

    @get("/", operation_id="referralFiguresPage")
    async def figures(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        du: Annotated[str, QueryParameter(max_length=10)] = "",
        au: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """Each structure its own figures; the coordinator every structure's and the flows between kinds."""
        start, end, errors = asked_period(rt.today(), du, au)
        rows: list[dict[str, Any]] = []
        flows: list[dict[str, Any]] = []
        if not errors:
            since = datetime.combine(start, time(), PARIS)
            until = datetime.combine(end + timedelta(days=1), time(), PARIS)
            wanted = None if actor.oversees_network else actor.structures_with(*REFERRAL_ROLES)
            rows = await figures.structure_figures(wanted, since, until)
            if actor.oversees_network:
                flows = await figures.flows(since, until)
        return page(
            request,
            "referrals/figures.html",
            status_code=400 if errors else 200,
            rows=rows,
            flows=flows,
            network=actor.oversees_network,
            kinds=STRUCTURE_KINDS,
            start=start,
            end=end,
            du=du or start.isoformat(),
            au=au or end.isoformat(),
            errors=errors,
            day_fr=day_fr,
        )


# ---------------------------------------------------------------- the resident's status page
STATUS_FOR_RESIDENT: dict[str, list[str]] = {
    "sent": ["Votre demande est envoyée.", "Le service va l'étudier.", "Le service vous appellera."],
    "in_review": ["Votre demande est en cours d'étude.", "Le service vous appellera bientôt."],
    "accepted": ["Votre demande est acceptée.", "Le service va vous aider.", "Le service vous appellera."],
    "refused": ["Votre demande est refusée."],
    "redirected": [
        "Votre demande est envoyée à un autre service.",
        "Ce service peut mieux vous aider.",
        "La personne qui vous a orienté vous donnera son nom.",
    ],
    "closed": ["Votre demande est terminée.", "Le service a fini de vous aider."],
    "expired": [
        "Votre demande est expirée.",
        "Le service n'a pas répondu à temps.",
    ],
    "cancelled": ["Votre demande est annulée."],
}
# After these, the service will not see the person: the page says what to do next instead of where to go.
ENDED = ("refused", "expired", "cancelled")
NEXT_STEPS = [
    "N'allez pas à ce service pour cette demande.",
    "Retournez voir la personne qui vous a orienté.",
    "Elle peut chercher un autre service avec vous.",
]


class StatusPages(Controller):
    path = "/suivi"
    guards = [auth.public]
    include_in_schema = False

    @get("/{code:str}", operation_id="referralStatusPage")
    async def status(self, request: AnyRequest, rt: RuntimeDep, code: FromPath[str]) -> Template:
        """What became of a resident's referral, in easy French, without personal data (the code is the key)."""
        found = await service.public_status(code)
        card: directory.ServiceCard | None = found["card"]
        lines = list(STATUS_FOR_RESIDENT.get(found["status"], []))
        if found["via"]:  # redirected: the service that has the request now, and where it stands there
            lines = [
                "Votre demande est passée à un autre service.",
                f"Le nouveau service s'appelle : {found['service_name']}.",
                *lines,
            ]
        if found["status"] == "refused" and found["reason_for_resident"]:
            lines.append(found["reason_for_resident"])
        ended = found["status"] in ENDED
        place = card.places[0] if card and card.places and not ended else None
        response = page(
            request,
            "referrals/status.html",
            lines=lines,
            found=found,
            card=None if ended else card,
            phone=("", "") if ended else service.contact_phone(card),
            ended=ended,
            next_steps=NEXT_STEPS,
            place=place,
            hours=directory.hours_in_french(place.opening_hours, rt.today()) if place else [],
            appointment=None if ended else found["appointment"],
            sent_on=day_fr(found["created_at"]),
        )
        # the code is the key: no search engine keeps the page, no other site learns the address
        response.headers.update({"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"})
        return response


CONTROLLERS = [FiguresPages, ReferralPages, StatusPages]
