"""The life of a referral: its statuses, the actions that move it, who may take each, in one table.

sent ─review─▶ in_review ─accept─▶ accepted ─close(outcome)─▶ closed
 │                 │
 ├─────────────────┴─ refuse(reason) ▶ refused      (receiver)
 ├─────────────────┴─ redirect(service) ▶ redirected (receiver: a new linked referral is sent)
 ├─────────────────┴─ cancel ▶ cancelled             (sender)
 ├─────────────────┴─ amend ▶ (same status)          (sender adds information)
 └─────────────────┴─ expire ▶ expired               (the hub, unanswered after N days)
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Side = Literal["sender", "receiver", "hub"]

STATUSES: dict[str, str] = {
    "sent": "envoyée",
    "in_review": "en cours d'étude",
    "accepted": "acceptée",
    "refused": "refusée",
    "redirected": "réorientée",
    "closed": "clôturée",
    "expired": "expirée",
    "cancelled": "annulée",
}
OPEN = frozenset({"sent", "in_review"})  # waiting for the receiver's decision
ACTIVE = frozenset({"sent", "in_review", "accepted"})  # the resident is still on the way


@dataclasses.dataclass(frozen=True)
class Action:
    name: str
    label: str  # the button's French words
    side: Side
    sources: frozenset[str]
    target: str | None  # None: the status stays (amend)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("review", "Prendre en charge l'étude", "receiver", frozenset({"sent"}), "in_review"),
        Action("accept", "Accepter", "receiver", OPEN, "accepted"),
        Action("refuse", "Refuser", "receiver", OPEN, "refused"),
        Action("redirect", "Réorienter vers un autre service", "receiver", OPEN, "redirected"),
        Action("close", "Clôturer avec le résultat", "receiver", frozenset({"accepted"}), "closed"),
        Action("amend", "Compléter la demande", "sender", OPEN, None),
        Action("cancel", "Annuler la demande", "sender", OPEN, "cancelled"),
        Action("expire", "Expirer", "hub", OPEN, "expired"),
    )
}

REFUSAL_REASONS: dict[str, str] = {
    "unreachable": "La personne n'a pas pu être jointe",
    "absent": "La personne n'est pas venue au rendez-vous",
    "not_eligible": "La personne n'est pas concernée par ce service",
    "not_interested": "La personne ne souhaite plus être accompagnée",
    "not_mobile": "La personne ne peut pas se déplacer jusqu'au lieu",
    "full": "Le service n'a plus de place",
    "duplicate": "La demande a déjà été reçue",
    "other": "Autre raison",
}
# What the resident reads on their status page when the receiver shares the reason (FALC: short, "vous")
REFUSAL_FOR_RESIDENT: dict[str, str] = {
    "unreachable": "Le service n'a pas réussi à vous joindre.",
    "absent": "Vous n'êtes pas venu au rendez-vous.",
    "not_eligible": "Ce service ne peut pas vous aider pour cette demande.",
    "not_interested": "Vous avez dit que vous ne vouliez plus d'aide.",
    "not_mobile": "Le lieu est trop loin pour vous.",
    "full": "Le service n'a plus de place.",
    "duplicate": "Le service a déjà votre demande.",
    "other": "Le service vous expliquera pourquoi.",
}
OUTCOMES: dict[str, str] = {
    "helped": "La personne a été aidée",
    "followed": "L'accompagnement a commencé et continue",
    "no_show": "La personne n'est pas venue",
    "sent_elsewhere": "La personne a été orientée ailleurs",
    "other": "Autre résultat",
}
CONSENT_METHODS: dict[str, str] = {
    "oral": "à l'oral, pendant l'entretien",
    "written": "par écrit (formulaire signé)",
    "digital": "par message (SMS ou courriel)",
}
CONTACT_MODES: dict[str, str] = {"phone": "Téléphone", "sms": "SMS", "email": "Courriel", "mail": "Courrier"}


def allowed(status: str, sides: set[str]) -> list[Action]:
    """The actions these sides may take on a referral in this status (the hub's own never shown)."""
    return [a for a in ACTIONS.values() if a.side in sides and a.side != "hub" and status in a.sources]


def refusal_message(action: Action, status: str) -> str:
    """Why an action is impossible from a status, in French (the 409's detail)."""
    return (
        f"Cette orientation est {STATUSES.get(status, status)} : "
        f"l'action « {action.label.lower()} » n'est plus possible."
    )
