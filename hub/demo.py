"""The demo network: a fictional town of 60,000 people, its 35 partner structures, one user per role.

Idempotent (structures by name, users by email); `maillage demo` refuses to run in production.
Everything here is invented: names, addresses, phone numbers (in the 01 99 00 range reserved for fiction).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import date

import pyotp

from hub import accounts
from hub.db import write_transaction
from hub.runtime import Runtime
from hub.tables import Membership, User
from network.tables import Structure

TOWN = "Montclair-sur-Loire"
POSTAL_CODE = "45990"
INSEE = "45999"
CENTRE = (47.9012, 2.1245)
DEMO_PASSWORD = "demo-maillage-2026"  # noqa: S105 (fictional accounts, refused in production)

# (kind, name, neighbourhood, street, offset north/east in hundredths of a degree)
STRUCTURES: list[tuple[str, str, str, str, tuple[float, float]]] = [
    ("CAF", "CAF du Loiret – accueil de Montclair", "Centre", "12 rue de la République", (0.2, 0.1)),
    ("CCAS", "CCAS de Montclair-sur-Loire", "Centre", "1 place de l'Hôtel de Ville", (0.0, 0.0)),
    ("RFS", "France Services de Montclair", "Les Tilleuls", "8 avenue des Tilleuls", (-0.8, 1.1)),
    ("RFS", "France Services itinérant du Val de Loire", "Centre", "Parking de la gare", (0.4, -0.6)),
    ("BIB", "Médiathèque Louise-Michel", "Centre", "3 rue des Écoles", (0.3, 0.4)),
    ("BIB", "Médiathèque de quartier des Aubiers", "Les Aubiers", "22 allée des Aubiers", (1.2, -0.9)),
    ("CS", "Centre social de la Roseraie", "La Roseraie", "5 rue des Églantines", (-1.1, -0.7)),
    ("CS", "Centre social Bel-Air", "Bel-Air", "40 boulevard Bel-Air", (0.9, 1.4)),
    ("CSC", "Centre socioculturel Saint-Jean", "Saint-Jean", "17 rue Saint-Jean", (-0.4, 1.8)),
    ("EVS", "Espace de vie sociale Le Trait d'Union", "Les Aubiers", "2 place du Marché", (1.4, -1.2)),
    ("MQ", "Maison de quartier des Tilleuls", "Les Tilleuls", "11 rue des Peupliers", (-0.9, 0.8)),
    ("MQ", "Maison de quartier de la Gare", "Gare", "6 rue Denis-Papin", (0.5, -0.5)),
    ("MUNI", "Mairie annexe de Bel-Air", "Bel-Air", "1 rue du Stade", (1.0, 1.2)),
    ("MUNI", "Mairie de Montclair-sur-Loire", "Centre", "Place de l'Hôtel de Ville", (0.05, 0.02)),
    ("EPCI", "Communauté de communes Loire et Forêts", "Centre", "30 quai de Loire", (-0.2, 0.3)),
    ("EPN", "Espace public numérique de la Roseraie", "La Roseraie", "5 bis rue des Églantines", (-1.05, -0.75)),
    ("EPN", "Cyber-base de Saint-Jean", "Saint-Jean", "19 rue Saint-Jean", (-0.45, 1.85)),
    ("ASSO", "Emmaüs Connect – point de Montclair", "Gare", "14 rue Denis-Papin", (0.55, -0.45)),
    ("ASSO", "Secours populaire – comité de Montclair", "Les Tilleuls", "3 impasse des Acacias", (-0.7, 0.9)),
    ("ASSO", "Restos du cœur – centre de Montclair", "Bel-Air", "52 boulevard Bel-Air", (0.95, 1.5)),
    ("ASSO", "Association Lire et Écrire 45", "Centre", "9 rue Pasteur", (0.25, 0.2)),
    ("ASSO", "Ordinateurs solidaires du Val", "Les Aubiers", "Zone artisanale des Aubiers", (1.6, -1.4)),
    ("ASSO", "Cimade – permanence de Montclair", "Centre", "7 rue Voltaire", (0.15, 0.35)),
    ("MJC", "MJC Jacques-Prévert", "Saint-Jean", "25 avenue Jean-Jaurès", (-0.3, 1.5)),
    ("PIMMS", "PIMMS Médiation Montclair", "Gare", "Hall de la gare", (0.45, -0.65)),
    ("MDS", "Maison départementale des solidarités – secteur Nord", "Les Aubiers", "10 rue de la Forêt", (1.3, -0.8)),
    ("LA_POSTE", "La Poste – bureau de Bel-Air", "Bel-Air", "36 boulevard Bel-Air", (0.85, 1.3)),
    ("TIERS_LIEUX", "Tiers-lieu La Fabrique", "Gare", "Ancienne halle SNCF", (0.6, -0.7)),
    ("UDAF", "UDAF du Loiret – antenne de Montclair", "Centre", "18 rue de la République", (0.22, 0.12)),
    ("CIAS", "CIAS Loire et Forêts", "Centre", "30 quai de Loire", (-0.21, 0.31)),
    ("ASSO", "Mission locale du Val de Loire", "Centre", "4 rue Gambetta", (0.1, 0.5)),
    ("ASSO", "Habitat et Humanisme – agence de Montclair", "La Roseraie", "1 rue des Lilas", (-1.2, -0.5)),
    ("AUTRE", "Conseillers numériques de la Ville", "Centre", "1 place de l'Hôtel de Ville", (0.02, 0.01)),
    ("ASSO", "Point Info Famille – Montclair", "Les Tilleuls", "15 avenue des Tilleuls", (-0.85, 1.0)),
    ("ASSO", "Croix-Rouge – unité locale de Montclair", "Saint-Jean", "8 rue de la Croix", (-0.5, 1.6)),
]


@dataclasses.dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role_label: str
    structure: str | None
    role: str | None
    needs_totp: bool  # demo accounts of 2FA roles are enrolled in advance, with a secret derived from the email
    is_admin: bool = False
    is_coordinator: bool = False

    @property
    def totp_secret(self) -> str | None:
        if not self.needs_totp:
            return None
        return base64.b32encode(hashlib.sha256(f"maillage-demo:{self.email}".encode()).digest()[:20]).decode()


USERS = [
    DemoUser("admin@demo.maillage.fr", "Alix Martin", "administrateur", None, None, True, is_admin=True),
    DemoUser(
        "coordination@demo.maillage.fr",
        "Camille Bernard",
        "coordinatrice du réseau",
        None,
        None,
        True,
        is_coordinator=True,
    ),
    DemoUser(
        "referente.ccas@demo.maillage.fr",
        "Nadia Benali",
        "référente de structure",
        "CCAS de Montclair-sur-Loire",
        "manager",
        True,
    ),
    DemoUser(
        "aidant.franceservices@demo.maillage.fr",
        "Julien Morel",
        "aidant",
        "France Services de Montclair",
        "aidant",
        True,
    ),
    DemoUser(
        "prescripteur.caf@demo.maillage.fr",
        "Sophie Lefèvre",
        "prescriptrice",
        "CAF du Loiret – accueil de Montclair",
        "prescriber",
        False,
    ),
]


@dataclasses.dataclass
class SeedReport:
    structures_created: int = 0
    users_created: int = 0
    skipped: bool = False


def _phone(index: int) -> str:
    return f"01 99 00 {index // 100:02d} {index % 100:02d}"


async def seed(rt: Runtime, only_if_empty: bool = False) -> SeedReport:
    report = SeedReport()
    if only_if_empty and await User.count() > 0:
        report.skipped = True
        return report
    ids: dict[str, int] = {}
    async with write_transaction():
        existing = {row["name"]: row["id"] for row in await Structure.select(Structure.id, Structure.name)}
        for index, (kind, name, quarter, street, (north, east)) in enumerate(STRUCTURES, start=1):
            if name in existing:
                ids[name] = existing[name]
                continue
            structure = Structure(
                name=name,
                kind=kind,
                address=street,
                postal_code=POSTAL_CODE,
                commune=TOWN,
                insee_code=INSEE,
                latitude=round(CENTRE[0] + north / 100, 5),
                longitude=round(CENTRE[1] + east / 100, 5),
                phone=_phone(index),
                email=f"contact{index}@structures.demo.maillage.fr",
                description=f"Structure du quartier {quarter}.",
                confirmed_on=date(2026, 10, 1),
            )
            await structure.save()
            ids[name] = int(structure.id)
            report.structures_created += 1
    for user in USERS:
        row = await User.select(User.id).where(User.email == user.email).first()
        if row is None:
            user_id = await accounts.create_user(
                rt,
                email=user.email,
                full_name=user.full_name,
                password=DEMO_PASSWORD,
                is_admin=user.is_admin,
                is_coordinator=user.is_coordinator,
            )
            report.users_created += 1
            if user.totp_secret:
                await User.update({User.totp_secret: rt.secrets.seal(user.totp_secret), User.totp_enabled: True}).where(
                    User.id == user_id
                )
        else:
            user_id = row["id"]
        if (
            user.structure
            and user.role
            and not await Membership.exists().where(
                (Membership.user == user_id)
                & (Membership.structure == ids[user.structure])
                & (Membership.role == user.role)
            )
        ):
            await Membership.insert(Membership(user=user_id, structure=ids[user.structure], role=user.role))
    return report


def describe(report: SeedReport) -> str:
    if report.skipped:
        return "Démo déjà installée : base non vide, rien n'a changé."
    lines = [
        f"Réseau de démonstration de {TOWN} : {report.structures_created} structures et "
        f"{report.users_created} comptes créés ({len(STRUCTURES)} structures au total).",
        "",
        f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :",
    ]
    for user in USERS:
        where = f" – {user.structure}" if user.structure else ""
        totp = (
            f"\n    clé TOTP : {user.totp_secret} (code du moment : maillage demo --code {user.email})"
            if user.totp_secret
            else ""
        )
        lines.append(f"  {user.email:42} {user.role_label}{where}{totp}")
    return "\n".join(lines)


def current_code(email: str) -> str | None:
    """The TOTP code of a demo account right now (what the phone app would show)."""
    for user in USERS:
        if user.email == email and user.totp_secret:
            return pyotp.TOTP(user.totp_secret).now()
    return None
