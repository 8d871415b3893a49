"""Attachments of a referral (PDF, PNG, JPEG), kept in the database with it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "referral attachments"


def _ddl(postgres: bool) -> list[str]:
    pk = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL"
    return [
        f"""CREATE TABLE referrals_attachment (
            id {pk},
            referral INTEGER NOT NULL REFERENCES referrals_referral (id) ON DELETE CASCADE,
            filename VARCHAR(120) NOT NULL DEFAULT '',
            media_type VARCHAR(40) NOT NULL DEFAULT '',
            size INTEGER NOT NULL DEFAULT 0,
            sha256 VARCHAR(64) NOT NULL DEFAULT '',
            content BYTEA NOT NULL,
            added_by_user INTEGER DEFAULT NULL,
            added_by_structure INTEGER DEFAULT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        )""",
        "CREATE INDEX referrals_attachment_referral ON referrals_attachment (referral)",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="referrals", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in _ddl(engine.engine_type == "postgres"):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
