"""Who may do what: one policy guard per route, and an explicit allow/deny matrix over every route and role.

The matrix is data: each route of the app's route table needs at least one probe below, and each probe names
the outcome for every role. A new route without a probe fails `test_every_route_has_a_probe`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from hub import accounts, auth
from hub.runtime import Runtime
from hub.tables import AccessLink, ApiToken, JournalCheck, JournalEntry, Membership, OutboxMessage, User
from network.tables import ImportRecord, Place, Service, Structure
from tests.conftest import PASSWORD, Person, csrf_token, make_person, make_structure, post_form, sign_in


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
ROLES = (
    "anonymous",
    "pending_2fa",  # a manager of A who gave the password but not yet the second factor
    "prescriber_a",
    "aidant_a",
    "manager_a",
    "manager_b",
    "coordinator",
    "admin",
)
SIGNED_IN = ROLES[2:]
OVERSEERS = {"coordinator", "admin"}
MANAGERS_A = {"manager_a", *OVERSEERS}
MANAGERS_B = {"manager_b", *OVERSEERS}

# Outcomes, checked on the first response (redirects are not followed):
#   "200"…"410"   that status (problem+json on /api, a French HTML page otherwise, for >= 400)
#   "login"       302 to /connexion?suivant=… (anonymous on a page)
#   "code"        302 to /connexion/code (second factor still due)
#   "see:/path"   302 to that path (post/redirect/get after success; {a}/{b} filled in)
#   "401"         on the API: 401 problem+json with WWW-Authenticate: Bearer
DENIALS = ("login", "code", "401", "403", "404")


def public(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def page(outcome: str, allowed: set[str] | tuple[str, ...] = SIGNED_IN, denied: str = "403", **overrides: str) -> dict:
    result = {"anonymous": "login", "pending_2fa": "code"}
    result |= {role: outcome if role in allowed else denied for role in SIGNED_IN}
    return result | overrides


def api(outcome: str, allowed: set[str] | tuple[str, ...] = SIGNED_IN, denied: str = "403", **overrides: str) -> dict:
    # pending_2fa sends only its session cookie: the API honours bearer tokens, never cookies
    result = {"anonymous": "401", "pending_2fa": "401"}
    result |= {role: outcome if role in allowed else denied for role in SIGNED_IN}
    return result | overrides


@dataclasses.dataclass(frozen=True)
class Probe:
    method: str
    route: str  # the path as Litestar's route table spells it
    url: str  # filled with World.ids
    expect: dict[str, str]
    form: dict[str, str] | None = None
    json: dict[str, Any] | None = None


EDIT_STRUCTURE = "/annuaire/structures/{structure_id:int}/modifier"
NEW_SERVICE = "/annuaire/structures/{structure_id:int}/services/nouveau"
EDIT_SERVICE = "/annuaire/structures/{structure_id:int}/services/{service_id:int}/modifier"
CLOSE_SERVICE = "/annuaire/structures/{structure_id:int}/services/{service_id:int}/fermer"
REOPEN_SERVICE = "/annuaire/structures/{structure_id:int}/services/{service_id:int}/rouvrir"
ADD_PLACE = "/annuaire/structures/{structure_id:int}/services/{service_id:int}/lieux"
REMOVE_PLACE = "/annuaire/structures/{structure_id:int}/lieux/{place_id:int}/retirer"
SEE_ENTRY_A = "see:/annuaire/structures/{a}"
STRUCTURE_FORM = {
    "name": "Centre social des Tilleuls",
    "kind": "CS",
    "address": "8 avenue des Tilleuls",
    "postal_code": "45990",
    "commune": "Montclair-sur-Loire",
    "opening_hours": "Mo-Fr 08:30-12:30",
    "email": "accueil@cs-tilleuls.example.fr",
}
PLACE_FORM = {"name": "Médiathèque", "commune": "Montclair-sur-Loire", "opening_hours": "We 10:00-12:00"}
SEE_MEMBERS_A = "see:/structures/{a}/membres"
SEE_MEMBERS_B = "see:/structures/{b}/membres"
NEW_PASSWORD = "un tout autre mot de passe"

PROBES: list[Probe] = [
    # public pages and service routes
    Probe("GET", "/", "/", public("200")),
    Probe("GET", "/healthz", "/healthz", public("200")),
    Probe("GET", "/readyz", "/readyz", public("200")),
    Probe("GET", "/static/{file_path:path}", "/static/css/maillage.css", public("200")),
    Probe("HEAD", "/static/{file_path:path}", "/static/css/maillage.css", public("200")),
    Probe("GET", "/schema", "/schema", public("200")),
    Probe("GET", "/schema/openapi.json", "/schema/openapi.json", public("200")),
    Probe("GET", "/schema/{path:str}", "/schema/inconnu", public("404")),
    Probe("GET", "/connexion", "/connexion", public("200")),
    Probe(
        "POST",
        "/connexion",
        "/connexion",
        public("400"),
        form={"email": "personne@exemple.fr", "password": "pas le bon mot de passe"},
    ),
    Probe("GET", "/mot-de-passe-oublie", "/mot-de-passe-oublie", public("200")),
    Probe(
        "POST", "/mot-de-passe-oublie", "/mot-de-passe-oublie", public("see:/connexion"), form={"email": "x@exemple.fr"}
    ),
    Probe("GET", "/mot-de-passe/{token:str}", "/mot-de-passe/lien-inconnu", public("410")),
    Probe(
        "POST",
        "/mot-de-passe/{token:str}",
        "/mot-de-passe/lien-inconnu",
        public("410"),
        form={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    ),
    Probe("GET", "/invitation/{token:str}", "/invitation/lien-inconnu", public("410")),
    Probe(
        "POST",
        "/invitation/{token:str}",
        "/invitation/lien-inconnu",
        public("410"),
        form={"full_name": "Nouvelle Personne", "password": NEW_PASSWORD},
    ),
    # the public directory; what is not (yet, or no longer) public is seen only by those who may edit it
    Probe("GET", "/annuaire/structures/{structure_id:int}", "/annuaire/structures/{a}", public("200")),
    Probe(
        "GET",
        "/annuaire/structures/{structure_id:int}",
        "/annuaire/structures/{pending}",
        public("404") | dict.fromkeys(OVERSEERS, "200"),
    ),
    Probe("GET", "/annuaire/services/{service_id:int}", "/annuaire/services/{svc_a}", public("200")),
    Probe(
        "GET",
        "/annuaire/services/{service_id:int}",
        "/annuaire/services/{svc_a_closed}",
        public("404") | dict.fromkeys(MANAGERS_A, "200"),
    ),
    Probe("GET", "/annuaire", "/annuaire?q=centre", public("200")),
    Probe("POST", "/annuaire/recherche", "/annuaire/recherche", public("see:/annuaire?q=centre"), form={"q": "centre"}),
    Probe("GET", "/api/v1/directory/services", "/api/v1/directory/services?q=centre", public("200")),
    Probe(
        "POST", "/api/v1/directory/geocode", "/api/v1/directory/geocode", public("422"), json={"adresse": "Trifouilly"}
    ),
    Probe("GET", "/api/v1/directory/structures/{structure_id:int}", "/api/v1/directory/structures/{a}", public("200")),
    Probe(
        "GET",
        "/api/v1/directory/structures/{structure_id:int}",
        "/api/v1/directory/structures/{pending}",
        public("404"),  # the open directory shows active structures only, whoever asks
    ),
    Probe("GET", "/annuaire/rejoindre", "/annuaire/rejoindre", public("200")),
    Probe(
        "POST",
        "/annuaire/rejoindre",
        "/annuaire/rejoindre",
        public("see:/"),
        form={**STRUCTURE_FORM, "name": "Maison France Services", "contact_email": "direction@mfs.example.fr"},
    ),
    # second factor: reachable with the password alone
    Probe(
        "GET",
        "/connexion/code",
        "/connexion/code",
        page("200", pending_2fa="200", prescriber_a="see:/compte/double-authentification"),
    ),
    Probe("POST", "/connexion/code", "/connexion/code", page("400", pending_2fa="400"), form={"code": "000000"}),
    Probe(
        "GET",
        "/compte/double-authentification",
        "/compte/double-authentification",
        page("see:/compte", pending_2fa="see:/connexion/code", prescriber_a="200"),
    ),
    Probe(  # enrolled accounts have no enrolment in progress; the prescriber's (started above) refuses a wrong code
        "POST",
        "/compte/double-authentification",
        "/compte/double-authentification",
        page("409", pending_2fa="409", prescriber_a="400"),
        form={"code": "000000"},
    ),
    # the account: any signed-in person, and only their own tokens
    Probe("GET", "/compte", "/compte", page("200")),
    Probe(
        "POST",
        "/compte/mot-de-passe",
        "/compte/mot-de-passe",
        page("see:/compte"),
        form={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    ),
    Probe("POST", "/compte/codes-de-secours", "/compte/codes-de-secours", page("200", prescriber_a="409")),
    Probe("POST", "/compte/jetons", "/compte/jetons", page("200"), form={"name": "Tableur"}),
    Probe(
        "POST",
        "/compte/jetons/{token_id:int}/revoquer",
        "/compte/jetons/{own_page_token}/revoquer",
        page("see:/compte"),
    ),
    Probe(  # IDOR: nobody revokes someone else's token, not even an admin
        "POST", "/compte/jetons/{token_id:int}/revoquer", "/compte/jetons/{victim_token}/revoquer", page("404")
    ),
    # a structure's people: its managers and the coordinator
    Probe("GET", "/structures/{structure_id:int}/membres", "/structures/{a}/membres", page("200", MANAGERS_A)),
    Probe("GET", "/structures/{structure_id:int}/membres", "/structures/{b}/membres", page("200", MANAGERS_B)),
    Probe(
        "POST",
        "/structures/{structure_id:int}/invitations",
        "/structures/{a}/invitations",
        page(SEE_MEMBERS_A, MANAGERS_A),
        form={"email": "invitee.page.a@exemple.fr", "role": "aidant"},
    ),
    Probe(
        "POST",
        "/structures/{structure_id:int}/invitations",
        "/structures/{b}/invitations",
        page(SEE_MEMBERS_B, MANAGERS_B),
        form={"email": "invitee.page.b@exemple.fr", "role": "aidant"},
    ),
    Probe(
        "POST",
        "/structures/{structure_id:int}/membres/{membership_id:int}/retirer",
        "/structures/{a}/membres/{m_page_a}/retirer",
        page(SEE_MEMBERS_A, MANAGERS_A),
    ),
    Probe(  # IDOR: a manager of A passes A's guard but may not reach B's membership through A's URL
        "POST",
        "/structures/{structure_id:int}/membres/{membership_id:int}/retirer",
        "/structures/{a}/membres/{m_page_b_via_a}/retirer",
        page(SEE_MEMBERS_A, MANAGERS_A, manager_a="404"),
    ),
    Probe(  # IDOR: the same from B's side
        "POST",
        "/structures/{structure_id:int}/membres/{membership_id:int}/retirer",
        "/structures/{b}/membres/{m_page_a_via_b}/retirer",
        page(SEE_MEMBERS_B, MANAGERS_B, manager_b="404"),
    ),
    # a structure's directory entry: its managers and the coordinator; objects of B never through A's URLs
    Probe("GET", EDIT_STRUCTURE, "/annuaire/structures/{a}/modifier", page("200", MANAGERS_A)),
    Probe(
        "POST", EDIT_STRUCTURE, "/annuaire/structures/{a}/modifier", page(SEE_ENTRY_A, MANAGERS_A), form=STRUCTURE_FORM
    ),
    Probe(
        "POST",
        EDIT_STRUCTURE,
        "/annuaire/structures/{b}/modifier",
        page("see:/annuaire/structures/{b}", MANAGERS_B),
        form=STRUCTURE_FORM,
    ),
    Probe(
        "POST",
        "/annuaire/structures/{structure_id:int}/confirmer",
        "/annuaire/structures/{a}/confirmer",
        page(SEE_ENTRY_A, MANAGERS_A),
    ),
    Probe("GET", NEW_SERVICE, "/annuaire/structures/{a}/services/nouveau", page("200", MANAGERS_A)),
    Probe(
        "POST",
        NEW_SERVICE,
        "/annuaire/structures/{a}/services/nouveau",
        page("see:/annuaire/services/*", MANAGERS_A),
        form={"name": "Permanence numérique"},
    ),
    Probe(
        "POST",
        NEW_SERVICE,
        "/annuaire/structures/{b}/services/nouveau",
        page("see:/annuaire/services/*", MANAGERS_B),
        form={"name": "Permanence numérique"},
    ),
    Probe("GET", EDIT_SERVICE, "/annuaire/structures/{a}/services/{svc_a}/modifier", page("200", MANAGERS_A)),
    Probe(  # IDOR: B's service through A's URL is not found, even for the coordinator
        "GET", EDIT_SERVICE, "/annuaire/structures/{a}/services/{svc_b}/modifier", page("404", MANAGERS_A)
    ),
    Probe(
        "POST",
        EDIT_SERVICE,
        "/annuaire/structures/{a}/services/{svc_a}/modifier",
        page("see:/annuaire/services/{svc_a}", MANAGERS_A),
        form={"name": "Accompagnement aux démarches"},
    ),
    Probe(
        "POST",
        EDIT_SERVICE,
        "/annuaire/structures/{a}/services/{svc_b}/modifier",
        page("404", MANAGERS_A),
        form={"name": "Service détourné"},
    ),
    Probe(
        "POST", CLOSE_SERVICE, "/annuaire/structures/{a}/services/{svc_a_close}/fermer", page(SEE_ENTRY_A, MANAGERS_A)
    ),
    Probe("POST", CLOSE_SERVICE, "/annuaire/structures/{a}/services/{svc_b}/fermer", page("404", MANAGERS_A)),
    Probe(
        "POST",
        REOPEN_SERVICE,
        "/annuaire/structures/{a}/services/{svc_a_closed}/rouvrir",
        page("see:/annuaire/services/{svc_a_closed}", MANAGERS_A),
    ),
    Probe("POST", REOPEN_SERVICE, "/annuaire/structures/{a}/services/{svc_b_closed}/rouvrir", page("404", MANAGERS_A)),
    Probe(
        "POST",
        ADD_PLACE,
        "/annuaire/structures/{a}/services/{svc_a}/lieux",
        page("see:/annuaire/structures/{a}/services/{svc_a}/modifier", MANAGERS_A),
        form=PLACE_FORM,
    ),
    Probe(
        "POST", ADD_PLACE, "/annuaire/structures/{a}/services/{svc_b}/lieux", page("404", MANAGERS_A), form=PLACE_FORM
    ),
    Probe("POST", REMOVE_PLACE, "/annuaire/structures/{a}/lieux/{place_a}/retirer", page(SEE_ENTRY_A, MANAGERS_A)),
    Probe("POST", REMOVE_PLACE, "/annuaire/structures/{a}/lieux/{place_b}/retirer", page("404", MANAGERS_A)),
    # the network's coordination: approving a join request, closing a structure (not even its own managers)
    Probe("GET", "/annuaire/validation", "/annuaire/validation", page("200", OVERSEERS)),
    Probe(
        "POST",
        "/annuaire/structures/{structure_id:int}/valider",
        "/annuaire/structures/{pending}/valider",
        page("see:/annuaire/validation", OVERSEERS),
        form={"email": "direction@nouvelle.example.fr"},
    ),
    Probe("GET", "/annuaire/coordination", "/annuaire/coordination", page("200", OVERSEERS)),
    # an import without a file: the coordinator is told what is missing, the others are stopped before
    Probe("POST", "/annuaire/import", "/annuaire/import", page("400", OVERSEERS), form={"format": "datainclusion"}),
    Probe(
        "GET",
        "/annuaire/imports/{record_id:int}/rapport.csv",
        "/annuaire/imports/999999/rapport.csv",
        page("404", OVERSEERS),
    ),
    Probe(
        "POST",
        "/annuaire/doublons/{flag_id:int}/fusionner",
        "/annuaire/doublons/999999/fusionner",
        page("404", OVERSEERS),
        form={"keep": "structure"},
    ),
    Probe(
        "POST", "/annuaire/doublons/{flag_id:int}/ecarter", "/annuaire/doublons/999999/ecarter", page("404", OVERSEERS)
    ),
    # network-wide pages
    Probe("GET", "/journal", "/journal", page("200", OVERSEERS)),
    Probe("POST", "/journal/verifier", "/journal/verifier", page("see:/journal", OVERSEERS)),
    Probe("GET", "/admin/utilisateurs", "/admin/utilisateurs", page("200", {"admin"})),
    Probe(
        "POST",
        "/admin/utilisateurs/{user_id:int}/coordinateur",
        "/admin/utilisateurs/{target_user}/coordinateur",
        page("see:/admin/utilisateurs", {"admin"}),
        form={"value": "1"},
    ),
    # the API: bearer tokens only
    Probe("GET", "/api/v1/me", "/api/v1/me", api("200")),
    Probe("GET", "/api/v1/tokens", "/api/v1/tokens", api("200")),
    Probe("POST", "/api/v1/tokens", "/api/v1/tokens", api("201"), json={"name": "Script de synchronisation"}),
    Probe("DELETE", "/api/v1/tokens/{token_id:int}", "/api/v1/tokens/{own_api_token}", api("204")),
    Probe("DELETE", "/api/v1/tokens/{token_id:int}", "/api/v1/tokens/{victim_token}", api("404")),  # IDOR
    Probe(
        "GET", "/api/v1/structures/{structure_id:int}/members", "/api/v1/structures/{a}/members", api("200", MANAGERS_A)
    ),
    Probe(
        "GET", "/api/v1/structures/{structure_id:int}/members", "/api/v1/structures/{b}/members", api("200", MANAGERS_B)
    ),
    Probe(
        "POST",
        "/api/v1/structures/{structure_id:int}/invitations",
        "/api/v1/structures/{a}/invitations",
        api("201", MANAGERS_A),
        json={"email": "invitee.api.a@exemple.fr", "role": "prescriber"},
    ),
    Probe(
        "POST",
        "/api/v1/structures/{structure_id:int}/invitations",
        "/api/v1/structures/{b}/invitations",
        api("201", MANAGERS_B),
        json={"email": "invitee.api.b@exemple.fr", "role": "prescriber"},
    ),
    Probe(  # a manager of B manages something, so passes the guard; the service hides A's row from them
        "DELETE",
        "/api/v1/memberships/{membership_id:int}",
        "/api/v1/memberships/{m_api_a}",
        api("204", MANAGERS_A, manager_b="404"),
    ),
    Probe(
        "DELETE",
        "/api/v1/memberships/{membership_id:int}",
        "/api/v1/memberships/{m_api_b}",
        api("204", MANAGERS_B, manager_a="404"),
    ),
    Probe("GET", "/api/v1/journal", "/api/v1/journal", api("200", OVERSEERS)),
    # near the end: A leaves the directory
    Probe(
        "POST",
        "/annuaire/structures/{structure_id:int}/fermer",
        "/annuaire/structures/{a}/fermer",
        page(SEE_ENTRY_A, OVERSEERS),
    ),
    # last: it ends the session
    Probe("POST", "/deconnexion", "/deconnexion", page("see:/", pending_2fa="see:/")),
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
    return World(ids, people)


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
        )
    ]
    counts += [
        f"(SELECT max(updated_at) FROM {t._meta.tablename}) AS {t._meta.tablename}_at" for t in (Structure, Service)
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
            kwargs["data"] = {**(probe.form or {}), "_csrf_token": csrf_token(client)}
        if probe.json is not None:
            kwargs["json"] = probe.json
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
