"""Routing reads a candidate's load and its receiver's answer delays from indexes alone: the service and
receiver indexes carry the one more column each needs (status; the first answer's time). Same leading
columns as the indexes they replace, so every earlier plan keeps its index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "routing reads from covering indexes"

DDL = [
    "DROP INDEX referrals_referral_service",
    "CREATE INDEX referrals_referral_service ON referrals_referral (service_id, created_at, status)",
    "DROP INDEX referrals_referral_receiver",
    "CREATE INDEX referrals_referral_receiver ON referrals_referral (receiver_structure, created_at, first_answer_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="referrals", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in DDL:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
