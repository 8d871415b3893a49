"""Directory pages that change it: a manager edits their structure, services and places; the coordinator's desk
(imports, duplicates, join requests, closing). Thin: network.forms turns a posted form into a typed command, and
the rules live in network.service and network.structures."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from hub import auth
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid, NotFound
from hub.schemas import EmailForm
from hub.tables import STRUCTURE_KINDS
from hub.web import page, redirect
from network import duplicates, forms, structures, synonyms
from network import service as directory
from network.exchange import import_jobs, records
from network.routes import AnyRequest, structure_context
from network.schemas import MergeForm, PlaceForm, ServiceForm, StructureForm, SynonymForm


def _row_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as form values (no "None" shown in inputs)."""
    return {k: ("" if v is None else v) for k, v in row.items()}


async def _service_form(
    request: AnyRequest,
    structure_id: int,
    service_id: int | None,
    values: dict[str, Any] | None,
    errors: dict[str, str] | None = None,
) -> Template:
    """The service form, new or existing; values=None shows the stored service, else what was submitted."""
    actor = auth.current_actor(request)
    places: list[dict[str, Any]] = []
    if service_id is None:
        structure = await directory.structure_for(actor, structure_id)
    else:
        service, structure, places = await directory.service_for(actor, service_id)
        if structure["id"] != structure_id:
            raise NotFound("Ce service n'existe pas.")
        if values is None:
            values = {**_row_values(service), "languages": ", ".join(service["languages"] or [])}
    return page(
        request,
        "directory/service_edit.html",
        status_code=400 if errors else 200,
        values=values or {},
        errors=errors or {},
        service_id=service_id,
        places=places,
        **structure_context(request, structure),
    )


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
            values=_row_values(row),
            errors={},
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
        """Save the entry (saving also confirms it)."""
        try:
            await structures.update_structure(rt, actor, structure_id, forms.structure_update(data))
        except Invalid as error:
            row = await directory.structure_for(actor, structure_id)
            values = msgspec.structs.asdict(data)
            return page(
                request,
                "directory/structure_edit.html",
                status_code=400,
                values=values,
                errors=error.fields,
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
            return await _service_form(request, structure_id, service_id, msgspec.structs.asdict(data), error.fields)
        return redirect(request, f"/annuaire/services/{saved}", "Service enregistré.")

    @post("/services/{service_id:int}/fermer", operation_id="serviceCloseSubmit")
    async def close_service(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        service_id: FromPath[int],
    ) -> Response[Any]:
        """Take a service out of the directory (it is kept, and can be reopened)."""
        await directory.set_service_active(rt, actor, structure_id, service_id, False)
        return redirect(request, f"/annuaire/structures/{structure_id}", "Service retiré de l'annuaire.")

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
            await directory.add_place(rt, actor, structure_id, service_id, forms.place_create(data))
        except Invalid as error:
            return redirect(
                request,
                f"/annuaire/structures/{structure_id}/services/{service_id}/modifier",
                " ".join(error.fields.values()) or error.message,
                category="error",
            )
        return redirect(request, f"/annuaire/structures/{structure_id}/services/{service_id}/modifier", "Lieu ajouté.")

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
        imports=await records.recent(),
        synonyms=await synonyms.network_groups(),
        reviewed_synonyms=synonyms.REVIEWED,
        synonym_errors=synonym_errors or {},
        synonym_value=synonym_value,
        synonym_max_length=synonyms.MAX_LENGTH,
        unreachable=await directory.unreachable_services(),
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
        try:
            import_id = await import_jobs.submit(
                rt,
                actor.user_id,
                request.stream(),
                request.headers.get("content-type", ""),
                int(length) if length.isdigit() else None,
            )
        except Invalid as error:
            return await _desk(request, status_code=error.status_code, errors={"file": error.message, **error.fields})
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
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
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
        """Merge two structures into the one kept; nothing is deleted."""
        flag = next((f for f in await duplicates.open_flags() if f["id"] == flag_id), None)
        if flag is None:
            raise NotFound("Ce signalement n'existe pas ou a déjà été traité.")
        keep, drop = (
            (flag["structure_id"], flag["other_id"])
            if data.keep == "structure"
            else (flag["other_id"], flag["structure_id"])
        )
        await duplicates.merge(rt, actor, keep, drop)
        return redirect(request, "/annuaire/coordination", "Structures fusionnées. L'historique est conservé.")

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
        return page(
            request,
            "directory/join_requests.html",
            structures=await directory.pending_structures(),
            kinds=STRUCTURE_KINDS,
        )

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
        except Invalid as error:
            return redirect(request, "/annuaire/validation", " ".join(error.fields.values()), category="error")
        return redirect(request, "/annuaire/validation", "Structure validée. Son référent a reçu une invitation.")

    @post("/structures/{structure_id:int}/fermer", operation_id="structureCloseSubmit")
    async def close(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, structure_id: FromPath[int]
    ) -> Response[Any]:
        """Close a structure: it leaves the directory, its history stays."""
        await structures.close_structure(rt, actor, structure_id)
        return redirect(request, f"/annuaire/structures/{structure_id}", "Structure fermée.")


EDIT_CONTROLLERS = [StructureEditPages, CoordinationPages]
