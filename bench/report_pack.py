"""The network's reporting pack at scale (issue 14): 2,000 structures, 1,000,000 activity records, 200,000
referrals and 50,000 mandates.

Measured, on SQLite and on PostgreSQL (BENCH_DATABASE_URL):
- the whole pack for a semester: every module's section, then the four outputs (DOCX, PDF through LibreOffice,
  XLSX, the dashboard's HTML) — target < 30 s;
- the process's peak memory (resource.getrusage, ru_maxrss) — target < 1 GB (LibreOffice is a process of its
  own: its memory is not in this figure);
- each aggregate query the sections ran, timed again through the ORM's engine, in turn with the same SQL and the
  same arguments on the bare driver (sqlite3 / asyncpg), best of three or more each, in the same run — target ≤ 2× (the
  floor); each query is named by the section that ran it, and every one of the activities' section is listed.

The activity records (bench.activities' generator and loader, over the directory's structures) come with their
participants, workshop series (registrations, attendance), satisfaction answers and free-access tallies.
`python -m bench.report_pack [--structures N] [--referrals N] [--mandates N] [--activities N]` for a smaller run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.activities import load_activities_postgres, load_activities_sqlite
from bench.common import pg_copy, pg_database, pg_sequences, sqlite_insert, write_result
from bench.directory_data import generate, load_postgres, load_sqlite

PACK_S = 30.0
PEAK_MB = 1024.0
RATIO = 2.0
FLOOR_S = 0.005  # queries faster than 5 ms on the bare driver are compared with 5 ms
PERIOD = "2026-S1"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MANDATE_COLUMNS = (
    "id, public_code, number, structure, resident, duration_days, starts_on, ends_on, status, finalised_at, "
    "revoked_at, created_at, updated_at"
)
SCOPE_COLUMNS = "mandate, scope, status, revoked_at"
REVOCATION_COLUMNS = "mandate, public_code, scopes, created_at"
SCOPES = ("papiers", "famille", "social", "travail", "logement", "transports", "argent", "justice", "etranger")


@dataclasses.dataclass
class Options:
    structures: int = 2_000
    services: int = 8_000
    referrals: int = 200_000
    mandates: int = 50_000
    activities: int = 1_000_000
    seed: int = 20261129


def _mandates(options: Options, structures: list[int]) -> tuple[list[tuple[Any, ...]], ...]:
    """Mandates over two years: most finalised, some drafts, one in twelve revoked; one to three scopes each."""
    rng = random.Random(options.seed + 7)
    residents, mandates, scopes, revocations = [], [], [], []
    for n in range(1, options.mandates + 1):
        structure = rng.choice(structures)
        residents.append((n, structure, "Prénom", f"Nom {n}"))
        created = NOW - timedelta(days=rng.random() * 730)
        days = rng.choice((1, 31, 182, 365))
        finalised = created + timedelta(minutes=20) if rng.random() < 0.93 else None
        revoked = created + timedelta(days=rng.random() * days) if finalised and rng.random() < 0.08 else None
        status = "draft" if not finalised else "revoked" if revoked else "active"
        start = created.date()
        mandates.append(
            (
                n,
                f"p{n:08d}",
                f"M-{n:06d}",
                structure,
                n,
                days,
                start,
                start + timedelta(days=days - 1),
                status,
                finalised,
                revoked,
                created,
                created,
            )
        )
        for scope in rng.sample(SCOPES, rng.randint(1, 3)):
            scopes.append((n, scope, "revoked" if revoked else "active", revoked))
        if revoked:
            revocations.append((n, f"r{n:08d}", "[]", revoked))
    return residents, mandates, scopes, revocations


def _rest(
    referrals: list[tuple[Any, ...]], mandates: tuple[list[tuple[Any, ...]], ...]
) -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    from bench.referrals import REFERRAL_COLUMNS

    residents, mandate_rows, scopes, revocations = mandates
    return [
        ("referrals_referral", REFERRAL_COLUMNS, referrals),
        ("mandates_resident", "id, structure, first_name, last_name", residents),
        ("mandates_mandate", MANDATE_COLUMNS, mandate_rows),
        ("mandates_scope", SCOPE_COLUMNS, scopes),
        ("mandates_revocation", REVOCATION_COLUMNS, revocations),
    ]


# the directory's entries joined before the periods reported
JOINED = (
    "UPDATE network_structure SET created_at = '2024-06-01T09:00:00+00:00'",
    "UPDATE network_service SET created_at = '2024-06-01T09:00:00+00:00'",
)


def _load_sqlite_rest(path: str, referrals: list[tuple[Any, ...]], mandates: tuple[list[tuple[Any, ...]], ...]) -> None:
    with sqlite3.connect(path) as connection:
        for sql in JOINED:
            connection.execute(sql)
        for table, columns, rows in _rest(referrals, mandates):
            sqlite_insert(connection, table, columns, rows)


async def _load_pg_rest(
    url: str, referrals: list[tuple[Any, ...]], mandates: tuple[list[tuple[Any, ...]], ...]
) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for sql in JOINED:
            await connection.execute(sql)
        for table, columns, rows in _rest(referrals, mandates):
            await pg_copy(connection, table, columns, rows)
        await pg_sequences(connection, ("mandates_resident", "mandates_mandate"))
    finally:
        await connection.close()


def _load_sqlite_activities(path: str, count: int, structures: list[int]) -> None:
    """The activity records in batches (bench.activities), then the statistics of every table."""
    connection = sqlite3.connect(path)
    try:
        load_activities_sqlite(connection, count, structures)
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


async def _load_pg_activities(url: str, count: int, structures: list[int]) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await load_activities_postgres(connection, count, structures)
        # rows fresh from COPY: the first to read each one writes its hint bits, which a live database's autovacuum
        # did long before; and the statistics, as after the others' loads
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


class QueryLog:
    """Every query the engine runs while recording: its SQL, arguments and time through the ORM, and the section
    being computed (named by the pack's progress steps)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.recording = False
        self.section = ""
        self.queries: list[tuple[str, tuple[Any, ...], float]] = []
        self.sections: list[str] = []
        self.strings: list[Any] = []  # the querystrings themselves, to run again through the engine
        kind = type(engine)  # patched on the class: PostgresEngine's instances have no __dict__ (slots)
        original = kind.run_querystring
        engine_type = engine.engine_type

        async def timed(engine_self: Any, querystring: Any, in_pool: bool = True) -> Any:
            started = time.perf_counter()
            result = await original(engine_self, querystring, in_pool=in_pool)
            if self.recording:
                sql, args = querystring.compile_string(engine_type=engine_type)
                self.queries.append((sql, tuple(args), time.perf_counter() - started))
                self.sections.append(self.section)
                self.strings.append(querystring)
            return result

        kind.run_querystring = timed

    def progress(self, step: str, fraction: float) -> None:
        """The pack's progress callback: "Calcul des chiffres : <module>" names the queries that follow."""
        self.section = step.rpartition(" : ")[2]


async def _paired_times(
    engine: Any, database_url: str, sqlite_path: str, log: QueryLog, session: dict[str, str]
) -> list[tuple[float, float]]:
    """Each recorded query through the ORM's engine (its pool, its driver's thread hop, its rows) and the same SQL
    with the same arguments on the bare driver (PostgreSQL: in a session set as the app's), in turn, three times
    (up to nine for the quick ones, within a second): the best of each. Both sides see the same caches and the
    same moment's load (the machine is shared, and a busy one delays the driver's thread hop now and then)."""
    if database_url.startswith("sqlite"):
        lite = sqlite3.connect(sqlite_path)

        async def bare(sql: str, args: tuple[Any, ...]) -> None:
            lite.execute(sql, args).fetchall()

        async def close() -> None:
            lite.close()
    else:
        import asyncpg

        connection = await asyncpg.connect(database_url, server_settings=session)

        async def bare(sql: str, args: tuple[Any, ...]) -> None:
            await connection.fetch(sql, *args)

        async def close() -> None:
            await connection.close()

    pairs = []
    try:
        for (sql, args, _), querystring in zip(log.queries, log.strings, strict=True):
            through, raw, rounds, began = float("inf"), float("inf"), 0, time.perf_counter()
            while rounds < 3 or (rounds < 9 and time.perf_counter() - began < 1.0):
                started = time.perf_counter()
                await engine.run_querystring(querystring)
                through = min(through, time.perf_counter() - started)
                started = time.perf_counter()
                await bare(sql, args)
                raw = min(raw, time.perf_counter() - started)
                rounds += 1
            pairs.append((through, raw))
    finally:
        await close()
    return pairs


async def _measure(options: Options, database_url: str, workdir: Path) -> dict[str, Any]:
    from bench import referrals as referrals_bench
    from hub import db
    from hub.app import create_app
    from hub.reporting import Period
    from hub.settings import Settings
    from network.meetings import outputs, pack
    from network.search.index import rebuild_index

    settings = Settings(
        env="test",
        var_dir=workdir,
        database_url=database_url,
        secret_key="bench-" * 6,
        base_url="http://127.0.0.1",
        run_jobs_in_process=False,
    )
    result: dict[str, Any] = {"engine": "sqlite" if database_url.startswith("sqlite") else "postgresql"}
    engine = db.make_engine(settings)
    with contextlib.redirect_stdout(io.StringIO()):
        await db.migrate(engine)
    data = generate(options.structures, options.services, options.seed)
    structure_ids = [s[0] for s in data.structures]
    referral_options = referrals_bench.Options(referrals=options.referrals, seed=options.seed)
    referral_rows = referrals_bench._referrals(referral_options, data.services, NOW)
    mandate_rows = _mandates(options, structure_ids)
    started = time.perf_counter()
    if result["engine"] == "sqlite":
        load_sqlite(str(settings.sqlite_path), data)
        _load_sqlite_rest(str(settings.sqlite_path), referral_rows, mandate_rows)
    else:
        await load_postgres(database_url, data)
        await _load_pg_rest(database_url, referral_rows, mandate_rows)
    del referral_rows, mandate_rows
    if result["engine"] == "sqlite":
        _load_sqlite_activities(str(settings.sqlite_path), options.activities, structure_ids)
    else:
        await _load_pg_activities(database_url, options.activities, structure_ids)
    await db.start(engine)
    try:
        await rebuild_index()
        if result["engine"] == "postgresql":
            await engine.run_ddl("ANALYZE")
    finally:
        await db.stop(engine)
    result["build_s"] = round(time.perf_counter() - started, 1)
    app = create_app(settings)
    rt = app.state.runtime
    engine = db.current_engine()
    await db.start(engine)
    result["rows"] = {table: await _count(engine, table) for table in COUNTED}
    log = QueryLog(engine)
    try:
        # LibreOffice's start-up is the converter's, once per process: started before the clock, as the app does
        await rt.documents.to_pdf(outputs.docx_bytes(_tiny_pack(rt)))
        period = Period.parse(PERIOD)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu_before = _cpu_s()
        started = time.perf_counter()
        log.recording = True
        built = await pack.build(rt, period, progress=log.progress)
        log.recording = False
        sections_s = time.perf_counter() - started
        steps: dict[str, float] = {}
        last = [time.perf_counter(), "Graphiques et document Word"]

        async def step(text: str, fraction: float) -> None:
            now = time.perf_counter()
            steps[str(last[1])] = round(now - float(last[0]), 2)
            last[:] = [now, text]

        paths = await outputs.write_all(rt, built, workdir / "bilan", step)
        total_s = time.perf_counter() - started
        cpu_s = _cpu_s() - cpu_before
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        session = getattr(engine, "config", {}).get("server_settings", {})
        pairs = await _paired_times(engine, database_url, str(settings.sqlite_path), log, session)
    finally:
        await rt.documents.stop()
        await db.stop(engine)
    ratios = []
    for (sql, _, in_pack), (through_orm, bare), section in zip(log.queries, pairs, log.sections, strict=True):
        floor = max(bare, FLOOR_S)  # below it, the driver's thread hop (aiosqlite) is the whole difference
        ratios.append(
            {
                "section": section,
                "sql": " ".join(sql.split())[:110],
                "orm_ms": round(through_orm * 1000, 2),
                "raw_ms": round(bare * 1000, 2),
                "ratio": round(through_orm / floor, 2),
                "in_pack_ms": round(in_pack * 1000, 2),  # its one run during the pack's build, for the record
            }
        )
    worst = max(ratios, key=lambda r: r["ratio"]) if ratios else None
    result.update(
        {
            "sections_s": round(sections_s, 2),
            "pack_s": round(total_s, 2),
            # this process's CPU time during the pack (SQLite's queries included; the PostgreSQL server's and
            # LibreOffice's are not): on a machine shared with other runs, the wall time above is theirs too
            "pack_cpu_s": round(cpu_s, 2),
            "peak_rss_mb": round(peak_mb, 1),
            "rss_before_pack_mb": round(rss_before, 1),
            "files": {fmt: path.stat().st_size for fmt, path in paths.items()},
            "output_steps_s": steps,
            "queries": len(ratios),
            "worst_query": worst,
            "slowest_queries": sorted(ratios, key=lambda r: -r["orm_ms"])[:5],
            "by_section": _by_section(ratios),
            "activities_queries": [r for r in ratios if r["section"] == "activities"],
            "meets_target": total_s < PACK_S and peak_mb < PEAK_MB and all(r["ratio"] <= RATIO for r in ratios),
        }
    )
    return result


COUNTED = (
    "network_structure",
    "activities_activity",
    "activities_participant",
    "activities_series",
    "activities_attendance",
    "activities_feedback",
    "activities_tally",
    "referrals_referral",
    "mandates_mandate",
)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _count(engine: Any, table: str) -> int:
    return int((await engine.run_querystring(_qs(f"SELECT COUNT(*) AS n FROM {table}")))[0]["n"])


def _by_section(ratios: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per section: its queries, their time through the ORM and on the bare driver, its worst ratio."""
    found: dict[str, dict[str, Any]] = {}
    for r in ratios:
        entry = found.setdefault(r["section"], {"queries": 0, "orm_ms": 0.0, "raw_ms": 0.0, "worst_ratio": 0.0})
        entry["queries"] += 1
        entry["orm_ms"] = round(entry["orm_ms"] + r["orm_ms"], 2)
        entry["raw_ms"] = round(entry["raw_ms"] + r["raw_ms"], 2)
        entry["worst_ratio"] = max(entry["worst_ratio"], r["ratio"])
    return found


def _qs(sql: str) -> Any:
    from piccolo.querystring import QueryString

    return QueryString(sql)


def _tiny_pack(rt: Any) -> Any:
    from hub.reporting import Figure, Indicator, Period, Section
    from network.meetings.pack import Pack

    period = Period.parse(PERIOD)
    section = Section("warm", "Mise en route", (Figure(Indicator("w", "W", "W"), 1, 1),))
    return Pack(period, period.previous(), (section,), NOW)


def _measure_apart(options: Options, database_url: str, workdir: Path) -> dict[str, Any]:
    """One engine's measure in a process of its own: the hand-written migrations pick their engine's SQL when
    first imported, and the peak RSS is then this engine's alone."""
    import json
    import subprocess

    args = [sys.executable, "-m", "bench.report_pack", "--measure", database_url, "--workdir", str(workdir)]
    for field in FIELDS:
        args += [f"--{field}", str(getattr(options, field))]
    done = subprocess.run(args, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"report_pack measure failed on {database_url.split(':')[0]}:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as folder:
        workdir = Path(folder)
        runs.append(_measure_apart(options, f"sqlite:///{workdir / 'pack.sqlite3'}", workdir / "s"))
        base = os.environ.get("BENCH_DATABASE_URL", "")
        if base.startswith("postgres"):
            # named after the database given, and this process: two runs side by side never drop each other's
            name = f"{urlsplit(base).path.strip('/') or 'bench'}_report_pack_{os.getpid()}"
            with pg_database(base, name) as url:
                runs.append(_measure_apart(options, url, workdir / "p"))
    result = {
        "scale": dataclasses.asdict(options),
        "targets": {"pack_s": PACK_S, "peak_rss_mb": PEAK_MB, "query_ratio": RATIO},
        "runs": runs,
        "meets_target": all(r["meets_target"] for r in runs),
    }
    path = write_result("report_pack", result)
    for r in runs:
        worst = r["worst_query"] or {}
        print(
            f"{r['engine']}: pack {r['pack_s']} s (sections {r['sections_s']} s, CPU {r['pack_cpu_s']} s in this "
            f"process; target < {PACK_S:g} s), "
            f"peak RSS {r['peak_rss_mb']} MB (target < {PEAK_MB:g}), {r['queries']} queries, worst ratio "
            f"{worst.get('ratio')}× ({worst.get('orm_ms')} ms vs {worst.get('raw_ms')} ms raw; target ≤ {RATIO:g}×); "
            f"{r['rows']['activities_activity']} activities"
        )
        for section, entry in r["by_section"].items():
            print(
                f"  {section or '(avant les sections)'}: {entry['queries']} queries, {entry['orm_ms']} ms through "
                f"the ORM, {entry['raw_ms']} ms raw, worst ratio {entry['worst_ratio']}×"
            )
    print(f"résultats : {path}")
    return result


FIELDS = ("structures", "services", "referrals", "mandates", "activities")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_pack", description=__doc__.splitlines()[0])
    defaults = Options()
    for field in FIELDS:
        parser.add_argument(f"--{field}", type=int, default=getattr(defaults, field))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # one engine, in this process (run() uses it)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    options = Options(**{k: getattr(args, k) for k in FIELDS})
    if args.measure:
        import json

        with contextlib.redirect_stdout(sys.stderr):
            result = asyncio.run(_measure(options, args.measure, Path(args.workdir)))
        print(json.dumps(result, default=str))
        return 0
    return 0 if run(options)["meets_target"] else 2


if __name__ == "__main__":
    sys.exit(main())
