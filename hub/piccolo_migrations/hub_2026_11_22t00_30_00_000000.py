"""PostgreSQL: NOTIFY every process when something that decides a caller changes (hub.callers).

Row triggers, so a statement that touches nothing notifies nobody; `UPDATE OF` lists only the columns a
caller is made of (not last_seen_at, last_used_at, last_login_at…), so routine touches stay silent.
Notifications are sent at commit and folded per transaction. SQLite needs none: it is read afresh.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notify caller changes"

WATCHED = {
    "hub_user": "UPDATE OF email, full_name, is_admin, is_coordinator, is_active, totp_enabled OR DELETE",
    "hub_membership": 'INSERT OR UPDATE OF "user", structure, role OR DELETE',
    "hub_api_token": 'UPDATE OF token_hash, "user", revoked_at OR DELETE',
    "hub_session": 'UPDATE OF token_hash, "user", mfa_passed OR DELETE',
}

POSTGRES = [
    """CREATE FUNCTION hub_callers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_notify('maillage_callers', ''); RETURN NULL; END $$""",
    *(
        f"CREATE TRIGGER {table}_callers AFTER {events} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION hub_callers_changed()"
        for table, events in WATCHED.items()
    ),
    *(
        f"CREATE TRIGGER {table}_callers_truncate AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION hub_callers_changed()"
        for table in WATCHED
    ),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="hub", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            for sql in POSTGRES:
                await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
