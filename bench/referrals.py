"""Referrals at the size of a département: 100,000 services and 1,000,000 referrals (issue 11's targets).

Measured, on SQLite and on PostgreSQL (BENCH_DATABASE_URL):
- routing p95 (`referrals.routing.route`) beside its floor, the directory's candidate search alone
  (`network.referral_lookup.candidates`, the same SQL the routing starts from) — target < 100 ms, ≤ 2×;
- the received inbox page and a referral page over HTTP (ASGI, signed in) beside the bare service calls
  (`service.inbox`, `service.read`) — targets < 100 ms and < 50 ms;
- the jobs loop's referral work over the million rows (reminders, escalation, expiry, anonymisation) — < 30 s;
- 50 bookings of the same 10 seats at once: exactly 10 succeed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import percentile, pg_database, write_result
from bench.directory_data import generate, load_postgres, load_sqlite

ROUTING_P95_MS = 100.0
ROUTING_WORDS = ("", "", "", "créer son compte Ameli et déclarer ses ressources", "carte grise", "retraite en ligne")
INBOX_P95_MS = 100.0
REFERRAL_P95_MS = 50.0
DUE_WORK_S = 30.0
DEMARCHES = "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"
EN_LIGNE = "numerique--acceder-a-des-services-en-ligne"
REFERRAL_COLUMNS = (
    "code, status, version, sender_structure, receiver_structure, service_id, service_name, thematiques, need, "
    "resident_name, resident_phone, preferred_contact, availability, consent_method, consent_at, created_at, "
    "updated_at, first_answer_at, decided_at, closed_at"
)
FIRST_REFERRAL = "SELECT service_id, receiver_structure FROM referrals_referral ORDER BY id LIMIT 1"
PASSWORD = "mot de passe du banc d'essai"  # noqa: S105 (a throwaway database)


@dataclasses.dataclass
class Options:
    structures: int = 20_000
    services: int = 100_000
    referrals: int = 1_000_000
    requests: int = 200
    seed: int = 20261129
    engine: str = "all"  # sqlite | postgresql | all (PostgreSQL when BENCH_DATABASE_URL is set)
    keep: str = ""  # a folder to keep the SQLite database in (and keep PostgreSQL's maillage_bench_referrals_kept),
    # to reuse them (no rebuild) on the next run


def _referrals(options: Options, services: list[tuple[Any, ...]], now: datetime) -> list[tuple[Any, ...]]:
    """A million referrals over two years: mostly finished; 1 % still open, some of those overdue."""
    rng = random.Random(options.seed)
    receiving = [(s[0], s[1], s[2]) for s in services if s[11]]  # id, structure, name of services taking them
    structures = sorted({s[1] for s in services})
    hot = receiving[:50]  # a few busy services: the inbox measured is one of theirs
    rows = []
    for n in range(options.referrals):
        service_id, receiver, name = hot[n % 50] if n % 20 == 0 else rng.choice(receiving)
        sender = rng.choice(structures)
        age = rng.random() * 730
        created = now - timedelta(days=age)
        roll = rng.random()
        if roll < 0.01 and age < 40:
            status, answered, decided, closed = rng.choice(("sent", "in_review")), None, None, None
        elif age < 30 and roll < 0.02:
            status, answered, decided, closed = "sent", None, None, None
        else:
            status = rng.choices(("closed", "refused", "expired", "accepted", "cancelled"), (60, 15, 10, 10, 5))[0]
            answered = created + timedelta(hours=rng.randint(2, 120)) if status != "expired" else None
            decided = answered if status in ("closed", "refused", "accepted") else None
            closed = (created + timedelta(days=rng.randint(3, 40))) if status != "accepted" else None
        rows.append(
            (
                f"{n:08d}{secrets.token_hex(4)}",
                status,
                1,
                sender,
                receiver,
                service_id,
                name,
                f'["{DEMARCHES}"]',
                "Déclarer ses ressources",
                f"Personne {n}",
                "06 39 98 00 00",
                "phone",
                '["tu-am"]',
                "oral",
                created,
                created,
                closed or decided or created,
                answered,
                decided,
                closed,
            )
        )
    return rows


def _load_sqlite_referrals(path: str, rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(path) as connection:
        marks = ",".join("?" * len(rows[0]))
        converted = [tuple(v.isoformat() if isinstance(v, datetime) else v for v in row) for row in rows]
        connection.executemany(f"INSERT INTO referrals_referral ({REFERRAL_COLUMNS}) VALUES ({marks})", converted)
        connection.execute("ANALYZE")


async def _load_pg_referrals(url: str, rows: list[tuple[Any, ...]]) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        columns = [c.strip() for c in REFERRAL_COLUMNS.split(",")]
        await connection.copy_records_to_table("referrals_referral", records=rows, columns=columns)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _kept(database_url: str, path: Path) -> tuple[int, int] | None:
    """The first referral's service and receiver when an earlier run (--keep) left its database built (what a
    fresh build measures, see _referrals); None when the database is still to be built."""
    if database_url.startswith("sqlite"):
        return _kept_sqlite(path)
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(FIRST_REFERRAL)
    except asyncpg.UndefinedTableError:
        row = None
    finally:
        await connection.close()
    return (int(row[0]), int(row[1])) if row else None


def _kept_sqlite(path: Path) -> tuple[int, int] | None:
    if not path.exists():
        return None
    with contextlib.closing(sqlite3.connect(path)) as connection:
        try:
            row = connection.execute(FIRST_REFERRAL).fetchone()
        except sqlite3.OperationalError:
            return None
    return (int(row[0]), int(row[1])) if row else None


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


async def _measure(options: Options, database_url: str, workdir: Path) -> dict[str, Any]:
    import httpx

    from hub import accounts, db, sessions
    from hub.app import create_app
    from hub.settings import Settings
    from hub.tables import Membership
    from network import referral_lookup
    from network.search.index import rebuild_index
    from referrals import due, routing, service, slots
    from referrals.schemas import ReferralCreate, RouteRequest
    from referrals.tables import Referral

    settings = Settings(
        env="test",
        var_dir=workdir,
        database_url=database_url,
        secret_key="bench-" * 6,
        base_url="http://127.0.0.1",
        run_jobs_in_process=False,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
    )
    result: dict[str, Any] = {"engine": "sqlite" if database_url.startswith("sqlite") else "postgresql"}
    engine = db.make_engine(settings)
    kept = await _kept(database_url, settings.sqlite_path) if options.keep else None
    with contextlib.redirect_stdout(io.StringIO()):
        await db.migrate(engine)
    data = generate(options.structures, options.services, options.seed)
    started = time.perf_counter()
    if kept:  # --keep: the database of an earlier run, as that run left it
        busy_service, busy_structure = kept
    else:
        now = datetime.now(UTC)
        rows = _referrals(options, data.services, now)
        if result["engine"] == "sqlite":
            load_sqlite(str(settings.sqlite_path), data)
            _load_sqlite_referrals(str(settings.sqlite_path), rows)
        else:
            await load_postgres(database_url, data)
            await _load_pg_referrals(database_url, rows)
        busy_service, busy_structure = rows[0][5], rows[0][4]
        del rows
        await db.start(engine)
        try:
            await rebuild_index()
            if result["engine"] == "postgresql":  # a settled database, as autovacuum keeps one: statistics,
                await engine.run_ddl("VACUUM ANALYZE")  # and the visibility map index-only scans read
        finally:
            await db.stop(engine)
    result["build_s"] = round(time.perf_counter() - started, 1)
    result["reused"] = bool(kept)

    app = create_app(settings)
    rt = app.state.runtime
    await db.start(db.current_engine())
    rng = random.Random(options.seed + 1)
    try:
        user_id = await accounts.create_user(
            rt, email=f"accueil-{os.getpid()}@bench.example.fr", full_name="Accueil", password=PASSWORD
        )
        await Membership.insert(Membership(user=user_id, structure=busy_structure, role="prescriber"))
        token, actor = await sessions.login(rt, f"accueil-{os.getpid()}@bench.example.fr", PASSWORD, "127.0.0.1")
        points = [(s[7], s[8]) for s in data.structures if s[7] is not None][:500]

        # routing, beside the directory's candidate search it starts from
        route_times, floor_times = [], []
        for n in range(options.requests + 20):
            lat, lon = rng.choice(points)
            request = RouteRequest(
                thematiques=[rng.choice((DEMARCHES, EN_LIGNE))],
                text=rng.choice(ROUTING_WORDS),  # half of the needs come with words typed beside the thématique
                latitude=lat,
                longitude=lon,
                availability=["tu-am"],
            )
            t0 = time.perf_counter()
            await referral_lookup.candidates(
                thematiques=request.thematiques,
                text=request.text,
                origin=referral_lookup.Origin(latitude=lat, longitude=lon),
                radius_m=None,
                now=rt.now(),
                limit=routing.CANDIDATES,
            )
            t1 = time.perf_counter()
            await routing.route(rt, request)
            t2 = time.perf_counter()
            if n >= 20:
                floor_times.append(t1 - t0)
                route_times.append(t2 - t1)
        result["routing"] = _figures(route_times)
        result["routing_floor"] = _figures(floor_times)
        result["routing_ratio_p95"] = round(result["routing"]["p95_ms"] / result["routing_floor"]["p95_ms"], 2)

        # pages over HTTP, beside the bare service calls
        ids = [
            r["id"]
            for r in await Referral.select(Referral.id).where(Referral.receiver_structure == busy_structure).limit(200)
        ]
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            client.cookies.set("maillage_session", token)
            inbox, inbox_floor, page, page_floor = [], [], [], []
            for n in range(options.requests + 20):
                t0 = time.perf_counter()
                await service.inbox(actor, "received")
                t1 = time.perf_counter()
                response = await client.get("/orientations")
                t2 = time.perf_counter()
                referral_id = rng.choice(ids)
                await service.read(actor, referral_id)
                t3 = time.perf_counter()
                second = await client.get(f"/orientations/{referral_id}")
                t4 = time.perf_counter()
                assert response.status_code == 200 and second.status_code == 200, (
                    response.status_code,
                    second.status_code,
                )
                if n >= 20:
                    inbox_floor.append(t1 - t0)
                    inbox.append(t2 - t1)
                    page_floor.append(t3 - t2)
                    page.append(t4 - t3)
        result["inbox_page"] = _figures(inbox)
        result["inbox_floor"] = _figures(inbox_floor)
        result["referral_page"] = _figures(page)
        result["referral_floor"] = _figures(page_floor)

        # the jobs loop's work over the million
        due_times = {}
        for name, work in (
            ("remind", due.remind),
            ("escalate", due.escalate),
            ("expire", due.expire),
            ("anonymise", due.anonymise),
        ):
            t0 = time.perf_counter()
            done = await work(rt)
            due_times[name] = {"s": round(time.perf_counter() - t0, 2), "rows": done}
        result["due"] = due_times
        result["due_total_s"] = round(sum(v["s"] for v in due_times.values()), 2)

        # 50 bookings of the same 10 seats at once
        from referrals.slots import ScheduleCreate

        await Membership.insert(Membership(user=user_id, structure=busy_structure, role="manager"))
        actor = await accounts.actor_for_user(user_id)
        schedule = await slots.publish(
            rt,
            actor,
            ScheduleCreate(
                service_id=busy_service, weekday=2, start_time="09:00", end_time="10:00", length=60, seats=10
            ),
        )
        first = (await slots.free_slots([busy_service], rt.now()))[busy_service][0]
        command = ReferralCreate(
            service_id=busy_service,
            resident_name="Awa B.",
            resident_phone="06 39 98 00 00",
            consent_method="oral",
            consent_confirmed=True,
            schedule_id=schedule,
            starts_at=first.starts_at,
        )
        outcomes = await asyncio.gather(
            *[service.create(rt, actor, command) for _ in range(50)], return_exceptions=True
        )
        result["bookings_won"] = sum(1 for o in outcomes if isinstance(o, tuple))
        result["bookings_errors"] = sorted({type(o).__name__ for o in outcomes if not isinstance(o, tuple)})
    finally:
        await db.stop(db.current_engine())
    result["meets_target"] = (
        result["routing"]["p95_ms"] < ROUTING_P95_MS
        and result["routing_ratio_p95"] <= 2
        and result["inbox_page"]["p95_ms"] < INBOX_P95_MS
        and result["referral_page"]["p95_ms"] < REFERRAL_P95_MS
        and result["due_total_s"] < DUE_WORK_S
        and result["bookings_won"] == 10
    )
    return result


def print_result(result: dict[str, Any]) -> None:
    print(f"-- {result['engine']}: données chargées en {result['build_s']} s")
    for key, label in (
        ("routing", "routage"),
        ("routing_floor", "  plancher : recherche des candidats seule"),
        ("inbox_page", "page « reçues »"),
        ("inbox_floor", "  plancher : service.inbox"),
        ("referral_page", "page d'une orientation"),
        ("referral_floor", "  plancher : service.read"),
    ):
        f = result[key]
        print(f"   {label:<44} p50 {f['p50_ms']:8.2f} ms   p95 {f['p95_ms']:8.2f} ms   max {f['max_ms']:8.2f} ms")
    print(f"   routage / plancher (p95) : {result['routing_ratio_p95']}×")
    due_line = ", ".join(f"{k} {v['s']} s ({v['rows']} lignes)" for k, v in result["due"].items())
    print(f"   travail du jobs loop : {due_line} ; total {result['due_total_s']} s")
    if result.get("reused"):
        print(
            "     (base réutilisée : la mesure qui l'a construite a déjà fait ce travail ; sans --keep pour le mesurer)"
        )
    print(
        f"   50 réservations des mêmes 10 places : {result['bookings_won']} réussies ({', '.join(result['bookings_errors'])})"
    )
    print(f"   cibles : {'atteintes' if result['meets_target'] else 'NON atteintes'}")


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    print(f"== referrals : {options.services} services, {options.referrals} orientations, {options.requests} requêtes")
    url = os.environ.get("BENCH_DATABASE_URL", "")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maillage-referrals-") as tmp:
        workdir = Path(options.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if options.engine in ("sqlite", "all"):
            results.append(asyncio.run(_measure(options, f"sqlite:///{workdir / 'referrals.sqlite3'}", workdir)))
            print_result(results[-1])
        if options.engine in ("postgresql", "all") and url.startswith(("postgres://", "postgresql://")):
            name = "maillage_bench_referrals_kept" if options.keep else f"maillage_bench_referrals_{os.getpid()}"
            with pg_database(url, name, keep=bool(options.keep)) as database_url:
                results.append(asyncio.run(_measure(options, database_url, workdir)))
            print_result(results[-1])
    for result in results:
        path = write_result(f"referrals-{result['engine']}", {"options": dataclasses.asdict(options), **result})
        print(f"   résultats : {path.relative_to(path.parents[2])}")
    return {"engines": results, "meets_target": all(r["meets_target"] for r in results)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.referrals", description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=20_000)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument(
        "--keep",
        default="",
        help="dossier où garder la base SQLite (et garder la base PostgreSQL maillage_bench_referrals_kept), "
        "pour les réutiliser ensuite",
    )
    parser.add_argument("--strict", action="store_true", help="code de sortie 2 si une cible n'est pas atteinte")
    args = parser.parse_args(argv)
    if not 1 <= args.structures <= 200_000 or not args.structures <= args.services <= 1_000_000:
        parser.error("bornes : --structures 1..200000, --services structures..1000000")
    if not 1000 <= args.referrals <= 5_000_000 or not 20 <= args.requests <= 5000:
        parser.error("bornes : --referrals 1000..5000000, --requests 20..5000")
    result = run(
        Options(args.structures, args.services, args.referrals, args.requests, engine=args.engine, keep=args.keep)
    )
    return 2 if args.strict and not result["meets_target"] else 0


if __name__ == "__main__":
    sys.exit(main())
