"""Directory rules: reading, who edits what, services and places (a structure's own life: network.structures)."""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Avg

from hub import hooks, journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from network import validation, vocabulary
from network.schemas import PlaceCreate, ServiceUpdate
from network.search import index as search_index
from network.tables import Place, Service, ServiceTag, Structure


# ---------------------------------------------------------------- reading
async def structure_for(actor: Actor | None, structure_id: int) -> dict[str, Any]:
    """Active structures are public; pending or closed ones only for their managers and the coordinator."""
    row = await Structure.select().where(Structure.id == structure_id).output(load_json=True).first()
    if row is None or (row["status"] != "active" and not can_edit(actor, structure_id)):
        raise NotFound("Cette structure n'existe pas ou n'est plus dans l'annuaire.")
    return row


async def merged_into(structure: dict[str, Any]) -> dict[str, Any] | None:
    """The structure a merge closed this one into (id and name), for its page to point there; else None."""
    target = structure.get("merged_into")
    if target is None:
        return None
    return await Structure.select(Structure.id, Structure.name).where(Structure.id == target).first()


async def services_of(structure_id: int, include_inactive: bool = False) -> list[dict[str, Any]]:
    query = Service.select().where(Service.structure == structure_id).order_by(Service.name).output(load_json=True)
    if not include_inactive:
        query = query.where(Service.is_active == True)  # noqa: E712
    return await query


async def service_for(
    actor: Actor | None, service_id: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    service = await Service.select().where(Service.id == service_id).output(load_json=True).first()
    if service is None:
        raise NotFound("Ce service n'existe pas.")
    structure = await structure_for(actor, service["structure"])
    if not service["is_active"] and not can_edit(actor, structure["id"]):
        raise NotFound("Ce service n'existe pas.")
    places = await Place.select().where(Place.service == service_id).order_by(Place.name)
    return service, structure, places


_SEARCH_OPTIONS: search_index.DirectoryCache[dict[str, Any]] = search_index.DirectoryCache(max_age=60.0)


async def search_options() -> dict[str, Any]:
    """What the search form offers: the thématiques, communes and neighbourhoods of searchable services
    (read once per directory change, not on every search)."""
    return await _SEARCH_OPTIONS.get(_read_search_options)


# The form offers only what a search can find: codes and places of searchable services (an active service of an
# active structure), i.e. of the rows of the search index, never those of inactive services or closed structures.
# (each code's first searchable service is enough: a probe per code on the (kind, code, service) index, not a join)
_SEARCHABLE_THEMES = """SELECT c.code FROM (SELECT DISTINCT code FROM network_service_tag WHERE kind = 'thematique') c
    WHERE EXISTS (SELECT 1 FROM network_service_tag t JOIN network_search s ON s.service_id = t.service
    WHERE t.kind = 'thematique' AND t.code = c.code)"""
_WITH_SEARCHABLE_SERVICES = "EXISTS (SELECT 1 FROM network_search s WHERE s.structure_id = network_structure.id)"


async def _read_search_options() -> dict[str, Any]:
    themes = await ServiceTag.raw(_SEARCHABLE_THEMES)
    searchable = (Structure.status == "active") & WhereRaw(_WITH_SEARCHABLE_SERVICES)
    communes = await Structure.select(Structure.commune).where(searchable & (Structure.commune != "")).distinct()
    centres = (
        await Structure.select(
            Structure.neighbourhood, Avg(Structure.latitude).as_alias("lat"), Avg(Structure.longitude).as_alias("lon")
        )
        .where(searchable & (Structure.neighbourhood != "") & Structure.latitude.is_not_null())
        .group_by(Structure.neighbourhood)
    )
    return {
        "thematiques": {c: vocabulary.THEMATIQUES.get(c, c) for c in sorted(r["code"] for r in themes)},
        "communes": sorted(r["commune"] for r in communes),
        "centres": {
            r["neighbourhood"]: (r["lat"], r["lon"]) for r in sorted(centres, key=lambda r: r["neighbourhood"])
        },
    }


async def pending_structures() -> list[dict[str, Any]]:
    return await Structure.select().where(Structure.status == "pending").order_by(Structure.created_at)


def team_email(service: dict[str, Any]) -> str:
    """The team's mailbox for the service page, when the service says it answers by e-mail; never an address
    shaped like a person's own."""
    wanted = "envoyer-un-courriel" in (service["mobilisation_modes"] or [])
    return validation.public_email(service["referral_email"] or "") if wanted else ""


def can_edit(actor: Actor | None, structure_id: int) -> bool:
    return (
        actor is not None
        and actor.fully_authenticated
        and (actor.oversees_network or actor.has_role(structure_id, "manager"))
    )


def require_editor(actor: Actor, structure_id: int) -> None:
    if not can_edit(actor, structure_id):
        raise Forbidden("Seuls les référents de cette structure et le coordinateur peuvent la modifier.")


# ---------------------------------------------------------------- services and places
async def save_service(
    rt: Runtime, actor: Actor, structure_id: int, command: ServiceUpdate, service_id: int | None = None
) -> int:
    """Create the service (service_id None) or rewrite its description; journalled, reindexed."""
    structure = await structure_for(actor, structure_id)
    require_editor(actor, structure_id)
    if service_id is None and structure["status"] == "closed":
        raise Conflict("Cette structure est fermée : on ne lui ajoute plus de service.")
    values: dict[Any, Any] = msgspec.structs.asdict(command)  # its fields are the columns
    async with write_transaction():
        if service_id is None:
            now = rt.now()
            service = Service(structure=structure_id, created_at=now, updated_at=now, updated_on=now.date(), **values)
            await service.save()
            service_id = int(service.id)
            action = "service_created"
        else:
            updated = (
                await Service.update({**values, "updated_at": rt.now(), "updated_on": rt.today()})
                .where((Service.id == service_id) & (Service.structure == structure_id))
                .returning(Service.id)
            )
            if not updated:
                raise NotFound("Ce service n'existe pas.")
            action = "service_updated"
        await journal.append(rt, Act(action, actor.user_id, structure_id, "service", service_id))
        await search_index.sync_tags(service_id)
        await search_index.reindex_service(service_id)
    return service_id


async def set_service_active(rt: Runtime, actor: Actor, structure_id: int, service_id: int, active: bool) -> None:
    require_editor(actor, structure_id)
    async with write_transaction():
        updated = (
            await Service.update({Service.is_active: active, Service.updated_at: rt.now()})
            .where((Service.id == service_id) & (Service.structure == structure_id))
            .returning(Service.id)
        )
        if not updated:
            raise NotFound("Ce service n'existe pas.")
        await journal.append(
            rt,
            Act("service_reopened" if active else "service_closed", actor.user_id, structure_id, "service", service_id),
        )
        if not active:  # whatever other domains hold against this service (referrals, slots) learns it now
            await hooks.announce(rt, hooks.ServiceClosed(service_id=service_id, structure_id=structure_id))
        await search_index.reindex_service(service_id)


async def add_place(rt: Runtime, actor: Actor, structure_id: int, service_id: int, command: PlaceCreate) -> int:
    """A place (permanence, itinerant stop) where the service is given; journalled, the service reindexed."""
    require_editor(actor, structure_id)
    async with write_transaction():
        if not await Service.exists().where((Service.id == service_id) & (Service.structure == structure_id)):
            raise NotFound("Ce service n'existe pas.")
        place = Place(service=service_id, **msgspec.structs.asdict(command))  # its fields are the columns
        await place.save()
        await journal.append(rt, Act("place_added", actor.user_id, structure_id, "place", place.id))
        await search_index.reindex_service(service_id)
    return int(place.id)


async def remove_place(rt: Runtime, actor: Actor, structure_id: int, place_id: int) -> None:
    require_editor(actor, structure_id)
    async with write_transaction():
        row = (
            await Place.select(Place.id, Place.service, Place.service.structure.as_alias("structure_id"))
            .where(Place.id == place_id)
            .first()
        )
        if row is None or row["structure_id"] != structure_id:
            raise NotFound("Ce lieu n'existe pas.")
        await Place.delete().where(Place.id == place_id)
        await search_index.reindex_service(row["service"])
        await journal.append(rt, Act("place_removed", actor.user_id, structure_id, "place", place_id))


# ---------------------------------------------------------------- where to go, and how
def where_to_go(
    service: dict[str, Any], structure: dict[str, Any], places: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Where a resident goes for this service: its places, else its structure's address. Each with the one set
    of opening hours that holds there (the place's own, else the service's, else the structure's; never two
    side by side) and whose they are."""
    inherited = (
        (service["opening_hours"], "du service")
        if service["opening_hours"]
        else (structure["opening_hours"], "de la structure")
    )
    stops = [
        {
            "name": place["name"] or place["commune"],
            "address": place["address"],
            "address_extra": "",
            "postal_code": place["postal_code"],
            "commune": place["commune"],
            "neighbourhood": place["neighbourhood"],
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "itinerant": bool(place["itinerant"]),
            "hours": place["opening_hours"] or inherited[0],
            "hours_of": "de ce lieu" if place["opening_hours"] else inherited[1],
        }
        for place in places
    ]
    if stops or not (structure["address"] or structure["commune"]):
        return stops
    return [
        {
            "name": structure["name"],
            "address": structure["address"],
            "address_extra": structure["address_extra"],
            "postal_code": structure["postal_code"],
            "commune": structure["commune"],
            "neighbourhood": structure["neighbourhood"],
            "latitude": structure["latitude"],
            "longitude": structure["longitude"],
            "itinerant": False,
            "hours": inherited[0],
            "hours_of": inherited[1],
        }
    ]


def ways_in(service: dict[str, Any], structure: dict[str, Any], places: list[dict[str, Any]]) -> list[str]:
    """How a resident or a worker can reach the service at all: an address, a line, a booking link, a mailbox.
    None of them: the entry is flagged to its managers and to the coordinator."""
    ways = []
    if any(place["address"] for place in places) or (not places and structure["address"]):
        ways.append("adresse")
    if service["phone"] or structure["phone"]:
        ways.append("téléphone")
    if service["booking_url"]:
        ways.append("prise de rendez-vous")
    if team_email(service) or validation.public_email(structure["email"] or ""):
        ways.append("e-mail")
    return ways


_UNREACHABLE = """SELECT sv.id, sv.name, st.id AS structure_id, st.name AS structure_name
    FROM network_service sv JOIN network_structure st ON st.id = sv.structure
    WHERE sv.is_active AND st.status = 'active' AND sv.phone = '' AND sv.booking_url = '' AND sv.referral_email = ''
      AND st.phone = '' AND st.email = ''
      AND NOT EXISTS (SELECT 1 FROM network_place p WHERE p.service = sv.id AND p.address <> '')
      AND (st.address = '' OR EXISTS (SELECT 1 FROM network_place p WHERE p.service = sv.id))
    ORDER BY st.name, sv.name LIMIT 100"""


async def unreachable_services() -> list[dict[str, Any]]:
    """Services of the directory nobody can reach (no address, line, booking link or mailbox), for the
    coordinator's desk: the first hundred."""
    return list(await Service.raw(_UNREACHABLE))
