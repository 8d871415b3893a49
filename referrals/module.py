"""Referrals as the hub composes them: their MODULE.

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly; the parts load on first use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.modules import DemoContext, JournalLabels, JournalObject, Module, NavItem, PeriodicWork
from referrals import lifecycle  # plain data, light at import

if TYPE_CHECKING:
    from hub.accounts import Actor
    from hub.reporting import Period, Section
    from hub.runtime import Runtime

REFERRAL_ROLES = ("prescriber", "aidant", "manager")


@dataclasses.dataclass(frozen=True)
class ReferralSettings:
    """The referrals' section of the settings (README, "Configuration")."""

    reminder_days: int = 10  # a reminder to the receiver every this many days while unanswered
    escalation_days: int = 20  # then the coordinator is told
    expiry_days: int = 30  # then it expires, and the prescriber is told
    anonymise_months: int = 24  # residents' data emptied this long after the referral's last change
    attachment_purge_months: int = 6  # attached files deleted this long after the referral ended

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReferralSettings:
        return cls(
            reminder_days=int(env.get("MAILLAGE_REFERRAL_REMINDER_DAYS", cls.reminder_days)),
            escalation_days=int(env.get("MAILLAGE_REFERRAL_ESCALATION_DAYS", cls.escalation_days)),
            expiry_days=int(env.get("MAILLAGE_REFERRAL_EXPIRY_DAYS", cls.expiry_days)),
            anonymise_months=int(env.get("MAILLAGE_REFERRAL_ANONYMISE_MONTHS", cls.anonymise_months)),
            attachment_purge_months=int(
                env.get("MAILLAGE_REFERRAL_ATTACHMENT_PURGE_MONTHS", cls.attachment_purge_months)
            ),
        )


def _routes() -> Sequence[Any]:
    from referrals.api import API_CONTROLLERS
    from referrals.routes import CONTROLLERS
    from referrals.slot_routes import SLOT_CONTROLLERS

    return [*SLOT_CONTROLLERS, *CONTROLLERS, *API_CONTROLLERS]


def _nav(actor: Actor | None) -> Sequence[NavItem]:
    if actor is None or not actor.fully_authenticated:
        return []
    if actor.structures_with(*REFERRAL_ROLES):
        return [NavItem("/orientations", "Orientations", order=15)]
    if actor.oversees_network:
        return [NavItem("/orientations/chiffres", "Orientations", order=15)]
    return []


async def _remind(rt: Runtime) -> int:
    from referrals import due

    return await due.remind(rt)


async def _escalate(rt: Runtime) -> int:
    from referrals import due

    return await due.escalate(rt)


async def _expire(rt: Runtime) -> int:
    from referrals import due

    return await due.expire(rt)


async def _anonymise(rt: Runtime) -> int:
    from referrals import due

    return await due.anonymise(rt)


async def _purge_attachments(rt: Runtime) -> int:
    from referrals import attachments

    return await attachments.purge(rt)


async def _seed_demo(rt: Runtime, context: DemoContext) -> None:
    from referrals import demo

    await demo.seed(rt, context)


def _probes() -> Sequence[Any]:
    from referrals import probes

    return probes.PROBES


# The journal page's French for referrals (codes only are journalled: never the resident)
JOURNAL = JournalLabels(
    actions={
        "referral_sent": "Orientation envoyée",
        "referral_review": "Orientation prise en charge pour étude",
        "referral_accept": "Orientation acceptée",
        "referral_refuse": "Orientation refusée",
        "referral_redirect": "Orientation réorientée vers un autre service",
        "referral_close": "Orientation clôturée",
        "referral_amend": "Orientation complétée",
        "referral_cancel": "Orientation annulée",
        "referrals_expired": "Orientations expirées sans réponse",
        "referral_attach": "Pièces jointes ajoutées à une orientation",
    },
    details={
        "to": "Vers",
        "service": "Service n°",
        "slot": "Rendez-vous réservé",
        "referral": "Nouvelle orientation n°",
        "reason": "Motif",
        "shared": "Motif transmis à la personne",
        "outcome": "Résultat",
        "count": "Nombre",
    },
    values={"reason": lifecycle.REFUSAL_REASONS, "outcome": lifecycle.OUTCOMES},  # the pages' own words
    refers_to={"to": "structure"},
    objects={"referral": JournalObject("orientation", "/orientations/{id}")},
)


async def _report(rt: Runtime, period: Period) -> Section:
    from referrals import report

    return await report.report(rt, period)


MODULE = Module(
    name="referrals",
    piccolo_app="referrals.piccolo_app",
    routes=_routes,
    nav=_nav,
    periodic=(
        PeriodicWork("reminded", "orientations rappelées au service", _remind),
        PeriodicWork("escalated", "orientations signalées à la coordination", _escalate),
        PeriodicWork("expired", "orientations expirées", _expire),
        PeriodicWork("anonymised", "orientations anonymisées", _anonymise),
        PeriodicWork("attachments_purged", "pièces jointes d'orientations effacées", _purge_attachments),
    ),
    demo=_seed_demo,
    settings=ReferralSettings,
    probes=_probes,
    journal=JOURNAL,
    report=_report,
)
