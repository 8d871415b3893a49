"""Database engines: built from Settings, bound to every Piccolo table, migrated by Piccolo migrations."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from hub import piccolo_conf
from hub.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 10


def make_engine(settings: Settings) -> Engine:
    """SQLite file (WAL, busy timeout) by default; PostgreSQL when DATABASE_URL says so."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(path)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    raise ValueError(f"DATABASE_URL non pris en charge : {url.split(':', 1)[0]}")


def _enable_wal(path: Path) -> None:
    # journal_mode=WAL is persistent in the file: setting it once per start is enough.
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def registry() -> AppRegistry:
    return piccolo_conf.APP_REGISTRY


def bind_engine(engine: Engine) -> None:
    """Point every table (and Piccolo's own migration table and finder) at this engine."""
    os.environ["PICCOLO_CONF"] = "hub.piccolo_conf"  # Piccolo's migration runner looks the engine up there
    piccolo_conf.DB = engine
    for app_config in registry().app_configs.values():
        for table in app_config.table_classes:
            table._meta.db = engine
    Migration._meta.db = engine


def current_engine() -> Engine:
    engine = piccolo_conf.DB
    if engine is None:
        raise RuntimeError("no database engine bound: call hub.db.bind_engine() first")
    return engine


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


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
