"""Imports sent from the desk run as jobs: the upload is streamed to the var directory, a job of the hub's jobs loop
(hub.jobs, kind IMPORT_JOB) imports it, and the coordinator follows it on its page, then reads its report there.

- `submit`: the files received (network.exchange.uploads), the form checked, an ImportJob row and its job queued;
- `run`: the job handler (declared by network.module): reads and validates off the event loop (a worker thread,
  or another process for a large file: network.exchange.elsewhere), writes in the one
  transaction of network.exchange.importing (all or nothing); the ImportJob learns it is done in that same
  transaction, so an import killed after its commit is never run twice and keeps its report;
- progress (phase, rows done and total) is a small JSON file beside the files, replaced whole at each step, so any
  process of the site can show it (the write transaction holds SQLite's write lock: no progress row could be
  written there meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from hub import jobs
from hub.db import write_transaction
from hub.errors import Invalid, NotFound
from hub.runtime import Runtime
from hub.tables import Job
from network.exchange import elsewhere, importing, records, uploads
from network.exchange.files import InputFile
from network.exchange.report import ImportReport
from network.module import IMPORT_JOB, DirectorySettings
from network.tables import ImportJob

log = logging.getLogger("maillage.directory")

LEASE_RENEWAL = timedelta(minutes=1)  # the job's claim is renewed this often while the import runs
PHASES = {
    "queued": "En attente de démarrage",
    "validation": "Lecture et vérification des lignes",
    "écriture": "Enregistrement dans l'annuaire",
    "doublons": "Recherche des doublons probables",
    "index": "Mise à jour de la recherche",
}
UNEXPECTED = (
    "L'import s'est arrêté sur une erreur inattendue. Rien n'a été importé. Réessayez dans quelques minutes ; "
    "si l'erreur revient, signalez-la à l'administrateur du site."
)
FILES_GONE = (
    "Les fichiers envoyés ne sont plus disponibles sur le serveur. Rien n'a été importé : envoyez-les à nouveau."
)


def uploads_root(rt: Runtime) -> Path:
    return rt.settings.var_dir / "imports"


def _progress_path(rt: Runtime, folder: str) -> Path:
    return uploads_root(rt) / folder / "progress.json"


def _field_value(received: uploads.Received, name: str) -> str:
    return received.fields.get(name, "").strip()[: uploads.MAX_FIELD_CHARS]


async def submit(
    rt: Runtime,
    actor_id: int | None,
    chunks: AsyncIterator[bytes],
    content_type: str,
    content_length: int | None,
    fields: dict[str, str] | None = None,
) -> int:
    """Receive an import form, check what can be checked at once, queue its job; the ImportJob's id. `fields`, when
    given, receives the form's short fields as they arrive (uploads.receive).

    Raises Invalid (UploadTooLarge past DirectorySettings.import_max_megabytes) with nothing kept."""
    received = await uploads.receive(
        chunks,
        content_type,
        content_length,
        uploads_root(rt),
        rt.settings.section(DirectorySettings).import_max_bytes,
        fields,
    )
    try:
        fmt = _field_value(received, "format") or "datainclusion"
        source = _field_value(received, "source") or None
        dry_run = _field_value(received, "dry_run") in ("on", "1")
        if not received.files:
            raise Invalid("Choisissez au moins un fichier à importer.", {"file": "Aucun fichier reçu."})
        heads = await asyncio.to_thread(_heads, received.files)
        importing.check_request(fmt, source, heads)  # a wrong format or source name: said on the desk at once
        names = [{"name": f.name, "path": f.path.name} for f in received.files]
        # listed before the job exists: any process's loop may take the job as soon as it commits
        await asyncio.to_thread(elsewhere.write_json, received.folder / "files.json", names)
        async with write_transaction():
            job = ImportJob(
                created_at=rt.now(),
                actor_id=actor_id,
                format=fmt,
                source=source or "",
                dry_run=dry_run,
                files=", ".join(f.name for f in received.files)[:500],
                folder=received.folder.name,
            )
            await job.save()
            await jobs.schedule(IMPORT_JOB, rt.now(), {"import": int(job.id)}, dedupe_key=f"{IMPORT_JOB}:{job.id}")
    except BaseException:
        await asyncio.to_thread(received.discard)
        raise
    jobs.wake(rt)
    return int(job.id)


def _heads(files: list[uploads.ReceivedFile]) -> list[InputFile]:
    """The first bytes of each file: enough to tell its format."""
    heads = []
    for file in files:
        with file.path.open("rb") as handle:
            heads.append(InputFile(file.name, handle.read(4096)))
    return heads


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


async def _renew_lease(rt: Runtime, import_id: int) -> None:
    """While the import runs, its job stays claimed (a long import outlives hub.jobs.CLAIM_LEASE)."""
    while True:
        await asyncio.sleep(LEASE_RENEWAL.total_seconds())
        with contextlib.suppress(Exception):
            await Job.update({Job.claimed_until: rt.now() + jobs.CLAIM_LEASE}).where(
                Job.dedupe_key == f"{IMPORT_JOB}:{import_id}"
            )


async def _finish(rt: Runtime, import_id: int, **values: Any) -> None:
    await ImportJob.update(
        {getattr(ImportJob, name): value for name, value in {**values, "finished_at": rt.now()}.items()}
    ).where((ImportJob.id == import_id) & (ImportJob.status != "done"))  # a committed import stays done


async def run(rt: Runtime, payload: dict[str, Any]) -> None:
    """The job: import the files of ImportJob payload["import"]. A refused file is a finished job (its French
    reason kept for the page); so is an unexpected error, logged, and nothing half-written either way."""
    import_id = int(payload["import"])
    row = await ImportJob.select().where(ImportJob.id == import_id).first()
    if row is None or row["status"] in ("done", "failed"):
        return  # already finished (a process killed after the commit, its job claimed again): nothing to redo
    folder = uploads_root(rt) / row["folder"]
    listed = await asyncio.to_thread(_read_json, folder / "files.json")
    if not row["folder"] or not isinstance(listed, list):
        await _finish(rt, import_id, status="failed", message=FILES_GONE)
        return
    await ImportJob.update({ImportJob.status: "running"}).where(ImportJob.id == import_id)
    progress = elsewhere.ProgressFile(folder / "progress.json")
    renewal = asyncio.create_task(_renew_lease(rt, import_id))

    async def mark_done(report: ImportReport, transaction: Any) -> None:
        # in the import's transaction (none for a simulation): done and report commit together
        await ImportJob.update(
            {ImportJob.status: "done", ImportJob.record_id: report.record_id, ImportJob.finished_at: rt.now()}
        ).where(ImportJob.id == import_id)

    try:
        paths = [(str(item["name"]), folder / str(item["path"])) for item in listed]
        files = await asyncio.to_thread(lambda: [InputFile(name, path.read_bytes(), path) for name, path in paths])
        await importing.import_files(
            rt,
            files,
            row["format"],
            source=row["source"] or None,
            dry_run=row["dry_run"],
            actor_id=row["actor_id"],
            progress=progress,
            when_kept=mark_done,
        )
    except OSError:
        await _finish(rt, import_id, status="failed", message=FILES_GONE)
    except Invalid as error:
        await _finish(rt, import_id, status="failed", message=error.message)
    except Exception:
        log.exception("import #%s failed", import_id)
        await _finish(rt, import_id, status="failed", message=UNEXPECTED)
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
    await asyncio.to_thread(shutil.rmtree, folder, True)  # the files are no longer needed, done or failed


@dataclass
class ImportState:
    """What the progress page shows."""

    id: int
    status: str  # queued | running | done | failed
    format: str
    source: str
    dry_run: bool
    files: str
    message: str
    phase: str  # in French
    done: int
    total: int
    report: records.KeptReport | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        return min(100, 100 * self.done // self.total) if self.total else 0


async def state(rt: Runtime, import_id: int) -> ImportState:
    row = await ImportJob.select().where(ImportJob.id == import_id).first()
    if row is None:
        raise NotFound("Cet import n'existe pas ou a été effacé.")
    progress: dict[str, Any] = {}
    if row["status"] in ("queued", "running"):
        progress = await asyncio.to_thread(_read_json, _progress_path(rt, row["folder"])) or {}
    phase = progress.get("phase") or "queued"
    found = ImportState(
        id=import_id,
        status=row["status"],
        format=row["format"],
        source=row["source"],
        dry_run=row["dry_run"],
        files=row["files"],
        message=row["message"],
        phase=PHASES.get(phase, phase),
        done=int(progress.get("done") or 0),
        total=int(progress.get("total") or 0),
    )
    if row["status"] == "done" and row["record_id"] is not None:
        found.report = await records.kept_report(row["record_id"])
    return found


async def purge(rt: Runtime) -> int:
    """Finished imports are forgotten with their reports (records.REPORT_KEEP)."""
    old = rt.now() - records.REPORT_KEEP
    return len(await ImportJob.delete().where(ImportJob.created_at < old).returning(ImportJob.id))
