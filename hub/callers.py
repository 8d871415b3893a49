"""The credential lookup every signed-in request makes, kept cheap without weakening revocation.

Every request turns its session cookie or API token into a caller (user and roles): one indexed SELECT.
Through the async drivers that SELECT costs more than the rest of a small request, so:

- **SQLite** (the embedded default): the lookup runs synchronously on a connection kept open in the
  event loop's thread. An indexed read of a local file takes tens of microseconds, a tenth of a round
  trip through aiosqlite's worker thread. Its results are kept too, for as long as `PRAGMA data_version`
  on that connection stays the same: it changes whenever any other connection, in this process or
  another (the CLI), commits anything. In WAL mode readers never wait for writers; should the file be busy
  all the same (a recovery), the lookup falls back to the async engine.
- **PostgreSQL**: results are kept per process and dropped as soon as anything that decides a caller
  changes. Triggers on hub_user, hub_membership, hub_api_token and hub_session (migration
  hub 00:30:00) NOTIFY `maillage_callers` at commit, whatever process or tool wrote; every process
  LISTENs on its own connection. The process that writes also drops its entries at once (`invalidate`),
  without waiting for its own notification. The cache only serves while the LISTEN connection is up
  (it reconnects in the background), and no entry lives longer than TTL_S either way.

Only positive answers are kept: a new session or token is found by the next lookup without any notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.querystring import QueryString

from hub.db import current_engine

log = logging.getLogger("maillage.callers")

CHANNEL = "maillage_callers"
TTL_S = 30.0  # the longest a cached caller is trusted, even with a listener that looks alive
MAX_ENTRIES = 10_000
SQLITE_READ_TIMEOUT_MS = 20  # then fall back to the async engine rather than hold the event loop
RECONNECT_DELAYS_S = (0.5, 1, 2, 5, 10, 30)

Rows = list[dict[str, Any]]


class Callers:
    """Reads a credential's caller rows (SQL with one `{}` placeholder for the token hash)."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._entries: dict[tuple[str, str], tuple[float, Rows]] = {}
        self._generation = 0
        self._listener: Any = None  # asyncpg connection LISTENing on CHANNEL
        self._reconnect: asyncio.Task[None] | None = None
        self._stopping = False
        self._data_version: int | None = None  # SQLite: PRAGMA data_version when the cache was last valid
        self.reads = 0  # database reads made (misses), for tests and diagnostics

    # ------------------------------------------------------------ life cycle
    async def start(self, engine: Engine) -> None:
        self._engine, self._stopping = engine, False
        if isinstance(engine, SQLiteEngine):
            path = engine.connection_kwargs["database"]
            # opened here, used only by the event loop's thread; no type detection: _typed converts the few
            # columns a caller needs, as Piccolo's converters would, at a fraction of their cost
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {SQLITE_READ_TIMEOUT_MS}")
            connection.execute("PRAGMA query_only = 1")
            connection.row_factory = dict_factory
            self._sqlite = connection
        elif isinstance(engine, PostgresEngine):
            await self._listen()

    async def stop(self) -> None:
        self._stopping = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
            self._reconnect = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.close()
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite, self._data_version = None, None
        self.invalidate()

    @property
    def caching(self) -> bool:
        """True while cached callers may be served: SQLite's reader is open, or PostgreSQL's LISTEN is live."""
        if self._sqlite is not None:
            return True
        return self._listener is not None and not self._listener.is_closed()

    # ------------------------------------------------------------ reads
    async def rows(self, sql: str, digest: str, *, fresh: bool = False) -> Rows:
        """The rows of `sql` for this token hash; `fresh` skips the cache (and refreshes it)."""
        key = (sql, digest)
        if self._sqlite is not None:
            try:
                return self._sqlite_rows(key, fresh)
            except sqlite3.OperationalError:  # busy or locked: let the async engine wait for it
                log.info("lecture synchrone impossible, repli sur le moteur asynchrone")
        if not fresh and self.caching and (cached := self._cached(key)) is not None:
            return cached
        generation = self._generation
        rows = await self._read(sql, digest)
        self.reads += 1
        # Keep only what no change overtook while it was read (a notification bumps the generation).
        if self.caching and generation == self._generation:
            self._keep(key, rows)
        return rows

    def _sqlite_rows(self, key: tuple[str, str], fresh: bool) -> Rows:
        """Synchronous: no await between the version check, the read and the store, so nothing overtakes them."""
        assert self._sqlite is not None
        version = self._sqlite.execute("PRAGMA data_version").fetchone()["data_version"]
        if version != self._data_version:  # another connection (or process) committed: anything may have changed
            self._data_version = version
            self.invalidate()
        if not fresh and (cached := self._cached(key)) is not None:
            return cached
        rows = _typed(self._sqlite.execute(key[0].replace("{}", "?"), (key[1],)).fetchall())
        self.reads += 1
        self._keep(key, rows)
        return rows

    def _cached(self, key: tuple[str, str]) -> Rows | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def _keep(self, key: tuple[str, str], rows: Rows) -> None:
        if not rows:  # only positive answers: a new credential needs no notice to be found
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + TTL_S, rows)

    def forget(self, sql: str, digest: str) -> None:
        """Drop one credential's entry (after this process wrote to its row)."""
        self._entries.pop((sql, digest), None)

    def invalidate(self, *_: Any) -> None:
        """Drop every entry: something that decides callers changed (here or in another process)."""
        self._generation += 1
        self._entries.clear()

    async def _read(self, sql: str, digest: str) -> Rows:
        """A miss (or SQLite busy): Piccolo's raw query on the bound engine, which fills `{}` for its driver."""
        result: Rows = await current_engine().run_querystring(QueryString(sql, digest))
        return result

    # ------------------------------------------------------------ PostgreSQL notifications
    async def _listen(self) -> None:
        if not await self._connect():
            self._schedule_reconnect()

    async def _connect(self) -> bool:
        import asyncpg

        assert isinstance(self._engine, PostgresEngine)
        try:
            connection = await asyncpg.connect(**self._engine.config)
            await connection.add_listener(CHANNEL, self.invalidate)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("écoute des changements d'accès impossible (%s) : cache suspendu", type(error).__name__)
            return False
        connection.add_termination_listener(self._lost)
        self.invalidate()  # anything cached before this point was not covered by a listener
        self._listener = connection
        return True

    def _lost(self, _: Any) -> None:
        self._listener = None
        self.invalidate()
        if not self._stopping:
            log.warning("connexion d'écoute perdue : cache des accès suspendu")
            self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._stopping or (self._reconnect is not None and not self._reconnect.done()):
            return
        self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        attempt = 0
        while not self._stopping and not self.caching:
            await asyncio.sleep(RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)])
            attempt += 1
            await self._connect()


# Columns of the caller queries (hub.sessions) that SQLite returns as text or integers.
_TIMESTAMPS = ("created_at", "last_seen_at", "last_used_at", "revoked_at")
_BOOLEANS = ("is_admin", "is_coordinator", "is_active", "totp_enabled", "mfa_passed")


def _typed(rows: Rows) -> Rows:
    """What Piccolo's SQLite converters make of these columns: aware UTC datetimes and booleans."""
    for row in rows:
        for name in _TIMESTAMPS:
            value = row.get(name)
            if isinstance(value, str):
                row[name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
        for name in _BOOLEANS:
            if name in row:
                row[name] = bool(row[name])
    return rows
