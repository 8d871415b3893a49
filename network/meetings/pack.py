"""The network's reporting pack for a period: every module's section (`Module.report`), in their order, the
shared rules applied once for every output, and the annex of definitions.

The pack knows no domain: it asks `rt.modules` for their sections. What it shares beyond the coordinator (the
DOCX, the PDF, the XLSX annex and the dashboard are presented at the network meeting) shows counts from 1 to 4
as "< 5"; a section with nothing recorded says "aucune donnée". The outputs (network.meetings.outputs) read
the `Pack` and its display helpers only, so the four say the same thing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from hub.errors import Invalid
from hub.reporting import SMALL_COUNT, Figure, Indicator, Period, Section, Table, count_text, shared_count

if TYPE_CHECKING:
    from hub.runtime import Runtime

Progress = Callable[[str, float], Awaitable[None] | None]  # (French step, fraction done 0..1)
NO_DATA = "aucune donnée"
SMALL = f"< {SMALL_COUNT}"


@dataclasses.dataclass(frozen=True)
class Pack:
    period: Period
    previous: Period
    sections: tuple[Section, ...]
    built_at: dt.datetime
    shared: bool = True  # counts from 1 to 4 shown as "< 5"

    @property
    def annex(self) -> list[tuple[str, Indicator]]:
        """Every indicator of the pack, once, with the title of the section that defines it."""
        seen: dict[str, tuple[str, Indicator]] = {}
        for section in self.sections:
            for indicator in section.indicators:
                seen.setdefault(indicator.key, (section.title, indicator))
        return list(seen.values())

    @property
    def title(self) -> str:
        return f"Bilan du réseau – {period_text(self.period)}"

    def value(self, figure: Figure, previous: bool = False) -> str:
        return number_text(figure.previous if previous else figure.value, figure.indicator, self.shared)

    def change(self, figure: Figure) -> str:
        """The change since the previous period, or "–" (unknown, or hidden by the "< 5" rule)."""
        if figure.change is None:
            return "–"
        if self.shared and figure.indicator.is_count and any(_small(v) for v in (figure.value, figure.previous)):
            return "–"
        delta = figure.change
        if delta == 0:
            return "="
        text = number_text(abs(delta), figure.indicator, shared=False)
        return ("+" if delta > 0 else "−") + text

    def cell(self, table: Table, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "" if value is None else str(value)
        if table.counts and isinstance(value, int):
            return shared_count(value) if self.shared else count_text(value)
        return _decimal_text(value)

    def cell_value(self, table: Table, value: Any) -> Any:
        """A cell as the XLSX annex stores it: a number stays a number, a count hidden by the "< 5" rule is the
        text "< 5", anything else its text."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "" if value is None else str(value)
        if self.shared and table.counts and isinstance(value, int) and _small(value):
            return SMALL
        return value

    def figure_value(self, figure: Figure, previous: bool = False) -> Any:
        """A figure as the XLSX annex stores it: a number, "< 5" for a small shared count, "" when unknown."""
        value = figure.previous if previous else figure.value
        if value is None:
            return ""
        if self.shared and figure.indicator.is_count and isinstance(value, int) and _small(value):
            return SMALL
        return value

    def figure_change(self, figure: Figure) -> Any:
        """The change as a number, or "–" when unknown or hidden by the "< 5" rule (as `change` says it)."""
        text = self.change(figure)
        if text == "–" or figure.change is None:
            return "–"
        delta = figure.change
        return int(delta) if float(delta).is_integer() and isinstance(figure.value, int) else delta

    def chart_values(self, table: Table) -> Table:
        """The table as a chart may draw it: counts hidden by the "< 5" rule become None (no bar, a "< 5" label)."""
        if not (self.shared and table.counts):
            return table
        rows = tuple(
            (row[0], *(None if isinstance(v, int) and _small(v) else v for v in row[1:])) for row in table.rows
        )
        return dataclasses.replace(table, rows=rows)


def _small(value: Any) -> bool:
    return isinstance(value, int | float) and 0 < value < SMALL_COUNT


def _decimal_text(value: float) -> str:
    """A decimal as French writes it: comma, narrow spaces, no trailing zeros (12,5; 46,58012)."""
    if float(value).is_integer():
        return count_text(int(value))
    whole, _, decimals = f"{value:,.5f}".rstrip("0").partition(".")
    return whole.replace(",", "\u202f") + "," + decimals


def number_text(value: float | int | None, indicator: Indicator, shared: bool) -> str:
    """A figure as printed: "< 5" for a small shared count, a decimal comma, its unit."""
    if value is None:
        return "–"
    if indicator.is_count and isinstance(value, int) and shared:
        text = shared_count(value)
    elif indicator.is_count and isinstance(value, int):
        text = count_text(value)
    else:
        text = _decimal_text(value)
    unit = {"%": "\u202f%", "h": "\u202fh"}.get(indicator.unit, f"\u202f{indicator.unit}" if indicator.unit else "")
    return text + unit


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def day_text(day: dt.date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def period_text(period: Period) -> str:
    """ "2026-S1 (du 1er janvier 2026 au 30 juin 2026)"; dates alone when the period has no name."""
    dates = f"du {day_text(period.start)} au {day_text(period.end)}"
    return dates if period.label.startswith("du ") else f"{period.label} ({dates})"


def check_period(period: Period, today: dt.date) -> None:
    """A period that has not begun, or that ends in the future beyond today, cannot be counted."""
    period.check_not_future(today)


async def build(rt: Runtime, period: Period, *, shared: bool = True, progress: Progress | None = None) -> Pack:
    """Every module's section for the period, in their order. A French message when nothing at all is recorded."""
    check_period(period, rt.today())
    reporters = [m for m in rt.modules if m.report is not None]
    sections: list[Section] = []
    for done, module in enumerate(reporters):
        await _tell(progress, f"Calcul des chiffres : {module.name}", done / max(len(reporters), 1))
        assert module.report is not None
        sections.append(await module.report(rt, period))
    sections.sort(key=lambda s: (s.order, s.key))
    if not sections or all(s.empty for s in sections):
        raise Invalid(
            "Rien n'a été enregistré dans le réseau pour cette période : le bilan serait vide. "
            "Choisissez une autre période.",
            {"period": "Aucune donnée pour cette période."},
        )
    return Pack(period, period.previous(), tuple(sections), rt.now(), shared)


async def _tell(progress: Progress | None, step: str, fraction: float) -> None:
    if progress is None:
        return
    result = progress(step, fraction)
    if result is not None:
        await result


def visible_tables(section: Section) -> Sequence[Table]:
    """The tables a reader sees: each one (an empty table says "aucune donnée" in the outputs)."""
    return section.tables
