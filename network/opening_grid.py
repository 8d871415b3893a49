"""Opening hours as contributors write them: a week's grid (each day closed, or one or two ranges, every week
or only some weeks of the month) and "fermé les jours fériés", turned into OpenStreetMap `opening_hours` for
storage, and back into the grid when the stored hours fit in it.

The grid's posted fields (all strings, all optional) are named `hours_<day>_<n>_from|to` (n = 1, 2),
`hours_<day>_weeks` and `hours_ph_off`, with day one of mo tu we th fr sa su. The raw OSM syntax stays
available as the forms' expert field (`opening_hours`): network.forms.hours_of decides between the two.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from opening_hours import OpeningHours

DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_NAMES = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
# Which weeks of the month a day holds (OSM's [n] after a weekday): "" is every week.
WEEKS: dict[str, str] = {
    "": "Toutes les semaines",
    "1,3": "Le 1er et le 3e du mois",
    "2,4": "Le 2e et le 4e du mois",
    "1": "Le 1er du mois",
    "2": "Le 2e du mois",
    "3": "Le 3e du mois",
    "4": "Le 4e du mois",
    "-1": "Le dernier du mois",
}
RANGES_A_DAY = 2
PH_OFF = "hours_ph_off"
TICKED = ("on", "1", "true")

_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*(?:[:hH.]\s*([0-5]\d)?)?\s*$")


def field_names() -> list[str]:
    """Every posted field of the grid, in the page's order."""
    names = []
    for day in DAYS:
        for n in range(1, RANGES_A_DAY + 1):
            names += [f"hours_{day}_{n}_from", f"hours_{day}_{n}_to"]
        names.append(f"hours_{day}_weeks")
    return [*names, PH_OFF]


@dataclasses.dataclass(frozen=True)
class Day:
    weeks: str = ""  # a key of WEEKS
    ranges: tuple[tuple[str, str], ...] = ()  # ("08:30", "12:30"), in order, at most RANGES_A_DAY

    @property
    def closed(self) -> bool:
        return not self.ranges


@dataclasses.dataclass(frozen=True)
class Grid:
    days: tuple[Day, ...] = tuple(Day() for _ in DAYS)
    ph_off: bool = False

    @property
    def empty(self) -> bool:
        return all(day.closed for day in self.days)

    def values(self) -> dict[str, str]:
        """The grid as the form's fields (what a page shows)."""
        values: dict[str, str] = {PH_OFF: "on" if self.ph_off else ""}
        for code, day in zip(DAYS, self.days, strict=True):
            values[f"hours_{code}_weeks"] = day.weeks
            for n in range(1, RANGES_A_DAY + 1):
                begin, end = day.ranges[n - 1] if len(day.ranges) >= n else ("", "")
                values[f"hours_{code}_{n}_from"], values[f"hours_{code}_{n}_to"] = begin, end
        return values


def _time(text: str) -> str | None:
    """ "9", "9h", "9 h 30", "09:30", "9.30" → "09:30"; None when it is not a time of day."""
    found = _TIME.match(text)
    if not found:
        return None
    return f"{int(found.group(1)):02d}:{found.group(2) or '00'}"


def grid_of(posted: Mapping[str, Any]) -> tuple[Grid, dict[str, str]]:
    """The grid from posted fields, and a French message per day at fault (keyed hours_<day>)."""
    errors: dict[str, str] = {}
    days = []
    for code, name in zip(DAYS, DAY_NAMES, strict=True):
        weeks = str(posted.get(f"hours_{code}_weeks") or "")
        if weeks not in WEEKS:
            errors[f"hours_{code}"] = f"{name} : choisissez les semaines dans la liste."
            weeks = ""
        ranges: list[tuple[str, str]] = []
        for n in range(1, RANGES_A_DAY + 1):
            begin_text = str(posted.get(f"hours_{code}_{n}_from") or "").strip()
            end_text = str(posted.get(f"hours_{code}_{n}_to") or "").strip()
            if not begin_text and not end_text:
                continue
            begin, end = _time(begin_text), _time(end_text)
            if not begin_text or not end_text:
                errors.setdefault(f"hours_{code}", f"{name} : indiquez l'heure d'ouverture et l'heure de fermeture.")
            elif begin is None or end is None:
                errors.setdefault(f"hours_{code}", f"{name} : écrivez les heures ainsi : 09:00, 14:30.")
            elif end <= begin:
                errors.setdefault(f"hours_{code}", f"{name} : l'heure de fermeture vient après l'heure d'ouverture.")
            elif ranges and begin < ranges[-1][1]:
                errors.setdefault(
                    f"hours_{code}", f"{name} : la 2e plage commence après la fin de la 1re (par exemple 14:00)."
                )
            else:
                ranges.append((begin, end))
        days.append(Day(weeks if ranges else "", tuple(ranges)))
    return Grid(tuple(days), str(posted.get(PH_OFF) or "") in TICKED), errors


def _day_list(indices: list[int], weeks: str) -> str:
    """[0, 1, 2, 4] → "Mo-We,Fr"; with weeks, each day on its own: "Tu[1,3],Th[1,3]"."""
    if weeks:
        return ",".join(f"{OSM_DAYS[i]}[{weeks}]" for i in indices)
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{OSM_DAYS[run[0]]}-{OSM_DAYS[run[-1]]}")
        else:
            parts += [OSM_DAYS[i] for i in run]
    return ",".join(parts)


def to_osm(grid: Grid) -> str:
    """The grid in OSM syntax ("Mo-Fr 08:30-12:30,14:00-17:00; Tu[1,3] 18:00-20:00; PH off"); "" when every
    day is closed."""
    if grid.empty:
        return ""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = {}
    for index, day in enumerate(grid.days):
        if not day.closed:
            groups.setdefault((day.weeks, day.ranges), []).append(index)
    rules = [
        f"{_day_list(indices, weeks)} {','.join(f'{a}-{b}' for a, b in ranges)}"
        for (weeks, ranges), indices in groups.items()
    ]
    if grid.ph_off:
        rules.append("PH off")
    return "; ".join(rules)


# ---------------------------------------------------------------- back from OSM, when it fits
_RANGE = r"(?:[01]\d|2[0-3]):[0-5]\d-(?:[01]\d|2[0-3]):[0-5]\d"
_DAY_ITEM = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?(?:\[(-1|[1-5](?:,[1-5])*)\])?$")
_RULE = re.compile(rf"^(\S+)\s+((?:{_RANGE})(?:,{_RANGE})*|off|closed)$")
_CHECK_FROM = datetime(2026, 1, 5)  # a Monday; two years of intervals compared, public holidays included
_CHECK_DAYS = 731


def _intervals(expression: str) -> list[Any]:
    hours = OpeningHours(expression, country="FR") if expression else None
    if hours is None:
        return []
    return [
        (begin, end, str(state))
        for begin, end, state, _ in hours.intervals(_CHECK_FROM, _CHECK_FROM + timedelta(days=_CHECK_DAYS))
    ]


@functools.lru_cache(maxsize=1024)
def grid_from_osm(expression: str) -> Grid | None:
    """The grid holding exactly these hours, or None when they do not fit in it (months, comments, a day
    with two kinds of weeks…): the form then shows them in the expert field."""
    expression = " ".join(expression.split())
    if not expression:
        return Grid()
    days: list[Day] = [Day() for _ in DAYS]
    ph_off = False
    for rule in (part.strip() for part in expression.split(";")):
        if not rule:
            continue
        if rule in ("PH off", "PH closed"):
            ph_off = True
            continue
        found = _RULE.match(rule)
        if not found:
            return None
        selected: list[tuple[int, str]] = []
        for item in re.split(r",(?![^\[]*\])", found.group(1)):
            day = _DAY_ITEM.match(item)
            if not day:
                return None
            first = OSM_DAYS.index(day.group(1))
            last = OSM_DAYS.index(day.group(2)) if day.group(2) else first
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            weeks = day.group(3) or ""
            if weeks not in WEEKS:
                return None
            selected += [(i, weeks) for i in span]
        if found.group(2) in ("off", "closed"):
            for i, _weeks in selected:
                days[i] = Day()
            continue
        ranges = tuple(tuple(part.split("-")) for part in found.group(2).split(","))
        if len(ranges) > RANGES_A_DAY or any(b <= a for a, b in ranges):  # type: ignore[misc]
            return None
        for i, weeks in selected:
            days[i] = Day(weeks, ranges)  # type: ignore[arg-type]  # a later rule replaces the day, as in OSM
    grid = Grid(tuple(days), ph_off)
    try:
        same = _intervals(to_osm(grid)) == _intervals(expression)
    except Exception:  # unreadable by the library: the expert field says so on saving
        return None
    return grid if same else None


def same_hours(first: str, second: str) -> bool:
    """The two expressions open and close at the same moments (two years compared, public holidays included)."""
    try:
        return _intervals(first) == _intervals(second)
    except Exception:
        return False
