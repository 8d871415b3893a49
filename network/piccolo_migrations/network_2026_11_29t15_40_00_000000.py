"""network_synonym: the coordinator's own groups of synonyms for the directory search (hand-written, both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the coordinator's synonyms"


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
    manager.add_table(class_name="Synonym", tablename="network_synonym", schema=None, columns=None)
    for name, column_class, params in (
        ("words", Varchar, _params(length=500, default="")),
        ("added_at", Timestamptz, _params(default=TimestamptzNow())),
        ("actor_id", Integer, _params(null=True)),
    ):
        manager.add_column(
            table_class_name="Synonym",
            tablename="network_synonym",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager


