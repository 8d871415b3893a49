"""The directory's search index (network.search owns these tables; they are not Piccolo tables).

- network_search: one narrow row per searchable service (active service of an active structure) with
  what row filters, sorts and result lists need;
- network_search_fts (SQLite): FTS5 table, rowid = service id, the filter tokens in a column of their own;
- network_search_text (PostgreSQL): a small title tsvector (ranking) and the document tsvector (words
  and filter tokens, without positions; GIN index), with the few columns filters and sorts need;
- network_search_hours: each distinct opening-hours expression once, so "open now" is evaluated per
  expression, not per service;
- an index on network_service_tag (kind, code, service) for "services with this code" lookups;
- triggers that drop a service from the index as soon as it, or its structure, stops being active.
Raw SQL per engine: raw statements run before the table operations of a migration, hence a file of its own.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "directory search index"

COMMON = [
    "CREATE INDEX network_service_tag_lookup ON network_service_tag (kind, code, service)",
]

SQLITE = [
    """CREATE TABLE network_search_hours (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        hours TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE network_search (
        service_id INTEGER PRIMARY KEY REFERENCES network_service (id) ON DELETE CASCADE,
        structure_id INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
        structure_kind TEXT NOT NULL DEFAULT '',
        accepts_referrals INTEGER NOT NULL DEFAULT 0,
        hours_id INTEGER REFERENCES network_search_hours (id),
        latitude REAL,
        longitude REAL,
        commune TEXT NOT NULL DEFAULT '',
        neighbourhood TEXT NOT NULL DEFAULT '',
        sort_name TEXT NOT NULL DEFAULT '',
        digest TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE VIRTUAL TABLE network_search_fts USING fts5(
        name, structure, description, context, filters,
        tokenize = "unicode61 remove_diacritics 2", prefix = '2 3 4'
    )""",
    """CREATE TRIGGER network_search_unindexed AFTER DELETE ON network_search
       BEGIN DELETE FROM network_search_fts WHERE rowid = old.service_id; END""",
    """CREATE TRIGGER network_search_structure_inactive AFTER UPDATE OF status ON network_structure
       WHEN new.status <> 'active'
       BEGIN DELETE FROM network_search WHERE structure_id = new.id; END""",
    """CREATE TRIGGER network_search_service_inactive AFTER UPDATE OF is_active ON network_service
       WHEN NOT new.is_active
       BEGIN DELETE FROM network_search WHERE service_id = new.id; END""",
]

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # French stems and plain words, both without accents: stems match inflections, words match prefixes.
    "CREATE TEXT SEARCH CONFIGURATION maillage_french (COPY = french)",
    """ALTER TEXT SEARCH CONFIGURATION maillage_french
       ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem""",
    "CREATE TEXT SEARCH CONFIGURATION maillage_simple (COPY = simple)",
    """ALTER TEXT SEARCH CONFIGURATION maillage_simple
       ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple""",
    """CREATE TABLE network_search_hours (
        id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        hours TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE network_search (
        service_id INTEGER PRIMARY KEY REFERENCES network_service (id) ON DELETE CASCADE,
        structure_id INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
        structure_kind TEXT NOT NULL DEFAULT '',
        accepts_referrals BOOLEAN NOT NULL DEFAULT FALSE,
        hours_id INTEGER REFERENCES network_search_hours (id),
        latitude DOUBLE PRECISION,
        longitude DOUBLE PRECISION,
        commune TEXT NOT NULL DEFAULT '',
        neighbourhood TEXT NOT NULL DEFAULT '',
        sort_name TEXT NOT NULL DEFAULT '',
        digest TEXT NOT NULL DEFAULT ''
    )""",
    # Words apart from the narrow rows that sorts without words scan; with what filters and sorts of the
    # matches need, so that a search with words reads this table only.
    """CREATE TABLE network_search_text (
        service_id INTEGER PRIMARY KEY REFERENCES network_search (service_id) ON DELETE CASCADE,
        sort_name TEXT NOT NULL DEFAULT '',
        hours_id INTEGER,
        latitude DOUBLE PRECISION,
        longitude DOUBLE PRECISION,
        title TSVECTOR NOT NULL,
        document TSVECTOR NOT NULL
    )""",
    "CREATE INDEX network_search_document ON network_search_text USING GIN (document)",
    """CREATE FUNCTION network_search_drop_structure() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM network_search WHERE structure_id = NEW.id; RETURN NULL; END $$""",
    """CREATE TRIGGER network_search_structure_inactive AFTER UPDATE OF status ON network_structure
       FOR EACH ROW WHEN (NEW.status <> 'active') EXECUTE FUNCTION network_search_drop_structure()""",
    """CREATE FUNCTION network_search_drop_service() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM network_search WHERE service_id = NEW.id; RETURN NULL; END $$""",
    """CREATE TRIGGER network_search_service_inactive AFTER UPDATE OF is_active ON network_service
       FOR EACH ROW WHEN (NOT NEW.is_active) EXECUTE FUNCTION network_search_drop_service()""",
]

INDEXES = [
    "CREATE INDEX network_search_structure ON network_search (structure_id)",
    "CREATE INDEX network_search_point ON network_search (latitude, longitude)",
    "CREATE INDEX network_search_by_name ON network_search (sort_name, service_id)",
]

DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS network_search_service_inactive",
    "DROP TRIGGER IF EXISTS network_search_structure_inactive",
    "DROP TRIGGER IF EXISTS network_search_unindexed",
    "DROP TABLE IF EXISTS network_search_fts",
    "DROP TABLE IF EXISTS network_search",
    "DROP TABLE IF EXISTS network_search_hours",
    "DROP INDEX IF EXISTS network_service_tag_lookup",
]

DROP_POSTGRES = [
    "DROP TRIGGER IF EXISTS network_search_service_inactive ON network_service",
    "DROP TRIGGER IF EXISTS network_search_structure_inactive ON network_structure",
    "DROP FUNCTION IF EXISTS network_search_drop_service()",
    "DROP FUNCTION IF EXISTS network_search_drop_structure()",
    "DROP TABLE IF EXISTS network_search_text",
    "DROP TABLE IF EXISTS network_search",
    "DROP TABLE IF EXISTS network_search_hours",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS maillage_simple",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS maillage_french",
    "DROP INDEX IF EXISTS network_service_tag_lookup",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="network", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = COMMON + (SQLITE if engine.engine_type == "sqlite" else POSTGRES) + INDEXES
        for sql in statements:
            await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        for sql in DROP_SQLITE if engine.engine_type == "sqlite" else DROP_POSTGRES:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
