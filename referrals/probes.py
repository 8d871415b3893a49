"""Referrals' authorization probes (see hub.probes)."""

from __future__ import annotations

from hub.probes import Probe, api, page, public

PROBES: list[Probe] = []


MEMBERS = {"prescriber_a", "aidant_a", "manager_a", "manager_b"}  # a structure with referral roles
A_SIDE = {"prescriber_a", "aidant_a", "manager_a"}
NEED = {"thematiques": ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"]}
SENT = {
    "service_id": 0,  # replaced below: the world's B service taking referrals
    "resident_name": "Awa B.",
    "resident_phone": "06 39 98 00 02",
    "consent_method": "oral",
    "consent_confirmed": True,
}

# the API: any signed-in caller may rank services; sending needs a structure; a referral is its two structures'
API_PROBES: list[Probe] = [
    Probe("POST", "/api/v1/referrals/route", "/api/v1/referrals/route", api("200"), json=NEED),
    Probe(
        "POST",
        "/api/v1/referrals/why-not/{service_id:int}",
        "/api/v1/referrals/why-not/{svc_b_referrals}",
        api("200"),
        json=NEED,
    ),
    Probe("GET", "/api/v1/referrals", "/api/v1/referrals?box=sent", api("200")),
    Probe(
        "GET", "/api/v1/referrals/{referral_id:int}", "/api/v1/referrals/{ref_ab}", api("200", MEMBERS, denied="404")
    ),
    Probe(  # the sender may not take the receiver's actions: a conflict, not a leak
        "POST",
        "/api/v1/referrals/{referral_id:int}/transitions",
        "/api/v1/referrals/{ref_ab}/transitions",
        api("200", {"manager_b"}, denied="404", **dict.fromkeys(A_SIDE, "409")),
        json={"action": "review"},
    ),
    Probe(  # the coordinator and the admin belong to no structure: nothing to send from
        "POST",
        "/api/v1/referrals",
        "/api/v1/referrals",
        api("201", MEMBERS, denied="403"),
        json={**SENT, "service_id": "{svc_b_referrals}"},
    ),
    Probe(  # no file sent: the two structures are told so, anyone else learns nothing
        "POST",
        "/api/v1/referrals/{referral_id:int}/attachments",
        "/api/v1/referrals/{ref_ab}/attachments",
        api("400", MEMBERS, denied="404"),
    ),
    Probe(
        "GET",
        "/api/v1/referrals/{referral_id:int}/attachments/{attachment_id:int}",
        "/api/v1/referrals/{ref_ab}/attachments/{file_ab}",
        api("200", MEMBERS, denied="404"),
    ),
]
PROBES += API_PROBES

# the pages: members of a structure with referral roles (the coordinator and the admin see the figures only);
# a referral is its two structures' (the service answers 404 to anyone else); the resident's page is public
DEMARCHES_CODE = NEED["thematiques"][0]
NEED_FORM = {"thematiques": DEMARCHES_CODE}
SEND_FORM = {
    "step": "send",
    "thematiques": DEMARCHES_CODE,
    "need": "Déclarer ses ressources en ligne",
    "resident_name": "Awa B.",
    "resident_phone": "06 39 98 00 03",
    "preferred_contact": "phone",
    "consent_method": "oral",
    "consent_confirmed": "on",
}
PAGE_PROBES: list[Probe] = [
    Probe("GET", "/orientations", "/orientations?boite=envoyees", page("200", MEMBERS)),
    Probe("GET", "/orientations/nouvelle", "/orientations/nouvelle", page("200", MEMBERS)),
    Probe(  # a search changes nothing: the results come on the same response
        "POST", "/orientations/nouvelle", "/orientations/nouvelle", page("200", MEMBERS), form=NEED_FORM
    ),
    Probe(
        "GET",
        "/orientations/nouvelle/{service_id:int}",
        "/orientations/nouvelle/{svc_b_referrals}",
        page("200", MEMBERS),
    ),
    Probe(
        "POST",
        "/orientations/nouvelle/{service_id:int}",
        "/orientations/nouvelle/{svc_b_referrals}",
        page("see:/orientations/*", MEMBERS),
        form=SEND_FORM,
    ),
    Probe("GET", "/orientations/{referral_id:int}", "/orientations/{ref_ab}", page("200", MEMBERS)),
    Probe(  # the receiver takes it up; the sender's try is a conflict, told by a message on the same page
        "POST",
        "/orientations/{referral_id:int}/action",
        "/orientations/{ref_ab}/action",
        page("see:/orientations/{ref_ab}", MEMBERS),
        form={"action": "review"},
    ),
    Probe(  # no file chosen: the page comes back saying so
        "POST", "/orientations/{referral_id:int}/pieces", "/orientations/{ref_ab}/pieces", page("400", MEMBERS)
    ),
    Probe(
        "GET",
        "/orientations/{referral_id:int}/pieces/{attachment_id:int}",
        "/orientations/{ref_ab}/pieces/{file_ab}",
        page("200", MEMBERS),
    ),
    Probe("GET", "/orientations/chiffres", "/orientations/chiffres", page("200")),
    Probe(
        "GET", "/orientations/{referral_id:int}/fiche.docx", "/orientations/{ref_ab}/fiche.docx", page("200", MEMBERS)
    ),
    Probe("GET", "/orientations/{referral_id:int}/fiche.pdf", "/orientations/{ref_ab}/fiche.pdf", page("200", MEMBERS)),
    Probe("GET", "/suivi/{code:str}", "/suivi/code-de-suivi-de-la-matrice", public("200")),
    Probe("GET", "/suivi/{code:str}", "/suivi/code-inconnu-de-la-matrice", public("404")),
]
PROBES += PAGE_PROBES

# slots: any signed-in person sees their own (maybe empty) page; only the receiving structure publishes or closes
SLOT_PROBES: list[Probe] = [
    Probe("GET", "/orientations/creneaux", "/orientations/creneaux", page("200")),
    Probe(
        "POST",
        "/orientations/creneaux",
        "/orientations/creneaux",
        page("see:/orientations/creneaux", {"manager_b"}, denied="404"),
        form={
            "service_id": "{svc_b_referrals}",
            "weekday": "3",
            "start_time": "14:00",
            "end_time": "16:00",
            "length": "30",
            "seats": "2",
        },
    ),
    Probe(
        "POST",
        "/orientations/creneaux/{schedule_id:int}/fermer",
        "/orientations/creneaux/{schedule_b}/fermer",
        page("see:/orientations/creneaux", {"manager_b"}, denied="404"),
        form={"day": "2026-12-24"},
    ),
]
PROBES += SLOT_PROBES
