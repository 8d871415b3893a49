"""Likely duplicate structures, flagged for the coordinator on import and on creation, then merged keeping history.

Two structures look like one when they share a SIRET, or when their names are close (rapidfuzz
token_sort_ratio on names without accents, case or punctuation, at least NAME_THRESHOLD) at the same address
or in the same commune. Names are only compared within such a block (same address, same commune), so a
département's directory is checked in well under a second. A pair is flagged once, whatever its later status:
a dismissed pair is not raised again.

A merge moves the services and memberships (and pending invitations) of the dropped structure to the kept one,
fills the kept one's empty fields from the dropped one, closes the dropped one with `merged_into` set, and
journals it. Nothing is deleted: the dropped structure stays, closed, with what could not move (a role its
member already holds in the kept structure), and its history.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process

from hub import hooks, journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.tables import AccessLink, Membership
from network.search import index as search_index
from network.tables import DuplicateFlag, Place, Service, Structure

NAME_THRESHOLD = 88.0
REASONS = {
    "siret": "même SIRET",
    "name_address": "nom proche, même adresse",
    "name_commune": "nom proche, même commune",
}
_PRIORITY = ("siret", "name_address", "name_commune")
_ADDRESS_WORDS = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "r": "rue",
    "pl": "place",
    "all": "allee",
    "che": "chemin",
    "chem": "chemin",
    "imp": "impasse",
    "rte": "route",
    "fbg": "faubourg",
    "st": "saint",
    "ste": "sainte",
    "qu": "quai",
    "sq": "square",
    "res": "residence",
}
# Filled from the dropped structure when empty in the kept one.
_FILLABLE = (
    "siret",
    "address",
    "address_extra",
    "postal_code",
    "commune",
    "insee_code",
    "neighbourhood",
    "phone",
    "email",
    "website",
    "opening_hours",
    "accessibility_url",
    "description",
)


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: "Centre Social « Les Tilleuls »" → "centre social les tilleuls"."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", folded))


def address_key(address: str, postal_code: str) -> str:
    """Same street address, written either way ("12 av. Jean Jaurès" = "12 avenue jean jaures")."""
    words = [_ADDRESS_WORDS.get(word, word) for word in normalise(address).split()]
    return f"{postal_code.strip()}|{' '.join(words)}" if words else ""


def commune_keys(commune: str, postal_code: str, insee_code: str) -> list[str]:
    """A structure's commune, by INSEE code and by name within its département (either may be missing)."""
    keys = [f"insee:{insee_code.strip()}"] if insee_code.strip() else []
    if name := normalise(commune):
        keys.append(f"name:{postal_code.strip()[:2]}:{name}")
    return keys


@dataclasses.dataclass(frozen=True)
class Match:
    structure_id: int  # the one being checked (new or updated)
    other_id: int
    reason: str  # siret | name_address | name_commune
    score: float

    @property
    def pair(self) -> frozenset[int]:
        return frozenset((self.structure_id, self.other_id))


@dataclasses.dataclass(frozen=True)
class _Entry:
    id: int
    name: str
    siret: str
    address: str
    communes: tuple[str, ...]


def _entry(row: dict[str, Any]) -> _Entry:
    return _Entry(
        id=int(row.get("id") or 0),
        name=normalise(row.get("name") or ""),
        siret=(row.get("siret") or "").replace(" ", ""),
        address=address_key(row.get("address") or "", row.get("postal_code") or ""),
        communes=tuple(
            commune_keys(row.get("commune") or "", row.get("postal_code") or "", row.get("insee_code") or "")
        ),
    )


async def _population() -> list[_Entry]:
    """Every structure that can still be a duplicate: not closed (a merged one is closed)."""
    rows = await Structure.select(
        Structure.id,
        Structure.name,
        Structure.siret,
        Structure.address,
        Structure.postal_code,
        Structure.commune,
        Structure.insee_code,
    ).where(Structure.status != "closed")
    return await asyncio.to_thread(lambda: [_entry(row) for row in rows])  # 20,000 names folded: off the event loop


def _matches(probes: list[_Entry], population: list[_Entry]) -> list[Match]:
    """Best reason per pair (SIRET first), comparing names only within a shared address or commune."""
    by_siret: dict[str, list[_Entry]] = defaultdict(list)
    by_address: dict[str, list[_Entry]] = defaultdict(list)
    by_commune: dict[str, list[_Entry]] = defaultdict(list)
    for entry in population:
        if entry.siret:
            by_siret[entry.siret].append(entry)
        if entry.address:
            by_address[entry.address].append(entry)
        for key in entry.communes:
            by_commune[key].append(entry)
    best: dict[frozenset[int], Match] = {}

    def keep(match: Match) -> None:
        current = best.get(match.pair)
        if current is None or _PRIORITY.index(match.reason) < _PRIORITY.index(current.reason):
            best[match.pair] = match

    def compare(probe: _Entry, block: list[_Entry], reason: str) -> None:
        others = [e for e in block if e.id != probe.id and e.name]
        if not probe.name or not others:
            return
        for _, score, index in process.extract(
            probe.name,
            [e.name for e in others],
            scorer=fuzz.token_sort_ratio,
            processor=None,
            score_cutoff=NAME_THRESHOLD,
            limit=None,
        ):
            keep(Match(probe.id, others[index].id, reason, round(float(score), 1)))

    for probe in probes:
        for other in by_siret.get(probe.siret, []) if probe.siret else []:
            if other.id != probe.id:
                keep(Match(probe.id, other.id, "siret", 100.0))
        if probe.address:
            compare(probe, by_address.get(probe.address, []), "name_address")
        seen_blocks: set[int] = set()
        for key in probe.communes:
            block = by_commune.get(key, [])
            if id(block) not in seen_blocks:
                seen_blocks.add(id(block))
                compare(probe, block, "name_commune")
    return list(best.values())


async def similar_to(fields: dict[str, Any], exclude_id: int | None = None) -> list[Match]:
    """Structures that look like these fields (a structure about to be created: id 0 in the matches).

    The comparison (the whole directory, tenths of a second on a département) runs in a worker thread."""
    probe = _entry({**fields, "id": 0})
    matches = await asyncio.to_thread(_matches, [probe], await _population())
    return [m for m in matches if m.other_id != exclude_id]


async def record_matches(structure_id: int, matches: Iterable[Match], now: datetime) -> int:
    """Flag a structure created just now with the matches similar_to found before its write transaction."""
    flags = [
        DuplicateFlag(structure=structure_id, other=m.other_id, reason=m.reason, score=m.score, created_at=now)
        for m in matches
        if m.other_id != structure_id
    ]
    if flags:
        await DuplicateFlag.insert(*flags)
    return len(flags)


async def flag_duplicates(rt: Runtime, structure_ids: Iterable[int]) -> int:
    """Flag the likely duplicates of these (new or changed) structures; returns how many flags were added.

    Joins the caller's transaction (an import's), or opens its own.
    """
    wanted = {int(i) for i in structure_ids}
    if not wanted:
        return 0
    async with write_transaction():
        population = await _population()
        probes = [entry for entry in population if entry.id in wanted]
        # an import's 20,000 structures take seconds of rapidfuzz: in a worker thread, the event loop keeps serving
        matches = await asyncio.to_thread(_matches, probes, population)
        if not matches:
            return 0
        known = {
            frozenset((row["structure"], row["other"]))
            for row in await DuplicateFlag.select(DuplicateFlag.structure, DuplicateFlag.other)
        }
        fresh = [m for m in matches if m.pair not in known]
        now = rt.now()
        for start in range(0, len(fresh), 500):
            await DuplicateFlag.insert(
                *[
                    DuplicateFlag(
                        structure=m.structure_id, other=m.other_id, reason=m.reason, score=m.score, created_at=now
                    )
                    for m in fresh[start : start + 500]
                ]
            )
    return len(fresh)


async def open_flags() -> list[dict[str, Any]]:
    """Open flags between two structures still open, with both names and communes: the coordinator's list."""
    rows = await (
        DuplicateFlag.select(
            DuplicateFlag.id,
            DuplicateFlag.reason,
            DuplicateFlag.score,
            DuplicateFlag.created_at,
            DuplicateFlag.structure.id.as_alias("structure_id"),
            DuplicateFlag.structure.name.as_alias("structure_name"),
            DuplicateFlag.structure.commune.as_alias("structure_commune"),
            DuplicateFlag.structure.status.as_alias("structure_status"),
            DuplicateFlag.other.id.as_alias("other_id"),
            DuplicateFlag.other.name.as_alias("other_name"),
            DuplicateFlag.other.commune.as_alias("other_commune"),
            DuplicateFlag.other.status.as_alias("other_status"),
        )
        .where(DuplicateFlag.status == "open")
        .order_by(DuplicateFlag.id)
    )
    flags = []
    for row in rows:
        if "closed" in (row["structure_status"], row["other_status"]):
            continue
        flags.append({**row, "reason_label": REASONS.get(row["reason"], row["reason"])})
    return flags


def _require_coordinator(actor: Actor) -> None:
    if not actor.oversees_network:
        raise Forbidden("Seul le coordinateur du réseau traite les doublons.")


async def dismiss(rt: Runtime, actor: Actor, flag_id: int) -> None:
    """Not a duplicate after all: the pair will not be flagged again."""
    _require_coordinator(actor)
    async with write_transaction():
        flag = await DuplicateFlag.select().where(DuplicateFlag.id == flag_id).first()
        if flag is None:
            raise NotFound("Signalement introuvable.")
        if flag["status"] != "open":
            raise Conflict("Ce signalement a déjà été traité.")
        await DuplicateFlag.update({DuplicateFlag.status: "dismissed", DuplicateFlag.decided_at: rt.now()}).where(
            DuplicateFlag.id == flag_id
        )
        await journal.append(
            rt,
            Act(
                "duplicate_dismissed",
                actor.user_id,
                flag["structure"],
                "duplicate_flag",
                flag_id,
                {"other": flag["other"]},
            ),
        )


# What the merge page compares, line by line (the fields a merge may fill, plus kind and status).
COMPARED_FIELDS = (
    ("name", "Nom"),
    ("kind", "Type"),
    ("siret", "SIRET"),
    ("address", "Adresse"),
    ("address_extra", "Complément d'adresse"),
    ("postal_code", "Code postal"),
    ("commune", "Commune"),
    ("insee_code", "Code INSEE"),
    ("neighbourhood", "Quartier"),
    ("phone", "Téléphone"),
    ("email", "E-mail"),
    ("website", "Site web"),
    ("opening_hours", "Horaires"),
    ("accessibility_url", "Accessibilité"),
    ("description", "Présentation"),
    ("confirmed_on", "Confirmée le"),
)


@dataclasses.dataclass(frozen=True)
class MergeSide:
    structure: dict[str, Any]
    services: int
    places: int
    members: int
    invitations: int  # pending ones


@dataclasses.dataclass(frozen=True)
class MergePreview:
    """The two entries side by side before a merge, and what the merge will do to the kept one."""

    flag_id: int
    kept: MergeSide
    dropped: MergeSide
    filled: tuple[str, ...]  # fields of the kept entry that are empty and will take the dropped one's value


async def _side(row: dict[str, Any], now: datetime) -> MergeSide:
    sid = row["id"]
    return MergeSide(
        structure=row,
        services=await Service.count().where(Service.structure == sid),
        places=await Place.count().where(Place.service.structure == sid),
        members=await Membership.count().where(Membership.structure == sid),
        invitations=await AccessLink.count().where(
            (AccessLink.structure == sid)
            & (AccessLink.purpose == "invitation")
            & AccessLink.used_at.is_null()
            & (AccessLink.expires_at > now)
        ),
    )


async def preview_merge(rt: Runtime, actor: Actor, flag_id: int, keep: str) -> MergePreview:
    """The comparison the coordinator confirms: `keep` is "structure" or "other" (which side of the flag stays)."""
    _require_coordinator(actor)
    flag = next((f for f in await open_flags() if f["id"] == flag_id), None)
    if flag is None:
        raise NotFound("Ce signalement n'existe pas ou a déjà été traité.")
    keep_id, drop_id = merge_pair(flag, keep)
    rows = {row["id"]: row for row in await Structure.select().where(Structure.id.is_in([keep_id, drop_id]))}
    kept, dropped = rows[keep_id], rows[drop_id]
    filled = tuple(name for name in _FILLABLE if not kept[name] and dropped[name])
    now = rt.now()
    return MergePreview(flag_id, await _side(kept, now), await _side(dropped, now), filled)


def merge_pair(flag: dict[str, Any], keep: str) -> tuple[int, int]:
    """(kept id, dropped id) of a flag, for the side chosen."""
    if keep == "structure":
        return flag["structure_id"], flag["other_id"]
    return flag["other_id"], flag["structure_id"]


@dataclasses.dataclass(frozen=True)
class MergeOutcome:
    kept_id: int
    dropped_id: int
    services_moved: int
    memberships_moved: int
    memberships_left: int  # roles the member already held in the kept structure: left on the closed one
    invitations_moved: int
    fields_filled: tuple[str, ...]


async def merge(rt: Runtime, actor: Actor, keep_id: int, drop_id: int) -> MergeOutcome:
    """Merge drop_id into keep_id (coordinator only); the dropped structure is closed, never deleted."""
    _require_coordinator(actor)
    if keep_id == drop_id:
        raise Invalid(
            "Choisissez deux structures différentes.", {"drop_id": "Une structure ne fusionne pas avec elle-même."}
        )
    now = rt.now()
    async with write_transaction():
        rows = {row["id"]: row for row in await Structure.select().where(Structure.id.is_in([keep_id, drop_id]))}
        keep, drop = rows.get(keep_id), rows.get(drop_id)
        if keep is None or drop is None:
            raise NotFound("Structure introuvable.")
        if drop["merged_into"] is not None or drop["status"] == "closed":
            raise Conflict("Cette structure est déjà fermée ou fusionnée.")
        if keep["status"] == "closed":
            raise Conflict("On ne fusionne pas dans une structure fermée.")

        service_ids = [r["id"] for r in await Service.select(Service.id).where(Service.structure == drop_id)]
        if service_ids:
            await Service.update({Service.structure: keep_id, Service.updated_at: now}).where(
                Service.id.is_in(service_ids)
            )

        filled: dict[Any, Any] = {}
        for name in _FILLABLE:
            if not keep[name] and drop[name]:
                filled[Structure._meta.get_column_by_name(name)] = drop[name]
        if keep["latitude"] is None and drop["latitude"] is not None and drop["longitude"] is not None:
            filled[Structure.latitude], filled[Structure.longitude] = drop["latitude"], drop["longitude"]
        networks = sorted(set(_codes(keep["networks"])) | set(_codes(drop["networks"])))
        if networks != sorted(_codes(keep["networks"])):
            filled[Structure.networks] = json.dumps(networks)
        if drop["confirmed_on"] and (keep["confirmed_on"] is None or drop["confirmed_on"] > keep["confirmed_on"]):
            filled[Structure.confirmed_on] = drop["confirmed_on"]
        await Structure.update({**filled, Structure.updated_at: now}).where(Structure.id == keep_id)
        await Structure.update(
            {Structure.status: "closed", Structure.merged_into: keep_id, Structure.updated_at: now}
        ).where(Structure.id == drop_id)

        pair = ((DuplicateFlag.structure == keep_id) & (DuplicateFlag.other == drop_id)) | (
            (DuplicateFlag.structure == drop_id) & (DuplicateFlag.other == keep_id)
        )
        await DuplicateFlag.update({DuplicateFlag.status: "merged", DuplicateFlag.decided_at: now}).where(pair)
        effects = await hooks.announce(rt, hooks.StructureMerged(kept_id=keep_id, dropped_id=drop_id))

        # the dropped structure left the index when it closed (trigger); its services come back under the kept one
        await search_index.reindex_structure(keep_id)
        outcome = MergeOutcome(
            kept_id=keep_id,
            dropped_id=drop_id,
            services_moved=len(service_ids),
            memberships_moved=effects["memberships"],
            memberships_left=effects["memberships_left"],
            invitations_moved=effects["invitations"],
            fields_filled=tuple(str(column._meta.name) for column in filled),
        )
        await journal.append(
            rt,
            Act(
                "structure_merged",
                actor.user_id,
                keep_id,
                "structure",
                drop_id,
                {
                    "kept": keep_id,
                    "services": outcome.services_moved,
                    "memberships": outcome.memberships_moved,
                    "memberships_left": outcome.memberships_left,
                    "invitations": outcome.invitations_moved,
                },
            ),
        )
    rt.callers.invalidate()  # members of the dropped structure now hold their roles in the kept one
    return outcome


def _codes(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, json.JSONDecodeError):
        return []
    return [str(v) for v in parsed] if isinstance(parsed, list) else []
