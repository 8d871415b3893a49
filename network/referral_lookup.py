"""What other domains may read of the directory: the one narrow interface referrals import (import-linter
allows `referrals -> network.referral_lookup` and nothing else of `network`).

Services as cards (plain data, no table rows), the directory's search for candidates, typed addresses found
by the directory's geocoder, and opening hours evaluated the directory's way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from hub import db
from hub.runtime import Runtime
from network import validation, vocabulary
from network.geocoding import Geocoder, origin_of
from network.search import hours
from network.search.query import Origin, SearchQuery, search
from network.search.query import words_matched as search_words_matched
from network.tables import Place, Service

__all__ = [
    "Origin",
    "PlaceCard",
    "ServiceCard",
    "candidates",
    "cards",
    "choices",
    "is_open",
    "labels",
    "locate",
    "thematique_label",
]


@dataclasses.dataclass(frozen=True)
class PlaceCard:
    name: str
    address: str
    postal_code: str
    commune: str
    neighbourhood: str
    latitude: float | None
    longitude: float | None
    opening_hours: str  # the place's own, else the service's, else the structure's


@dataclasses.dataclass(frozen=True)
class ServiceCard:
    """A service as a referral sees it: who gives it, to whom, where and when, and whether it takes referrals."""

    service_id: int
    name: str
    structure_id: int
    structure_name: str
    structure_kind: str
    active: bool  # the service is active and its structure too
    accepts_referrals: bool
    thematiques: tuple[str, ...]
    publics: tuple[str, ...]
    reception_modes: tuple[str, ...]  # "en-presentiel", "a-distance"
    accommodations: tuple[str, ...]
    languages: tuple[str, ...]
    eligibility_zone: tuple[str, ...]  # INSEE communes / départements, or "france"; empty: no limit stated
    access_conditions: str
    weekly_capacity: int | None
    phone: str
    booking_url: str
    referral_instructions: str
    places: tuple[PlaceCard, ...]  # where it is delivered (its structure's address when it has no place)
    justificatifs: tuple[str, ...] = ()  # what to bring ("Pièce d'identité"), one item each
    structure_phone: str = ""  # the structure's switchboard, for a service without a line of its own

    @property
    def thematique_labels(self) -> list[str]:
        return vocabulary.labels("thematique", self.thematiques)


def _codes(value: Any) -> tuple[str, ...]:
    """A JSON list column's codes (SQLite gives its text, PostgreSQL may give it decoded)."""
    if isinstance(value, str | bytes):
        value = msgspec.json.decode(value or b"[]")
    return tuple(str(code) for code in value or ())


# what a card reads of a service (not its description nor its timestamps: routing reads 100 cards a request)
_CARD_COLUMNS = (
    Service.id,
    Service.structure,
    Service.name,
    Service.is_active,
    Service.accepts_referrals,
    Service.thematiques,
    Service.publics,
    Service.reception_modes,
    Service.accommodations,
    Service.languages,
    Service.eligibility_zone,
    Service.access_conditions,
    Service.weekly_capacity,
    Service.phone,
    Service.booking_url,
    Service.referral_instructions,
    Service.opening_hours,
    Service.justificatifs,
)
_STRUCTURE_COLUMNS = tuple(
    getattr(Service.structure, name).as_alias(f"st_{name}")
    for name in (
        "name",
        "kind",
        "status",
        "phone",
        "address",
        "postal_code",
        "commune",
        "neighbourhood",
        "latitude",
        "longitude",
        "opening_hours",
    )
)


async def cards(service_ids: Iterable[int]) -> dict[int, ServiceCard]:
    """The cards of these services (unknown ids are left out), in two queries whatever their number."""
    wanted = sorted({int(i) for i in service_ids})
    if not wanted:
        return {}
    # the services with their structures (one join), and their places, at once
    services, place_rows = await db.together(
        Service.select(*_CARD_COLUMNS, *_STRUCTURE_COLUMNS).where(db.among(Service.id, wanted)),
        Place.select(
            Place.service,
            Place.name,
            Place.address,
            Place.postal_code,
            Place.commune,
            Place.neighbourhood,
            Place.latitude,
            Place.longitude,
            Place.opening_hours,
        )
        .where(db.among(Place.service, wanted))
        .order_by(Place.id),
    )
    places: dict[int, list[dict[str, Any]]] = {}
    for row in place_rows:
        places.setdefault(row["service"], []).append(row)
    found: dict[int, ServiceCard] = {}
    for row in services:
        default_hours = row["opening_hours"] or row["st_opening_hours"]
        own = [
            PlaceCard(
                name=p["name"],
                address=p["address"],
                postal_code=p["postal_code"],
                commune=p["commune"],
                neighbourhood=p["neighbourhood"],
                latitude=p["latitude"],
                longitude=p["longitude"],
                opening_hours=p["opening_hours"] or default_hours,
            )
            for p in places.get(row["id"], [])
        ]
        if not own:
            own = [
                PlaceCard(
                    name=row["st_name"],
                    address=row["st_address"],
                    postal_code=row["st_postal_code"],
                    commune=row["st_commune"],
                    neighbourhood=row["st_neighbourhood"],
                    latitude=row["st_latitude"],
                    longitude=row["st_longitude"],
                    opening_hours=default_hours,
                )
            ]
        found[row["id"]] = ServiceCard(
            service_id=row["id"],
            name=row["name"],
            structure_id=row["structure"],
            structure_name=row["st_name"],
            structure_kind=row["st_kind"],
            active=bool(row["is_active"]) and row["st_status"] == "active",
            accepts_referrals=bool(row["accepts_referrals"]),
            thematiques=_codes(row["thematiques"]),
            publics=_codes(row["publics"]),
            reception_modes=_codes(row["reception_modes"]),
            accommodations=_codes(row["accommodations"]),
            languages=_codes(row["languages"]),
            eligibility_zone=_codes(row["eligibility_zone"]),
            access_conditions=row["access_conditions"],
            weekly_capacity=row["weekly_capacity"],
            phone=row["phone"],
            booking_url=row["booking_url"],
            referral_instructions=row["referral_instructions"],
            places=tuple(own),
            justificatifs=_codes(row["justificatifs"]),
            structure_phone=row["st_phone"] or "",
        )
    return found


async def accepting_services(limit: int = 1000) -> list[ServiceCard]:
    """Active services that take referrals (the demo's and the tests' starting point), by id."""
    rows = await (
        Service.select(Service.id)
        .where((Service.is_active == True) & (Service.accepts_referrals == True))  # noqa: E712
        .order_by(Service.id)
        .limit(limit)
    )
    found = await cards(row["id"] for row in rows)
    return [card for card in found.values() if card.active]


async def candidates(
    *,
    thematiques: Sequence[str],
    text: str,
    origin: Origin | None,
    radius_m: float | None,
    now: datetime,
    limit: int,
) -> dict[int, int]:
    """Services that take referrals and match the need, through the directory's own search (nearest first when
    there is a point), each with its structure (service id -> structure id, in the search's order): what depends
    on the structure need not wait for the cards."""
    query = SearchQuery(
        text=text,
        thematiques=tuple(thematiques),
        accepts_referrals=True,
        latitude=origin.latitude if origin else None,
        longitude=origin.longitude if origin else None,
        radius_m=radius_m if origin else None,
        sort="distance" if origin else "relevance",
        limit=limit,
        count_all=False,  # the first `limit` hits are the candidates: how many more there are is not asked
    )
    page = await search(query, now=now)
    return {hit.service_id: hit.structure_id for hit in page.hits}


async def words_matched(service_ids: Sequence[int], text: str) -> dict[int, list[str]]:
    """Which of the typed words each of these services matches (with the directory's synonyms), as typed."""
    return await search_words_matched(service_ids, text)


async def locate(rt: Runtime, address: str) -> Origin:
    """A typed address, street, commune or neighbourhood as a point (Unprocessable in French when unknown)."""
    return await origin_of(rt.state(Geocoder), address)


def is_open(expression: str, at: datetime) -> bool:
    return hours.is_open(expression, at)


def thematique_label(code: str) -> str:
    return vocabulary.label("thematique", code)


def hours_in_french(expression: str, week_of: date) -> list[tuple[str, str]]:
    """An OSM opening-hours expression as the week's days written out in French ("Lundi", "9 h à 12 h")."""
    return validation.hours_in_french(expression, week_of)


def labels(kind: str, codes: Iterable[str]) -> list[str]:
    """French labels of the directory's codes ("thematique", "public", "accommodation", "language"…)."""
    return vocabulary.labels(kind, codes)


def choices(kind: str) -> dict[str, str]:
    """Every code of a vocabulary with its French label, for a form's options."""
    return dict(vocabulary.TAG_LABELS.get(kind, {}))


def map_tiles(settings: Any) -> dict[str, str]:
    """The directory's map tiles (URL template and attribution), for a referral page's map to use the same."""
    from network.module import DirectorySettings

    section = settings.section(DirectorySettings)
    return {"url": section.tile_url, "attribution": section.tile_attribution}
