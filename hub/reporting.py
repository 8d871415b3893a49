"""What a domain says in the network's reporting pack: its section of figures and tables for a period.

The pack (the meetings module) knows no domain. Each module that records something declares
`Module.report`, a function returning its `Section` for a `Period`: each figure with its value for the period
and for the previous equal period, tables that become charts, the XLSX annex and the dashboard, and every
indicator defined once (label, definition). A module with nothing recorded returns a section whose
`empty` is true, shown as "aucune donnée", never a broken chart.

Shared rules, used by every section and every output:
- `percent(part, total)`: one rounding rule (half up, one decimal), 0 when the total is 0; `percent_text` writes
  it the French way (pages use it as the `percent_fr` filter);
- `shared_count(n)`: counts from 1 to 4 are shown as "< 5" in anything shared beyond the coordinator.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.errors import Invalid

SMALL_COUNT = 5  # 1 to 4 become "< 5" when shared
_SEMESTER = re.compile(r"(\d{4})-S([12])")
_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})-T([1-4])")


MAX_PERIOD_YEARS = 5
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the days figures may be asked for
OUT_OF_YEARS = f"Choisissez un jour entre l'an {FIRST_YEAR} et l'an {LAST_YEAR}."


def too_long(start: dt.date, end: dt.date) -> str | None:
    """Figures are counted over five years at most (month by month, a longer table is unreadable and slow)."""
    if (end - start).days >= MAX_PERIOD_YEARS * 366:
        return f"Une période compte au plus {MAX_PERIOD_YEARS} ans : choisissez des dates plus proches."
    return None


def asked_period(today: dt.date, du: str, au: str, *, counted: bool = True) -> tuple[dt.date, dt.date, dict[str, str]]:
    """The period a figures page or a list's filter asks ("du", "au": ISO days, both included); by default the
    current half-year up to today. French messages by field; figures are `counted` over five years at most."""
    start, end = dt.date(today.year, 1 if today.month <= 6 else 7, 1), today
    errors: dict[str, str] = {}
    for name, text in (("du", du), ("au", au)):
        if not text:
            continue
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            errors[name] = "Date invalide : choisissez un jour, par exemple 2026-01-31."
            continue
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            errors[name] = OUT_OF_YEARS
            continue
        start, end = (value, end) if name == "du" else (start, value)
    if start > end:
        errors["au"] = "La fin de la période vient après son début."
    elif counted and (problem := too_long(start, end)):
        errors["au"] = problem
    return start, end, errors


@dataclasses.dataclass(frozen=True)
class Period:
    """A reporting period, both ends included: a semester ("2026-S1"), a quarter ("2026-T2"), a year or any dates."""

    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """ "2026-S1", "2026-T3" or "2026"; a French message for anything else."""
        value = text.strip().upper()
        if match := _SEMESTER.fullmatch(value):
            year, half = int(match[1]), int(match[2])
            start = dt.date(year, 1 if half == 1 else 7, 1)
            end = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
            return cls(start, end, f"{year}-S{half}")
        if match := _QUARTER.fullmatch(value):
            year, quarter = int(match[1]), int(match[2])
            start = dt.date(year, 3 * quarter - 2, 1)
            end = (dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)) - dt.timedelta(1)
            return cls(start, end, f"{year}-T{quarter}")
        if _YEAR.fullmatch(value):
            year = int(value)
            return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
        raise Invalid(
            "Période inconnue : écrivez un semestre (2026-S1), un trimestre (2026-T2), une année (2026), "
            "ou choisissez deux dates.",
            {"period": "Exemples : 2026-S1, 2026-T2, 2026."},
        )

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> Period:
        for field, day in (("start", start), ("end", end)):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise Invalid(OUT_OF_YEARS, {field: OUT_OF_YEARS})
        if end < start:
            raise Invalid("La date de fin est avant la date de début.", {"end": "Choisissez une fin après le début."})
        if problem := too_long(start, end):
            raise Invalid(problem, {"end": problem})
        return cls(start, end, f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}")

    @property
    def code(self) -> str:
        """The period as a code (the journal's details): its name, or its two ISO dates."""
        return f"{self.start.isoformat()}/{self.end.isoformat()}" if self.label.startswith("du ") else self.label

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The equal period just before: the previous semester, quarter or year; else as many days before."""
        if _SEMESTER.fullmatch(self.label):
            year, half = int(self.label[:4]), int(self.label[-1])
            return Period.parse(f"{year}-S1" if half == 2 else f"{year - 1}-S2")
        if _QUARTER.fullmatch(self.label):
            year, quarter = int(self.label[:4]), int(self.label[-1])
            return Period.parse(f"{year}-T{quarter - 1}" if quarter > 1 else f"{year - 1}-T4")
        if _YEAR.fullmatch(self.label):
            return Period.parse(str(int(self.label) - 1))
        end = self.start - dt.timedelta(days=1)
        return Period.between(end - dt.timedelta(days=self.days - 1), end)

    def check_not_future(self, today: dt.date) -> None:
        if self.start > today:
            raise Invalid(
                "Cette période n'a pas commencé : il n'y a encore rien à compter.", {"period": "Période future."}
            )

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as UTC datetimes, for timestamp columns."""
        start = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        return start, dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def percent(part: float, total: float) -> float:
    """One rounding rule for every percentage: half up, one decimal; 0 when the total is 0."""
    if not total:
        return 0.0
    return float((Decimal(str(part)) * 100 / Decimal(str(total))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent_text(value: float) -> str:
    """A percentage's number as French writes it, as the pack does: "12,5", "50" (decimal comma, no ",0")."""
    text = f"{value:.1f}".replace(".", ",")
    return text.removesuffix(",0")


def count_text(value: int) -> str:
    """10000 → "10 000": a whole number as French writes it (a narrow no-break space between thousands)."""
    return f"{value:,}".replace(",", "\u202f")


def shared_count(value: int | None) -> str:
    """A count as shown beyond the coordinator: 1 to 4 become "< 5" (a small group could be recognised)."""
    if value is None:
        return "–"
    if 0 < value < SMALL_COUNT:
        return f"< {SMALL_COUNT}"
    return count_text(value)


@dataclasses.dataclass(frozen=True)
class Indicator:
    """An indicator, defined once: its key, French label and definition (the pack's annex)."""

    key: str  # "referrals.sent"
    label: str  # "Orientations envoyées"
    definition: str  # one or two French sentences: what is counted, from what, over which dates
    unit: str = ""  # "", "%", "jours", "min"
    is_count: bool = True  # a count of people or acts, subject to the "< 5" rule when shared


@dataclasses.dataclass(frozen=True)
class Figure:
    """One indicator's value for the period, beside the previous equal period."""

    indicator: Indicator
    value: float | int | None
    previous: float | int | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return float(self.value) - float(self.previous)


@dataclasses.dataclass(frozen=True)
class Table:
    """A breakdown: rows of (label, values…). Becomes a chart, a table beside it, and a sheet of the annex."""

    key: str  # also the XLSX sheet's name (≤ 31 characters)
    title: str
    columns: tuple[str, ...]  # the first is the rows' label
    rows: tuple[tuple[Any, ...], ...]
    indicator: Indicator | None = None  # what the numbers are, for the annex
    chart: str = "bar"  # "bar" (horizontal bars), "columns", "line", "" (a table only)
    counts: bool = True  # its numbers are counts ("< 5" when shared)

    @property
    def empty(self) -> bool:
        """No rows, or rows whose numbers are all 0 (a list of text rows is not empty)."""
        numbers = [v for row in self.rows for v in row[1:] if isinstance(v, int | float) and not isinstance(v, bool)]
        return not self.rows or (bool(numbers) and not any(numbers))


@dataclasses.dataclass(frozen=True)
class Section:
    """A domain's part of the pack."""

    key: str  # "referrals"
    title: str  # "Orientations"
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()  # short French remarks printed under the section (what is not counted, why)
    order: int = 50  # its place in the pack: network 10, referrals 20, mandates 30, activities 40…

    @property
    def empty(self) -> bool:
        return all(f.value in (None, 0) for f in self.figures) and all(t.empty for t in self.tables)

    @property
    def indicators(self) -> list[Indicator]:
        """Every indicator the section uses, once, in order: the pack's annex of definitions."""
        seen: dict[str, Indicator] = {}
        for item in [f.indicator for f in self.figures] + [t.indicator for t in self.tables if t.indicator]:
            seen.setdefault(item.key, item)
        return list(seen.values())


def figure(indicator: Indicator, value: float | int | None, previous: float | int | None = None) -> Figure:
    return Figure(indicator, value, previous)


def by_label(rows: Sequence[tuple[str, int]], labels: dict[str, str] | None = None) -> tuple[tuple[Any, ...], ...]:
    """(code, count) rows as (French label, count) rows, largest first, ties by label."""
    named = [((labels or {}).get(code, code) or "non renseigné", count) for code, count in rows]
    return tuple(sorted(named, key=lambda row: (-row[1], row[0])))
