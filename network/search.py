"""The directory's search engine: one French box, filters, relevance or distance, opening hours.

The index (tables of the migration network_2026_11_22t01_00_00) holds one row per *searchable* service,
an active service of an active structure. Writers call `sync_tags` and `reindex_service` (or the bulk
variants) after each change; both are idempotent and write only what changed. Triggers drop a service
from the index as soon as it or its structure stops being active, so a closed structure never shows.

Words: SQLite FTS5 (unicode61, diacritics removed) or PostgreSQL tsvectors (French stems and plain
words, unaccented). Every word of the box must match, as a prefix ("demarche caf" finds "Démarches
CAF"); French stop words are ignored and a final plural s/x is dropped.

Filters are tokens of the same full-text index (one per code, commune, neighbourhood…), so a search
with words and filters is one intersection of posting lists, never a probe per candidate.

Relevance: SQLite ranks with bm25 (service name ≫ structure > description > labels and places);
PostgreSQL ranks on the service and structure names (ts_rank of a small vector kept in the row, so
ranking never reads the large document), ties by name.

Opening hours are OSM expressions evaluated with opening-hours-py in Europe/Paris, French public
holidays included; each distinct expression is evaluated once per minute, not once per service.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from opening_hours import OpeningHours
from piccolo.engine.sqlite import SQLiteEngine

from hub.db import current_engine, write_transaction
from hub.errors import Invalid
from network import vocabulary
from network.tables import STRUCTURE_KINDS

PARIS = ZoneInfo("Europe/Paris")
EARTH_RADIUS_M = 6_371_000.0
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_TERMS = 8
BATCH = 1000  # services per batch when (re)indexing
BM25_WEIGHTS = "10.0, 5.0, 2.0, 1.0, 0.0"  # FTS5 columns: name, structure, description, context, filters

# ServiceTag kind → the Service JSON column it mirrors.
TAG_COLUMNS: dict[str, str] = {
    "thematique": "thematiques",
    "public": "publics",
    "fee": "fees",
    "reception": "reception_modes",
    "type": "types",
    "accommodation": "accommodations",
    "language": "languages",
}

Sort = Literal["relevance", "distance", "name"]


# ---------------------------------------------------------------- query and results
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
    sort: Sort = "relevance"  # relevance without words falls back to distance (with a point), then name
    limit: int = 20
    offset: int = 0


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


class SearchPage(msgspec.Struct, kw_only=True, frozen=True):
    hits: list[SearchHit]
    total: int
    limit: int
    offset: int
    sort: Sort  # the order actually used
    terms: tuple[str, ...]  # the words searched, normalised
    at: datetime  # the instant "open_now" was evaluated at (Europe/Paris, to the minute)


class IndexReport(msgspec.Struct, kw_only=True):
    services: int = 0  # services looked at
    indexed: int = 0  # searchable ones
    written: int = 0  # index rows (re)written
    removed: int = 0  # index rows removed
    tags_written: int = 0  # tag rows inserted or deleted


# ---------------------------------------------------------------- text
_STOPWORDS = frozenset(
    "a au aux avec ce ces cet cette d dans de des du en et l la le les leur leurs ma mes mon n ne nos notre ou "
    "par pas pour qu que qui s sa se ses son sur ta tes ton un une vos votre y".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'"})
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_FILTER_PREFIX = "zq"  # filter tokens: no French word starts so, and words typed so are ignored


def fold(text: str) -> str:
    """Lower case, without accents or ligatures: "Démarches CŒUR" → "demarches coeur"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def area_key(text: str) -> str:
    """The key a commune or neighbourhood is filtered on: "Saint-Jean-de-Braye" → "saint-jean-de-braye"."""
    return "-".join(_WORD.findall(fold(text)))


def filter_token(kind: str, code: str) -> str:
    """The full-text token standing for "this service has `code` in `kind`"."""
    number = int.from_bytes(hashlib.blake2b(f"{kind}:{code}".encode(), digest_size=8).digest(), "big")
    return _FILTER_PREFIX + "".join(_BASE36[number // 36**i % 36] for i in range(7))  # 36 bits: short and unique


def query_terms(text: str) -> list[str]:
    """The words of the box, each to be matched as a prefix; stop words out, final plural s/x off."""
    terms: list[str] = []
    for word in _WORD.findall(fold(text)):
        if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()) or word.startswith(_FILTER_PREFIX):
            continue
        if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
            word = word[:-1]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def snippet(text: str, terms: Sequence[str], width: int = 180) -> str:
    """A short plain-text extract of `text` starting a little before the first searched word."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    folded_chars = [fold(c) for c in text]
    offsets = [index for index, piece in enumerate(folded_chars) for _ in piece]  # folded → original position
    folded = "".join(folded_chars)
    found = [m.start() for t in terms if (m := re.search(rf"\b{re.escape(t)}", folded))]
    start = offsets[min(found)] if found else 0
    if start > 0:
        space = text.rfind(" ", 0, max(0, start - 30) + 1)
        start = space + 1 if space >= 0 else 0
    end = start + width
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


# ---------------------------------------------------------------- opening hours
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


def paris_minute(at: datetime | None) -> datetime:
    """`at` (naive = Europe/Paris; None = now) in Europe/Paris, to the minute."""
    return _in_paris(at or datetime.now(UTC)).replace(second=0, microsecond=0)


# ---------------------------------------------------------------- database access
# SQL is written with "?" placeholders and run on the current transaction's driver connection
# (aiosqlite or asyncpg): one connection per search, no per-statement overhead.
_PG_SQL: dict[str, str] = {}


def _sqlite() -> bool:
    return isinstance(current_engine(), SQLiteEngine)


def _dialect(sql: str) -> str:
    if _sqlite():
        return sql
    converted = _PG_SQL.get(sql)
    if converted is None:
        parts = sql.split("?")
        converted = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
        if len(_PG_SQL) < 2000:
            _PG_SQL[sql] = converted
    return converted


def _connection() -> Any:
    transaction = current_engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("network.search needs a transaction")
    return transaction.connection


async def _fetch(sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
    connection = _connection()
    if _sqlite():
        async with connection.execute(sql, list(args)) as cursor:
            return list(await cursor.fetchall())
    return list(await connection.fetch(_dialect(sql), *args))


async def _execute(sql: str, args: Sequence[Any] = ()) -> None:
    connection = _connection()
    if _sqlite():
        await connection.execute(sql, list(args))
    else:
        await connection.execute(_dialect(sql), *args)


async def _executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        await _connection().executemany(_dialect(sql), rows)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _codes(value: Any) -> list[str]:
    """A JSON list column's codes, whichever form the driver returns it in."""
    if isinstance(value, str | bytes):
        try:
            value = msgspec.json.decode(value or b"[]")
        except msgspec.DecodeError:
            return []
    if not isinstance(value, list):
        return []
    return [code.strip() for code in value if isinstance(code, str) and code.strip()]


def _chunks(ids: Iterable[int], size: int = BATCH) -> Iterable[list[int]]:
    ordered = sorted({int(i) for i in ids})
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


# ---------------------------------------------------------------- tags
async def sync_tags(service_id: int) -> None:
    """Mirror a service's JSON code lists into ServiceTag rows (idempotent; writes only the difference)."""
    await sync_tags_bulk([service_id])


async def sync_tags_bulk(service_ids: Iterable[int]) -> int:
    """sync_tags for many services, in batches; runs in the caller's transaction if there is one.
    Returns the number of tag rows inserted or deleted."""
    changed = 0
    for chunk in _chunks(service_ids):
        async with write_transaction():
            changed += await _sync_tags_chunk(chunk)
    return changed


async def _sync_tags_chunk(ids: list[int]) -> int:
    columns = ", ".join(TAG_COLUMNS.values())
    services = await _fetch(f"SELECT id, {columns} FROM network_service WHERE id IN ({_marks(len(ids))})", ids)
    wanted: set[tuple[int, str, str]] = set()
    for row in services:
        for kind, column in TAG_COLUMNS.items():
            wanted.update((int(row["id"]), kind, code) for code in _codes(row[column]) if len(code) <= 120)
    existing = await _fetch(
        f"SELECT id, service, kind, code FROM network_service_tag WHERE service IN ({_marks(len(ids))})", ids
    )
    kept: set[tuple[int, str, str]] = set()
    stale: list[int] = []
    for row in existing:
        key = (int(row["service"]), str(row["kind"]), str(row["code"]))
        if key in wanted and key not in kept:
            kept.add(key)
        else:
            stale.append(int(row["id"]))
    for start in range(0, len(stale), BATCH):
        part = stale[start : start + BATCH]
        await _execute(f"DELETE FROM network_service_tag WHERE id IN ({_marks(len(part))})", part)
    missing = sorted(wanted - kept)
    await _executemany("INSERT INTO network_service_tag (service, kind, code) VALUES (?, ?, ?)", missing)
    return len(stale) + len(missing)


# ---------------------------------------------------------------- index
class _Document(msgspec.Struct, array_like=True):
    service_id: int
    structure_id: int
    structure_kind: str
    accepts_referrals: bool
    hours: str
    latitude: float | None
    longitude: float | None
    commune: str
    neighbourhood: str
    sort_name: str
    name: str
    structure: str
    description: str
    context: str
    filters: str


_SERVICE_COLUMNS = """sv.id, sv.name, sv.description, sv.types, sv.thematiques, sv.publics, sv.fees,
    sv.reception_modes, sv.accommodations, sv.languages, sv.opening_hours, sv.accepts_referrals, sv.is_active,
    st.id AS structure_id, st.name AS structure_name, st.kind, st.status, st.commune, st.insee_code,
    st.neighbourhood, st.latitude, st.longitude, st.opening_hours AS structure_hours, st.networks"""


def _document(row: Mapping[str, Any], places: list[Mapping[str, Any]]) -> _Document:
    thematiques = _codes(row["thematiques"])
    categories = list(dict.fromkeys(vocabulary.thematique_category(code) for code in thematiques))
    kind = str(row["kind"] or "AUTRE")
    located = next((p for p in places if p["latitude"] is not None and p["longitude"] is not None), None)
    if located is not None:
        latitude, longitude = located["latitude"], located["longitude"]
        commune = located["commune"] or row["commune"]
        neighbourhood = located["neighbourhood"] or ("" if located["commune"] else row["neighbourhood"])
    else:
        latitude, longitude = row["latitude"], row["longitude"]
        commune, neighbourhood = row["commune"], row["neighbourhood"]

    tokens: set[str] = {filter_token("kind", kind)}
    if row["accepts_referrals"]:
        tokens.add(filter_token("referrals", "yes"))
    for tag_kind, column in TAG_COLUMNS.items():
        tokens.update(filter_token(tag_kind, code) for code in _codes(row[column]))
    tokens.update(filter_token("categorie", category) for category in categories)
    for source in [row, *places]:  # the structure's place and the service's own places
        for area, value in (("commune", source["commune"]), ("commune", source["insee_code"])):
            if key := area_key(value or ""):
                tokens.add(filter_token(area, key))
        if key := area_key(source["neighbourhood"] or ""):
            tokens.add(filter_token("quartier", key))

    context = [
        *vocabulary.labels("thematique", thematiques),
        *(vocabulary.CATEGORIES.get(c, "") for c in categories),
        *vocabulary.labels("type", _codes(row["types"])),
        *vocabulary.labels("public", _codes(row["publics"])),
        *(vocabulary.NETWORKS.get(code, "") for code in _codes(row["networks"])),
        row["commune"],
        row["neighbourhood"],
        *(f"{p['name']} {p['commune']} {p['neighbourhood']}" for p in places),
    ]
    structure = [row["structure_name"], "" if kind == "AUTRE" else kind, STRUCTURE_KINDS.get(kind, "")]
    return _Document(
        service_id=int(row["id"]),
        structure_id=int(row["structure_id"]),
        structure_kind=kind,
        accepts_referrals=bool(row["accepts_referrals"]),
        hours=(row["opening_hours"] or "").strip() or (row["structure_hours"] or "").strip(),
        latitude=float(latitude) if latitude is not None else None,
        longitude=float(longitude) if longitude is not None else None,
        commune=commune or "",
        neighbourhood=neighbourhood or "",
        sort_name=fold(row["name"] or "").strip(),
        name=row["name"] or "",
        structure=" ".join(part for part in structure if part),
        description=row["description"] or "",
        context=" ".join(part for part in context if part),
        filters=" ".join(sorted(tokens)),
    )


def _digest(document: _Document) -> str:
    return hashlib.blake2b(msgspec.msgpack.encode(document), digest_size=12).hexdigest()


async def reindex_service(service_id: int) -> None:
    """Bring one service's index entry up to date (added, rewritten, removed, or left as is)."""
    await reindex_services([service_id])


async def reindex_structure(structure_id: int) -> None:
    """Reindex every service of a structure (after its name, address, hours or status changed)."""
    async with write_transaction():
        rows = await _fetch(
            "SELECT id FROM network_service WHERE structure = ?"
            " UNION SELECT service_id FROM network_search WHERE structure_id = ?",
            [structure_id, structure_id],
        )
        await reindex_services(int(row["id"]) for row in rows)


async def reindex_services(service_ids: Iterable[int]) -> IndexReport:
    """Bulk reindex (imports): batches of BATCH services; runs in the caller's transaction if there is one."""
    report = IndexReport()
    for chunk in _chunks(service_ids):
        async with write_transaction():
            await _reindex_chunk(chunk, report)
    return report


async def rebuild_index(*, with_tags: bool = True) -> IndexReport:
    """Check every service's tags and index entry, one transaction per batch (unchanged ones are not
    rewritten, so a second run is cheap); then drop strays and refresh the planner's statistics."""
    async with current_engine().transaction():
        ids = [int(row["id"]) for row in await _fetch("SELECT id FROM network_service ORDER BY id")]
    report = IndexReport()
    for chunk in _chunks(ids):
        async with write_transaction():
            if with_tags:
                report.tags_written += await _sync_tags_chunk(chunk)
            await _reindex_chunk(chunk, report)
    async with write_transaction():
        if _sqlite():
            await _execute("DELETE FROM network_search_fts WHERE rowid NOT IN (SELECT service_id FROM network_search)")
        for table in ("network_search",) if _sqlite() else ("network_search", "network_search_text"):
            await _execute(f"ANALYZE {table}")
    return report


_INDEX_COLUMNS = (
    "service_id, structure_id, structure_kind, accepts_referrals, hours_id, latitude, longitude, commune, "
    "neighbourhood, sort_name, digest"
)
# PostgreSQL: the title (service name, then structure) ranks; the document (all words and the filter
# tokens, unweighted and without positions, so the GIN index answers exactly and rows stay small) matches.
_PG_INSERTS = [
    f"""INSERT INTO network_search ({_INDEX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (service_id) DO UPDATE SET structure_id = excluded.structure_id,
    structure_kind = excluded.structure_kind, accepts_referrals = excluded.accepts_referrals,
    hours_id = excluded.hours_id, latitude = excluded.latitude, longitude = excluded.longitude,
    commune = excluded.commune, neighbourhood = excluded.neighbourhood, sort_name = excluded.sort_name,
    digest = excluded.digest""",
    """INSERT INTO network_search_text (service_id, sort_name, hours_id, latitude, longitude, title, document)
    VALUES ($1, $2, $3, $4, $5,
    setweight(to_tsvector('maillage_simple', $6), 'A') || setweight(to_tsvector('maillage_simple', $7), 'B'),
    strip(to_tsvector('maillage_simple', $8) || to_tsvector('maillage_french', $8) || to_tsvector('simple', $9)))
    ON CONFLICT (service_id) DO UPDATE SET sort_name = excluded.sort_name, hours_id = excluded.hours_id,
    latitude = excluded.latitude, longitude = excluded.longitude, title = excluded.title,
    document = excluded.document""",
]


async def _reindex_chunk(ids: list[int], report: IndexReport) -> None:
    marks = _marks(len(ids))
    rows = await _fetch(
        f"SELECT {_SERVICE_COLUMNS} FROM network_service sv JOIN network_structure st ON st.id = sv.structure"
        f" WHERE sv.id IN ({marks})",
        ids,
    )
    places: dict[int, list[Mapping[str, Any]]] = {}
    for place in await _fetch(
        "SELECT service, name, commune, insee_code, neighbourhood, latitude, longitude FROM network_place"
        f" WHERE service IN ({marks}) ORDER BY service, id",
        ids,
    ):
        places.setdefault(int(place["service"]), []).append(place)
    existing = {
        int(r["service_id"]): str(r["digest"])
        for r in await _fetch(f"SELECT service_id, digest FROM network_search WHERE service_id IN ({marks})", ids)
    }
    report.services += len(rows)
    searchable: set[int] = set()
    documents: list[tuple[_Document, str]] = []
    for row in rows:
        if row["status"] != "active" or not row["is_active"]:
            continue
        document = _document(row, places.get(int(row["id"]), []))
        searchable.add(document.service_id)
        digest = _digest(document)
        if existing.get(document.service_id) != digest:
            documents.append((document, digest))
    report.indexed += len(searchable)
    unsearchable = [i for i in existing if i not in searchable]
    report.removed += len(unsearchable)
    drop = sorted(unsearchable + [d.service_id for d, _ in documents if d.service_id in existing])
    if drop:
        await _execute(f"DELETE FROM network_search WHERE service_id IN ({_marks(len(drop))})", drop)
    if not documents:
        return
    sqlite = _sqlite()
    if sqlite:  # an FTS row left behind by hand-made changes would block the insert
        rewritten = [d.service_id for d, _ in documents]
        await _execute(f"DELETE FROM network_search_fts WHERE rowid IN ({_marks(len(rewritten))})", rewritten)
    hours_ids = await _hours_ids({d.hours for d, _ in documents if d.hours})
    index_rows = [
        [
            d.service_id,
            d.structure_id,
            d.structure_kind,
            d.accepts_referrals,
            hours_ids.get(d.hours),
            d.latitude,
            d.longitude,
            d.commune,
            d.neighbourhood,
            d.sort_name,
            digest,
        ]
        for d, digest in documents
    ]
    if sqlite:
        await _executemany(f"INSERT INTO network_search ({_INDEX_COLUMNS}) VALUES ({_marks(11)})", index_rows)
        await _executemany(
            "INSERT INTO network_search_fts (rowid, name, structure, description, context, filters)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                [d.service_id, fold(d.name), fold(d.structure), fold(d.description), fold(d.context), d.filters]
                for d, _ in documents
            ],
        )
    else:
        await _executemany(_PG_INSERTS[0], index_rows)
        await _executemany(
            _PG_INSERTS[1],
            [
                [
                    d.service_id,
                    d.sort_name,
                    hours_ids.get(d.hours),
                    d.latitude,
                    d.longitude,
                    d.name,
                    d.structure,
                    f"{d.name} {d.structure} {d.description} {d.context}",
                    d.filters,
                ]
                for d, _ in documents
            ],
        )
    report.written += len(documents)


async def _hours_ids(expressions: set[str]) -> dict[str, int]:
    """Ids of opening-hours expressions, adding the new ones (each expression is stored once, for good)."""
    if not expressions:
        return {}
    ordered = sorted(expressions)
    await _executemany(
        "INSERT INTO network_search_hours (hours) VALUES (?) ON CONFLICT (hours) DO NOTHING", [[e] for e in ordered]
    )
    found: dict[str, int] = {}
    for start in range(0, len(ordered), BATCH):
        part = ordered[start : start + BATCH]
        rows = await _fetch(f"SELECT id, hours FROM network_search_hours WHERE hours IN ({_marks(len(part))})", part)
        found.update((str(r["hours"]), int(r["id"])) for r in rows)
    return found


async def _open_hours_ids(at: datetime) -> frozenset[int]:
    """Ids of the expressions open at `at`; cached per database, minute and set of expressions (rows of
    network_search_hours never change, so the highest id identifies the set)."""
    engine = current_engine()
    database = str(getattr(engine, "path", None) or getattr(engine, "config", {}).get("dsn", ""))
    latest = await _fetch("SELECT max(id) AS latest FROM network_search_hours")
    key = (database, int(latest[0]["latest"] or 0), at)
    cached = _OPEN_SETS.get(key)
    if cached is None:
        rows = await _fetch("SELECT id, hours FROM network_search_hours")
        cached = frozenset(int(r["id"]) for r in rows if is_open(str(r["hours"]), at))
        if len(_OPEN_SETS) > 64:
            _OPEN_SETS.clear()
        _OPEN_SETS[key] = cached
    return cached


# ---------------------------------------------------------------- searching
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
    if len(q.text) > 200:
        errors["text"] = "La recherche compte au plus 200 caractères."
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


def fts5_match(terms: Sequence[str], groups: Sequence[Sequence[str]] = ()) -> str:
    """SQLite FTS5 query: every term as a prefix, and a token of every filter group."""
    parts = [f'"{t}"*' for t in terms] + [f"filters : ({' OR '.join(group)})" for group in groups]
    return " AND ".join(parts)


def pg_tsquery(n_terms: int) -> str:
    """PostgreSQL tsquery of n terms ("?" = "term:*"): each the prefix of a plain word or of a French stem."""
    return " && ".join("(to_tsquery('maillage_simple', ?) || to_tsquery('maillage_french', ?))" for _ in range(n_terms))


def pg_tsquery_args(terms: Sequence[str]) -> list[str]:
    return [arg for term in terms for arg in (f"{term}:*", f"{term}:*")]


def _squared_distance(lat: float, lon: float) -> tuple[str, list[Any]]:
    """Equirectangular squared distance in degrees², arithmetic only (SQLite has no math functions)."""
    k = math.cos(math.radians(lat))
    return (
        "((s.latitude - ?) * (s.latitude - ?) + (s.longitude - ?) * ? * (s.longitude - ?) * ?)",
        [lat, lat, lon, k, lon, k],
    )


async def search(q: SearchQuery, now: datetime | None = None) -> SearchPage:
    """One page of searchable services matching `q`, with the total count."""
    q = _checked(q)
    at = paris_minute(now)
    terms = query_terms(q.text)
    groups = _filter_groups(q)
    point = (q.latitude, q.longitude) if q.latitude is not None and q.longitude is not None else None
    sort: Sort = q.sort
    if sort == "relevance" and not terms:
        sort = "distance" if point else "name"
    if sort == "distance" and not point:
        sort = "relevance" if terms else "name"
    async with current_engine().transaction():
        open_ids = None
        if q.open_at is not None or q.open_now:
            open_ids = await _open_hours_ids(paris_minute(q.open_at) if q.open_at is not None else at)
        plan = _Plan(q, terms, groups, point, sort, open_ids)
        if plan.browse_by_distance:
            rows = await plan.nearest()
        else:
            rows = await _fetch(plan.page_sql(), plan.page_args())
        if rows and plan.windowed:
            total = int(rows[0]["total"])
        elif (rows and len(rows) < q.limit) or (not rows and q.offset == 0):
            total = q.offset + len(rows)  # the last page: nothing to count
        else:
            total = int((await _fetch(*plan.count()))[0]["n"])
    hits = [_hit(row, terms, point, at, sort == "relevance") for row in rows]
    return SearchPage(hits=hits, total=total, limit=q.limit, offset=q.offset, sort=sort, terms=tuple(terms), at=at)


class _Plan:
    """The SQL of one search. Whatever narrows most drives: the words and filter tokens (full-text
    index), else the index rows themselves. On SQLite the join order is forced (CROSS JOIN) so that
    FTS5 is never run once per candidate; on PostgreSQL the matches are materialised first (GIN), with
    the columns filters and sorts need, whatever the planner guesses of their number."""

    def __init__(
        self,
        q: SearchQuery,
        terms: list[str],
        groups: list[list[str]],
        point: tuple[float, float] | None,
        sort: Sort,
        open_ids: frozenset[int] | None,
    ) -> None:
        self.q, self.point, self.sort = q, point, sort
        sqlite = _sqlite()
        text = bool(terms or groups)
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
        self.where: list[str] = []
        self.where_args: list[Any] = []
        self.windowed = False
        if sqlite and text:
            self.ident, self.source = "network_search_fts.rowid", "network_search_fts"
            if row_where or sort != "relevance":
                self.source += " CROSS JOIN network_search s ON s.service_id = network_search_fts.rowid"
            self.where, self.where_args = ["network_search_fts MATCH ?"], [fts5_match(terms, groups)]
            self.count_source = self.source if row_where else "network_search_fts"
        elif text:
            parts = ([f"({pg_tsquery(len(terms))})"] if terms else []) + (["to_tsquery('simple', ?)"] if groups else [])
            ranking = pg_tsquery(len(terms)) if sort == "relevance" else "NULL::tsquery"
            self.prefix_args = pg_tsquery_args(terms) + ([_tsquery_of_groups(groups)] if groups else [])
            self.prefix_args += pg_tsquery_args(terms) if sort == "relevance" else []
            self.prefix_args += self.select_args + self.row_args
            self.select_args, self.row_args, self.row_where = [], [], []
            where = " AND ".join(row_where) or "TRUE"
            self.prefix = (
                f"tq AS MATERIALIZED (SELECT {' && '.join(parts)} AS q, {ranking} AS r), "
                f"m AS MATERIALIZED (SELECT s.service_id, {columns} FROM tq JOIN network_search_text s"
                f" ON s.document @@ tq.q WHERE {where}), "
            )
            self.ident, self.source, self.count_source = "m.service_id", "m", "m"
            columns = ", ".join(column.split()[0] for column in self.order_columns[:-1])
            self.windowed = True  # one pass: the matches are counted as they are ranked
        else:
            self.ident, self.source, self.count_source = "s.service_id", "network_search s", "network_search s"
        self.columns = columns
        self.browse_by_distance = sort == "distance" and not text and q.radius_m is None

    def _condition(self, extra: Sequence[str] = ()) -> str:
        return " AND ".join([*self.where, *self.row_where, *extra]) or "1 = 1"

    def page_sql(self, extra: Sequence[str] = ()) -> str:
        window = ", count(*) OVER () AS total" if self.windowed else ""
        order = ", ".join(self.order_columns)
        return f"""WITH {self.prefix}page AS (
                SELECT {self.ident} AS service_id, {self.columns}{window} FROM {self.source}
                WHERE {self._condition(extra)} ORDER BY {order} LIMIT ? OFFSET ?)
            SELECT page.*, sv.name, sv.description, sv.thematiques, sv.fees, sv.accepts_referrals,
                   s.structure_id, st.name AS structure_name, s.structure_kind, s.commune, s.neighbourhood,
                   s.latitude, s.longitude, h.hours
            FROM page JOIN network_search s ON s.service_id = page.service_id
            JOIN network_service sv ON sv.id = page.service_id
            JOIN network_structure st ON st.id = s.structure_id
            LEFT JOIN network_search_hours h ON h.id = s.hours_id
            ORDER BY {", ".join("page." + column for column in self.order_columns)}"""

    def page_args(
        self, extra_args: Sequence[Any] = (), limit: int | None = None, offset: int | None = None
    ) -> list[Any]:
        limit = self.q.limit if limit is None else limit
        offset = self.q.offset if offset is None else offset
        return [*self.prefix_args, *self.select_args, *self.where_args, *self.row_args, *extra_args, limit, offset]

    def count(self) -> tuple[str, list[Any]]:
        with_clause = f"WITH {self.prefix.rstrip(', ')} " if self.prefix else ""
        sql = f"{with_clause}SELECT count(*) AS n FROM {self.count_source} WHERE {self._condition()}"
        return sql, [*self.prefix_args, *self.where_args, *self.row_args]

    async def nearest(self) -> list[Mapping[str, Any]]:
        """Nearest first without words: widening circles on the coordinates' index, until one holds the
        whole page (the services of a circle are nearer than any outside it); then everything."""
        assert self.point is not None
        wanted = self.q.offset + self.q.limit
        for degrees in (0.02, 0.08, 0.32, 1.28):  # about 2, 9, 36 and 140 km
            extra_args: list[Any] = []
            extra = [_within(self.point, degrees, extra_args)]
            rows = await _fetch(self.page_sql(extra), self.page_args(extra_args, limit=wanted, offset=0))
            if len(rows) == wanted:
                return rows[self.q.offset :]
        return await _fetch(self.page_sql(), self.page_args())


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
    thematiques = tuple(_codes(row["thematiques"]))
    fees = tuple(_codes(row["fees"]))
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
    )
