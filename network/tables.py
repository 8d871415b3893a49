"""Directory tables. The foundation keeps what accounts and the demo need; the directory issue grows it."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, DoublePrecision, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

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


class Structure(Table, tablename="network_structure"):
    id = Serial(primary_key=True)  # declared so type checkers see it
    name = Varchar(length=200)
    kind = Varchar(length=20, default="AUTRE")
    siret = Varchar(length=14, default="", index=True)
    address = Varchar(length=255, default="")
    postal_code = Varchar(length=5, default="")
    commune = Varchar(length=120, default="")
    insee_code = Varchar(length=5, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    phone = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    website = Varchar(length=255, default="")
    description = Text(default="")
    is_active = Boolean(default=True)
    confirmed_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
