"""Anonymous forms cannot flood the database: the join form is throttled per source, an identical pending
request is refused, look-alikes are found before the write, and a busy database is a French 503, never a 500."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from hub import db
from hub.app import create_app
from hub.runtime import Runtime
from hub.settings import Settings
from network.tables import DuplicateFlag, Structure
from tests.conftest import csrf_token, make_person, make_structure, post_form, sign_in
from tests.test_directory_pages import GOOD_STRUCTURE

HOLD_THE_WRITE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("verrou pris", flush=True)
time.sleep(30)
"""


def join_form(n: int) -> dict[str, str]:
    return {**GOOD_STRUCTURE, "name": f"Association numéro {n} du quartier", "siret": "", "contact_email": "a@b.fr"}


async def test_a_flood_of_join_requests_is_throttled_and_a_sign_in_still_works(client, app, rt, settings):
    person = await make_person(rt, "prescripteur@caf.example.fr")
    await client.get("/annuaire/rejoindre")
    token = csrf_token(client)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.9", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local", follow_redirects=True
    ) as other:

        async def join(n: int) -> httpx.Response:
            form = {**join_form(n), "_csrf_token": token}
            return await client.post("/annuaire/rejoindre", data=form, follow_redirects=False)

        async def real_sign_in() -> None:
            await asyncio.sleep(0.05)
            await sign_in(other, person)

        *answers, _ = await asyncio.gather(*[join(n) for n in range(12)], real_sign_in())
        statuses = sorted(response.status_code for response in answers)
        assert all(status < 500 for status in statuses), statuses
        limit = settings.join_max_per_hour
        assert statuses.count(302) == limit and statuses.count(429) == 12 - limit, statuses
        assert await Structure.count().where(Structure.status == "pending") == limit
        refused = next(response for response in answers if response.status_code == 429)
        assert "Réessayez dans une heure" in html.unescape(refused.text) and int(refused.headers["retry-after"]) > 0
        assert (await other.get("/compte")).status_code == 200  # the real sign-in went through
        # another source is not held back by this one
        await other.get("/annuaire/rejoindre")
        assert (await post_form(other, "/annuaire/rejoindre", join_form(99))).status_code == 200


async def test_a_second_identical_pending_request_is_refused(client):
    existing = await make_structure("Centre social des Tilleuls")  # an active look-alike
    first = await post_form(client, "/annuaire/rejoindre", {**GOOD_STRUCTURE, "contact_email": "a@b.fr"})
    assert first.status_code == 200 and "Votre demande est transmise" in first.text
    again = {**GOOD_STRUCTURE, "name": "  CENTRE SOCIAL des tilleuls ", "contact_email": "c@d.fr"}
    second = await post_form(client, "/annuaire/rejoindre", again)
    assert second.status_code == 409
    assert "attend déjà la validation" in html.unescape(second.text)
    pending = await Structure.select(Structure.id).where(Structure.status == "pending")
    assert len(pending) == 1
    # the look-alike was found (before the write) and flagged for the coordinator
    flag = await DuplicateFlag.select().where(DuplicateFlag.structure == pending[0]["id"]).first()
    assert flag is not None and flag["other"] == existing


@pytest.fixture
async def busy(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Runtime]]:
    """An app whose SQLite writes wait 0.2 s for the lock (not 10 s); not the `app` fixture's, so no `rt` here."""
    if not settings.is_sqlite:
        pytest.skip("one writer at a time is SQLite's; PostgreSQL writers take row locks")
    quick = dataclasses.replace(settings, sqlite_busy_timeout_seconds=0.2)
    app = create_app(quick)
    engine = db.current_engine()
    await db.start(engine)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
            yield http, quick, app.state.runtime
    finally:
        await db.stop(engine)


async def test_a_busy_database_is_a_french_503_never_a_500(busy):
    client, settings, rt = busy
    person = await make_person(rt, "prescripteur@caf.example.fr")
    await client.get("/connexion")
    holder = subprocess.Popen(  # noqa: ASYNC220, S603 (another process holds SQLite's write lock)
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(settings.sqlite_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "verrou pris"
        token = csrf_token(client)
        joined = await client.post("/annuaire/rejoindre", data={**join_form(1), "_csrf_token": token})
        signed = await client.post(
            "/connexion", data={"email": person.email, "password": person.password, "_csrf_token": token}
        )
    finally:
        holder.kill()
        holder.wait()
    for response in (joined, signed):
        assert response.status_code == 503, response.text[:300]
        assert response.headers["retry-after"] == "5"
        assert "Réessayez dans quelques secondes" in html.unescape(response.text)
        assert '<html lang="fr">' in response.text
    assert await Structure.count() == 0
