"""Input and output shapes of the hub (msgspec): forms for pages, bodies and responses for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Role = Literal["prescriber", "aidant", "manager"]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
Password = Annotated[str, msgspec.Meta(max_length=128)]


# ---------------------------------------------------------------- page forms (extra fields such as _csrf_token pass)
class LoginForm(msgspec.Struct):
    email: ShortText = ""
    password: Password = ""
    suivant: ShortText = "/"


class CodeForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=40)] = ""


class EmailForm(msgspec.Struct):
    email: ShortText = ""


class NewPasswordForm(msgspec.Struct):
    password: Password = ""
    password_confirm: Password = ""


class InvitationAcceptForm(msgspec.Struct):
    full_name: ShortText = ""
    password: Password = ""


class PasswordChangeForm(msgspec.Struct):
    current_password: Password = ""
    new_password: Password = ""


class InviteForm(msgspec.Struct):
    email: ShortText = ""
    role: Annotated[str, msgspec.Meta(max_length=20)] = ""


class TokenForm(msgspec.Struct):
    name: ShortText = ""


class CoordinatorForm(msgspec.Struct):
    value: Literal["0", "1"] = "0"


# ---------------------------------------------------------------- API
class Membership(msgspec.Struct):
    structure_id: int
    roles: list[Role]


class Me(msgspec.Struct):
    id: int
    email: str
    full_name: str
    is_admin: bool
    is_coordinator: bool
    memberships: list[Membership]


class Member(msgspec.Struct):
    membership_id: int
    user_id: int
    full_name: str
    email: str
    role: Role
    since: datetime


class InvitationCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Role


class Invitation(msgspec.Struct):
    id: int
    structure_id: int
    role: Role


class ApiTokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class ApiTokenInfo(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(msgspec.Struct):
    id: int
    name: str
    token: str  # shown once


class JournalLine(msgspec.Struct):
    seq: int
    at: str
    actor_id: int | None
    structure_id: int | None
    action: str
    object_type: str
    object_id: str
    details: dict[str, str | int | bool | None]
    hash: str


class JournalPage(msgspec.Struct):
    entries: list[JournalLine]
    next_before: int | None


class Health(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: bool


class Problem(msgspec.Struct):
    """RFC 9457 problem details, as every API error is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] = []
