"""network_search_pending: services whose search entry is to be brought up to date after their write committed.

An import records the services it wrote here, in its own transaction, and indexes them afterwards a batch per
transaction (network.search.pending), so the write lock is held for the writing only. A process that stops half
way leaves the rest here for the jobs loop. No foreign key: a service deleted meanwhile is simply dropped from
the index when its id comes up.
Raw SQL (the table belongs to network.search, like the index tables), hence a file of its own.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue of services to reindex"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="network", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl("CREATE TABLE network_search_pending (service_id INTEGER PRIMARY KEY)")

    async def run_backwards():
        await engine_finder().run_ddl("DROP TABLE IF EXISTS network_search_pending")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
