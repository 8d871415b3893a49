"""Indexes for the network's figures over a semester (the reporting pack): a period's activities and participants
read in day order, and the workshop series that met in a period (both engines; hand-written DDL).

SQLite reads each row of a day range through its own b-tree lookup in the table (no bitmap scans as PostgreSQL
has): a semester of a network's 1,000,000 activities recorded in any order touches every page of the table. Its
day indexes therefore carry the columns the figures read (covering indexes, about a quarter of the two tables'
size again). PostgreSQL keeps its plain day index: its bitmap heap scan reads the same rows in page order."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "activities: indexes for the network's figures"

BOTH = [
    # the series that met in a period (only workshop sessions of a series have one: a small index)
    "CREATE INDEX activities_activity_series_day ON activities_activity (day, series) WHERE series IS NOT NULL",
    # a series' sessions in day order, without reading the table
    "DROP INDEX activities_activity_series",
    "CREATE INDEX activities_activity_series ON activities_activity (series, day)",
]
SQLITE = [
    "DROP INDEX activities_activity_day",
    "CREATE INDEX activities_activity_day ON activities_activity (day, kind, duration, place_kind, redirected, "
    "participants, thematiques, demarches, materials, structure, place_label)",
    "CREATE INDEX activities_participant_day ON activities_participant (day, activity, age_band, gender, status, "
    "channel, commune, commune_insee, neighbourhood, satisfaction, first_visit)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="activities", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in BOTH + ([] if engine.engine_type == "postgres" else SQLITE):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
