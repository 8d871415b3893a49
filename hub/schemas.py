"""Input and output shapes of the hub (msgspec): forms for pages, bodies and responses for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Role = Literal["prescriber", "aidant", "manager"]
# Patterns are spelled out character by character, not with \s: JSON Schema (ECMA-262) and Python disagree on
# what \s covers (U+0085 for one), and the document must promise exactly what msgspec and the services accept.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_BLANK_OR_CONTROL = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # str.isspace + controls
# The end of the text: Python's $ also matches before a final newline, ECMA-262's does not; (?!\n) aligns them.
_END = r"$(?!\n)"
# No control characters in stored text: PostgreSQL refuses NUL, and none belongs in a name or an address.
SINGLE_LINE = rf"^[^{_CONTROL}]*{_END}"
# Free text (descriptions): line breaks and tabs, but no other control character.
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# hub.accounts.clean_email's rule (no blank, one @, a dot in the domain), minus control characters.
EMAIL_PATTERN = rf"^[^@{_BLANK_OR_CONTROL}]{{1,64}}@[^@{_BLANK_OR_CONTROL}]+\.[^@{_BLANK_OR_CONTROL}]{{2,}}{_END}"
# A token name keeps at least one visible character once its spaces are collapsed.
TOKEN_NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_BLANK_OR_CONTROL}][^{_CONTROL}]*{_END}"
PATTERN_MESSAGES = {
    SINGLE_LINE: "Caractères non autorisés (retours à la ligne, caractères de contrôle).",
    MULTI_LINE: "Caractères non autorisés (caractères de contrôle).",
    EMAIL_PATTERN: "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
    TOKEN_NAME_PATTERN: "Donnez un nom lisible, sans caractères de contrôle.",
}
"""The French message for each pattern above, read by hub.web when a value does not match."""

Email = Annotated[
    str,
    msgspec.Meta(
        min_length=6, max_length=254, pattern=EMAIL_PATTERN, description="Adresse e-mail", examples=["nom@exemple.fr"]
    ),
]
ShortText = Annotated[str, msgspec.Meta(max_length=200, pattern=SINGLE_LINE)]
# a typed address: the hard cap above hub.accounts.MAX_EMAIL, so one character more comes back beside the field
EmailText = Annotated[str, msgspec.Meta(max_length=400, pattern=SINGLE_LINE)]
Password = Annotated[str, msgspec.Meta(max_length=128)]


# ---------------------------------------------------------------- page forms (extra fields such as _csrf_token pass)
class LoginForm(msgspec.Struct):
    email: EmailText = ""  # any address an account may have (hub.accounts.MAX_EMAIL) signs in
    password: Password = ""
    suivant: ShortText = "/"


class CodeForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=40)] = ""


class EnrolForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=40)] = ""
    password: Password = ""


class EmailForm(msgspec.Struct):
    email: EmailText = ""


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
    email: EmailText = ""
    role: Annotated[str, msgspec.Meta(max_length=20)] = ""


class BackForm(msgspec.Struct):
    retour: ShortText = ""  # the page the button was on (a same-site path), to come back to


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
    name: Annotated[
        str, msgspec.Meta(min_length=1, max_length=80, pattern=TOKEN_NAME_PATTERN, examples=["Tableau de bord"])
    ]


class ApiTokenInfo(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str = ""  # "" (by its owner) | "role_needs_2fa" (a role needing 2FA came after it)


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
    """Liveness only; readiness (database and storage) is hub.health.Readiness at /readyz."""

    status: Literal["ok"]


class FieldError(msgspec.Struct):
    """One invalid input: which field (`body` for the body as a whole) and what to fix, in French."""

    field: str
    message: str


class Problem(msgspec.Struct):
    """RFC 9457 problem details, as every API error is answered."""

    type: str
    title: str
    status: Annotated[int, msgspec.Meta(ge=400, le=599)]
    detail: str
    instance: str
    errors: list[FieldError] = []
