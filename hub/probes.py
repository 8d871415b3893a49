"""The authorization matrix's vocabulary, and the core's own probes.

The route-table test (tests/test_authorization.py) signs in as each role of ROLES over one shared world
(structures A and B, a pending structure, one person per role, services, places, tokens…: its `build_world`)
and sends every probe; each module declares the probes of its routes (Module.probes), so a new route
without an expectation fails the test. Probes are data: the method, the route as Litestar spells it, the
URL with the world's ids in braces, and the outcome for every role.
"""

from __future__ import annotations

import dataclasses
from typing import Any

PASSWORD = "un mot de passe solide"  # every person of the world signs in with it

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


SEE_MEMBERS_A = "see:/structures/{a}/membres"
SEE_MEMBERS_B = "see:/structures/{b}/membres"
NEW_PASSWORD = "un tout autre mot de passe"

# the core's pages and API; the modules' probes run after these and before FINAL_PROBES
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
    # pending invitations: resent or cancelled by the structure's managers, never through another's URL
    *[
        probe
        for verb in ("renvoyer", "annuler")
        for probe in (
            Probe(
                "POST",
                f"/structures/{{structure_id:int}}/invitations/{{invitation_id:int}}/{verb}",
                f"/structures/{{b}}/invitations/{{inv_a_{verb}}}/{verb}",
                page("404", MANAGERS_B),
            ),
            Probe(
                "POST",
                f"/structures/{{structure_id:int}}/invitations/{{invitation_id:int}}/{verb}",
                f"/structures/{{a}}/invitations/{{inv_a_{verb}}}/{verb}",
                page(SEE_MEMBERS_A + "#invitations", MANAGERS_A),
            ),
        )
    ],
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
]

FINAL_PROBES: list[Probe] = [
    # last: it ends the session
    Probe("POST", "/deconnexion", "/deconnexion", page("see:/", pending_2fa="see:/")),
]
