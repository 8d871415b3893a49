"""Network events, invitations, attendance, action items and partner indicators (both engines; hand-written DDL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "meetings"


def _ddl(postgres: bool) -> list[str]:
    pk = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL"
    ts = "TIMESTAMPTZ"
    now = "DEFAULT current_timestamp"
    real = "DOUBLE PRECISION" if postgres else "REAL"
    return [
        f"""CREATE TABLE meetings_event (
            id {pk},
            kind VARCHAR(20) NOT NULL DEFAULT 'meeting',
            title VARCHAR(200) NOT NULL DEFAULT '',
            day DATE NOT NULL,
            start_time VARCHAR(5) NOT NULL DEFAULT '',
            end_time VARCHAR(5) NOT NULL DEFAULT '',
            place VARCHAR(300) NOT NULL DEFAULT '',
            agenda JSON NOT NULL DEFAULT '[]',
            audience VARCHAR(10) NOT NULL DEFAULT 'all',
            status VARCHAR(12) NOT NULL DEFAULT 'planned',
            minutes TEXT NOT NULL DEFAULT '',
            minutes_at {ts} DEFAULT NULL,
            sequence INTEGER NOT NULL DEFAULT 0,
            created_by INTEGER REFERENCES hub_user (id) ON DELETE SET NULL,
            created_at {ts} NOT NULL {now},
            updated_at {ts} NOT NULL {now},
            invited_at {ts} DEFAULT NULL,
            reminded_at {ts} DEFAULT NULL
        )""",
        "CREATE INDEX meetings_event_day ON meetings_event (day)",
        "CREATE INDEX meetings_event_status ON meetings_event (status)",
        f"""CREATE TABLE meetings_event_structure (
            id {pk},
            event INTEGER NOT NULL REFERENCES meetings_event (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE
        )""",
        "CREATE UNIQUE INDEX meetings_event_structure_unique ON meetings_event_structure (event, structure)",
        "CREATE INDEX meetings_event_structure_structure ON meetings_event_structure (structure)",
        f"""CREATE TABLE meetings_invitation (
            id {pk},
            event INTEGER NOT NULL REFERENCES meetings_event (id) ON DELETE CASCADE,
            "user" INTEGER NOT NULL REFERENCES hub_user (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            token_hash VARCHAR(64) NOT NULL UNIQUE,
            token_used_at {ts} DEFAULT NULL,
            answer VARCHAR(5) NOT NULL DEFAULT '',
            answered_at {ts} DEFAULT NULL,
            created_at {ts} NOT NULL {now},
            reminded_at {ts} DEFAULT NULL
        )""",
        'CREATE UNIQUE INDEX meetings_invitation_unique ON meetings_invitation (event, "user")',
        'CREATE INDEX meetings_invitation_user ON meetings_invitation ("user")',
        "CREATE INDEX meetings_invitation_structure ON meetings_invitation (structure)",
        f"""CREATE TABLE meetings_attendance (
            id {pk},
            event INTEGER NOT NULL REFERENCES meetings_event (id) ON DELETE CASCADE,
            "user" INTEGER NOT NULL REFERENCES hub_user (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            recorded_at {ts} NOT NULL {now}
        )""",
        'CREATE UNIQUE INDEX meetings_attendance_unique ON meetings_attendance (event, "user")',
        "CREATE INDEX meetings_attendance_structure ON meetings_attendance (structure)",
        f"""CREATE TABLE meetings_action (
            id {pk},
            event INTEGER NOT NULL REFERENCES meetings_event (id) ON DELETE CASCADE,
            kind VARCHAR(10) NOT NULL DEFAULT 'action',
            title VARCHAR(300) NOT NULL DEFAULT '',
            owner_structure INTEGER DEFAULT NULL REFERENCES network_structure (id) ON DELETE SET NULL,
            due_date DATE DEFAULT NULL,
            status VARCHAR(10) NOT NULL DEFAULT 'todo',
            created_at {ts} NOT NULL {now},
            updated_at {ts} NOT NULL {now},
            closed_at {ts} DEFAULT NULL
        )""",
        "CREATE INDEX meetings_action_event ON meetings_action (event)",
        "CREATE INDEX meetings_action_owner ON meetings_action (owner_structure, status)",
        "CREATE INDEX meetings_action_status ON meetings_action (status)",
        f"""CREATE TABLE meetings_indicator (
            id {pk},
            label VARCHAR(200) NOT NULL DEFAULT '',
            definition TEXT NOT NULL DEFAULT '',
            unit VARCHAR(40) NOT NULL DEFAULT '',
            number_type VARCHAR(10) NOT NULL DEFAULT 'integer',
            by_neighbourhood BOOLEAN NOT NULL DEFAULT false,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at {ts} NOT NULL {now}
        )""",
        f"""CREATE TABLE meetings_indicator_value (
            id {pk},
            indicator INTEGER NOT NULL REFERENCES meetings_indicator (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            period VARCHAR(10) NOT NULL,
            neighbourhood VARCHAR(120) NOT NULL DEFAULT '',
            value {real} NOT NULL DEFAULT 0,
            entered_by INTEGER REFERENCES hub_user (id) ON DELETE SET NULL,
            entered_at {ts} NOT NULL {now}
        )""",
        "CREATE UNIQUE INDEX meetings_indicator_value_unique"
        " ON meetings_indicator_value (indicator, structure, period, neighbourhood)",
        "CREATE INDEX meetings_indicator_value_period ON meetings_indicator_value (period, indicator)",
        "CREATE INDEX meetings_indicator_value_structure ON meetings_indicator_value (structure)",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in _ddl(engine.engine_type == "postgres"):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
