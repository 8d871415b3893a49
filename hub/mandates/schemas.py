"""Mandates' typed commands (msgspec: the pages build them from forms, the API from JSON) and the views the
service hands back (dataclasses: what a page, the API or the CLI shows)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Name = Annotated[str, msgspec.Meta(max_length=80)]
ScopeCodes = Annotated[tuple[Annotated[str, msgspec.Meta(max_length=20)], ...], msgspec.Meta(max_length=20)]
Code = Annotated[str, msgspec.Meta(max_length=20)]


class ResidentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A resident of the structure: the minimum a mandate names (a way to reach them is optional)."""

    structure_id: Id
    first_name: Name
    last_name: Name
    birth_date: date | None = None
    phone: Annotated[str, msgspec.Meta(max_length=20)] = ""
    email: Annotated[str, msgspec.Meta(max_length=254)] = ""


class MandateCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A draft mandate, confirmed by the aidant with a fresh TOTP code (step-up)."""

    structure_id: Id
    resident_id: Id
    scopes: ScopeCodes
    duration_days: int  # a key of vocabulary.DURATIONS
    no_legal_protection: bool = False  # the resident said none of tutelle, curatelle, sauvegarde applies
    totp_code: Code = ""
    place: Annotated[str, msgspec.Meta(max_length=120)] = ""  # where it is signed; the structure's town if empty


class Revoke(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Revoke a mandate (scopes None or empty: all of them) at the resident's request."""

    scopes: ScopeCodes | None = None
    reason: Annotated[str, msgspec.Meta(max_length=20)] = "resident"


# ---------------------------------------------------------------- views
@dataclasses.dataclass(frozen=True)
class AidantContext:
    """Where the caller may act as an aidant; when nowhere, one French reason per missing condition."""

    structures: list[tuple[int, str]]  # (structure id, name)
    reasons: list[str]  # empty when structures is not

    @property
    def ok(self) -> bool:
        return bool(self.structures)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.structures)


@dataclasses.dataclass(frozen=True)
class ResidentView:
    id: int
    structure_id: int
    first_name: str
    last_name: str
    birth_date: date | None
    phone: str
    email: str
    live_mandates: int = 0


@dataclasses.dataclass(frozen=True)
class ScopeView:
    code: str
    label: str
    falc: str
    status: str  # active | revoked (per scope); "expired" when the mandate has ended
    status_label: str
    revoked_at: datetime | None = None
    revocation_id: int | None = None
    replaced_by: int | None = None
    warning: str = ""


@dataclasses.dataclass(frozen=True)
class EventView:
    at: datetime
    action: str
    label: str
    by: str  # the aidant's name, or "Maillage" for the hub's own work


@dataclasses.dataclass(frozen=True)
class RevocationView:
    id: int
    number: str
    scopes: list[str]
    whole: bool
    reason: str
    created_at: datetime
    has_pdf: bool
    note: str = ""


@dataclasses.dataclass(frozen=True)
class MandateView:
    """Everything a page shows of one mandate."""

    id: int
    number: str
    public_code: str
    verify_url: str
    status: str  # vocabulary.MANDATE_STATUSES (expired when its end has passed, even before the jobs loop saw it)
    status_label: str
    structure_id: int
    structure_name: str
    resident: ResidentView
    duration_days: int
    duration_label: str
    starts_on: date
    ends_on: date
    days_left: int  # until ends_on (negative once ended)
    no_legal_protection: bool
    place: str
    signing_mode: str  # "" | screen | paper
    has_signatures: bool
    has_scan: bool
    scan_sha256: str
    sealed_sha256: str
    template_version: str
    fingerprint: str
    created_at: datetime
    finalised_at: datetime | None
    revoked_at: datetime | None
    renewal_of: int | None
    scopes: list[ScopeView]
    events: list[EventView]
    revocations: list[RevocationView]
    documents: list[str]  # what may be downloaded now: "projet.docx", "projet.pdf", "mandat.pdf", "lettre.docx"…
    actions: list[str]  # what the caller may do now: "sign", "scan", "finalise", "revoke", "renew", "cancel"
    expiring: bool  # active and ends within the reminder days


@dataclasses.dataclass(frozen=True)
class MandateRow:
    """A line of a structure's list, or of the operator's list."""

    id: int
    number: str
    status: str
    status_label: str
    structure_id: int
    resident_id: int
    resident_name: str  # "" in the operator's list (the CLI prints no names)
    scopes: list[str]  # active scope codes
    starts_on: date
    ends_on: date
    days_left: int
    revoked_scopes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class ReplacedScope:
    """A scope an older live mandate of the same resident and structure holds, revoked at finalisation."""

    mandate_id: int
    number: str
    scope: str
    label: str
    ends_on: date


@dataclasses.dataclass(frozen=True)
class PublicScope:
    code: str
    label: str
    status: str  # "valide" | "révoqué" | "expiré"


@dataclasses.dataclass(frozen=True)
class PublicVerification:
    """What anyone holding the QR code may read: no personal data but the resident's initials."""

    status: str  # "valide" | "expiré" | "révoqué" (the mandate as a whole); "projet" for an unfinished draft
    status_label: str
    number: str
    structure_name: str
    resident_initials: str
    scopes: list[PublicScope]
    starts_on: date
    ends_on: date
    signed_on: date | None
    revoked_on: date | None
    sealed_sha256: str


VerifyStatus = Literal["valide", "expiré", "révoqué", "altéré", "inconnu"]


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    ok: bool
    status: VerifyStatus
    reason_fr: str
    kind: str = ""  # "mandat" | "revocation" when found
    number: str = ""
    mandate_id: int | None = None
    scopes: list[PublicScope] = dataclasses.field(default_factory=list)
