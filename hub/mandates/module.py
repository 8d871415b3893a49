"""Mandates as the hub composes them: their MODULE.

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly; the parts load on first use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.hooks import StructureMerged
from hub.mandates import cli
from hub.mandates.seal import SealSettings
from hub.mandates.vocabulary import SCOPES
from hub.modules import DemoContext, JournalLabels, JournalObject, Module, NavItem, PeriodicWork

if TYPE_CHECKING:
    from hub.accounts import Actor
    from hub.mandates.seal import HubSeal
    from hub.reporting import Period, Section
    from hub.runtime import Runtime

MANDATE_ROLES = ("aidant", "manager")  # who works with a structure's mandates (habilitated aidants act)


@dataclasses.dataclass(frozen=True)
class MandateSettings:
    """The mandates' section of the settings (README, "Mandates")."""

    retention_years: int = 6  # mandates and residents' data kept this long after a mandate's end, then purged
    reminder_days: int = 30  # the structure's aidants are told this many days before a mandate ends
    seal: SealSettings = dataclasses.field(default_factory=SealSettings)  # MAILLAGE_SEAL_*, MAILLAGE_TSA_*

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MandateSettings:
        return cls(
            retention_years=int(env.get("MAILLAGE_MANDATE_RETENTION_YEARS", cls.retention_years)),
            reminder_days=int(env.get("MAILLAGE_MANDATE_REMINDER_DAYS", cls.reminder_days)),
            seal=SealSettings.from_env(env),
        )


def _routes() -> Sequence[Any]:
    from hub.mandates.api import API_CONTROLLERS
    from hub.mandates.routes import CONTROLLERS

    return [*CONTROLLERS, *API_CONTROLLERS]


def _nav(actor: Actor | None) -> Sequence[NavItem]:
    if actor is None or not actor.fully_authenticated:
        return []
    if actor.structures_with(*MANDATE_ROLES):
        return [NavItem("/mandats", "Mandats", order=16)]
    return []


def _seal(rt: Runtime) -> HubSeal:
    from hub.mandates.seal import HubSeal

    return HubSeal.from_settings(rt.settings, rt.settings.section(MandateSettings).seal)


async def _remind(rt: Runtime) -> int:
    from hub.mandates import due

    return await due.remind(rt)


async def _expire(rt: Runtime) -> int:
    from hub.mandates import due

    return await due.expire(rt)


async def _purge(rt: Runtime) -> int:
    from hub.mandates import due

    return await due.purge(rt)


async def _seed_demo(rt: Runtime, context: DemoContext) -> None:
    from hub.mandates import demo

    await demo.seed(rt, context)


async def _structure_merged(rt: Runtime, event: Any) -> Mapping[str, int]:
    from hub.mandates import service

    return await service.structure_merged(rt, event)


def _probes() -> Sequence[Any]:
    from hub.mandates import probes

    return probes.PROBES


# The journal page's French for mandates: the journal keeps ids and codes only, never a resident's name.
JOURNAL = JournalLabels(
    actions={
        "aidant_habilitated": "Aidant habilité à faire des mandats",
        "aidant_habilitation_withdrawn": "Habilitation d'aidant retirée",
        "charter_accepted": "Charte de l'aidant acceptée",
        "resident_created": "Personne accompagnée enregistrée",
        "mandate_drafted": "Projet de mandat créé",
        "mandate_signed": "Mandat signé",
        "mandate_finalised": "Mandat finalisé et scellé",
        "mandate_cancelled": "Projet de mandat abandonné",
        "mandate_revoked": "Mandat révoqué",
        "mandate_scopes_replaced": "Démarches remplacées par un nouveau mandat",
        "mandate_variant_uploaded": "Modèle de mandat de la structure déposé",
        "mandate_variant_activated": "Modèle de mandat de la structure activé",
        "mandate_variant_deactivated": "Modèle de mandat de la structure désactivé",
        "mandates_reminded": "Aidants prévenus de mandats bientôt échus",
        "mandates_expired": "Mandats arrivés à échéance",
        "mandates_purged": "Mandats effacés après la durée de conservation",
        "residents_purged": "Personnes accompagnées effacées après la durée de conservation",
    },
    details={
        "scopes": "Démarches",
        "duration": "Durée (jours)",
        "renews": "Renouvelle le mandat n°",
        "sha256": "Empreinte SHA-256 du PDF scellé",
        "replaced": "Démarches remplacées",
        "mode": "Signature",
        "kind": "Document",
        "version": "Version",
        "revocation": "Attestation de révocation n°",
        "whole": "Mandat entier",
        "count": "Nombre",
        "by": "Par",
        "ok": "Accepté",
    },
    values={
        "scopes": {scope.code: scope.label for scope in SCOPES},
        "mode": {"screen": "sur l'écran", "paper": "sur papier"},
    },
    refers_to={"by": "user"},
    objects={
        "mandate": JournalObject("mandat", "/mandats/{id}"),
        "resident": JournalObject("personne accompagnée"),
        "user": JournalObject("personne"),
    },
)


async def _report(rt: Runtime, period: Period) -> Section:
    from hub.mandates import report

    return await report.report(rt, period)


MODULE = Module(
    name="mandates",
    piccolo_app="hub.mandates.piccolo_app",
    routes=_routes,
    nav=_nav,
    periodic=(
        PeriodicWork("mandate_reminders", "mandats bientôt échus signalés aux aidants", _remind),
        PeriodicWork("mandates_expired", "mandats arrivés à échéance", _expire),
        PeriodicWork("mandates_purged", "mandats purgés après la durée de conservation", _purge),
    ),
    commands=cli.add_commands,
    demo=_seed_demo,
    settings=MandateSettings,
    state=_seal,
    hooks={StructureMerged: _structure_merged},
    probes=_probes,
    journal=JOURNAL,
    report=_report,
)
