"""What an import or an export reports: formats, one outcome per row, counts and French summaries."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

FORMATS_IN = ("datainclusion", "mednum")
FORMATS_OUT = ("datainclusion-json", "datainclusion-csv", "mednum-csv", "geojson")
DEFAULT_MEDNUM_SOURCE = "mediation-numerique"  # the name data·inclusion gives this source
OWN_SOURCE = "maillage"  # rows created in Maillage itself
BATCH = 2000  # rows per statement batch and per export page
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclasses.dataclass(slots=True)
class RowOutcome:
    """What became of one row of a file: created, updated, unchanged, or rejected with French reasons."""

    file: str
    where: str  # "ligne 12" (CSV) or "élément 3" (JSON)
    kind: str  # structure | service | lieu (a médiation numérique row: one structure and its service)
    ident: str
    status: str = ""
    reasons: list[str] = dataclasses.field(default_factory=list)  # why it was rejected
    notes: list[str] = dataclasses.field(default_factory=list)  # optional fields left out of a row that was kept

    def note(self, text: str) -> None:
        """An optional field left out of the row; said once (a médiation numérique row gives its cells to a
        structure and its service)."""
        if text not in self.notes:
            self.notes.append(text)

    def settle(self, status: str) -> None:
        order = ("", "unchanged", "updated", "created", "rejected")
        if order.index(status) > order.index(self.status):
            self.status = status


@dataclasses.dataclass
class ImportReport:
    format: str
    dry_run: bool
    rows: list[RowOutcome] = dataclasses.field(default_factory=list)
    duplicates_flagged: int = 0
    structure_ids: list[int] = dataclasses.field(default_factory=list)  # created or updated
    service_ids: list[int] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase, for benchmarks
    index_deferred: bool = False  # committed, but the search index is left to the jobs loop
    record_id: int | None = None  # the kept report (network.exchange.records), to download as CSV

    def counts(self, kind: str) -> Counter[str]:
        return Counter(row.status for row in self.rows if row.kind == kind)

    @property
    def rejected(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.status == "rejected"]

    @property
    def noted(self) -> list[RowOutcome]:
        """Rows kept with an optional field left out (an unreadable phone, free-text hours…)."""
        return [row for row in self.rows if row.notes and row.status != "rejected"]

    def summary_lines(self) -> list[str]:
        """The report in French, one line per kind of row, then the duplicates."""
        labels = {"structure": ("Structures", "e"), "service": ("Services", ""), "lieu": ("Lieux", "")}
        lines = []
        for kind, (label, e) in labels.items():
            c = self.counts(kind)
            if sum(c.values()):
                lines.append(
                    f"{label} : {c['created']} créé{e}(s), {c['updated']} mis{e}(s) à jour, "
                    f"{c['unchanged']} inchangé{e}(s), {c['rejected']} refusé{e}(s)."
                )
        if fields_left_out := sum(len(row.notes) for row in self.noted):
            lines.append(f"Champs facultatifs illisibles laissés vides : {fields_left_out}.")
        if not self.dry_run:
            lines.append(f"Doublons probables signalés au coordinateur : {self.duplicates_flagged}.")
        if self.index_deferred:
            lines.append(
                "Import enregistré. La recherche sera à jour dans quelques minutes : "
                "l'index est complété par la tâche de fond."
            )
        return lines


@dataclasses.dataclass
class ExportReport:
    format: str
    paths: list[Path]
    today: date  # the day of the export, in Europe/Paris (from the runtime's clock)
    structures: int = 0
    services: int = 0
    places: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)  # rows left out, with the reason
    withheld_emails: int = 0
    fields_dropped: int = 0  # optional fields invalid for the package, left out of their row

    def summary_lines(self) -> list[str]:
        if self.format == "mednum-csv":
            what = f"{self.structures} lieu(x)"
        elif self.format == "geojson":
            what = f"{self.structures} structure(s) et {self.places} lieu(x) de service situés"
        else:
            what = f"{self.structures} structure(s), {self.services} service(s)"
        lines = [f"Export {self.format} : {what} → {', '.join(str(p) for p in self.paths)}."]
        if self.withheld_emails:
            lines.append(f"Adresses e-mail personnelles retenues (non exportées) : {self.withheld_emails}.")
        if self.fields_dropped:
            lines.append(f"Champs facultatifs invalides laissés vides : {self.fields_dropped}.")
        if self.skipped:
            lines.append(f"Lignes non exportées car invalides : {len(self.skipped)}.")
        return lines
