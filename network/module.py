"""The actor directory as the hub composes it: its MODULE.

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly: route handlers and the
heavier work are imported when the app, the jobs loop or a command first asks for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.modules import JournalLabels, JournalObject, Module, NavItem, PeriodicWork
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
    # The files of one import from the desk, together (a département's full data·inclusion export: about 85 MB).
    import_max_megabytes: float = 200.0

    @property
    def import_max_bytes(self) -> int:
        return int(self.import_max_megabytes * 1_000_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DirectorySettings:
        return cls(
            confirm_months=int(env.get("MAILLAGE_CONFIRM_MONTHS", cls.confirm_months)),
            tile_url=env.get("MAILLAGE_TILE_URL", cls.tile_url),
            tile_attribution=env.get("MAILLAGE_TILE_ATTRIBUTION", cls.tile_attribution),
            geocoder_url=env.get("MAILLAGE_GEOCODER_URL", cls.geocoder_url).strip(),
            geocoder_timeout_seconds=float(env.get("MAILLAGE_GEOCODER_TIMEOUT", cls.geocoder_timeout_seconds)),
            import_max_megabytes=float(env.get("MAILLAGE_IMPORT_MAX_MB", cls.import_max_megabytes)),
        )


def _routes() -> Sequence[Any]:
    from network.api import DirectoryApi
    from network.edit_routes import EDIT_CONTROLLERS
    from network.routes import DIRECTORY_CONTROLLERS

    return [*DIRECTORY_CONTROLLERS, *EDIT_CONTROLLERS, DirectoryApi]


def _nav(actor: Actor | None) -> Sequence[NavItem]:
    items = [NavItem("/annuaire", "Annuaire", order=10)]
    if actor is not None and actor.fully_authenticated:
        # "Ma structure": the first structure the caller manages, on its page (edit actions, members, invitations)
        items += [
            NavItem(f"/annuaire/structures/{sid}", "Ma structure", 20) for sid in actor.structures_with("manager")[:1]
        ]
        if actor.oversees_network:
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
    from network.exchange import import_jobs, records

    return await records.purge(rt.now()) + await import_jobs.purge(rt)


IMPORT_JOB = "directory.import"  # a coordinator's upload, imported by the jobs loop


async def _run_import(rt: Runtime, payload: dict[str, Any]) -> None:
    from network.exchange import import_jobs

    await import_jobs.run(rt, payload)


async def _drain_index_queue(rt: Runtime) -> int:
    from network.search import pending

    return (await pending.drain()).services  # services an import queued and a stopped process left behind


def _probes() -> Sequence[Any]:
    from network import probes

    return probes.PROBES


async def _seed_demo(rt: Runtime, context: Any) -> None:
    from network import demo

    await demo.seed(rt, context)


async def _service_names(ids: Sequence[str]) -> Mapping[str, str]:
    from network.tables import Service

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = await Service.select(Service.id, Service.name).where(Service.id.is_in(wanted or [-1]))
    return {str(row["id"]): row["name"] for row in rows}


async def _place_names(ids: Sequence[str]) -> Mapping[str, str]:
    from network.tables import Place

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = await Place.select(Place.id, Place.name, Place.commune).where(Place.id.is_in(wanted or [-1]))
    return {str(row["id"]): row["name"] or row["commune"] for row in rows}


# What an import did, per kind of row, agreed in French (structures are feminine; services and places masculine).
_IMPORT_COUNTS = {
    "structures_created": "Structures créées",
    "structures_updated": "Structures mises à jour",
    "structures_unchanged": "Structures inchangées",
    "structures_rejected": "Structures refusées",
    "services_created": "Services créés",
    "services_updated": "Services mis à jour",
    "services_unchanged": "Services inchangés",
    "services_rejected": "Services refusés",
    "lieus_created": "Lieux créés",
    "lieus_updated": "Lieux mis à jour",
    "lieus_unchanged": "Lieux inchangés",
    "lieus_rejected": "Lieux refusés",
}


async def _import_names(ids: Sequence[str]) -> Mapping[str, str]:
    """An import is journalled under its kept report's number; older entries were under their format's code."""
    return {i: FORMAT_LABELS[i] for i in ids if i in FORMAT_LABELS}


FORMAT_LABELS = {
    "datainclusion": "data·inclusion",
    "datainclusion-json": "data·inclusion (JSON)",
    "datainclusion-csv": "data·inclusion (CSV)",
    "mednum": "médiation numérique (CSV)",
    "mednum-csv": "médiation numérique (CSV)",
    "geojson": "GeoJSON",
}
JOURNAL = JournalLabels(
    actions={
        "structure_join_requested": "Demande d'adhésion reçue",
        "structure_join_refused": "Demande d'adhésion refusée",
        "structure_approved": "Structure validée",
        "structure_updated": "Fiche de structure modifiée",
        "structure_confirmed": "Fiche de structure confirmée à jour",
        "structure_closed": "Structure fermée",
        "structure_merged": "Structures fusionnées",
        "duplicate_dismissed": "Doublon écarté",
        "service_created": "Service créé",
        "service_updated": "Service modifié",
        "service_closed": "Service retiré de l'annuaire",
        "service_reopened": "Service remis dans l'annuaire",
        "place_added": "Lieu ajouté",
        "place_removed": "Lieu retiré",
        "synonyms_added": "Synonymes ajoutés à la recherche",
        "synonyms_removed": "Synonymes retirés de la recherche",
        "directory_import": "Import de l'annuaire",
        "directory_export": "Export de l'annuaire",
    },
    details={
        "kept": "Fiche gardée",
        "other": "Autre fiche",
        "services": "Services",
        "memberships": "Rôles déplacés",
        "memberships_left": "Rôles déjà tenus, laissés sur la fiche fermée",
        "invitations": "Invitations déplacées",
        "mailed": "Message envoyé au demandeur",
        "format": "Format",
        "source": "Source",
        "structures": "Structures",
        "places": "Lieux",
        "skipped": "Lignes écartées",
        "duplicates_flagged": "Doublons signalés",
        **_IMPORT_COUNTS,
    },
    values={"format": FORMAT_LABELS},
    refers_to={"kept": "structure", "other": "structure"},
    objects={
        "structure": JournalObject("structure", "/annuaire/structures/{id}"),
        "service": JournalObject("service", "/annuaire/services/{id}", _service_names),
        "place": JournalObject("lieu", "", _place_names),
        "duplicate_flag": JournalObject("signalement de doublon"),
        "synonym": JournalObject("groupe de synonymes"),
        "import": JournalObject("import", "", _import_names),
        "export": JournalObject("export"),
    },
)


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
    job_handlers={IMPORT_JOB: _run_import},
    commands=cli.add_commands,
    demo=_seed_demo,
    settings=DirectorySettings,
    state=_geocoder,
    probes=_probes,
    report=_report,
    image_sources=lambda settings: [settings.section(DirectorySettings).tile_url],  # the map's tiles (CSP img-src)
    csrf_exempt=("/annuaire/recherche",),  # the search form's POST changes nothing: it keeps addresses out of URLs
    journal=JOURNAL,
)
