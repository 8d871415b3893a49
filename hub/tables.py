"""Core tables: structures' identity, accounts, memberships, sessions, tokens, journal, outbox and jobs.

Every domain is scoped by a structure, so what all of them need of one (id, name, kind, SIRET, status,
merge target) lives here; the directory extends the same row with its profile (network.tables.Structure).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ROLES = ("prescriber", "aidant", "manager")

# Local structure kinds: data·inclusion v1 dropped "typologie", networks still think in it (domain.md).
STRUCTURE_KINDS: dict[str, str] = {
    "CAF": "Caisse d'allocations familiales",
    "CCAS": "Centre communal d'action sociale",
    "CIAS": "Centre intercommunal d'action sociale",
    "CS": "Centre social",
    "CSC": "Centre socioculturel",
    "EVS": "Espace de vie sociale",
    "BIB": "Médiathèque",
    "MUNI": "Mairie",
    "EPCI": "Intercommunalité",
    "MQ": "Maison de quartier",
    "RFS": "France Services",
    "EPN": "Espace public numérique",
    "ASSO": "Association",
    "MJC": "Maison des jeunes et de la culture",
    "PIMMS": "Point information médiation multi-services",
    "MDS": "Maison départementale des solidarités",
    "LA_POSTE": "La Poste",
    "TIERS_LIEUX": "Tiers-lieu",
    "UDAF": "Union départementale des associations familiales",
    "AUTRE": "Autre",
}

STRUCTURE_STATUSES = ("pending", "active", "closed")


class Structure(Table, tablename="network_structure"):
    """A structure's identity, what every domain is scoped by. The table keeps its historical name; the
    directory's profile columns live in the same row (network.tables.Structure declares them)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    name = Varchar(length=200)
    kind = Varchar(length=20, default="AUTRE")  # one of STRUCTURE_KINDS
    status = Varchar(length=10, default="active", index=True)  # pending (asks to join) | active | closed
    siret = Varchar(length=14, default="", index=True)
    merged_into: ForeignKey[Structure] = ForeignKey("self", null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="hub_user"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    email = Varchar(length=254, unique=True, index=True)
    full_name = Varchar(length=120)
    password_hash = Varchar(length=255, default="")
    is_admin = Boolean(default=False)
    is_coordinator = Boolean(default=False)
    is_active = Boolean(default=True)
    totp_secret = Varchar(length=255, default="")  # encrypted with the app key (Fernet)
    totp_enabled = Boolean(default=False)
    totp_last_step = BigInt(default=0)  # refuses replay of a code already used
    charter_version = Varchar(length=20, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="hub_membership"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20)  # one of ROLES; unique with user and structure (migration)
    created_at = Timestamptz(default=TimestamptzNow())


class AccessLink(Table, tablename="hub_access_link"):
    """Single-use links sent by mail: invitations (7 days) and password resets."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    purpose = Varchar(length=20)  # invitation | reset
    token_hash = Varchar(length=64, unique=True)
    email = Varchar(length=254)
    user = ForeignKey(User, null=True, on_delete=OnDelete.cascade)
    structure = ForeignKey(Structure, null=True, on_delete=OnDelete.cascade)
    role = Varchar(length=20, default="")
    invited_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="hub_session"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    mfa_passed = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="hub_api_token"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=80)
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    # Created by a caller who had passed the second factor: only such a token may act with a role that needs one.
    mfa_backed = Boolean(default=False)
    revoked_reason = Varchar(length=40, default="")  # "" (by its owner) | role_needs_2fa


class RecoveryCode(Table, tablename="hub_recovery_code"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)


class LoginFailure(Table, tablename="hub_login_failure"):
    """One row per failed sign-in; keyed by hashes so no address is kept in clear."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    key_hash = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class SignInThrottle(Table, tablename="hub_sign_in_throttle"):
    """Failed tries per key (account and source, account, source, second factor) in the current window.

    One row per key, locked while it is counted, so concurrent tries are counted one by one.
    """

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    key_hash = Varchar(length=64, unique=True)
    failures = Integer(default=0)
    window_start = Timestamptz(default=TimestamptzNow())
    last_failure_at = Timestamptz(default=TimestamptzNow())


class JournalEntry(Table, tablename="hub_journal"):
    """Append-only, hash-chained; triggers refuse UPDATE and DELETE (see migrations)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    seq = BigInt(unique=True)
    at = Varchar(length=40)  # ISO UTC with microseconds, exactly as hashed
    actor_id = BigInt(null=True, default=None)
    structure_id = BigInt(null=True, default=None)
    action = Varchar(length=60)
    object_type = Varchar(length=40, default="")
    object_id = Varchar(length=64, default="")
    details = Text(default="{}")  # canonical JSON, exactly as hashed
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class JournalCheck(Table, tablename="hub_journal_check"):
    """A full verification of the journal; sealed, so a row written straight into the database is ignored."""

    id: Any
    checked_at = Timestamptz(default=TimestamptzNow())
    ok = Boolean(default=False)
    entries = Integer(default=0)  # entries found valid
    last_seq = Integer(default=0)  # the last valid entry: where the next check may start
    last_hash = Varchar(length=64, default="")
    first_bad_seq = Integer(null=True, default=None)
    reason = Varchar(length=60, default="")
    seal = Varchar(length=64, default="")


class JournalHead(Table, tablename="hub_journal_head"):
    """One row: the last sequence and its hash, sealed; locks appends and reveals a cut tail."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    seq = BigInt(default=0)
    hash = Varchar(length=64, default="")
    seal = Varchar(length=64, default="")


class OutboxMessage(Table, tablename="hub_outbox"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    message_id = Varchar(length=200, unique=True)
    recipient = Varchar(length=254)
    subject = Varchar(length=200)
    body_text = Text()
    body_html = Text(default="")
    attachments = JSON(default="[]")  # [{"filename", "content_type", "data" (base64)}]: an .ics invitation, say
    created_at = Timestamptz(default=TimestamptzNow())
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    attempts = Integer(default=0)
    claimed_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None, index=True)
    last_error = Varchar(length=255, default="")


class Job(Table, tablename="hub_job"):
    """Due work: a kind, a time, a small payload without personal data."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    kind = Varchar(length=60)
    dedupe_key = Varchar(length=120, unique=True, null=True, default=None)
    payload = JSON(default="{}")
    due_at = Timestamptz(default=TimestamptzNow(), index=True)
    attempts = Integer(default=0)
    claimed_until = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    last_error = Varchar(length=255, default="")
