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

Modules: `text` (folding, words, filter tokens, snippets, distance), `hours` (opening hours), `sql`
(database access on either engine), `index` (the writer: tags, reindexing, rebuilding), `query` (the
planner and executor). This package's names below are the interface the rest of the project uses.
"""

from network.search.hours import PARIS, is_open, paris_minute
from network.search.index import (
    TAG_COLUMNS,
    DirectoryCache,
    IndexReport,
    rebuild_index,
    reindex_service,
    reindex_services,
    reindex_structure,
    sync_tags,
    sync_tags_bulk,
)
from network.search.query import (
    BM25_WEIGHTS,
    MAX_LIMIT,
    MAX_OFFSET,
    Origin,
    Precision,
    SearchHit,
    SearchPage,
    SearchQuery,
    Sort,
    fts5_match,
    pg_tsquery,
    pg_tsquery_args,
    search,
)
from network.search.text import (
    EARTH_RADIUS_M,
    MAX_TERMS,
    area_key,
    distance_m,
    filter_token,
    fold,
    query_terms,
    snippet,
)

__all__ = [
    "BM25_WEIGHTS",
    "EARTH_RADIUS_M",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_TERMS",
    "PARIS",
    "TAG_COLUMNS",
    "DirectoryCache",
    "IndexReport",
    "Origin",
    "Precision",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "Sort",
    "area_key",
    "distance_m",
    "filter_token",
    "fold",
    "fts5_match",
    "is_open",
    "paris_minute",
    "pg_tsquery",
    "pg_tsquery_args",
    "query_terms",
    "rebuild_index",
    "reindex_service",
    "reindex_services",
    "reindex_structure",
    "search",
    "snippet",
    "sync_tags",
    "sync_tags_bulk",
]
