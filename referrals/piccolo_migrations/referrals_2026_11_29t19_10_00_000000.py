"""Inbox counts per status read from an index alone: (structure, status) for each side of a referral."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T19:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "referral inbox counts"

DDL = [
    "CREATE INDEX referrals_referral_receiver_status ON referrals_referral (receiver_structure, status)",
    "CREATE INDEX referrals_referral_sender_status ON referrals_referral (sender_structure, status)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="referrals", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in DDL:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
