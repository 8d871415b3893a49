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
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine

from hub.db import current_engine, write_transaction
from hub.errors import Invalid
from hub.modules import JournalLabels, JournalObject
from hub.runtime import Runtime
from hub.tables import JournalCheck, JournalEntry, JournalHead, Structure, User

if TYPE_CHECKING:
    from hub.modules import Module

PARIS = ZoneInfo("Europe/Paris")

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


# ---------------------------------------------------------------- reading the journal (the coordinator's page)
# The journal keeps codes and ids only; names and French words are found when the page is shown. Each module
# declares its words (Module.journal); these are the core's.
CORE_LABELS = JournalLabels(
    actions={
        "user_created": "Compte créé",
        "role_granted": "Rôle accordé",
        "role_revoked": "Rôle retiré",
        "invitation_sent": "Invitation envoyée",
        "invitation_resent": "Invitation renvoyée",
        "invitation_revoked": "Invitation annulée",
        "password_changed": "Mot de passe changé",
        "password_reset": "Mot de passe réinitialisé par lien",
        "sign_in_failed": "Connexion refusée : mot de passe incorrect",
        "sign_in_failed_unknown": "Connexion refusée : aucun compte à cette adresse",
        "sign_in_locked": "Connexion bloquée (trop d'échecs)",
        "sign_in_slowed": "Connexions ralenties (trop d'échecs)",
        "mfa_code_failed": "Code de double authentification refusé",
        "mfa_enabled": "Double authentification activée",
        "mfa_recovery_code_used": "Code de secours utilisé",
        "mfa_recovery_codes_renewed": "Codes de secours renouvelés",
        "api_token_created": "Jeton d'API créé",
        "api_token_revoked": "Jeton d'API révoqué",
        "api_tokens_revoked": "Jetons d'API révoqués (rôle exigeant la double authentification)",
    },
    details={
        "role": "Rôle",
        "user": "Compte",
        "admin": "Administrateur",
        "coordinator": "Coordinateur",
        "scope": "Blocage",
        "account": "Empreinte de l'adresse saisie",
        "step": "Étape",
        "count": "Nombre",
        "inactive": "Compte désactivé",
    },
    values={
        "role": {"prescriber": "Prescripteur", "aidant": "Aidant", "manager": "Référent de structure"},
        "scope": {
            "account-source": "ce compte depuis une même adresse réseau",
            "account-device": "ce compte sur un appareil connu",
            "account": "ce compte, d'où que viennent les essais",
            "source": "une adresse réseau, tous comptes confondus",
            "mfa": "les codes de ce compte",
        },
        "step": {"sign_in": "connexion", "enrolment": "activation"},
    },
    refers_to={"user": "user"},
    objects={
        "user": JournalObject("compte"),
        "membership": JournalObject("rôle"),
        "invitation": JournalObject("invitation"),
        "api_token": JournalObject("jeton d'API"),
        "structure": JournalObject("structure"),
    },
)
PAGE_SIZE = 50
MAX_STRUCTURES_MATCHED = 200  # a structure filter by name: at most this many structures' entries


def vocabulary(modules: Sequence[Module]) -> JournalLabels:
    """The core's words and every module's, merged (a module's own words win for its own codes)."""
    parts = [CORE_LABELS, *(module.journal for module in modules)]

    def merged(field: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in parts:
            out.update(getattr(part, field))
        return out

    values: dict[str, dict[str, str]] = {}
    for part in parts:  # two modules may both say "format": each one's codes keep their words
        for key, words in part.values.items():
            values[key] = {**values.get(key, {}), **words}
    return JournalLabels(
        actions=merged("actions"),
        details=merged("details"),
        values=values,
        refers_to=merged("refers_to"),
        objects=merged("objects"),
    )


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the coordinator asked to see; `structures` is None when no structure was asked for."""

    start: date | None = None
    end: date | None = None
    actor: str = ""  # "" everyone, "systeme" no author, or a user id
    structure: str = ""  # as typed: an id (from a link) or part of a name
    structures: tuple[int, ...] | None = None
    action: str = ""

    def query_pairs(self) -> list[tuple[str, str]]:
        pairs = [
            ("du", self.start.isoformat() if self.start else ""),
            ("au", self.end.isoformat() if self.end else ""),
            ("auteur", self.actor),
            ("structure", self.structure),
            ("action", self.action),
        ]
        return [(key, value) for key, value in pairs if value]


def _day(text: str, field: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("Date invalide.", {field: f"{label} : une date comme 2026-11-29 (jour, mois, année)."}) from None


async def read_filters(du: str, au: str, auteur: str, structure: str, action: str, labels: JournalLabels) -> Filters:
    """The page's filters, checked: a French message beside each wrong field."""
    errors: dict[str, str] = {}
    start = end = None
    try:
        start = _day(du, "du", "Du")
    except Invalid as error:
        errors |= error.fields
    try:
        end = _day(au, "au", "Au")
    except Invalid as error:
        errors |= error.fields
    if start and end and end < start:
        errors["au"] = "La date de fin vient avant la date de début."
    auteur = auteur.strip()
    if auteur and auteur != "systeme" and not (auteur.isdigit() and len(auteur) <= 18):
        errors["auteur"] = "Choisissez un auteur dans la liste."
    action = action.strip()
    if action and action not in labels.actions:
        errors["action"] = "Choisissez une action dans la liste."
    structure = structure.strip()
    if len(structure) > 200:
        errors["structure"] = "200 caractères au plus."
    if errors:
        raise Invalid("Filtres invalides.", errors)
    structures: tuple[int, ...] | None = None
    if structure.isdigit() and len(structure) <= 18:
        structures = (int(structure),)
    elif structure:
        pattern = "%" + structure.replace("\\", "").replace("%", "").replace("_", " ") + "%"
        postgres = isinstance(current_engine(), PostgresEngine)  # SQLite's LIKE ignores (ASCII) case already
        matches = Structure.name.ilike(pattern) if postgres else Structure.name.like(pattern)
        rows = await Structure.select(Structure.id).where(matches).limit(MAX_STRUCTURES_MATCHED)
        structures = tuple(row["id"] for row in rows)
    return Filters(start, end, auteur, structure, structures, action)


def _utc_text(day: date) -> str:
    """Midnight of that day in Paris, as the journal writes its dates (so strings compare as times)."""
    moment = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def _where(filters: Filters) -> list[Any]:
    clauses: list[Any] = []
    if filters.start:
        clauses.append(JournalEntry.at >= _utc_text(filters.start))
    if filters.end:
        clauses.append(JournalEntry.at < _utc_text(filters.end + timedelta(days=1)))
    if filters.actor == "systeme":
        clauses.append(JournalEntry.actor_id.is_null())
    elif filters.actor:
        clauses.append(JournalEntry.actor_id == int(filters.actor))
    if filters.structures is not None:
        clauses.append(JournalEntry.structure_id.is_in(list(filters.structures) or [-1]))
    if filters.action:
        clauses.append(JournalEntry.action == filters.action)
    return clauses


@dataclasses.dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]  # newest first
    older: int | None  # the `avant` of the next page of older entries, or None
    newer: int | None  # the `apres` of the page of newer entries, or None


async def entries(
    filters: Filters, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of entries matching the filters, newest first, by key (seq): `before` goes back in time,
    `after` forward; each page says whether there are older and newer entries."""
    clauses = _where(filters)

    def query(*more: Any) -> Any:
        q = JournalEntry.select()
        for clause in [*clauses, *more]:
            q = q.where(clause)
        return q

    if after is not None:
        rows = list(reversed(await query(JournalEntry.seq > after).order_by(JournalEntry.seq).limit(limit)))
    else:
        q = query(JournalEntry.seq < before) if before is not None else query()
        rows = await q.order_by(JournalEntry.seq, ascending=False).limit(limit)
    if not rows:
        return Page([], None, None)
    newest, oldest = rows[0]["seq"], rows[-1]["seq"]
    older = await query(JournalEntry.seq < oldest).order_by(JournalEntry.seq, ascending=False).first()
    newer = await query(JournalEntry.seq > newest).order_by(JournalEntry.seq).first()
    return Page(rows, oldest if older else None, newest if newer else None)


@dataclasses.dataclass(frozen=True)
class Named:
    text: str
    url: str = ""


@dataclasses.dataclass(frozen=True)
class Line:
    label: str
    value: Named


@dataclasses.dataclass(frozen=True)
class Reading:
    """One entry as the page says it."""

    seq: int
    at: str
    action: str
    actor: Named | None  # None: no author (the system, or someone not signed in)
    structure: Named | None
    object: Named | None
    lines: list[Line]


def of(name: str) -> str:
    """French "de" before a name, elided before a vowel or a mute h: "de Paul", "d'Alix", "d'Ordinateurs solidaires"
    (an aspirated h cannot be told from its spelling: elided too, as before most first names)."""
    first = unicodedata.normalize("NFD", name.lstrip()[:1])[:1].lower()
    return f"d'{name.lstrip()}" if first and first in "aeiouyhœæ" else f"de {name}"


async def _names_of(table: Any, column: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await table.select(table.id, column.as_alias("name")).where(table.id.is_in(sorted(ids)))
    return {row["id"]: row["name"] for row in rows}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) <= 18 else None


async def describe(rows: Sequence[Mapping[str, Any]], labels: JournalLabels) -> list[Reading]:
    """Entries in French: actions by their label, authors, structures and objects by name (found now)."""
    parsed = [(row, json.loads(row["details"] or "{}") or {}) for row in rows]
    user_ids: set[int] = set()
    structure_ids: set[int] = set()
    object_ids: dict[str, set[str]] = {}
    for row, details in parsed:
        if row["actor_id"] is not None:
            user_ids.add(row["actor_id"])
        if row["structure_id"] is not None:
            structure_ids.add(row["structure_id"])
        for key, value in details.items():
            target, ref = labels.refers_to.get(key), _int(value)
            if ref is not None and target == "user":
                user_ids.add(ref)
            elif ref is not None and target == "structure":
                structure_ids.add(ref)
        object_ref = _int(row["object_id"])
        if row["object_type"] == "user" and object_ref is not None:
            user_ids.add(object_ref)
        elif row["object_type"] == "structure" and object_ref is not None:
            structure_ids.add(object_ref)
        elif row["object_id"]:
            object_ids.setdefault(row["object_type"], set()).add(str(row["object_id"]))
    users = await _names_of(User, User.full_name, user_ids)
    structures = await _names_of(Structure, Structure.name, structure_ids)
    object_names: dict[str, Mapping[str, str]] = {}
    for kind, ids in object_ids.items():
        described = labels.objects.get(kind)
        if described is not None and described.names is not None:
            object_names[kind] = await described.names(sorted(ids))
    structure_url = labels.objects["structure"].url if "structure" in labels.objects else ""

    def user(uid: int) -> Named:
        return Named(users.get(uid, f"compte n° {uid}"), f"/journal?auteur={uid}")

    def structure(sid: int) -> Named:
        return Named(structures.get(sid, f"structure n° {sid}"), structure_url.format(id=sid) if structure_url else "")

    readings = []
    for row, details in parsed:
        kind, oid = row["object_type"], str(row["object_id"])
        described = labels.objects.get(kind)
        obj: Named | None = None
        if kind == "user" and _int(oid) is not None:
            obj = Named(f"compte {of(users.get(int(oid), 'n° ' + oid))}", f"/journal?auteur={oid}")
        elif kind == "structure" and _int(oid) == row["structure_id"]:
            obj = Named("sa fiche")  # the structure of the line itself: named once, in its column
        elif kind == "structure" and _int(oid) is not None:
            obj = structure(int(oid))
        elif kind:
            noun = described.noun if described else kind
            name = object_names.get(kind, {}).get(oid)
            text = f"{noun} « {name} »" if name else (f"{noun} n° {oid}" if oid else noun)
            url = described.url.format(id=oid) if described and described.url and oid else ""
            obj = Named(text, url)
        lines = []
        for key, value in details.items():
            label = labels.details.get(key, key.replace("_", " "))
            target, ref = labels.refers_to.get(key), _int(value)
            if ref is not None and target == "user":
                lines.append(Line(label, user(ref)))
            elif ref is not None and target == "structure":
                lines.append(Line(label, structure(ref)))
            elif isinstance(value, bool):
                lines.append(Line(label, Named("oui" if value else "non")))
            elif value is None:
                lines.append(Line(label, Named("—")))
            elif isinstance(value, list | tuple):  # codes (scopes…) said one by one, in the module's words
                named = [labels.values.get(key, {}).get(str(item), str(item)) for item in value]
                lines.append(Line(label, Named(", ".join(named) or "—")))
            else:
                lines.append(Line(label, Named(labels.values.get(key, {}).get(str(value), str(value)))))
        readings.append(
            Reading(
                seq=row["seq"],
                at=row["at"],
                action=labels.actions.get(row["action"], row["action"]),
                actor=user(row["actor_id"]) if row["actor_id"] is not None else None,
                structure=structure(row["structure_id"]) if row["structure_id"] is not None else None,
                object=obj,
                lines=lines,
            )
        )
    return readings
