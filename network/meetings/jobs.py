"""Building the pack: a background job the coordinator starts with one click, and `maillage report build`.

Each build has its own folder under the var directory (`<var>/bilans/<id>/`, never served as static files):
`status.json` (state, French step, percentage, the period, who asked, the files), the four outputs, the charts
and `dashboard.json`. The progress page reads `status.json`; downloads are coordinator-only routes
(network/meetings/dashboard.py). A bad period is refused before anything is queued; a period where nothing was
recorded ends the job with the French message on the progress page (never a retry loop).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import commands

if TYPE_CHECKING:
    from hub.accounts import Actor
    from hub.reporting import Period
    from hub.runtime import Runtime

log = logging.getLogger(__name__)
BUILD_KIND = "meetings.pack_build"
BUILD_ID = re.compile(r"[0-9a-f]{16}")
STATES = {"queued": "En attente", "running": "En cours", "done": "Terminé", "failed": "Échec"}
KEEP = 20  # builds kept; older folders are removed when a new one starts


def builds_dir(rt: Runtime) -> Path:
    return Path(rt.settings.var_dir) / "bilans"


def build_dir(rt: Runtime, build_id: str) -> Path:
    if not BUILD_ID.fullmatch(build_id):
        raise ValueError("not a build id")
    return builds_dir(rt) / build_id


def period_from(text: str = "", start: str = "", end: str = "") -> Period:
    """A period from a name ("2026-S1") or two ISO dates; French messages for anything else."""
    from hub.errors import Invalid
    from hub.reporting import Period

    if text.strip():
        return Period.parse(text)
    if not (start.strip() and end.strip()):
        raise Invalid(
            "Choisissez une période : un semestre (2026-S1) ou deux dates.",
            {"period": "Écrivez une période, ou remplissez les deux dates."},
        )
    try:
        first, last = dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip())
    except ValueError:
        raise Invalid("Une des dates n'est pas une date valide.", {"start": "Date au format AAAA-MM-JJ."}) from None
    return Period.between(first, last)


def payload_of(period: Period) -> dict[str, str]:
    if period.label.startswith("du "):
        return {"start": period.start.isoformat(), "end": period.end.isoformat()}
    return {"period": period.label}


def read_status(rt: Runtime, build_id: str) -> dict[str, Any] | None:
    try:
        path = build_dir(rt, build_id) / "status.json"
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, OSError):
        return None


def _write_status(folder: Path, **changes: Any) -> dict[str, Any]:
    path = folder / "status.json"
    status = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    status.update(changes)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)  # the progress page never reads half a file
    return dict(status)


def list_builds(rt: Runtime) -> list[dict[str, Any]]:
    found = []
    root = builds_dir(rt)
    if root.is_dir():
        for folder in root.iterdir():
            status = read_status(rt, folder.name) if BUILD_ID.fullmatch(folder.name) else None
            if status:
                found.append({"id": folder.name, **status})
    return sorted(found, key=lambda s: s.get("created", ""), reverse=True)


def _prune(rt: Runtime) -> None:
    import shutil

    for old in list_builds(rt)[KEEP:]:
        shutil.rmtree(build_dir(rt, old["id"]), ignore_errors=True)


async def start_build(rt: Runtime, actor: Actor, period: Period) -> str:
    """Check the period, write the build's folder, queue the job; the build's id for its progress page."""
    from hub import jobs, journal
    from network.meetings import pack
    from network.meetings.service import require_coordinator

    require_coordinator(actor)
    pack.check_period(period, rt.today())
    build_id = secrets.token_hex(8)
    folder = build_dir(rt, build_id)
    folder.mkdir(parents=True)
    _write_status(
        folder,
        state="queued",
        step="la construction commence dans un instant",
        percent=0,
        period=period.label,
        period_text=pack.period_text(period),
        created=rt.now().isoformat(),
        by=actor.user_id,
        files={},
        message="",
    )
    await jobs.schedule(BUILD_KIND, rt.now(), {"build": build_id, **payload_of(period)})
    await journal.append(
        rt,
        journal.Act("meetings.pack_requested", actor.user_id, None, "meetings_pack", build_id, {"period": period.code}),
    )
    _prune(rt)
    return build_id


async def run_build(rt: Runtime, payload: dict[str, Any]) -> None:
    """The job: compute the sections, write the four outputs, tell the progress page at each step."""
    from hub.errors import DomainError
    from network.meetings import outputs, pack

    folder = build_dir(rt, str(payload["build"]))

    async def step(text: str, fraction: float) -> None:
        _write_status(folder, state="running", step=text, percent=int(100 * fraction))

    try:
        period = period_from(payload.get("period", ""), payload.get("start", ""), payload.get("end", ""))
        built = await pack.build(rt, period, progress=lambda text, f: step(text, 0.25 * f))
        paths = await outputs.write_all(rt, built, folder, step)
    except DomainError as error:  # nothing recorded, LibreOffice unavailable…: said on the progress page
        _write_status(folder, state="failed", step="", message=error.message)
        return
    except Exception:
        log.exception("pack build %s failed", payload.get("build"))
        _write_status(
            folder, state="failed", step="", message="La construction du bilan a échoué. Réessayez plus tard."
        )
        return
    _write_status(
        folder,
        state="done",
        step="Terminé",
        percent=100,
        finished=rt.now().isoformat(),
        files={fmt: path.name for fmt, path in paths.items()},
    )


# ---------------------------------------------------------------- maillage report build
def cmd_report_build(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.documents import converter_running
        from hub.errors import DomainError
        from network.meetings import outputs, pack

        bar = _Bar()
        try:
            period = period_from(args.period or "", args.start or "", args.end or "")
            async with converter_running(rt.documents):
                built = await pack.build(
                    rt, period, shared=not args.exact, progress=lambda text, f: bar(text, 0.25 * f)
                )
                paths = await outputs.write_all(rt, built, Path(args.out), bar)
        except DomainError as error:
            bar.done()
            print(f"Bilan impossible : {error.message}", file=sys.stderr)
            return 2
        bar.done()
        print(f"Bilan {built.period.label} écrit dans {args.out} :")
        for path in paths.values():
            print(f"  {path.name}")
        return 0

    return commands.run(args, work)


class _Bar:
    """A one-line progress bar on stderr when it is a terminal; step names otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    async def __call__(self, text: str, fraction: float) -> None:
        width = 30
        filled = int(width * fraction)
        if self.tty:
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {int(100 * fraction):3d} % {text:<45}")
            sys.stderr.flush()
        elif text != self.last:
            sys.stderr.write(f"{int(100 * fraction):3d} % {text}\n")
        self.last = text

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def add_commands(sub: Any) -> None:
    report = sub.add_parser("report", help="bilan du réseau : construire le bilan d'une période").add_subparsers(
        dest="report_command", required=True
    )
    build = report.add_parser(
        "build", help="écrire le bilan (DOCX, PDF, annexe XLSX, tableau de bord HTML) d'une période"
    )
    build.add_argument("--period", help="semestre, trimestre ou année : 2026-S1, 2026-T2, 2026")
    build.add_argument("--from", dest="start", help="première date (AAAA-MM-JJ), avec --to")
    build.add_argument("--to", dest="end", help="dernière date (AAAA-MM-JJ), avec --from")
    build.add_argument("--out", required=True, help="dossier où écrire les fichiers")
    build.add_argument("--exact", action="store_true", help="nombres exacts (document de la coordination seule)")
    build.set_defaults(func=cmd_report_build)
