"""Throttling of password and code checks, counted atomically in the database (OWASP's guidance).

Three kinds of keys, each a locked counter row (hub_sign_in_throttle) per window:
- a lock per account and source: after `login_max_failures` failures that source may not try that
  account again before the window ends. A stranger's failures never lock the owner out from elsewhere.
- a slowdown per account, whatever the source: past `login_slowdown_after` failures, each further try
  waits 1 s, 2 s, 4 s… (at most `login_max_delay_seconds`) after the previous failure. A guesser spread over
  many addresses is slowed down, and nobody is ever locked out for long.
- a lock per source, whatever the account (several accounts guessed from one place).

A browser where the account's password was once right carries a signed device cookie (OWASP's "device
cookies"): its tries are counted on a key of its own, locked after `login_max_failures`, and the account's
slowdown does not apply to it. So even a guesser spread over many addresses cannot keep the owner out of
their usual browser, from any network.

A try is counted before its check, in the transaction that read the count (rows locked on PostgreSQL, the
write lock on SQLite), so concurrent tries cannot all read the same count: 40 at once give exactly as many
checks as the limit allows. A successful check gives the try back.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from hub.db import current_engine, write_transaction
from hub.errors import TooManyRequests
from hub.runtime import Runtime
from hub.tables import SignInThrottle

TOO_MANY = "Trop de tentatives. Patientez quelques minutes avant de réessayer."


@dataclasses.dataclass(frozen=True)
class Key:
    name: str  # e.g. "account-source:<email>|<address>"; only its keyed hash is stored
    limit: int  # failures allowed in the window (lock), or before tries slow down (slowdown)
    slowdown: bool = False  # False: a lock until the window ends; True: growing delays, never a lock
    forget_on_success: bool = True  # the account's own keys start afresh; a source's gets its one try back


@dataclasses.dataclass(frozen=True)
class Claim:
    """Tries counted for one check; `reached` names the keys this try brought to their limit."""

    keys: tuple[Key, ...]
    reached: tuple[Key, ...]


def sign_in_keys(rt: Runtime, email: str, source: str, device: str = "") -> list[Key]:
    """Password checks of an account (sign-in, an invitation for an existing account); `device` is the
    nonce of a valid device cookie of this account, or ""."""
    limit = rt.settings.login_max_failures
    per_source = Key(f"source:{source}", limit * 4, forget_on_success=False)
    if device:
        return [Key(f"account-device:{email}|{device}", limit), per_source]
    return [
        Key(f"account-source:{email}|{source}", limit),
        Key(f"account:{email}", rt.settings.login_slowdown_after, slowdown=True),
        per_source,
    ]


def delay_after(rt: Runtime, failures: int, threshold: int) -> timedelta:
    """The wait a slowed-down key imposes after its last failure: 1 s, 2 s, 4 s… up to the cap."""
    if failures < threshold:
        return timedelta(0)
    exponent = min(failures - threshold, 30)
    return timedelta(seconds=min(2**exponent, rt.settings.login_max_delay_seconds))


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


async def claim(rt: Runtime, keys: list[Key]) -> Claim:
    """Count one try against every key, or raise TooManyRequests (nothing counted) when one refuses it."""
    window = timedelta(minutes=rt.settings.login_window_minutes)
    hashes = [rt.secrets.keyed_hash(key.name) for key in keys]
    reached: list[Key] = []
    async with write_transaction():
        now = rt.now()  # once the write lock is held: no concurrent try counted "later" than this one
        for digest in hashes:  # the row must exist to be locked; a concurrent insert waits, then does nothing
            await SignInThrottle.insert(
                SignInThrottle(key_hash=digest, failures=0, window_start=now, last_failure_at=now)
            ).on_conflict(target=SignInThrottle.key_hash, action="DO NOTHING")
        query = SignInThrottle.select().where(SignInThrottle.key_hash.is_in(hashes))
        if isinstance(current_engine(), PostgresEngine):
            query = query.order_by(SignInThrottle.key_hash).lock_rows("UPDATE")  # one order: no deadlock
        rows = {row["key_hash"]: row for row in await query}
        counts: list[int] = []
        stales: list[bool] = []
        for key, digest in zip(keys, hashes, strict=True):
            row = rows[digest]
            # a lock lasts one window from its first failure; a slowdown, until a window passes without one
            stale = (row["last_failure_at"] if key.slowdown else row["window_start"]) <= now - window
            failures = 0 if stale else int(row["failures"])
            if key.slowdown:
                delay = delay_after(rt, failures, key.limit)
                wait_until: datetime = row["last_failure_at"] + delay
                if delay and now < wait_until:
                    raise TooManyRequests(
                        "Trop de tentatives sur ce compte. Patientez quelques secondes avant de réessayer.",
                        retry_after=_retry_after((wait_until - now).total_seconds()),
                    )
            elif failures >= key.limit:
                retry = (row["window_start"] + window - now).total_seconds()
                raise TooManyRequests(TOO_MANY, retry_after=_retry_after(retry))
            counts.append(failures)
            stales.append(stale)
        for key, digest, failures, stale in zip(keys, hashes, counts, stales, strict=True):
            values: dict[Any, Any] = {SignInThrottle.failures: failures + 1, SignInThrottle.last_failure_at: now}
            if stale:
                values[SignInThrottle.window_start] = now
            await SignInThrottle.update(values).where(SignInThrottle.key_hash == digest)
            if failures + 1 == key.limit:
                reached.append(key)
    return Claim(tuple(keys), tuple(reached))


async def succeeded(rt: Runtime, claimed: Claim) -> None:
    """The check passed: the account's own keys start afresh; the others (a source's) get the try back."""
    forget = [rt.secrets.keyed_hash(key.name) for key in claimed.keys if key.forget_on_success]
    give_back = [rt.secrets.keyed_hash(key.name) for key in claimed.keys if not key.forget_on_success]
    async with write_transaction():
        if forget:
            await SignInThrottle.delete().where(SignInThrottle.key_hash.is_in(forget))
        for digest in give_back:
            await SignInThrottle.update({SignInThrottle.failures: SignInThrottle.failures - 1}).where(
                (SignInThrottle.key_hash == digest) & (SignInThrottle.failures > 0)
            )


async def forget_account(rt: Runtime, email: str) -> None:
    """A new password (reset link): the account's slowdown starts afresh; locks on sources stay."""
    await SignInThrottle.delete().where(SignInThrottle.key_hash == rt.secrets.keyed_hash(f"account:{email}"))


async def purge(rt: Runtime) -> int:
    """Counters whose window ended long ago."""
    horizon = rt.now() - timedelta(minutes=rt.settings.login_window_minutes) - timedelta(days=1)
    return len(
        await SignInThrottle.delete().where(SignInThrottle.last_failure_at < horizon).returning(SignInThrottle.id)
    )
