"""Sign-ins under load, and what they do to everybody else's requests.

Ours: the whole app under uvicorn in a subprocess (one process, as `maillage serve`), on a migrated database
seeded with the demo network, its accounts hashed at the production Argon2 cost (time 3, 64 MiB). A burst of
sign-ins (`POST /connexion` with the right password, `--signins` of them, `--concurrency` at a time, spread
over the five demo accounts: each is one Argon2 check, then a session or the second-factor step) runs
while a few clients keep searching the open directory (`GET /api/v1/directory/services?q=…`).

Figures: sign-ins per second during the burst; the p50/p99 of the searches during the burst beside their
floor, the same searches on the same server with no sign-in load, measured just before; and the ratio
p99 during / p99 floor (target <= 5: password hashing must not hold the event loop).
All traffic is on loopback; every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import os
import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import (
    fmt_ms,
    median,
    percentile,
    pg_database,
    serve,
    write_result,
)

TARGET_RATIO = 5.0  # p99 of a search during the burst / its p99 alone
SEARCH_PATH = "/api/v1/directory/services?q=numerique"


@dataclasses.dataclass
class Options:
    signins: int = 150  # the burst (count)
    concurrency: int = 10  # sign-ins at a time
    searchers: int = 2  # clients searching throughout
    floor_searches: int = 200  # searches measured with no sign-in load
    max_seconds: float = 120.0  # every phase stops here, finished or not
    hash_threads: int = 0  # MAILLAGE_PASSWORD_HASH_THREADS for the server; 0: the app's default


# ---------------------------------------------------------------- database
async def _prepare(env: dict[str, str]) -> tuple[list[str], str]:
    """Migrate and seed the demo network at the production hashing cost; returns its accounts and password."""
    from hub import db, demo
    from hub.runtime import Runtime
    from hub.settings import Settings

    settings = Settings.from_env(env)  # argon2 at its defaults: what a real sign-in costs
    engine = db.make_engine(settings)
    await db.migrate(engine)
    await db.start(engine)
    try:
        await demo.seed(Runtime(settings))
    finally:
        await db.stop(engine)
    return [user.email for user in demo.USERS], demo.DEMO_PASSWORD


def _app_env(workdir: Path, database_url: str, hash_threads: int = 0) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAILLAGE_", "DATABASE_URL"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "MAILLAGE_VAR_DIR": str(workdir / "var"),
            "MAILLAGE_SECRET_KEY": secrets.token_urlsafe(48),
            "MAILLAGE_BASE_URL": "http://127.0.0.1",
            "MAILLAGE_ENV": "development",
            "MAILLAGE_RUN_JOBS": "0",
            "MAILLAGE_LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if hash_threads:
        env["MAILLAGE_PASSWORD_HASH_THREADS"] = str(hash_threads)
    return env


# ---------------------------------------------------------------- load
async def _searches(
    base: str, clients: int, stop: asyncio.Event, max_count: int, deadline: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def searcher(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not stop.is_set() and len(latencies) < max_count and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            response = await http.get(SEARCH_PATH)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30.0)) for _ in range(clients)
        ]
        await asyncio.gather(*(searcher(http) for http in https))
    return latencies, errors


async def _signin_burst(
    base: str, emails: list[str], password: str, options: Options, deadline: float
) -> tuple[int, Counter[int], float]:
    """`options.signins` sign-ins, `options.concurrency` at a time; returns (done, errors, elapsed)."""
    remaining = iter(range(options.signins))
    done = 0
    errors: Counter[int] = Counter()

    async def signer(email: str) -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:
            await http.get("/connexion")  # the CSRF cookie, as a browser gets it
            csrf = http.cookies.get("maillage_csrf", "")
            for _ in remaining:
                if time.perf_counter() > deadline:
                    return
                response = await http.post(
                    "/connexion", data={"email": email, "password": password, "_csrf_token": csrf}
                )
                if response.status_code == 302:
                    done += 1
                else:
                    errors[response.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(signer(emails[n % len(emails)]) for n in range(options.concurrency)))
    return done, errors, time.perf_counter() - started


async def _measure(base: str, emails: list[str], password: str, options: Options) -> dict[str, Any]:
    # warm-up: first queries, caches, connections
    await _searches(base, options.searchers, asyncio.Event(), 20, time.perf_counter() + 10)

    floor, floor_errors = await _searches(
        base, options.searchers, asyncio.Event(), options.floor_searches, time.perf_counter() + options.max_seconds
    )

    stop = asyncio.Event()
    deadline = time.perf_counter() + options.max_seconds
    search_task = asyncio.create_task(_searches(base, options.searchers, stop, 100_000, deadline))
    await asyncio.sleep(0.2)  # searches are running when the burst begins
    done, signin_errors, elapsed = await _signin_burst(base, emails, password, options, deadline)
    stop.set()
    during, during_errors = await search_task

    def stats(values: list[float]) -> dict[str, Any]:
        return {
            "count": len(values),
            "p50_ms": round(median(values) * 1000, 2),
            "p99_ms": round(percentile(values, 99) * 1000, 2),
            "max_ms": round(max(values, default=float("nan")) * 1000, 2),
        }

    figures: dict[str, Any] = {
        "signins": done,
        "signin_errors": dict(signin_errors),  # status -> count
        "signin_seconds": round(elapsed, 3),
        "signins_per_second": round(done / elapsed, 1) if elapsed else 0.0,
        "search_floor": stats(floor),
        "search_during_burst": stats(during),
        "search_errors": floor_errors + during_errors,
    }
    floor_p99 = figures["search_floor"]["p99_ms"]
    figures["ratio_p99"] = round(figures["search_during_burst"]["p99_ms"] / floor_p99, 2) if floor_p99 else 0.0
    return figures


def measure_engine(engine: str, database_url: str, workdir: Path, options: Options) -> dict[str, Any]:
    env = _app_env(workdir, database_url, options.hash_threads)
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration report is noise here
        emails, password = asyncio.run(_prepare(env))
    with serve(f"maillage-{engine}", ["app"], env, "/healthz", workdir) as server:
        figures = asyncio.run(_measure(server.url(""), emails, password, options))
    if figures["search_errors"] or not figures["signins"]:
        raise RuntimeError(
            f"{figures['search_errors']} recherches en erreur, {figures['signins']} connexions réussies pendant la charge"
        )
    return {
        "engine": engine,
        "figures": figures,
        "target_ratio": TARGET_RATIO,
        "meets_target": figures["ratio_p99"] <= TARGET_RATIO,
    }


def print_engine(result: dict[str, Any]) -> None:
    f = result["figures"]
    floor, during = f["search_floor"], f["search_during_burst"]
    print(
        f"\n  [{result['engine']}]  {f['signins']} connexions en {f['signin_seconds']:.2f} s : "
        f"{f['signins_per_second']:.1f} connexions/s"
        + (f" ; refusées ou en erreur (statut : nombre) : {f['signin_errors']}" if f["signin_errors"] else "")
    )
    print(f"  {'recherches':<34} {'n':>6} {'p50':>11} {'p99':>11}")
    print(f"  {'seules (plancher)':<34} {floor['count']:6d} {fmt_ms(floor['p50_ms'])} {fmt_ms(floor['p99_ms'])}")
    print(
        f"  {'pendant la rafale de connexions':<34} {during['count']:6d} "
        f"{fmt_ms(during['p50_ms'])} {fmt_ms(during['p99_ms'])}"
    )
    verdict = "atteint" if result["meets_target"] else "NON ATTEINT"
    print(f"  ratio p99 pendant/plancher = {f['ratio_p99']:.2f} (cible <= {result['target_ratio']}) : {verdict}")


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    print(
        f"== signin : {options.signins} connexions ({options.concurrency} à la fois, Argon2 de production) "
        f"pendant {options.searchers} clients de recherche, contre les mêmes recherches seules"
        + (f" ; {options.hash_threads} fil(s) de hachage" if options.hash_threads else "")
    )
    engines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maillage-bench-") as tmp:
        workdir = Path(tmp)
        sqlite_dir = workdir / "sqlite"
        sqlite_dir.mkdir()
        engines.append(measure_engine("sqlite", f"sqlite:///{sqlite_dir / 'bench.sqlite3'}", sqlite_dir, options))
        print_engine(engines[-1])

        base = os.environ.get("BENCH_DATABASE_URL", "")
        if base.startswith(("postgres://", "postgresql://")):
            pg_dir = workdir / "postgres"
            pg_dir.mkdir()
            name = f"{urlsplit(base).path.lstrip('/') or 'maillage'}_signin_{os.getpid()}"
            with pg_database(base, name) as url:
                engines.append(measure_engine("postgres", url, pg_dir, options))
            print_engine(engines[-1])
        else:
            print("  (PostgreSQL : définir BENCH_DATABASE_URL=postgresql://… pour le mesurer aussi)")

    result = {
        "options": dataclasses.asdict(options),
        "engines": engines,
        "meets_target": all(e["meets_target"] for e in engines),
    }
    path = write_result("signin", result)
    print(f"  résultats : {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.signin", description=__doc__.splitlines()[0])
    parser.add_argument("--signins", type=int, default=Options.signins)
    parser.add_argument("--concurrency", type=int, default=Options.concurrency)
    parser.add_argument("--searchers", type=int, default=Options.searchers)
    parser.add_argument("--hash-threads", type=int, default=0, help="MAILLAGE_PASSWORD_HASH_THREADS (0 : défaut)")
    args = parser.parse_args()
    if not 1 <= args.signins <= 2000 or not 1 <= args.concurrency <= 64 or not 1 <= args.searchers <= 16:
        parser.error("bornes : --signins 1..2000, --concurrency 1..64, --searchers 1..16")
    if not 0 <= args.hash_threads <= 16:
        parser.error("bornes : --hash-threads 0..16")
    run(
        Options(
            signins=args.signins,
            concurrency=args.concurrency,
            searchers=args.searchers,
            hash_threads=args.hash_threads,
        )
    )


if __name__ == "__main__":
    main()
