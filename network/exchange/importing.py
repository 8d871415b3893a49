"""The write path of every import: rows compared with one preload per table, then created or updated with
batched statements in one transaction, keyed by (source, source_id), duplicates flagged in the same transaction;
the services written are queued for the search index there and indexed right after commit, a batch at a time.

A fatal file error raises `Invalid` before any write, so nothing is half-imported; a bad row is only rejected.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from piccolo.table import Table

from hub import journal
from hub.db import write_transaction
from hub.errors import Invalid
from hub.journal import Act
from hub.runtime import Runtime
from network import duplicates
from network.exchange import elsewhere, records
from network.exchange.datainclusion import parse_datainclusion
from network.exchange.files import InputFile
from network.exchange.mednum import parse_mednum
from network.exchange.report import BATCH, FORMATS_IN, ImportReport, Progress, RowOutcome
from network.exchange.rows import Candidate, load_places, loads, shown
from network.search import pending
from network.search import sql as search_sql
from network.tables import ImportJob, Place, Service, Structure

log = logging.getLogger("maillage.directory")


@dataclasses.dataclass(slots=True)
class _Existing:
    id: int
    values: dict[str, Any]
    merged_into: int | None = None
    place: dict[str, Any] | None = None  # services: their first place


def _same(old: Any, new: Any) -> bool:
    if old == new:
        return True
    if isinstance(old, str) and isinstance(new, str) and new[:1] in "[{":
        try:
            return bool(json.loads(old) == json.loads(new))  # same list, written with other spacing
        except json.JSONDecodeError:
            return False
    if isinstance(old, datetime) and isinstance(new, date):
        return old.date() == new
    return False


def _changed(existing: dict[str, Any], values: dict[str, Any]) -> bool:
    return any(not _same(existing.get(column), value) for column, value in values.items())


PACE = 1000  # candidates handled between two turns of the event loop (its other requests get in between)
T = TypeVar("T")


async def _paced(items: Sequence[T]) -> AsyncIterator[T]:
    """The items, letting the event loop serve other requests every PACE of them: 100,000 rows compared and
    prepared in one go would hold it for seconds on a busy machine."""
    for n, item in enumerate(items):
        if n and n % PACE == 0:
            await asyncio.sleep(0)
        yield item


async def _execute_many(transaction: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One prepared statement, many rows: the driver's executemany (aiosqlite or asyncpg) on the transaction."""
    for start in range(0, len(rows), BATCH * 10):
        await transaction.connection.executemany(sql, rows[start : start + BATCH * 10])


async def _insert_many(transaction: Any, table: type[Table], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({search_sql.marks(len(columns))})'
        await _execute_many(transaction, search_sql.dialect(sql), rows)


@dataclasses.dataclass(slots=True)
class _Written:
    id: int
    inserted: bool  # False: another import created the row since the preload, and this one updated it


_SQLITE_MAX_PARAMETERS = 32_000  # under SQLite's limit on one statement's parameters (32,766)
# Did the upsert insert the row, or update one that was there? PostgreSQL says so: a row version written by an
# insert has no xmax. On SQLite the import holds the write lock from before its preload (BEGIN IMMEDIATE), so no
# other import can have created a row meanwhile; should one be there all the same, the conflict's update leaves
# its created_at older than the updated_at it writes, where an insert writes both alike.
_INSERTED = {"sqlite": "created_at = updated_at", "postgres": "xmax = 0"}


async def _upsert_many(
    transaction: Any,
    table: type[Table],
    columns: list[str],
    rows: list[tuple[Any, ...]],
    on_conflict_update: Sequence[str],
) -> dict[tuple[str, str], _Written]:
    """Rows (with source, source_id, created_at and updated_at among their columns) inserted, or upserted on the
    unique (source, source_id) index: a row that another import created since the preload gets these columns
    updated instead of being duplicated. Each row's id and fate are read back by RETURNING, in batches: asyncpg's
    pipelined fetchmany on PostgreSQL, many rows per statement on SQLite (whose executemany returns no rows).
    Returns them by (source, source_id)."""
    sqlite = search_sql.on_sqlite()
    names = ", ".join(f'"{c}"' for c in columns)
    upsert = (
        " ON CONFLICT (source, source_id) WHERE source_id <> '' DO UPDATE SET "
        + ", ".join(f'"{c}" = excluded."{c}"' for c in on_conflict_update)
        + f" RETURNING id, source, source_id, ({_INSERTED['sqlite' if sqlite else 'postgres']}) AS inserted"
    )
    returned: list[Any] = []
    if sqlite:
        per_statement = max(1, min(BATCH, _SQLITE_MAX_PARAMETERS // len(columns)))
        one_row = f"({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {", ".join([one_row] * len(part))}{upsert}'
            async with transaction.connection.execute(sql, [value for row in part for value in row]) as cursor:
                returned += await cursor.fetchall()
    else:
        sql = search_sql.dialect(
            f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({search_sql.marks(len(columns))}){upsert}'
        )
        for start in range(0, len(rows), BATCH * 10):
            returned += await transaction.connection.fetchmany(sql, rows[start : start + BATCH * 10])
    return {(r["source"], r["source_id"]): _Written(int(r["id"]), bool(r["inserted"])) for r in returned}


async def _update_many(transaction: Any, table: type[Table], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows are (values…, id)."""
    if rows:
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        sql = f'UPDATE "{table._meta.tablename}" SET {sets} WHERE id = ?'
        await _execute_many(transaction, search_sql.dialect(sql), rows)


async def _load(table: type[Table], sources: set[str], columns: list[str]) -> dict[tuple[str, str], _Existing]:
    """Every row of these sources, keyed by (source, source_id): one query, not one per row."""
    if not sources:
        return {}
    extra = ["merged_into"] if table is Structure else []
    wanted = [table._meta.get_column_by_name(c) for c in ["id", "source", "source_id", *extra, *columns]]
    rows = await table.select(*wanted).where(table._meta.get_column_by_name("source").is_in(sorted(sources)))
    found = {}
    for row in rows:
        # a row made in Maillage has no source_id: its exports name it by its id ("maillage--12")
        key = (row["source"], row["source_id"] or str(row["id"]))
        found[key] = _Existing(row["id"], row, row.get("merged_into"))
    return found


def _final(structure_id: int, merged: dict[int, int | None]) -> int:
    """Follow merged_into: services of a merged structure belong to the one it was merged into."""
    seen = set()
    while (target := merged.get(structure_id)) and structure_id not in seen:
        seen.add(structure_id)
        structure_id = target
    return structure_id


def _reject_repeats(candidates: list[Candidate]) -> list[Candidate]:
    first: dict[tuple[str, str], RowOutcome] = {}
    kept = []
    for candidate in candidates:
        seen = first.get(candidate.key)
        if seen is None:
            first[candidate.key] = candidate.outcome
            kept.append(candidate)
        elif seen is not candidate.outcome:
            reason = f"id : identifiant déjà présent dans le fichier ({seen.where})"
            if reason not in candidate.outcome.reasons:  # a médiation numérique row repeats two candidates
                candidate.outcome.reasons.append(reason)
            candidate.outcome.settle("rejected")
    return kept


async def upsert(
    structures: list[Candidate],
    services: list[Candidate],
    report: ImportReport,
    transaction: Any | None,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Compare every candidate with the preloaded rows; write (batched) unless transaction is None (dry run)."""
    structures = _reject_repeats(structures)
    services = _reject_repeats(services)
    sources = {c.key[0] for c in structures} | {c.key[0] for c in services}
    total = len(structures) + len(services)

    # structures
    s_columns = list(structures[0].values) if structures else []
    existing = await _load(Structure, sources, s_columns)
    creates: list[Candidate] = []
    updates: list[tuple[Candidate, _Existing]] = []
    async for candidate in _paced(structures):
        found = existing.get(candidate.key)
        if found is None:
            creates.append(candidate)
        elif _changed(found.values, candidate.values):
            updates.append((candidate, found))
        else:
            candidate.outcome.settle("unchanged")
    written: dict[tuple[str, str], _Written] = {}
    if transaction is not None and creates:
        create_columns = [
            *s_columns,
            *creates[0].on_create,
            "source",
            "source_id",
            "status",
            "created_at",
            "updated_at",
        ]
        rows = [(*c.values.values(), *c.on_create.values(), *c.key, "active", now, now) async for c in _paced(creates)]
        written = await _upsert_many(transaction, Structure, create_columns, rows, [*s_columns, "updated_at"])
    if transaction is not None and updates:
        rows = [(*c.values.values(), now, found.id) for c, found in updates]
        await _update_many(transaction, Structure, [*s_columns, "updated_at"], rows)
    for candidate in creates:  # what the database did (a dry run: what it would do)
        candidate.outcome.settle("created" if transaction is None or written[candidate.key].inserted else "updated")
    for candidate, found in updates:
        candidate.outcome.settle("updated")
        report.structure_ids.append(found.id)
    if progress:
        progress("écriture", len(structures), total)

    # where each structure now is: ids of the new ones, merges followed
    structure_ids: dict[tuple[str, str], int | None] = {k: e.id for k, e in existing.items()}
    merged = {e.id: e.merged_into for e in existing.values()}
    if transaction is not None and creates:
        for candidate in creates:
            structure_ids[candidate.key] = written[candidate.key].id
            report.structure_ids.append(written[candidate.key].id)
    else:
        structure_ids.update({c.key: None for c in creates})  # dry run: would be created
    rejected_refs = {o.ident for o in report.rows if o.kind == "structure" and o.status == "rejected"}

    # services
    v_columns = list(services[0].values) if services else []
    existing_services = await _load(Service, sources, ["structure", *v_columns])
    places = await load_places([e.id for e in existing_services.values()])
    for found in existing_services.values():
        found.place = places.get(found.id)
    s_creates: list[tuple[Candidate, int | None]] = []
    s_updates: list[tuple[Candidate, _Existing, int | None]] = []
    async for candidate in _paced(services):
        assert candidate.structure_key is not None
        if candidate.structure_key not in structure_ids:
            ident = candidate.structure_ref
            if ident in rejected_refs:
                candidate.outcome.reasons.append(f"structure_id : la structure {shown(ident)} a été refusée")
            else:
                candidate.outcome.reasons.append(
                    f"structure_id : structure {shown(ident)} introuvable (ni dans le fichier, ni dans l'annuaire)"
                )
            candidate.outcome.settle("rejected")
            continue
        structure_id = structure_ids[candidate.structure_key]
        if structure_id is not None:
            structure_id = _final(structure_id, merged)
        found = existing_services.get(candidate.key)
        if found is None:
            s_creates.append((candidate, structure_id))
            continue
        for column in candidate.led_lists:
            new, old = loads(candidate.values[column]), loads(found.values[column])
            if len(new) == 1 and old[:1] == new:
                candidate.values[column] = found.values[column]
        place_changed = candidate.place is not None and (found.place is None or _changed(found.place, candidate.place))
        if found.values["structure"] != structure_id or place_changed or _changed(found.values, candidate.values):
            s_updates.append((candidate, found, structure_id))
        else:
            candidate.outcome.settle("unchanged")
    written = {}
    if transaction is not None and s_creates:
        columns = [*v_columns, "structure", "source", "source_id", "created_at", "updated_at"]
        rows = [(*c.values.values(), sid, *c.key, now, now) async for c, sid in _paced(s_creates)]
        written = await _upsert_many(transaction, Service, columns, rows, [*v_columns, "structure", "updated_at"])
    if transaction is not None and s_updates:
        rows = [(*c.values.values(), sid, now, found.id) for c, found, sid in s_updates]
        await _update_many(transaction, Service, [*v_columns, "structure", "updated_at"], rows)
    for candidate, _ in s_creates:
        candidate.outcome.settle("created" if transaction is None or written[candidate.key].inserted else "updated")
    for candidate, _, _ in s_updates:
        candidate.outcome.settle("updated")

    if transaction is not None and (s_creates or s_updates):
        new_places: list[dict[str, Any]] = []
        changed_places: list[tuple[dict[str, Any], int]] = []
        created_ids = [written[c.key].id for c, _ in s_creates]
        # a service another import created since the preload came through ON CONFLICT: it may have its place
        raced = await load_places([written[c.key].id for c, _ in s_creates if c.place and not written[c.key].inserted])
        async for (candidate, _), service_id in _paced(list(zip(s_creates, created_ids, strict=True))):
            report.service_ids.append(service_id)
            old_place = raced.get(service_id)
            if candidate.place and old_place is None:
                new_places.append({**candidate.place, "service": service_id})
            elif candidate.place and old_place is not None and _changed(old_place, candidate.place):
                changed_places.append((candidate.place, old_place["id"]))
        for candidate, found, _ in s_updates:
            report.service_ids.append(found.id)
            if candidate.place and found.place is None:
                new_places.append({**candidate.place, "service": found.id})
            elif candidate.place and found.place is not None and _changed(found.place, candidate.place):
                changed_places.append((candidate.place, found.place["id"]))
        if new_places:  # one parser gives every place the same keys
            await _insert_many(transaction, Place, list(new_places[0]), [tuple(p.values()) for p in new_places])
        if changed_places:
            columns = list(changed_places[0][0])
            await _update_many(transaction, Place, columns, [(*p.values(), pid) for p, pid in changed_places])
    if progress:
        progress("écriture", total, total)


async def queue_reindex(service_ids: list[int], structure_ids: list[int]) -> None:
    """Queue for the search index the services written and every service of the structures written.

    Runs in the import's transaction: a committed import always leaves them queued (network.search.pending).
    """
    touched = set(service_ids)
    for start in range(0, len(structure_ids), BATCH):
        chunk = structure_ids[start : start + BATCH]
        touched.update(r["id"] for r in await Service.select(Service.id).where(Service.structure.is_in(chunk)))
    await pending.enqueue(touched)


MAX_SOURCE_NAME = 60
_SOURCE_NAME = re.compile(rf"^[a-z0-9][a-z0-9_.\-]{{0,{MAX_SOURCE_NAME - 1}}}$")


FORMAT_NAMES = {"datainclusion": "data·inclusion", "mednum": "médiation numérique (LaMednum)"}


def detected_format(file: InputFile) -> tuple[str, str] | None:
    """What a file looks like, and why: JSON is data·inclusion's; a CSV by its header ("pivot": LaMednum;
    "source" with "siret" or "structure_id": data·inclusion). None when it cannot be told (the parser says why)."""
    head = file.content[:4096].decode("utf-8-sig", errors="ignore").lstrip()
    if head[:1] in ("{", "["):
        return "datainclusion", "un document JSON"
    columns = {c.strip().strip('"').lower() for c in re.split(r"[,;\t]", head.split("\n", 1)[0])}
    if "pivot" in columns:
        return "mednum", "sa colonne « pivot »"
    if "source" in columns and ({"siret", "structure_id"} & columns):
        return "datainclusion", "ses colonnes « source » et « " + (
            "structure_id" if "structure_id" in columns else "siret"
        ) + " »"
    return None


def _check_format(files: Sequence[InputFile], fmt: str) -> None:
    """A file of the other format is refused before anything is read into the directory (it would import
    empty structures): the message names the format it looks like."""
    for file in files:
        found = detected_format(file)
        if found is not None and found[0] != fmt:
            raise Invalid(
                f"« {file.name} » ressemble à un fichier {FORMAT_NAMES[found[0]]} ({found[1]}), pas à un fichier "
                f"{FORMAT_NAMES[fmt]} : choisissez le format « {FORMAT_NAMES[found[0]]} ». Rien n'a été importé.",
                {"format": f"Ce fichier est au format {FORMAT_NAMES[found[0]]}."},
            )


def check_request(fmt: str, source: str | None, files: Sequence[InputFile]) -> None:
    """What is refused before reading the rows: an unknown format, a bad source name, no file, a file of the
    other format (`files` may hold only each file's first bytes)."""
    if fmt not in FORMATS_IN:
        raise Invalid(f"Format inconnu : {fmt} (attendu : {', '.join(FORMATS_IN)}).", {"format": "Format inconnu."})
    if source is not None and len(source) > MAX_SOURCE_NAME:
        message = f"Nom de source trop long : {MAX_SOURCE_NAME} caractères au plus, par exemple « cd45 »."
        raise Invalid(message, {"source": message})
    if source is not None and not _SOURCE_NAME.match(source):
        message = "Nom de source invalide : minuscules, chiffres et tirets, par exemple « cd45 »."
        raise Invalid(message, {"source": message})
    if not files:
        raise Invalid("Aucun fichier à importer.", {"file": "Aucun fichier reçu."})
    _check_format(files, fmt)


WhenKept = Callable[[ImportReport, Any], Awaitable[None]]


async def import_files(
    rt: Runtime,
    files: Sequence[InputFile],
    fmt: str,
    *,
    source: str | None = None,
    dry_run: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
    when_kept: WhenKept | None = None,
) -> ImportReport:
    """Validate every row, then upsert the good ones in one transaction (or only report, with dry_run).

    Raises Invalid, with nothing written, on a fatal file error. `when_kept(report, transaction)` runs once the
    report is kept, in the import's transaction (None for a dry run): what it writes commits with the import.
    """
    check_request(fmt, source, files)
    parse = parse_datainclusion if fmt == "datainclusion" else parse_mednum
    clock = time.perf_counter()
    # reading and validating 100,000 rows takes seconds of CPU: off the event loop, in another process for a large
    # file on disk (json.loads holds the GIL for seconds), else in a worker thread
    if elsewhere.worth_it(files):
        outcomes, structures, services = await elsewhere.parse(fmt, files, source, progress)
    else:
        outcomes, structures, services = await asyncio.to_thread(parse, files, source, progress)
    report = ImportReport(fmt, dry_run, outcomes)
    report.timings["validation"] = time.perf_counter() - clock
    for outcome in outcomes:
        if outcome.reasons:
            outcome.settle("rejected")
    if dry_run:
        await upsert(structures, services, report, None, rt.now(), progress)
        report.record_id = await records.keep(report, files, source, actor_id, rt.now())
        if when_kept is not None:
            await when_kept(report, None)
        return report
    async with write_transaction() as transaction:
        clock = time.perf_counter()
        await upsert(structures, services, report, transaction, rt.now(), progress)
        report.timings["writing"] = time.perf_counter() - clock
        if progress:
            progress("doublons", 0, 0)
        report.duplicates_flagged = await duplicates.flag_duplicates(rt, report.structure_ids)
        report.timings["duplicates"] = time.perf_counter() - clock - report.timings["writing"]
        await queue_reindex(report.service_ids, report.structure_ids)
        counts = {kind: report.counts(kind) for kind in ("structure", "service", "lieu")}
        details: dict[str, journal.Scalar] = {"format": fmt}
        if source:
            details["source"] = source
        for kind, c in counts.items():
            if sum(c.values()):
                for status in ("created", "updated", "unchanged", "rejected"):
                    details[f"{kind}s_{status}"] = c[status]
        details["duplicates_flagged"] = report.duplicates_flagged
        # in the import's transaction: a process killed once the import has committed leaves its report too
        report.record_id = await records.keep(report, files, source, actor_id, rt.now(), transaction)
        await journal.append(rt, Act("directory_import", actor_id, None, "import", report.record_id or "", details))
        if when_kept is not None:
            await when_kept(report, transaction)
    clock = time.perf_counter()
    if progress:
        progress("index", 0, 0)
    try:  # the import has committed: the index is brought up to date a batch per transaction
        await pending.drain()
    except Exception as error:  # what is left stays queued for the jobs loop; the report stands
        log.warning("import: search index deferred to the jobs loop (%s)", type(error).__name__)
        report.index_deferred = True
    report.timings["search_index"] = time.perf_counter() - clock
    if report.index_deferred:
        await records.note_deferred_index(report.record_id, report)
    return report


async def import_paths(
    rt: Runtime,
    paths: Sequence[Path],
    fmt: str,
    *,
    source: str | None = None,
    dry_run: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    files = [InputFile.from_path(path) for path in paths]
    return await import_files(rt, files, fmt, source=source, dry_run=dry_run, actor_id=actor_id, progress=progress)


JOB_STATES = {"queued": "en attente", "running": "en cours", "failed": "échec"}


async def recent_imports(limit: int = 10) -> list[dict[str, Any]]:
    """The desk's last imports, newest first: those that left a report (done), and those that did not (failed,
    or still waiting or running), each with its state; a failed one says why."""
    kept = [{**row, "state": "done", "job_id": None, "message": ""} for row in await records.recent(limit)]
    unfinished = await (
        ImportJob.select(
            ImportJob.id,
            ImportJob.created_at,
            ImportJob.format,
            ImportJob.source,
            ImportJob.dry_run,
            ImportJob.files,
            ImportJob.status,
            ImportJob.message,
        )
        .where(ImportJob.status != "done")
        .order_by(ImportJob.id, ascending=False)
        .limit(limit)
    )
    others = [
        {
            "id": None,
            "job_id": row["id"],
            "created_at": row["created_at"],
            "format": row["format"],
            "source": row["source"],
            "dry_run": row["dry_run"],
            "files": row["files"],
            "state": row["status"],
            "state_label": JOB_STATES.get(row["status"], row["status"]),
            "message": row["message"],
            "summary_lines": [],
        }
        for row in unfinished
    ]
    return sorted(kept + others, key=lambda item: item["created_at"], reverse=True)[:limit]
