"""network_structure.contact_email: who asked for a structure to join, until the request is decided
(hand-written, both engines). Cleared on approval (the invitation carries it) and on refusal (the mail did)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the contact of a request to join"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="network", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Structure",
        tablename="network_structure",
        column_name="contact_email",
        db_column_name="contact_email",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 254,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
