"""What the benchmarks share: servers in subprocesses, the load generators, statistics, result files.

All traffic goes to 127.0.0.1; every load is bounded in time, and the httpx one in count too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import http.client
import itertools
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LOOPBACK = "127.0.0.1"


# ---------------------------------------------------------------- statistics
def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported figure is one that was measured)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# ---------------------------------------------------------------- results
def machine_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>-<UTC time>.json, plus <name>-latest.json for a quick look."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {"benchmark": name, "at": stamp, "machine": machine_info(), **data}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(text)
    (RESULTS_DIR / f"{name}-latest.json").write_text(text)
    return path


# ---------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    """One plain GET on loopback (readiness and correctness checks)."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclasses.dataclass
class Server:
    """A uvicorn process started by `python -m bench.serve`, on its own loopback port."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def serve(
    name: str, args: list[str], env: dict[str, str], ready_path: str, workdir: Path, timeout: float = 60.0
) -> Iterator[Server]:
    """Start `python -m bench.serve ARGS --port P`, wait until ready_path answers 200, stop it on exit."""
    port = free_port()
    log_path = workdir / f"server-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", *args, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(name, port, process, log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"le serveur {name} s'est arrêté (code {process.returncode}) :\n{server.log_tail()}")
            try:
                status, _ = http_get(port, ready_path, timeout=2.0)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"le serveur {name} n'a pas répondu en {timeout:.0f} s :\n{server.log_tail()}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# ---------------------------------------------------------------- load generators
@dataclasses.dataclass
class LoadResult:
    generator: str
    concurrency: int
    requests: int  # completed with a 2xx answer
    errors: int  # non-2xx answers and socket errors
    elapsed_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "rps": round(self.rps, 1)}


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH-RESULT requests=%.0f duration_us=%.0f p50_us=%.0f p95_us=%.0f p99_us=%.0f max_us=%.0f non2xx=%.0f socket_errors=%.0f\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def choose_generator(requested: str) -> str:
    if requested == "auto":
        return "wrk" if wrk_available() else "httpx"
    if requested == "wrk" and not wrk_available():
        raise RuntimeError("wrk est introuvable (apt-get install -y wrk), ou choisissez --load httpx")
    return requested


def run_wrk(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> LoadResult:
    """wrk with one thread (the other core is the server's), bounded by duration."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError("loopback only")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "5s"]
        for key, value in headers.items():
            command += ["-H", f"{key}: {value}"]
        command += ["-s", script.name, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        os.unlink(script.name)
    match = re.search(r"BENCH-RESULT (.*)", done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk a échoué (code {done.returncode}) :\n{done.stdout}\n{done.stderr}")
    fields = {key: float(value) for key, value in (item.split("=") for item in match.group(1).split())}
    errors = int(fields["non2xx"] + fields["socket_errors"])
    return LoadResult(
        generator="wrk",
        concurrency=concurrency,
        requests=int(fields["requests"]) - int(fields["non2xx"]),
        errors=errors,
        elapsed_s=fields["duration_us"] / 1e6,
        p50_ms=fields["p50_us"] / 1000,
        p95_ms=fields["p95_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        max_ms=fields["max_us"] / 1000,
    )


async def _httpx_load(
    url: str, headers: dict[str, str], concurrency: int, max_requests: int, seconds: float
) -> LoadResult:
    import httpx  # a dev dependency; only this fallback needs it

    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    socket_errors = 0
    issued = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=5.0, headers=headers) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal socket_errors
            while next(issued) < max_requests and time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await client.get(url)
                except httpx.HTTPError:
                    socket_errors += 1
                    continue
                statuses[response.status_code] += 1
                if 200 <= response.status_code < 300:
                    latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ok = len(latencies)
    return LoadResult(
        generator="httpx",
        concurrency=concurrency,
        requests=ok,
        errors=sum(statuses.values()) - ok + socket_errors,
        elapsed_s=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p95_ms=percentile(latencies, 95) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=max(latencies, default=float("nan")) * 1000,
    )


def run_httpx(url: str, headers: dict[str, str], concurrency: int, seconds: float, max_requests: int) -> LoadResult:
    """An asyncio httpx client with bounded concurrency, bounded by request count and by duration.

    It is Python too: past ~1,000 requests/s it is itself the bottleneck, so prefer wrk.
    """
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError("loopback only")
    return asyncio.run(_httpx_load(url, headers, concurrency, max_requests, seconds))


def run_load(
    generator: str, url: str, headers: dict[str, str], concurrency: int, seconds: float, max_requests: int
) -> LoadResult:
    if generator == "wrk":
        return run_wrk(url, headers, concurrency, seconds)
    return run_httpx(url, headers, concurrency, seconds, max_requests)


def fmt_ms(value: float) -> str:
    return f"{value:8.2f} ms"


async def create_pg_database(base_url: str, name: str, *, replace: bool = True) -> str:
    """A throwaway PostgreSQL database on the server of base_url (replaced if a failed run left one); with
    replace=False, one an earlier run kept is reused as it is."""
    import asyncpg  # only the PostgreSQL runs need it

    parts = urlsplit(base_url)
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if replace or not exists:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def pg_database(base_url: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """One engine's run on PostgreSQL: a throwaway database (made anew, dropped afterwards), or with keep=True the
    one an earlier run kept, reused as it is and kept again."""
    url = asyncio.run(create_pg_database(base_url, name, replace=not keep))
    try:
        yield url
    finally:
        if not keep:
            asyncio.run(drop_pg_database(url))


async def drop_pg_database(url: str) -> None:
    import asyncpg

    parts = urlsplit(url)
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
    finally:
        await connection.close()


# ---------------------------------------------------------------- bulk loading
def sqlite_insert(connection: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows inserted with executemany; dates and times as SQLite keeps them (ISO text)."""
    if not rows:
        return
    marks = ",".join("?" * len(rows[0]))
    connection.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})",
        [tuple(v.isoformat() if isinstance(v, datetime.date) else v for v in row) for row in rows],
    )


async def pg_copy(connection: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows copied with PostgreSQL's COPY (asyncpg)."""
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=[c.strip() for c in columns.split(",")])


async def pg_sequences(connection: Any, tables: Sequence[str]) -> None:
    """The id sequences of tables whose ids were written by the loader, set past the largest."""
    for table in tables:
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(max(id), 1) FROM {table}))"
        )
