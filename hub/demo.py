"""The demo: one account per role, then each module's demo seed in turn (the directory's town first),
each handing its ids to the next through a DemoContext.

Idempotent (users by email; each module keeps its own rule); `maillage demo` refuses to run in production.
"""

from __future__ import annotations

import dataclasses

import pyotp

from hub import accounts
from hub.modules import DemoContext
from hub.runtime import Runtime
from hub.security import new_totp_secret
from hub.tables import Membership, User

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


@dataclasses.dataclass
class SeedReport:
    users_created: int = 0
    skipped: bool = False
    lines: list[str] = dataclasses.field(default_factory=list)  # what each module's seed said it did


async def _create_users(rt: Runtime, context: DemoContext) -> int:
    created = 0
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
    for user in USERS:
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
    report.lines = context.lines
    return report


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
