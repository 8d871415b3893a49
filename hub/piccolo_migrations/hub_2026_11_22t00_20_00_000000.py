"""Rules the ORM cannot declare: composite uniqueness, the journal's append-only triggers, its head row."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T00:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints and append-only journal"

COMMON = [
    'CREATE UNIQUE INDEX hub_membership_unique ON hub_membership ("user", structure, role)',
    "CREATE INDEX hub_outbox_due ON hub_outbox (sent_at, next_attempt_at)",
    "INSERT INTO hub_journal_head (seq, hash, seal) VALUES (0, '', '')",
]

SQLITE = [
    """CREATE TRIGGER hub_journal_no_update BEFORE UPDATE ON hub_journal
       BEGIN SELECT RAISE(ABORT, 'le journal est en ajout seul'); END""",
    """CREATE TRIGGER hub_journal_no_delete BEFORE DELETE ON hub_journal
       BEGIN SELECT RAISE(ABORT, 'le journal est en ajout seul'); END""",
]

POSTGRES = [
    """CREATE FUNCTION hub_journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'le journal est en ajout seul'; END $$""",
    """CREATE TRIGGER hub_journal_no_change BEFORE UPDATE OR DELETE ON hub_journal
       FOR EACH ROW EXECUTE FUNCTION hub_journal_refuse_change()""",
    """CREATE TRIGGER hub_journal_no_truncate BEFORE TRUNCATE ON hub_journal
       FOR EACH STATEMENT EXECUTE FUNCTION hub_journal_refuse_change()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="hub", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = COMMON + (SQLITE if engine.engine_type == "sqlite" else POSTGRES)
        for sql in statements:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
