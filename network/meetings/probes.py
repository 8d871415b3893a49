"""The meetings' authorization probes (see hub.probes), and the objects they aim at in the route-table test's world."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.probes import OVERSEERS, Probe, page, public
from network.meetings.tables import ActionItem, Invitation, MeetingEvent

EVENT = "/reunions/{event_m}"
EVENT_FORM = {
    "kind": "meeting",
    "title": "Réunion de la matrice",
    "day": "{today}",
    "start_time": "14:00",
    "end_time": "16:00",
    "place": "Salle du conseil",
    "agenda": "Tour de table",
    "audience": "all",
}

PROBES: list[Probe] = [
    Probe("GET", "/reunions", "/reunions", page("200")),
    Probe(  # only the invitee answers; anyone else's try finds nothing
        "POST",
        "/reunions/invitations/{invitation_id:int}",
        "/reunions/invitations/{invitation_b}",
        page("see:/reunions", {"manager_b"}, denied="404"),
        form={"answer": "yes"},
    ),
    Probe(  # the owner structure's members and the coordinator; nobody else sees the item
        "POST",
        "/reunions/actions/{action_id:int}",
        "/reunions/actions/{action_b}",
        page("see:/reunions", {"manager_b"}, denied="404", coordinator=f"see:{EVENT}", admin=f"see:{EVENT}"),
        form={"status": "doing"},
    ),
    Probe("GET", "/reunions/nouvelle", "/reunions/nouvelle", page("200", OVERSEERS)),
    Probe("POST", "/reunions/nouvelle", "/reunions/nouvelle", page("see:/reunions/*", OVERSEERS), form=EVENT_FORM),
    Probe("GET", "/reunions/{event_id:int}", EVENT, page("200", OVERSEERS)),
    Probe("GET", "/reunions/{event_id:int}/modifier", f"{EVENT}/modifier", page("200", OVERSEERS)),
    Probe(
        "POST",
        "/reunions/{event_id:int}/modifier",
        f"{EVENT}/modifier",
        page(f"see:{EVENT}", OVERSEERS),
        form=EVENT_FORM,
    ),
    Probe("POST", "/reunions/{event_id:int}/inviter", f"{EVENT}/inviter", page(f"see:{EVENT}", OVERSEERS)),
    Probe("GET", "/reunions/{event_id:int}/presence", f"{EVENT}/presence", page("200", OVERSEERS)),
    Probe(
        "POST",
        "/reunions/{event_id:int}/presence",
        f"{EVENT}/presence",
        page(f"see:{EVENT}", OVERSEERS),
        form={"present": "{manager_b_user}"},
    ),
    Probe("GET", "/reunions/{event_id:int}/feuille.docx", f"{EVENT}/feuille.docx", page("200", OVERSEERS)),
    Probe("GET", "/reunions/{event_id:int}/feuille.pdf", f"{EVENT}/feuille.pdf", page("200", OVERSEERS)),
    Probe(
        "POST",
        "/reunions/{event_id:int}/compte-rendu",
        f"{EVENT}/compte-rendu",
        page(f"see:{EVENT}#compte-rendu", OVERSEERS),
        form={"minutes": "Compte rendu de la matrice."},
    ),
    Probe(
        "POST",
        "/reunions/{event_id:int}/actions",
        f"{EVENT}/actions",
        page(f"see:{EVENT}#actions", OVERSEERS),
        form={"kind": "decision", "title": "Décision de la matrice"},
    ),
    # the links sent by mail need no password: an unknown token is gone, a wrong signature finds nothing
    Probe("GET", "/reunions/reponse/{token:str}", "/reunions/reponse/jeton-inconnu", public("410")),
    Probe(
        "POST",
        "/reunions/reponse/{token:str}",
        "/reunions/reponse/jeton-inconnu",
        public("410"),
        form={"answer": "yes"},
    ),
    Probe(
        "GET",
        "/reunions/action/{action_id:int}/{signature:str}",
        "/reunions/action/{action_b}/signature-fausse",
        public("404"),
    ),
    Probe(
        "POST",
        "/reunions/action/{action_id:int}/{signature:str}",
        "/reunions/action/{action_b}/signature-fausse",
        public("404"),
        form={"status": "done"},
    ),
    Probe("GET", "/reunions/indicateurs", "/reunions/indicateurs", page("200")),
    Probe(
        "POST",
        "/reunions/indicateurs",
        "/reunions/indicateurs",
        page("see:/reunions/indicateurs", OVERSEERS),
        form={"label": "Inscriptions CAF", "definition": "Nouvelles inscriptions.", "number_type": "integer"},
    ),
    Probe(
        "GET",
        "/reunions/indicateurs/{structure_id:int}",
        "/reunions/indicateurs/{b}",
        page("200", {"manager_b", *OVERSEERS}, denied="404"),
    ),
    Probe(
        "POST",
        "/reunions/indicateurs/{structure_id:int}",
        "/reunions/indicateurs/{b}",
        page("see:/reunions/indicateurs/{b}?periode=2026-S1", {"manager_b", *OVERSEERS}, denied="404"),
        form={"period": "2026-S1"},
    ),
]


async def build_world(ids: dict[str, Any], manager_b_user: int, today: dt.date) -> None:
    """An event today (so invitations and attendance both apply), manager B invited, and an action owned by B."""
    event = MeetingEvent(
        kind="meeting", title="Réunion de la matrice", day=today, start_time="09:00", end_time="12:00", place="Salle"
    )
    await event.save()
    invitation = Invitation(event=event.id, user=manager_b_user, structure=ids["b"], token_hash="0" * 64)
    await invitation.save()
    action = ActionItem(event=event.id, kind="action", title="Action de B", owner_structure=ids["b"])
    await action.save()
    ids.update(
        event_m=int(event.id),
        invitation_b=int(invitation.id),
        action_b=int(action.id),
        manager_b_user=manager_b_user,
        today=today.isoformat(),
    )
