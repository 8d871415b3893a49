"""Accounts: sign-in, throttling, two-factor, sessions, invitations, password reset, API tokens."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyotp

from hub import jobs
from hub.tables import AccessLink, ApiToken, JournalEntry, Membership, OutboxMessage, User, WebSession
from tests.conftest import PASSWORD, make_person, make_structure, post_form, sign_in


async def _deliver(rt) -> None:
    report = await jobs.tick(rt)
    assert report.mails_postponed == 0


# ---------------------------------------------------------------- sign-in and throttling
async def test_wrong_password_gets_a_french_message_and_no_session(client, rt):
    await make_person(rt, "sophie@caf.example.fr")
    response = await post_form(
        client, "/connexion", {"email": "sophie@caf.example.fr", "password": "pas le bon mot de passe"}
    )
    assert response.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in response.text
    assert await WebSession.count() == 0


async def test_repeated_failures_are_throttled_with_429_even_for_the_right_password(client, rt, settings):
    person = await make_person(rt, "sophie@caf.example.fr")
    for _ in range(settings.login_max_failures):
        response = await post_form(client, "/connexion", {"email": person.email, "password": "mauvais mot de passe"})
        assert response.status_code == 400
    response = await post_form(client, "/connexion", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text
    assert int(response.headers["retry-after"]) > 0
    rt.advance_clock(timedelta(minutes=settings.login_window_minutes + 1))
    response = await post_form(client, "/connexion", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 200 and response.url.path == "/"


async def test_session_cookie_is_http_only_and_same_site(client, rt):
    person = await make_person(rt, "sophie@caf.example.fr")
    await client.get("/connexion")
    response = await post_form(client, "/connexion", {"email": person.email, "password": PASSWORD})
    set_cookie = response.history[0].headers["set-cookie"].lower()
    assert "maillage_session=" in set_cookie and "httponly" in set_cookie and "samesite=lax" in set_cookie


async def test_form_without_csrf_token_is_refused_and_writes_nothing(client, rt):
    person = await make_person(rt, "sophie@caf.example.fr")
    await client.get("/connexion")
    response = await client.post("/connexion", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.text
    assert await WebSession.count() == 0


async def test_next_parameter_cannot_redirect_off_site(client, rt):
    person = await make_person(rt, "sophie@caf.example.fr")
    await client.get("/connexion")
    response = await post_form(
        client, "/connexion", {"email": person.email, "password": PASSWORD, "suivant": "//evil.example"}
    )
    assert response.history[0].headers["location"] == "/"


async def test_idle_session_expires(client, rt, settings):
    person = await make_person(rt, "sophie@caf.example.fr")
    await sign_in(client, person)
    assert (await client.get("/compte")).url.path == "/compte"
    rt.advance_clock(timedelta(minutes=settings.session_idle_minutes + 1))
    response = await client.get("/compte")
    assert response.url.path == "/connexion"
    assert await WebSession.count() == 0


async def test_logout_ends_the_session(client, rt):
    person = await make_person(rt, "sophie@caf.example.fr")
    await sign_in(client, person)
    response = await post_form(client, "/deconnexion")
    assert "Vous êtes déconnecté." in response.text
    assert await WebSession.count() == 0
    assert (await client.get("/compte")).url.path == "/connexion"


# ---------------------------------------------------------------- two-factor
async def test_manager_must_pass_totp_before_reaching_any_page(client, rt):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@ccas.example.fr", {sid: ["manager"]})
    response = await post_form(client, "/connexion", {"email": manager.email, "password": PASSWORD})
    assert response.url.path == "/connexion/code"
    assert (await client.get(f"/structures/{sid}/membres")).url.path == "/connexion/code"
    wrong = await post_form(client, "/connexion/code", {"code": "000000"})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.text
    ok = await post_form(client, "/connexion/code", {"code": pyotp.TOTP(manager.totp_secret).now()})
    assert ok.url.path == "/"
    assert (await client.get(f"/structures/{sid}/membres")).status_code == 200


async def test_a_totp_code_cannot_be_replayed(client, app, rt):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@ccas.example.fr", {sid: ["manager"]})
    code = pyotp.TOTP(manager.totp_secret).now()
    await post_form(client, "/connexion", {"email": manager.email, "password": PASSWORD})
    assert (await post_form(client, "/connexion/code", {"code": code})).url.path == "/"
    await post_form(client, "/deconnexion")
    await post_form(client, "/connexion", {"email": manager.email, "password": PASSWORD})
    replay = await post_form(client, "/connexion/code", {"code": code})
    assert replay.status_code == 400 and "déjà utilisé" in replay.text


async def test_enrolment_is_required_then_recovery_codes_work_once(client, rt):
    sid = await make_structure()
    aidant = await make_person(rt, "julien@fs.example.fr", {sid: ["aidant"]}, enrolled=False)
    response = await post_form(client, "/connexion", {"email": aidant.email, "password": PASSWORD})
    assert response.url.path == "/compte/double-authentification"
    assert "<svg" in response.text  # the QR code, inline
    secret = (await User.select(User.totp_secret).where(User.id == aidant.id).first())["totp_secret"]
    secret = rt.secrets.unseal(secret)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))  # shown in groups of 4 to copy by hand
    assert secret and grouped in response.text
    done = await post_form(
        client, "/compte/double-authentification", {"code": pyotp.TOTP(secret).now(), "password": PASSWORD}
    )
    assert "Vos codes de secours" in done.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    assert (await client.get("/compte")).status_code == 200
    assert await JournalEntry.count().where(JournalEntry.action == "mfa_enabled") == 1

    await post_form(client, "/deconnexion")
    await post_form(client, "/connexion", {"email": aidant.email, "password": PASSWORD})
    assert (await post_form(client, "/connexion/code", {"code": codes[0].upper()})).url.path == "/"
    await post_form(client, "/deconnexion")
    await post_form(client, "/connexion", {"email": aidant.email, "password": PASSWORD})
    assert (await post_form(client, "/connexion/code", {"code": codes[0]})).status_code == 400


async def test_prescriber_needs_no_second_factor(client, rt):
    sid = await make_structure()
    prescriber = await make_person(rt, "sophie@caf.example.fr", {sid: ["prescriber"]})
    assert prescriber.totp_secret is None
    response = await post_form(client, "/connexion", {"email": prescriber.email, "password": PASSWORD})
    assert response.url.path == "/" and "Bonjour" in response.text


# ---------------------------------------------------------------- invitations
async def test_invitation_by_mail_creates_the_account_and_the_role(client, rt, inbox):
    sid = await make_structure("CCAS de Montclair", "CCAS")
    manager = await make_person(rt, "nadia@ccas.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    response = await post_form(
        client, f"/structures/{sid}/invitations", {"email": "Lea.Roux@Ccas.Example.fr", "role": "aidant"}
    )
    assert "Invitation envoyée" in response.text
    await _deliver(rt)
    [mail] = inbox.to("lea.roux@ccas.example.fr")
    assert "lea" not in mail["Subject"].lower() and "CCAS" not in mail["Subject"]  # no personal data in subjects
    link = inbox.link(mail, "/invitation/")

    await post_form(client, "/deconnexion")
    form = await client.get(link)
    assert "Rejoindre CCAS de Montclair" in form.text
    response = await post_form(client, link, {"full_name": "Léa Roux", "password": "une phrase de passe longue"})
    assert "Bienvenue" in response.text
    user = await User.select().where(User.email == "lea.roux@ccas.example.fr").first()
    assert user["full_name"] == "Léa Roux"
    assert await Membership.exists().where((Membership.user == user["id"]) & (Membership.role == "aidant"))
    actions = [r["action"] for r in await JournalEntry.select(JournalEntry.action)]
    assert {"invitation_sent", "user_created", "role_granted"} <= set(actions)

    reused = await client.get(link)
    assert reused.status_code == 410 and "déjà servi" in reused.text


async def test_expired_invitation_is_refused(client, rt, inbox):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@ccas.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    await post_form(client, f"/structures/{sid}/invitations", {"email": "lea@ccas.example.fr", "role": "prescriber"})
    await _deliver(rt)
    link = inbox.link(inbox.to("lea@ccas.example.fr")[0], "/invitation/")
    rt.advance_clock(timedelta(days=8))
    response = await client.get(link)
    assert response.status_code == 410 and "expiré" in response.text


async def test_existing_user_joins_with_their_password(client, rt, inbox):
    a, b = await make_structure("Structure A"), await make_structure("Structure B")
    manager = await make_person(rt, "nadia@a.example.fr", {a: ["manager"]})
    member = await make_person(rt, "tom@b.example.fr", {b: ["prescriber"]})
    await sign_in(client, manager)
    await post_form(client, f"/structures/{a}/invitations", {"email": member.email, "role": "prescriber"})
    await _deliver(rt)
    link = inbox.link(inbox.to(member.email)[0], "/invitation/")
    await post_form(client, "/deconnexion")
    wrong = await post_form(client, link, {"password": "pas son mot de passe"})
    assert wrong.status_code == 400
    assert not await Membership.exists().where((Membership.user == member.id) & (Membership.structure == a))
    await post_form(client, link, {"password": PASSWORD})
    assert await Membership.exists().where((Membership.user == member.id) & (Membership.structure == a))


async def test_manager_cannot_invite_into_another_structure(client, rt):
    a, b = await make_structure("Structure A"), await make_structure("Structure B")
    manager = await make_person(rt, "nadia@a.example.fr", {a: ["manager"]})
    await sign_in(client, manager)
    response = await post_form(client, f"/structures/{b}/invitations", {"email": "x@b.example.fr", "role": "aidant"})
    assert response.status_code == 403
    assert await AccessLink.count() == 0 and await OutboxMessage.count() == 0


async def test_last_manager_cannot_be_removed(client, rt):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@ccas.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    membership = await Membership.select(Membership.id).where(Membership.user == manager.id).first()
    response = await post_form(client, f"/structures/{sid}/membres/{membership['id']}/retirer")
    assert response.status_code == 409 and "au moins un référent" in response.text
    assert "Membres de" in response.text and 'href="#membres"' in response.text  # the members page, saying why
    assert await Membership.count() == 1


# ---------------------------------------------------------------- password reset
async def test_password_reset_by_mail_closes_other_sessions(client, rt, inbox):
    person = await make_person(rt, "sophie@caf.example.fr")
    await sign_in(client, person)
    assert await WebSession.count() == 1
    await post_form(client, "/deconnexion")
    await sign_in(client, person)
    response = await post_form(client, "/mot-de-passe-oublie", {"email": "sophie@caf.example.fr"})
    assert "Si un compte existe" in response.text
    await _deliver(rt)
    link = inbox.link(inbox.to(person.email)[0], "/mot-de-passe/")
    mismatch = await post_form(
        client, link, {"password": "nouveau mot de passe", "password_confirm": "autre chose encore"}
    )
    assert mismatch.status_code == 400 and "pas identiques" in mismatch.text
    done = await post_form(
        client, link, {"password": "nouveau mot de passe", "password_confirm": "nouveau mot de passe"}
    )
    assert "Votre mot de passe a été changé" in done.text
    assert await WebSession.count() == 0
    assert (await client.get(link)).status_code == 410
    person.password = "nouveau mot de passe"
    await sign_in(client, person)


async def test_reset_for_unknown_address_answers_the_same_and_sends_nothing(client, rt, inbox):
    response = await post_form(client, "/mot-de-passe-oublie", {"email": "personne@nulle-part.example.fr"})
    assert "Si un compte existe" in response.text
    assert await OutboxMessage.count() == 0


# ---------------------------------------------------------------- API tokens
async def test_personal_token_acts_for_its_owner_until_revoked(client, rt):
    sid = await make_structure()
    prescriber = await make_person(rt, "sophie@caf.example.fr", {sid: ["prescriber"]})
    await sign_in(client, prescriber)
    page = await post_form(client, "/compte/jetons", {"name": "Tableur de suivi"})
    token = page.text.split('<code class="secret">')[1].split("</code>")[0]
    assert token.startswith("mlg_")
    stored = await ApiToken.select().first()
    assert token not in str(stored) and stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == prescriber.email
    assert me.json()["memberships"] == [{"structure_id": sid, "roles": ["prescriber"]}]
    assert "Tableur de suivi" in (await client.get("/compte")).text
    assert token not in (await client.get("/compte")).text  # shown once only

    token_id = (await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})).json()[0]["id"]
    await post_form(client, f"/compte/jetons/{token_id}/revoquer")
    again = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_api_ignores_session_cookies(client, rt):
    person = await make_person(rt, "sophie@caf.example.fr")
    await sign_in(client, person)
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
