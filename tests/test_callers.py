"""The caller lookup's fast path (hub.callers): fast, yet a revoked token or a changed role counts at once.

"Another process" is played by a connection of the test's own, outside the app: on PostgreSQL the app
learns of the change only through the triggers' NOTIFY; on SQLite through `PRAGMA data_version`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from hub import accounts
from tests.conftest import make_person, make_structure

pytestmark = pytest.mark.asyncio


async def _token(rt, email: str = "paul@ccas.example.fr", roles: dict[int, list[str]] | None = None) -> tuple[int, str]:
    person = await make_person(rt, email, roles)
    actor = await accounts.actor_for_user(person.id)
    _, token = await accounts.create_api_token(rt, actor, "outil de suivi")
    return person.id, token


def _postgres(settings) -> bool:
    return settings.database_url.startswith("postgres")


async def _outside(settings, sql: str, *args: Any) -> None:
    """Write as another process would: a connection of our own, committed."""
    if _postgres(settings):
        connection = await asyncpg.connect(settings.database_url)
        try:
            await connection.execute(sql.replace("?", "$1"), *args)
        finally:
            await connection.close()
    else:
        with sqlite3.connect(settings.sqlite_path) as connection:
            connection.execute(sql, args)


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return await check()


async def test_a_token_revoked_by_another_process_stops_working(client, rt, settings):
    _, token = await _token(rt)
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    assert rt.callers.caching

    await _outside(
        settings,
        "UPDATE hub_api_token SET revoked_at = CURRENT_TIMESTAMP WHERE token_hash = ?",
        accounts.token_hash(token),
    )

    async def refused() -> bool:
        return (await client.get("/api/v1/me", headers=auth)).status_code == 401

    assert await _eventually(refused, seconds=2.0)
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401


async def test_a_role_granted_by_another_process_shows_on_the_next_request(client, rt, settings):
    structure_id = await make_structure()
    user_id, token = await _token(rt)
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=auth)).json()["memberships"] == []

    await _outside(
        settings,
        f'INSERT INTO hub_membership ("user", structure, role, created_at) '
        f"VALUES ({user_id}, ?, 'prescriber', CURRENT_TIMESTAMP)",
        structure_id,
    )

    async def granted() -> bool:
        body = (await client.get("/api/v1/me", headers=auth)).json()
        return body["memberships"] == [{"structure_id": structure_id, "roles": ["prescriber"]}]

    assert await _eventually(granted, seconds=2.0)


async def test_revoking_in_this_process_counts_without_waiting(client, rt):
    _, token = await _token(rt)
    auth = {"Authorization": f"Bearer {token}"}
    tokens = (await client.get("/api/v1/tokens", headers=auth)).json()
    assert (await client.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=auth)).status_code == 204
    # no pause: the writer dropped its own cache before answering
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401


async def test_repeat_callers_are_served_from_the_cache_until_anything_is_committed(client, rt, settings):
    user_id, token = await _token(rt)
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(2):  # the first use stamps last_used_at, which drops that entry once
        assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    reads = rt.callers.reads
    for _ in range(5):
        assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    assert rt.callers.reads == reads
    if not _postgres(settings):  # SQLite cannot tell what changed: any commit elsewhere empties the cache
        await _outside(settings, "UPDATE hub_user SET last_login_at = CURRENT_TIMESTAMP WHERE id = ?", user_id)
        assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
        assert rt.callers.reads == reads + 1


async def test_postgresql_stops_caching_when_its_listener_is_cut_and_resumes(client, rt, settings):
    if not _postgres(settings):
        pytest.skip("PostgreSQL's LISTEN connection")
    _, token = await _token(rt)
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    database = settings.database_url.rsplit("/", 1)[1]
    await _outside(
        settings,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND query LIKE 'LISTEN%'",
        database,
    )

    async def cut() -> bool:
        return not rt.callers.caching

    assert await _eventually(cut)
    # meanwhile every request reads the database: a change made now is seen without any notification
    await _outside(
        settings,
        "UPDATE hub_api_token SET revoked_at = CURRENT_TIMESTAMP WHERE token_hash = ?",
        accounts.token_hash(token),
    )
    if not rt.callers.caching:
        assert (await client.get("/api/v1/me", headers=auth)).status_code == 401

    async def back() -> bool:
        return rt.callers.caching

    assert await _eventually(back, seconds=5.0)
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401
