"""The actor directory as the hub composes it: its MODULE.

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly: route handlers and the
heavier work are imported when the app, the jobs loop or a command first asks for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.modules import Module, NavItem, PeriodicWork
from network import cli

if TYPE_CHECKING:
    from hub.accounts import Actor
    from hub.reporting import Period, Section
    from hub.runtime import Runtime
    from network.geocoding import Geocoder


@dataclasses.dataclass(frozen=True)
class DirectorySettings:
    """The directory's section of the settings (README, "Configuration")."""

    confirm_months: int = 6  # entries unconfirmed this long: their managers are asked to check them
    # Map tiles: any XYZ tile server; the directory list works without them.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© les contributeurs d'OpenStreetMap"
    # Address search: a BAN geocoder (geocodejson) when set; else the directory's own gazetteer only.
    geocoder_url: str = ""
    geocoder_timeout_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DirectorySettings:
        return cls(
            confirm_months=int(env.get("MAILLAGE_CONFIRM_MONTHS", cls.confirm_months)),
            tile_url=env.get("MAILLAGE_TILE_URL", cls.tile_url),
            tile_attribution=env.get("MAILLAGE_TILE_ATTRIBUTION", cls.tile_attribution),
            geocoder_url=env.get("MAILLAGE_GEOCODER_URL", cls.geocoder_url).strip(),
            geocoder_timeout_seconds=float(env.get("MAILLAGE_GEOCODER_TIMEOUT", cls.geocoder_timeout_seconds)),
        )


def _routes() -> Sequence[Any]:
    from network.api import DirectoryApi
    from network.edit_routes import EDIT_CONTROLLERS
    from network.routes import DIRECTORY_CONTROLLERS

    return [*DIRECTORY_CONTROLLERS, *EDIT_CONTROLLERS, DirectoryApi]


def _nav(actor: Actor | None) -> Sequence[NavItem]:
    items = [NavItem("/annuaire", "Annuaire", order=10)]
    if actor is not None and actor.fully_authenticated and actor.oversees_network:
        items.append(NavItem("/annuaire/coordination", "Coordination", order=30))
    return items


def _geocoder(rt: Runtime) -> Geocoder:
    from network.geocoding import Geocoder

    section = rt.settings.section(DirectorySettings)
    return Geocoder(section.geocoder_url, section.geocoder_timeout_seconds)


async def _remind_stale_entries(rt: Runtime) -> int:
    from network import structures

    return await structures.remind_stale_entries(rt)


async def _purge_import_reports(rt: Runtime) -> int:
    from network.exchange import records

    return await records.purge(rt.now())


async def _drain_index_queue(rt: Runtime) -> int:
    from network.search import pending

    return (await pending.drain()).services  # services an import queued and a stopped process left behind


def _probes() -> Sequence[Any]:
    from network import probes

    return probes.PROBES


async def _seed_demo(rt: Runtime, context: Any) -> None:
    from network import demo

    await demo.seed(rt, context)


async def _report(rt: Runtime, period: Period) -> Section:
    from network import report

    return await report.report(rt, period)


MODULE = Module(
    name="directory",
    piccolo_app="network.piccolo_app",
    routes=_routes,
    nav=_nav,
    periodic=(
        PeriodicWork("reminders", "fiches à confirmer rappelées", _remind_stale_entries),
        PeriodicWork("reindexed", "services indexés après un import interrompu", _drain_index_queue),
        PeriodicWork("import_reports_purged", "rapports d'import purgés", _purge_import_reports),
    ),
    commands=cli.add_commands,
    demo=_seed_demo,
    settings=DirectorySettings,
    state=_geocoder,
    probes=_probes,
    report=_report,
    image_sources=lambda settings: [settings.section(DirectorySettings).tile_url],  # the map's tiles (CSP img-src)
    csrf_exempt=("/annuaire/recherche",),  # the search form's POST changes nothing: it keeps addresses out of URLs
)
