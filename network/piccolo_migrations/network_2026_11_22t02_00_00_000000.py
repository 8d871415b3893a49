"""One row per (source, source_id): the identity imports upsert by, enforced by the database.

Rows made in Maillage itself have an empty source_id (their exports name them by their id), hence partial unique
indexes, which SQLite and PostgreSQL both have; the import's INSERT … ON CONFLICT names the same predicate.
Rows that already share a key (two imports racing before this index) keep their data: all but the oldest get
their source_id suffixed with "~<id>", so the next import updates the oldest.
Raw SQL: raw statements run before the table operations of a migration, hence a file of its own.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (source, source_id) of structures and services"

TABLES = ("network_structure", "network_service")


def _forwards(table: str) -> list[str]:
    return [
        f"""UPDATE {table} SET source_id = substr(source_id, 1, 180) || '~' || CAST(id AS TEXT)
            WHERE source_id <> '' AND id NOT IN (
                SELECT MIN(id) FROM {table} WHERE source_id <> '' GROUP BY source, source_id
            )""",
        f"CREATE UNIQUE INDEX {table}_source_key ON {table} (source, source_id) WHERE source_id <> ''",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="network", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for table in TABLES:
            for sql in _forwards(table):
                await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        for table in TABLES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {table}_source_key")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
