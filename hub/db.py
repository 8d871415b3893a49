"""Database engines: built from Settings, bound to every Piccolo table, migrated by Piccolo migrations."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.conf.apps import AppRegistry, Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

from hub.errors import Unavailable
from hub.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 10
PG_WORK_MEM = "16MB"
PG_SESSION = {
    # work_mem: a common word matches tens of thousands of services; their ranking and count stay in memory
    # (the server's default 4 MB spills them to temporary files). Per sort, per connection of the app's pool.
    "work_mem": PG_WORK_MEM,
    # no JIT compilation: the pack's figures (one statement of twenty aggregates over a semester) are estimated
    # costly enough for it, and compiling them took 2.5 s of a 6 s statement that runs in 3 s without (bench)
    "jit": "off",
}
T = TypeVar("T")


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection (and its thread) for every query outside a transaction;
    this one keeps a few open for those queries. Transactions still get a connection of their own."""

    def __init__(self, path: str, pool_size: int = 4, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._pool_size = pool_size
        self._pool: asyncio.Queue[aiosqlite.Connection] | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._connections: list[aiosqlite.Connection] = []

    async def start_pool(self) -> None:
        self._pool, self._pool_loop = asyncio.Queue(), asyncio.get_running_loop()
        for _ in range(self._pool_size):
            connection = await aiosqlite.connect(**self.connection_kwargs)
            await connection.execute("PRAGMA foreign_keys = 1")
            connection.row_factory = dict_factory  # type: ignore[assignment]
            self._connections.append(connection)
            self._pool.put_nowait(connection)

    async def close_pool(self) -> None:
        self._pool, self._pool_loop = None, None
        for connection in self._connections:
            await connection.close()
        self._connections.clear()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        pool = self._pool
        if pool is None or self._pool_loop is not asyncio.get_running_loop():
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await pool.get()
        try:
            # isolation_level=None: each statement commits on its own, as in Piccolo's fresh connections
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            pool.put_nowait(connection)


def make_engine(settings: Settings) -> Engine:
    """SQLite file (WAL, busy timeout) by default; PostgreSQL when DATABASE_URL says so."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(path)
        return PooledSQLiteEngine(path=str(path), timeout=settings.sqlite_busy_timeout_seconds)
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url, "server_settings": PG_SESSION})
    raise ValueError(f"DATABASE_URL non pris en charge : {url.split(':', 1)[0]}")


def _enable_wal(path: Path) -> None:
    # journal_mode=WAL is persistent in the file: setting it once per start is enough.
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


PICCOLO_CONF = "hub.piccolo_conf"  # the composition root's list of Piccolo apps; its DB is the bound engine
_bound: Engine | None = None


def registry() -> AppRegistry:
    """Every Piccolo app: the core's and the modules', as the composition root lists them."""
    return Finder().get_app_registry()


def bind_engine(engine: Engine) -> None:
    """Point every table (and Piccolo's own migration table and finder) at this engine."""
    global _bound
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF  # Piccolo's finder and migration runner look there
    _bound = engine
    for app_config in registry().app_configs.values():
        for table in app_config.table_classes:
            table._meta.db = engine
    Migration._meta.db = engine


def current_engine() -> Engine:
    engine = _bound
    if engine is None:
        raise RuntimeError("no database engine bound: call hub.db.bind_engine() first")
    return engine


def among(column: Column, ids: Iterable[int]) -> WhereRaw:
    """`column IN ids` with the ids as one bound value (a JSON array on SQLite, an int[] on PostgreSQL): a hundred
    ids cost one conversion and one placeholder, not a hundred of each."""
    return WhereRaw(*among_sql(f'"{column._meta.table._meta.tablename}"."{column._meta.db_column_name}"', ids))


def among_sql(name: str, ids: Iterable[int]) -> tuple[str, Any]:
    """`among` for raw SQL: the condition on column `name` (with its "{}" placeholder) and the value to bind."""
    values = sorted({int(i) for i in ids})
    if isinstance(current_engine(), SQLiteEngine):
        return f"{name} IN (SELECT value FROM json_each({{}}))", json.dumps(values)
    return f"{name} = ANY({{}}::integer[])", values


async def together(*reads: Awaitable[Any]) -> list[Any]:
    """Reads at once, each on a connection of the pool; one after the other inside a transaction (it has one
    connection, which runs one statement at a time)."""
    if current_engine().current_transaction.get() is not None:
        return [await read for read in reads]
    return list(await asyncio.gather(*reads))


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """A read-then-write unit of work: IMMEDIATE on SQLite so the write lock is taken up front."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction
    else:
        async with engine.transaction() as transaction:
            yield transaction


async def migrate(engine: Engine) -> None:
    """Run every app's Piccolo migrations forwards (idempotent)."""
    bind_engine(engine)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


async def ping(engine: Engine) -> bool:
    try:
        await engine.run_ddl("SELECT 1")
    except Exception:
        return False
    return True


async def start(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.start_pool()


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.close_pool()


async def serialise(name: str) -> None:
    """Inside a write_transaction: concurrent units of work sharing this name run one after the other.

    SQLite's IMMEDIATE transactions already do; on PostgreSQL, a transaction-level advisory lock on the name."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock(hashtext('{name}'))", in_pool=False)


# ---------------------------------------------------------------- lock contention: retried, then a 503, never a 500
CONTENTION_RETRIES = 3
RETRY_AFTER_SECONDS = 5


def is_contention(error: BaseException) -> bool:
    """The database was busy, not wrong: SQLite's write lock, PostgreSQL's lock timeouts, deadlocks, serialization."""
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return "database is locked" in message or "database is busy" in message
    return isinstance(
        error,
        asyncpg.exceptions.LockNotAvailableError
        | asyncpg.exceptions.TransactionRollbackError
        | asyncpg.exceptions.QueryCanceledError,
    )


async def retry_on_contention(work: Callable[[], Awaitable[T]], attempts: int = CONTENTION_RETRIES) -> T:
    """Run a unit of work (its own transaction) again when the database was busy; then Unavailable (a 503)."""
    for attempt in range(attempts):
        try:
            return await work()
        except Exception as error:
            if not is_contention(error):
                raise
            if attempt + 1 < attempts:
                await asyncio.sleep(0.05 * 2**attempt)
    raise Unavailable(
        "Le service est très sollicité en ce moment. Réessayez dans quelques secondes.", retry_after=RETRY_AFTER_SECONDS
    )
