"""The index writer: ServiceTag rows mirroring the services' code lists, and one index row per searchable
service (an active service of an active structure), rewritten only when its digest changed.

SQLite: network_search (narrow row) + network_search_fts (FTS5, unicode61, diacritics removed).
PostgreSQL: network_search + network_search_text (a small ranked title and an unweighted document of
French stems and plain words, unaccented; the filter tokens are words of the document).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import msgspec

from hub.db import current_engine, write_transaction
from hub.tables import STRUCTURE_KINDS
from network import vocabulary
from network.search import sql
from network.search.hours import expression_ids
from network.search.sql import BATCH
from network.search.text import area_key, filter_token, fold

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


T = TypeVar("T")
log = logging.getLogger("maillage.search")


class DirectoryCache(Generic[T]):
    """A value read from the directory (the search form's lists, the gazetteer), kept per database until
    this process's index writer records a change, and at most `max_age` seconds (other processes' writes).

    Every directory write goes through the writer (sync_tags, reindex_*), so a change made here is seen by
    the next request; one made by another app process, within `max_age`. With `in_background`, a value
    that is dearer to build is rebuilt in a task while the previous one keeps being served."""

    _writes: ClassVar[int] = 0

    def __init__(self, max_age: float, *, in_background: bool = False) -> None:
        self.max_age = max_age
        self.in_background = in_background
        self._entries: dict[str, tuple[int, float, T]] = {}
        self._refreshing: dict[str, asyncio.Task[T]] = {}

    @classmethod
    def directory_changed(cls) -> None:
        cls._writes += 1

    async def get(self, build: Callable[[], Awaitable[T]]) -> T:
        key, now = sql.database_key(), time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == DirectoryCache._writes and now - entry[1] < self.max_age:
            return entry[2]
        if entry is None or not self.in_background:
            return await self._build(key, build)
        if key not in self._refreshing:
            task = self._refreshing[key] = asyncio.create_task(self._build(key, build))
            task.add_done_callback(_report_failure)
        return entry[2]

    async def settled(self) -> None:
        """Wait for the rebuilds under way (tests, shutdown)."""
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _build(self, key: str, build: Callable[[], Awaitable[T]]) -> T:
        writes, now = DirectoryCache._writes, time.monotonic()  # before building: a write meanwhile makes it stale
        try:
            value = await build()
        finally:
            self._refreshing.pop(key, None)
        if len(self._entries) >= 16:
            self._entries.clear()
        self._entries[key] = (writes, now, value)
        return value


def _report_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("directory cache: rebuild failed (%s), the previous value is kept", type(error).__name__)


class IndexReport(msgspec.Struct, kw_only=True):
    services: int = 0  # services looked at
    indexed: int = 0  # searchable ones
    written: int = 0  # index rows (re)written
    removed: int = 0  # index rows removed
    tags_written: int = 0  # tag rows inserted or deleted


# ---------------------------------------------------------------- tags
async def sync_tags(service_id: int) -> None:
    """Mirror a service's JSON code lists into ServiceTag rows (idempotent; writes only the difference)."""
    await sync_tags_bulk([service_id])


async def sync_tags_bulk(service_ids: Iterable[int]) -> int:
    """sync_tags for many services, in batches; runs in the caller's transaction if there is one.
    Returns the number of tag rows inserted or deleted."""
    changed = 0
    for chunk in sql.chunks(service_ids):
        async with write_transaction():
            changed += await sync_tags_batch(chunk)
    DirectoryCache.directory_changed()
    return changed


async def sync_tags_batch(ids: list[int]) -> int:
    columns = ", ".join(TAG_COLUMNS.values())
    services = await sql.fetch(f"SELECT id, {columns} FROM network_service WHERE id IN ({sql.marks(len(ids))})", ids)
    wanted: set[tuple[int, str, str]] = set()
    for row in services:
        for kind, column in TAG_COLUMNS.items():
            wanted.update((int(row["id"]), kind, code) for code in sql.codes(row[column]) if len(code) <= 120)
    existing = await sql.fetch(
        f"SELECT id, service, kind, code FROM network_service_tag WHERE service IN ({sql.marks(len(ids))})", ids
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
        await sql.execute(f"DELETE FROM network_service_tag WHERE id IN ({sql.marks(len(part))})", part)
    missing = sorted(wanted - kept)
    await sql.insert_rows("INSERT INTO network_service_tag (service, kind, code)", missing, ("int", "text", "text"))
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
    thematiques = sql.codes(row["thematiques"])
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
        tokens.update(filter_token(tag_kind, code) for code in sql.codes(row[column]))
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
        *vocabulary.labels("type", sql.codes(row["types"])),
        *vocabulary.labels("public", sql.codes(row["publics"])),
        *(vocabulary.NETWORKS.get(code, "") for code in sql.codes(row["networks"])),
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
        rows = await sql.fetch(
            "SELECT id FROM network_service WHERE structure = ?"
            " UNION SELECT service_id FROM network_search WHERE structure_id = ?",
            [structure_id, structure_id],
        )
        await reindex_services(int(row["id"]) for row in rows)
    DirectoryCache.directory_changed()  # its address may have changed, which no index row holds


async def reindex_services(service_ids: Iterable[int]) -> IndexReport:
    """Bulk reindex (imports): batches of BATCH services; runs in the caller's transaction if there is one."""
    report = IndexReport()
    for chunk in sql.chunks(service_ids):
        async with write_transaction():
            await reindex_batch(chunk, report)
    DirectoryCache.directory_changed()
    return report


async def rebuild_index(*, with_tags: bool = True) -> IndexReport:
    """Check every service's tags and index entry, one transaction per batch (unchanged ones are not
    rewritten, so a second run is cheap); then drop strays and refresh the planner's statistics."""
    async with current_engine().transaction():
        ids = [int(row["id"]) for row in await sql.fetch("SELECT id FROM network_service ORDER BY id")]
    report = IndexReport()
    for chunk in sql.chunks(ids):
        async with write_transaction():
            if with_tags:
                report.tags_written += await sync_tags_batch(chunk)
            await reindex_batch(chunk, report)
    async with write_transaction():
        if sql.on_sqlite():
            await sql.execute(
                "DELETE FROM network_search_fts WHERE rowid NOT IN (SELECT service_id FROM network_search)"
            )
        for table in ("network_search",) if sql.on_sqlite() else ("network_search", "network_search_text"):
            await sql.execute(f"ANALYZE {table}")
    DirectoryCache.directory_changed()
    return report


_INDEX_COLUMNS = (
    "service_id, structure_id, structure_kind, accepts_referrals, hours_id, latitude, longitude, commune, "
    "neighbourhood, sort_name, digest"
)
# PostgreSQL: the title (service name, then structure) ranks; the document (all words and the filter
# tokens, unweighted and without positions, so the GIN index answers exactly and rows stay small) matches.
_INDEX_TYPES = ("int", "int", "text", "bool", "int", "float8", "float8", "text", "text", "text", "text")
_PG_UPSERT = """ON CONFLICT (service_id) DO UPDATE SET structure_id = excluded.structure_id,
    structure_kind = excluded.structure_kind, accepts_referrals = excluded.accepts_referrals,
    hours_id = excluded.hours_id, latitude = excluded.latitude, longitude = excluded.longitude,
    commune = excluded.commune, neighbourhood = excluded.neighbourhood, sort_name = excluded.sort_name,
    digest = excluded.digest"""
_PG_TEXT_TYPES = ("int", "text", "int", "float8", "float8", "text", "text", "text", "text")
_PG_TEXT_VALUES = """c1, c2, c3, c4, c5,
    setweight(to_tsvector('maillage_simple', c6), 'A') || setweight(to_tsvector('maillage_simple', c7), 'B'),
    strip(to_tsvector('maillage_simple', c8) || to_tsvector('maillage_french', c8) || to_tsvector('simple', c9))"""
_PG_TEXT_UPSERT = """ON CONFLICT (service_id) DO UPDATE SET sort_name = excluded.sort_name,
    hours_id = excluded.hours_id, latitude = excluded.latitude, longitude = excluded.longitude,
    title = excluded.title, document = excluded.document"""


async def reindex_batch(ids: list[int], report: IndexReport) -> None:
    marks = sql.marks(len(ids))
    rows = await sql.fetch(
        f"SELECT {_SERVICE_COLUMNS} FROM network_service sv JOIN network_structure st ON st.id = sv.structure"
        f" WHERE sv.id IN ({marks})",
        ids,
    )
    places: dict[int, list[Mapping[str, Any]]] = {}
    for place in await sql.fetch(
        "SELECT service, name, commune, insee_code, neighbourhood, latitude, longitude FROM network_place"
        f" WHERE service IN ({marks}) ORDER BY service, id",
        ids,
    ):
        places.setdefault(int(place["service"]), []).append(place)
    existing = {
        int(r["service_id"]): str(r["digest"])
        for r in await sql.fetch(f"SELECT service_id, digest FROM network_search WHERE service_id IN ({marks})", ids)
    }
    report.services += len(rows)
    searchable: set[int] = set()
    documents: list[tuple[_Document, str]] = []
    for n, row in enumerate(rows, 1):
        if n % 200 == 0:  # folding a batch's text is CPU: other requests get the event loop in between
            await asyncio.sleep(0)
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
        await sql.execute(f"DELETE FROM network_search WHERE service_id IN ({sql.marks(len(drop))})", drop)
    if not documents:
        return
    sqlite = sql.on_sqlite()
    if sqlite:  # an FTS row left behind by hand-made changes would block the insert
        rewritten = [d.service_id for d, _ in documents]
        await sql.execute(f"DELETE FROM network_search_fts WHERE rowid IN ({sql.marks(len(rewritten))})", rewritten)
    hours_ids = await expression_ids({d.hours for d, _ in documents if d.hours})
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
    await sql.insert_rows(
        f"INSERT INTO network_search ({_INDEX_COLUMNS})", index_rows, _INDEX_TYPES, tail="" if sqlite else _PG_UPSERT
    )
    if sqlite:
        fts_rows = []
        for n, (d, _) in enumerate(documents, 1):
            fts_rows.append(
                [d.service_id, fold(d.name), fold(d.structure), fold(d.description), fold(d.context), d.filters]
            )
            if n % 200 == 0:
                await asyncio.sleep(0)
        await sql.executemany(
            "INSERT INTO network_search_fts (rowid, name, structure, description, context, filters)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            fts_rows,
        )
    else:
        await sql.insert_rows(
            "INSERT INTO network_search_text (service_id, sort_name, hours_id, latitude, longitude, title, document)",
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
            _PG_TEXT_TYPES,
            values=_PG_TEXT_VALUES,
            tail=_PG_TEXT_UPSERT,
        )
    report.written += len(documents)
