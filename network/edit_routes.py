"""Directory pages that change it: a manager edits their structure, services and places; the coordinator's desk
(imports, duplicates, join requests, closing). Thin: network.forms turns a posted form into a typed command, and
the rules live in network.service and network.structures."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Template

from hub import auth
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid, NotFound
from hub.schemas import EmailForm
from hub.tables import STRUCTURE_KINDS
from hub.web import page, redirect
from network import duplicates, forms, locating, opening_grid, structures, synonyms, validation, vocabulary
from network import service as directory
from network.exchange import import_jobs, importing, records, uploads
from network.routes import AnyRequest, structure_context
from network.schemas import MergeForm, PlaceForm, RefuseForm, ServiceForm, StructureForm, SynonymForm, WithdrawForm


def _row_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as form values (no "None" shown in inputs)."""
    return {k: ("" if v is None else v) for k, v in row.items()}


def _posted(data: msgspec.Struct, **extra: Any) -> dict[str, Any]:
    """A posted form as the page's values, exactly as typed."""
    return {**msgspec.structs.asdict(data), **extra}


def _form_context(limits: dict[str, int]) -> dict[str, Any]:
    """What the edit forms' pages share: each field's limit (their maxlength), the hours grid's days and weeks."""
    return {
        "limits": limits,
        "place_limits": forms.PLACE_LIMITS,
        "hours_days": list(zip(opening_grid.DAYS, opening_grid.DAY_NAMES, strict=True)),
        "hours_weeks": opening_grid.WEEKS,
    }


def structure_form_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored structure as the form's values: its hours in the grid when they fit."""
    return {**_row_values(row), **forms.hours_values(row["opening_hours"] or "")}


async def _service_form(
    request: AnyRequest,
    structure_id: int,
    service_id: int | None,
    values: dict[str, Any] | None,
    errors: dict[str, str] | None = None,
    place_values: dict[str, Any] | None = None,
    place_errors: dict[str, str] | None = None,
) -> Template:
    """The service form, new or existing; values=None shows the stored service, else what was submitted (and the
    "add a place" form with what was typed there)."""
    actor = auth.current_actor(request)
    places: list[dict[str, Any]] = []
    if service_id is None:
        structure = await directory.structure_for(actor, structure_id)
    else:
        service, structure, places = await directory.service_for(actor, service_id)
        if structure["id"] != structure_id:
            raise NotFound("Ce service n'existe pas.")
        if values is None:
            values = {
                **_row_values(service),
                "justificatifs": "\n".join(service.get("justificatifs") or []),
                **forms.hours_values(service["opening_hours"] or ""),
            }
    values = values or {}
    chosen = values.get("languages") or []
    chosen = [chosen] if isinstance(chosen, str) else chosen
    return page(
        request,
        "directory/service_edit.html",
        status_code=400 if errors or place_errors else 200,
        values=values,
        errors=errors or {},
        place_values=place_values or {},
        place_errors=place_errors or {},
        service_id=service_id,
        places=places,
        languages={**vocabulary.LANGUAGES, **{c: c for c in chosen if c not in vocabulary.LANGUAGES}},
        chosen_languages=chosen,
        **_form_context(forms.SERVICE_LIMITS),
        **structure_context(request, structure),
    )


async def _service_of(actor: Any, structure_id: int, service_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    service, structure, _ = await directory.service_for(actor, service_id)
    if structure["id"] != structure_id:
        raise NotFound("Ce service n'existe pas.")
    return service, structure


class StructureEditPages(Controller):
    path = "/annuaire/structures/{structure_id:int}"
    guards = [auth.structure_manager]
    include_in_schema = False

    @get("/modifier", operation_id="structureEditPage")
    async def edit_form(self, request: AnyRequest, structure_id: FromPath[int]) -> Template:
        """Edit the structure's entry."""
        row = await directory.structure_for(auth.current_actor(request), structure_id)
        return page(
            request,
            "directory/structure_edit.html",
            values=structure_form_values(row),
            errors={},
            **_form_context(forms.STRUCTURE_LIMITS),
            **structure_context(request, row),
        )

    @post("/modifier", operation_id="structureEditSubmit")
    async def edit(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[StructureForm],
    ) -> Response[Any]:
        """Save the entry (saving also confirms it); its position and INSEE code come from the address."""
        row = await directory.structure_for(actor, structure_id)
        try:
            command = await locating.placed(rt, forms.structure_update(data), row, data.address_unfound)
            await structures.update_structure(rt, actor, structure_id, command)
        except Invalid as error:
            unfound = error.key if isinstance(error, locating.AddressNotFound) else ""
            return page(
                request,
                "directory/structure_edit.html",
                status_code=400,
                values=_posted(data, address_unfound=unfound),
                errors=error.fields,
                **_form_context(forms.STRUCTURE_LIMITS),
                **structure_context(request, row),
            )
        return redirect(request, f"/annuaire/structures/{structure_id}", "Fiche enregistrée.")

    @post("/confirmer", operation_id="structureConfirmSubmit")
    async def confirm(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, structure_id: FromPath[int]
    ) -> Response[Any]:
        """ "Everything is still right": renew the entry's freshness."""
        await structures.confirm_structure(rt, actor, structure_id)
        return redirect(request, f"/annuaire/structures/{structure_id}", "Merci ! La fiche est confirmée à jour.")

    @get("/services/nouveau", operation_id="serviceNewPage")
    async def new_service_form(self, request: AnyRequest, structure_id: FromPath[int]) -> Template:
        """Describe a new service."""
        return await _service_form(request, structure_id, None, {})

    @post("/services/nouveau", operation_id="serviceNewSubmit")
    async def new_service(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[ServiceForm],
    ) -> Response[Any]:
        """Create the service."""
        return await self._save(request, rt, actor, structure_id, data, None)

    @get("/services/{service_id:int}/modifier", operation_id="serviceEditPage")
    async def edit_service_form(
        self, request: AnyRequest, structure_id: FromPath[int], service_id: FromPath[int]
    ) -> Template:
        """Edit a service and its places."""
        return await _service_form(request, structure_id, service_id, None)

    @post("/services/{service_id:int}/modifier", operation_id="serviceEditSubmit")
    async def edit_service(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        service_id: FromPath[int],
        data: URLEncodedBody[ServiceForm],
    ) -> Response[Any]:
        """Save the service."""
        return await self._save(request, rt, actor, structure_id, data, service_id)

    async def _save(
        self, request: AnyRequest, rt: Any, actor: Any, structure_id: int, data: ServiceForm, service_id: int | None
    ) -> Response[Any]:
        try:
            saved = await directory.save_service(rt, actor, structure_id, forms.service_update(data), service_id)
        except Invalid as error:
            return await _service_form(request, structure_id, service_id, _posted(data), error.fields)
        return redirect(request, f"/annuaire/services/{saved}", "Service enregistré.")

    @get("/services/{service_id:int}/fermer", operation_id="serviceClosePage")
    async def close_service_page(
        self, request: AnyRequest, actor: CurrentActor, structure_id: FromPath[int], service_id: FromPath[int]
    ) -> Template:
        """Ask before taking a service out of the directory (the page a browser without JavaScript gets too)."""
        service, structure = await _service_of(actor, structure_id, service_id)
        return page(request, "directory/service_withdraw.html", service=service, structure=structure)

    @post("/services/{service_id:int}/fermer", operation_id="serviceCloseSubmit")
    async def close_service(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        service_id: FromPath[int],
        data: URLEncodedBody[WithdrawForm],
    ) -> Response[Any]:
        """Take a service out of the directory once confirmed (it is kept, and can be reopened)."""
        if data.confirmation != "oui":
            await _service_of(actor, structure_id, service_id)  # a service elsewhere is still a 404
            return redirect(request, f"/annuaire/structures/{structure_id}/services/{service_id}/fermer")
        await directory.set_service_active(rt, actor, structure_id, service_id, False)
        return redirect(
            request,
            f"/annuaire/services/{service_id}",
            "Service retiré de l'annuaire. Vous pouvez l'y remettre depuis cette page.",
        )

    @post("/services/{service_id:int}/rouvrir", operation_id="serviceReopenSubmit")
    async def reopen_service(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        service_id: FromPath[int],
    ) -> Response[Any]:
        """Put a service back in the directory."""
        await directory.set_service_active(rt, actor, structure_id, service_id, True)
        return redirect(request, f"/annuaire/services/{service_id}", "Service de retour dans l'annuaire.")

    @post("/services/{service_id:int}/lieux", operation_id="placeAddSubmit")
    async def add_place(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        service_id: FromPath[int],
        data: URLEncodedBody[PlaceForm],
    ) -> Response[Any]:
        """Add a place (permanence, itinerant stop) to a service."""
        try:
            command, unfound = await locating.placed_place(rt, forms.place_create(data))
            await directory.add_place(rt, actor, structure_id, service_id, command)
        except Invalid as error:  # the page again, with what was typed in the place's form and why
            return await _service_form(
                request, structure_id, service_id, None, place_values=_posted(data), place_errors=error.fields
            )
        said = "Lieu ajouté, sans position sur la carte : son adresse est introuvable." if unfound else "Lieu ajouté."
        return redirect(request, f"/annuaire/structures/{structure_id}/services/{service_id}/modifier", said)

    @post("/lieux/{place_id:int}/retirer", operation_id="placeRemoveSubmit")
    async def remove_place(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        place_id: FromPath[int],
    ) -> Response[Any]:
        """Remove a place."""
        await directory.remove_place(rt, actor, structure_id, place_id)
        return redirect(request, f"/annuaire/structures/{structure_id}", "Lieu retiré.")


async def _desk(
    request: AnyRequest,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    import_values: dict[str, str] | None = None,
    synonym_errors: dict[str, str] | None = None,
    synonym_value: str = "",
) -> Template:
    """The coordinator's desk, with what a form just sent (a refused import, a refused group of synonyms)."""
    return page(
        request,
        "directory/coordination.html",
        status_code=status_code,
        flags=await duplicates.open_flags(),
        errors=errors or {},
        import_values=import_values or {},
        imports=await importing.recent_imports(),
        synonyms=await synonyms.network_groups(),
        reviewed_synonyms=synonyms.REVIEWED,
        synonym_errors=synonym_errors or {},
        synonym_value=synonym_value,
        synonym_max_length=synonyms.MAX_LENGTH,
        source_max_length=importing.MAX_SOURCE_NAME,
        unreachable=await directory.unreachable_services(),
    )


async def _join_requests(request: AnyRequest, status_code: int = 200, **sent_back: Any) -> Template:
    """The requests to join; `sent_back` is a decision sent back with what was typed and its errors: a refusal
    (refusing, errors, message) or an approval (approving, errors, email)."""
    return page(
        request,
        "directory/join_requests.html",
        status_code=status_code,
        structures=await directory.pending_structures(),
        kinds=STRUCTURE_KINDS,
        refusing=sent_back.get("refusing"),
        approving=sent_back.get("approving"),
        errors=sent_back.get("errors", {}),
        message=sent_back.get("message", ""),
        email=sent_back.get("email", ""),
        refusal_max=structures.REFUSAL_MAX_LENGTH,
    )


class CoordinationPages(Controller):
    path = "/annuaire"
    guards = [auth.coordinator]
    include_in_schema = False

    @get("/coordination", operation_id="directoryCoordinationPage")
    async def coordination(self, request: AnyRequest) -> Template:
        """The coordinator's desk: import a file, decide on likely duplicates, the search's synonyms."""
        return await _desk(request)

    @post("/synonymes", operation_id="synonymAddSubmit")
    async def add_synonyms(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[SynonymForm]
    ) -> Response[Any]:
        """Add a group of words of the same meaning to the search."""
        try:
            await synonyms.add_group(rt, actor, data.mots)
        except Invalid as error:
            return await _desk(request, status_code=400, synonym_errors=error.fields, synonym_value=data.mots)
        return redirect(request, "/annuaire/coordination#synonymes", "Synonymes ajoutés à la recherche.")

    @post("/synonymes/{synonym_id:int}/retirer", operation_id="synonymRemoveSubmit")
    async def remove_synonyms(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, synonym_id: FromPath[int]
    ) -> Response[Any]:
        """Remove one of the network's groups of synonyms."""
        await synonyms.remove_group(rt, actor, synonym_id)
        return redirect(request, "/annuaire/coordination#synonymes", "Synonymes retirés de la recherche.")

    @post("/import", operation_id="directoryImportSubmit", request_max_body_size=None)
    async def import_file(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Response[Any]:
        """Receive a data·inclusion export (JSON, or CSV structures + services) or a médiation numérique CSV,
        streamed to disk (capped: DirectorySettings.import_max_megabytes); the import runs as a job, followed on
        its page."""
        length = request.headers.get("content-length", "")
        sent: dict[str, str] = {}  # the short fields, as they arrive
        try:
            import_id = await import_jobs.submit(
                rt,
                actor.user_id,
                request.stream(),
                request.headers.get("content-type", ""),
                int(length) if length.isdigit() else None,
                sent,
            )
        except Invalid as error:  # the whole message once, beside its field (else the file's); the form as sent
            fields = error.fields if len(error.fields) > 1 else {next(iter(error.fields), "file"): error.message}
            return await _desk(
                request,
                status_code=error.status_code,
                errors=fields,
                import_values={k: v[: uploads.MAX_FIELD_CHARS] for k, v in sent.items() if k != "_csrf_token"},
            )
        return redirect(request, f"/annuaire/imports/{import_id}", "Fichier reçu : l'import a commencé.")

    @get("/imports/{import_id:int}", operation_id="importProgressPage")
    async def import_progress(self, request: AnyRequest, rt: RuntimeDep, import_id: FromPath[int]) -> Template:
        """An import's progress (phase, rows done), then its report or why it failed."""
        return page(request, "directory/import_progress.html", job=await import_jobs.state(rt, import_id))

    @get("/imports/{record_id:int}/rapport.csv", operation_id="importReportDownload")
    async def import_report(self, record_id: FromPath[int]) -> Response[bytes]:
        """An import's whole report, every row with its outcome, as CSV for a spreadsheet."""
        name, content = await records.csv_of(record_id)
        return Response(
            content,
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to any text/ type itself
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @get("/doublons/{flag_id:int}/fusionner", operation_id="duplicateMergePage")
    async def merge_page(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        flag_id: FromPath[int],
        garder: FromQuery[str] = "",
    ) -> Template:
        """The two entries side by side, which one stays, and a confirmation."""
        keep = "other" if garder == "other" else "structure"
        preview = await duplicates.preview_merge(rt, actor, flag_id, keep)
        today = rt.today()
        return page(
            request,
            "directory/merge.html",
            preview=preview,
            hours_fr={  # each entry's hours written out in French, as on the structure page
                side.structure["id"]: validation.hours_in_french(side.structure["opening_hours"] or "", today)
                for side in (preview.kept, preview.dropped)
            },
            keep=keep,
            other_side="structure" if keep == "other" else "other",
            fields=duplicates.COMPARED_FIELDS,
            kinds=STRUCTURE_KINDS,
        )

    @post("/doublons/{flag_id:int}/fusionner", operation_id="duplicateMergeSubmit")
    async def merge(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        flag_id: FromPath[int],
        data: URLEncodedBody[MergeForm],
    ) -> Response[Any]:
        """Merge two structures into the one kept, once confirmed on the comparison page; nothing is deleted."""
        flag = next((f for f in await duplicates.open_flags() if f["id"] == flag_id), None)
        if flag is None:
            raise NotFound("Ce signalement n'existe pas ou a déjà été traité.")
        if data.confirmation != "oui":  # straight from a button elsewhere: compare first
            return redirect(request, f"/annuaire/doublons/{flag_id}/fusionner?garder={data.keep}")
        keep, drop = duplicates.merge_pair(flag, data.keep)
        await duplicates.merge(rt, actor, keep, drop)
        return redirect(request, f"/annuaire/structures/{keep}", "Structures fusionnées. L'historique est conservé.")

    @post("/doublons/{flag_id:int}/ecarter", operation_id="duplicateDismissSubmit")
    async def dismiss(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, flag_id: FromPath[int]
    ) -> Response[Any]:
        """Not duplicates: the pair will not be flagged again."""
        await duplicates.dismiss(rt, actor, flag_id)
        return redirect(request, "/annuaire/coordination", "Signalement écarté.")

    @get("/validation", operation_id="joinRequestsPage")
    async def requests(self, request: AnyRequest) -> Template:
        """Structures asking to join."""
        return await _join_requests(request)

    @post("/structures/{structure_id:int}/refuser", operation_id="joinRefuseSubmit")
    async def refuse(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[RefuseForm],
    ) -> Response[Any]:
        """Say no to a request to join, with a message mailed to whoever asked."""
        try:
            await structures.refuse_join_request(rt, actor, structure_id, data.message)
        except Invalid as error:
            return await _join_requests(
                request, status_code=400, refusing=structure_id, errors=error.fields, message=data.message
            )
        return redirect(request, "/annuaire/validation", "Demande refusée. Votre message a été envoyé au demandeur.")

    @post("/structures/{structure_id:int}/valider", operation_id="joinApproveSubmit")
    async def approve(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[EmailForm],
    ) -> Response[Any]:
        """Let the structure in; its contact is invited as manager."""
        try:
            await structures.approve_structure(rt, actor, structure_id, data.email)
        except Invalid as error:  # the address comes back as typed, its error beside it
            errors = error.fields or {"email": error.message}
            return await _join_requests(
                request, status_code=400, approving=structure_id, errors=errors, email=data.email
            )
        return redirect(request, "/annuaire/validation", "Structure validée. Son référent a reçu une invitation.")

    @post("/structures/{structure_id:int}/fermer", operation_id="structureCloseSubmit")
    async def close(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, structure_id: FromPath[int]
    ) -> Response[Any]:
        """Close a structure: it leaves the directory, its history stays."""
        await structures.close_structure(rt, actor, structure_id)
        return redirect(request, f"/annuaire/structures/{structure_id}", "Structure fermée.")


EDIT_CONTROLLERS = [StructureEditPages, CoordinationPages]
