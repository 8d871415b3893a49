"""The query planner and executor: a SearchQuery checked, planned as one SQL statement (plus a count when
needed) on the full-text index, and answered as a SearchPage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec

from hub.db import among_sql, current_engine
from hub.errors import Invalid
from hub.tables import STRUCTURE_KINDS
from network import vocabulary
from network.search import sql, synonyms
from network.search.hours import is_open, open_expression_ids, paris_minute
from network.search.text import (
    EARTH_RADIUS_M,
    MAX_TERMS,
    Concept,
    area_key,
    concept_words,
    concepts,
    distance_m,
    filter_token,
    fold,
    phrase_in,
    query_terms,
    snippet,
    words_of_row,
)

MAX_LIMIT = 100
MAX_TEXT = 200  # the search box's characters (its maxlength on the page)
# When at least this many services match every idea of the words, they are the results (by relevance, distance
# or name); fewer, and those matching only some of the ideas follow them (enough of them: see `needed`).
ENOUGH_MATCH_EVERY_IDEA = 20
MAX_OFFSET = 10_000
BM25_WEIGHTS = "10.0, 5.0, 2.0, 1.0, 0.0"  # FTS5 columns: name, structure, description, context, filters

Sort = Literal["relevance", "distance", "name"]
Precision = Literal["point", "housenumber", "street", "neighbourhood", "postcode", "municipality"]


class SearchQuery(msgspec.Struct, kw_only=True, frozen=True):
    """What a search asks. Codes within one filter are alternatives (any of them), except accommodations,
    which are all needed; different filters all apply. A thématique filter may name a category
    ("numerique") for all its thématiques. `commune` is a name or an INSEE code."""

    text: str = ""
    thematiques: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    fees: tuple[str, ...] = ()
    reception_modes: tuple[str, ...] = ()
    accommodations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    structure_kinds: tuple[str, ...] = ()
    commune: str = ""
    neighbourhood: str = ""
    accepts_referrals: bool = False  # only services that receive referrals
    open_now: bool = False
    open_at: datetime | None = None  # open at this time (naive = Europe/Paris); wins over open_now
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None  # with a point: only services within this distance
    sort: Sort = "relevance"  # relevance without words falls back to distance (with a point), then name;
    # distance needs a point
    limit: int = 20
    offset: int = 0
    count_all: bool = True  # False: the total is not counted beyond the page (a caller wanting the first hits only)


class SearchHit(msgspec.Struct, kw_only=True, frozen=True):
    service_id: int
    service_name: str
    structure_id: int
    structure_name: str
    structure_kind: str
    structure_kind_label: str
    commune: str
    neighbourhood: str
    latitude: float | None  # the service's first place with coordinates, else its structure's
    longitude: float | None
    distance_m: float | None  # from the query's point (haversine), when there is one
    thematiques: tuple[str, ...]
    thematique_labels: tuple[str, ...]
    fees: tuple[str, ...]
    fee_labels: tuple[str, ...]
    opening_hours: str  # the service's, else its structure's (OSM syntax)
    open_now: bool  # False when closed, unknown or without hours
    accepts_referrals: bool
    snippet: str  # plain text from the description, around the first word found
    score: float | None = None  # relevance, higher is better (relevance sort only)
    matched: int | None = None  # how many of the ideas asked it matches (when several were asked)


class Origin(msgspec.Struct, kw_only=True, frozen=True):
    """Where distances are measured from: a point given as such, or the place found for a typed address."""

    latitude: float
    longitude: float
    label: str = ""  # what a typed address was found as ("8 avenue des Tilleuls, 45990 Montclair-sur-Loire")
    precision: Precision = "point"  # how close to the typed address: the house, its street, or an area's centre
    source: Literal["", "annuaire", "ban"] = ""  # the directory's own addresses, or the Base Adresse Nationale


class SearchPage(msgspec.Struct, kw_only=True, frozen=True):
    hits: list[SearchHit]
    total: int
    limit: int
    offset: int
    sort: Sort  # the order actually used
    terms: tuple[str, ...]  # the words searched, normalised
    at: datetime  # the instant "open_now" was evaluated at (Europe/Paris, to the minute)
    origin: Origin | None = None  # the point distances are measured from, when there is one
    ideas: int = 0  # how many ideas the words asked (a word with its synonyms is one): results matching
    # more of them come first, whatever the order


# ---------------------------------------------------------------- searching
async def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The reviewed synonym groups of the field, then the network's own (added by the coordinator)."""
    async with current_engine().transaction():
        return await synonyms.all_groups()


_FIELD_KINDS = {
    "thematiques": ("thematique", "Thématique inconnue"),
    "publics": ("public", "Public inconnu"),
    "types": ("type", "Type de service inconnu"),
    "fees": ("fee", "Frais inconnus"),
    "reception_modes": ("reception", "Mode d'accueil inconnu"),
    "accommodations": ("accommodation", "Aménagement inconnu"),
    "languages": ("language", "Langue inconnue"),
}


def _checked(q: SearchQuery) -> SearchQuery:
    """The query with its lists as tuples of trimmed codes; Invalid (in French) for what cannot be searched."""
    errors: dict[str, str] = {}
    lists: dict[str, tuple[str, ...]] = {}
    for field, (kind, message) in _FIELD_KINDS.items():
        codes = tuple(dict.fromkeys(str(c).strip() for c in getattr(q, field) if str(c).strip()))
        if unknown := [c for c in codes if not vocabulary.is_known(kind, c)]:
            errors[field] = f"{message} : {', '.join(unknown[:3])}."
        lists[field] = codes
    kinds = tuple(dict.fromkeys(str(c).strip() for c in q.structure_kinds if str(c).strip()))
    if unknown_kinds := [c for c in kinds if c not in STRUCTURE_KINDS]:
        errors["structure_kinds"] = f"Type de structure inconnu : {', '.join(unknown_kinds[:3])}."
    if len(q.text) > MAX_TEXT:
        errors["text"] = f"La recherche compte au plus {MAX_TEXT} caractères."
    if not 1 <= q.limit <= MAX_LIMIT:
        errors["limit"] = f"Le nombre de résultats par page va de 1 à {MAX_LIMIT}."
    if not 0 <= q.offset <= MAX_OFFSET:
        errors["offset"] = f"La position va de 0 à {MAX_OFFSET}."
    if q.sort not in ("relevance", "distance", "name"):
        errors["sort"] = "Tri inconnu : pertinence, distance ou nom."
    if (q.latitude is None) != (q.longitude is None):
        errors["latitude"] = "Indiquez la latitude et la longitude du point."
    elif q.latitude is not None and q.longitude is not None:
        if not (-90 <= q.latitude <= 90 and -180 <= q.longitude <= 180):
            errors["latitude"] = "Ce point n'existe pas : latitude de -90 à 90, longitude de -180 à 180."
    if q.radius_m is not None and (q.latitude is None or not 0 < q.radius_m <= 1_000_000):
        errors["radius_m"] = "Le rayon va jusqu'à 1 000 km, autour d'un point."
    if q.sort == "distance" and (q.latitude is None or q.longitude is None):
        errors["sort"] = (
            "Le tri par distance demande un point de départ : une adresse, ou une latitude et une longitude."
        )
    if errors:
        raise Invalid("La recherche n'est pas valide.", errors)
    return msgspec.structs.replace(q, structure_kinds=kinds, **lists)


def _filter_groups(q: SearchQuery) -> list[list[str]]:
    """The filters as groups of tokens: any token of a group, every group."""
    groups: list[list[str]] = []
    if q.thematiques:
        groups.append(
            [
                filter_token("categorie", code) if code in vocabulary.CATEGORIES else filter_token("thematique", code)
                for code in q.thematiques
            ]
        )
    for field, kind in (
        ("publics", "public"),
        ("types", "type"),
        ("fees", "fee"),
        ("reception_modes", "reception"),
        ("languages", "language"),
    ):
        if codes := getattr(q, field):
            groups.append([filter_token(kind, code) for code in codes])
    groups.extend([filter_token("accommodation", code)] for code in q.accommodations)  # all needed
    if q.structure_kinds:
        groups.append([filter_token("kind", kind) for kind in q.structure_kinds])
    if q.accepts_referrals:
        groups.append([filter_token("referrals", "yes")])
    if key := area_key(q.commune):
        groups.append([filter_token("commune", key)])
    if key := area_key(q.neighbourhood):
        groups.append([filter_token("quartier", key)])
    return groups


def _fts5_phrase(phrase: Sequence[str]) -> str:
    """A phrase's words close together (the index keeps the stop words the phrase was written without)."""
    words = " ".join(f'"{word}"*' for word in phrase)
    return words if len(phrase) == 1 else f"NEAR({words}, 2)"


def fts5_concept(concept: Concept) -> str:
    """One idea for SQLite FTS5: any of its phrases, each word a prefix."""
    return "(" + " OR ".join(_fts5_phrase(phrase) for phrase in concept) + ")"


def fts5_match(found: Sequence[Concept], groups: Sequence[Sequence[str]] = (), *, every: bool = False) -> str:
    """SQLite FTS5 query: any of the ideas (all of them with `every`), and a token of every filter group."""
    ideas = f" {'AND' if every else 'OR'} ".join(fts5_concept(concept) for concept in found)
    parts = ([f"({ideas})"] if ideas else []) + [f"filters : ({' OR '.join(group)})" for group in groups]
    return " AND ".join(parts)


def pg_concept(concept: Concept) -> tuple[str, list[str]]:
    """One idea as a PostgreSQL tsquery expression and its arguments: any of its phrases, every word of a
    phrase, each word a prefix of its plain form or of its French stem (maillage_prefix)."""
    phrases = " || ".join("(" + " && ".join("maillage_prefix(?)" for _ in phrase) + ")" for phrase in concept)
    return f"({phrases})", [word for phrase in concept for word in phrase]


def pg_ranking(found: Sequence[Concept]) -> tuple[str, list[str]]:
    """The tsquery titles are ranked with, and its arguments: the ideas in their plain words and in French
    stems, side by side, so that a title with a word as typed ranks above one sharing only its stem
    ("Café numérique" before "Point numérique CAF" for "café")."""
    texts = [" | ".join(" & ".join(f"{word}:*" for word in phrase) for phrase in concept) for concept in found]
    ranking = "(to_tsquery('maillage_simple', ?) || to_tsquery('maillage_french', ?))"
    return " || ".join(ranking for _ in texts), [arg for text in texts for arg in (text, text)]


def pg_tsquery(found: Sequence[Concept], *, every: bool = False) -> tuple[str, list[str]]:
    """PostgreSQL tsquery expression of the ideas, and its arguments: any of them (all of them with `every`)."""
    ideas = [pg_concept(concept) for concept in found]
    return f" {'&&' if every else '||'} ".join(sql for sql, _ in ideas), [arg for _, args in ideas for arg in args]


def needed(n_concepts: int) -> int:
    """How many of the ideas asked a result must match: one of two, two of three or four, and so on."""
    return (n_concepts + 1) // 2


def _squared_distance(lat: float, lon: float) -> tuple[str, list[Any]]:
    """Equirectangular squared distance in degrees², arithmetic only (SQLite has no math functions)."""
    k = math.cos(math.radians(lat))
    return (
        "((s.latitude - ?) * (s.latitude - ?) + (s.longitude - ?) * ? * (s.longitude - ?) * ?)",
        [lat, lat, lon, k, lon, k],
    )


async def search(q: SearchQuery, now: datetime, origin: Origin | None = None) -> SearchPage:
    """One page of searchable services matching `q`, with the total count; `origin` (a place found for an
    address) gives the point, in place of the query's latitude and longitude."""
    if origin is not None:
        if q.latitude is not None or q.longitude is not None:
            raise Invalid(
                "La recherche n'est pas valide.",
                {"latitude": "Indiquez une adresse ou un point (latitude et longitude), pas les deux."},
            )
        q = msgspec.structs.replace(q, latitude=origin.latitude, longitude=origin.longitude)
    q = _checked(q)
    at = paris_minute(now)
    groups = _filter_groups(q)
    point = (q.latitude, q.longitude) if q.latitude is not None and q.longitude is not None else None
    if point and origin is None:
        origin = Origin(latitude=point[0], longitude=point[1])
    async with current_engine().transaction():
        found = concepts(q.text, await synonyms.all_groups()) if query_terms(q.text) else []
        terms = concept_words(found)  # to place the snippet: the words typed and their synonyms
        sort: Sort = q.sort
        if sort == "relevance" and not found:
            sort = "distance" if point else "name"
        open_ids = None
        if q.open_at is not None or q.open_now:
            try:
                open_ids = await open_expression_ids(paris_minute(q.open_at) if q.open_at is not None else at)
            except OverflowError:  # an instant at the very edge of the calendar: nothing is known open then
                open_ids = frozenset()
        plan = _Plan(q, found, groups, point, sort, open_ids)
        rows: list[Mapping[str, Any]] | None = None
        if len(found) > 1:  # enough services match every idea: they are the results; else partial matches join
            every = _Plan(q, found, groups, point, sort, open_ids, every=True)
            rows = await sql.fetch(every.page_sql(), every.page_args())
            total = await every.total(rows)
            if total < ENOUGH_MATCH_EVERY_IDEA:
                rows = None
        if rows is None:
            if plan.browse_by_distance:
                rows = await plan.nearest()
            else:
                rows = await sql.fetch(plan.page_sql(), plan.page_args())
            total = await plan.total(rows)
    hits = [_hit(row, terms, point, at, sort == "relevance") for row in rows]
    return SearchPage(
        hits=hits,
        total=total,
        limit=q.limit,
        offset=q.offset,
        sort=sort,
        terms=tuple(query_terms(q.text)),
        at=at,
        origin=origin,
        ideas=len(found),
    )


def typed_words(text: str) -> list[str]:
    """The box's words as typed, each once (case and accents aside), at most MAX_TERMS: to say which were found."""
    found: dict[str, str] = {}
    for word in re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text):
        if query_terms(word):  # not a word the search ignores ("de", "et")
            found.setdefault(fold(word), word)
    return list(found.values())[:MAX_TERMS]


async def words_matched(service_ids: Sequence[int], text: str) -> dict[int, list[str]]:
    """Which of the box's words (each with its synonyms, as the search takes it) each of these services matches,
    as typed, read on these services' index rows only."""
    ids = sorted(set(service_ids))
    matched: dict[int, list[str]] = {}
    words = typed_words(text)
    if not ids or not words:
        return matched
    async with current_engine().transaction():
        groups = await synonyms.all_groups()
        ideas = [concepts(word, groups) for word in words]
        if sql.on_sqlite():  # the rows' indexed words, read by rowid and matched here as FTS5 would (prefixes):
            # a full-text query a word reads the word's whole doclist, a fifth of a second for a common one
            condition, bound = among_sql("rowid", ids)
            rows = await sql.fetch(
                "SELECT rowid AS id, name, structure, description, context FROM network_search_fts WHERE "
                + condition.replace("{}", "?"),
                [bound],
            )
            for row in rows:
                row_words = words_of_row(row["name"], row["structure"], row["description"], row["context"])
                for word, found in zip(words, ideas, strict=True):
                    if any(phrase_in(phrase, row_words) for concept in found for phrase in concept):
                        matched.setdefault(int(row["id"]), []).append(word)
            return matched
        # PostgreSQL: every word a column of one query on the rows' documents, its tsquery made once (a CTE)
        queries, columns, args = [], [], []
        for n, found in enumerate(ideas):
            tsquery, tsquery_args = pg_tsquery(found, every=True)
            queries.append(f"({tsquery}) AS w{n}")
            columns.append(f"s.document @@ tq.w{n} AS w{n}")
            args += tsquery_args
        condition, bound = among_sql("s.service_id", ids)
        statement = (
            f"WITH tq AS MATERIALIZED (SELECT {', '.join(queries)}) "
            f"SELECT s.service_id AS id, {', '.join(columns)} FROM tq, network_search_text s WHERE {condition}"
        )
        for row in await sql.fetch(statement.replace("{}", "?"), [*args, bound]):
            matched_words = [word for n, word in enumerate(words) if row[f"w{n}"]]
            if matched_words:
                matched[int(row["id"])] = matched_words
    return matched


class _Plan:
    """The SQL of one search. Whatever narrows most drives: the words and filter tokens (full-text
    index), else the index rows themselves. On SQLite the join order is forced (CROSS JOIN) so that
    FTS5 is never run once per candidate; on PostgreSQL the matches are materialised first (GIN), with
    the columns filters and sorts need, whatever the planner guesses of their number."""

    def __init__(
        self,
        q: SearchQuery,
        found: list[Concept],
        groups: list[list[str]],
        point: tuple[float, float] | None,
        sort: Sort,
        open_ids: frozenset[int] | None,
        *,
        every: bool = False,
    ) -> None:
        self.q, self.point, self.sort = q, point, sort
        sqlite = sql.on_sqlite()
        text = bool(found or groups)
        counted = len(found) > 1 and not every  # results ranked by how many of the ideas asked they match
        # Conditions on the index row ("s": network_search, or network_search_text on PostgreSQL).
        row_where: list[str] = []
        self.row_args: list[Any] = []
        if open_ids is not None:
            row_where.append(f"s.hours_id IN ({','.join(map(str, sorted(open_ids)))})" if open_ids else "1 = 0")
        if point and q.radius_m is not None:
            row_where.append(_within(point, q.radius_m / EARTH_RADIUS_M * 180 / math.pi, self.row_args))
        self.row_where = row_where

        self.order_columns: list[str]
        self.select_args: list[Any] = []
        if sort == "relevance":
            score = f"-bm25(network_search_fts, {BM25_WEIGHTS})" if sqlite else "ts_rank(s.title, tq.r)"
            columns, self.order_columns = f"{score} AS score", ["score DESC"]
            if not sqlite:  # many documents match outside their title: ties by name
                columns, self.order_columns = f"{columns}, s.sort_name AS sort_name", ["score DESC", "sort_name"]
        elif sort == "distance" and point is not None:
            distance_sql, self.select_args = _squared_distance(*point)
            columns, self.order_columns = f"{distance_sql} AS d2, s.latitude IS NULL AS no_point", ["no_point", "d2"]
        else:
            columns, self.order_columns = "s.sort_name AS sort_name", ["sort_name"]
        self.order_columns.append("service_id")

        self.prefix, self.prefix_args = "", []
        self.columns_prefix = ""  # SQLite: the rank of a row's number of ideas, first
        self.where: list[str] = []
        self.where_args: list[Any] = []
        self.windowed = False
        if sqlite and text:
            self.ident, self.source = "network_search_fts.rowid", "network_search_fts"
            if row_where or sort != "relevance":
                self.source += " CROSS JOIN network_search s ON s.service_id = network_search_fts.rowid"
            self.where, self.where_args = ["network_search_fts MATCH ?"], [fts5_match(found, groups, every=every)]
            self.count_source = self.source if row_where else "network_search_fts"
            if counted:
                self._sqlite_ideas(found, groups, sort == "relevance")
        elif text:
            words, words_args = pg_tsquery(found, every=every)
            parts = ([f"({words})"] if found else []) + (["to_tsquery('simple', ?)"] if groups else [])
            self.prefix_args = words_args + ([_tsquery_of_groups(groups)] if groups else [])
            ranking = "NULL::tsquery"
            if sort == "relevance":
                ranking, ranking_args = pg_ranking(found)
                self.prefix_args += ranking_args
            per_idea = ""
            if counted:
                ideas = [pg_concept(concept) for concept in found]
                per_idea = ", ".join(f"{idea} AS c{n}" for n, (idea, _) in enumerate(ideas))
                self.prefix_args += [arg for _, args in ideas for arg in args]
            self.prefix_args += self.select_args + self.row_args
            self.select_args, self.row_args, self.row_where = [], [], []
            where = " AND ".join(row_where) or "TRUE"
            if counted:  # each row's ideas, a match on its small document
                matched = " + ".join(f"(s.document @@ tq.c{n})::int" for n in range(len(found)))
                columns = f"{matched} AS matched, {columns}"
                if sort == "relevance":
                    self.order_columns.insert(0, "matched DESC")
                if needed(len(found)) > 1:
                    self.where, self.where_args = ["m.matched >= ?"], [needed(len(found))]
            self.prefix = (
                f"tq AS MATERIALIZED (SELECT {' && '.join(parts)} AS q, {ranking} AS r{', ' + per_idea if per_idea else ''}), "
                f"m AS MATERIALIZED (SELECT s.service_id, {columns} FROM tq JOIN network_search_text s"
                f" ON s.document @@ tq.q WHERE {where}), "
            )
            self.ident, self.source, self.count_source = "m.service_id", "m", "m"
            columns = ", ".join(
                dict.fromkeys(
                    [column.split()[0] for column in self.order_columns[:-1]] + (["matched"] if counted else [])
                )
            )
            self.windowed = True  # the page's query counts the matches too (the materialised CTE, scanned again)
        else:
            self.ident, self.source, self.count_source = "s.service_id", "network_search s", "network_search s"
        self.columns = self.columns_prefix + columns
        self.browse_by_distance = sort == "distance" and not text and q.radius_m is None
        # how many ideas each result of the page matches (to say so), from its tier: with two ideas, the rows
        # matching both are tier 1; with more, the tier is the count itself
        self.matched_sql = ""
        if counted and sqlite:
            self.matched_sql = ", page.tier + 1 AS matched" if len(found) == 2 else ", page.tier AS matched"

    def _sqlite_ideas(self, found: list[Concept], groups: list[list[str]], ranked: bool) -> None:
        """SQLite: the rows matching enough of the ideas, those matching more first when ranked by relevance.
        Two ideas (most searches): any of them, and the rows matching both first: one more full-text query
        (both), probed per row. More: each idea's rows (filters included, so the sets stay small), summed.
        Each such subquery is run once per search (SQLite keeps its rows), never once per row: the page's
        rows say their tier, whatever the order."""
        n = len(found)
        if n == 2:
            tier, tier_args = (
                "(network_search_fts.rowid IN (SELECT rowid FROM network_search_fts(?)))",
                [fts5_match(found, groups, every=True)],
            )
        else:
            tier = " + ".join("(network_search_fts.rowid IN (SELECT rowid FROM network_search_fts(?)))" for _ in found)
            tier_args = [fts5_match([concept], groups) for concept in found]
            self.where.append(f"{tier} >= ?")
            self.where_args += [*tier_args, needed(n)]
        self.columns_prefix = f"{tier} AS tier, "
        self.select_args = tier_args + self.select_args
        if ranked:
            self.order_columns.insert(0, "tier DESC")

    def _condition(self, extra: Sequence[str] = ()) -> str:
        return " AND ".join([*self.where, *self.row_where, *extra]) or "1 = 1"

    def page_sql(self, extra: Sequence[str] = ()) -> str:
        order = ", ".join(self.order_columns)
        condition = self._condition(extra)
        # PostgreSQL: the matches' count from the materialised matches, beside the page (a window over all of
        # them costs a quarter more than counting them again)
        counted = (
            f", counted AS (SELECT count(*) AS total FROM {self.source} WHERE {condition})" if self.windowed else ""
        )
        return f"""WITH {self.prefix}page AS (
                SELECT {self.ident} AS service_id, {self.columns} FROM {self.source}
                WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?){counted}
            SELECT page.*{", counted.total" if self.windowed else ""}{self.matched_sql}, sv.name, sv.description,
                   sv.thematiques, sv.fees, sv.accepts_referrals,
                   s.structure_id, st.name AS structure_name, s.structure_kind, s.commune, s.neighbourhood,
                   s.latitude, s.longitude, h.hours
            FROM page{" CROSS JOIN counted" if self.windowed else ""}
            JOIN network_search s ON s.service_id = page.service_id
            JOIN network_service sv ON sv.id = page.service_id
            JOIN network_structure st ON st.id = s.structure_id
            LEFT JOIN network_search_hours h ON h.id = s.hours_id
            ORDER BY {", ".join("page." + column for column in self.order_columns)}"""

    def page_args(
        self, extra_args: Sequence[Any] = (), limit: int | None = None, offset: int | None = None
    ) -> list[Any]:
        limit = self.q.limit if limit is None else limit
        offset = self.q.offset if offset is None else offset
        condition_args = [*self.where_args, *self.row_args, *extra_args]
        return [
            *self.prefix_args,
            *self.select_args,
            *condition_args,
            limit,
            offset,
            *(condition_args if self.windowed else ()),
        ]

    async def total(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """How many results in all, given the page's rows (counted only when the page does not tell, and the
        query wants it: else the page's rows and those before it)."""
        q = self.q
        if rows and self.windowed:
            return int(rows[0]["total"])
        if (rows and len(rows) < q.limit) or (not rows and q.offset == 0) or not q.count_all:
            return q.offset + len(rows)  # the last page: nothing to count
        return int((await sql.fetch(*self.count()))[0]["n"])

    def count(self) -> tuple[str, list[Any]]:
        with_clause = f"WITH {self.prefix.rstrip(', ')} " if self.prefix else ""
        statement = f"{with_clause}SELECT count(*) AS n FROM {self.count_source} WHERE {self._condition()}"
        return statement, [*self.prefix_args, *self.where_args, *self.row_args]

    async def nearest(self) -> list[Mapping[str, Any]]:
        """Nearest first without words: widening circles on the coordinates' index, until one holds the
        whole page (the services of a circle are nearer than any outside it); then everything."""
        assert self.point is not None
        wanted = self.q.offset + self.q.limit
        for degrees in (0.02, 0.08, 0.32, 1.28):  # about 2, 9, 36 and 140 km
            extra_args: list[Any] = []
            extra = [_within(self.point, degrees, extra_args)]
            rows = await sql.fetch(self.page_sql(extra), self.page_args(extra_args, limit=wanted, offset=0))
            if len(rows) == wanted:
                return rows[self.q.offset :]
        return await sql.fetch(self.page_sql(), self.page_args())


def _within(point: tuple[float, float], degrees: float, args: list[Any]) -> str:
    """Within `degrees` of the point (equirectangular), with a box the coordinates' index can answer."""
    k = max(math.cos(math.radians(point[0])), 0.01)
    distance_sql, distance_args = _squared_distance(*point)
    args += [point[0] - degrees, point[0] + degrees, point[1] - degrees / k, point[1] + degrees / k]
    args += [*distance_args, degrees * degrees]
    return f"s.latitude BETWEEN ? AND ? AND s.longitude BETWEEN ? AND ? AND {distance_sql} <= ?"


def _tsquery_of_groups(groups: Sequence[Sequence[str]]) -> str:
    return " & ".join(f"({' | '.join(group)})" for group in groups)


def _hit(
    row: Mapping[str, Any], terms: Sequence[str], point: tuple[float, float] | None, at: datetime, scored: bool
) -> SearchHit:
    thematiques = tuple(sql.codes(row["thematiques"]))
    fees = tuple(sql.codes(row["fees"]))
    latitude, longitude = row["latitude"], row["longitude"]
    hours = str(row["hours"] or "")
    kind = str(row["structure_kind"])
    located = point is not None and latitude is not None and longitude is not None
    return SearchHit(
        service_id=int(row["service_id"]),
        service_name=str(row["name"]),
        structure_id=int(row["structure_id"]),
        structure_name=str(row["structure_name"]),
        structure_kind=kind,
        structure_kind_label=STRUCTURE_KINDS.get(kind, kind),
        commune=str(row["commune"]),
        neighbourhood=str(row["neighbourhood"]),
        latitude=latitude,
        longitude=longitude,
        distance_m=round(distance_m(point[0], point[1], latitude, longitude), 1) if point and located else None,
        thematiques=thematiques,
        thematique_labels=tuple(vocabulary.labels("thematique", thematiques)),
        fees=fees,
        fee_labels=tuple(vocabulary.labels("fee", fees)),
        opening_hours=hours,
        open_now=is_open(hours, at),
        accepts_referrals=bool(row["accepts_referrals"]),
        snippet=snippet(str(row["description"] or ""), terms),
        score=round(float(row["score"]), 6) if scored and row["score"] is not None else None,
        matched=int(row["matched"]) if "matched" in row.keys() else None,
    )
