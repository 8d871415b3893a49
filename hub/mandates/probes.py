"""Mandates' authorization probes (see hub.probes).

The world (tests/test_authorization.py, `mandate_world`): aidant_a is habilitated in A and accepted the charter;
A has a resident, a valid mandate (with a revocation attestation and a scan) and a draft. The pages are for the
aidants and managers of a structure (prescribers, the coordinator and the admin get a 403); a mandate is its
structure's: anyone else, manager_b included, gets a 404 and changes nothing. Among A's members only the
habilitated aidant acts; A's manager reads (a 403 when acting: not habilitated, charter not accepted).
"""

from __future__ import annotations

from hub.probes import Probe, api, page, public

MEMBERS = {"aidant_a", "manager_a", "manager_b"}  # aidants and managers of some structure: the pages' guard
A_SIDE = {"aidant_a", "manager_a"}  # A's mandates are theirs to read
MANAGERS = {"manager_a", "manager_b"}  # the habilitations' and templates' pages (inside the members' pages)
NOT_A = {"manager_b": "404"}  # a member of another structure: nothing of A exists
CHARTER_FIRST = "see:/mandats/charte"  # making or renewing a mandate starts with the charter (whatever the id)

PROBES: list[Probe] = [
    # the QR code's page is public; an unknown code is a 404 for everyone
    Probe("GET", "/verifier/{code:str}", "/verifier/{mandate_a_code}", public("200")),
    Probe("GET", "/verifier/{code:str}", "/verifier/code-inconnu-de-la-matrice", public("404")),
    Probe("GET", "/mandats/pictogrammes/{name:str}", "/mandats/pictogrammes/social.png", public("200")),
    # the aidant's lists and the creation flow: the charter comes first (A's manager has not accepted it)
    Probe("GET", "/mandats", "/mandats", page("200", MEMBERS)),
    Probe(
        "GET",
        "/mandats/nouveau",
        "/mandats/nouveau",
        page("200", {"aidant_a"}, manager_a=CHARTER_FIRST, manager_b=CHARTER_FIRST),
    ),
    Probe(
        "POST",
        "/mandats/nouveau/chercher",
        "/mandats/nouveau/chercher",
        page("200", {"aidant_a"}, manager_a=CHARTER_FIRST, manager_b=CHARTER_FIRST),
        form={"q": "Diallo"},
    ),
    Probe(  # nothing filled in: the form comes back with its errors
        "POST",
        "/mandats/nouveau/personne",
        "/mandats/nouveau/personne",
        page("400", {"aidant_a"}, manager_a=CHARTER_FIRST, manager_b=CHARTER_FIRST),
        form={"first_name": "", "last_name": ""},
    ),
    Probe(  # no scope, no duration: the choices come back with their errors
        "POST",
        "/mandats/nouveau",
        "/mandats/nouveau",
        page("400", {"aidant_a"}, manager_a=CHARTER_FIRST, manager_b=CHARTER_FIRST),
        form={"step": "recap", "resident_id": "{resident_a}"},
    ),
    # the charter
    Probe("GET", "/mandats/charte", "/mandats/charte", page("200", MEMBERS)),
    Probe("GET", "/mandats/charte.docx", "/mandats/charte.docx", page("200", MEMBERS)),
    Probe(  # the box not ticked: the page comes back
        "POST", "/mandats/charte", "/mandats/charte", page("400", MEMBERS), form={"version": "2001-01"}
    ),
    # the manager's pages
    Probe("GET", "/mandats/habilitations", "/mandats/habilitations", page("200", MANAGERS)),
    Probe(  # B's manager cannot habilitate in A; A's manager can (an aidant of A already habilitated: nothing to do)
        "POST",
        "/mandats/habilitations",
        "/mandats/habilitations",
        page("see:/mandats/habilitations", {"manager_a"}, manager_b="404"),
        form={"structure_id": "{a}", "user_id": "{aidant_a_user}", "action": "grant"},
    ),
    Probe("GET", "/mandats/modeles", "/mandats/modeles", page("200", MANAGERS)),
    Probe("GET", "/mandats/modeles/reseau/{kind:str}", "/mandats/modeles/reseau/mandat", page("200", MANAGERS)),
    Probe(  # no file: the page comes back with the error
        "POST", "/mandats/modeles", "/mandats/modeles", page("400", MANAGERS), form={"structure_id": "{a}"}
    ),
    Probe(  # no such variant
        "POST",
        "/mandats/modeles/{variant_id:int}",
        "/mandats/modeles/999999",
        page("404", MANAGERS),
        form={"proofreader": "Claire Relectrice"},
    ),
    # one mandate: A's members read it, nobody else learns it exists
    Probe("GET", "/mandats/{mandate_id:int}", "/mandats/{mandate_a}", page("200", A_SIDE, **NOT_A)),
    Probe(
        "GET", "/mandats/{mandate_id:int}/mandat.pdf", "/mandats/{mandate_a}/mandat.pdf", page("200", A_SIDE, **NOT_A)
    ),
    Probe("GET", "/mandats/{mandate_id:int}/scan", "/mandats/{mandate_a}/scan", page("200", A_SIDE, **NOT_A)),
    Probe(
        "GET",
        "/mandats/revocations/{revocation_id:int}/attestation.pdf",
        "/mandats/revocations/{revocation_a}/attestation.pdf",
        page("200", A_SIDE, **NOT_A),
    ),
    Probe(
        "GET", "/mandats/{mandate_id:int}/lettre.docx", "/mandats/{mandate_a}/lettre.docx", page("200", A_SIDE, **NOT_A)
    ),
    Probe(
        "GET", "/mandats/{mandate_id:int}/projet.docx", "/mandats/{draft_a}/projet.docx", page("200", A_SIDE, **NOT_A)
    ),
    Probe("GET", "/mandats/{mandate_id:int}/projet.pdf", "/mandats/{draft_a}/projet.pdf", page("200", A_SIDE, **NOT_A)),
    Probe("GET", "/mandats/{mandate_id:int}/signer", "/mandats/{draft_a}/signer", page("200", A_SIDE, **NOT_A)),
    Probe("GET", "/mandats/{mandate_id:int}/papier", "/mandats/{draft_a}/papier", page("200", A_SIDE, **NOT_A)),
    Probe("GET", "/mandats/{mandate_id:int}/revoquer", "/mandats/{mandate_a}/revoquer", page("200", A_SIDE, **NOT_A)),
    Probe(
        "GET",
        "/mandats/{mandate_id:int}/renouveler",
        "/mandats/{mandate_a}/renouveler",
        page("200", {"aidant_a"}, manager_a=CHARTER_FIRST, manager_b=CHARTER_FIRST),
    ),
    # acting on it: the habilitated aidant only; a form sent empty comes back with its errors first (nothing written)
    Probe(
        "POST",
        "/mandats/{mandate_id:int}/signer",
        "/mandats/{draft_a}/signer",
        page("400", A_SIDE, **NOT_A),
        form={"resident_signature": "", "aidant_signature": ""},
    ),
    Probe(
        "POST",
        "/mandats/{mandate_id:int}/papier",
        "/mandats/{draft_a}/papier",
        page("400", A_SIDE, **NOT_A),
    ),
    Probe(  # a draft not yet signed is not finalised: back to its page, saying why
        "POST",
        "/mandats/{mandate_id:int}/finaliser",
        "/mandats/{draft_a}/finaliser",
        page("see:/mandats/{draft_a}", {"aidant_a"}, manager_a="403", **NOT_A),
    ),
    Probe(
        "POST",
        "/mandats/{mandate_id:int}/revoquer",
        "/mandats/{mandate_a}/revoquer",
        page("400", A_SIDE, **NOT_A),
        form={"what": "all"},
    ),
    Probe(
        "POST",
        "/mandats/{mandate_id:int}/renouveler",
        "/mandats/{mandate_a}/renouveler",
        page("400", {"aidant_a"}, manager_a=CHARTER_FIRST, manager_b=CHARTER_FIRST),
        form={"totp_code": ""},
    ),
    Probe(  # last: it gives the draft up
        "POST",
        "/mandats/{mandate_id:int}/abandonner",
        "/mandats/{draft_a}/abandonner",
        page("see:/mandats/{draft_a}", {"aidant_a"}, manager_a="403", **NOT_A),
    ),
]

# the API (hub/mandates/api.py): the same rules as the pages; the QR code's verification is public
PROBES += [
    Probe("GET", "/api/v1/mandates/verify/{code:str}", "/api/v1/mandates/verify/{mandate_a_code}", public("200")),
    Probe("GET", "/api/v1/mandates/verify/{code:str}", "/api/v1/mandates/verify/code-inconnu", public("404")),
    Probe("GET", "/api/v1/mandates", "/api/v1/mandates", api("200", MEMBERS)),
    Probe("GET", "/api/v1/mandates/{mandate_id:int}", "/api/v1/mandates/{mandate_a}", api("200", A_SIDE, **NOT_A)),
]
