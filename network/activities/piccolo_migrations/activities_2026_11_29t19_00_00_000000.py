"""Activity records: activities and their participants, tallies, series, registrations, attendance, satisfaction
(both engines; hand-written DDL in Piccolo's column types)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "activity records"


def _ddl(postgres: bool) -> list[str]:
    pk = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL"
    ts = "TIMESTAMPTZ"
    now = "DEFAULT current_timestamp"
    structure = "INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE"
    return [
        f"""CREATE TABLE activities_series (
            id {pk},
            structure {structure},
            title VARCHAR(200) NOT NULL,
            level INTEGER NOT NULL DEFAULT 1,
            place_kind VARCHAR(10) NOT NULL DEFAULT 'structure',
            place_id INTEGER DEFAULT NULL,
            place_label VARCHAR(200) NOT NULL DEFAULT '',
            weekday INTEGER NOT NULL DEFAULT 0,
            start_time VARCHAR(5) NOT NULL DEFAULT '14:00',
            duration INTEGER NOT NULL DEFAULT 120,
            seats INTEGER NOT NULL DEFAULT 10,
            modules JSON NOT NULL DEFAULT '[]',
            thematiques JSON NOT NULL DEFAULT '[]',
            starts_on DATE NOT NULL,
            closed BOOLEAN NOT NULL DEFAULT false,
            created_at {ts} NOT NULL {now}
        )""",
        "CREATE INDEX activities_series_structure ON activities_series (structure)",
        f"""CREATE TABLE activities_activity (
            id {pk},
            structure {structure},
            kind VARCHAR(10) NOT NULL DEFAULT 'individual',
            day DATE NOT NULL,
            duration INTEGER NOT NULL DEFAULT 30,
            place_kind VARCHAR(10) NOT NULL DEFAULT 'structure',
            place_id INTEGER DEFAULT NULL,
            place_label VARCHAR(200) NOT NULL DEFAULT '',
            thematiques JSON NOT NULL DEFAULT '[]',
            demarches JSON NOT NULL DEFAULT '[]',
            demarche_name VARCHAR(200) NOT NULL DEFAULT '',
            materials JSON NOT NULL DEFAULT '[]',
            tags JSON NOT NULL DEFAULT '[]',
            autonomy INTEGER DEFAULT NULL,
            workshop_name VARCHAR(200) NOT NULL DEFAULT '',
            redirected BOOLEAN NOT NULL DEFAULT false,
            redirect_structure INTEGER DEFAULT NULL,
            redirect_category VARCHAR(20) NOT NULL DEFAULT '',
            participants INTEGER NOT NULL DEFAULT 1,
            referral_id INTEGER DEFAULT NULL,
            series INTEGER DEFAULT NULL REFERENCES activities_series (id) ON DELETE SET NULL,
            module_no INTEGER DEFAULT NULL,
            source VARCHAR(10) NOT NULL DEFAULT 'maillage',
            source_id VARCHAR(100) NOT NULL DEFAULT '',
            recorded_by INTEGER DEFAULT NULL REFERENCES hub_user (id) ON DELETE SET NULL,
            created_at {ts} NOT NULL {now}
        )""",
        "CREATE INDEX activities_activity_structure_day ON activities_activity (structure, day)",
        "CREATE INDEX activities_activity_day ON activities_activity (day)",
        "CREATE INDEX activities_activity_series ON activities_activity (series)",
        # a source's row is imported once per structure: re-importing the same file changes nothing
        "CREATE UNIQUE INDEX activities_activity_source ON activities_activity (structure, source, source_id) "
        "WHERE source_id <> ''",
        f"""CREATE TABLE activities_participant (
            id {pk},
            activity INTEGER NOT NULL REFERENCES activities_activity (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL,
            day DATE NOT NULL,
            age_band VARCHAR(6) NOT NULL DEFAULT 'nc',
            gender VARCHAR(2) NOT NULL DEFAULT 'nc',
            status VARCHAR(12) NOT NULL DEFAULT 'nc',
            commune_insee VARCHAR(5) NOT NULL DEFAULT '',
            commune VARCHAR(120) NOT NULL DEFAULT '',
            neighbourhood VARCHAR(120) NOT NULL DEFAULT '',
            channel VARCHAR(16) NOT NULL DEFAULT 'nc',
            first_visit BOOLEAN DEFAULT NULL,
            satisfaction INTEGER DEFAULT NULL
        )""",
        "CREATE INDEX activities_participant_activity ON activities_participant (activity)",
        "CREATE INDEX activities_participant_structure_day ON activities_participant (structure, day)",
        f"""CREATE TABLE activities_tally (
            id {pk},
            structure {structure},
            place_key INTEGER NOT NULL DEFAULT 0,
            place_label VARCHAR(200) NOT NULL DEFAULT '',
            day DATE NOT NULL,
            visits INTEGER NOT NULL DEFAULT 0,
            time_limit INTEGER DEFAULT NULL,
            updated_at {ts} NOT NULL {now}
        )""",
        "CREATE UNIQUE INDEX activities_tally_place_day ON activities_tally (structure, place_key, day)",
        f"""CREATE TABLE activities_registration (
            id {pk},
            series INTEGER NOT NULL REFERENCES activities_series (id) ON DELETE CASCADE,
            initial VARCHAR(5) NOT NULL DEFAULT '',
            age_band VARCHAR(6) NOT NULL DEFAULT 'nc',
            gender VARCHAR(2) NOT NULL DEFAULT 'nc',
            status VARCHAR(12) NOT NULL DEFAULT 'nc',
            commune VARCHAR(120) NOT NULL DEFAULT '',
            channel VARCHAR(16) NOT NULL DEFAULT 'nc',
            registered_on DATE NOT NULL,
            withdrawn_on DATE DEFAULT NULL
        )""",
        "CREATE INDEX activities_registration_series ON activities_registration (series)",
        f"""CREATE TABLE activities_attendance (
            id {pk},
            registration INTEGER NOT NULL REFERENCES activities_registration (id) ON DELETE CASCADE,
            activity INTEGER NOT NULL REFERENCES activities_activity (id) ON DELETE CASCADE,
            present BOOLEAN NOT NULL DEFAULT true
        )""",
        "CREATE UNIQUE INDEX activities_attendance_once ON activities_attendance (registration, activity)",
        "CREATE INDEX activities_attendance_activity ON activities_attendance (activity)",
        f"""CREATE TABLE activities_feedback_code (
            id {pk},
            code VARCHAR(32) NOT NULL UNIQUE,
            activity INTEGER NOT NULL REFERENCES activities_activity (id) ON DELETE CASCADE,
            created_at {ts} NOT NULL {now},
            expires_at {ts} NOT NULL,
            used_at {ts} DEFAULT NULL
        )""",
        "CREATE INDEX activities_feedback_code_activity ON activities_feedback_code (activity)",
        f"""CREATE TABLE activities_feedback (
            id {pk},
            code INTEGER NOT NULL UNIQUE REFERENCES activities_feedback_code (id) ON DELETE CASCADE,
            activity INTEGER NOT NULL REFERENCES activities_activity (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL,
            day DATE NOT NULL,
            satisfaction INTEGER NOT NULL,
            channel VARCHAR(16) NOT NULL DEFAULT 'nc',
            answered_at {ts} NOT NULL {now}
        )""",
        "CREATE INDEX activities_feedback_activity ON activities_feedback (activity)",
        "CREATE INDEX activities_feedback_structure_day ON activities_feedback (structure, day)",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="activities", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in _ddl(engine.engine_type == "postgres"):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
