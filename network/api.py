"""The open directory's read-only JSON API under /api/v1/directory: no token, no individual's contact.

Thin handlers: the search is network.search.query's, the pages' own; addresses are posted, never in a URL."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from data_inclusion.schema.v1 import Categorie, Frais, ModeAccueil, Public, Thematique, TypeService
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from hub import auth
from hub.api import STRICT_JSON, StructureId, check_json_body, problems
from hub.auth import RuntimeDep
from hub.errors import DomainError, Invalid
from hub.schemas import SINGLE_LINE
from hub.tables import STRUCTURE_KINDS
from network import geocoding, vocabulary
from network import service as directory
from network.schemas import GeocodeRequest, PublicService, PublicStructure
from network.search.query import MAX_LIMIT, MAX_OFFSET, Origin, SearchPage, SearchQuery, Sort, search
from network.validation import public_email

# The directory's local lists (data·inclusion v1 lacks them) as enums, so the document lists their codes too.
Amenagement = StrEnum("Amenagement", {code: code for code in vocabulary.ACCOMMODATIONS})  # type: ignore[misc]
TypeStructure = StrEnum("TypeStructure", {code: code for code in STRUCTURE_KINDS})  # type: ignore[misc]
LANGUAGE_CODE = "^[a-z]{2,3}$"  # ISO 639-1 or 639-3 (see vocabulary.is_known)
Codes = QueryParameter(max_items=20)  # a repeated parameter: any of its codes

# SearchQuery's fields → the API's parameters, to name them in problem+json answers.
SEARCH_PARAMETERS = {
    "text": "q",
    "thematiques": "thematique",
    "publics": "public",
    "types": "type",
    "fees": "frais",
    "reception_modes": "mode_accueil",
    "accommodations": "amenagement",
    "languages": "langue",
    "structure_kinds": "type_structure",
    "neighbourhood": "quartier",
    "accepts_referrals": "accepte_orientations",
    "open_now": "ouvert_maintenant",
    "open_at": "ouvert_le",
    "latitude": "lat",
    "longitude": "lon",
    "radius_m": "rayon_m",
}


@contextlib.contextmanager
def named_as(parameters: Mapping[str, str]) -> Iterator[None]:
    """Domain errors name the service's fields; an API client knows the parameters it sent."""
    try:
        yield
    except DomainError as error:
        error.fields = {parameters.get(field, field): message for field, message in error.fields.items()}
        raise


_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?", re.IGNORECASE)


def _instant(value: str, parameter: str) -> datetime:
    """An RFC 3339 date and time (or without its offset: Paris time), read as such and never as a number."""
    try:
        if not _INSTANT.fullmatch(value):
            raise ValueError(value)
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise Invalid(
            "Date et heure invalides.", {parameter: "Date et heure attendues, par exemple 2026-11-24T14:30:00+01:00."}
        ) from None


def search_parameters(
    q: Annotated[str, QueryParameter(max_length=200, pattern=SINGLE_LINE, description="Mots cherchés")] = "",
    thematique: Annotated[list[Thematique] | None, Codes] = None,
    categorie: Annotated[
        list[Categorie] | None, QueryParameter(max_items=20, description="Toutes ses thématiques")
    ] = None,
    public: Annotated[list[Public] | None, Codes] = None,
    service_type: Annotated[list[TypeService] | None, QueryParameter(name="type", max_items=20)] = None,
    frais: Annotated[list[Frais] | None, Codes] = None,
    mode_accueil: Annotated[list[ModeAccueil] | None, Codes] = None,
    amenagement: Annotated[
        list[Amenagement] | None, QueryParameter(max_items=20, description="Tous ces aménagements à la fois")
    ] = None,
    langue: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=LANGUAGE_CODE)]] | None,
        QueryParameter(
            max_items=20,
            description="Codes de langue ISO 639 (fr, ar…)",
            schema_extra={"items": {"type": "string", "pattern": LANGUAGE_CODE}},
        ),
    ] = None,
    type_structure: Annotated[list[TypeStructure] | None, Codes] = None,
    commune: Annotated[str, QueryParameter(max_length=120, pattern=SINGLE_LINE, description="Nom ou code INSEE")] = "",
    quartier: Annotated[str, QueryParameter(max_length=120, pattern=SINGLE_LINE)] = "",
    accepte_orientations: Annotated[
        bool, QueryParameter(description="Seulement les services qui reçoivent des orientations")
    ] = False,
    ouvert_maintenant: Annotated[bool, QueryParameter(description="Ouvert maintenant (heure de Paris)")] = False,
    ouvert_le: Annotated[
        str | None,
        QueryParameter(
            format="date-time",
            max_length=40,
            description="Ouvert à cet instant (RFC 3339 ; sans décalage : heure de Paris) ; "
            "l'emporte sur ouvert_maintenant",
        ),
    ] = None,
    lat: Annotated[
        float | None, QueryParameter(ge=-90, le=90, description="Latitude du point de départ (avec lon)")
    ] = None,
    lon: Annotated[
        float | None, QueryParameter(ge=-180, le=180, description="Longitude du point de départ (avec lat)")
    ] = None,
    rayon_m: Annotated[
        int | None, QueryParameter(ge=1, le=1_000_000, description="Rayon en mètres autour du point")
    ] = None,
    sort: Annotated[Sort, QueryParameter(description="distance : avec lat et lon")] = "relevance",
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchQuery:
    """The search's query parameters, as a SearchQuery."""
    return SearchQuery(
        text=q,
        thematiques=tuple(t.value for t in (*(thematique or ()), *(categorie or ()))),
        publics=tuple(p.value for p in public or ()),
        types=tuple(t.value for t in service_type or ()),
        fees=tuple(f.value for f in frais or ()),
        reception_modes=tuple(m.value for m in mode_accueil or ()),
        accommodations=tuple(a.value for a in amenagement or ()),
        languages=tuple(langue or ()),
        structure_kinds=tuple(k.value for k in type_structure or ()),
        commune=commune,
        neighbourhood=quartier,
        accepts_referrals=accepte_orientations,
        open_now=ouvert_maintenant,
        open_at=None if ouvert_le is None else _instant(ouvert_le, "ouvert_le"),
        latitude=lat,
        longitude=lon,
        radius_m=rayon_m,
        sort=sort,
        limit=limit,
        offset=offset,
    )


class DirectoryApi(Controller):
    """The open directory: public, read-only, with no individual's personal contact."""

    path = "/api/v1/directory"
    tags = ["Annuaire"]
    guards = [auth.public]

    @get(
        "/services",
        operation_id="searchServices",
        responses=problems(422, public=True),
        dependencies={"wanted": Provide(search_parameters, sync_to_thread=False)},
    )
    async def search_services(
        self,
        rt: RuntimeDep,
        wanted: NamedDependency[SearchQuery],
    ) -> SearchPage:
        """Search the directory's services: words, every filter, distance from a point.

        The same rules as the search page. Codes of one parameter are alternatives (any of them), except
        `amenagement` (all of them); different parameters all apply. `sort=distance` needs `lat` and `lon`
        (from a typed address: `POST /api/v1/directory/geocode` first, so the address stays out of URLs);
        `rayon_m` too.
        """
        with named_as(SEARCH_PARAMETERS):
            return await search(wanted, now=rt.now())

    @post(
        "/geocode",
        operation_id="geocodeAddress",
        status_code=200,
        responses=problems(415, 422, public=True),
        before_request=check_json_body,
    )
    async def geocode(self, rt: RuntimeDep, data: Annotated[GeocodeRequest, STRICT_JSON]) -> Origin:
        """Where an address, a street, a commune, a postal code or a neighbourhood is (then search by `lat`, `lon`).

        A POST, so that an address, which may be someone's home, is never written in a URL. 422 when not found.
        """
        return await geocoding.origin_of(rt.state(geocoding.Geocoder), data.adresse)

    @get("/structures/{structure_id:int}", operation_id="getStructure", responses=problems(404, public=True))
    async def structure(self, structure_id: StructureId) -> PublicStructure:
        """One active structure and its active services."""
        row = await directory.structure_for(None, structure_id)
        services = await directory.services_of(structure_id)
        return PublicStructure(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            address=row["address"],
            postal_code=row["postal_code"],
            commune=row["commune"],
            insee_code=row["insee_code"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            phone=row["phone"],
            email=public_email(row["email"]),
            website=row["website"],
            opening_hours=row["opening_hours"],
            confirmed_on=row["confirmed_on"],
            services=[
                PublicService(
                    id=s["id"],
                    name=s["name"],
                    thematiques=s["thematiques"],
                    fees=s["fees"],
                    opening_hours=s["opening_hours"],
                    accepts_referrals=s["accepts_referrals"],
                    phone=s["phone"],
                    email=public_email(s["referral_email"]),
                    booking_url=s["booking_url"],
                )
                for s in services
            ],
        )
