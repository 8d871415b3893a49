"""An authenticated API GET, ours against a bare Litestar app serving the same JSON.

Ours: `GET /api/v1/me` with a bearer token, on a migrated database seeded with the demo network
(a SQLite file in a temporary folder; a throwaway PostgreSQL database too when BENCH_DATABASE_URL is set),
served by uvicorn in a subprocess (one process, no access log). The floor: a bare Litestar app (no database,
no middleware) answering the same path with the same JSON, in another uvicorn subprocess. Both are loaded in
alternating rounds by the same generator on loopback (wrk when installed, else an httpx asyncio client).

Figures: requests/s and latency percentiles for each, and ours/bare for requests/s (target >= 0.6).
Diagnostic lines, to split the gap: the bare app plus one raw token SELECT per request on a connection kept
open (the floor of any authenticated request that reads the database), and our /healthz (our middleware
stack + one trivial query, no token).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import (
    LoadResult,
    choose_generator,
    fmt_ms,
    http_get,
    median,
    pg_database,
    run_load,
    serve,
    write_result,
)

TARGET_RATIO = 0.6
BENCH_USER = "referente.ccas@demo.maillage.fr"  # demo account with one membership (so roles are loaded)
PATH = "/api/v1/me"


@dataclasses.dataclass
class Options:
    seconds: float = 5.0  # per measured round and target
    warmup_seconds: float = 1.0
    rounds: int = 3
    concurrency: int = 16
    max_requests: int = 20_000  # per round (httpx generator; wrk is bounded by seconds)
    load: str = "auto"  # auto | wrk | httpx


# ---------------------------------------------------------------- databases
async def _prepare(env: dict[str, str]) -> str:
    """Migrate, seed the demo network, return a fresh API token of BENCH_USER."""
    from hub import accounts, db, demo
    from hub.runtime import Runtime
    from hub.settings import Settings
    from hub.tables import User

    # Cheap password hashing for the seeded accounts: the benchmark never checks a password.
    settings = Settings.from_env(env, argon2_time_cost=1, argon2_memory_cost=1024)
    engine = db.make_engine(settings)
    await db.migrate(engine)
    await db.start(engine)
    try:
        rt = Runtime(settings)
        await demo.seed(rt)
        row = await User.select(User.id).where(User.email == BENCH_USER).first()
        if row is None:
            raise RuntimeError(f"compte de démonstration {BENCH_USER} introuvable après le seed")
        actor = await accounts.actor_for_user(int(row["id"]))
        _, token = await accounts.create_api_token(rt, actor, "bench")
    finally:
        await db.stop(engine)
    return token


# ---------------------------------------------------------------- one engine
def _app_env(workdir: Path, database_url: str, secret_key: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAILLAGE_", "DATABASE_URL"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "MAILLAGE_VAR_DIR": str(workdir / "var"),
            "MAILLAGE_SECRET_KEY": secret_key,
            "MAILLAGE_BASE_URL": "http://127.0.0.1",
            "MAILLAGE_ENV": "development",
            "MAILLAGE_RUN_JOBS": "0",  # no background loop competing for the one core
            "MAILLAGE_LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _summary(results: list[LoadResult]) -> dict[str, Any]:
    return {
        "rps": round(median([r.rps for r in results]), 1),
        "p50_ms": round(median([r.p50_ms for r in results]), 3),
        "p95_ms": round(median([r.p95_ms for r in results]), 3),
        "p99_ms": round(median([r.p99_ms for r in results]), 3),
        "requests": sum(r.requests for r in results),
        "errors": sum(r.errors for r in results),
        "rounds": [r.as_dict() for r in results],
    }


def measure_engine(engine: str, database_url: str, workdir: Path, options: Options, generator: str) -> dict[str, Any]:
    env = _app_env(workdir, database_url, secrets.token_urlsafe(48))
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration report is noise here
        token = asyncio.run(_prepare(env))
    auth = {"Authorization": f"Bearer {token}"}

    with contextlib.ExitStack() as servers:
        ours = servers.enter_context(serve(f"maillage-{engine}", ["app"], env, "/healthz", workdir))
        status, body = http_get(ours.port, PATH, auth)
        if status != 200:
            raise RuntimeError(f"GET {PATH} a répondu {status} : {body[:300]!r}")
        payload = json.loads(body)
        payload_path = workdir / "payload.json"
        payload_path.write_text(json.dumps(payload))
        floors = {}
        for kind in ("bare", "bare_db"):
            floors[kind] = servers.enter_context(
                serve(f"{kind}-{engine}", [kind, "--payload", str(payload_path)], env, "/healthz", workdir)
            )
            status, floor_body = http_get(floors[kind].port, PATH, auth)
            if status != 200 or json.loads(floor_body) != payload:
                raise RuntimeError(f"l'app {kind} ne renvoie pas le même JSON (statut {status})")

        targets = {
            "bare": (floors["bare"].url(PATH), auth),
            "bare_db": (floors["bare_db"].url(PATH), auth),
            "ours": (ours.url(PATH), auth),
            "ours_healthz": (ours.url("/healthz"), {}),
        }
        for url, headers in targets.values():  # warm-up: first requests, caches, connection setup
            run_load(generator, url, headers, options.concurrency, options.warmup_seconds, 500)
        measured: dict[str, list[LoadResult]] = {name: [] for name in targets}
        for _ in range(options.rounds):  # alternate, so drift on the machine hits all alike
            for name, (url, headers) in targets.items():
                measured[name].append(
                    run_load(generator, url, headers, options.concurrency, options.seconds, options.max_requests)
                )

    figures = {name: _summary(results) for name, results in measured.items()}
    for name, figure in figures.items():
        if figure["errors"]:
            raise RuntimeError(f"{name} : {figure['errors']} réponses en erreur pendant la charge")
    ratio = figures["ours"]["rps"] / figures["bare"]["rps"] if figures["bare"]["rps"] else 0.0
    ratio_db = figures["ours"]["rps"] / figures["bare_db"]["rps"] if figures["bare_db"]["rps"] else 0.0
    return {
        "engine": engine,
        "path": PATH,
        "payload_bytes": len(body),
        "figures": figures,
        "ratio_rps": round(ratio, 3),
        "ratio_rps_vs_bare_db": round(ratio_db, 3),
        "ratio_p95_bare_over_ours": round(figures["bare"]["p95_ms"] / figures["ours"]["p95_ms"], 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }


def print_engine(result: dict[str, Any]) -> None:
    labels = {
        "bare": "Litestar nu (plancher)",
        "bare_db": "Litestar nu + 1 SELECT brut (diagnostic)",
        "ours": f"Maillage {result['path']}",
        "ours_healthz": "Maillage /healthz (diagnostic)",
    }
    print(f"\n  [{result['engine']}]  {'':32} {'req/s':>9} {'p50':>11} {'p95':>11} {'p99':>11}")
    for name, label in labels.items():
        f = result["figures"][name]
        print(f"  {label:<44} {f['rps']:9.0f} {fmt_ms(f['p50_ms'])} {fmt_ms(f['p95_ms'])} {fmt_ms(f['p99_ms'])}")
    verdict = "atteint" if result["meets_target"] else "NON ATTEINT"
    print(
        f"  ratio req/s ours/bare = {result['ratio_rps']:.2f} (cible >= {result['target_ratio']}) : {verdict}; "
        f"p95 bare/ours = {result['ratio_p95_bare_over_ours']:.2f} ; "
        f"ours/(nu + 1 SELECT) = {result['ratio_rps_vs_bare_db']:.2f}"
    )


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    generator = choose_generator(options.load)
    print(
        f"== api_get : GET {PATH} authentifié contre une app Litestar nue "
        f"({generator}, {options.concurrency} connexions, {options.rounds} x {options.seconds:.0f} s par cible)"
    )
    if generator == "httpx":
        print(
            "  attention : sans wrk (apt-get install -y wrk), le générateur httpx (Python) plafonne vers 500 req/s "
            "sur cette machine : le plancher est alors sous-estimé et le ratio surestimé."
        )
    engines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maillage-bench-") as tmp:
        workdir = Path(tmp)
        sqlite_dir = workdir / "sqlite"
        sqlite_dir.mkdir()
        engines.append(
            measure_engine("sqlite", f"sqlite:///{sqlite_dir / 'bench.sqlite3'}", sqlite_dir, options, generator)
        )
        print_engine(engines[-1])

        base = os.environ.get("BENCH_DATABASE_URL", "")
        if base.startswith(("postgres://", "postgresql://")):
            pg_dir = workdir / "postgres"
            pg_dir.mkdir()
            name = f"{urlsplit(base).path.lstrip('/') or 'maillage'}_bench_{os.getpid()}"
            with pg_database(base, name) as url:
                engines.append(measure_engine("postgres", url, pg_dir, options, generator))
            print_engine(engines[-1])
        else:
            print("  (PostgreSQL : définir BENCH_DATABASE_URL=postgresql://… pour le mesurer aussi)")

    result = {
        "generator": generator,
        "options": dataclasses.asdict(options),
        "engines": engines,
        "meets_target": all(e["meets_target"] for e in engines),
    }
    path = write_result("api_get", result)
    print(f"  résultats : {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return result


if __name__ == "__main__":
    run()
