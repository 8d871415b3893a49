"""The directory's authorization probes (see hub.probes): its public pages and API, the managers' editing,
the coordinator's desk. They run after the core's; the last one closes structure A.
"""

from __future__ import annotations

from hub.probes import MANAGERS_A, MANAGERS_B, OVERSEERS, Probe, page, public

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
    "latitude": "47.9012",  # a position given as a correction: no address to find (network.locating)
    "longitude": "1.9045",
}
PLACE_FORM = {"name": "Médiathèque", "commune": "Montclair-sur-Loire", "opening_hours": "We 10:00-12:00"}

PROBES: list[Probe] = [
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
    Probe(
        "POST",
        "/annuaire/recherche",
        "/annuaire/recherche",
        public("see:/annuaire?q=centre#resultats"),
        form={"q": "centre"},
    ),
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
    Probe("GET", CLOSE_SERVICE, "/annuaire/structures/{a}/services/{svc_a_close}/fermer", page("200", MANAGERS_A)),
    Probe("GET", CLOSE_SERVICE, "/annuaire/structures/{a}/services/{svc_b}/fermer", page("404", MANAGERS_A)),
    Probe(
        "POST",
        CLOSE_SERVICE,
        "/annuaire/structures/{a}/services/{svc_a_close}/fermer",
        page("see:/annuaire/structures/{a}/services/{svc_a_close}/fermer", MANAGERS_A),  # not confirmed: asked first
    ),
    Probe(
        "POST",
        CLOSE_SERVICE,
        "/annuaire/structures/{a}/services/{svc_a_close}/fermer",
        page("see:/annuaire/services/{svc_a_close}", MANAGERS_A),
        form={"confirmation": "oui"},
    ),
    Probe(
        "POST",
        CLOSE_SERVICE,
        "/annuaire/structures/{a}/services/{svc_b}/fermer",
        page("404", MANAGERS_A),
        form={"confirmation": "oui"},
    ),
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
    Probe(  # a refusal without its message: explained to the coordinator, nothing changes
        "POST",
        "/annuaire/structures/{structure_id:int}/refuser",
        "/annuaire/structures/{pending}/refuser",
        page("400", OVERSEERS),
        form={"message": ""},
    ),
    Probe("GET", "/annuaire/coordination", "/annuaire/coordination", page("200", OVERSEERS)),
    # an import without a file: the coordinator is told what is missing, the others are stopped before
    Probe("POST", "/annuaire/import", "/annuaire/import", page("400", OVERSEERS), form={"format": "datainclusion"}),
    Probe("GET", "/annuaire/imports/{import_id:int}", "/annuaire/imports/999999", page("404", OVERSEERS)),
    Probe(
        "GET",
        "/annuaire/imports/{record_id:int}/rapport.csv",
        "/annuaire/imports/999999/rapport.csv",
        page("404", OVERSEERS),
    ),
    Probe(
        "GET",
        "/annuaire/doublons/{flag_id:int}/fusionner",
        "/annuaire/doublons/999999/fusionner?garder=other",
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
    # the search's synonyms: a group too short is explained to the coordinator, the others are stopped before
    Probe("POST", "/annuaire/synonymes", "/annuaire/synonymes", page("400", OVERSEERS), form={"mots": "seul"}),
    Probe(
        "POST",
        "/annuaire/synonymes/{synonym_id:int}/retirer",
        "/annuaire/synonymes/999999/retirer",
        page("404", OVERSEERS),
    ),
    # near the end: A leaves the directory
    Probe(
        "POST",
        "/annuaire/structures/{structure_id:int}/fermer",
        "/annuaire/structures/{a}/fermer",
        page(SEE_ENTRY_A, OVERSEERS),
    ),
]
