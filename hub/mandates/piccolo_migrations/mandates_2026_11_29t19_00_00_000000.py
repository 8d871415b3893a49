"""A revocation keeps the aidant's note for the structure (both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "revocation note"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mandates", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl("ALTER TABLE mandates_revocation ADD COLUMN note TEXT NOT NULL DEFAULT ''")

    manager.add_raw(run)
    return manager
