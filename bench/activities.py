"""Activity records: importing a Coop export of 100,000 rows, and a structure's figures for a semester over
1,000,000 activities, each against a floor measured in the same run.

`python -m bench.activities [--rows N] [--activities N] [--runs N] [--engines all|sqlite|postgresql]`
(default 100,000 / 1,000,000 / 20 / all).
Set BENCH_DATABASE_URL=postgresql://… to measure PostgreSQL too (a throwaway database is created next to the one
named, and dropped afterwards); SQLite (a file in a temporary folder) is always measured.

1. Import: a synthetic export of La Coop de la médiation numérique as its users download it (the "Informations
   export" and "Filtres" blocks, the 29 columns of a mediator's own export with names and notes, one row per
   person, workshops as i/N rows), imported for one structure (network.activities.imports.import_bytes: reading,
   every check, one transaction). Floor: a bare openpyxl read of the same file (load_workbook read-only and every
   row's values). Target (issue 13): under 60 s.
2. Figures: 1,000,000 activities (their ~1.5 million participants, workshop series with registrations and
   attendance, satisfaction answers, free-access tallies: activity_batches) of 100 structures over three years,
   written straight into the tables; then network.activities.figures.structure_figures for one structure and the
   first half of 2026, `--runs` times after a warm-up. Floor: the same SQL aggregates run by the bare driver
   (sqlite3, asyncpg), without Piccolo nor the figures' shaping. Targets: median under 200 ms, within 2× the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    median,
    percentile,
    pg_copy,
    pg_database,
    pg_sequences,
    sqlite_insert,
    write_result,
)

IMPORT_TARGET_S = 60.0
FIGURES_TARGET_MS = 200.0
FIGURES_MAX_RATIO = 2.0
STRUCTURES = 100
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2026, 11, 1)
SEMESTER = (date(2026, 1, 1), date(2026, 6, 30))

COOP_HEADERS = [
    "Date", "Enregistré le", "Dernière modification le", "Type", "Participants", "Bénéficiaire",
    "Canaux d’accompagnement", "Nom du lieu", "Adresse", "Commune", "Code postal", "Code Insee", "Durée (min)",
    "Nom de l’atelier", "Matériel numérique utilisé", "Thématique(s) d’accompagnement", "Tags",
    "Nom de la démarche administrative", "Niveau d’autonomie (ou de l’atelier)", "Bénéficiaire réorienté",
    "Structure de redirection", "Commune du bénéficiaire", "Code postal du bénéficiaire", "Code Insee du bénéficiaire",
    "Genre du bénéficiaire", "Tranche d’âge du bénéficiaire", "Statut du bénéficiaire", "Notes supplémentaires",
    "ID CRA",
]  # fmt: skip
THEMES = ["E-mail", "Aide aux démarches administratives", "Navigation sur internet", "Prendre en main du matériel",
          "Banque et achats en ligne", "Santé", "Prévention en sécurité numérique", "Argent - Impôts", "Logement"]  # fmt: skip
AGES = ["Moins de 12 ans", "12 - 17 ans", "18 - 24 ans", "25 - 39 ans", "40 - 59 ans", "60 - 69 ans", "70 ans et plus",
        "Non communiqué"]  # fmt: skip
STATUSES = ["Retraité", "Sans emploi", "En emploi", "Scolarisé", "Non communiqué ou hétérogène"]
GENDERS = ["Masculin", "Féminin", "Non communiqué"]
CHANNELS = ["Lieu d’activité", "Lieu d’activité", "Lieu d’activité", "Autre lieu", "À domicile", "À distance"]
MATERIALS = ["Ordinateur", "Téléphone", "Tablette", "Ordinateur\nTéléphone", "Pas de matériel"]


@dataclasses.dataclass
class Options:
    rows: int = 100_000
    activities: int = 1_000_000
    runs: int = 20
    engines: str = "all"  # all | sqlite | postgresql (each engine is best measured in a process of its own)


# ---------------------------------------------------------------- 1. the Coop export
def generate_coop(path: Path, rows: int) -> dict[str, Any]:
    """A mediator's own export: names and notes included (the importer must never keep them)."""
    import openpyxl

    chance = random.Random(13)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Activités")
    for line in (["Informations export"], ["Nom", "Kerbrat"], ["Prénom", "Yannick"], ["Rôle", "Médiateur"],
                 ["Total", rows], ["Date d'export", "15/11/2026"], ["Heure d'export", "17:42"], [],
                 ["Filtres"], ["Période", "01/01/2024 - 01/11/2026"], []):  # fmt: skip
        sheet.append(line)
    sheet.append(COOP_HEADERS)
    written = cra = 0
    days = (LAST_DAY - FIRST_DAY).days
    while written < rows:
        cra += 1
        workshop = chance.random() < 0.12
        size = min(chance.randint(4, 10) if workshop else 1, rows - written)
        day = FIRST_DAY + timedelta(days=chance.randrange(days))
        theme = "\n".join(chance.sample(THEMES, chance.choice((1, 1, 2, 3))))
        for i in range(1, size + 1):
            sheet.append(
                [
                    day, f"{day:%d/%m/%Y} à 10:15", f"{day:%d/%m/%Y} à 10:15",
                    "Atelier collectif" if workshop else "Accompagnement individuel",
                    f"{i}/{size}" if workshop else "1",
                    f"Personne {cra}-{i} Dupont",
                    chance.choice(CHANNELS), "Espace numérique", "1 rue de la Gare", "Montclair-sur-Loire", "45990",
                    "45999", chance.choice((15, 30, 45, 60, 90, 120)) if not workshop else 120,
                    "Atelier tablette" if workshop else "", chance.choice(MATERIALS), theme, "",
                    "Déclaration de revenus" if "démarches" in theme else "", f"{chance.randint(1, 3)}/3",
                    "Non", "", "Montclair-sur-Loire", "45990", "45999", chance.choice(GENDERS), chance.choice(AGES),
                    chance.choice(STATUSES), "Notes privées sur la personne", f"cra-{cra}",
                ]
            )  # fmt: skip
            written += 1
    book.save(path)
    return {"rows": written, "activities": cra, "bytes": path.stat().st_size}


def openpyxl_floor(path: Path) -> tuple[float, int]:
    """The bare read: what any importer of the file pays before its first check."""
    import openpyxl

    started = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in book["Activités"].iter_rows(values_only=True))
    book.close()
    return time.perf_counter() - started, count


# ---------------------------------------------------------------- 2. a million activities
ACTIVITY_COLUMNS = (
    "id, structure, kind, day, duration, place_kind, place_label, thematiques, demarches, materials, redirected, "
    "participants, series, module_no"
)
PARTICIPANT_COLUMNS = "activity, structure, day, age_band, gender, status, commune, channel, first_visit, satisfaction"
SERIES_COLUMNS = "id, structure, title, level, place_label, weekday, duration, seats, modules, thematiques, starts_on"
REGISTRATION_COLUMNS = "id, series, age_band, gender, status, commune, channel, registered_on, withdrawn_on"
ATTENDANCE_COLUMNS = "registration, activity, present"
CODE_COLUMNS = "id, code, activity, created_at, expires_at, used_at"
FEEDBACK_COLUMNS = "code, activity, structure, day, satisfaction, channel, answered_at"
TALLY_COLUMNS = "structure, place_key, place_label, day, visits"
BATCH = 100_000
CODES = ["email", "procedures", "browsing", "equipment", "banking", "health", "security", "office", "ai"]
AGE_CODES = ["lt12", "12-17", "18-24", "25-39", "40-59", "60-69", "70+", "nc"]
STATUS_CODES = ["retired", "employed", "unemployed", "nc"]
CHANNEL_CODES = ["partner", "word_of_mouth", "nc"]
COMMUNES = ["Montclair-sur-Loire", "Saint-Aignan", ""]


@dataclasses.dataclass
class ActivityBatch:
    """Rows of the activities' tables as the domain stores them, in the order their foreign keys need."""

    series: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    activities: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    participants: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    registrations: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    attendance: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    codes: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    feedback: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    tallies: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)

    def tables(self) -> list[tuple[str, str, list[tuple[Any, ...]]]]:
        return [
            ("activities_series", SERIES_COLUMNS, self.series),
            ("activities_activity", ACTIVITY_COLUMNS, self.activities),
            ("activities_participant", PARTICIPANT_COLUMNS, self.participants),
            ("activities_registration", REGISTRATION_COLUMNS, self.registrations),
            ("activities_attendance", ATTENDANCE_COLUMNS, self.attendance),
            ("activities_feedback_code", CODE_COLUMNS, self.codes),
            ("activities_feedback", FEEDBACK_COLUMNS, self.feedback),
            ("activities_tally", TALLY_COLUMNS, self.tallies),
        ]


SEQUENCED = ("activities_series", "activities_activity", "activities_registration", "activities_feedback_code")


def activity_batches(count: int, structure_ids: Sequence[int]) -> Iterator[ActivityBatch]:
    """`count` activities of these structures from FIRST_DAY to LAST_DAY, in batches of about BATCH activities.

    Individual sessions (one participant) and workshops (3 to 10 people); one workshop drawn in three starts a
    weekly series of 6 to 10 sessions instead (registered people, their attendance, some dropping out or
    withdrawing), so that most workshop sessions belong to a series; one activity in thirty answered on the
    satisfaction page (a code and its answer); every fourth structure counts its free-access visits three days a
    week (tallies). Rows come in random day order, as imports of past exports leave them. The one generator of both
    benchmarks (bench.activities, bench.report_pack)."""
    chance = random.Random(2026)
    days = (LAST_DAY - FIRST_DAY).days
    batch = ActivityBatch()
    n = series_id = registration_id = 0
    while n < count:
        structure = chance.choice(structure_ids)
        day = FIRST_DAY + timedelta(days=chance.randrange(days))
        workshop = chance.random() < 0.05
        place = chance.choice(("", "", "", f"Permanence {1 + structure % 3}"))
        if workshop and chance.random() < 0.35:
            sessions = min(chance.randint(6, 10), count - n)
            series_id += 1
            themes = json.dumps(chance.sample(CODES, 2))
            batch.series.append(
                (series_id, structure, f"Atelier {series_id}", chance.randint(1, 3), place, day.weekday(), 120, 10,
                 json.dumps([f"Module {m}" for m in range(1, sessions + 1)]), themes, day)
            )  # fmt: skip
            people = []  # (registration, the session from which they stop coming, withdrew then, profile)
            for _ in range(chance.randint(5, 10)):
                registration_id += 1
                leaves, withdraws = chance.randrange(2, 12), chance.random() < 0.1  # some never stop
                people.append((registration_id, leaves, withdraws, _profile(chance)))
                withdrawn = day + timedelta(weeks=leaves - 1) if withdraws and leaves <= sessions else None
                batch.registrations.append((registration_id, series_id, *people[-1][3][:5], day, withdrawn))
            came_before: set[int] = set()
            for module in range(1, sessions + 1):
                n += 1
                session_day = day + timedelta(weeks=module - 1)
                # as workshops.record_session keeps them: a row for each registration not withdrawn, present or not
                listed = [
                    (r, module < leaves, p) for r, leaves, withdraws, p in people if not withdraws or module < leaves
                ]
                came = [(r, p) for r, stays, p in listed if stays and chance.random() < 0.85]
                batch.activities.append(
                    (n, structure, "workshop", session_day, 120, "structure", place, themes, "[]", '["computer"]',
                     False, len(came), series_id, module)
                )  # fmt: skip
                present = {r for r, _ in came}
                batch.attendance += [(r, n, r in present) for r, _, _ in listed]
                batch.participants += [(n, structure, session_day, *p[:5], r not in came_before, p[6]) for r, p in came]
                came_before |= present
            day = session_day  # the answer below is the last session's
        else:
            n += 1
            size = chance.randint(3, 10) if workshop else 1
            batch.activities.append(
                (
                    n, structure, "workshop" if workshop else "individual", day,
                    chance.choice((15, 30, 45, 60, 90, 120)), chance.choice(("structure", "structure", "home", "remote")),
                    place, json.dumps(chance.sample(CODES, chance.choice((1, 1, 2)))),
                    json.dumps(["money"] if chance.random() < 0.2 else []), json.dumps([chance.choice(("computer", "phone"))]),
                    chance.random() < 0.05, size, None, None,
                )
            )  # fmt: skip
            batch.participants += [(n, structure, day, *_profile(chance)) for _ in range(size)]
        if chance.random() < 1 / 30:
            answered = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)
            batch.codes.append((n, f"bench{n:010d}", n, answered, answered + timedelta(days=7), answered))
            batch.feedback.append((n, n, structure, day, chance.randint(1, 5), chance.choice(CHANNEL_CODES), answered))
        if len(batch.activities) >= BATCH:
            yield batch
            batch = ActivityBatch()
    for structure in structure_ids[::4]:
        batch.tallies += [
            (structure, 0, "", FIRST_DAY + timedelta(days=d), chance.randint(2, 30))
            for d in range(days + 1)
            if (FIRST_DAY + timedelta(days=d)).weekday() in (1, 3, 5)
        ]
        if len(batch.tallies) >= BATCH:
            yield batch
            batch = ActivityBatch()
    yield batch


def _profile(chance: random.Random) -> tuple[Any, ...]:
    """A participant's anonymous profile: age band, gender, status, commune, channel, first visit, satisfaction."""
    return (
        chance.choice(AGE_CODES), chance.choice(("f", "m", "nc")), chance.choice(STATUS_CODES),
        chance.choice(COMMUNES), chance.choice(CHANNEL_CODES), chance.choice((True, False, None)),
        chance.choice((None, None, 3, 4, 5)),
    )  # fmt: skip


def load_activities_sqlite(connection: sqlite3.Connection, count: int, structure_ids: Sequence[int]) -> None:
    """Every batch inserted and committed in turn (the rows of one batch at a time in memory)."""
    for batch in activity_batches(count, structure_ids):
        for table, columns, rows in batch.tables():
            sqlite_insert(connection, table, columns, rows)
        connection.commit()


async def load_activities_postgres(connection: Any, count: int, structure_ids: Sequence[int]) -> None:
    """Every batch copied in turn, then the sequences of the ids written here set past them."""
    for batch in activity_batches(count, structure_ids):
        for table, columns, rows in batch.tables():
            await pg_copy(connection, table, columns, rows)
    await pg_sequences(connection, SEQUENCED)


def fill_sqlite(path: Path, count: int) -> None:
    connection = sqlite3.connect(path)
    try:
        sqlite_insert(connection, "network_structure", "id, name, kind", _structures())
        load_activities_sqlite(connection, count, range(1, STRUCTURES + 1))
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


async def fill_postgres(url: str, count: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await pg_copy(connection, "network_structure", "id, name, kind", _structures())
        await load_activities_postgres(connection, count, range(1, STRUCTURES + 1))
        await pg_sequences(connection, ("network_structure",))
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _structures() -> list[tuple[Any, ...]]:
    return [(i, f"Espace numérique {i}", "EPN") for i in range(1, STRUCTURES + 1)]


def _floor_queries(postgres: bool) -> list[tuple[str, list[Any]]]:
    """The figures' own SQL, as the bare driver takes it ($n or ?), for structure 1 and the semester."""
    from network.activities import figures

    queries = []
    for build in (figures.figures_query,):
        sql, args = build([1], *SEMESTER)
        if postgres:
            parts = sql.split("{}")
            sql = "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))
        else:
            sql = sql.replace("{}", "?")
            args = [a.isoformat() if isinstance(a, date) else a for a in args]
        queries.append((sql, args))
    return queries


async def measure_engine(name: str, url: str, workdir: Path, coop: Path, options: Options) -> dict[str, Any]:
    from hub import db
    from hub.composition import MODULES
    from hub.runtime import Runtime
    from hub.settings import Settings
    from network.activities import figures, imports
    from network.activities.tables import Activity

    postgres = name == "postgresql"
    result: dict[str, Any] = {"engine": name}
    settings = Settings.from_env(
        {"MAILLAGE_VAR_DIR": str(workdir / "var"), "MAILLAGE_SECRET_KEY": "bench-" + "x" * 40},
        database_url=url,
        env="development",
    )
    engine = db.make_engine(settings)
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration chatter
        await db.migrate(engine)

    # 2. figures over a million activities (filled before the app's pool opens; the import goes to its own structure)
    started = time.perf_counter()
    if postgres:
        await fill_postgres(url, options.activities)
    else:
        fill_sqlite(settings.sqlite_path, options.activities)
    result["fill_s"] = round(time.perf_counter() - started, 1)
    await db.start(engine)
    rt = Runtime(settings, MODULES)
    try:
        queries = _floor_queries(postgres)
        floor_ms, ours_ms = await _figures_timings(postgres, settings, url, queries, rt, options.runs, figures)
        check = await figures.structure_figures(rt, [1], *SEMESTER)
        result["figures"] = {
            "activities_in_table": await Activity.count(),
            "structure_activities_in_semester": check.activities,
            "ours_median_ms": round(median(ours_ms), 1),
            "ours_p95_ms": round(percentile(ours_ms, 95), 1),
            "floor_median_ms": round(median(floor_ms), 1),
            "floor_p95_ms": round(percentile(floor_ms, 95), 1),
        }
        ratio = median(ours_ms) / median(floor_ms)
        result["figures"]["ratio"] = round(ratio, 2)
        result["figures"]["meets_target"] = median(ours_ms) < FIGURES_TARGET_MS and ratio <= FIGURES_MAX_RATIO

        # 1. the Coop import, for a structure of its own
        structure = await Activity.raw(
            "INSERT INTO network_structure (name, kind) VALUES ('Import', 'EPN') RETURNING id"
        )
        structure_id = int(structure[0]["id"])
        floor_s, read_rows = openpyxl_floor(coop)
        started = time.perf_counter()
        report = await imports.import_file(rt, coop, structure_id)
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        again = await imports.import_file(rt, coop, structure_id)
        reimport_s = time.perf_counter() - started
        result["import"] = {
            "rows": report.rows_read,
            "sheet_rows_read_by_floor": read_rows,
            "activities_created": report.activities_new,
            "refused": len(report.refused),
            "import_s": round(import_s, 1),
            "floor_openpyxl_s": round(floor_s, 1),
            "ratio": round(import_s / floor_s, 2),
            "reimport_s": round(reimport_s, 1),
            "reimport_known": again.activities_known,
            "meets_target": import_s < IMPORT_TARGET_S and not report.refused,
        }
    finally:
        await db.stop(engine)
    result["meets_target"] = result["figures"]["meets_target"] and result["import"]["meets_target"]
    return result


async def _figures_timings(
    postgres: bool, settings: Any, url: str, queries: list[tuple[str, list[Any]]], rt: Any, runs: int, figures: Any
) -> tuple[list[float], list[float]]:
    """Alternate floor and ours, each warmed up first, so both see the same caches."""
    floor_ms: list[float] = []
    ours_ms: list[float] = []
    if postgres:
        import asyncpg

        connection = await asyncpg.connect(url)

        async def floor() -> None:
            for sql, args in queries:
                await connection.fetch(sql, *args)
    else:
        lite = sqlite3.connect(settings.sqlite_path)

        async def floor() -> None:
            for sql, args in queries:
                lite.execute(sql, args).fetchall()

    try:
        await floor()
        await figures.structure_figures(rt, [1], *SEMESTER)
        for _ in range(runs):
            started = time.perf_counter()
            await floor()
            floor_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await figures.structure_figures(rt, [1], *SEMESTER)
            ours_ms.append((time.perf_counter() - started) * 1000)
    finally:
        if postgres:
            await connection.close()
        else:
            lite.close()
    return floor_ms, ours_ms


def print_engine(result: dict[str, Any]) -> None:
    f, i = result["figures"], result["import"]
    print(f"\n  [{result['engine']}] (remplissage de {f['activities_in_table']} activités : {result['fill_s']} s)")
    print(
        f"  chiffres d'une structure sur un semestre ({f['structure_activities_in_semester']} activités) : "
        f"médiane {f['ours_median_ms']} ms (p95 {f['ours_p95_ms']}), plancher SQL brut {f['floor_median_ms']} ms "
        f"(p95 {f['floor_p95_ms']}), ratio {f['ratio']} — cible < {FIGURES_TARGET_MS:.0f} ms et ≤ "
        f"{FIGURES_MAX_RATIO:g}× : {'atteinte' if f['meets_target'] else 'MANQUÉE'}"
    )
    print(
        f"  import Coop : {i['rows']} lignes, {i['activities_created']} activités en {i['import_s']} s ; plancher "
        f"openpyxl {i['floor_openpyxl_s']} s, ratio {i['ratio']} ; réimport {i['reimport_s']} s "
        f"({i['reimport_known']} inchangées) — cible < {IMPORT_TARGET_S:.0f} s : "
        f"{'atteinte' if i['meets_target'] else 'MANQUÉE'}"
    )


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    print(
        f"== activities : import d'un export Coop de {options.rows} lignes, chiffres d'un semestre sur "
        f"{options.activities} activités"
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maillage-bench-activities-") as tmp:
        workdir = Path(tmp)
        coop = workdir / "export-coop.xlsx"
        started = time.perf_counter()
        generated = generate_coop(coop, options.rows)
        print(f"  export Coop généré : {generated['bytes'] / 1e6:.1f} Mo en {time.perf_counter() - started:.1f} s")
        engines = [("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}")]
        pg_base = os.environ.get("BENCH_DATABASE_URL", "")
        engines += [("postgresql", pg_base)] if pg_base else []
        for name, url in [(n, u) for n, u in engines if options.engines in ("all", n)]:
            if name == "postgresql":
                with pg_database(pg_base, f"maillage_bench_activities_{os.getpid()}") as url:
                    result = asyncio.run(measure_engine(name, url, workdir, coop, options))
            else:
                result = asyncio.run(measure_engine(name, url, workdir, coop, options))
            print_engine(result)
            results.append(result)
    document = {"options": dataclasses.asdict(options), "generated": generated, "engines": results}
    path = write_result("activities", document)
    print(f"\n  résultats : {path}")
    return {"meets_target": all(r["meets_target"] for r in results), **document}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.activities", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=Options.rows)
    parser.add_argument("--activities", type=int, default=Options.activities)
    parser.add_argument("--runs", type=int, default=Options.runs)
    parser.add_argument("--engines", choices=["all", "sqlite", "postgresql"], default="all")
    parser.add_argument("--strict", action="store_true", help="code de sortie 2 si une cible n'est pas atteinte")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 250_000 or not 1 <= args.activities <= 5_000_000 or not 1 <= args.runs <= 1000:
        parser.error("bornes : --rows 1..250000, --activities 1..5000000, --runs 1..1000")
    result = run(Options(rows=args.rows, activities=args.activities, runs=args.runs, engines=args.engines))
    return 2 if args.strict and not result["meets_target"] else 0


if __name__ == "__main__":
    sys.exit(main())
