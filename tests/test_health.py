"""A health check that tells the truth: /healthz says the process answers, /readyz that it can write right now."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from hub import db
from hub.app import create_app
from hub.settings import Settings
from tests.conftest import SmtpServer, base_settings

READY_TIMEOUT = 1.0
HOLD_THE_WRITE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("verrou pris", flush=True)
time.sleep(10)
"""


@pytest.fixture
def ready_settings(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Settings:
    """The database inside the var directory, as `make run` lays them out."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    if database_url.startswith("sqlite"):
        shutil.copyfile(database_url.removeprefix("sqlite:///"), var_dir / "maillage.sqlite3")
        database_url = f"sqlite:///{var_dir / 'maillage.sqlite3'}"
    return base_settings(var_dir, database_url, smtp_server.port, ready_timeout_seconds=READY_TIMEOUT)


@pytest.fixture
async def live(ready_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ready_settings)
    engine = db.current_engine()
    await db.start(engine)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
            yield http
    finally:
        await db.stop(engine)


async def ready_after_reuse(client: httpx.AsyncClient) -> httpx.Response:
    await asyncio.sleep(1.1)  # past the second for which an answer is shared
    return await client.get("/readyz")


async def test_liveness_and_readiness_say_ok_when_all_is_well(live):
    assert (await live.get("/healthz")).json() == {"status": "ok"}
    response = await live.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "storage": True}


async def test_readiness_fails_when_the_database_directory_is_gone(live, ready_settings):
    if not ready_settings.is_sqlite:
        pytest.skip("the embedded database's file")
    assert (await live.get("/readyz")).status_code == 200
    moved = ready_settings.var_dir.with_name("ailleurs")
    ready_settings.var_dir.rename(moved)
    try:
        response = await ready_after_reuse(live)
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": False, "storage": False}
        assert (await live.get("/healthz")).status_code == 200  # alive: restarting it would not help
    finally:
        moved.rename(ready_settings.var_dir)
    assert (await ready_after_reuse(live)).status_code == 200


async def test_readiness_fails_when_the_database_file_is_read_only(live, ready_settings):
    if not ready_settings.is_sqlite:
        pytest.skip("the embedded database's file")
    # SQLite's own read-only flag (the file header's write version, byte 18): it holds even for root, unlike chmod
    path = ready_settings.sqlite_path
    with path.open("r+b") as handle:
        handle.seek(18)
        handle.write(b"\x03")
    response = await ready_after_reuse(live)
    assert response.status_code == 503 and response.json()["database"] is False
    assert response.json()["storage"] is True


async def test_readiness_fails_within_its_timeout_while_another_process_holds_the_write_lock(live, ready_settings):
    if ready_settings.is_sqlite:
        holder = subprocess.Popen(  # noqa: ASYNC220, S603 (a process of its own, as a real rival would be)
            [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(ready_settings.sqlite_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "verrou pris"
        release = holder.kill
    else:
        rival = await asyncpg.connect(ready_settings.database_url)
        transaction = rival.transaction()
        await transaction.start()
        await rival.execute("LOCK TABLE hub_login_failure IN ACCESS EXCLUSIVE MODE")

        def release() -> None:
            pass

    try:
        started = time.monotonic()
        response = await live.get("/readyz")
        elapsed = time.monotonic() - started
        assert response.status_code == 503 and response.json()["database"] is False, response.text
        assert elapsed < READY_TIMEOUT + 1.5, elapsed
        started = time.monotonic()
        assert (await live.get("/healthz")).status_code == 200
        assert time.monotonic() - started < 0.5
    finally:
        release()
        if not ready_settings.is_sqlite:
            await transaction.rollback()
            await rival.close()
    assert (await ready_after_reuse(live)).status_code == 200
