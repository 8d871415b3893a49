"""Accounts: users, sign-in and sessions, two-factor, single-use links, memberships, API tokens."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

from hub import journal, mail
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, Gone, Invalid, NotFound, TooManyRequests
from hub.journal import Act
from hub.runtime import Runtime
from hub.security import (
    new_recovery_codes,
    new_token,
    new_totp_secret,
    normalise_recovery_code,
    token_hash,
    totp_match_step,
)
from hub.tables import (
    ROLES,
    AccessLink,
    ApiToken,
    LoginFailure,
    Membership,
    RecoveryCode,
    User,
    WebSession,
)
from network.tables import Structure

ROLE_LABELS = {"prescriber": "Prescripteur", "aidant": "Aidant", "manager": "Référent de structure"}
MFA_ROLES = frozenset({"aidant", "manager"})
PASSWORD_MIN, PASSWORD_MAX = 12, 128
SESSION_TOUCH_EVERY = timedelta(minutes=1)
TOKEN_TOUCH_EVERY = timedelta(hours=1)
RESETS_PER_HOUR = 3
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
def clean_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
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
    async with write_transaction():
        if await User.exists().where(User.email == email):
            raise Conflict("Un compte existe déjà pour cette adresse.", {"email": "Cette adresse a déjà un compte."})
        user = User(
            email=email,
            full_name=full_name,
            password_hash=rt.secrets.hash_password(password),
            is_admin=is_admin,
            is_coordinator=is_coordinator,
            created_at=rt.now(),
        )
        await user.save()
        await journal.append(
            rt.secrets.journal_key,
            Act("user_created", actor_id, None, "user", user.id, {"admin": is_admin, "coordinator": is_coordinator}),
        )
    return int(user.id)


async def load_roles(user_id: int) -> dict[int, frozenset[str]]:
    rows = await Membership.select(Membership.structure, Membership.role).where(Membership.user == user_id)
    roles: dict[int, set[str]] = {}
    for row in rows:
        roles.setdefault(row["structure"], set()).add(row["role"])
    return {sid: frozenset(r) for sid, r in roles.items()}


async def _actor(user: dict[str, Any], via: str, mfa_passed: bool, session_id: int | None = None) -> Actor:
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
    return await _actor(user, via, mfa_passed)


# ---------------------------------------------------------------- throttling
async def _throttle(rt: Runtime, keys: list[str], limits: list[int]) -> None:
    window = timedelta(minutes=rt.settings.login_window_minutes)
    since = rt.now() - window
    for key, limit in zip(keys, limits, strict=True):
        count = await LoginFailure.count().where(
            (LoginFailure.key_hash == rt.secrets.keyed_hash(key)) & (LoginFailure.at > since)
        )
        if count >= limit:
            raise TooManyRequests(
                "Trop de tentatives. Patientez quelques minutes avant de réessayer.",
                retry_after=int(window.total_seconds()),
            )


async def _record_failure(rt: Runtime, keys: list[str]) -> None:
    await LoginFailure.insert(*[LoginFailure(key_hash=rt.secrets.keyed_hash(k), at=rt.now()) for k in keys])


# ---------------------------------------------------------------- sessions
async def login(rt: Runtime, email: str, password: str, client: str) -> tuple[str, Actor]:
    """Check the password; returns a new session token. Throttled per address and per client."""
    email = email.strip().lower()
    limit = rt.settings.login_max_failures
    keys = [f"email:{email}", f"client:{client}"]
    await _throttle(rt, keys, [limit, limit * 4])
    user = await User.select().where(User.email == email).first() if len(email) <= 254 else None
    if user is None:
        rt.secrets.burn_password_check()
    if user is None or not user["is_active"] or not rt.secrets.verify_password(user["password_hash"], password):
        await _record_failure(rt, keys)
        raise Invalid(BAD_CREDENTIALS, {"password": BAD_CREDENTIALS})
    token = new_token()
    async with write_transaction():
        await LoginFailure.delete().where(LoginFailure.key_hash == rt.secrets.keyed_hash(keys[0]))
        session = WebSession(token_hash=token_hash(token), user=user["id"], created_at=rt.now(), last_seen_at=rt.now())
        await session.save()
        await User.update({User.last_login_at: rt.now()}).where(User.id == user["id"])
    return token, await _actor(user, "session", False, int(session.id))


# Every request resolves its caller: one statement (credential, user and roles), not three built by the ORM.
_CALLER_SQL = """
SELECT c.id AS credential_id, c.{columns}, u.id AS user_id, u.email, u.full_name, u.is_admin, u.is_coordinator,
       u.is_active, u.totp_enabled, m.structure AS member_of, m.role AS member_role
FROM {table} c
JOIN hub_user u ON u.id = c."user"
LEFT JOIN hub_membership m ON m."user" = u.id
WHERE c.token_hash = {{}}
"""
_SESSION_SQL = _CALLER_SQL.format(table="hub_session", columns="mfa_passed, c.created_at, c.last_seen_at")
_TOKEN_SQL = _CALLER_SQL.format(table="hub_api_token", columns="last_used_at, c.revoked_at")


def _caller(rows: list[dict[str, Any]], via: str, mfa_passed: bool, session_id: int | None = None) -> Actor:
    first = rows[0]
    roles: dict[int, set[str]] = {}
    for row in rows:
        if row["member_of"] is not None:
            roles.setdefault(row["member_of"], set()).add(row["member_role"])
    return Actor(
        user_id=first["user_id"],
        email=first["email"],
        full_name=first["full_name"],
        is_admin=bool(first["is_admin"]),
        is_coordinator=bool(first["is_coordinator"]),
        roles={sid: frozenset(held) for sid, held in roles.items()},
        mfa_enrolled=bool(first["totp_enabled"]),
        mfa_passed=mfa_passed,
        via=via,
        session_id=session_id,
    )


async def resolve_session(rt: Runtime, token: str) -> Actor | None:
    digest = token_hash(token)
    rows = await rt.callers.rows(_SESSION_SQL, digest)
    now = rt.now()
    idle = timedelta(minutes=rt.settings.session_idle_minutes)
    max_age = timedelta(hours=rt.settings.session_max_hours)

    def expired(row: dict[str, Any]) -> bool:
        return not row["is_active"] or row["last_seen_at"] < now - idle or row["created_at"] < now - max_age

    if rows and expired(rows[0]):  # a cached row may be behind another process's touch: ask the database
        rows = await rt.callers.rows(_SESSION_SQL, digest, fresh=True)
    if not rows:
        return None
    row = rows[0]
    if expired(row):
        await WebSession.delete().where(WebSession.id == row["credential_id"])
        rt.callers.invalidate()
        return None
    if row["last_seen_at"] < now - SESSION_TOUCH_EVERY:  # one write a minute, not one a request
        await WebSession.update({WebSession.last_seen_at: now}).where(WebSession.id == row["credential_id"])
        rt.callers.forget(_SESSION_SQL, digest)
    return _caller(rows, "session", bool(row["mfa_passed"]), row["credential_id"])


async def logout(rt: Runtime, token: str) -> None:
    await WebSession.delete().where(WebSession.token_hash == token_hash(token))
    rt.callers.invalidate()


async def _use_second_factor(rt: Runtime, user_id: int, code: str) -> str | None:
    """Accept a TOTP code (never twice) or an unused recovery code; returns which, or None."""
    user = await User.select(User.totp_secret, User.totp_last_step, User.totp_enabled).where(User.id == user_id).first()
    if user is None or not user["totp_enabled"]:
        return None
    secret = rt.secrets.unseal(user["totp_secret"])
    step = totp_match_step(secret, code, rt.now().timestamp(), user["totp_last_step"])
    if step is not None:
        used = (
            await User.update({User.totp_last_step: step})
            .where((User.id == user_id) & (User.totp_last_step < step))
            .returning(User.id)
        )
        return "totp" if used else None
    recovery = normalise_recovery_code(code)
    if len(recovery) == 14:
        used = (
            await RecoveryCode.update({RecoveryCode.used_at: rt.now()})
            .where(
                (RecoveryCode.user == user_id)
                & (RecoveryCode.code_hash == token_hash(recovery))
                & RecoveryCode.used_at.is_null()
            )
            .returning(RecoveryCode.id)
        )
        return "recovery" if used else None
    return None


async def pass_second_factor(rt: Runtime, actor: Actor, code: str) -> str:
    """Second sign-in step; returns a fresh session token (the old one dies: no fixation)."""
    keys = [f"mfa:{actor.user_id}"]
    await _throttle(rt, keys, [rt.settings.login_max_failures])
    used = await _use_second_factor(rt, actor.user_id, code)
    if used is None:
        await _record_failure(rt, keys)
        raise Invalid("Code incorrect ou déjà utilisé.", {"code": "Code incorrect ou déjà utilisé."})
    token = new_token()
    await WebSession.update({WebSession.token_hash: token_hash(token), WebSession.mfa_passed: True}).where(
        WebSession.id == actor.session_id
    )
    rt.callers.invalidate()  # the old token must die now, not when its cache entry ages out
    if used == "recovery":
        await journal.append(
            rt.secrets.journal_key, Act("mfa_recovery_code_used", actor.user_id, None, "user", actor.user_id)
        )
    return token


async def start_totp_enrolment(rt: Runtime, actor: Actor) -> str:
    """A new secret, kept sealed and inactive until a code proves the phone has it."""
    if actor.mfa_enrolled and not actor.fully_authenticated:
        raise Forbidden("Validez d'abord votre connexion avec votre code actuel.")
    secret = new_totp_secret()
    await User.update({User.totp_secret: rt.secrets.seal(secret)}).where(
        (User.id == actor.user_id) & (User.totp_enabled == False)  # noqa: E712
    )
    return secret


async def pending_totp_secret(rt: Runtime, actor: Actor) -> str:
    user = await User.select(User.totp_secret, User.totp_enabled).where(User.id == actor.user_id).first()
    if user is None or user["totp_enabled"] or not user["totp_secret"]:
        return ""
    return rt.secrets.unseal(user["totp_secret"])


async def confirm_totp_enrolment(rt: Runtime, actor: Actor, code: str) -> tuple[str, list[str]]:
    """Activate two-factor; returns a fresh session token and the recovery codes (shown once)."""
    secret = await pending_totp_secret(rt, actor)
    if not secret:
        raise Conflict("Aucune activation en cours : recommencez depuis votre compte.")
    step = totp_match_step(secret, code, rt.now().timestamp(), 0)
    if step is None:
        raise Invalid("Code incorrect.", {"code": "Code incorrect. Vérifiez l'heure de votre téléphone et réessayez."})
    codes = new_recovery_codes()
    token = new_token()
    async with write_transaction():
        await User.update({User.totp_enabled: True, User.totp_last_step: step}).where(User.id == actor.user_id)
        await RecoveryCode.delete().where(RecoveryCode.user == actor.user_id)
        await RecoveryCode.insert(*[RecoveryCode(user=actor.user_id, code_hash=token_hash(c)) for c in codes])
        if actor.session_id is not None:
            await WebSession.update({WebSession.token_hash: token_hash(token), WebSession.mfa_passed: True}).where(
                WebSession.id == actor.session_id
            )
        await journal.append(rt.secrets.journal_key, Act("mfa_enabled", actor.user_id, None, "user", actor.user_id))
    rt.callers.invalidate()
    return token, codes


async def regenerate_recovery_codes(rt: Runtime, actor: Actor) -> list[str]:
    if not actor.mfa_enrolled:
        raise Conflict("Activez d'abord la double authentification.")
    codes = new_recovery_codes()
    async with write_transaction():
        await RecoveryCode.delete().where(RecoveryCode.user == actor.user_id)
        await RecoveryCode.insert(*[RecoveryCode(user=actor.user_id, code_hash=token_hash(c)) for c in codes])
        await journal.append(
            rt.secrets.journal_key, Act("mfa_recovery_codes_renewed", actor.user_id, None, "user", actor.user_id)
        )
    return codes


async def remaining_recovery_codes(user_id: int) -> int:
    return await RecoveryCode.count().where((RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null())


async def change_password(rt: Runtime, actor: Actor, current: str, new: str) -> None:
    user = await User.select(User.password_hash).where(User.id == actor.user_id).first()
    if user is None or not rt.secrets.verify_password(user["password_hash"], current):
        raise Invalid("Mot de passe actuel incorrect.", {"current_password": "Mot de passe actuel incorrect."})
    check_password(new, actor.email, field="new_password")
    async with write_transaction():
        await User.update({User.password_hash: rt.secrets.hash_password(new)}).where(User.id == actor.user_id)
        await WebSession.delete().where((WebSession.user == actor.user_id) & (WebSession.id != actor.session_id))
        await journal.append(
            rt.secrets.journal_key, Act("password_changed", actor.user_id, None, "user", actor.user_id)
        )
    rt.callers.invalidate()


# ---------------------------------------------------------------- single-use links
async def _new_link(rt: Runtime, ttl: timedelta, **fields: Any) -> tuple[str, AccessLink]:
    token = new_token()
    link = AccessLink(token_hash=token_hash(token), created_at=rt.now(), expires_at=rt.now() + ttl, **fields)
    await link.save()
    return token, link


async def peek_link(rt: Runtime, token: str, purpose: str) -> dict[str, Any]:
    link = (
        await AccessLink.select()
        .where((AccessLink.token_hash == token_hash(token)) & (AccessLink.purpose == purpose))
        .first()
    )
    if link is None or link["used_at"] is not None:
        raise Gone("Ce lien a déjà servi ou n'existe pas. Demandez-en un nouveau.")
    if link["expires_at"] < rt.now():
        raise Gone("Ce lien a expiré. Demandez-en un nouveau.")
    return link


async def _spend_link(rt: Runtime, link_id: int) -> None:
    spent = (
        await AccessLink.update({AccessLink.used_at: rt.now()})
        .where((AccessLink.id == link_id) & AccessLink.used_at.is_null())
        .returning(AccessLink.id)
    )
    if not spent:
        raise Gone("Ce lien a déjà servi. Demandez-en un nouveau.")


async def invite(rt: Runtime, actor: Actor, structure_id: int, email: str, role: str) -> int:
    """A structure manager (or the coordinator) invites someone into the structure with a role."""
    email, role = clean_email(email), check_role(role)
    structure = (
        await Structure.select(Structure.id, Structure.name, Structure.status)
        .where(Structure.id == structure_id)
        .first()
    )
    if structure is None:
        raise NotFound("Structure introuvable.")
    if not (actor.oversees_network or actor.has_role(structure_id, "manager")):
        raise Forbidden("Seul un référent de la structure ou le coordinateur peut inviter.")
    if structure["status"] != "active":
        raise Conflict("Cette structure est fermée.")
    existing = await User.select(User.id).where(User.email == email).first()
    if existing and await Membership.exists().where(
        (Membership.user == existing["id"]) & (Membership.structure == structure_id) & (Membership.role == role)
    ):
        raise Conflict(
            "Cette personne a déjà ce rôle dans la structure.", {"email": "Cette personne a déjà ce rôle ici."}
        )
    async with write_transaction():
        await AccessLink.delete().where(
            (AccessLink.purpose == "invitation")
            & (AccessLink.email == email)
            & (AccessLink.structure == structure_id)
            & (AccessLink.role == role)
            & AccessLink.used_at.is_null()
        )
        token, link = await _new_link(
            rt,
            timedelta(days=rt.settings.invitation_days),
            purpose="invitation",
            email=email,
            structure=structure_id,
            role=role,
            invited_by=actor.user_id,
        )
        await mail.enqueue(
            rt,
            to=email,
            template="invitation",
            context={
                "token": token,
                "structure": structure["name"],
                "role": ROLE_LABELS[role],
                "inviter": actor.full_name,
                "days": rt.settings.invitation_days,
            },
        )
        await journal.append(
            rt.secrets.journal_key,
            Act("invitation_sent", actor.user_id, structure_id, "invitation", link.id, {"role": role}),
        )
    return int(link.id)


async def invitation_summary(rt: Runtime, token: str) -> dict[str, Any]:
    link = await peek_link(rt, token, "invitation")
    structure = await Structure.select(Structure.name).where(Structure.id == link["structure"]).first()
    has_account = await User.exists().where(User.email == link["email"])
    return {
        "email": link["email"],
        "structure": structure["name"] if structure else "",
        "role": ROLE_LABELS.get(link["role"], link["role"]),
        "has_account": has_account,
    }


async def accept_invitation(rt: Runtime, token: str, full_name: str, password: str) -> int:
    """New people create their account; people who have one confirm with their password."""
    link = await peek_link(rt, token, "invitation")
    user = await User.select().where(User.email == link["email"]).first()
    if user is not None and not rt.secrets.verify_password(user["password_hash"], password):
        raise Invalid(BAD_CREDENTIALS, {"password": "Mot de passe incorrect pour ce compte."})
    if user is None:
        full_name = clean_name(full_name)
        check_password(password, link["email"])
    async with write_transaction():
        await _spend_link(rt, link["id"])
        if user is None:
            new_user = User(
                email=link["email"],
                full_name=full_name,
                password_hash=rt.secrets.hash_password(password),
                created_at=rt.now(),
            )
            await new_user.save()
            user_id = int(new_user.id)
            await journal.append(
                rt.secrets.journal_key, Act("user_created", link["invited_by"], link["structure"], "user", user_id)
            )
        else:
            user_id = user["id"]
        if not await Membership.exists().where(
            (Membership.user == user_id)
            & (Membership.structure == link["structure"])
            & (Membership.role == link["role"])
        ):
            membership = Membership(user=user_id, structure=link["structure"], role=link["role"], created_at=rt.now())
            await membership.save()
            await journal.append(
                rt.secrets.journal_key,
                Act(
                    "role_granted",
                    link["invited_by"],
                    link["structure"],
                    "membership",
                    membership.id,
                    {"role": link["role"], "user": user_id},
                ),
            )
    rt.callers.invalidate()
    return user_id


async def request_password_reset(rt: Runtime, email: str) -> None:
    """Same answer whether or not the address has an account: no account discovery."""
    email = clean_email(email)
    user = await User.select(User.id, User.is_active).where(User.email == email).first()
    if user is None or not user["is_active"]:
        return
    recent = await AccessLink.count().where(
        (AccessLink.user == user["id"])
        & (AccessLink.purpose == "reset")
        & (AccessLink.created_at > rt.now() - timedelta(hours=1))
    )
    if recent >= RESETS_PER_HOUR:
        return
    async with write_transaction():
        token, _ = await _new_link(
            rt, timedelta(hours=rt.settings.reset_hours), purpose="reset", email=email, user=user["id"]
        )
        await mail.enqueue(
            rt, to=email, template="password_reset", context={"token": token, "hours": rt.settings.reset_hours}
        )


async def complete_password_reset(rt: Runtime, token: str, password: str) -> None:
    link = await peek_link(rt, token, "reset")
    check_password(password, link["email"])
    async with write_transaction():
        await _spend_link(rt, link["id"])
        await User.update({User.password_hash: rt.secrets.hash_password(password)}).where(User.id == link["user"])
        await WebSession.delete().where(WebSession.user == link["user"])
        await LoginFailure.delete().where(LoginFailure.key_hash == rt.secrets.keyed_hash(f"email:{link['email']}"))
        await journal.append(rt.secrets.journal_key, Act("password_reset", link["user"], None, "user", link["user"]))
    rt.callers.invalidate()


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
            rt.secrets.journal_key,
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


async def set_coordinator(rt: Runtime, actor: Actor, user_id: int, value: bool) -> None:
    if not actor.is_admin:
        raise Forbidden("Seul un administrateur nomme le coordinateur.")
    async with write_transaction():
        if not await User.exists().where(User.id == user_id):
            raise NotFound("Utilisateur introuvable.")
        await User.update({User.is_coordinator: value}).where(User.id == user_id)
        await journal.append(
            rt.secrets.journal_key,
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


# ---------------------------------------------------------------- API tokens
async def create_api_token(rt: Runtime, actor: Actor, name: str) -> tuple[int, str]:
    """Returns the token once; only its hash is kept. It acts with its owner's permissions."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise Invalid("Nom invalide.", {"name": "Donnez un nom de 1 à 80 caractères."})
    if not actor.fully_authenticated:
        raise Forbidden("Validez votre double authentification avant de créer un jeton.")
    prefix = new_token(6)[:8]
    token = f"mlg_{prefix}_{new_token(32)}"
    async with write_transaction():
        row = ApiToken(user=actor.user_id, name=name, prefix=prefix, token_hash=token_hash(token), created_at=rt.now())
        await row.save()
        await journal.append(rt.secrets.journal_key, Act("api_token_created", actor.user_id, None, "api_token", row.id))
    return int(row.id), token


async def list_api_tokens(actor: Actor) -> list[dict[str, Any]]:
    return await (
        ApiToken.select(
            ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
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
        await journal.append(
            rt.secrets.journal_key, Act("api_token_revoked", actor.user_id, None, "api_token", token_id)
        )
    rt.callers.invalidate()


async def resolve_api_token(rt: Runtime, token: str) -> Actor | None:
    if not token.startswith("mlg_") or len(token) > 120:
        return None
    digest = token_hash(token)
    rows = await rt.callers.rows(_TOKEN_SQL, digest)
    if not rows or rows[0]["revoked_at"] is not None or not rows[0]["is_active"]:
        return None
    now = rt.now()
    last_used = rows[0]["last_used_at"]
    if last_used is None or last_used < now - TOKEN_TOUCH_EVERY:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == rows[0]["credential_id"])
        rt.callers.forget(_TOKEN_SQL, digest)
    return _caller(rows, "token", True)
