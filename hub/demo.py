"""The demo: one account per role, then each module's demo seed in turn (the directory's town first),
each handing its ids to the next through a DemoContext.

Idempotent (users by email; each module keeps its own rule); `maillage demo` refuses to run in production.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from datetime import UTC, date, datetime, timedelta

import pyotp

from hub import accounts, journal
from hub.db import write_transaction
from hub.journal import Act
from hub.modules import DemoContext
from hub.runtime import PARIS, Runtime
from hub.security import new_token, new_totp_secret, token_hash
from hub.tables import AccessLink, Membership, User

DEMO_PASSWORD = "demo-maillage-2026"  # noqa: S105 (fictional accounts, refused in production)


@dataclasses.dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role_label: str
    structure: str | None
    role: str | None
    needs_totp: bool  # demo accounts of 2FA roles are enrolled in advance, with a secret drawn at install
    is_admin: bool = False
    is_coordinator: bool = False


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
        "accueil.roseraie@demo.maillage.fr",
        "Karim Haddad",
        "accueil, reçoit les orientations",
        "Centre social de la Roseraie",
        "prescriber",
        False,
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


# Colleagues of the demo accounts, without a second factor and not listed as demo logins: a structure has a team,
# and every structure that sends or answers referrals in the demo has someone there to sign its acts.
_FRONT_DESKS = (  # structure (network.demo's names), its colleague, their e-mail's first part
    ("Maison départementale des solidarités – secteur Nord", "Samira Ouali", "samira.ouali"),
    ("Mission locale du Val de Loire", "Antoine Roussel", "antoine.roussel"),
    ("PIMMS Médiation Montclair", "Gaëlle Tessier", "gaelle.tessier"),
    ("Centre social Bel-Air", "Florian Poulain", "florian.poulain"),
    ("UDAF du Loiret – antenne de Montclair", "Rachid Aït-Ali", "rachid.ait-ali"),
    ("Centre socioculturel Saint-Jean", "Valérie Giraud", "valerie.giraud"),
    ("France Services itinérant du Val de Loire", "Maëlle Lacroix", "maelle.lacroix"),
    ("Espace public numérique de la Roseraie", "Sylvain Baudry", "sylvain.baudry"),
    ("Secours populaire – comité de Montclair", "Nathalie Guillot", "nathalie.guillot"),
    ("Emmaüs Connect – point de Montclair", "Grégoire Prévost", "gregoire.prevost"),
    ("Mairie annexe de Bel-Air", "Mathilde Carpentier", "mathilde.carpentier"),
    ("Maison de quartier de la Gare", "Armelle Masson", "armelle.masson"),
    ("Espace de vie sociale Le Trait d'Union", "Loïc Hamon", "loic.hamon"),
    ("Médiathèque Louise-Michel", "Bérénice Maillard", "berenice.maillard"),
    ("Association Lire et Écrire 45", "Cédric Bertin", "cedric.bertin"),
    ("Conseillers numériques de la Ville", "Delphine Lebrun", "delphine.lebrun"),
    ("MJC Jacques-Prévert", "Ophélie Joly", "ophelie.joly"),
    ("Cimade – permanence de Montclair", "Gilles Charpentier", "gilles.charpentier"),
    ("Cyber-base de Saint-Jean", "Sandrine Huet", "sandrine.huet"),
    ("Point Info Famille – Montclair", "Laetitia Collet", "laetitia.collet"),
    ("Habitat et Humanisme – agence de Montclair", "Norbert Bailly", "norbert.bailly"),
    ("Ordinateurs solidaires du Val", "Soraya Renard", "soraya.renard"),
    ("Croix-Rouge – unité locale de Montclair", "Benoît Marechal", "benoit.marechal"),
    ("Médiathèque de quartier des Aubiers", "Coralie Besnard", "coralie.besnard"),
)
COLLEAGUES = [
    DemoUser(
        "agent.ccas@demo.maillage.fr",
        "Thomas Girard",
        "agent d'accueil, oriente",
        "CCAS de Montclair-sur-Loire",
        "prescriber",
        False,
    ),
    *(
        DemoUser(
            f"{local}@demo.maillage.fr", name, "accueil, oriente et reçoit les orientations", where, "prescriber", False
        )
        for where, name, local in _FRONT_DESKS
    ),
]
PENDING_INVITATION = ("CCAS de Montclair-sur-Loire", "mediatrice.ccas@demo.maillage.fr", "aidant")
ACCOUNTS_CREATED = datetime(2025, 3, 3, 9, 15, tzinfo=UTC)  # the network opened in March 2025 (network.demo)

# The journal of a town used for months: each module's seed hands its past acts here (journal_later), and they are
# appended at the end, oldest first, through the journal's own append, so the chain is whole and in time order.
_LATER: dict[int, list[tuple[datetime, Act]]] = {}


def journal_later(context: DemoContext, at: datetime, act: Act) -> None:
    """An act of the demo's past, journaled at `at` once every module has seeded (dropped if not in the past)."""
    _LATER.setdefault(id(context), []).append((at, act))


def office_hour(moment: datetime | date, chance: random.Random) -> datetime:
    """A moment of a working day in Paris (9 h–12 h, 14 h–17 h): that day's, or the Friday before a weekend's."""
    on = moment.astimezone(PARIS).date() if isinstance(moment, datetime) else moment
    while on.weekday() >= 5:
        on -= timedelta(days=1)
    hour = chance.choice((9, 10, 11, 14, 15, 16))
    return datetime(on.year, on.month, on.day, hour, chance.randint(0, 59), chance.randint(0, 59), tzinfo=PARIS)


@dataclasses.dataclass
class SeedReport:
    users_created: int = 0
    skipped: bool = False
    lines: list[str] = dataclasses.field(default_factory=list)  # what each module's seed said it did


async def _create_users(rt: Runtime, context: DemoContext) -> int:
    created = 0
    for n, user in enumerate([*USERS, *COLLEAGUES]):
        row = await User.select(User.id).where(User.email == user.email).first()
        if row is None:
            past = copy.copy(rt)  # the accounts were made when the network opened, and journaled then
            past.advance_clock(ACCOUNTS_CREATED + timedelta(minutes=n) - rt.now())
            user_id = await accounts.create_user(
                past,
                email=user.email,
                full_name=user.full_name,
                password=DEMO_PASSWORD,
                is_admin=user.is_admin,
                is_coordinator=user.is_coordinator,
            )
            created += 1
            if user.needs_totp:  # a secret of this install, never one written in the code
                await User.update(
                    {User.totp_secret: rt.secrets.seal(new_totp_secret()), User.totp_enabled: True}
                ).where(User.id == user_id)
        else:
            user_id = row["id"]
        context.users[user.email] = int(user_id)
    return created


async def _join_structures(context: DemoContext) -> None:
    """Each account joins its structure as soon as a module's seed has made it (by name)."""
    for user in [*USERS, *COLLEAGUES]:
        structure_id = context.structures.get(user.structure or "")
        if structure_id is None or not user.role:
            continue
        user_id = context.users[user.email]
        if not await Membership.exists().where(
            (Membership.user == user_id) & (Membership.structure == structure_id) & (Membership.role == user.role)
        ):
            await Membership.insert(Membership(user=user_id, structure=structure_id, role=user.role))


async def seed(rt: Runtime, only_if_empty: bool = False) -> SeedReport:
    report = SeedReport()
    if only_if_empty and await User.count() > 0:
        report.skipped = True
        return report
    context = DemoContext()
    report.users_created = await _create_users(rt, context)
    for module in rt.modules:
        if module.demo is not None:
            await module.demo(rt, context)
            await _join_structures(context)
    await _accounts_history(rt, context)
    report.lines = context.lines
    return report


async def _accounts_history(rt: Runtime, context: DemoContext) -> None:
    """The accounts' past (enrolments, sign-ins, a few failures, a pending invitation), then the whole journal."""
    chance = random.Random(7)  # noqa: S311 (demo history; the same every time)
    now = rt.now()
    for n, user in enumerate([*USERS, *COLLEAGUES]):
        user_id = context.users.get(user.email)
        if user_id is None:
            continue
        joined = ACCOUNTS_CREATED + timedelta(hours=1, minutes=5 * n)  # each enrolled once all were created
        if user.needs_totp:
            journal_later(context, joined, Act("mfa_enabled", user_id, None, "user", user_id))
        if n % 3 == 1:
            changed = office_hour(now - timedelta(days=chance.randint(60, 200)), chance)
            journal_later(context, changed, Act("password_changed", user_id, None, "user", user_id))
        for _ in range(chance.randint(1, 2)):  # typos happen
            failed = office_hour(now - timedelta(days=chance.randint(3, 240)), chance)
            journal_later(context, failed, Act("sign_in_failed", None, None, "user", user_id))
        last = office_hour(now - timedelta(days=n % 4, hours=1), chance)  # signed in lately, each on a working day
        await User.update({User.last_login_at: min(last, now - timedelta(minutes=5))}).where(User.id == user_id)
    structure_name, email, role = PENDING_INVITATION
    structure_id, manager = context.structures.get(structure_name), context.users.get(USERS[2].email)
    if structure_id is not None and manager is not None:
        if not await AccessLink.exists().where((AccessLink.email == email) & (AccessLink.used_at.is_null())):
            sent = office_hour(now - timedelta(days=3), chance)  # the link is nobody's: the demo sends no mail
            link = AccessLink(
                token_hash=token_hash(new_token()),
                created_at=sent,
                expires_at=sent + timedelta(days=rt.settings.invitation_days),
                purpose="invitation",
                email=email,
                structure=structure_id,
                role=role,
                invited_by=manager,
            )
            await link.save()
            journal_later(
                context, sent, Act("invitation_sent", manager, structure_id, "invitation", link.id, {"role": role})
            )
    context.lines.append(f"Journal de démonstration : {await _flush_journal(rt, context)} actes passés.")


async def _flush_journal(rt: Runtime, context: DemoContext) -> int:
    """The acts handed by the seeds, oldest first (those of the future, such as booked slots, left out)."""
    now = rt.now()
    acts = sorted((pair for pair in _LATER.pop(id(context), []) if pair[0] < now), key=lambda pair: pair[0])
    key = rt.secrets.journal_key
    async with write_transaction():
        for at, act in acts:
            await journal.append_signed(key, act, at)
    return len(acts)


async def totp_secrets(rt: Runtime) -> dict[str, str]:
    """The demo accounts' TOTP secrets of this install (sealed in the database with the app's key)."""
    emails = [user.email for user in USERS if user.needs_totp]
    rows = await User.select(User.email, User.totp_secret).where(
        User.email.is_in(emails) & (User.totp_enabled == True)  # noqa: E712
    )
    return {row["email"]: secret for row in rows if (secret := rt.secrets.unseal(row["totp_secret"]))}


def describe(report: SeedReport, secrets: dict[str, str] | None = None) -> str:
    """What the seed did, the demo accounts and their TOTP secrets (as add them to an authenticator app)."""
    secrets = secrets or {}
    if report.skipped:
        return (
            "Démo déjà installée : base non vide, rien n'a changé.\n"
            "Code TOTP du moment d'un compte de démonstration : maillage demo --code EMAIL"
        )
    lines = [
        *report.lines,
        f"{report.users_created} comptes créés.",
        "",
        f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :",
    ]
    for user in USERS:
        where = f" – {user.structure}" if user.structure else ""
        secret = secrets.get(user.email)
        totp = f"\n    clé TOTP : {secret} (code du moment : maillage demo --code {user.email})" if secret else ""
        lines.append(f"  {user.email:42} {user.role_label}{where}{totp}")
    return "\n".join(lines)


async def current_code(rt: Runtime, email: str) -> str | None:
    """The TOTP code of a demo account right now (what the phone app would show)."""
    secret = (await totp_secrets(rt)).get(email.strip().lower())
    return pyotp.TOTP(secret).now() if secret else None
