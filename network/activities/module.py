"""Activity records as the hub composes them: their MODULE.

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly; the parts load on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.hooks import StructureMerged
from hub.modules import DemoContext, JournalLabels, Module, NavItem
from network.activities import cli

if TYPE_CHECKING:
    from hub.accounts import Actor
    from hub.reporting import Period, Section
    from hub.runtime import Runtime


def _routes() -> Sequence[Any]:
    from network.activities.import_routes import IMPORT_CONTROLLERS
    from network.activities.routes import CONTROLLERS
    from network.activities.workshop_routes import WORKSHOP_CONTROLLERS

    return [*CONTROLLERS, *WORKSHOP_CONTROLLERS, *IMPORT_CONTROLLERS]


def _nav(actor: Actor | None) -> Sequence[NavItem]:
    if actor is None or not actor.fully_authenticated:
        return []
    if actor.structures_with() or actor.oversees_network:
        return [NavItem("/activites", "Activités", order=17)]
    return []


async def _seed_demo(rt: Runtime, context: DemoContext) -> None:
    from network.activities import demo

    await demo.seed(rt, context)


def _probes() -> Sequence[Any]:
    from network.activities import probes

    return probes.PROBES


async def _report(rt: Runtime, period: Period) -> Section:
    from network.activities import report

    return await report.report(rt, period)


async def _structure_merged(rt: Runtime, event: Any) -> Mapping[str, int]:
    from network.activities import merging

    return await merging.structure_merged(rt, event)


# The journal page's French for activity records (counts only: never a person).
JOURNAL = JournalLabels(
    actions={
        "activities_imported": "Activités importées",
        "activities_exported": "Activités exportées",
    },
    details={"created": "Ajoutées", "refused": "Refusées", "rows": "Lignes", "format": "Format"},
    values={"format": {"coop": "export de la Coop de la médiation numérique", "template": "modèle Maillage"}},
)

MODULE = Module(
    name="activities",
    piccolo_app="network.activities.piccolo_app",
    routes=_routes,
    nav=_nav,
    probes=_probes,
    commands=cli.add_commands,
    demo=_seed_demo,
    report=_report,
    journal=JOURNAL,
    hooks={StructureMerged: _structure_merged},
)
