"""Bad input is refused in French, names what to fix, writes nothing, and is never a 500.

API: a 4xx application/problem+json whose `detail` is French and whose `errors` name every faulty field.
Pages: a 400 in French (the form again with its messages, or the error page listing them).
Every case counts the rows of the tables a request could write, before and after.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from typing import Any

import httpx
import pytest

from hub import accounts, invitations
from hub.runtime import Runtime
from hub.tables import AccessLink, ApiToken, JournalEntry, LoginFailure, Membership, OutboxMessage, User, WebSession
from network.tables import Place, Service, Structure
from tests.conftest import csrf_token, make_person, make_structure, sign_in

TABLES = (
    AccessLink,
    ApiToken,
    JournalEntry,
    LoginFailure,
    Membership,
    OutboxMessage,
    User,
    WebSession,
    Structure,
    Service,
    Place,
)
# What msgspec and Litestar say before hub.web translates it: none of it may reach a reader.
ENGLISH = re.compile(r"Expected|Object |missing|malformed|Validation failed|Bad Request|Internal|\$\.|`")
BIG = 10**30


async def row_counts() -> dict[str, int]:
    query = ", ".join(f"(SELECT count(*) FROM {t._meta.tablename}) AS {t._meta.tablename}" for t in TABLES)
    rows = await User.raw(f"SELECT {query}")
    return dict(rows[0])


def french_problem(response: httpx.Response, status: int, fields: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["instance"] == response.request.url.path
    assert problem["detail"] and not ENGLISH.search(problem["detail"]), problem["detail"]
    named = {error["field"] for error in problem.get("errors", [])}
    assert fields <= named, f"expected errors on {fields}, got {problem.get('errors')}"
    for error in problem.get("errors", []):
        assert error["message"] and not ENGLISH.search(error["message"]), error
    return problem


def french_page(response: httpx.Response, *messages: str) -> str:
    assert response.status_code == 400, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    text = html.unescape(response.text)
    assert '<html lang="fr">' in text
    assert not ENGLISH.search(re.sub(r"<script.*?</script>|<style.*?</style>", "", text, flags=re.S)), text
    for message in messages:
        assert message in text, f"{message!r} not on the page"
    return text


async def each(cases: list[Any], check: Any) -> None:
    """Run every case on the same database (bad input writes nothing, which each case asserts) and report all."""
    failures = []
    for case in cases:
        try:
            await check(*case.values)
        except AssertionError as error:
            failures.append(f"[{case.id}] {str(error).splitlines()[0]}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)


@dataclasses.dataclass
class Setting:
    a: int
    manager: dict[str, str]  # API headers
    coordinator: dict[str, str]


@pytest.fixture
async def setting(rt: Runtime) -> Setting:
    a = await make_structure()
    manager = await make_person(rt, "maud.referente@tilleuls.example.fr", {a: ["manager"]})
    coordinator = await make_person(rt, "claire.coordinatrice@reseau.example.fr", coordinator=True)
    headers = {}
    for role, person in (("manager", manager), ("coordinator", coordinator)):
        _, token = await accounts.create_api_token(rt, await accounts.actor_for_user(person.id), role)
        headers[role] = {"Authorization": f"Bearer {token}"}
    return Setting(a, headers["manager"], headers["coordinator"])


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


OK_INVITATION = {"email": "nouvelle@exemple.fr", "role": "aidant"}
INVITATION_BODIES = [
    pytest.param(b'{"email": "nouvelle@exemple.fr", ', {"body"}, id="malformed-json"),
    pytest.param(b"\xff\xfe{}", {"body"}, id="not-utf8"),
    pytest.param(b"", {"body"}, id="empty-body"),
    pytest.param(b"[]", {"body"}, id="array-not-object"),
    pytest.param(b"null", {"body"}, id="null"),
    pytest.param(b'"nouvelle@exemple.fr"', {"body"}, id="bare-string"),
    pytest.param(_json({}), {"email", "role"}, id="missing-fields"),
    pytest.param(_json({"email": 5, "role": True}), {"email", "role"}, id="wrong-types"),
    pytest.param(_json({**OK_INVITATION, "is_admin": True}), {"is_admin"}, id="unknown-field"),
    pytest.param(_json({"email": 5, "role": "chef", "extra": 1}), {"email", "role", "extra"}, id="all-wrong-at-once"),
    pytest.param(_json({"email": "a" * 250 + "@exemple.fr", "role": "aidant"}), {"email"}, id="over-long-email"),
    pytest.param(_json({"email": "pas-un-email", "role": "aidant"}), {"email"}, id="email-without-at"),
    pytest.param(_json({"email": "nadia @exemple.fr", "role": "aidant"}), {"email"}, id="email-with-space"),
    pytest.param(_json({"email": "nadia@exemple", "role": "aidant"}), {"email"}, id="email-without-dot"),
    pytest.param(_json({"email": "nadia\u0000@exemple.fr", "role": "aidant"}), {"email"}, id="email-with-nul"),
    pytest.param(_json({"email": "nadia@exemple.fr\n", "role": "aidant"}), {"email"}, id="email-with-newline"),
    pytest.param(_json({"email": "nouvelle@exemple.fr", "role": "chef"}), {"role"}, id="unknown-role"),
    pytest.param(_json({"email": ["nouvelle@exemple.fr"], "role": "aidant"}), {"email"}, id="list-for-string"),
]


async def test_bad_invitation_body_is_refused_field_by_field(client: httpx.AsyncClient, setting: Setting) -> None:
    async def check(body: bytes, fields: set[str]) -> None:
        before = await row_counts()
        response = await client.post(
            f"/api/v1/structures/{setting.a}/invitations",
            content=body,
            headers={**setting.manager, "Content-Type": "application/json"},
        )
        problem = french_problem(response, 400, fields)
        assert problem["detail"].startswith(("Les données envoyées", "Adresse e-mail"))
        assert await row_counts() == before

    await each(INVITATION_BODIES, check)


TOKEN_BODIES = [
    pytest.param({"name": "x" * 81}, {"name"}, id="over-long"),
    pytest.param({"name": ""}, {"name"}, id="empty"),
    pytest.param({"name": "   "}, {"name"}, id="blank"),
    pytest.param({"name": "\u3000\u00a0"}, {"name"}, id="unicode-blank"),
    pytest.param({"name": "Script\u0000"}, {"name"}, id="nul"),
    pytest.param({"name": "Script\u0085"}, {"name"}, id="c1-control"),
    pytest.param({"name": 12}, {"name"}, id="number"),
    pytest.param({"name": None}, {"name"}, id="null"),
    pytest.param({}, {"name"}, id="missing"),
    pytest.param({"name": "Script", "scopes": ["admin"]}, {"scopes"}, id="unknown-field"),
]


async def test_bad_token_body_is_refused(client: httpx.AsyncClient, setting: Setting) -> None:
    async def check(body: dict[str, Any], fields: set[str]) -> None:
        before = await row_counts()
        response = await client.post("/api/v1/tokens", json=body, headers=setting.manager)
        french_problem(response, 400, fields)
        assert await row_counts() == before

    await each(TOKEN_BODIES, check)


async def test_unicode_names_and_json_media_types_are_accepted(client: httpx.AsyncClient, setting: Setting) -> None:
    """The guards above must not over-reject: accents, emoji, and application/json with a charset pass."""
    response = await client.post(
        "/api/v1/tokens",
        content=_json({"name": "Équipe numérique 🚀"}),
        headers={**setting.manager, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201 and response.json()["name"] == "Équipe numérique 🚀"


OTHER_FORMATS = [
    pytest.param("application/x-www-form-urlencoded", b"email=nouvelle%40exemple.fr&role=aidant", id="form"),
    pytest.param("text/plain", _json(OK_INVITATION), id="text"),
    pytest.param(
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.fr\r\n--x--',
        id="multipart",
    ),
    pytest.param(None, _json(OK_INVITATION), id="no-content-type"),
]


async def test_body_in_another_format_is_415(client: httpx.AsyncClient, setting: Setting) -> None:
    async def check(content_type: str | None, body: bytes) -> None:
        before = await row_counts()
        headers = {**setting.manager, **({"Content-Type": content_type} if content_type else {})}
        response = await client.post(f"/api/v1/structures/{setting.a}/invitations", content=body, headers=headers)
        problem = french_problem(response, 415)
        assert "JSON" in problem["detail"]
        assert await row_counts() == before

    await each(OTHER_FORMATS, check)


BAD_LOCATIONS = [
    pytest.param(*case, id=f"{case[0]} {case[1]}")
    for case in [
        ("GET", "/api/v1/structures/0/members", 400, {"structure_id"}),
        ("GET", "/api/v1/structures/-5/members", 400, {"structure_id"}),
        ("GET", "/api/v1/structures/2147483648/members", 400, {"structure_id"}),
        ("GET", f"/api/v1/structures/{BIG}/members", 400, {"structure_id"}),
        ("GET", "/api/v1/structures/abc/members", 404, set()),
        ("GET", "/api/v1/structures/1.5/members", 404, set()),
        ("POST", f"/api/v1/structures/{BIG}/invitations", 400, {"structure_id"}),
        ("DELETE", "/api/v1/tokens/0", 400, {"token_id"}),
        ("DELETE", f"/api/v1/tokens/{BIG}", 400, {"token_id"}),
        ("DELETE", f"/api/v1/memberships/{2**40}", 400, {"membership_id"}),
        ("GET", "/api/v1/journal?limit=0", 400, {"limit"}),
        ("GET", "/api/v1/journal?limit=201", 400, {"limit"}),
        ("GET", "/api/v1/journal?limit=dix", 400, {"limit"}),
        ("GET", "/api/v1/journal?limit=", 400, {"limit"}),
        ("GET", "/api/v1/journal?before=0", 400, {"before"}),
        ("GET", f"/api/v1/journal?before={BIG}", 400, {"before"}),
        ("GET", "/api/v1/journal?limit=0&before=hier", 400, {"limit", "before"}),
        ("PUT", "/api/v1/me", 405, set()),
        ("GET", "/api/v1/inconnu", 404, set()),
    ]
]


async def test_bad_ids_and_query_values_are_4xx_problems(client: httpx.AsyncClient, setting: Setting) -> None:
    async def check(method: str, path: str, status: int, fields: set[str]) -> None:
        before = await row_counts()
        body = OK_INVITATION if method == "POST" else None
        response = await client.request(method, path, json=body, headers=setting.coordinator)
        french_problem(response, status, fields)
        assert await row_counts() == before

    await each(BAD_LOCATIONS, check)


# ---------------------------------------------------------------- pages
@dataclasses.dataclass
class Browser:
    client: httpx.AsyncClient
    a: int

    async def post(self, path: str, data: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            path, data={**data, "_csrf_token": csrf_token(self.client)}, follow_redirects=False
        )


@pytest.fixture
async def browser(client: httpx.AsyncClient, rt: Runtime) -> Browser:
    """A manager of A who is also coordinator and admin: every page is within reach, only the input is wrong."""
    a = await make_structure()
    person = await make_person(rt, "maud.referente@tilleuls.example.fr", {a: ["manager"]}, coordinator=True, admin=True)
    await sign_in(client, person)
    return Browser(client, a)


TOO_LONG = "x" * 201
ADDRESS_TOO_LONG = "x" * 64 + "@" + "x" * 187 + ".fr"  # 255: one more than hub.accounts.MAX_EMAIL


INVITATION_FORMS = [
    pytest.param({"email": "pas-un-email", "role": "aidant"}, ["adresse e-mail valide"], id="bad-email"),
    pytest.param({"email": "nouvelle@exemple.fr", "role": "chef"}, ["Choisissez"], id="unknown-role"),
    pytest.param({"email": "", "role": "aidant"}, ["adresse e-mail valide"], id="empty-email"),
    pytest.param({"email": ADDRESS_TOO_LONG, "role": "aidant"}, ["254 caractères au plus"], id="over-long"),
    pytest.param({"email": "x" * 401 + "@exemple.fr", "role": "aidant"}, ["Texte trop long"], id="past-hard-cap"),
    pytest.param({"email": "nadia\x00@exemple.fr", "role": "aidant"}, ["Caractères non autorisés"], id="nul"),
    pytest.param({"email": ["a@exemple.fr", "b@exemple.fr"], "role": "aidant"}, ["Type invalide"], id="twice"),
]


async def test_bad_invitation_form_is_400_in_french(browser: Browser) -> None:
    async def check(data: dict[str, Any], messages: list[str]) -> None:
        before = await row_counts()
        response = await browser.post(f"/structures/{browser.a}/invitations", data)
        french_page(response, *messages)
        assert await row_counts() == before

    await each(INVITATION_FORMS, check)


ACCOUNT_FORMS = [
    pytest.param("/compte/jetons", {"name": ""}, ["Donnez un nom"], id="token-empty"),
    pytest.param("/compte/jetons", {"name": TOO_LONG}, ["Texte trop long"], id="token-over-long"),
    pytest.param("/compte/jetons", {"name": "Tableur\x00"}, ["Caractères non autorisés"], id="token-nul"),
    pytest.param(
        "/compte/mot-de-passe",
        {"current_password": "un mot de passe solide", "new_password": "court"},
        ["au moins 12 caractères"],
        id="weak-new-password",
    ),
    pytest.param(
        "/compte/mot-de-passe",
        {"current_password": "pas le bon", "new_password": "un tout autre mot de passe"},
        ["Mot de passe actuel incorrect"],
        id="wrong-current-password",
    ),
]


async def test_bad_account_forms_are_400_in_french(browser: Browser) -> None:
    async def check(path: str, data: dict[str, Any], messages: list[str]) -> None:
        before = await row_counts()
        french_page(await browser.post(path, data), *messages)
        assert await row_counts() == before

    await each(ACCOUNT_FORMS, check)


SIGN_IN_FORMS = [
    pytest.param({"email": "nadia\x00@exemple.fr", "password": "x"}, ["Caractères non autorisés"], id="nul-email"),
    pytest.param({"email": "x" * 401, "password": "x"}, ["Texte trop long"], id="over-long-email"),
    pytest.param({"email": "nadia@exemple.fr", "password": "x" * 129}, ["Texte trop long"], id="over-long-password"),
    pytest.param({"email": "nadia@exemple.fr", "password": "x", "suivant": "/\x00"}, ["Caractères"], id="nul-next"),
]
RESET_FORMS = [
    pytest.param({"email": "pas-un-email"}, ["adresse e-mail valide"], id="reset-bad-email"),
    pytest.param({"email": "nadia\x00@exemple.fr"}, ["Caractères non autorisés"], id="reset-nul"),
    pytest.param({"email": ADDRESS_TOO_LONG}, ["254 caractères au plus"], id="reset-over-long"),
    pytest.param({"email": "x" * 401}, ["Texte trop long"], id="reset-past-hard-cap"),
]


async def test_bad_sign_in_and_reset_forms_are_400_and_write_nothing(client: httpx.AsyncClient) -> None:
    """No login failure is counted, no reset link is sent: the input never reached the service."""
    await client.get("/connexion")

    def check_at(path: str) -> Any:
        async def check(data: dict[str, Any], messages: list[str]) -> None:
            before = await row_counts()
            response = await client.post(path, data={**data, "_csrf_token": csrf_token(client)})
            french_page(response, *messages)
            assert await row_counts() == before

        return check

    await each(SIGN_IN_FORMS, check_at("/connexion"))
    await each(RESET_FORMS, check_at("/mot-de-passe-oublie"))


async def _invitation_token(rt: Runtime, structure_id: int, inviter_id: int) -> str:
    await invitations.invite(
        rt, await accounts.actor_for_user(inviter_id), structure_id, "nouvelle@exemple.fr", "aidant"
    )
    body = (await OutboxMessage.select(OutboxMessage.body_text).first())["body_text"]
    match = re.search(r"/invitation/([\w-]+)", body)
    assert match, body
    return match.group(1)


ACCEPTANCE_FORMS = [
    pytest.param({"full_name": "", "password": "un mot de passe solide"}, ["entre 2 et 120"], id="no-name"),
    pytest.param({"full_name": "Nouvelle Personne", "password": "court"}, ["au moins 12"], id="short-password"),
    pytest.param({"full_name": "Nou\x00velle", "password": "un mot de passe solide"}, ["Caractères"], id="nul"),
    pytest.param({"full_name": TOO_LONG, "password": "un mot de passe solide"}, ["Texte trop long"], id="long"),
]


async def test_bad_invitation_acceptance_is_400_and_keeps_the_link(client: httpx.AsyncClient, rt: Runtime) -> None:
    a = await make_structure()
    manager = await make_person(rt, "maud.referente@tilleuls.example.fr", {a: ["manager"]})
    token = await _invitation_token(rt, a, manager.id)
    await client.get("/connexion")

    async def check(data: dict[str, Any], messages: list[str]) -> None:
        before = await row_counts()
        response = await client.post(f"/invitation/{token}", data={**data, "_csrf_token": csrf_token(client)})
        french_page(response, *messages)
        assert await row_counts() == before
        assert await AccessLink.count().where(AccessLink.used_at.is_null()) == 1

    await each(ACCEPTANCE_FORMS, check)


PAGE_IDS = [
    pytest.param(path, id=path)
    for path in [
        f"/structures/{BIG}/membres",
        f"/structures/{2**31}/membres",
        "/structures/{a}/membres/" + str(BIG) + "/retirer",
        f"/compte/jetons/{BIG}/revoquer",
        f"/admin/utilisateurs/{2**40}/coordinateur",
        f"/annuaire/structures/{BIG}",
        f"/annuaire/services/{2**40}",
        "/annuaire/structures/{a}/services/" + str(BIG) + "/modifier",
        "/annuaire/structures/{a}/lieux/" + str(BIG) + "/retirer",
    ]
]


async def test_page_ids_out_of_range_are_400_not_500(browser: Browser) -> None:
    async def check(path: str) -> None:
        before = await row_counts()
        path = path.replace("{a}", str(browser.a))
        if path.endswith(("/retirer", "/revoquer", "/coordinateur")):
            response = await browser.post(path, {"value": "1"})
        else:
            response = await browser.client.get(path)
        french_page(response, "Identifiant invalide")
        assert await row_counts() == before

    await each(PAGE_IDS, check)


async def test_journal_page_cursor_out_of_range_is_400(browser: Browser) -> None:
    response = await browser.client.get(f"/journal?avant={BIG}")
    french_page(response)


DIRECTORY_FORMS = [
    pytest.param(
        "/annuaire/rejoindre", {"name": "Asso\x00", "commune": "Montclair", "contact_email": "a@b.fr"}, id="join"
    ),
    pytest.param("/annuaire/structures/{a}/modifier", {"name": "Centre\x00", "commune": "Montclair"}, id="structure"),
    pytest.param("/annuaire/structures/{a}/services/nouveau", {"name": "Perma\x00nence"}, id="service"),
    pytest.param(
        "/annuaire/structures/{a}/services/nouveau", {"name": "Permanence", "description": "a\x00"}, id="text"
    ),
]


@pytest.mark.parametrize(("path", "data"), DIRECTORY_FORMS)
async def test_directory_forms_refuse_control_characters(browser: Browser, path: str, data: dict[str, str]) -> None:
    before = await row_counts()
    response = await browser.post(path.replace("{a}", str(browser.a)), {"kind": "CS", **data})
    french_page(response, "Caractères non autorisés")
    assert await row_counts() == before
