"""Appointment slots: schedules a receiving service publishes, their closures, and the seats booked."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "referral slots"


def _ddl(postgres: bool) -> list[str]:
    pk = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL"
    return [
        f"""CREATE TABLE referrals_schedule (
            id {pk},
            service_id INTEGER NOT NULL,
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            place VARCHAR(200) NOT NULL DEFAULT '',
            weekday INTEGER NOT NULL DEFAULT 0,
            start_time VARCHAR(5) NOT NULL DEFAULT '09:00',
            end_time VARCHAR(5) NOT NULL DEFAULT '12:00',
            length INTEGER NOT NULL DEFAULT 30,
            seats INTEGER NOT NULL DEFAULT 1,
            active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
        )""",
        "CREATE INDEX referrals_schedule_service ON referrals_schedule (service_id)",
        "CREATE INDEX referrals_schedule_structure ON referrals_schedule (structure)",
        f"""CREATE TABLE referrals_closure (
            id {pk},
            schedule INTEGER NOT NULL REFERENCES referrals_schedule (id) ON DELETE CASCADE,
            day DATE NOT NULL
        )""",
        "CREATE UNIQUE INDEX referrals_closure_day ON referrals_closure (schedule, day)",
        f"""CREATE TABLE referrals_booking (
            id {pk},
            schedule INTEGER NOT NULL REFERENCES referrals_schedule (id) ON DELETE CASCADE,
            starts_at TIMESTAMPTZ NOT NULL,
            seat INTEGER NOT NULL,
            referral INTEGER NOT NULL REFERENCES referrals_referral (id) ON DELETE CASCADE,
            created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            released_at TIMESTAMPTZ DEFAULT NULL
        )""",
        # a seat is held once: the database itself refuses a second live booking of it
        "CREATE UNIQUE INDEX referrals_booking_seat ON referrals_booking (schedule, starts_at, seat) "
        "WHERE released_at IS NULL",
        "CREATE INDEX referrals_booking_referral ON referrals_booking (referral)",
        "CREATE INDEX referrals_booking_day ON referrals_booking (schedule, starts_at)",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="referrals", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in _ddl(engine.engine_type == "postgres"):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
