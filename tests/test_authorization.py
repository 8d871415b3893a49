"""Who may do what: one policy guard per route, and an explicit allow/deny matrix over every route and role.

The matrix is data: each route of the app's route table needs at least one probe below, and each probe names
the outcome for every role. A new route without a probe fails `test_every_route_has_a_probe`.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from hub import accounts, auth, invitations
from hub import probes as core_probes
from hub.composition import MODULES
from hub.mandates.documents import CHARTER_VERSION
from hub.mandates.tables import CharterAcceptance, Habilitation, Mandate, MandateScope, Resident, Revocation
from hub.probes import DENIALS, ROLES, Probe
from hub.runtime import Runtime
from hub.tables import AccessLink, ApiToken, JournalCheck, JournalEntry, Membership, OutboxMessage, User
from network.activities.probes import build_world as activity_world
from network.meetings import probes as meetings_probes
from network.tables import ImportRecord, Place, Service, Structure
from referrals.tables import Attachment, Referral, SlotSchedule
from tests.conftest import Person, csrf_token, make_person, make_structure, post_form, sign_in

DEMARCHES = "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"


# ---------------------------------------------------------------- (a) one policy guard per route handler
def _policies(handler: Any) -> list[auth.Policy]:
    # Litestar wraps sync guards in AsyncCallable (keeping the original as .func); ours are async already.
    guards = [getattr(guard, "func", guard) for guard in handler.resolve_guards()]
    return [guard for guard in guards if isinstance(guard, auth.Policy)]


def _route_handlers(app: Litestar) -> list[tuple[str, str, Any]]:
    """(path, method, handler) for every handler of the built app; websocket and ASGI routes count as method "*"."""
    rows = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            rows += [(route.path, m, h) for h in route.route_handlers for m in sorted(h.http_methods)]
        else:
            rows.append((route.path, "*", route.route_handler))  # type: ignore[attr-defined]
    return rows


# Handlers Litestar builds for us that our code cannot guard yet, each with the fix that closes it.
KNOWN_UNGUARDED: set[tuple[str, str]] = set()


def test_every_route_handler_has_exactly_one_policy(app: Litestar) -> None:
    handlers = _route_handlers(app)
    assert len(handlers) > 40, "the route table looks empty"
    wrong = {(path, method): [p.name for p in _policies(h)] for path, method, h in handlers if len(_policies(h)) != 1}
    unexpected = {key: names for key, names in wrong.items() if key not in KNOWN_UNGUARDED}
    assert not unexpected, f"route handlers without exactly one policy guard: {unexpected}"
    fixed = KNOWN_UNGUARDED - set(wrong)
    assert not fixed, f"these are guarded now, remove them from KNOWN_UNGUARDED: {fixed}"


def test_static_and_schema_routes_are_public(app: Litestar) -> None:
    for path, method, handler in _route_handlers(app):
        if path.startswith(("/static", "/schema")):
            assert [p.name for p in _policies(handler)] == ["public"], (path, method)


# ---------------------------------------------------------------- (b) the matrix
PROBES: list[Probe] = [
    *core_probes.PROBES,
    *[probe for module in MODULES for probe in module.probes()],
    *core_probes.FINAL_PROBES,
]


def test_every_route_has_a_probe(app: Litestar) -> None:
    routes = {(path, method) for path, method, _ in _route_handlers(app) if method not in ("OPTIONS", "*")}
    probed = {(probe.route, probe.method) for probe in PROBES}
    assert not routes - probed, f"routes without an authorization expectation: {sorted(routes - probed)}"
    assert not probed - routes, f"probes of routes that no longer exist: {sorted(probed - routes)}"
    for probe in PROBES:
        assert set(probe.expect) == set(ROLES), (probe.method, probe.url)


@dataclasses.dataclass
class World:
    ids: dict[str, int]
    people: dict[str, Person]


async def _membership(user_id: int, structure_id: int) -> int:
    row = (
        await Membership.select(Membership.id)
        .where((Membership.user == user_id) & (Membership.structure == structure_id))
        .first()
    )
    assert row is not None
    return int(row["id"])


async def build_world(rt: Runtime) -> World:
    """Structures A and B, one person per role, and the objects the probes aim at."""
    a = await make_structure("Centre social des Tilleuls", "CS")
    b = await make_structure("CCAS de Montclair", "CCAS")
    people = {
        "pending_2fa": await make_person(rt, "paul.attente@tilleuls.example.fr", {a: ["manager"]}),
        "prescriber_a": await make_person(rt, "prune.prescriptrice@tilleuls.example.fr", {a: ["prescriber"]}),
        "aidant_a": await make_person(rt, "ali.aidant@tilleuls.example.fr", {a: ["aidant"]}),
        "manager_a": await make_person(rt, "maud.referente@tilleuls.example.fr", {a: ["manager"]}),
        "manager_b": await make_person(rt, "bruno.referent@ccas.example.fr", {b: ["manager"]}),
        "coordinator": await make_person(rt, "claire.coordinatrice@reseau.example.fr", coordinator=True),
        "admin": await make_person(rt, "adam.admin@reseau.example.fr", admin=True),
    }
    ids = {"a": a, "b": b}
    # one membership per probe that removes one, so probes stay independent of their order
    for key, structure in (
        ("m_page_a", a),
        ("m_page_b_via_a", b),
        ("m_page_a_via_b", a),
        ("m_api_a", a),
        ("m_api_b", b),
    ):
        member = await make_person(rt, f"{key.replace('_', '.')}@membres.example.fr", {structure: ["prescriber"]})
        ids[key] = await _membership(member.id, structure)
    for key in ("inv_a_renvoyer", "inv_a_annuler"):  # one pending invitation of A per probe that acts on one
        ids[key] = await invitations.invite(
            rt, await accounts.actor_for_user(people["manager_a"].id), a, f"{key}@x.fr", "aidant"
        )
    victim = await make_person(rt, "victor.victime@tilleuls.example.fr", {a: ["prescriber"]})
    ids["victim_token"], _ = await accounts.create_api_token(rt, await accounts.actor_for_user(victim.id), "Victime")
    target = await make_person(rt, "tania.cible@reseau.example.fr")
    ids["target_user"] = target.id
    ids["pending"] = await make_structure("Association en attente", "ASSO")
    await Structure.update({Structure.status: "pending"}).where(Structure.id == ids["pending"])
    for key, structure, active in (
        ("svc_a", a, True),
        ("svc_a_close", a, True),
        ("svc_a_closed", a, False),
        ("svc_b", b, True),
        ("svc_b_closed", b, False),
    ):
        service = Service(structure=structure, name=f"Service {key}", is_active=active)
        await service.save()
        ids[key] = int(service.id)
    for key, service_key in (("place_a", "svc_a"), ("place_b", "svc_b")):
        place = Place(service=ids[service_key], name=f"Lieu {key}", commune="Montclair-sur-Loire")
        await place.save()
        ids[key] = int(place.id)
    # referrals: B's service takes them; one from A to B (both structures see it, nobody else)
    receiving = Service(structure=b, name="Aide aux démarches de B", accepts_referrals=True, thematiques=[DEMARCHES])
    await receiving.save()
    ids["svc_b_referrals"] = int(receiving.id)
    referral = Referral(
        code="code-de-suivi-de-la-matrice",
        sender_structure=a,
        receiver_structure=b,
        service_id=ids["svc_b_referrals"],
        resident_name="Awa B.",
        resident_phone="06 39 98 00 01",
        consent_method="oral",
    )
    await referral.save()
    ids["ref_ab"] = int(referral.id)
    attachment = Attachment(
        referral=referral.id, filename="a.png", media_type="image/png", size=8, sha256="", content=b"\x89PNG\r\n\x1a\n"
    )
    await attachment.save()
    ids["file_ab"] = int(attachment.id)
    schedule = SlotSchedule(
        service_id=ids["svc_b_referrals"], structure=b, weekday=3, start_time="14:00", end_time="16:00"
    )
    await schedule.save()
    ids["schedule_b"] = int(schedule.id)
    await meetings_probes.build_world(ids, people["manager_b"].id, rt.today())
    ids.update(await mandate_world(a, people["aidant_a"].id))
    ids.update(await activity_world(a, b))  # activity records: an activity, a series, a satisfaction code of A
    return World(ids, people)


async def mandate_world(a: int, aidant_id: int) -> dict[str, Any]:
    """A's aidant habilitated (charter accepted); a resident of A; a valid mandate (its sealed PDF, its scan and a
    revocation attestation stand in as bytes: the matrix checks who reaches them, not what they are); a draft."""
    await Habilitation.insert(Habilitation(user=aidant_id, structure=a))
    await CharterAcceptance.insert(CharterAcceptance(user=aidant_id, version=CHARTER_VERSION))
    resident = Resident(structure=a, first_name="Awa", last_name="Diallo")
    await resident.save()
    today = datetime.date.today()
    ids: dict[str, Any] = {"resident_a": int(resident.id), "aidant_a_user": aidant_id}
    for key, status in (("mandate_a", "active"), ("draft_a", "draft")):
        mandate = Mandate(
            public_code=f"code-de-verification-{key.replace('_', '-')}",
            number=f"M-2026-{key}",
            structure=a,
            resident=resident.id,
            created_by=aidant_id,
            duration_days=365,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=364),
            status=status,
            no_legal_protection=True,
            sealed_pdf=b"%PDF-1.7 matrice" if status == "active" else None,
            scan_bytes=b"%PDF-1.7 scan" if status == "active" else None,
            scan_type="application/pdf" if status == "active" else "",
        )
        await mandate.save()
        ids[key] = int(mandate.id)
        ids[f"{key}_code"] = mandate.public_code
        await MandateScope.insert(
            *[MandateScope(mandate=mandate.id, scope=s) for s in ("social", "logement", "argent")]
        )
    revocation = Revocation(
        mandate=ids["mandate_a"],
        number="R-2026-matrice",
        public_code="code-attestation-matrice",
        scopes=["argent"],
        sealed_pdf=b"%PDF-1.7 attestation",
    )
    await revocation.save()
    ids["revocation_a"] = int(revocation.id)
    await MandateScope.update({MandateScope.status: "revoked", MandateScope.revocation: revocation.id}).where(
        (MandateScope.mandate == ids["mandate_a"]) & (MandateScope.scope == "argent")
    )
    return ids


async def snapshot() -> tuple[int, ...]:
    """What a denied request must leave as it was."""
    counts = [
        f"(SELECT count(*) FROM {table._meta.tablename}{where}) AS {table._meta.tablename}"
        for table, where in (
            (Membership, ""),
            (ApiToken, " WHERE revoked_at IS NULL"),
            (AccessLink, ""),
            (OutboxMessage, ""),
            (JournalEntry, ""),
            (JournalCheck, ""),
            (User, " WHERE is_coordinator"),
            (Structure, " WHERE status = 'active'"),
            (Service, " WHERE is_active"),
            (Place, ""),
            (ImportRecord, ""),
            (Mandate, " WHERE status IN ('active', 'draft')"),
            (MandateScope, " WHERE status = 'active'"),
            (Revocation, ""),
            (Resident, ""),
            (Habilitation, " WHERE withdrawn_at IS NULL"),
            (CharterAcceptance, ""),
        )
    ]
    counts += [
        f"(SELECT max(updated_at) FROM {t._meta.tablename}) AS {t._meta.tablename}_at"
        for t in (Structure, Service, Mandate)
    ]
    rows = await Membership.raw("SELECT " + ", ".join(counts))  # one query, not one per table: runs ~50 times a role
    return tuple(rows[0].values())


async def enter_as(role: str, client: httpx.AsyncClient, rt: Runtime, world: World) -> dict[str, str]:
    """Sign the client in as the role (page flow); returns the API headers the role sends."""
    await client.get("/connexion")  # the CSRF cookie, for everyone
    world.ids["own_page_token"] = world.ids["own_api_token"] = world.ids["victim_token"]  # no token of their own
    if role == "anonymous":
        return {}
    person = world.people[role]
    if role == "pending_2fa":
        response = await post_form(client, "/connexion", {"email": person.email, "password": person.password})
        assert response.url.path == "/connexion/code"
        return {}
    await sign_in(client, person)
    actor = await accounts.actor_for_user(person.id)
    _, bearer = await accounts.create_api_token(rt, actor, "Matrice")
    world.ids["own_page_token"], _ = await accounts.create_api_token(rt, actor, "Page")
    world.ids["own_api_token"], _ = await accounts.create_api_token(rt, actor, "API")
    return {"Authorization": f"Bearer {bearer}"}


def _filled(body: dict[str, Any], ids: dict[str, int]) -> dict[str, Any]:
    """A probe's JSON body with "{name}" values replaced by the world's ids."""
    return {
        key: (ids[value[1:-1]] if body is not None else value)
        if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids
        else value
        for key, value in body.items()
    }


def check(outcome: str, response: httpx.Response, url: str, ids: dict[str, int]) -> None:
    location = response.headers.get("location", "")
    is_api = url.startswith("/api/")
    if outcome == "login":
        assert response.status_code == 302 and location.startswith("/connexion?suivant="), location
    elif outcome == "code":
        assert response.status_code == 302 and location == "/connexion/code", location
    elif outcome.startswith("see:"):
        assert response.status_code in (302, 303), response.text[:300]
        target = outcome[4:].format(**ids)
        assert location.startswith(target[:-1]) if target.endswith("*") else location == target, location
    else:
        assert response.status_code == int(outcome), response.text[:300]
        if response.status_code >= 400 and is_api:
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["status"] == response.status_code and problem["detail"]
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
        if response.status_code >= 400 and not is_api and not url.startswith("/schema"):
            assert response.headers["content-type"].startswith("text/html")
            assert '<html lang="fr">' in response.text


@pytest.mark.parametrize("role", ROLES)
async def test_authorization_matrix(role: str, client: httpx.AsyncClient, rt: Runtime) -> None:
    world = await build_world(rt)
    headers = await enter_as(role, client, rt, world)
    failures: list[str] = []
    for probe in PROBES:
        outcome = probe.expect[role]
        url = probe.url.format(**world.ids)
        kwargs: dict[str, Any] = {"headers": headers if url.startswith("/api/") else {}}
        if probe.form is not None or (probe.method == "POST" and not url.startswith("/api/")):
            kwargs["data"] = {**_filled(probe.form or {}, world.ids), "_csrf_token": csrf_token(client)}
        if probe.json is not None:
            kwargs["json"] = _filled(probe.json, world.ids)
        before = await snapshot() if outcome in DENIALS else None
        response = await client.request(probe.method, url, follow_redirects=False, **kwargs)
        try:
            check(outcome, response, url, world.ids)
            assert response.status_code < 500
            if before is not None:
                assert await snapshot() == before, "a denied request changed the database"
        except AssertionError as error:
            reason = str(error).splitlines()[0]
            failures.append(f"{probe.method} {url}: expected {outcome}, got {response.status_code}: {reason}")
    assert not failures, f"{role}:\n" + "\n".join(failures)


async def test_api_ignores_the_session_cookie(client: httpx.AsyncClient, rt: Runtime) -> None:
    """A signed-in browser holds a cookie; the API must not honour it (no CSRF through the API)."""
    world = await build_world(rt)
    await sign_in(client, world.people["manager_a"])
    assert (await client.get("/compte")).status_code == 200
    response = await client.get(f"/api/v1/structures/{world.ids['a']}/members")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer mlg_inconnu_0123456789", "Bearer ", "Basic bWF1ZDpzZWNyZXQ=", "bearer", "Bearer mlg_" + "x" * 500],
)
async def test_api_refuses_unknown_or_malformed_tokens(client: httpx.AsyncClient, authorization: str) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["title"] == "Connexion requise"


async def test_revoked_token_and_deactivated_user_lose_api_access(client: httpx.AsyncClient, rt: Runtime) -> None:
    world = await build_world(rt)
    actor = await accounts.actor_for_user(world.people["manager_a"].id)
    token_id, token = await accounts.create_api_token(rt, actor, "Éphémère")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    assert (await client.delete(f"/api/v1/tokens/{token_id}", headers=bearer)).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401

    _, token = await accounts.create_api_token(rt, actor, "Second")
    await User.update({User.is_active: False}).where(User.id == actor.user_id)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_roles_are_read_per_request_not_frozen_in_the_token(client: httpx.AsyncClient, rt: Runtime) -> None:
    """Withdrawing a manager's role takes effect on their very next API call."""
    world = await build_world(rt)
    manager = world.people["manager_a"]
    _, token = await accounts.create_api_token(rt, await accounts.actor_for_user(manager.id), "Outil")
    bearer = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/structures/{world.ids['a']}/members"
    assert (await client.get(url, headers=bearer)).status_code == 200
    await Membership.delete().where(Membership.user == manager.id)
    assert (await client.get(url, headers=bearer)).status_code == 403
