"""Issue 9: tokens never outrank their second factor, sign-in throttling that cannot be turned against a
user, password hashing off the event loop, per-install demo secrets, the password asked at enrolment."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp
import pytest
from litestar import Litestar

from hub import demo, jobs, sessions
from hub.errors import Invalid, TooManyRequests
from hub.runtime import Runtime
from hub.security import Secrets
from hub.settings import Settings
from hub.tables import AccessLink, ApiToken, JournalEntry, Membership, OutboxMessage, SignInThrottle, User
from tests.conftest import PASSWORD, TEST_SECRET, Inbox, make_person, make_structure, post_form, sign_in
from tests.test_cli import maillage

WRONG = "pas le bon mot de passe"


@contextlib.asynccontextmanager
async def client_from(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, on another network (the app's database is opened by the `client` fixture)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local", follow_redirects=True
    ) as http:
        yield http


async def _new_token_on_account_page(client: httpx.AsyncClient, name: str) -> str:
    page = await post_form(client, "/compte/jetons", {"name": name})
    assert page.status_code == 200, page.text
    return page.text.split('<code class="secret">')[1].split("</code>")[0]


# ---------------------------------------------------------------- 1. tokens and their second factor
async def test_a_token_made_with_a_password_only_is_revoked_when_its_owner_becomes_coordinator(client, rt):
    sid = await make_structure()
    person = await make_person(rt, "sophie@caf.example.fr", {sid: ["prescriber"]})  # no 2FA needed, none done
    admin = await make_person(rt, "alix@reseau.example.fr", admin=True)
    await sign_in(client, person)
    bearer = {"Authorization": f"Bearer {await _new_token_on_account_page(client, 'Tableur')}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    assert (await client.get("/api/v1/journal", headers=bearer)).status_code == 403

    client.cookies.clear()
    await sign_in(client, admin)
    granted = await post_form(client, f"/admin/utilisateurs/{person.id}/coordinateur", {"value": "1"})
    assert "1 jeton(s)" in granted.text and "prévenue par courriel" in granted.text  # the admin is told

    journal = await client.get("/api/v1/journal", headers=bearer)
    assert journal.status_code == 401, "the old token must not read what only a second factor opens"
    token = await ApiToken.select().first()
    assert token["revoked_at"] is not None and token["revoked_reason"] == "role_needs_2fa"
    [mail] = await OutboxMessage.select().where(OutboxMessage.recipient == person.email)
    assert "révoqués" in mail["subject"] and "double authentification" in mail["body_text"]  # the owner is told
    entry = await JournalEntry.select().where(JournalEntry.action == "api_tokens_revoked").first()
    assert entry["object_id"] == str(person.id) and person.email not in entry["details"]

    # once enrolled, the owner's account page says why the token stopped
    secret = pyotp.random_base32()
    await User.update({User.totp_secret: rt.secrets.seal(secret), User.totp_enabled: True}).where(User.id == person.id)
    person.totp_secret = secret
    client.cookies.clear()
    await sign_in(client, person)
    account = await client.get("/compte")
    assert "Révoqué" in account.text and "créé sans double authentification" in account.text


async def test_joining_as_aidant_revokes_the_tokens_made_without_2fa_and_says_so(client, rt, inbox):
    a, b = await make_structure("Structure A"), await make_structure("Structure B")
    manager = await make_person(rt, "nadia@a.example.fr", {a: ["manager"]})
    member = await make_person(rt, "tom@b.example.fr", {b: ["prescriber"]})
    await sign_in(client, member)
    await _new_token_on_account_page(client, "Tableur")
    client.cookies.clear()
    await sign_in(client, manager)
    await post_form(client, f"/structures/{a}/invitations", {"email": member.email, "role": "aidant"})
    await _deliver(rt, inbox)
    link = inbox.link(inbox.to(member.email)[0], "/invitation/")
    await post_form(client, "/deconnexion")
    joined = await post_form(client, link, {"password": PASSWORD})
    assert "Bienvenue" in joined.text and "jeton d&#39;API créé sans elle a été révoqué" in joined.text
    assert (await ApiToken.select(ApiToken.revoked_reason).first())["revoked_reason"] == "role_needs_2fa"


async def test_a_token_is_suspended_whatever_way_a_role_needing_2fa_arrives(client, rt):
    sid = await make_structure()
    person = await make_person(rt, "sophie@caf.example.fr", {sid: ["prescriber"]})
    await sign_in(client, person)
    bearer = {"Authorization": f"Bearer {await _new_token_on_account_page(client, 'Tableur')}"}
    await Membership.insert(Membership(user=person.id, structure=sid, role="aidant"))  # straight into the table
    rt.callers.invalidate()
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401


async def test_a_token_made_behind_the_second_factor_keeps_its_roles_and_passes_them_on(client, rt):
    coordinator = await make_person(rt, "camille@reseau.example.fr", coordinator=True)
    await sign_in(client, coordinator)  # password, then the TOTP code
    bearer = {"Authorization": f"Bearer {await _new_token_on_account_page(client, 'Tableau de bord')}"}
    assert (await client.get("/api/v1/journal", headers=bearer)).status_code == 200
    made = await client.post("/api/v1/tokens", json={"name": "Script"}, headers=bearer)
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"  # the secret is in this answer
    second = {"Authorization": f"Bearer {made.json()['token']}"}
    assert (await client.get("/api/v1/journal", headers=second)).status_code == 200


async def test_live_tokens_are_capped_per_user(client, rt, settings):
    person = await make_person(rt, "sophie@caf.example.fr")
    await sign_in(client, person)
    bearer = {"Authorization": f"Bearer {await _new_token_on_account_page(client, 'Premier')}"}
    for n in range(settings.api_tokens_max - 1):
        assert (await client.post("/api/v1/tokens", json={"name": f"n{n}"}, headers=bearer)).status_code == 201
    refused = await client.post("/api/v1/tokens", json={"name": "de trop"}, headers=bearer)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "révoquez-en un" in refused.json()["detail"]
    page = await post_form(client, "/compte/jetons", {"name": "de trop"})
    assert page.status_code == 409 and "révoquez" in page.text
    last = await ApiToken.select(ApiToken.id).order_by(ApiToken.id, ascending=False).first()
    await client.delete(f"/api/v1/tokens/{last['id']}", headers=bearer)
    assert (await client.post("/api/v1/tokens", json={"name": "remplaçant"}, headers=bearer)).status_code == 201


# ---------------------------------------------------------------- 2. throttling that cannot be turned against a user
async def test_a_strangers_failures_do_not_lock_the_owner_out_from_another_network(client, app, rt, settings):
    owner = await make_person(rt, "camille@reseau.example.fr")
    async with client_from(app, "203.0.113.7") as stranger:
        await stranger.get("/connexion")
        for _ in range(settings.login_max_failures):
            failed = await post_form(stranger, "/connexion", {"email": owner.email, "password": WRONG})
            assert failed.status_code == 400
        locked = await post_form(stranger, "/connexion", {"email": owner.email, "password": PASSWORD})
        assert locked.status_code == 429 and "Trop de tentatives" in locked.text
    await sign_in(client, owner)  # from 127.0.0.1: straight in
    locks = await JournalEntry.select().where(JournalEntry.action == "sign_in_locked")
    assert [(e["object_id"], e["details"]) for e in locks] == [(str(owner.id), '{"scope":"account-source"}')]


async def test_concurrent_wrong_tries_are_counted_one_by_one(client, rt, settings):
    person = await make_person(rt, "sophie@caf.example.fr")
    await client.get("/connexion")
    answers = await asyncio.gather(
        *(post_form(client, "/connexion", {"email": person.email, "password": WRONG}) for _ in range(40))
    )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {400: settings.login_max_failures, 429: 40 - settings.login_max_failures}
    key = rt.secrets.keyed_hash(f"account-source:{person.email}|127.0.0.1")
    row = await SignInThrottle.select().where(SignInThrottle.key_hash == key).first()
    assert row["failures"] == settings.login_max_failures


async def test_an_account_tried_from_many_places_slows_down_but_never_locks(client, rt, settings):
    person = await make_person(rt, "camille@reseau.example.fr")
    for n in range(settings.login_slowdown_after):  # a guesser spread over many addresses
        with pytest.raises(Invalid):
            await sessions.login(rt, person.email, WRONG, f"198.51.100.{n}")
    for wait in (1, 2, 4, 8):  # each further try waits twice as long after the previous failure
        with pytest.raises(TooManyRequests) as refused:
            await sessions.login(rt, person.email, PASSWORD, "192.0.2.1")
        assert refused.value.retry_after == wait
        rt.advance_clock(timedelta(seconds=wait))
        with pytest.raises(Invalid):
            await sessions.login(rt, person.email, WRONG, f"192.0.2.{100 + wait}")
    rt.advance_clock(timedelta(seconds=16))
    token, actor = await sessions.login(rt, person.email, PASSWORD, "192.0.2.1")  # the owner gets in
    assert token and actor.user_id == person.id
    for n in range(settings.login_slowdown_after):  # and the account starts afresh
        with pytest.raises(Invalid):
            await sessions.login(rt, person.email, WRONG, f"198.51.100.{n}")
    slowed = await JournalEntry.select().where(JournalEntry.action == "sign_in_slowed")
    assert slowed and all(e["object_id"] == str(person.id) and "@" not in e["details"] for e in slowed)


async def test_the_owners_usual_browser_is_never_slowed_down_by_guessers(client, app, rt, settings):
    owner = await make_person(rt, "camille@reseau.example.fr")
    await sign_in(client, owner)  # this browser now knows the account: a signed device cookie
    device = client.cookies.get("maillage_device")
    assert device and rt.secrets.device_nonce(device, owner.email)
    assert not rt.secrets.device_nonce(device, "autre@reseau.example.fr")  # bound to its account
    await post_form(client, "/deconnexion")
    for n in range(settings.login_slowdown_after):  # guessers on many networks: the account slows down
        with pytest.raises(Invalid):
            await sessions.login(rt, owner.email, WRONG, f"198.51.100.{n}")
    async with client_from(app, "192.0.2.50") as new_browser:
        await new_browser.get("/connexion")
        told_to_wait = await post_form(new_browser, "/connexion", {"email": owner.email, "password": PASSWORD})
        assert told_to_wait.status_code == 429
    await sign_in(client, owner)  # the usual browser, on any network: straight in
    with pytest.raises(TooManyRequests):  # a forged cookie is no cookie: the account is still slowed down
        await sessions.login(rt, owner.email, PASSWORD, "192.0.2.51", device.split(".")[0] + ".0")


async def test_the_slowdown_never_exceeds_its_cap(client, rt, settings):
    person = await make_person(rt, "camille@reseau.example.fr")
    cap = settings.login_max_delay_seconds
    for n in range(settings.login_slowdown_after + 12):
        with pytest.raises(Invalid):
            await sessions.login(rt, person.email, WRONG, f"198.51.100.{n}")
        rt.advance_clock(timedelta(seconds=cap))
    rt.advance_clock(timedelta(seconds=-cap))
    with pytest.raises(TooManyRequests) as refused:
        await sessions.login(rt, person.email, PASSWORD, "192.0.2.1")
    assert refused.value.retry_after == cap


async def test_the_invitation_forms_password_check_is_throttled(client, rt, inbox, settings):
    a, b = await make_structure("Structure A"), await make_structure("Structure B")
    manager = await make_person(rt, "nadia@a.example.fr", {a: ["manager"]})
    member = await make_person(rt, "tom@b.example.fr", {b: ["prescriber"]})
    await sign_in(client, manager)
    await post_form(client, f"/structures/{a}/invitations", {"email": member.email, "role": "prescriber"})
    await _deliver(rt, inbox)
    link = inbox.link(inbox.to(member.email)[0], "/invitation/")
    await post_form(client, "/deconnexion")
    for _ in range(settings.login_max_failures):
        assert (await post_form(client, link, {"password": WRONG})).status_code == 400
    refused = await post_form(client, link, {"password": PASSWORD})
    assert refused.status_code == 429
    assert not await Membership.exists().where((Membership.user == member.id) & (Membership.structure == a))


async def _deliver(rt: Runtime, inbox: Inbox) -> None:
    await jobs.tick(rt)


async def _post_reset_watching_the_answer(app: Litestar, client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """POST the reset form as raw ASGI, noting what the database holds when the answer's last byte is sent."""
    await client.get("/mot-de-passe-oublie")
    csrf = client.cookies["maillage_csrf"]
    body = urlencode({"email": email, "_csrf_token": csrf}).encode()
    seen: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            seen["links_when_answered"] = await AccessLink.count()
            seen["mails_when_answered"] = await OutboxMessage.count()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mot-de-passe-oublie",
        "raw_path": b"/mot-de-passe-oublie",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver.local"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"maillage_csrf={csrf}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
    }
    await app(scope, receive, send)
    return seen


async def test_a_reset_request_is_answered_before_the_address_is_even_looked_up(client, app, rt):
    """The answer cannot take longer for an address with an account: its work starts once the answer has gone."""
    person = await make_person(rt, "sophie@caf.example.fr")
    unknown = await _post_reset_watching_the_answer(app, client, "personne@nulle-part.example.fr")
    known = await _post_reset_watching_the_answer(app, client, person.email)
    assert unknown["status"] == known["status"] == 302
    assert known["links_when_answered"] == known["mails_when_answered"] == 0
    assert await AccessLink.count() == 1 and await OutboxMessage.count() == 1  # then the link went out
    assert (await AccessLink.select(AccessLink.email).first())["email"] == person.email


# ---------------------------------------------------------------- 3. Argon2 off the event loop
async def test_password_checks_leave_the_event_loop_free(client, rt):
    person = await make_person(rt, "sophie@caf.example.fr")
    real = Secrets(TEST_SECRET, argon2_time_cost=3, argon2_memory_cost=65536)  # the production cost
    await User.update({User.password_hash: real.hash_password(PASSWORD)}).where(User.id == person.id)
    started = time.perf_counter()
    real.verify_password(real.hash_password(PASSWORD), PASSWORD)
    one_check = time.perf_counter() - started
    assert one_check > 0.02, "the check must cost something for this test to mean anything"

    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.gather(*(sessions.login(rt, person.email, PASSWORD, f"192.0.2.{n}") for n in range(4)))
    stop.set()
    await ticking
    # On the loop, each check would stop every other request for its whole length.
    assert max(gaps) < one_check / 2, (max(gaps), one_check)


# ---------------------------------------------------------------- 10. the demo's secrets, the enrolment
async def test_demo_totp_secrets_are_drawn_per_install(tmp_path):
    runs = []
    for n in (1, 2):
        url = f"sqlite:///{tmp_path / f'demo{n}.sqlite3'}"
        seeded = await asyncio.to_thread(maillage, "demo", database_url=url, var_dir=tmp_path)
        assert seeded.returncode == 0, seeded.stderr
        keys = dict(re.findall(r"^  (\S+@\S+) .*\n    clé TOTP : ([A-Z2-7]+)", seeded.stdout, re.M))
        assert set(keys) == {user.email for user in demo.USERS if user.needs_totp}
        runs.append((url, keys))
    (url, first), (_, second) = runs
    assert all(first[email] != second[email] for email in first), "two installs, two secrets"
    email = "coordination@demo.maillage.fr"
    shown = await asyncio.to_thread(maillage, "demo", "--code", email, database_url=url, var_dir=tmp_path)
    assert shown.returncode == 0, shown.stderr
    totp = pyotp.TOTP(first[email])
    assert shown.stdout.strip() in {totp.now(), totp.at(time.time() - 30)}  # the step may turn meanwhile


async def test_the_first_required_enrolment_asks_for_the_password_again(client, rt):
    sid = await make_structure()
    aidant = await make_person(rt, "julien@fs.example.fr", {sid: ["aidant"]}, enrolled=False)
    form = await post_form(client, "/connexion", {"email": aidant.email, "password": PASSWORD})
    assert form.url.path == "/compte/double-authentification"
    assert 'name="password"' in form.text and 'autocomplete="current-password"' in form.text
    sealed = (await User.select(User.totp_secret).where(User.id == aidant.id).first())["totp_secret"]
    totp = pyotp.TOTP(rt.secrets.unseal(sealed))

    for password in ("", WRONG):
        refused = await post_form(client, "/compte/double-authentification", {"code": totp.now(), "password": password})
        assert refused.status_code == 400 and "Mot de passe incorrect" in refused.text
        assert not (await User.select(User.totp_enabled).where(User.id == aidant.id).first())["totp_enabled"]
    done = await post_form(client, "/compte/double-authentification", {"code": totp.now(), "password": PASSWORD})
    assert "Vos codes de secours" in done.text


async def test_settings_of_the_hardening_are_read_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "MAILLAGE_VAR_DIR": str(tmp_path),
            "MAILLAGE_SECRET_KEY": "k",
            "MAILLAGE_LOGIN_SLOWDOWN_AFTER": "7",
            "MAILLAGE_LOGIN_MAX_DELAY": "30",
            "MAILLAGE_PASSWORD_HASH_THREADS": "3",
            "MAILLAGE_API_TOKENS_MAX": "4",
        }
    )
    assert (settings.login_slowdown_after, settings.login_max_delay_seconds) == (7, 30)
    assert (settings.password_hash_threads, settings.api_tokens_max) == (3, 4)
