"""The audit journal: append-only, hash-chained with an HMAC, head sealed, verifiable.

A full verification reads every entry, which grows with the journal. So full checks are recorded (sealed,
in hub_journal_check): the jobs loop makes one a day and alerts the admins when it fails, `maillage journal
verify` and the journal page's button make one on demand, and the page itself only verifies what was
appended since the last good one (`status`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from hub.db import current_engine, write_transaction
from hub.runtime import Runtime
from hub.tables import JournalCheck, JournalEntry, JournalHead

FULL_CHECK_EVERY = timedelta(days=1)

_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Details are codes and numbers, never free text: no spaces, no "@", so no name or address slips in.
_DETAIL_VALUE = re.compile(r"^[\w.:/\-]{0,80}$")

Scalar = str | int | bool | None


@dataclasses.dataclass(frozen=True)
class Act:
    """What happened, by whom, on what: the non-personal facts a journal line keeps."""

    action: str
    actor_id: int | None = None
    structure_id: int | None = None
    object_type: str = ""
    object_id: str | int = ""
    details: Mapping[str, Scalar] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    last_seq: int = 0  # the last entry found valid, and its hash: where a later check may resume
    last_hash: str = ""


@dataclasses.dataclass(frozen=True)
class Status:
    """What the journal page says: the last recorded full check, then the entries appended since."""

    ok: bool
    full_check_at: datetime | None  # None: no full check recorded yet, this one was made on the spot
    full_check_entries: int
    since_checked: int  # entries appended after that check, verified now
    first_bad_seq: int | None = None
    reason: str = ""


def canonical_details(details: Mapping[str, Scalar]) -> str:
    for key, value in details.items():
        if not _DETAIL_KEY.match(key):
            raise ValueError(f"journal detail key not allowed: {key!r}")
        if isinstance(value, str) and not _DETAIL_VALUE.match(value):
            raise ValueError(f"journal detail {key!r} must be a code, not free text")
        if not isinstance(value, str | int | bool | type(None)):
            raise ValueError(f"journal detail {key!r} must be a scalar")
    return json.dumps(dict(details), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(key: bytes, row: Mapping[str, object]) -> str:
    payload = json.dumps(
        [
            row["seq"],
            row["at"],
            row["actor_id"],
            row["structure_id"],
            row["action"],
            row["object_type"],
            row["object_id"],
            row["details"],
            row["prev_hash"],
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def head_seal(key: bytes, seq: int, last_hash: str) -> str:
    return hmac.new(key, f"head:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


async def append(rt: Runtime, act: Act) -> int:
    """Append one entry, at the runtime's now; joins the caller's transaction so the act and its trace commit
    together."""
    return await append_signed(rt.secrets.journal_key, act, rt.now())


async def append_signed(key: bytes, act: Act, now: datetime) -> int:
    """Append one entry signed with this key (append() uses the app's; a test forges with another)."""
    details = canonical_details(act.details)
    async with write_transaction():
        query = JournalHead.select().limit(1)
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows("UPDATE")  # serialises appenders on the one head row
        head = (await query)[0]
        row: dict[str, Any] = {
            "seq": head["seq"] + 1,
            "at": now.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": act.actor_id,
            "structure_id": act.structure_id,
            "action": act.action,
            "object_type": act.object_type,
            "object_id": str(act.object_id),
            "details": details,
            "prev_hash": head["hash"],
        }
        row["hash"] = entry_hash(key, row)
        await JournalEntry.insert(JournalEntry(**row))
        await JournalHead.update(
            {
                JournalHead.seq: row["seq"],
                JournalHead.hash: row["hash"],
                JournalHead.seal: head_seal(key, int(row["seq"]), str(row["hash"])),
            }
        ).where(JournalHead.id == head["id"])
    return int(row["seq"])


async def verify(key: bytes, batch_size: int = 2000, *, after: tuple[int, str] = (0, "")) -> Verification:
    """Recompute the chain and name the first entry that was altered, removed or forged.

    `after` = (seq, hash) of an entry already known good: only what follows it is read.
    """
    expected_seq, prev_hash, checked = after[0] + 1, after[1], 0
    while True:
        rows = await (
            JournalEntry.select().where(JournalEntry.seq >= expected_seq).order_by(JournalEntry.seq).limit(batch_size)
        )
        for row in rows:
            if row["seq"] != expected_seq:
                return Verification(False, checked, expected_seq, "entrée manquante", expected_seq - 1, prev_hash)
            if row["prev_hash"] != prev_hash:
                return Verification(False, checked, row["seq"], "chaînage rompu", expected_seq - 1, prev_hash)
            if not hmac.compare_digest(entry_hash(key, row), row["hash"]):
                return Verification(False, checked, row["seq"], "entrée modifiée", expected_seq - 1, prev_hash)
            prev_hash, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
        if len(rows) < batch_size:
            break
    last = (expected_seq - 1, prev_hash)
    heads = await JournalHead.select()
    if len(heads) != 1:
        return Verification(False, checked, expected_seq, "tête du journal absente", *last)
    head = heads[0]
    if not hmac.compare_digest(head_seal(key, head["seq"], head["hash"]), head["seal"] or ""):
        if head["seq"] == 0 and head["hash"] == "" and last == (0, ""):
            return Verification(True, 0)
        return Verification(False, checked, head["seq"] or None, "tête du journal modifiée", *last)
    if head["seq"] != expected_seq - 1 or head["hash"] != prev_hash:
        return Verification(False, checked, expected_seq, "fin du journal supprimée", *last)
    return Verification(True, checked, None, "", *last)


def _check_seal(key: bytes, row: Mapping[str, Any]) -> str:
    checked_at = row["checked_at"].astimezone(UTC).isoformat(timespec="microseconds")
    fields = [checked_at, bool(row["ok"]), row["entries"], row["last_seq"], row["last_hash"], row["first_bad_seq"]]
    return hmac.new(key, f"check:{json.dumps(fields)}".encode(), hashlib.sha256).hexdigest()


async def full_check(key: bytes, now: datetime) -> Verification:
    """Verify the whole journal and record the outcome, sealed."""
    result = await verify(key)
    row: dict[str, Any] = {
        "checked_at": now.astimezone(UTC),
        "ok": result.ok,
        "entries": result.checked,
        "last_seq": result.last_seq,
        "last_hash": result.last_hash,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
    }
    await JournalCheck.insert(JournalCheck(**row, seal=_check_seal(key, row)))
    return result


async def last_full_check(key: bytes) -> dict[str, Any] | None:
    """The newest recorded full check whose seal holds (a row forged in the database is passed over)."""
    for row in await JournalCheck.select().order_by(JournalCheck.id, ascending=False).limit(20):
        if hmac.compare_digest(_check_seal(key, row), row["seal"]):
            return row
    return None


async def status(key: bytes) -> Status:
    """The last full check, plus a verification of what was appended since (the whole chain if none)."""
    check = await last_full_check(key)
    if check is None:
        result = await verify(key)
        return Status(result.ok, None, result.checked, 0, result.first_bad_seq, result.reason)
    if not check["ok"]:
        return Status(False, check["checked_at"], check["entries"], 0, check["first_bad_seq"], check["reason"])
    result = await verify(key, after=(check["last_seq"], check["last_hash"]))
    return Status(result.ok, check["checked_at"], check["entries"], result.checked, result.first_bad_seq, result.reason)


async def full_check_due(now: datetime) -> bool:
    newest = await JournalCheck.select(JournalCheck.checked_at).order_by(JournalCheck.id, ascending=False).first()
    return newest is None or newest["checked_at"] <= now - FULL_CHECK_EVERY


async def recent(limit: int = 50, before_seq: int | None = None) -> list[dict]:
    query = JournalEntry.select().order_by(JournalEntry.seq, ascending=False).limit(limit)
    if before_seq is not None:
        query = query.where(JournalEntry.seq < before_seq)
    return await query
