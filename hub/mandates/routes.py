"""Mandates' pages: the aidant's mandates, the creation flow, a mandate's page, signing (on screen or on paper),
finalising, revoking, renewing, the charter, the manager's habilitations, the structure's template variants,
and the public verification page the QR code opens. Thin: hub.mandates.forms turns posted strings into
values; the rules (who may act, TOTP step-up, images, sealing) live in hub.mandates.service.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from hub import auth
from hub.accounts import Actor
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from hub.forms import FieldErrors
from hub.mandates import documents, forms, service
from hub.mandates.module import MANDATE_ROLES
from hub.mandates.schemas import MandateCreate, MandateView, ResidentCreate
from hub.mandates.vocabulary import (
    DURATIONS,
    LEGAL_PROTECTIONS,
    MANDATE_STATUSES,
    SCOPE_BY_CODE,
    SCOPE_STATUSES,
    SCOPES,
)
from hub.runtime import Runtime
from hub.settings import PROJECT_ROOT
from hub.tables import Structure
from hub.web import page, redirect

AnyRequest = Request[Any, Any, Any]

SCAN_MAX_BYTES = 10 * 1024 * 1024 + 64 * 1024  # the service refuses scans over 10 MB; this leaves room for the form
SIGN_MAX_BYTES = 2 * 1024 * 1024  # two pads' PNGs (each ≤ 500 kB, a third more in base64) and the form
VARIANT_MAX_BYTES = 5 * 1024 * 1024
TABS = {"actifs": "active", "echeance": "expiring", "projets": "drafts", "historique": "history"}
TAB_LABELS = {
    "actifs": "Valides",
    "echeance": "Bientôt expirés",
    "projets": "Projets à signer",
    "historique": "Historique",
}
SCAN_NAMES = {"application/pdf": "scan.pdf", "image/png": "scan.png", "image/jpeg": "scan.jpg"}
VARIANT_KINDS = {
    "mandat": "Mandat",
    "revocation": "Attestation d'arrêt",
    "lettre-echeance": "Lettre de fin de mandat",
}
NOINDEX = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}
CHARTER_FIRST = "Lisez et acceptez la charte de l'aidant avant de faire un mandat."


# ---------------------------------------------------------------- policies
class MandateMember(auth.Policy):
    """An aidant or a manager of some structure; which mandate they may see is the service's rule (404)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if not auth.signed_in_actor(actor).structures_with(*MANDATE_ROLES):
            raise Forbidden("Réservé aux aidants et aux référents des structures.")


class MandateManager(auth.Policy):
    """A manager of some structure: its aidants' habilitations and its template variants (the service checks which)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if not auth.signed_in_actor(actor).structures_with("manager"):
            raise Forbidden("Réservé aux référents des structures.")


mandate_member = MandateMember("mandate_member", "an aidant or a manager of a structure")
mandate_manager = MandateManager("mandate_manager", "a manager of a structure")


# ---------------------------------------------------------------- helpers
def scope_choices() -> list[dict[str, Any]]:
    """The ten scopes as the form shows them: label, FALC line, pictogram, warning."""
    return [
        {"code": s.code, "label": s.label, "falc": s.falc, "pictogram": s.pictogram, "warning": s.warning}
        for s in SCOPES
    ]


def _common() -> dict[str, Any]:
    return {
        "scopes_by_code": SCOPE_BY_CODE,
        "durations": DURATIONS,
        "mandate_statuses": MANDATE_STATUSES,
        "scope_statuses": SCOPE_STATUSES,
    }


def _download(content: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


async def _charter_missing(rt: Runtime, actor: Actor) -> bool:
    accepted, _ = await service.charter_status(rt, actor)
    return not accepted


def _to_charter(request: AnyRequest) -> Redirect:
    return redirect(request, "/mandats/charte", CHARTER_FIRST, category="error")


async def _structures(rt: Runtime, actor: Actor) -> tuple[dict[int, str], list[str]]:
    """Where the actor may make mandates, and why nowhere when so."""
    context = await service.aidant_context(rt, actor)
    return {sid: name for sid, name in context.structures}, list(context.reasons)


def _structure_of(text: str, structures: dict[int, str], errors: FieldErrors) -> int:
    if len(structures) == 1 and not text.strip():
        return next(iter(structures))
    structure_id = forms.positive_id(text, "structure_id", errors, "Choisissez votre structure.")
    if structure_id and structure_id not in structures:
        errors["structure_id"] = "Vous ne pouvez pas faire de mandat pour cette structure."
    return structure_id


# ---------------------------------------------------------------- the aidant's pages
class MandatePages(Controller):
    path = "/mandats"
    guards = [mandate_member]
    include_in_schema = False

    @get("/", operation_id="mandateListPage")
    async def mandates(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        onglet: Annotated[str, QueryParameter(max_length=20)] = "actifs",
        structure: Annotated[int | None, QueryParameter(ge=1, le=auth.ID_MAX)] = None,
    ) -> Response[Any]:
        """The mandates of the actor's structures: valid, expiring soon, history."""
        if onglet not in TABS:
            raise Invalid(
                "Onglet inconnu.", {"onglet": "Choisissez un onglet parmi " + ", ".join(TAB_LABELS.values()) + "."}
            )
        makers, reasons = await _structures(rt, actor)
        if not makers and await _charter_missing(rt, actor) and not actor.structures_with("manager"):
            return _to_charter(request)
        structures = await _structure_names(actor.structures_with(*MANDATE_ROLES))  # a manager reads them too
        chosen = structure if structure in structures else next(iter(makers or structures), None)
        rows = await service.list_mandates(rt, actor, chosen, TABS[onglet]) if chosen else []
        return page(
            request,
            "mandates/list.html",
            rows=rows,
            tab=onglet,
            tabs=TAB_LABELS,
            structures=structures,
            structure_id=chosen,
            can_make=bool(makers),
            reasons=reasons,
            **_common(),
        )

    # ------------------------------------------------------------ creation: the resident
    @get("/nouveau", operation_id="mandateNewPage")
    async def new(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        personne: Annotated[int | None, QueryParameter(ge=1, le=auth.ID_MAX)] = None,
        structure: Annotated[int | None, QueryParameter(ge=1, le=auth.ID_MAX)] = None,
    ) -> Response[Any]:
        """Step 1: find or create the resident; step 2 (a resident chosen): the scopes and the duration."""
        if await _charter_missing(rt, actor):
            return _to_charter(request)
        structures, reasons = await _structures(rt, actor)
        if not structures:
            return page(request, "mandates/cannot.html", reasons=reasons)
        if personne is None:
            return await self._resident_step(request, rt, actor, structures)
        structure_id = structure if structure in structures else next(iter(structures))
        return await self._choice_step(request, rt, actor, structure_id, personne, {}, {})

    async def _resident_step(
        self,
        request: AnyRequest,
        rt: Runtime,
        actor: Actor,
        structures: dict[int, str],
        *,
        found: list[Any] | None = None,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "mandates/new_resident.html",
            status_code=status_code,
            structures=structures,
            found=found,
            values=values or {"structure_id": str(next(iter(structures)))},
            errors=errors or {},
        )

    async def _choice_step(
        self,
        request: AnyRequest,
        rt: Runtime,
        actor: Actor,
        structure_id: int,
        resident_id: int,
        values: dict[str, Any],
        errors: dict[str, str],
    ) -> Template:
        resident = await service.get_resident(rt, actor, structure_id, resident_id)  # 404 outside the structure
        return page(
            request,
            "mandates/new_choice.html",
            status_code=400 if errors else 200,
            resident=resident,
            structure_id=structure_id,
            scope_choices=scope_choices(),
            values={"scopes": [], "duration_days": "", **values},
            errors=errors,
            **_common(),
        )

    @post("/nouveau/chercher", operation_id="mandateResidentSearch", status_code=200)
    async def search(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.ResidentSearchForm]
    ) -> Response[Any]:
        """The structure's residents whose name matches (the name is posted, never put in a URL)."""
        if await _charter_missing(rt, actor):
            return _to_charter(request)
        structures, reasons = await _structures(rt, actor)
        if not structures:
            return page(request, "mandates/cannot.html", reasons=reasons)
        errors = FieldErrors()
        structure_id = _structure_of(data.structure_id, structures, errors)
        if len(data.q.strip()) < 2:
            errors["q"] = "Tapez au moins 2 lettres du nom ou du prénom."
        values = forms.values_of(data)
        if errors:
            return await self._resident_step(
                request, rt, actor, structures, values=values, errors=errors, status_code=400
            )
        found = await service.find_residents(rt, actor, structure_id, data.q.strip())
        return await self._resident_step(request, rt, actor, structures, found=found, values=values)

    @post("/nouveau/personne", operation_id="mandateResidentCreate")
    async def create_resident(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.ResidentForm]
    ) -> Response[Any]:
        """Record a new resident of the structure, then go on to the scopes."""
        if await _charter_missing(rt, actor):
            return _to_charter(request)
        structures, reasons = await _structures(rt, actor)
        if not structures:
            return page(request, "mandates/cannot.html", reasons=reasons)
        errors = FieldErrors()
        structure_id = _structure_of(data.structure_id, structures, errors)
        birth_date = forms.birth_date_of(data.birth_date, errors, rt.today())
        errors.update(
            {k: v for k, v in service.name_errors(data.first_name, data.last_name).items() if k not in errors}
        )
        values = forms.values_of(data)
        try:
            errors.raise_if_any()
            resident_id = await service.create_resident(
                rt,
                actor,
                ResidentCreate(
                    structure_id=structure_id,
                    first_name=data.first_name.strip(),
                    last_name=data.last_name.strip(),
                    birth_date=birth_date,
                ),
            )
        except Invalid as error:
            fields = {**errors, **error.fields} or {"first_name": error.message}
            return await self._resident_step(
                request, rt, actor, structures, values=values, errors=fields, status_code=400
            )
        return redirect(request, f"/mandats/nouveau?personne={resident_id}&structure={structure_id}")

    # ------------------------------------------------------------ creation: the choices, the recap, the draft
    @post("/nouveau", operation_id="mandateCreateSubmit", status_code=200)
    async def create(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.MandateForm]
    ) -> Response[Any]:
        """step "recap": check the scopes and duration, show the FALC recap to read aloud (and which older scopes
        it replaces); step "create": the legal-protection answer and a fresh TOTP code, then the draft."""
        if await _charter_missing(rt, actor):
            return _to_charter(request)
        structures, reasons = await _structures(rt, actor)
        if not structures:
            return page(request, "mandates/cannot.html", reasons=reasons)
        errors = FieldErrors()
        structure_id = _structure_of(data.structure_id, structures, errors)
        resident_id = forms.positive_id(data.resident_id, "resident_id", errors, "Choisissez la personne.")
        if "structure_id" in errors or "resident_id" in errors:
            raise NotFound("Cette personne n'existe pas ou n'est pas suivie par votre structure.")
        scopes = forms.scopes_of(data.scopes, errors)
        duration = forms.duration_of(data.duration_days, errors)
        values = forms.values_of(data)
        if errors or data.step == "back":
            return await self._choice_step(request, rt, actor, structure_id, resident_id, values, dict(errors))
        if data.step == "create":
            if not forms.ticked(data.no_legal_protection):
                errors["no_legal_protection"] = (
                    "Demandez à la personne si elle a une tutelle, une curatelle ou une sauvegarde de justice. "
                    "Sans sa réponse « non », le mandat n'est pas possible."
                )
            if not data.totp_code.strip():
                errors["totp_code"] = "Tapez le code à 6 chiffres de votre application d'authentification."
            elif errors:  # the box is missing: say now whether the code is wrong too (without spending it)
                errors.update(await service.step_up_errors(rt, actor, data.totp_code.strip()))
            if not errors:
                try:
                    mandate_id = await service.create_draft(
                        rt,
                        actor,
                        MandateCreate(
                            structure_id=structure_id,
                            resident_id=resident_id,
                            scopes=scopes,
                            duration_days=duration,
                            no_legal_protection=True,
                            totp_code=data.totp_code.strip(),
                        ),
                    )
                except Invalid as error:
                    errors.update(error.fields or {"totp_code": error.message})
                else:
                    return redirect(
                        request,
                        f"/mandats/{mandate_id}",
                        "Projet de mandat créé. Faites-le signer, sur l'écran ou sur papier.",
                    )
        resident = await service.get_resident(rt, actor, structure_id, resident_id)
        replaced = await service.replaced_scopes(rt, actor, structure_id, resident_id, scopes)
        return page(
            request,
            "mandates/new_recap.html",
            status_code=400 if errors else 200,
            resident=resident,
            structure_id=structure_id,
            structure_name=structures[structure_id],
            scopes=scopes,
            duration=duration,
            ends_on=service.end_date(rt.today(), duration),
            replaced=replaced,
            legal_protections=LEGAL_PROTECTIONS,
            values=values,
            errors=dict(errors),
            **_common(),
        )

    # ------------------------------------------------------------ the charter
    @get("/charte", operation_id="mandateCharterPage")
    async def charter(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Template:
        """The aidant's charter in its current version, to read and accept."""
        return await _charter_page(request, rt, actor, {})

    @post("/charte", operation_id="mandateCharterSubmit")
    async def accept_charter(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.CharterForm]
    ) -> Response[Any]:
        """Accept the charter's current version (the version read is posted: a newer one must be read first)."""
        if not forms.ticked(data.accept):
            return await _charter_page(
                request, rt, actor, {"accept": "Cochez la case pour dire que vous acceptez la charte."}
            )
        try:
            await service.accept_charter(rt, actor, data.version)
        except (Invalid, Conflict) as error:
            return await _charter_page(request, rt, actor, error.fields or {"accept": error.message})
        return redirect(request, "/mandats", "Charte acceptée. Vous pouvez faire des mandats.")

    @get("/charte.docx", operation_id="mandateCharterDocx")
    async def charter_docx(self, rt: RuntimeDep, actor: CurrentActor) -> Response[bytes]:
        """The charter as a Word file (to print and keep)."""
        _, version = await service.charter_status(rt, actor)
        return _download(await service.charter_document(rt, actor), f"charte-aidant-{version}.docx", DOCX)

    # ------------------------------------------------------------ one mandate
    @get("/{mandate_id:int}", operation_id="mandatePage")
    async def mandate(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Template:
        """A mandate: its status, its scopes with theirs, the documents, what can be done next."""
        return await _mandate_page(request, rt, actor, mandate_id)

    @get("/{mandate_id:int}/signer", operation_id="mandateSignPage")
    async def sign_page(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Template:
        """The two signature pads (the resident's, the aidant's); without JavaScript, the paper way."""
        return await _sign_page(request, rt, actor, mandate_id, {})

    @post("/{mandate_id:int}/signer", operation_id="mandateSignSubmit", request_max_body_size=SIGN_MAX_BYTES)
    async def sign(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        mandate_id: FromPath[int],
        data: URLEncodedBody[forms.SignForm],
    ) -> Response[Any]:
        """Keep both signatures (the service checks they are real images), then the mandate can be finalised."""
        errors = FieldErrors()
        resident_png = forms.signature_bytes(data.resident_signature, "resident_signature", "de la personne", errors)
        aidant_png = forms.signature_bytes(data.aidant_signature, "aidant_signature", "de l'aidant", errors)
        try:
            errors.raise_if_any("Les signatures ne sont pas enregistrées.")
            await service.add_signatures(rt, actor, mandate_id, resident_png, aidant_png)
        except Invalid as error:
            fields = error.fields or {"resident_signature": error.message}
            kept = {  # a signature drawn and accepted comes back in its frame: the person does not sign again
                field: getattr(data, field).strip()
                for field in ("resident_signature", "aidant_signature")
                if field not in fields and getattr(data, field).strip()
            }
            return await _sign_page(request, rt, actor, mandate_id, fields, kept)
        except Conflict as error:
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        return redirect(request, f"/mandats/{mandate_id}#finaliser", "Signatures enregistrées. Finalisez le mandat.")

    @get("/{mandate_id:int}/papier", operation_id="mandatePaperPage")
    async def paper_page(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Template:
        """Signing on paper: print the draft, sign it, upload the scan."""
        return await _paper_page(request, rt, actor, mandate_id, {})

    @post("/{mandate_id:int}/papier", operation_id="mandatePaperSubmit", request_max_body_size=SCAN_MAX_BYTES)
    async def paper(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        mandate_id: FromPath[int],
        data: Annotated[forms.ScanUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        """Attach the scan of the signed paper (PDF or image; hashed and kept)."""
        content = await data.file.read() if data.file is not None else b""
        if not content:
            return await _paper_page(
                request, rt, actor, mandate_id, {"file": "Choisissez le fichier du scan (PDF, PNG ou JPEG)."}
            )
        try:
            await service.attach_scan(
                rt, actor, mandate_id, content, (data.file.filename if data.file else "") or "scan"
            )
        except Invalid as error:
            return await _paper_page(request, rt, actor, mandate_id, error.fields or {"file": error.message})
        except Conflict as error:
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        return redirect(request, f"/mandats/{mandate_id}#finaliser", "Scan enregistré. Finalisez le mandat.")

    @post("/{mandate_id:int}/finaliser", operation_id="mandateFinaliseSubmit")
    async def finalise(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Response[Any]:
        """Render with the signatures and the QR code, convert to PDF, seal: the mandate is valid."""
        try:
            await service.finalise(rt, actor, mandate_id)
        except (Invalid, Conflict) as error:
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        except DomainError as error:
            if error.status_code != 503:
                raise
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        return redirect(request, f"/mandats/{mandate_id}", "Mandat finalisé et scellé. Il est valide.")

    @get("/{mandate_id:int}/mandat.pdf", operation_id="mandateSealedPdf")
    async def sealed_pdf(self, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]) -> Response[bytes]:
        """The sealed mandate (PDF with the hub's signature)."""
        view = await service.get_mandate(rt, actor, mandate_id)
        return _download(await service.sealed_pdf(rt, actor, mandate_id), f"mandat-{view.number}.pdf", PDF)

    @get("/{mandate_id:int}/projet.pdf", operation_id="mandateDraftPdf")
    async def draft_pdf(self, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]) -> Response[bytes]:
        """The draft, "projet, sans valeur", as a PDF to print and sign on paper."""
        view = await service.get_mandate(rt, actor, mandate_id)
        content = await service.draft_document(rt, actor, mandate_id, "pdf")
        return _download(content, f"projet-mandat-{view.number}.pdf", PDF)

    @get("/{mandate_id:int}/projet.docx", operation_id="mandateDraftDocx")
    async def draft_docx(self, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]) -> Response[bytes]:
        """The draft, "projet, sans valeur", as a Word file."""
        view = await service.get_mandate(rt, actor, mandate_id)
        content = await service.draft_document(rt, actor, mandate_id, "docx")
        return _download(content, f"projet-mandat-{view.number}.docx", DOCX)

    @get("/{mandate_id:int}/scan", operation_id="mandateScanFile")
    async def scan(self, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]) -> Response[bytes]:
        """The scan of the paper signed by hand, as it was sent."""
        view = await service.get_mandate(rt, actor, mandate_id)
        content, media_type = await service.scan_file(rt, actor, mandate_id)
        name = SCAN_NAMES.get(media_type, "scan.bin")
        return _download(content, f"mandat-{view.number or view.id}-{name}", media_type)

    @get("/{mandate_id:int}/lettre.docx", operation_id="mandateExpiryLetter")
    async def expiry_letter(self, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]) -> Response[bytes]:
        """The FALC letter for the resident when the mandate comes to its end (Word, to adapt and print)."""
        view = await service.get_mandate(rt, actor, mandate_id)
        content = await service.expiry_letter(rt, actor, mandate_id, "docx")
        return _download(content, f"lettre-echeance-{view.number}.docx", DOCX)

    @post("/{mandate_id:int}/abandonner", operation_id="mandateCancelSubmit")
    async def cancel(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Response[Any]:
        """Give up a draft before it is finalised (it never was valid)."""
        try:
            await service.cancel_draft(rt, actor, mandate_id)
        except Conflict as error:
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        return redirect(request, f"/mandats/{mandate_id}", "Projet abandonné : il n'a jamais été valide.")

    @get("/{mandate_id:int}/revoquer", operation_id="mandateRevokePage")
    async def revoke_page(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Template:
        """Revoke at the resident's request: the whole mandate or chosen scopes, once confirmed."""
        return await _revoke_page(request, rt, actor, mandate_id, {}, {"what": "all", "scopes": []})

    @post("/{mandate_id:int}/revoquer", operation_id="mandateRevokeSubmit")
    async def revoke(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        mandate_id: FromPath[int],
        data: URLEncodedBody[forms.RevokeForm],
    ) -> Response[Any]:
        """Revoke; the sealed revocation attestation is made and the verification page says so at once."""
        errors = FieldErrors()
        scopes: tuple[str, ...] | None = None
        if data.what == "some":
            scopes = forms.scopes_of(data.scopes, errors)
        elif data.what != "all":
            errors["what"] = "Choisissez : tout le mandat, ou certaines démarches."
        if not forms.ticked(data.confirm):
            errors["confirm"] = "Cochez la case : la personne demande d'arrêter."
        for field, message in (await service.revocation_errors(rt, actor, mandate_id, scopes, data.reason)).items():
            errors.setdefault(field, message)
        values = forms.values_of(data)
        try:
            errors.raise_if_any("L'arrêt n'est pas fait.")
            revocation_id = await service.revoke(rt, actor, mandate_id, scopes, data.reason.strip())
        except Invalid as error:
            return await _revoke_page(request, rt, actor, mandate_id, error.fields or {"what": error.message}, values)
        except Conflict as error:
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        view = await service.get_mandate(rt, actor, mandate_id)
        return redirect(request, f"/mandats/{mandate_id}", _revoked_message(view, revocation_id))

    @get("/{mandate_id:int}/renouveler", operation_id="mandateRenewPage")
    async def renew_page(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, mandate_id: FromPath[int]
    ) -> Response[Any]:
        """Renew: a new draft with the same scopes, confirmed with a fresh code."""
        if await _charter_missing(rt, actor):
            return _to_charter(request)
        return await _renew_page(request, rt, actor, mandate_id, {})

    @post("/{mandate_id:int}/renouveler", operation_id="mandateRenewSubmit")
    async def renew(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        mandate_id: FromPath[int],
        data: URLEncodedBody[forms.TotpForm],
    ) -> Response[Any]:
        """Start the renewal: a new draft to sign."""
        if await _charter_missing(rt, actor):
            return _to_charter(request)
        if not data.totp_code.strip():
            return await _renew_page(
                request, rt, actor, mandate_id, {"totp_code": "Tapez le code à 6 chiffres de votre application."}
            )
        try:
            new_id = await service.start_renewal(rt, actor, mandate_id, data.totp_code.strip())
        except Invalid as error:
            return await _renew_page(request, rt, actor, mandate_id, error.fields or {"totp_code": error.message})
        except Conflict as error:
            return redirect(request, f"/mandats/{mandate_id}", error.message, category="error")
        return redirect(request, f"/mandats/{new_id}", "Nouveau projet de mandat créé. Faites-le signer.")

    @get("/revocations/{revocation_id:int}/attestation.pdf", operation_id="mandateRevocationPdf")
    async def revocation_pdf(
        self, rt: RuntimeDep, actor: CurrentActor, revocation_id: FromPath[int]
    ) -> Response[bytes]:
        """The sealed revocation attestation."""
        content = await service.revocation_pdf(rt, actor, revocation_id)
        return _download(content, f"annulation-{revocation_id}.pdf", PDF)


# ---------------------------------------------------------------- the manager's pages
class ManagerPages(Controller):
    path = "/mandats"
    guards = [mandate_manager]
    include_in_schema = False

    # ------------------------------------------------------------ the manager's habilitations
    @get("/habilitations", operation_id="mandateHabilitationsPage")
    async def habilitations(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Template:
        """The members of the manager's structures: who may make mandates, and what each still lacks."""
        return await _habilitations_page(request, rt, actor)

    @post("/habilitations", operation_id="mandateHabilitationSubmit")
    async def habilitate(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[forms.HabilitationForm]
    ) -> Response[Any]:
        """Grant or withdraw a member's habilitation (the manager's own structure only)."""
        errors = FieldErrors()
        structure_id = forms.positive_id(data.structure_id, "structure_id", errors, "Structure inconnue.")
        user_id = forms.positive_id(data.user_id, "user_id", errors, "Personne inconnue.")
        if errors or data.action not in ("grant", "withdraw"):
            raise Invalid("Action inconnue.", dict(errors))
        if data.action == "grant":
            await service.habilitate(rt, actor, structure_id, user_id)
            message = "Habilitation donnée."
        else:
            await service.withdraw_habilitation(rt, actor, structure_id, user_id)
            message = "Habilitation retirée."
        return redirect(request, "/mandats/habilitations", message)

    # ------------------------------------------------------------ the structure's template variants
    @get("/modeles", operation_id="mandateVariantsPage")
    async def variants(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Template:
        """The structure's own versions of the documents: upload, the FALC report, the proofreader, activation."""
        return await _variants_page(request, rt, actor)

    @post(
        "/modeles",
        operation_id="mandateVariantUpload",
        request_max_body_size=VARIANT_MAX_BYTES,
    )
    async def upload_variant(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        data: Annotated[forms.VariantUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        """Upload a .docx variant; the page shows its report (it is not active yet)."""
        errors = FieldErrors()
        structure_id = forms.positive_id(data.structure_id, "structure_id", errors, "Choisissez la structure.")
        content = await data.file.read() if data.file is not None else b""
        if not content:
            errors["file"] = "Choisissez un fichier Word (.docx)."
        if errors:
            return await _variants_page(request, rt, actor, dict(errors))
        try:
            variant_id = await service.upload_variant(
                rt, actor, structure_id, data.kind, content, (data.file.filename if data.file else "") or "modele.docx"
            )
        except Invalid as error:
            return await _variants_page(request, rt, actor, error.fields or {"file": error.message})
        return redirect(request, f"/mandats/modeles#modele-{variant_id}", "Modèle envoyé : lisez son rapport.")

    @get("/modeles/reseau/{kind:str}", operation_id="mandateNetworkTemplate")
    async def network_template(self, kind: FromPath[str]) -> Response[bytes]:
        """The network's own template of a kind, to start a variant from."""
        name = kind.removesuffix(".docx")
        if name not in VARIANT_KINDS:
            raise NotFound("Ce modèle n'existe pas.")
        template = documents.current_template(name)
        return _download(template.data, f"{name}.{template.version}.docx", DOCX)

    @post("/modeles/{variant_id:int}", operation_id="mandateVariantProof")
    async def proof_variant(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        variant_id: FromPath[int],
        data: URLEncodedBody[forms.VariantProofForm],
    ) -> Response[Any]:
        """Record who proofread the variant, and activate it (only when the checks pass)."""
        if not data.proofreader.strip():
            return await _variants_page(
                request, rt, actor, {f"proofreader-{variant_id}": "Indiquez qui a relu le modèle."}
            )
        try:
            await service.activate_variant(rt, actor, variant_id, data.proofreader.strip())
        except (Invalid, Conflict) as error:
            return await _variants_page(request, rt, actor, {f"proofreader-{variant_id}": error.message})
        return redirect(request, "/mandats/modeles", "Modèle relu et activé pour les prochains documents.")


PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---------------------------------------------------------------- page builders
def _revoked_message(view: MandateView, revocation_id: int) -> str:
    """What the flash says after a revocation: what stops and, when some scopes go on, what continues."""
    revocation = next((r for r in view.revocations if r.id == revocation_id), None)
    stopped = [SCOPE_BY_CODE[code].label for code in (revocation.scopes if revocation else []) if code in SCOPE_BY_CODE]
    going_on = [SCOPE_BY_CODE[s.code].label for s in view.scopes if s.status == "active" and s.code in SCOPE_BY_CODE]
    if not going_on:
        return "Mandat arrêté : il n'a plus de valeur. L'attestation de fin de mandat est prête."
    return (
        f"Démarches arrêtées : {', '.join(stopped)}. Le mandat reste valide pour : {', '.join(going_on)}. "
        "L'attestation de changement de mandat est prête."
    )


async def _mandate_page(request: AnyRequest, rt: Runtime, actor: Actor, mandate_id: int) -> Template:
    view = await service.get_mandate(rt, actor, mandate_id)  # 404 outside the structure
    return page(request, "mandates/mandate.html", mandate=view, **_common())


async def _sign_page(
    request: AnyRequest,
    rt: Runtime,
    actor: Actor,
    mandate_id: int,
    errors: dict[str, str],
    kept: dict[str, str] | None = None,
) -> Template:
    view = await service.get_mandate(rt, actor, mandate_id)
    return page(
        request,
        "mandates/sign.html",
        status_code=400 if errors else 200,
        mandate=view,
        errors=errors,
        kept=kept or {},
        **_common(),
    )


async def _paper_page(
    request: AnyRequest, rt: Runtime, actor: Actor, mandate_id: int, errors: dict[str, str]
) -> Template:
    view = await service.get_mandate(rt, actor, mandate_id)
    return page(
        request, "mandates/paper.html", status_code=400 if errors else 200, mandate=view, errors=errors, **_common()
    )


async def _revoke_page(
    request: AnyRequest, rt: Runtime, actor: Actor, mandate_id: int, errors: dict[str, str], values: dict[str, Any]
) -> Template:
    view = await service.get_mandate(rt, actor, mandate_id)
    return page(
        request,
        "mandates/revoke.html",
        status_code=400 if errors else 200,
        mandate=view,
        errors=errors,
        values=values,
        **_common(),
    )


async def _renew_page(
    request: AnyRequest, rt: Runtime, actor: Actor, mandate_id: int, errors: dict[str, str]
) -> Template:
    view = await service.get_mandate(rt, actor, mandate_id)
    return page(
        request, "mandates/renew.html", status_code=400 if errors else 200, mandate=view, errors=errors, **_common()
    )


async def _charter_page(request: AnyRequest, rt: Runtime, actor: Actor, errors: dict[str, str]) -> Template:
    accepted, version = await service.charter_status(rt, actor)
    return page(
        request,
        "mandates/charter.html",
        status_code=400 if errors else 200,
        accepted=accepted,
        version=version,
        charter=service.CHARTER_TEXT,
        errors=errors,
    )


async def _habilitations_page(request: AnyRequest, rt: Runtime, actor: Actor) -> Template:
    names = await _structure_names(actor.structures_with("manager"))
    structures = [
        (structure_id, name, await service.list_habilitations(rt, actor, structure_id))
        for structure_id, name in names.items()
    ]
    return page(request, "mandates/habilitations.html", structures=structures)


async def _structure_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(ids)).order_by(Structure.name)
    return {row["id"]: row["name"] for row in rows}


async def _variants_page(
    request: AnyRequest, rt: Runtime, actor: Actor, errors: dict[str, str] | None = None
) -> Template:
    names = await _structure_names(actor.structures_with("manager"))
    structures = [(sid, name, await service.list_variants(rt, actor, sid)) for sid, name in names.items()]
    return page(
        request,
        "mandates/variants.html",
        status_code=400 if errors else 200,
        structures=structures,
        kinds=VARIANT_KINDS,
        errors=errors or {},
    )


# ---------------------------------------------------------------- the public verification page
class VerificationPages(Controller):
    path = "/verifier"
    guards = [auth.public]
    include_in_schema = False

    @get("/{code:str}", operation_id="mandateVerificationPage")
    async def verify(self, request: AnyRequest, rt: RuntimeDep, code: FromPath[str]) -> Template:
        """What the QR code opens: is this mandate valid, for which démarches, until when; initials only."""
        found = await service.public_verification(rt, code[:80])
        response = page(
            request,
            "mandates/verify.html",
            status_code=200 if found else 404,
            found=found,
            **_common(),
        )
        # the code is the key: no search engine keeps the page, no other site learns the address
        response.headers.update(NOINDEX)
        return response


# ---------------------------------------------------------------- the scopes' pictograms, for the pages
PICTOGRAMS_DIR = PROJECT_ROOT / "templates" / "mandates" / "pictograms"
PICTOGRAM_NAMES = frozenset(scope.pictogram for scope in SCOPES)


class PictogramFiles(Controller):
    path = "/mandats/pictogrammes"
    guards = [auth.public]
    include_in_schema = False

    @get("/{name:str}", operation_id="mandatePictogram")
    async def pictogram(self, name: FromPath[str]) -> Response[bytes]:
        """A scope's pictogram: the same picture on the pages as on the paper."""
        path = PICTOGRAMS_DIR / name
        if name not in PICTOGRAM_NAMES or not path.is_file():
            raise NotFound("Ce pictogramme n'existe pas.")
        return Response(path.read_bytes(), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


CONTROLLERS = [MandatePages, ManagerPages, PictogramFiles, VerificationPages]
