"""Mandate tables: a structure's residents, its aidants' habilitations, charter acceptances, the mandates with
one row per scope, revocations, the timeline, and the structures' own template variants.

A mandate binds a resident and a **structure**; the aidant who made it is in the timeline and the journal.
Residents' data are the minimum the mandate states; they are purged with the mandates by the jobs loop once
the retention has passed (hub.mandates.due.purge). Documents (signatures, scan, sealed PDF) are kept in the
row as bytes with their SHA-256: one transaction stores a mandate and its proof together.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from hub.tables import Structure, User


class Resident(Table, tablename="mandates_resident"):
    """A person a structure acts for: the minimum a mandate states (and a way to reach them, optional)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    first_name = Varchar(length=80)
    last_name = Varchar(length=80)
    birth_date = Date(null=True, default=None)
    phone = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Habilitation(Table, tablename="mandates_habilitation"):
    """An aidant habilitated by their structure's manager; live while withdrawn_at is null (one live per pair)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    granted_by = Integer(null=True, default=None)  # hub_user id of the manager
    granted_at = Timestamptz(default=TimestamptzNow())
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = Integer(null=True, default=None)


class CharterAcceptance(Table, tablename="mandates_charter"):
    """An aidant accepted the charter (charte de l'aidant) in this version."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    version = Varchar(length=20)  # unique with user (migration)
    at = Timestamptz(default=TimestamptzNow())


class Mandate(Table, tablename="mandates_mandate"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    public_code = Varchar(length=40, unique=True)  # the QR code's verification page: random, unguessable
    number = Varchar(length=20, default="")  # "M-2026-00042", shown on the paper (unique once set)
    structure = ForeignKey(Structure, on_delete=OnDelete.restrict, index=True)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict, index=True)
    created_by = Integer(null=True, default=None)  # the aidant (hub_user id): named on the paper for the structure
    renewal_of = Integer(null=True, default=None)  # the mandate this one renews
    duration_days = Integer()  # a key of vocabulary.DURATIONS
    starts_on = Date()
    ends_on = Date(index=True)  # the last valid day (Europe/Paris)
    status = Varchar(length=12, default="draft", index=True)  # vocabulary.MANDATE_STATUSES
    no_legal_protection = Boolean(default=False)  # the resident said no tutelle, curatelle, sauvegarde
    place = Varchar(length=120, default="")  # the town where it is signed
    template_kind = Varchar(length=20, default="mandat")
    template_version = Varchar(length=40, default="")
    template_sha256 = Varchar(length=64, default="")
    fingerprint = Varchar(length=64, default="")  # SHA-256 of the content facts and the template's hash
    resident_signature = Bytea(null=True, default=None)  # PNG drawn on screen
    aidant_signature = Bytea(null=True, default=None)
    signing_mode = Varchar(length=10, default="")  # "" | screen | paper
    scan_sha256 = Varchar(length=64, default="")
    scan_bytes = Bytea(null=True, default=None)  # the signed paper, scanned (PDF, PNG or JPEG)
    scan_type = Varchar(length=40, default="")  # its media type
    sealed_pdf = Bytea(null=True, default=None)
    sealed_sha256 = Varchar(length=64, default="", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    signed_at = Timestamptz(null=True, default=None)
    finalised_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    expired_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)  # the expiry reminder went to the structure's aidants
    version = Integer(default=1)  # every change bumps it: two changes at once, one wins


class Revocation(Table, tablename="mandates_revocation"):
    """A revocation of some or all of a mandate's scopes, at the resident's request, with its sealed attestation."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    mandate = ForeignKey(Mandate, on_delete=OnDelete.cascade, index=True)
    number = Varchar(length=20, default="")  # "R-2026-00007"
    public_code = Varchar(length=40, unique=True)
    scopes = JSON(default="[]")  # the scope codes it revoked
    whole = Boolean(default=False)  # every remaining scope
    reason = Varchar(length=20, default="resident")  # resident (at the resident's request)
    note = Text(default="")  # the aidant's note for the structure (never health details: the form says so)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sealed_pdf = Bytea(null=True, default=None)
    sealed_sha256 = Varchar(length=64, default="", index=True)


class MandateScope(Table, tablename="mandates_scope"):
    """One scope (démarche) of a mandate: revoked alone, or with the others."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    mandate = ForeignKey(Mandate, on_delete=OnDelete.cascade, index=True)
    scope = Varchar(length=20)  # a code of vocabulary.SCOPES; unique with mandate (migration)
    status = Varchar(length=10, default="active")  # vocabulary.SCOPE_STATUSES
    revoked_at = Timestamptz(null=True, default=None)
    revocation = ForeignKey(Revocation, null=True, default=None, on_delete=OnDelete.set_null)
    replaced_by = Integer(null=True, default=None)  # the newer mandate of the same scope that revoked it


class MandateEvent(Table, tablename="mandates_event"):
    """One line of a mandate's timeline: who did what, when; details carry codes, never personal data."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    mandate = ForeignKey(Mandate, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz(default=TimestamptzNow())
    actor_user = Integer(null=True, default=None)  # None: the hub itself (expiry, reminders)
    action = Varchar(length=20)
    details = JSON(default="{}")


class TemplateVariant(Table, tablename="mandates_variant"):
    """A structure's own template (logo, contacts); active only if it passed the FALC checker and has
    every required field, with the name of the person who proofread it (the FALC rules a human checks)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20)  # documents.KINDS
    filename = Varchar(length=200, default="")
    data = Bytea()
    sha256 = Varchar(length=64)
    uploaded_by = Integer(null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    proofread_by = Varchar(length=120, default="")  # a person's name
    proofread_at = Timestamptz(null=True, default=None)
    active = Boolean(default=False)
    falc_report = Text(default="")
