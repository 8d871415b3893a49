"""Browser-side defences: security headers on every kind of response, and CSRF tokens tied to the session."""

from __future__ import annotations

import httpx
import pytest

from hub.app import create_app
from hub.headers import content_security_policy
from hub.settings import Settings
from hub.tables import ApiToken
from tests.conftest import csrf_token, make_person, sign_in

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def assert_defended(response: httpx.Response, *, https: bool = False) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (where, name, headers.get(name))
    csp = headers.get("content-security-policy", "")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives.get("script-src") == "'self'", (where, csp)  # no 'unsafe-inline', no other origin
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert "camera=()" in headers.get("permissions-policy", ""), where
    assert ("strict-transport-security" in headers) is https, where


async def test_every_kind_of_response_carries_the_headers(client, rt):
    person = await make_person(rt, "prescripteur@caf.example.fr")
    responses = [
        await client.get("/"),  # a page
        await client.get("/annuaire"),  # the search page with its map
        await client.get("/page-inconnue"),  # the 404 page of an unknown path
        await client.get("/annuaire/structures/999999"),  # a domain 404
        await client.get("/static/css/maillage.css"),  # a static file
        await client.get("/healthz"),
        await client.get("/readyz"),
        await client.get("/schema/openapi.json"),
        await client.get("/api/v1/directory/services"),  # API JSON
        await client.get("/api/v1/me"),  # API problem+json (401)
        await client.post("/connexion", data={"email": "x@example.fr", "password": "x"}),  # CSRF refused: 403 page
        await client.get("/compte", follow_redirects=False),  # a redirect to sign in
    ]
    statuses = {response.status_code for response in responses}
    assert {200, 302, 401, 403, 404} <= statuses, statuses
    for response in responses:
        assert_defended(response)
    await sign_in(client, person)
    assert_defended(await client.get("/compte"))


async def test_https_base_url_adds_hsts(settings):
    app = create_app(Settings(**{**settings.__dict__, "base_url": "https://maillage.example.fr"}))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://maillage.example.fr") as http:
        response = await http.get("/healthz")
    assert_defended(response, https=True)
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_the_map_tiles_are_allowed_and_nothing_else_foreign(settings, client):
    csp = (await client.get("/annuaire")).headers["content-security-policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp  # the directory's tiles, from its module
    assert "img-src 'self' data:;" in content_security_policy(settings)  # the core alone shows no foreign image
    subdomains = ["https://{s}.tiles.example.fr/{z}/{x}/{y}.png"]
    assert "https://*.tiles.example.fr" in content_security_policy(settings, subdomains)


async def _create_token(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/compte/jetons", data={"name": "outil", "_csrf_token": token}, follow_redirects=False)


async def test_a_csrf_token_from_another_visit_is_refused(client, app, rt):
    person = await make_person(rt, "prescripteur@caf.example.fr")
    # the attacker's own valid pair (cookie and field), from their own visit to the site
    transport = httpx.ASGITransport(app=app, client=("127.0.0.2", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as attacker:
        await attacker.get("/connexion")
        planted = csrf_token(attacker)
    await sign_in(client, person)
    own = csrf_token(client)
    assert own != planted
    client.cookies.set("maillage_csrf", planted, domain="testserver.local")  # cookie tossing
    refused = await _create_token(client, planted)
    assert refused.status_code == 403, refused.text[:300]
    assert await ApiToken.count() == 0
    client.cookies.set("maillage_csrf", own, domain="testserver.local")
    accepted = await _create_token(client, own)
    assert accepted.status_code in (200, 302, 303), accepted.text[:300]
    assert await ApiToken.count() == 1


async def test_signing_in_again_renews_the_token_and_the_old_one_stops_working(client, rt):
    person = await make_person(rt, "prescripteur@caf.example.fr")
    await client.get("/connexion")
    anonymous = csrf_token(client)
    await sign_in(client, person)
    first = csrf_token(client)
    assert first != anonymous  # the page after signing in issued this session's token
    await client.post("/deconnexion", data={"_csrf_token": first})
    await sign_in(client, person)
    second = csrf_token(client)
    assert second != first
    client.cookies.set("maillage_csrf", first, domain="testserver.local")
    assert (await _create_token(client, first)).status_code == 403
    await client.get("/compte")  # a page: this session's token comes back
    assert (await _create_token(client, csrf_token(client))).status_code in (200, 302, 303)


@pytest.mark.parametrize("path", ["/connexion", "/annuaire/rejoindre"])
async def test_anonymous_forms_still_work_with_the_anonymous_token(client, path):
    await client.get(path)
    response = await client.post(path, data={"_csrf_token": csrf_token(client)})
    assert response.status_code == 400  # the form's own errors, past the CSRF check
