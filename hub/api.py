"""The hub's JSON API under /api/v1: thin handlers, rules in hub.accounts, hub.invitations and hub.journal."""

from __future__ import annotations

import json
from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, PathParameter, QueryParameter

from hub import accounts, auth, invitations, journal
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import DomainError
from hub.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenInfo,
    Invitation,
    InvitationCreate,
    JournalLine,
    JournalPage,
    Me,
    Member,
    Membership,
    Problem,
    Role,
)

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

    @post(
        "/tokens",
        operation_id="createApiToken",
        responses=problems(403, 409, 415),
        before_request=check_json_body,
        cache_control=CacheControlHeader(no_store=True),  # the secret is in this answer: no cache keeps it
    )
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
        link_id = await invitations.invite(rt, actor, structure_id, data.email, data.role)
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


API_CONTROLLERS = [AccountApi, MembersApi, MembershipApi, JournalApi]
