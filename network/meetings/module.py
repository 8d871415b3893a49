"""Network meetings as the hub composes them: their MODULE (events, invitations, attendance, minutes, action
items, partner indicators, and the meetings' section of the reporting pack).

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly; the parts load on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.hooks import StructureMerged
from hub.modules import DemoContext, JournalLabels, JournalObject, Module, NavItem, PeriodicWork

if TYPE_CHECKING:
    from hub.accounts import Actor
    from hub.reporting import Period, Section
    from hub.runtime import Runtime


def _routes() -> Sequence[Any]:
    from network.meetings.dashboard import CONTROLLERS as PACK_CONTROLLERS
    from network.meetings.routes import CONTROLLERS

    return [*PACK_CONTROLLERS, *CONTROLLERS]


def _nav(actor: Actor | None) -> Sequence[NavItem]:
    if actor is None or not actor.fully_authenticated:
        return []
    if actor.oversees_network or actor.roles:
        return [NavItem("/reunions", "Réunions", order=30)]
    return []


async def _remind(rt: Runtime) -> int:
    from network.meetings.rsvp import send_reminders

    return await send_reminders(rt)


async def _seed_demo(rt: Runtime, context: DemoContext) -> None:
    from network.meetings.demo import seed

    await seed(rt, context)


async def _report(rt: Runtime, period: Period) -> Section:
    from network.meetings.service import meetings_section

    return await meetings_section(rt, period)


def _probes() -> Sequence[Any]:
    from network.meetings.dashboard import PROBES as PACK_PROBES
    from network.meetings.probes import PROBES

    return [*PROBES, *PACK_PROBES]


async def _build_pack(rt: Runtime, payload: dict[str, Any]) -> None:
    from network.meetings.jobs import run_build

    await run_build(rt, payload)


def _commands(sub: Any) -> None:
    from network.meetings.jobs import add_commands

    add_commands(sub)


async def _structure_merged(rt: Runtime, event: Any) -> Mapping[str, int]:
    from network.meetings import merging

    return await merging.structure_merged(rt, event)


# The journal page's French for meetings (ids and codes only are journalled).
JOURNAL = JournalLabels(
    actions={
        "meetings.event_created": "Rencontre du réseau créée",
        "meetings.event_updated": "Rencontre du réseau modifiée",
        "meetings.invited": "Invitations envoyées",
        "meetings.answered": "Réponse à une invitation",
        "meetings.attendance": "Présences enregistrées",
        "meetings.minutes_saved": "Compte rendu enregistré",
        "meetings.action_added": "Action décidée",
        "meetings.action_status": "Statut d'une action changé",
        "meetings.indicator_defined": "Indicateur des partenaires défini",
        "meetings.indicator_values": "Valeurs d'un indicateur saisies",
        "meetings.pack_requested": "Bilan du réseau demandé",
    },
    details={
        "answer": "Réponse",
        "invited": "Personnes invitées",
        "kind": "Type",
        "period": "Période",
        "present": "Personnes présentes",
        "status": "Statut",
        "values": "Valeurs",
        "via": "Par",
    },
    values={
        "answer": {"yes": "oui", "no": "non", "maybe": "peut-être"},
        "via": {"link": "le lien du courriel", "page": "la page Réunions"},
    },
    objects={
        "meetings_event": JournalObject("rencontre", "/reunions/{id}"),
        "meetings_action": JournalObject("action"),
        "meetings_indicator": JournalObject("indicateur"),
        "meetings_invitation": JournalObject("invitation"),
        "meetings_pack": JournalObject("bilan", "/reunions/bilan/{id}"),
    },
)

MODULE = Module(
    name="meetings",
    piccolo_app="network.meetings.piccolo_app",
    routes=_routes,
    nav=_nav,
    periodic=(PeriodicWork("reminded", "rappels de réunion envoyés", _remind),),
    demo=_seed_demo,
    probes=_probes,
    report=_report,
    job_handlers={"meetings.pack_build": _build_pack},
    commands=_commands,
    journal=JOURNAL,
    hooks={StructureMerged: _structure_merged},
)
