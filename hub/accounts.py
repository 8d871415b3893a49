"""Accounts: users, roles and memberships, API tokens (signing in: hub.sessions; e-mailed links: hub.invitations)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from hub import journal, mail
from hub.db import current_engine, write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.security import (
    new_token,
    token_hash,
)
from hub.tables import (
    ROLES,
    ApiToken,
    Membership,
    Structure,
    User,
)

ROLE_LABELS = {"prescriber": "Prescripteur", "aidant": "Aidant", "manager": "Référent de structure"}
MFA_ROLES = frozenset({"aidant", "manager"})
PASSWORD_MIN, PASSWORD_MAX = 12, 128
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who is calling, with their roles per structure: what every permission check reads."""

    user_id: int
    email: str
    full_name: str
    is_admin: bool
    is_coordinator: bool
    roles: dict[int, frozenset[str]]
    mfa_enrolled: bool
    mfa_passed: bool
    via: str  # "session" | "token"
    session_id: int | None = None

    @property
    def requires_mfa(self) -> bool:
        return self.is_admin or self.is_coordinator or any(r & MFA_ROLES for r in self.roles.values())

    @property
    def fully_authenticated(self) -> bool:
        return self.via == "token" or self.mfa_passed or not self.requires_mfa

    def has_role(self, structure_id: int, *roles: str) -> bool:
        return bool(self.roles.get(structure_id, frozenset()) & set(roles or ROLES))

    def structures_with(self, *roles: str) -> list[int]:
        return sorted(sid for sid, held in self.roles.items() if held & set(roles or ROLES))

    @property
    def oversees_network(self) -> bool:
        return self.is_admin or self.is_coordinator


# ---------------------------------------------------------------- validation at the service edge
MAX_EMAIL = 254  # RFC 5321's longest path
MAX_TOKEN_NAME = 80


def clean_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if len(email) > MAX_EMAIL:
        raise Invalid("Adresse e-mail trop longue.", {field: f"Adresse trop longue : {MAX_EMAIL} caractères au plus."})
    if not _EMAIL.match(email):
        raise Invalid(
            "Adresse e-mail invalide.", {field: "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."}
        )
    return email


def clean_name(value: str) -> str:
    name = " ".join(value.split())
    if not 2 <= len(name) <= 120:
        raise Invalid("Nom invalide.", {"full_name": "Le nom doit compter entre 2 et 120 caractères."})
    return name


def check_password(password: str, email: str = "", field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise Invalid(
            "Mot de passe trop court.", {field: f"Le mot de passe doit compter au moins {PASSWORD_MIN} caractères."}
        )
    if len(password) > PASSWORD_MAX:
        raise Invalid(
            "Mot de passe trop long.", {field: f"Le mot de passe doit compter au plus {PASSWORD_MAX} caractères."}
        )
    if email and password.lower() == email.lower():
        raise Invalid("Mot de passe refusé.", {field: "Le mot de passe ne doit pas être votre adresse e-mail."})


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid("Rôle inconnu.", {"role": "Choisissez prescripteur, aidant ou référent de structure."})
    return role


# ---------------------------------------------------------------- users
async def create_user(
    rt: Runtime,
    *,
    email: str,
    full_name: str,
    password: str,
    is_admin: bool = False,
    is_coordinator: bool = False,
    actor_id: int | None = None,
) -> int:
    email, full_name = clean_email(email), clean_name(full_name)
    check_password(password, email)
    password_hash = await rt.secrets.hash_password_off_loop(password)  # before the write lock, not under it
    async with write_transaction():
        if await User.exists().where(User.email == email):
            raise Conflict("Un compte existe déjà pour cette adresse.", {"email": "Cette adresse a déjà un compte."})
        user = User(
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            is_admin=is_admin,
            is_coordinator=is_coordinator,
            created_at=rt.now(),
        )
        await user.save()
        await journal.append(
            rt,
            Act("user_created", actor_id, None, "user", user.id, {"admin": is_admin, "coordinator": is_coordinator}),
        )
    return int(user.id)


async def load_roles(user_id: int) -> dict[int, frozenset[str]]:
    rows = await Membership.select(Membership.structure, Membership.role).where(Membership.user == user_id)
    roles: dict[int, set[str]] = {}
    for row in rows:
        roles.setdefault(row["structure"], set()).add(row["role"])
    return {sid: frozenset(r) for sid, r in roles.items()}


async def build_actor(user: dict[str, Any], via: str, mfa_passed: bool, session_id: int | None = None) -> Actor:
    return Actor(
        user_id=user["id"],
        email=user["email"],
        full_name=user["full_name"],
        is_admin=user["is_admin"],
        is_coordinator=user["is_coordinator"],
        roles=await load_roles(user["id"]),
        mfa_enrolled=user["totp_enabled"],
        mfa_passed=mfa_passed,
        via=via,
        session_id=session_id,
    )


async def actor_for_user(user_id: int, via: str = "session", mfa_passed: bool = True) -> Actor:
    user = await User.select().where(User.id == user_id).first()
    if user is None:
        raise NotFound("Utilisateur introuvable.")
    return await build_actor(user, via, mfa_passed)


# ---------------------------------------------------------------- memberships
async def list_members(actor: Actor, structure_id: int) -> list[dict[str, Any]]:
    if not await Structure.exists().where(Structure.id == structure_id):
        raise NotFound("Structure introuvable.")
    if not (actor.oversees_network or actor.has_role(structure_id, "manager")):
        raise Forbidden("Seul un référent de la structure ou le coordinateur voit ses membres.")
    return await (
        Membership.select(
            Membership.id,
            Membership.role,
            Membership.created_at,
            Membership.user.id.as_alias("user_id"),
            Membership.user.full_name.as_alias("full_name"),
            Membership.user.email.as_alias("email"),
        )
        .where(Membership.structure == structure_id)
        .order_by(Membership.user.full_name)
    )


async def remove_membership(rt: Runtime, actor: Actor, membership_id: int) -> None:
    async with write_transaction():
        row = await Membership.select().where(Membership.id == membership_id).first()
        if row is None:
            raise NotFound("Rôle introuvable.")
        sid = row["structure"]
        if not (actor.oversees_network or actor.has_role(sid, "manager")):
            raise NotFound("Rôle introuvable.")  # 404, not 403: do not reveal other structures' rows
        if row["role"] == "manager":
            managers = await Membership.count().where((Membership.structure == sid) & (Membership.role == "manager"))
            if managers <= 1:
                raise Conflict("Une structure garde au moins un référent : nommez-en un autre d'abord.")
        await Membership.delete().where(Membership.id == membership_id)
        await journal.append(
            rt,
            Act(
                "role_revoked",
                actor.user_id,
                sid,
                "membership",
                membership_id,
                {"role": row["role"], "user": row["user"]},
            ),
        )
    rt.callers.invalidate()


async def set_coordinator(rt: Runtime, actor: Actor, user_id: int, value: bool) -> int:
    """Returns how many of the user's API tokens were revoked (those made without the second factor)."""
    if not actor.is_admin:
        raise Forbidden("Seul un administrateur nomme le coordinateur.")
    revoked = 0
    async with write_transaction():
        if not await User.exists().where(User.id == user_id):
            raise NotFound("Utilisateur introuvable.")
        await User.update({User.is_coordinator: value}).where(User.id == user_id)
        if value:
            revoked = await revoke_tokens_without_second_factor(rt, user_id, actor.user_id)
        await journal.append(
            rt,
            Act(
                "role_granted" if value else "role_revoked",
                actor.user_id,
                None,
                "user",
                user_id,
                {"role": "coordinator"},
            ),
        )
    rt.callers.invalidate()
    return revoked


# ---------------------------------------------------------------- API tokens
TOKEN_REVOKED_FOR_2FA = "role_needs_2fa"  # noqa: S105 (a reason, not a secret)


async def create_api_token(rt: Runtime, actor: Actor, name: str) -> tuple[int, str]:
    """Returns the token once; only its hash is kept. It acts with its owner's permissions, as long as
    they need no second factor it was not created behind (hub.sessions.resolve_api_token)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_TOKEN_NAME:
        raise Invalid("Nom invalide.", {"name": f"Donnez un nom de 1 à {MAX_TOKEN_NAME} caractères au plus."})
    if not actor.fully_authenticated:
        raise Forbidden("Validez votre double authentification avant de créer un jeton.")
    prefix = new_token(6)[:8]
    token = f"mlg_{prefix}_{new_token(32)}"
    cap = rt.settings.api_tokens_max
    async with write_transaction():
        owner = User.select(User.id).where(User.id == actor.user_id)
        if isinstance(current_engine(), PostgresEngine):
            owner = owner.lock_rows("UPDATE")  # two creations at once count one after the other
        await owner
        live = await ApiToken.count().where((ApiToken.user == actor.user_id) & ApiToken.revoked_at.is_null())
        if live >= cap:
            raise Conflict(
                f"Vous avez déjà {cap} jetons actifs : révoquez-en un avant d'en créer un autre.",
                {"name": f"{cap} jetons actifs au plus : révoquez d'abord un jeton dont vous ne vous servez plus."},
            )
        row = ApiToken(
            user=actor.user_id,
            name=name,
            prefix=prefix,
            token_hash=token_hash(token),
            created_at=rt.now(),
            mfa_backed=actor.mfa_passed,  # a session that passed 2FA, or a token itself made behind it
        )
        await row.save()
        await journal.append(rt, Act("api_token_created", actor.user_id, None, "api_token", row.id))
    return int(row.id), token


async def revoke_tokens_without_second_factor(rt: Runtime, user_id: int, actor_id: int | None) -> int:
    """A role that needs 2FA was granted: the user's tokens made without it die now (in the caller's
    transaction), and the user is told by mail. Returns how many."""
    revoked = await (
        ApiToken.update({ApiToken.revoked_at: rt.now(), ApiToken.revoked_reason: TOKEN_REVOKED_FOR_2FA})
        .where((ApiToken.user == user_id) & ApiToken.revoked_at.is_null() & (ApiToken.mfa_backed == False))  # noqa: E712
        .returning(ApiToken.id)
    )
    if revoked:
        user = await User.select(User.email).where(User.id == user_id).first()
        if user is not None:
            await mail.enqueue(rt, to=user["email"], template="api_tokens_revoked", context={"count": len(revoked)})
        await journal.append(
            rt,
            Act(
                "api_tokens_revoked",
                actor_id,
                None,
                "user",
                user_id,
                {"count": len(revoked), "reason": TOKEN_REVOKED_FOR_2FA},
            ),
        )
    return len(revoked)


async def list_api_tokens(actor: Actor) -> list[dict[str, Any]]:
    return await (
        ApiToken.select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.prefix,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
            ApiToken.revoked_reason,
        )
        .where(ApiToken.user == actor.user_id)
        .order_by(ApiToken.id, ascending=False)
    )


async def revoke_api_token(rt: Runtime, actor: Actor, token_id: int) -> None:
    async with write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: rt.now()})
            .where((ApiToken.id == token_id) & (ApiToken.user == actor.user_id) & ApiToken.revoked_at.is_null())
            .returning(ApiToken.id)
        )
        if not revoked:
            raise NotFound("Jeton introuvable.")
        await journal.append(rt, Act("api_token_revoked", actor.user_id, None, "api_token", token_id))
    rt.callers.invalidate()
