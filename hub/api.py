"""The hub's JSON API under /api/v1: thin handlers, rules in hub.accounts and hub.journal."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, cast

import msgspec
from data_inclusion.schema.v1 import Categorie, Frais, ModeAccueil, Public, Thematique, TypeService
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, PathParameter, QueryParameter

from hub import accounts, auth, journal
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import DomainError, Invalid
from hub.schemas import (
    SINGLE_LINE,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenInfo,
    GeocodeRequest,
    Invitation,
    InvitationCreate,
    JournalLine,
    JournalPage,
    Me,
    Member,
    Membership,
    Problem,
    PublicService,
    PublicStructure,
    Role,
)
from network import geocoding, vocabulary
from network import service as directory
from network.search.query import MAX_LIMIT, MAX_OFFSET, Origin, SearchPage, SearchQuery, Sort, search
from network.tables import STRUCTURE_KINDS
from network.validation import looks_personal

BEARER_SCHEME = "jetonPersonnel"  # declared in hub.app's OpenAPI components
SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]

_PROBLEM_TEXT = {
    400: "Données invalides (le champ `errors` nomme chaque champ à corriger)",
    401: "Jeton absent ou invalide",
    403: "Accès refusé",
    404: "Introuvable",
    409: "Conflit",
    415: "Corps de requête autre que JSON",
    422: "Adresse introuvable",
    429: "Trop de requêtes",
}
JSON_MEDIA_TYPES = ("application/json",)


def problems(*codes: int, public: bool = False) -> dict[int, ResponseSpec]:
    """Document the problem+json answers a handler can give (schemathesis checks them); public ones never 401."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_TEXT[code],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for code in sorted({400, *(() if public else (401,)), *codes})
    }


class UnsupportedMediaType(DomainError):
    status_code = 415
    title = "Format non pris en charge"


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Before a handler with a JSON body: refuse other media types, and name every invalid field at once.

    Litestar (msgspec) stops at the first error of a body; an API client deserves the whole list.
    The messages stay msgspec's own, in the shape Litestar gives them: hub.web translates them all.
    """
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    body = await request.body()
    media_type, _ = request.content_type
    if body and media_type not in JSON_MEDIA_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Envoyez les données en JSON, avec l'en-tête Content-Type: application/json.")
    if not body.strip():
        raise ValidationException(extra=[{"key": "body", "message": "Missing request body", "source": "body"}])
    try:
        value = await request.json()
    except SerializationException as error:
        raise ValidationException(extra=[{"key": "body", "message": str(error.detail), "source": "body"}]) from None
    struct_type = data.annotation
    if not isinstance(value, dict) or not (isinstance(struct_type, type) and issubclass(struct_type, msgspec.Struct)):
        return  # the signature model reports a body of the wrong shape
    try:
        msgspec.convert(value, struct_type, strict=False)
    except msgspec.ValidationError:
        raise ValidationException(extra=body_errors(struct_type, value)) from None


def body_errors(struct_type: type[msgspec.Struct], value: dict[str, Any]) -> list[dict[str, str]]:
    """Every field of a JSON object that fails its Struct: missing, unknown, or of the wrong type or size."""
    errors: list[dict[str, str]] = []
    known = set()
    for field in msgspec.structs.fields(struct_type):
        known.add(field.encode_name)
        if field.encode_name not in value:
            if field.required:
                errors.append({"key": field.encode_name, "message": f"Object missing required field `{field.name}`"})
            continue
        try:
            msgspec.convert(value[field.encode_name], field.type, strict=False)
        except msgspec.ValidationError as error:
            errors.append({"key": field.encode_name, "message": str(error).split(" - at ", 1)[0]})
    if struct_type.__struct_config__.forbid_unknown_fields:
        errors += [
            {"key": str(key), "message": f"Object contains unknown field `{key}`"} for key in value if key not in known
        ]
    return [{**error, "source": "body"} for error in errors]


# JSONBody with the OpenAPI saying what the Structs enforce (forbid_unknown_fields): no property beyond those listed.
STRICT_JSON = Body(media_type=RequestEncodingType.JSON, schema_extra={"additionalProperties": False})
StructureId = Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="Identifiant de la structure")]
ObjectId = Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="Identifiant")]


class AccountApi(Controller):
    path = "/api/v1"
    tags = ["Comptes"]
    security = SECURITY
    guards = [auth.signed_in]

    @get("/me", operation_id="getMe", responses=problems())
    async def me(self, actor: CurrentActor) -> Me:
        """The signed-in user and their roles per structure."""
        return Me(
            id=actor.user_id,
            email=actor.email,
            full_name=actor.full_name,
            is_admin=actor.is_admin,
            is_coordinator=actor.is_coordinator,
            memberships=[
                Membership(structure_id=sid, roles=cast("list[Role]", sorted(roles)))
                for sid, roles in sorted(actor.roles.items())
            ],
        )

    @get("/tokens", operation_id="listApiTokens", responses=problems())
    async def list_tokens(self, actor: CurrentActor) -> list[ApiTokenInfo]:
        """The caller's personal API tokens (never the secret itself)."""
        return [ApiTokenInfo(**row) for row in await accounts.list_api_tokens(actor)]

    @post("/tokens", operation_id="createApiToken", responses=problems(403, 415), before_request=check_json_body)
    async def create_token(
        self, rt: RuntimeDep, actor: CurrentActor, data: Annotated[ApiTokenCreate, STRICT_JSON]
    ) -> ApiTokenCreated:
        """Create a personal API token; its secret is returned once."""
        token_id, token = await accounts.create_api_token(rt, actor, data.name)
        return ApiTokenCreated(id=token_id, name=" ".join(data.name.split()), token=token)

    @delete("/tokens/{token_id:int}", operation_id="revokeApiToken", responses=problems(404))
    async def revoke_token(self, rt: RuntimeDep, actor: CurrentActor, token_id: ObjectId) -> None:
        """Revoke one of the caller's tokens."""
        await accounts.revoke_api_token(rt, actor, token_id)


class MembersApi(Controller):
    path = "/api/v1"
    tags = ["Structures"]
    security = SECURITY
    guards = [auth.structure_manager]

    @get("/structures/{structure_id:int}/members", operation_id="listMembers", responses=problems(403, 404))
    async def list_members(self, actor: CurrentActor, structure_id: StructureId) -> list[Member]:
        """People of a structure and their roles (its managers and the coordinator)."""
        rows = await accounts.list_members(actor, structure_id)
        return [
            Member(
                membership_id=r["id"],
                user_id=r["user_id"],
                full_name=r["full_name"],
                email=r["email"],
                role=r["role"],
                since=r["created_at"],
            )
            for r in rows
        ]

    @post(
        "/structures/{structure_id:int}/invitations",
        operation_id="inviteMember",
        responses=problems(403, 404, 409, 415),
        before_request=check_json_body,
    )
    async def invite(
        self,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: StructureId,
        data: Annotated[InvitationCreate, STRICT_JSON],
    ) -> Invitation:
        """Invite someone by email into the structure with a role (single-use link, 7 days)."""
        link_id = await accounts.invite(rt, actor, structure_id, data.email, data.role)
        return Invitation(id=link_id, structure_id=structure_id, role=data.role)


class MembershipApi(Controller):
    path = "/api/v1/memberships"
    tags = ["Structures"]
    security = SECURITY
    guards = [auth.any_structure_manager]

    @delete("/{membership_id:int}", operation_id="removeMembership", responses=problems(403, 404, 409))
    async def remove(self, rt: RuntimeDep, actor: CurrentActor, membership_id: ObjectId) -> None:
        """Withdraw a role from someone in a structure the caller manages."""
        await accounts.remove_membership(rt, actor, membership_id)


class JournalApi(Controller):
    path = "/api/v1/journal"
    tags = ["Journal"]
    security = SECURITY
    guards = [auth.coordinator]

    @get("/", operation_id="listJournal", responses=problems(403))
    async def list_entries(
        self,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
    ) -> JournalPage:
        """The audit journal, newest first."""
        rows = await journal.recent(limit, before)
        entries = [
            JournalLine(
                seq=r["seq"],
                at=r["at"],
                actor_id=r["actor_id"],
                structure_id=r["structure_id"],
                action=r["action"],
                object_type=r["object_type"],
                object_id=r["object_id"],
                details=json.loads(r["details"]),
                hash=r["hash"],
            )
            for r in rows
        ]
        return JournalPage(entries=entries, next_before=entries[-1].seq if len(entries) == limit else None)


def _public_email(address: str) -> str:
    """A team mailbox is published; one shaped like a person's own (firstname.lastname@…) is not."""
    return "" if looks_personal(address) else address


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
        return await geocoding.origin_of(rt.geocoder, data.adresse)

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
            email=_public_email(row["email"]),
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
                    email=_public_email(s["referral_email"]),
                    booking_url=s["booking_url"],
                )
                for s in services
            ],
        )


API_CONTROLLERS = [AccountApi, MembersApi, MembershipApi, JournalApi, DirectoryApi]
