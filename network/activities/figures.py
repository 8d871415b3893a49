"""Activity figures for any period: one structure's, several structures', or the whole network's. Aggregated in
SQL (three queries, whatever the number of rows); the reporting pack reads these same definitions.

Definitions (a day counts when start <= day <= end, both included):
- activities: activities recorded; individual: individual sessions; workshops: workshop sessions;
- accompaniments: people helped, counted once per activity (an individual session is 1, a workshop its
  participants), as the national tool counts them; workshop_participants: the workshops' share of them;
- new_people / followed_people: participants marked as a first visit / as already known (the rest: unknown);
- unique_people, where knowable: people registered to a series who came at least once in the period, plus the
  individual sessions' first visits; a lower bound (an anonymous person seen twice cannot be told apart);
- breakdowns: thématique, démarche, material (activities; an activity counts in each of its values, so shares
  may add up to more than 100), duration band, place kind, month (activities), age band, gender, status,
  channel, commune, satisfaction (participants; "nc" when not told);
- satisfaction: the 1–5 scores told to the worker plus the answers of the satisfaction page; mean to one decimal;
- free-access visits: the tallies' visits, by place;
- percentages: the reporting pack's one rule (`hub.reporting.percent`: half up, one decimal, 0 when the total is 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any

from hub.db import current_engine
from hub.reporting import percent
from network.activities import vocabulary as vocab
from network.activities.tables import Activity

COMMUNES_SHOWN = 12


def mean_tenths(total: int, count: int) -> float | None:
    """A mean rounded half up to one decimal; None without values."""
    if count <= 0:
        return None
    return ((20 * total + count) // (2 * count)) / 10


@dataclasses.dataclass(frozen=True)
class Share:
    code: str
    label: str
    count: int
    percent: float  # one decimal


@dataclasses.dataclass
class Figures:
    start: date
    end: date
    activities: int = 0
    individual: int = 0
    workshops: int = 0
    accompaniments: int = 0
    workshop_participants: int = 0
    new_people: int = 0
    followed_people: int = 0
    unique_people: int = 0
    registered_present: int = 0
    redirected: int = 0
    satisfaction_mean: float | None = None
    satisfaction_count: int = 0
    answers: int = 0  # satisfaction page answers among them
    free_access_visits: int = 0
    breakdowns: dict[str, list[Share]] = dataclasses.field(default_factory=dict)

    def shares(self, name: str) -> list[Share]:
        return self.breakdowns.get(name, [])


# ---------------------------------------------------------------- SQL (both engines)
def _dialect() -> tuple[str, str, bool]:
    """(month expression, JSON list expansion with {col}, is PostgreSQL)."""
    postgres = current_engine().engine_type == "postgres"
    if postgres:
        return "to_char(a.day, 'YYYY-MM')", "json_array_elements_text(a.{col}) AS j(value)", True
    return "substr(a.day, 1, 7)", "json_each(a.{col}) AS j", False


def _scope(alias: str, structure_ids: Sequence[int] | None, start: date, end: date) -> tuple[str, list[Any]]:
    clause = f"{alias}.day >= {{}} AND {alias}.day <= {{}}"
    args: list[Any] = [start, end]
    if structure_ids is not None:
        ids = sorted(set(structure_ids)) or [0]
        clause += f" AND {alias}.structure IN ({', '.join('{}' for _ in ids)})"
        args += ids
    return clause, args


ACTIVITY_DIMS = ("kind", "duration", "month", "place", "redirected", "thematique", "demarche", "material")
PARTICIPANT_DIMS = ("age", "gender", "status", "channel", "commune", "neighbourhood", "satisfaction", "visit")
OTHER_DIMS = ("answer", "answer_channel", "tally", "registered_present")
DURATION_CASE = (
    "CASE WHEN a.duration < 30 THEN 'lt30' WHEN a.duration <= 60 THEN '30-60' "
    "WHEN a.duration <= 120 THEN '60-120' ELSE '120+' END"
)
# participants repeat their activity's day and structure: those of the period's workshops are those whose activity
# is one of `a`'s few non-individual ones (a lookup in a small set, where a join would index all of `a`)
VISIT_CASE = (
    "CASE WHEN p.first_visit IS NULL THEN 'unknown' WHEN p.first_visit THEN 'new' ELSE 'followed' END"
    " || CASE WHEN p.activity IN (SELECT a.id FROM a WHERE a.kind <> 'individual') THEN '' ELSE '-individual' END"
)


def figures_query(structure_ids: Sequence[int] | None, start: date, end: date) -> tuple[str, list[Any]]:
    """Every aggregate of the figures in one statement, rows of (dim, key, n, p).

    The period's activities and participants are read once each (two materialised CTEs: one pass on their
    (structure, day) index), then grouped in memory by each dimension."""
    month, expand, postgres = _dialect()
    text = "VARCHAR" if postgres else "TEXT"
    where_a, args_a = _scope("x", structure_ids, start, end)
    where_p, args_p = _scope("y", structure_ids, start, end)
    where_o, args_o = _scope("o", structure_ids, start, end)
    where_k, args_k = _scope("k", structure_ids, start, end)
    ctes = (
        "WITH a AS MATERIALIZED (SELECT x.id, x.kind, x.day, x.duration, x.place_kind, x.redirected, x.participants, "
        f"x.thematiques, x.demarches, x.materials FROM activities_activity x WHERE {where_a}), "
        "p AS MATERIALIZED (SELECT y.activity, y.age_band, y.gender, y.status, y.channel, y.commune, "
        f"y.commune_insee, y.neighbourhood, y.satisfaction, y.first_visit FROM activities_participant y WHERE {where_p}) "
    )
    activity_parts = [
        ("kind", "a.kind", ""),
        ("duration", DURATION_CASE, ""),
        ("month", month, ""),
        ("place", "a.place_kind", ""),
        ("redirected", "CASE WHEN a.redirected THEN 'yes' ELSE 'no' END", ""),
        ("thematique", "j.value", expand.format(col="thematiques")),
        ("demarche", "j.value", expand.format(col="demarches")),
        ("material", "j.value", expand.format(col="materials")),
    ]
    selects = [
        f"SELECT '{name}' AS dim, CAST({key} AS {text}) AS key, COUNT(*) AS n, SUM(a.participants) AS p "
        f"FROM a{', ' + source if source else ''} GROUP BY 2"
        for name, key, source in activity_parts
    ]
    commune = "CASE WHEN p.commune <> '' THEN p.commune WHEN p.commune_insee <> '' THEN p.commune_insee ELSE '' END"
    for name, key in (
        ("age", "p.age_band"),
        ("gender", "p.gender"),
        ("status", "p.status"),
        ("channel", "p.channel"),
        ("commune", commune),
        ("neighbourhood", "p.neighbourhood"),
    ):
        selects.append(f"SELECT '{name}', CAST({key} AS {text}), COUNT(*), 0 FROM p GROUP BY 2")
    selects.append(
        f"SELECT 'satisfaction', CAST(p.satisfaction AS {text}), COUNT(*), 0 FROM p "
        "WHERE p.satisfaction IS NOT NULL GROUP BY 2"
    )
    selects.append(f"SELECT 'visit', {VISIT_CASE}, COUNT(*), 0 FROM p GROUP BY 2")
    selects += [
        f"SELECT 'answer', CAST(o.satisfaction AS {text}), COUNT(*), 0 FROM activities_feedback o WHERE {where_o} "
        "GROUP BY 2",
        f"SELECT 'answer_channel', o.channel, COUNT(*), 0 FROM activities_feedback o WHERE {where_o} GROUP BY 2",
        f"SELECT 'tally', o.place_label, SUM(o.visits), 0 FROM activities_tally o WHERE {where_o} GROUP BY 2",
        # attendance is kept for the sessions of a series only: the period's are found in a small index
        "SELECT 'registered_present', 'all', COUNT(DISTINCT t.registration), 0 FROM activities_attendance t "
        f"JOIN activities_activity k ON k.id = t.activity WHERE t.present AND k.series IS NOT NULL AND {where_k}",
    ]
    return ctes + " UNION ALL ".join(selects), args_a + args_p + args_o * 3 + args_k


async def _rows(sql: str, args: list[Any]) -> list[dict[str, Any]]:
    return list(await Activity.raw(sql, *args))


# ---------------------------------------------------------------- the figures
def _closed(counts: dict[str, int], labels: dict[Any, str], total: int) -> list[Share]:
    """Every value of a closed list, in its order (zeros too), then anything unexpected."""
    shares = [
        Share(str(code), label, counts.get(str(code), 0), percent(counts.get(str(code), 0), total))
        for code, label in labels.items()
    ]
    known = {str(code) for code in labels}
    shares += [Share(code, code, n, percent(n, total)) for code, n in sorted(counts.items()) if code not in known]
    return shares


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


async def structure_figures(rt: Any, structure_ids: Sequence[int] | None, start: date, end: date) -> Figures:
    """The figures of these structures (all of the network's when None) from start to end, both days included."""
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for row in await _rows(*figures_query(structure_ids, start, end)):
        found.setdefault(row["dim"], {})[str(row["key"])] = (int(row["n"] or 0), int(row["p"] or 0))
    by_dim = {dim: found.get(dim, {}) for dim in ACTIVITY_DIMS}
    people = {dim: {k: n for k, (n, _) in found.get(dim, {}).items()} for dim in PARTICIPANT_DIMS}
    other = {dim: {k: n for k, (n, _) in found.get(dim, {}).items()} for dim in OTHER_DIMS}

    kinds = by_dim.get("kind", {})
    figures = Figures(start=start, end=end)
    figures.individual = kinds.get("individual", (0, 0))[0]
    figures.workshops = kinds.get("workshop", (0, 0))[0]
    figures.activities = sum(n for n, _ in kinds.values())
    figures.accompaniments = sum(p for _, p in kinds.values())
    figures.workshop_participants = kinds.get("workshop", (0, 0))[1]
    figures.redirected = by_dim.get("redirected", {}).get("yes", (0, 0))[0]
    visits = people.get("visit", {})
    figures.new_people = visits.get("new", 0) + visits.get("new-individual", 0)
    figures.followed_people = visits.get("followed", 0) + visits.get("followed-individual", 0)
    figures.registered_present = other.get("registered_present", {}).get("all", 0)
    figures.unique_people = figures.registered_present + visits.get("new-individual", 0)
    told = people.get("satisfaction", {})
    answered = other.get("answer", {})
    scores = {s: told.get(str(s), 0) + answered.get(str(s), 0) for s in range(1, 6)}
    figures.satisfaction_count = sum(scores.values())
    figures.satisfaction_mean = mean_tenths(sum(s * n for s, n in scores.items()), figures.satisfaction_count)
    figures.answers = sum(answered.values())
    tally = other.get("tally", {})
    figures.free_access_visits = sum(tally.values())

    activities = figures.activities
    counts = lambda dim: {k: n for k, (n, _) in by_dim.get(dim, {}).items()}  # noqa: E731
    people_total = sum(people.get("age", {}).values())
    b = figures.breakdowns
    b["kind"] = _closed(counts("kind"), vocab.KINDS, activities)
    b["thematique"] = _closed(counts("thematique"), vocab.THEMATIQUES, activities)
    b["demarche"] = _closed(counts("demarche"), vocab.DEMARCHES, activities)
    b["material"] = _closed(counts("material"), vocab.MATERIALS, activities)
    b["duration"] = _closed(counts("duration"), vocab.DURATION_BANDS, activities)
    b["place"] = _closed(counts("place"), vocab.PLACE_KINDS, activities)
    month_counts = counts("month")
    b["month"] = [
        Share(m, month_label(m), month_counts.get(m, 0), percent(month_counts.get(m, 0), activities))
        for m in _months(start, end)
    ]
    b["age"] = _closed(people.get("age", {}), vocab.AGE_BANDS, people_total)
    b["gender"] = _closed(people.get("gender", {}), vocab.GENDERS, people_total)
    b["status"] = _closed(people.get("status", {}), vocab.STATUSES, people_total)
    b["channel"] = _closed(people.get("channel", {}), vocab.CHANNELS, people_total)
    b["satisfaction"] = _closed({str(s): n for s, n in scores.items()}, vocab.SATISFACTION, figures.satisfaction_count)
    b["answer_channel"] = _closed(other.get("answer_channel", {}), vocab.CHANNELS, figures.answers)
    b["commune"] = _top(people.get("commune", {}), people_total, "Commune non indiquée")
    b["neighbourhood"] = _top(people.get("neighbourhood", {}), people_total, "Quartier non indiqué")
    b["tally"] = [Share(k, k or "Accueil", n, percent(n, figures.free_access_visits)) for k, n in sorted(tally.items())]
    return figures


def _top(counts: dict[str, int], total: int, unknown_label: str) -> list[Share]:
    known = sorted(((k, n) for k, n in counts.items() if k), key=lambda item: (-item[1], item[0]))
    shares = [Share(k, k, n, percent(n, total)) for k, n in known[:COMMUNES_SHOWN]]
    rest = sum(n for _, n in known[COMMUNES_SHOWN:])
    if rest:
        shares.append(Share("autres", "Autres", rest, percent(rest, total)))
    if counts.get(""):
        shares.append(Share("", unknown_label, counts[""], percent(counts[""], total)))
    return shares


async def network_figures(rt: Any, start: date, end: date) -> tuple[Figures, list[dict[str, Any]]]:
    """The whole network's figures, and one line per structure that recorded something in the period."""
    figures = await structure_figures(rt, None, start, end)
    where, args = _scope("a", None, start, end)
    lines = await _rows(
        "SELECT a.structure AS structure_id, s.name AS name, COUNT(*) AS activities, SUM(a.participants) AS people "
        f"FROM activities_activity a JOIN network_structure s ON s.id = a.structure WHERE {where} "
        "GROUP BY a.structure, s.name ORDER BY s.name",
        args,
    )
    return figures, [
        {**line, "people": int(line["people"] or 0), "share": percent(int(line["people"] or 0), figures.accompaniments)}
        for line in lines
    ]
