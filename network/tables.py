"""Directory tables: structures, their services, the places services are delivered at.

Vocabulary columns hold data·inclusion v1 codes (package `data-inclusion-schema`); multi-valued ones are
JSON lists, mirrored into ServiceTag rows so filters are indexed lookups on both engines.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    Float,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from hub import tables as core


class Structure(core.Structure, tablename="network_structure"):
    """The directory's profile of a structure: the core's identity row (id, name, kind, status, SIRET,
    merge target) plus where it is, how to reach it and where its entry comes from."""

    address = Varchar(length=255, default="")
    address_extra = Varchar(length=255, default="")
    postal_code = Varchar(length=5, default="")
    commune = Varchar(length=120, default="")
    insee_code = Varchar(length=5, default="")
    neighbourhood = Varchar(length=120, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    phone = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    website = Varchar(length=255, default="")
    opening_hours = Varchar(length=500, default="")  # OSM opening_hours syntax
    accessibility_url = Varchar(length=255, default="")  # Accèslibre page
    networks = JSON(default="[]")  # data·inclusion ReseauPorteur codes
    description = Text(default="")
    source = Varchar(length=60, default="maillage")
    source_id = Varchar(length=200, default="")
    confirmed_on = Date(null=True, default=None)
    reminded_on = Date(null=True, default=None)  # last mail asking the managers to confirm the entry
    contact_email = Varchar(length=254, default="")  # who asked to join, until the coordinator decides


class Service(Table, tablename="network_service"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200)
    description = Text(default="")
    types = JSON(default="[]")  # TypeService codes
    thematiques = JSON(default="[]")  # Thematique codes
    publics = JSON(default="[]")  # Public codes
    fees = JSON(default="[]")  # Frais codes
    fees_details = Text(default="")
    reception_modes = JSON(default="[]")  # ModeAccueil codes
    mobilisation_modes = JSON(default="[]")  # ModeMobilisation codes
    mobilisable_by = JSON(default="[]")  # PersonneMobilisatrice codes
    eligibility_zone = JSON(default="[]")  # INSEE commune / département codes, or ["france"]
    access_conditions = Text(default="")
    justificatifs = JSON(default="[]")  # what to bring ("Pièce d'identité", "Dernier avis d'imposition"), one per item
    languages = JSON(default="[]")  # ISO 639-1 codes, e.g. ["fr", "ar"]
    accommodations = JSON(default="[]")  # local codes: see network.vocabulary.ACCOMMODATIONS
    weekly_capacity = Integer(null=True, default=None)
    accepts_referrals = Boolean(default=False)
    referral_email = Varchar(length=254, default="")  # a team mailbox, never a person's address
    referral_instructions = Text(default="")
    phone = Varchar(length=20, default="")  # the team's line (data·inclusion telephone), never a person's own
    booking_url = Varchar(
        length=500, default=""
    )  # booking online: data·inclusion lien_mobilisation, LaMednum prise_rdv
    opening_hours = Varchar(length=500, default="")
    source = Varchar(length=60, default="maillage")
    source_id = Varchar(length=200, default="")
    is_active = Boolean(default=True)
    updated_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Place(Table, tablename="network_place"):
    """Where and when a service is delivered: permanences, itinerant stops."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    service = ForeignKey(Service, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200, default="")
    address = Varchar(length=255, default="")
    postal_code = Varchar(length=5, default="")
    commune = Varchar(length=120, default="")
    insee_code = Varchar(length=5, default="")
    neighbourhood = Varchar(length=120, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    opening_hours = Varchar(length=500, default="")
    itinerant = Boolean(default=False)


class ServiceTag(Table, tablename="network_service_tag"):
    """One row per (service, vocabulary, code): indexed filters without JSON functions."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    service = ForeignKey(Service, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20)  # thematique | public | fee | reception | type | accommodation | language
    code = Varchar(length=120)


class DuplicateFlag(Table, tablename="network_duplicate_flag"):
    """Two structures that look like one: for the coordinator to merge or dismiss."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    other = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    reason = Varchar(length=20)  # siret | name_address | name_commune
    score = Float(default=0.0)
    status = Varchar(length=10, default="open")  # open | merged | dismissed
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class ImportRecord(Table, tablename="network_import_report"):
    """What one import did, row by row, for the coordinator to download (no resident's data: directory rows)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None)  # who imported (hub_user id); None from the command line
    format = Varchar(length=20)
    source = Varchar(length=60, default="")
    dry_run = Boolean(default=False)
    files = Varchar(length=500, default="")  # the files' names
    summary = Text(default="")  # the French summary lines, one per line
    rows_csv = Bytea(default=b"")  # the whole report as CSV, gzip-compressed


class Synonym(Table, tablename="network_synonym"):
    """A group of words of the same meaning the coordinator added to the search (the field's reviewed list is
    network.search.synonyms.REVIEWED): "RSA, revenu de solidarité active"."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    words = Varchar(length=500)  # words or phrases between commas, as typed
    added_at = Timestamptz(default=TimestamptzNow())
    actor_id = Integer(null=True, default=None)  # who added it (hub_user id)


class ImportJob(Table, tablename="network_import_job"):
    """An import sent from the desk and run by the jobs loop (network.exchange.import_jobs): its files wait in the
    var directory; what it became is here, its progress in a small file beside them (readable by every process)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None)  # who sent it (hub_user id)
    format = Varchar(length=20)
    source = Varchar(length=60, default="")
    dry_run = Boolean(default=False)
    files = Varchar(length=500, default="")  # the files' names, as sent
    folder = Varchar(length=80, default="")  # under <var>/imports: the files as received
    status = Varchar(length=20, default="queued")  # queued | running | done | failed
    message = Text(default="")  # why it failed, in French
    record_id = Integer(null=True, default=None)  # its kept report (ImportRecord), written with the import itself
    finished_at = Timestamptz(null=True, default=None)
