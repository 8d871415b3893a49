"""Opening hours: OSM expressions evaluated with opening-hours-py in Europe/Paris, French public holidays
included. Each distinct expression is stored once (network_search_hours) and evaluated once per minute for
"open now", not once per service.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours

from network.search import sql
from network.search.sql import BATCH

PARIS = ZoneInfo("Europe/Paris")
_PARSED: dict[str, OpeningHours | None] = {}
_OPEN_SETS: dict[tuple[str, int, datetime], frozenset[int]] = {}


def _opening_hours(expression: str) -> OpeningHours | None:
    if expression not in _PARSED:
        if len(_PARSED) > 50_000:
            _PARSED.clear()
        try:
            _PARSED[expression] = OpeningHours(expression, timezone=PARIS, country="FR") if expression else None
        except Exception:  # unparsable hours are not "open"; the import reports them
            _PARSED[expression] = None
    return _PARSED[expression]


def is_open(expression: str, at: datetime) -> bool:
    """Open at `at` by this OSM expression; False when empty, unparsable or unknown ("sur rendez-vous")."""
    hours = _opening_hours(expression.strip())
    if hours is None:
        return False
    try:  # the library wants a ZoneInfo (it refuses datetime.timezone.utc)
        return bool(hours.is_open(_in_paris(at)))
    except Exception:
        return False


def _in_paris(at: datetime) -> datetime:
    return at.replace(tzinfo=PARIS) if at.tzinfo is None else at.astimezone(PARIS)


def paris_minute(at: datetime) -> datetime:
    """`at` (naive = Europe/Paris) in Europe/Paris, to the minute."""
    return _in_paris(at).replace(second=0, microsecond=0)


async def expression_ids(expressions: set[str]) -> dict[str, int]:
    """Ids of opening-hours expressions, adding the new ones (each expression is stored once, for good)."""
    if not expressions:
        return {}
    ordered = sorted(expressions)
    await sql.executemany(
        "INSERT INTO network_search_hours (hours) VALUES (?) ON CONFLICT (hours) DO NOTHING", [[e] for e in ordered]
    )
    found: dict[str, int] = {}
    for start in range(0, len(ordered), BATCH):
        part = ordered[start : start + BATCH]
        rows = await sql.fetch(
            f"SELECT id, hours FROM network_search_hours WHERE hours IN ({sql.marks(len(part))})", part
        )
        found.update((str(r["hours"]), int(r["id"])) for r in rows)
    return found


async def open_expression_ids(at: datetime) -> frozenset[int]:
    """Ids of the expressions open at `at`; cached per database, minute and set of expressions (rows of
    network_search_hours never change, so the highest id identifies the set)."""
    database = sql.database_key()
    latest = await sql.fetch("SELECT max(id) AS latest FROM network_search_hours")
    key = (database, int(latest[0]["latest"] or 0), at)
    cached = _OPEN_SETS.get(key)
    if cached is None:
        rows = await sql.fetch("SELECT id, hours FROM network_search_hours")
        cached = frozenset(int(r["id"]) for r in rows if is_open(str(r["hours"]), at))
        if len(_OPEN_SETS) > 64:
            _OPEN_SETS.clear()
        _OPEN_SETS[key] = cached
    return cached
