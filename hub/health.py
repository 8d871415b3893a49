"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do its work right now).

Readiness proves what a request needs, not merely that a connection answers SELECT 1: the database takes a
write (a row inserted then rolled back, within `ready_timeout_seconds`, so a write lock held elsewhere makes it
fail instead of waiting) and the var directory takes a file. On SQLite the write goes through a fresh
connection, so a directory gone or unreadable is seen even while the pool's open connections still read.
Checks are shared: callers arriving while one runs, or within a second of its end, get its answer (a flood of
/readyz never queues for the write lock).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from typing import Any, Literal

import msgspec
from litestar import Request, get
from litestar.openapi import ResponseSpec
from litestar.response import Response
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from hub import db
from hub.settings import Settings

PROBE_KEY = "readyz-probe"  # the row written then rolled back; never committed
REUSE_SECONDS = 1.0


class Readiness(msgspec.Struct):
    status: Literal["ok", "unavailable"]
    database: bool
    storage: bool


class ReadinessCheck:
    """Runs the checks, one at a time, and keeps the last answer for a second."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._last: tuple[float, Readiness] | None = None
        self._running: asyncio.Future[Readiness] | None = None

    async def check(self, engine: Engine) -> Readiness:
        if self._last is not None and time.monotonic() - self._last[0] < REUSE_SECONDS:
            return self._last[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._check(engine))
            self._running.add_done_callback(self._done)
        return await asyncio.shield(self._running)

    def _done(self, future: asyncio.Future[Readiness]) -> None:
        self._running = None
        if not future.cancelled() and future.exception() is None:
            self._last = (time.monotonic(), future.result())

    async def _check(self, engine: Engine) -> Readiness:
        timeout = self.settings.ready_timeout_seconds
        database, storage = await asyncio.gather(
            _within(timeout + 1, _database_writable(engine, self.settings, timeout)),
            _within(timeout + 1, asyncio.to_thread(_storage_writable, self.settings)),
        )
        return Readiness(status="ok" if database and storage else "unavailable", database=database, storage=storage)


async def _within(seconds: float, work: Any) -> bool:
    try:
        return bool(await asyncio.wait_for(work, seconds))
    except Exception:
        return False


def _storage_writable(settings: Settings) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=settings.var_dir, prefix=".readyz-") as handle:
            handle.write(b"ok")
            handle.flush()
    except OSError:
        return False
    return True


def _sqlite_writable(settings: Settings, wait_seconds: float) -> bool:
    # mode=rw: never create a fresh empty file where the database was
    uri = f"file:{settings.sqlite_path}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=wait_seconds, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        connection.execute("BEGIN IMMEDIATE")  # the write lock, or "database is locked" after `timeout`
        connection.execute("INSERT INTO hub_login_failure (key_hash, at) VALUES (?, CURRENT_TIMESTAMP)", (PROBE_KEY,))
        connection.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    finally:
        connection.close()
    return True


async def _postgres_writable(engine: PostgresEngine, wait_seconds: float) -> bool:
    pool = engine.pool
    connection = await (pool.acquire(timeout=wait_seconds) if pool is not None else engine.get_new_connection())
    try:
        transaction = connection.transaction()
        await transaction.start()
        try:
            milliseconds = int(wait_seconds * 1000)
            await connection.execute(f"SET LOCAL lock_timeout = {milliseconds}")
            await connection.execute(f"SET LOCAL statement_timeout = {milliseconds}")
            await connection.execute(
                "INSERT INTO hub_login_failure (key_hash, at) VALUES ($1, now())", PROBE_KEY
            )  # fails on a read-only server or database, a full disk, a lock held on the table
        finally:
            await transaction.rollback()
    finally:
        if pool is not None:
            await pool.release(connection)
        else:
            await connection.close()
    return True


async def _database_writable(engine: Engine, settings: Settings, wait_seconds: float) -> bool:
    if isinstance(engine, PostgresEngine):
        return await _postgres_writable(engine, wait_seconds)
    return await asyncio.to_thread(_sqlite_writable, settings, wait_seconds)


@get(
    "/readyz",
    operation_id="readiness",
    tags=["Service"],
    cache=False,
    responses={503: ResponseSpec(data_container=Readiness, description="Base de données ou stockage indisponible")},
)
async def ready(request: Request[Any, Any, Any]) -> Response[Readiness]:
    """Readiness: the database takes a write (rolled back) and the var directory a file, within a short timeout."""
    checker: ReadinessCheck = request.app.state.readiness
    result = await checker.check(db.current_engine())
    return Response(result, status_code=200 if result.status == "ok" else 503, headers={"Cache-Control": "no-store"})
