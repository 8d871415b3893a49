"""network_import_job: imports sent from the desk, run by the jobs loop (hand-written, both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T19:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "imports run as jobs"


def _params(**overrides):
    return {
        "default": None,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **overrides,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="network", description=DESCRIPTION)
    manager.add_table(class_name="ImportJob", tablename="network_import_job", schema=None, columns=None)
    for name, column_class, params in (
        ("created_at", Timestamptz, _params(default=TimestamptzNow(), index=True)),
        ("actor_id", Integer, _params(null=True)),
        ("format", Varchar, _params(length=20, default="")),
        ("source", Varchar, _params(length=60, default="")),
        ("dry_run", Boolean, _params(default=False)),
        ("files", Varchar, _params(length=500, default="")),
        ("folder", Varchar, _params(length=80, default="")),
        ("status", Varchar, _params(length=20, default="queued")),
        ("message", Text, _params(default="")),
        ("record_id", Integer, _params(null=True)),
        ("finished_at", Timestamptz, _params(null=True)),
    ):
        manager.add_column(
            table_class_name="ImportJob",
            tablename="network_import_job",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
