"""Import reports kept for the coordinator: every row's outcome as a CSV to download, the last imports listed.

A report holds directory rows (structures, services), never a resident's data. Kept REPORT_KEEP, then purged
by the jobs loop. The CSV is for people: semicolons and a byte-order mark, so a spreadsheet opens it in French.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import gzip
import io
import itertools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hub.errors import NotFound
from hub.spreadsheets import FORMULA_TRIGGERS, safe_row
from network.exchange.files import InputFile
from network.exchange.report import ImportReport, RowOutcome
from network.tables import ImportRecord

log = logging.getLogger("maillage.directory")

REPORT_KEEP = timedelta(days=180)
STATUS_LABELS = {"created": "créée", "updated": "mise à jour", "unchanged": "inchangée", "rejected": "refusée"}
HEADER = ["fichier", "emplacement", "type", "identifiant", "statut", "raisons du refus", "champs laissés vides"]


def report_csv(report: ImportReport) -> bytes:
    """Every row of the report, in file order."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in report.rows:
        writer.writerow(
            safe_row(
                [
                    row.file,
                    row.where,
                    row.kind,
                    row.ident,
                    STATUS_LABELS.get(row.status, row.status),
                    " ; ".join(row.reasons),
                    " ; ".join(row.notes),
                ]
            )
        )
    return out.getvalue().encode("utf-8-sig")


def _compressed_csv(report: ImportReport) -> bytes:
    return gzip.compress(report_csv(report), compresslevel=6)


async def keep(
    report: ImportReport,
    files: Sequence[InputFile],
    source: str | None,
    actor_id: int | None,
    now: datetime,
    transaction: Any = None,
) -> int | None:
    """Store the report; its id, or None when it could not be stored (the import itself stands).

    Given the import's transaction, the report is written in it, behind a savepoint: it commits with the import
    (a process killed after the commit leaves both), and a report that fails leaves the import whole."""
    savepoint = await transaction.savepoint() if transaction is not None else None
    try:
        record = ImportRecord(
            created_at=now,
            actor_id=actor_id,
            format=report.format,
            source=source or "",
            dry_run=report.dry_run,
            files=", ".join(file.name for file in files)[:500],
            summary="\n".join(report.summary_lines()),
            rows_csv=await asyncio.to_thread(_compressed_csv, report),  # 100,000 rows: off the event loop
        )
        await record.save()
    except Exception as error:  # a report that cannot be kept must not hide what was imported
        log.warning("import: report not kept (%s)", type(error).__name__)
        if savepoint is not None:
            await savepoint.rollback_to()
        return None
    if savepoint is not None:
        await savepoint.release()
    return int(record.id)


async def note_deferred_index(record_id: int | None, report: ImportReport) -> None:
    """After the commit: the summary kept with the import learns that the search index was left to the jobs loop."""
    if record_id is None:
        return
    try:
        await ImportRecord.update({ImportRecord.summary: "\n".join(report.summary_lines())}).where(
            ImportRecord.id == record_id
        )
    except Exception as error:  # the report stands as committed
        log.warning("import: report summary not updated (%s)", type(error).__name__)


async def recent(limit: int = 10) -> list[dict[str, Any]]:
    """The last imports, newest first, without their CSV."""
    rows = await (
        ImportRecord.select(
            ImportRecord.id,
            ImportRecord.created_at,
            ImportRecord.format,
            ImportRecord.source,
            ImportRecord.dry_run,
            ImportRecord.files,
            ImportRecord.summary,
        )
        .order_by(ImportRecord.id, ascending=False)
        .limit(limit)
    )
    for row in rows:
        row["summary_lines"] = [line for line in row.pop("summary").split("\n") if line]
    return rows


@dataclasses.dataclass
class KeptReport:
    """A kept report as the pages show it (the same names as ImportReport's): its summary, the rows refused and
    the rows kept with a field left empty, read back from its CSV."""

    record_id: int
    dry_run: bool
    lines: list[str]
    rejected: list[RowOutcome]
    noted: list[RowOutcome]

    def summary_lines(self) -> list[str]:
        return self.lines


def _outcomes(rows_csv: bytes) -> tuple[list[RowOutcome], list[RowOutcome]]:
    statuses = {label: status for status, label in STATUS_LABELS.items()}
    text = gzip.decompress(rows_csv).decode("utf-8-sig")
    rejected, noted = [], []
    for cells in itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=";"), 1, None):
        if len(cells) != len(HEADER):
            continue
        file, where, kind, ident, status, reasons, notes = (_as_written(cell) for cell in cells)
        outcome = RowOutcome(file, where, kind, ident, statuses.get(status, status), _split(reasons), _split(notes))
        if outcome.status == "rejected":
            rejected.append(outcome)
        elif outcome.notes:
            noted.append(outcome)
    return rejected, noted


def _as_written(cell: str) -> str:
    """A cell as the file had it: the quote safe_cell put before a would-be formula taken off (the page escapes it)."""
    return cell[1:] if cell.startswith("'") and cell[1:2].startswith(FORMULA_TRIGGERS) else cell


def _split(joined: str) -> list[str]:
    return [part for part in joined.split(" ; ") if part]


async def kept_report(record_id: int) -> KeptReport | None:
    row = (
        await ImportRecord.select(ImportRecord.dry_run, ImportRecord.summary, ImportRecord.rows_csv)
        .where(ImportRecord.id == record_id)
        .first()
    )
    if row is None:
        return None
    rejected, noted = await asyncio.to_thread(_outcomes, bytes(row["rows_csv"]))  # 100,000 rows: off the loop
    lines = [line for line in row["summary"].split("\n") if line]
    return KeptReport(record_id, row["dry_run"], lines, rejected, noted)


async def csv_of(record_id: int) -> tuple[str, bytes]:
    """(file name, CSV bytes) of a kept report."""
    row = (
        await ImportRecord.select(ImportRecord.created_at, ImportRecord.rows_csv)
        .where(ImportRecord.id == record_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce rapport d'import n'existe pas ou a été effacé.")
    name = f"rapport-import-{row['created_at']:%Y-%m-%d}-{record_id}.csv"
    return name, gzip.decompress(bytes(row["rows_csv"]))


async def purge(now: datetime) -> int:
    return len(
        await ImportRecord.delete().where(ImportRecord.created_at < now - REPORT_KEEP).returning(ImportRecord.id)
    )
