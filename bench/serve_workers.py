"""Many processes: search throughput of `maillage serve --workers N` under wrk, 1 worker (the floor) then N.

`python -m bench.serve_workers [--workers 2] [--seconds 15] [--connections 50]` on the synthetic département
(20,000 structures, 100,000 services; SQLite in WAL, a temporary folder). The real command serves (migrations,
factory, uvicorn workers), jobs loop off; wrk (one thread, loopback only, bounded in time) asks the search page
`GET /annuaire?q=…` with 50 connections. Reported: searches/s, p50/p99, errors, per worker count.
Target (issue 9, point 11): N workers serve more searches/s than one. The machine's cores bound the gain:
wrk itself and the other processes on the box use them too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import LOOPBACK, PROJECT_ROOT, free_port, http_get, run_wrk, write_result, wrk_available
from bench.directory_data import generate, load_sqlite

QUERY = "/annuaire?q=aide+numerique"


async def _prepare(database_url: str, workdir: Path, structures: int, services: int) -> int:
    from hub import db
    from hub.settings import Settings
    from network.search.index import rebuild_index

    settings = Settings(env="test", var_dir=workdir, database_url=database_url, secret_key="bench-" * 6)
    engine = db.make_engine(settings)
    with contextlib.redirect_stdout(io.StringIO()):
        await db.migrate(engine)
    load_sqlite(str(settings.sqlite_path), generate(structures, services))
    await db.start(engine)
    try:
        return (await rebuild_index()).indexed
    finally:
        await db.stop(engine)


@contextlib.contextmanager
def _serving(workers: int, env: dict[str, str], workdir: Path) -> Any:
    port = free_port()
    log = (workdir / f"serve-{workers}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"maillage serve s'est arrêté (code {process.returncode})")
            with contextlib.suppress(OSError):
                # every worker warm: a few searches answered
                if http_get(port, "/readyz")[0] == 200 and all(http_get(port, QUERY)[0] == 200 for _ in range(2)):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("maillage serve n'a pas répondu en 600 s")
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run(workers: int = 2, seconds: float = 15.0, connections: int = 50) -> dict[str, Any]:
    print(f"== serve_workers : recherches/s de `maillage serve --workers N` sous wrk ({connections} connexions)")
    if not wrk_available():
        print("  wrk introuvable (make bench l'installe) : benchmark sauté")
        return {"skipped": "wrk", "meets_target": True}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="maillage-bench-workers-") as tmp:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'workers.sqlite3'}"
        (workdir / "var").mkdir()  # /readyz checks that the var directory takes a file
        started = time.perf_counter()
        indexed = asyncio.run(_prepare(database_url, workdir, 20_000, 100_000))
        print(f"  annuaire : 20000 structures, {indexed} services indexés en {time.perf_counter() - started:.0f} s")
        env = {key: value for key, value in os.environ.items() if not key.startswith(("MAILLAGE_", "DATABASE_URL"))}
        env.update(
            {
                "DATABASE_URL": database_url,
                "MAILLAGE_VAR_DIR": str(workdir / "var"),
                "MAILLAGE_SECRET_KEY": "bench-" * 8,
                "MAILLAGE_RUN_JOBS": "0",
                "MAILLAGE_LOG_LEVEL": "WARNING",
            }
        )
        for count in (1, workers):
            with _serving(count, env, workdir) as port:
                load = run_wrk(f"http://{LOOPBACK}:{port}{QUERY}", {}, connections, seconds)
            results[str(count)] = load.as_dict()
            print(
                f"  {count} processus : {load.rps:.1f} recherches/s, p50 {load.p50_ms:.0f} ms, "
                f"p99 {load.p99_ms:.0f} ms, erreurs {load.errors}"
            )
    gain = results[str(workers)]["rps"] / max(results["1"]["rps"], 0.001)
    document = {"workers": workers, "seconds": seconds, "connections": connections, "cores": os.cpu_count(),
                "by_workers": results, "gain": round(gain, 2), "meets_target": gain > 1.0}  # fmt: skip
    print(f"  gain avec {workers} processus : x{gain:.2f} (plancher : 1 processus) ; résultats : "
          f"{write_result('serve_workers', document)}")  # fmt: skip
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_workers", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--strict", action="store_true", help="code de sortie 2 si la cible n'est pas atteinte")
    args = parser.parse_args(argv)
    if not 2 <= args.workers <= 16 or not 1 <= args.seconds <= 60 or not 1 <= args.connections <= 256:
        parser.error("bornes : --workers 2..16, --seconds 1..60, --connections 1..256")
    result = run(args.workers, args.seconds, args.connections)
    return 2 if args.strict and not result["meets_target"] else 0


if __name__ == "__main__":
    sys.exit(main())
