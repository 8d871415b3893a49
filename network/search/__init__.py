"""The directory's search engine: one French box, filters, relevance or distance, opening hours.

The index (tables of the migration network_2026_11_22t01_00_00) holds one row per *searchable* service,
an active service of an active structure. Writers call `index.sync_tags` and `index.reindex_service` (or
the bulk variants) after each change; both are idempotent and write only what changed. Imports queue the
services they wrote (`pending`) and index them after commit, a batch per transaction. Triggers drop a service
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

Modules (imported by name; this file re-exports nothing): `text` (folding, words, filter tokens, snippets,
distance), `hours` (opening hours), `sql` (database access on either engine), `index` (the writer: tags,
reindexing, rebuilding, the directory caches), `pending` (the queue of services to reindex), `query` (the
planner and executor).
"""
