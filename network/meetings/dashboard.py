"""The pack's pages, coordinator-only: choose a period and click "Construire le bilan" (a background job), follow
its progress, then read the dashboard (the same figures, charts and tables as the documents) and download each
file. Thin: network.meetings.jobs holds the build, network.meetings.outputs what is shown.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import File, Template

from hub import auth
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid
from hub.probes import OVERSEERS, Probe
from hub.probes import page as probe_page
from hub.reporting import Period
from hub.runtime import Runtime
from hub.web import page, redirect
from network.meetings import jobs
from network.meetings.outputs import FORMATS, MEDIA_TYPES

AnyRequest = Request[Any, Any, Any]
FORMAT_LABELS = {
    "pdf": "PDF, à présenter ou imprimer",
    "docx": "Word (DOCX), à compléter",
    "xlsx": "Annexe des tableaux (XLSX)",
    "html": "Tableau de bord en un fichier (HTML)",
}
PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}


class BuildForm(msgspec.Struct):
    period: str = ""
    start: str = ""
    end: str = ""


def semesters(rt: Runtime, count: int = 6) -> list[str]:
    """The current semester and the ones before it, newest first."""
    today = rt.today()
    period = Period.parse(f"{today.year}-S{1 if today.month <= 6 else 2}")
    found = []
    for _ in range(count):
        found.append(period.label)
        period = period.previous()
    return found


def _form_page(request: AnyRequest, rt: Runtime, values: dict[str, str], errors: dict[str, str]) -> Template:
    choices = semesters(rt)
    return page(
        request,
        "pack/builds.html",
        status_code=400 if errors else 200,
        values={"period": choices[1] if len(choices) > 1 else choices[0], **values},
        errors=errors,
        semesters=choices,
        builds=jobs.list_builds(rt),
        states=jobs.STATES,
    )


def _status_or_404(rt: Runtime, build_id: str) -> dict[str, Any]:
    status = jobs.read_status(rt, build_id) if jobs.BUILD_ID.fullmatch(build_id) else None
    if status is None:
        raise NotFoundException("Bilan introuvable.")
    return status


class PackPages(Controller):
    path = "/reunions/bilan"
    guards = [auth.coordinator]
    include_in_schema = False

    @get("/", operation_id="packBuildsPage")
    async def builds(self, request: AnyRequest, rt: RuntimeDep) -> Template:
        """Choose a period and build its pack; the packs already built."""
        return _form_page(request, rt, {}, {})

    @post("/", operation_id="packBuildSubmit")
    async def build(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[BuildForm]
    ) -> Response[Any]:
        """ "Construire le bilan": the job is queued, the progress page follows it."""
        values = {"period": data.period, "start": data.start, "end": data.end}
        if data.start.strip() or data.end.strip():
            values["period"] = ""  # two dates win over the semester list
        try:
            period = jobs.period_from(values["period"], data.start, data.end)
            build_id = await jobs.start_build(rt, actor, period)
        except Invalid as error:
            errors = {"period": error.message, **{k: v for k, v in error.fields.items() if k != "period"}}
            return _form_page(request, rt, values, errors)
        return redirect(request, f"/reunions/bilan/{build_id}", "Construction du bilan lancée.")

    @get("/{build_id:str}", operation_id="packBuildPage")
    async def show(self, request: AnyRequest, rt: RuntimeDep, build_id: FromPath[str]) -> Template:
        """The progress page while it builds; the dashboard and the downloads once it is done."""
        status = _status_or_404(rt, build_id)
        view: dict[str, Any] = {}
        if status.get("state") == "done":
            view = json.loads((jobs.build_dir(rt, build_id) / "dashboard.json").read_text(encoding="utf-8"))
        images = {key: f"/reunions/bilan/{build_id}/graphiques/{name}" for key, name in view.get("charts", {}).items()}
        return page(
            request,
            "pack/build.html",
            build_id=build_id,
            status=status,
            states=jobs.STATES,
            d=view,
            images=images,
            labels=FORMAT_LABELS,
            formats=FORMATS,
        )

    @get("/{build_id:str}/fichiers/{fmt:str}", operation_id="packBuildFile")
    async def download(self, rt: RuntimeDep, build_id: FromPath[str], fmt: FromPath[str]) -> File:
        status = _status_or_404(rt, build_id)
        name = status.get("files", {}).get(fmt)
        if fmt not in FORMATS or not name:
            raise NotFoundException("Fichier introuvable.")
        return File(
            jobs.build_dir(rt, build_id) / name,
            filename=name,
            media_type=MEDIA_TYPES[fmt],
            content_disposition_type="attachment",
            headers=PRIVATE,
        )

    @get("/{build_id:str}/graphiques/{name:str}", operation_id="packBuildChart")
    async def chart(self, rt: RuntimeDep, build_id: FromPath[str], name: FromPath[str]) -> File:
        _status_or_404(rt, build_id)
        folder = jobs.build_dir(rt, build_id) / "graphiques"
        path = folder / name
        if "/" in name or not name.endswith(".png") or not path.is_file():
            raise NotFoundException("Graphique introuvable.")
        return File(path, media_type="image/png", content_disposition_type="inline", headers=PRIVATE)


CONTROLLERS = [PackPages]

_BUILD = "/reunions/bilan/0123456789abcdef"
PROBES: list[Probe] = [
    Probe("GET", "/reunions/bilan", "/reunions/bilan", probe_page("200", OVERSEERS)),
    Probe(  # a period in the future: the form comes back with its message (nothing queued)
        "POST", "/reunions/bilan", "/reunions/bilan", probe_page("400", OVERSEERS), form={"period": "2999-S1"}
    ),
    Probe("GET", "/reunions/bilan/{build_id:str}", _BUILD, probe_page("404", OVERSEERS)),
    Probe(
        "GET",
        "/reunions/bilan/{build_id:str}/fichiers/{fmt:str}",
        _BUILD + "/fichiers/pdf",
        probe_page("404", OVERSEERS),
    ),
    Probe(
        "GET",
        "/reunions/bilan/{build_id:str}/graphiques/{name:str}",
        _BUILD + "/graphiques/x.png",
        probe_page("404", OVERSEERS),
    ),
]
