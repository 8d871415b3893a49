"""The directory's search engine: one French box, filters, relevance or distance, opening hours.

The index (tables of the migration network_2026_11_22t01_00_00) holds one row per *searchable* service,
an active service of an active structure. Writers call `index.sync_tags` and `index.reindex_service` (or
the bulk variants) after each change; both are idempotent and write only what changed. Imports queue the
services they wrote (`pending`) and index them after commit, a batch per transaction. Triggers drop a service
from the index as soon as it or its structure stops being active, so a closed structure never shows.

Words: SQLite FTS5 (unicode61, diacritics removed) or PostgreSQL tsvectors (French stems and plain
words, unaccented). The box's words become ideas (`text.concepts`): each word, stemmed ("administratives"
→ "administrat") and matched as a prefix, with its synonyms (`synonyms`: the field's reviewed list and the
coordinator's own), a synonym list's phrase ("carte grise") being one idea; French stop words are ignored.
When at least ENOUGH_MATCH_EVERY_IDEA services match every idea, they are the results; otherwise those
matching enough of them (one of two, two of three…) follow, ranked by how many they match when the order
is relevance (distance and name orders stay what they say).

Filters are tokens of the same full-text index (one per code, commune, neighbourhood…), so a search
with words and filters is one intersection of posting lists, never a probe per candidate.

Relevance: SQLite ranks with bm25 (service name ≫ structure > description > labels and places);
PostgreSQL ranks on the service and structure names (ts_rank of a small vector kept in the row, so
ranking never reads the large document), ties by name.

Opening hours are OSM expressions evaluated with opening-hours-py in Europe/Paris, French public
holidays included; each distinct expression is evaluated once per minute, not once per service.

Modules (imported by name; this file re-exports nothing): `text` (folding, words, stems, ideas, filter tokens,
snippets, distance), `synonyms` (the synonym groups), `hours` (opening hours), `sql` (database access on either engine), `index` (the writer: tags,
reindexing, rebuilding, the directory caches), `pending` (the queue of services to reindex), `query` (the
planner and executor).
"""
