"""Importing from the page (a structure's members): the Coop's export or Maillage's template, with a dry run and
the report row by row; the template to download (CSV, XLSX). Thin: the rules are in imports.py."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from hub.accounts import Actor
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid
from hub.web import page
from network.activities import imports, service
from network.activities.routes import activity_member

AnyRequest = Request[Any, Any, Any]


@dataclasses.dataclass
class ImportUpload:
    file: UploadFile | None = None
    format: str = ""  # "" (recognised from the headers) | coop | template
    dry_run: str = ""  # checkbox


async def _import_page(
    request: AnyRequest,
    actor: Actor,
    structure_id: int,
    report: imports.ImportReport | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    service.require_member(actor, structure_id)
    names = await service.structure_names([structure_id])
    return page(
        request,
        "activities/import.html",
        status_code=400 if errors else 200,
        structure_id=structure_id,
        structure_name=names.get(structure_id, ""),
        report=report,
        errors=errors or {},
        values=values or {"dry_run": "on"},
        columns=imports.TEMPLATE_COLUMNS,
    )


class ImportPages(Controller):
    path = "/activites"
    guards = [activity_member]
    include_in_schema = False

    @get("/{structure_id:int}/import", operation_id="activityImportPage")
    async def form(self, request: AnyRequest, actor: CurrentActor, structure_id: FromPath[int]) -> Template:
        """Import a Coop export or the template: the file, its format, a dry run first."""
        return await _import_page(request, actor, structure_id)

    @post("/{structure_id:int}/import", operation_id="activityImportSubmit", request_max_body_size=imports.MAX_BYTES)
    async def submit(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        """Check (dry run) or import the file; the report says what was kept and why a row was refused."""
        service.require_member(actor, structure_id)
        values = {"format": data.format, "dry_run": data.dry_run}
        if data.file is None or not data.file.filename:
            return await _import_page(request, actor, structure_id, None, {"file": "Choisissez un fichier."}, values)
        try:
            report = await imports.import_bytes(
                rt,
                await data.file.read(),
                data.file.filename,
                structure_id,
                data.format or None,
                dry_run=data.dry_run in ("on", "1"),
                actor=actor,
            )
        except Invalid as error:
            return await _import_page(request, actor, structure_id, None, {"file": error.message}, values)
        return await _import_page(request, actor, structure_id, report, None, values)

    @get("/modele.csv", operation_id="activityTemplateCsv")
    async def template_csv(self) -> Response[bytes]:
        """Maillage's activity template, CSV (semicolons, UTF-8), with an example row."""
        return _download(imports.template_csv(), "text/csv", "modele-activites-maillage.csv")

    @get("/modele.xlsx", operation_id="activityTemplateXlsx")
    async def template_xlsx(self) -> Response[bytes]:
        """Maillage's activity template, XLSX, with the allowed values on a second sheet."""
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return _download(imports.template_xlsx(), xlsx, "modele-activites-maillage.xlsx")


def _download(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


IMPORT_CONTROLLERS = [ImportPages]
