"""Signing in: passwords checked and throttled, sessions, the second factor (TOTP, recovery codes), password change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub import journal, throttle
from hub.accounts import BAD_CREDENTIALS, Actor, build_actor, check_password
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, Invalid
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
    ApiToken,
    RecoveryCode,
    User,
    WebSession,
)

SESSION_TOUCH_EVERY = timedelta(minutes=1)
TOKEN_TOUCH_EVERY = timedelta(hours=1)


# ---------------------------------------------------------------- sessions
def account_fingerprint(rt: Runtime, email: str) -> str:
    """What the journal keeps of an address with no account: a keyed hash, short (tries on one address can be
    told apart from tries on many, and the address itself is never written)."""
    return rt.secrets.keyed_hash(f"journal-account:{email}")[:16]


async def journal_throttled(rt: Runtime, claimed: throttle.Claim, user_id: int | None, email: str = "") -> None:
    """A try that brought a key to its limit (a lock begins, or the slowdown): in the journal, no address (an
    unknown account's by its fingerprint)."""
    for key in claimed.reached:
        scope = key.name.partition(":")[0]
        action = "sign_in_slowed" if key.slowdown else "sign_in_locked"
        if user_id is not None:
            await journal.append(rt, Act(action, None, None, "user", user_id, {"scope": scope}))
        elif email:
            details = {"scope": scope, "account": account_fingerprint(rt, email)}
            await journal.append(rt, Act(action, None, None, "", "", details))


async def check_account_password(
    rt: Runtime, email: str, password: str, source: str, device_cookie: str = ""
) -> dict[str, Any] | None:
    """The active user whose password this is, or None; throttled per account and source (or per known
    device), slowed per account (except on a known device: hub.throttle)."""
    device = rt.secrets.device_nonce(device_cookie, email)
    claimed = await throttle.claim(rt, throttle.sign_in_keys(rt, email, source, device))
    user = await User.select().where(User.email == email).first() if len(email) <= 254 else None
    if user is None or not user["is_active"]:  # the time of a real check: no account discovery by timing
        await rt.secrets.burn_password_check_off_loop()
    elif await rt.secrets.verify_password_off_loop(user["password_hash"], password):
        await throttle.succeeded(rt, claimed)
        return dict(user)
    # the failure in the journal: the account tried, never the password, and never an unknown address in clear
    if user is not None:
        details = {} if user["is_active"] else {"inactive": True}
        await journal.append(rt, Act("sign_in_failed", None, None, "user", user["id"], details))
    else:
        fingerprint = {"account": account_fingerprint(rt, email)}
        await journal.append(rt, Act("sign_in_failed_unknown", None, None, "", "", fingerprint))
    await journal_throttled(rt, claimed, user["id"] if user else None, email)
    return None


async def login(rt: Runtime, email: str, password: str, client: str, device_cookie: str = "") -> tuple[str, Actor]:
    """Check the password; returns a new session token. Throttled per account and source, slowed per account;
    a browser with this account's device cookie is counted on its own (see device_cookie_for)."""
    email = email.strip().lower()
    user = await check_account_password(rt, email, password, client, device_cookie)
    if user is None:
        raise Invalid(BAD_CREDENTIALS, {"password": BAD_CREDENTIALS})
    token = new_token()
    async with write_transaction():
        session = WebSession(token_hash=token_hash(token), user=user["id"], created_at=rt.now(), last_seen_at=rt.now())
        await session.save()
        await User.update({User.last_login_at: rt.now()}).where(User.id == user["id"])
    return token, await build_actor(user, "session", False, int(session.id))


def device_cookie_for(rt: Runtime, email: str, current: str = "") -> str:
    """The device cookie a browser keeps once this account's password was right in it (the same if it has one)."""
    email = email.strip().lower()
    return current if rt.secrets.device_nonce(current, email) else rt.secrets.sign_device(new_token(12), email)


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
_TOKEN_SQL = _CALLER_SQL.format(table="hub_api_token", columns="last_used_at, c.revoked_at, c.mfa_backed")


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


def _mfa_key(rt: Runtime, actor: Actor) -> throttle.Key:
    return throttle.Key(f"mfa:{actor.user_id}", rt.settings.login_max_failures)


async def pass_second_factor(rt: Runtime, actor: Actor, code: str) -> str:
    """Second sign-in step; returns a fresh session token (the old one dies: no fixation)."""
    claimed = await throttle.claim(rt, [_mfa_key(rt, actor)])
    used = await _use_second_factor(rt, actor.user_id, code)
    if used is None:
        await journal.append(
            rt, Act("mfa_code_failed", actor.user_id, None, "user", actor.user_id, {"step": "sign_in"})
        )
        await journal_throttled(rt, claimed, actor.user_id)
        raise Invalid("Code incorrect ou déjà utilisé.", {"code": "Code incorrect ou déjà utilisé."})
    await throttle.succeeded(rt, claimed)
    token = new_token()
    await WebSession.update({WebSession.token_hash: token_hash(token), WebSession.mfa_passed: True}).where(
        WebSession.id == actor.session_id
    )
    rt.callers.invalidate()  # the old token must die now, not when its cache entry ages out
    if used == "recovery":
        await journal.append(rt, Act("mfa_recovery_code_used", actor.user_id, None, "user", actor.user_id))
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


def enrolment_needs_password(actor: Actor) -> bool:
    """The first enrolment of an account whose role needs 2FA is made from a password-only session: the
    password is asked again, so a session left open (or a stolen cookie) cannot bind someone else's phone."""
    return actor.requires_mfa and not actor.mfa_enrolled


async def confirm_totp_enrolment(rt: Runtime, actor: Actor, code: str, password: str = "") -> tuple[str, list[str]]:
    """Activate two-factor; returns a fresh session token and the recovery codes (shown once)."""
    secret = await pending_totp_secret(rt, actor)
    if not secret:
        raise Conflict("Aucune activation en cours : recommencez depuis votre compte.")
    claimed = await throttle.claim(rt, [_mfa_key(rt, actor)])
    if enrolment_needs_password(actor):
        user = await User.select(User.password_hash).where(User.id == actor.user_id).first()
        if user is None or not await rt.secrets.verify_password_off_loop(user["password_hash"], password):
            await journal_throttled(rt, claimed, actor.user_id)
            raise Invalid(
                "Mot de passe incorrect.", {"password": "Mot de passe incorrect : saisissez celui de votre compte."}
            )
    step = totp_match_step(secret, code, rt.now().timestamp(), 0)
    if step is None:
        await journal.append(
            rt, Act("mfa_code_failed", actor.user_id, None, "user", actor.user_id, {"step": "enrolment"})
        )
        await journal_throttled(rt, claimed, actor.user_id)
        raise Invalid("Code incorrect.", {"code": "Code incorrect. Vérifiez l'heure de votre téléphone et réessayez."})
    await throttle.succeeded(rt, claimed)
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
        await journal.append(rt, Act("mfa_enabled", actor.user_id, None, "user", actor.user_id))
    rt.callers.invalidate()
    return token, codes


async def regenerate_recovery_codes(rt: Runtime, actor: Actor) -> list[str]:
    if not actor.mfa_enrolled:
        raise Conflict("Activez d'abord la double authentification.")
    codes = new_recovery_codes()
    async with write_transaction():
        await RecoveryCode.delete().where(RecoveryCode.user == actor.user_id)
        await RecoveryCode.insert(*[RecoveryCode(user=actor.user_id, code_hash=token_hash(c)) for c in codes])
        await journal.append(rt, Act("mfa_recovery_codes_renewed", actor.user_id, None, "user", actor.user_id))
    return codes


async def remaining_recovery_codes(user_id: int) -> int:
    return await RecoveryCode.count().where((RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null())


async def change_password(rt: Runtime, actor: Actor, current: str, new: str) -> None:
    claimed = await throttle.claim(rt, [_mfa_key(rt, actor)])
    user = await User.select(User.password_hash).where(User.id == actor.user_id).first()
    if user is None or not await rt.secrets.verify_password_off_loop(user["password_hash"], current):
        await journal_throttled(rt, claimed, actor.user_id)
        raise Invalid("Mot de passe actuel incorrect.", {"current_password": "Mot de passe actuel incorrect."})
    await throttle.succeeded(rt, claimed)
    check_password(new, actor.email, field="new_password")
    new_hash = await rt.secrets.hash_password_off_loop(new)
    async with write_transaction():
        await User.update({User.password_hash: new_hash}).where(User.id == actor.user_id)
        await WebSession.delete().where((WebSession.user == actor.user_id) & (WebSession.id != actor.session_id))
        await journal.append(rt, Act("password_changed", actor.user_id, None, "user", actor.user_id))
    rt.callers.invalidate()


async def resolve_api_token(rt: Runtime, token: str) -> Actor | None:
    if not token.startswith("mlg_") or len(token) > 120:
        return None
    digest = token_hash(token)
    rows = await rt.callers.rows(_TOKEN_SQL, digest)
    if not rows or rows[0]["revoked_at"] is not None or not rows[0]["is_active"]:
        return None
    actor = _caller(rows, "token", bool(rows[0]["mfa_backed"]))
    if actor.requires_mfa and not actor.mfa_passed:
        return None  # created without the second factor its owner's roles now need: suspended
    now = rt.now()
    last_used = rows[0]["last_used_at"]
    if last_used is None or last_used < now - TOKEN_TOUCH_EVERY:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == rows[0]["credential_id"])
        rt.callers.forget(_TOKEN_SQL, digest)
    return actor
