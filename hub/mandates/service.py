"""Mandates' rules, and the one place the pages and the API call them: residents, drafts with a TOTP step-up,
signatures and scans here; who may act in hub.mandates.aidants; reading in hub.mandates.reading; finalising,
revoking and the documents in hub.mandates.finalise; the structures' templates in hub.mandates.variants;
verification in hub.mandates.verify.

An aidant acts for a structure only when its manager habilitated them, they accepted the charter in its current
version and they have TOTP enrolled. Anything of another structure answers 404 (never revealing it exists).
A mandate binds the resident and the structure; the aidant who made it is on the timeline and in the journal,
whose details are codes and ids, never a name.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from hub import journal, throttle
from hub.accounts import Actor
from hub.contacts import contact_errors
from hub.db import current_engine, write_transaction
from hub.errors import Conflict, Invalid, NotFound
from hub.journal import Act
from hub.mandates import aidants, reading, variants, verify
from hub.mandates import finalise as pipeline
from hub.mandates.reading import live_counts, resident_view
from hub.mandates.rules import (
    CHARTER_TEXT,
    STEP_UP_MESSAGE,
    code_matches,
    codes,
    effective_status,
    end_date,
    event,
    member_structure,
    require_aidant,
    scan_type,
    scope_list,
    signature_png,
    step_up,
    structure_card,
    visible_mandate,
)
from hub.mandates.schemas import MandateCreate, ReplacedScope, ResidentCreate, ResidentView
from hub.mandates.tables import Mandate, MandateScope, Resident
from hub.mandates.vocabulary import DURATIONS, SCOPE_BY_CODE
from hub.runtime import Runtime

# What the pages and the API call, gathered here; each lives in the module named.
list_habilitations = aidants.list_habilitations
habilitate = aidants.habilitate
withdraw_habilitation = aidants.withdraw_habilitation
charter_status = aidants.charter_status
accept_charter = aidants.accept_charter
aidant_context = aidants.aidant_context
structure_merged = aidants.structure_merged
get_mandate = reading.get_mandate
list_mandates = reading.list_mandates
operator_list = reading.operator_list
finalise = pipeline.finalise
revoke = pipeline.revoke
revocation_errors = pipeline.revocation_errors
draft_document = pipeline.draft_document
sealed_pdf = pipeline.sealed_pdf
rendered_docx = pipeline.rendered_docx
revocation_pdf = pipeline.revocation_pdf
expiry_letter = pipeline.expiry_letter
charter_document = pipeline.charter_document
list_variants = variants.list_variants
upload_variant = variants.upload_variant
activate_variant = variants.activate_variant
deactivate_variant = variants.deactivate_variant
public_verification = verify.public_verification
verify_file = verify.verify_file


# ---------------------------------------------------------------- residents
NAME_MAX = 80


def _name_error(value: str, label: str) -> str:
    name = " ".join(value.split())
    if not name:
        return f"Indiquez le {label} de la personne."
    if len(name) > NAME_MAX:
        return f"Le {label} compte {NAME_MAX} caractères au plus : il en a {len(name)}."
    return ""


def name_errors(first_name: str, last_name: str) -> dict[str, str]:
    """The first name's and the surname's errors, both at once (the page adds them to its own)."""
    found = {"first_name": _name_error(first_name, "prénom"), "last_name": _name_error(last_name, "nom")}
    return {field: message for field, message in found.items() if message}


async def step_up_errors(rt: Runtime, actor: Actor, code: str) -> dict[str, str]:
    """Whether a step-up code is wrong, told without spending it (a page reporting its other errors at once);
    counted like any try of the step-up."""
    claimed = await throttle.claim(
        rt, [throttle.Key(f"mandate-step-up:{actor.user_id}", rt.settings.login_max_failures)]
    )
    if not await code_matches(rt, actor, code):
        return {"totp_code": STEP_UP_MESSAGE}
    await throttle.succeeded(rt, claimed)
    return {}


async def find_residents(rt: Runtime, actor: Actor, structure_id: int, q: str) -> list[ResidentView]:
    await require_aidant(rt, actor, structure_id)
    where: Any = Resident.structure == structure_id
    sqlite = isinstance(current_engine(), SQLiteEngine)  # its LIKE ignores (ASCII) case already; no ILIKE there
    for word in q.split()[:4]:
        pattern = "%" + word.replace("\\", "").replace("%", "").replace("_", "")[:40] + "%"
        first, last = Resident.first_name, Resident.last_name
        where &= (first.like(pattern) | last.like(pattern)) if sqlite else (first.ilike(pattern) | last.ilike(pattern))
    rows = await Resident.select().where(where).order_by(Resident.last_name).order_by(Resident.first_name).limit(50)
    live = await live_counts([row["id"] for row in rows], rt.today())
    return [resident_view(row, live.get(row["id"], 0)) for row in rows]


async def get_resident(rt: Runtime, actor: Actor, structure_id: int, resident_id: int) -> ResidentView:
    await require_aidant(rt, actor, structure_id)
    row = await Resident.select().where((Resident.id == resident_id) & (Resident.structure == structure_id)).first()
    if row is None:
        raise NotFound("Cette personne n'existe pas ou n'est pas suivie par votre structure.")
    return resident_view(row, (await live_counts([resident_id], rt.today())).get(resident_id, 0))


async def create_resident(rt: Runtime, actor: Actor, command: ResidentCreate) -> int:
    await require_aidant(rt, actor, command.structure_id)
    errors = name_errors(command.first_name, command.last_name)
    first, last = " ".join(command.first_name.split()), " ".join(command.last_name.split())
    today = rt.today()
    if command.birth_date is not None and not (today.replace(year=today.year - 120) <= command.birth_date <= today):
        errors["birth_date"] = "Date de naissance invalide."
    errors.update(contact_errors(command.phone.strip(), command.email.strip()))
    if errors:
        raise Invalid("La personne n'est pas enregistrée : corrigez les champs signalés.", errors)
    async with write_transaction():
        resident = Resident(
            structure=command.structure_id,
            first_name=first,
            last_name=last,
            birth_date=command.birth_date,
            phone=command.phone.strip(),
            email=command.email.strip().lower(),
            created_at=rt.now(),
        )
        await resident.save()
        await journal.append(rt, Act("resident_created", actor.user_id, command.structure_id, "resident", resident.id))
    return int(resident.id)


# ---------------------------------------------------------------- drafts
async def replaced_scopes(
    rt: Runtime,
    actor: Actor,
    structure_id: int,
    resident_id: int,
    scopes: list[str] | tuple[str, ...],
    *,
    exclude: int = 0,
) -> list[ReplacedScope]:
    """The scopes older live mandates of this resident and structure hold that a new one would revoke."""
    member_structure(actor, structure_id)
    wanted = [code for code in scopes if code in SCOPE_BY_CODE]
    if not wanted:
        return []
    rows = await (
        MandateScope.select(
            MandateScope.mandate.id.as_alias("mandate_id"),
            MandateScope.mandate.number.as_alias("number"),
            MandateScope.mandate.ends_on.as_alias("ends_on"),
            MandateScope.scope,
        )
        .where(
            (MandateScope.mandate.structure == structure_id)
            & (MandateScope.mandate.resident == resident_id)
            & (MandateScope.mandate.status == "active")
            & (MandateScope.mandate.ends_on >= rt.today())
            & (MandateScope.mandate.id != exclude)
            & (MandateScope.status == "active")
            & MandateScope.scope.is_in(wanted)
        )
        .order_by(MandateScope.mandate.id)
    )
    return [
        ReplacedScope(r["mandate_id"], r["number"], r["scope"], SCOPE_BY_CODE[r["scope"]].label, r["ends_on"])
        for r in rows
    ]


def _check_choices(scopes: list[str] | tuple[str, ...], duration_days: int) -> tuple[str, ...]:
    errors: dict[str, str] = {}
    chosen = tuple(dict.fromkeys(code.strip() for code in scopes if code.strip()))
    if not chosen:
        errors["scopes"] = "Choisissez au moins une démarche."
    elif unknown := [code for code in chosen if code not in SCOPE_BY_CODE]:
        errors["scopes"] = f"Démarche inconnue : {', '.join(unknown[:3])[:60]}."
    if duration_days not in DURATIONS:
        errors["duration_days"] = "Choisissez une durée : " + ", ".join(DURATIONS.values()) + "."
    if errors:
        raise Invalid("Le mandat n'est pas créé : corrigez les champs signalés.", errors)
    return tuple(code for code in SCOPE_BY_CODE if code in chosen)  # the national list's order


async def _template_for(structure_id: int, kind: str) -> tuple[str, str]:
    """(version, sha256) of the template a new document of this kind is rendered from: the structure's active
    variant when it has one, else the newest versioned file."""
    from hub.mandates import documents, variants

    variant = await variants.active_variant(structure_id, kind)
    if variant is not None:
        return variant
    template = documents.current_template(kind)
    return template.version, template.sha256


async def create_draft(rt: Runtime, actor: Actor, command: MandateCreate, *, renewal_of: int | None = None) -> int:
    """A draft ("projet, sans valeur") after a fresh TOTP code; returns its id. replaced_scopes() says first which
    older scopes its finalisation will revoke."""
    await require_aidant(rt, actor, command.structure_id)
    scopes = _check_choices(command.scopes, command.duration_days)
    if not command.no_legal_protection:
        raise Invalid(
            "Le mandat n'est pas possible sans la réponse de la personne sur les mesures de protection.",
            {
                "no_legal_protection": "Demandez à la personne si elle a une tutelle, une curatelle ou une sauvegarde "
                "de justice. Sans sa réponse « non », le mandat n'est pas possible."
            },
        )
    resident = (
        await Resident.select(Resident.id)
        .where((Resident.id == command.resident_id) & (Resident.structure == command.structure_id))
        .first()
    )
    if resident is None:
        raise NotFound("Cette personne n'existe pas ou n'est pas suivie par votre structure.")
    card = await structure_card(command.structure_id)
    version, sha256 = await _template_for(command.structure_id, "mandat")
    today = rt.today()
    # the step-up's codes are counted like the sign-in's second factor: a few wrong ones, then a wait
    claimed = await throttle.claim(
        rt, [throttle.Key(f"mandate-step-up:{actor.user_id}", rt.settings.login_max_failures)]
    )
    now = rt.now()
    async with write_transaction():
        await step_up(rt, actor, command.totp_code)
        mandate = Mandate(
            public_code=secrets.token_urlsafe(18),
            structure=command.structure_id,
            resident=command.resident_id,
            created_by=actor.user_id,
            renewal_of=renewal_of,
            duration_days=command.duration_days,
            starts_on=today,
            ends_on=end_date(today, command.duration_days),
            status="draft",
            no_legal_protection=True,
            place=(" ".join(command.place.split()) or card.commune)[:120],
            template_kind="mandat",
            template_version=version,
            template_sha256=sha256,
            created_at=now,
            updated_at=now,
        )
        await mandate.save()
        mandate_id = int(mandate.id)
        await Mandate.update({Mandate.number: f"M-{today.year}-{mandate_id:05d}"}).where(Mandate.id == mandate_id)
        await MandateScope.insert(*[MandateScope(mandate=mandate_id, scope=code) for code in scopes])
        await event(mandate_id, now, actor.user_id, "renew" if renewal_of else "create", scopes=list(scopes))
        details: dict[str, Any] = {"scopes": codes(scopes), "duration": command.duration_days}
        if renewal_of:
            details["renews"] = renewal_of
        await journal.append(
            rt, Act("mandate_drafted", actor.user_id, command.structure_id, "mandate", mandate_id, details)
        )
    await throttle.succeeded(rt, claimed)
    return mandate_id


async def start_renewal(rt: Runtime, actor: Actor, mandate_id: int, totp_code: str) -> int:
    """A new draft for the same resident, structure, scopes and duration; the old one stays valid until the new
    one is finalised (which revokes its scopes)."""
    row = await visible_mandate(actor, mandate_id)
    if effective_status(row, rt.today()) not in ("active", "expired"):
        raise Conflict("Seul un mandat valide ou expiré se renouvelle.")
    scopes = await scope_list(mandate_id, "active")
    if not scopes:
        raise Conflict("Ce mandat n'a plus de démarche valide à renouveler.")
    return await create_draft(
        rt,
        actor,
        MandateCreate(
            structure_id=row["structure"],
            resident_id=row["resident"],
            scopes=tuple(scopes),
            duration_days=row["duration_days"],
            no_legal_protection=True,
            totp_code=totp_code,
            place=row["place"],
        ),
        renewal_of=mandate_id,
    )


async def cancel_draft(rt: Runtime, actor: Actor, mandate_id: int) -> None:
    """Give up a draft before it is finalised: it never was valid."""
    row = await visible_mandate(actor, mandate_id)
    await require_aidant(rt, actor, row["structure"])
    if row["status"] not in ("draft", "signed"):
        raise Conflict("Seul un projet de mandat s'abandonne ; un mandat valide s'annule (révocation).")
    now = rt.now()
    async with write_transaction():
        await _bump(row, {Mandate.status: "cancelled"}, now)
        await event(mandate_id, now, actor.user_id, "cancel")
        await journal.append(rt, Act("mandate_cancelled", actor.user_id, row["structure"], "mandate", mandate_id))


async def _bump(row: dict[str, Any], values: dict[Any, Any], now: datetime) -> None:
    """Update a mandate if nobody changed it since it was read (its version); a 409 otherwise."""
    updated = (
        await Mandate.update({**values, Mandate.updated_at: now, Mandate.version: row["version"] + 1})
        .where((Mandate.id == row["id"]) & (Mandate.version == row["version"]))
        .returning(Mandate.id)
    )
    if not updated:
        raise Conflict("Quelqu'un vient de modifier ce mandat : rechargez la page pour voir où il en est.")


# ---------------------------------------------------------------- signing
async def add_signatures(rt: Runtime, actor: Actor, mandate_id: int, resident_png: bytes, aidant_png: bytes) -> None:
    """The two signatures drawn on screen (validated images); the mandate waits for its finalisation."""
    row = await visible_mandate(actor, mandate_id)
    await require_aidant(rt, actor, row["structure"])
    if row["status"] not in ("draft", "signed"):
        raise Conflict("Ce mandat n'est plus un projet : il ne se signe plus.")
    errors: dict[str, str] = {}
    images: dict[str, bytes] = {}
    for field, data, who in (
        ("resident_signature", resident_png, "de la personne"),
        ("aidant_signature", aidant_png, "de l'aidant"),
    ):
        try:
            images[field] = signature_png(data, field, who)
        except Invalid as error:
            errors.update(error.fields)
    if errors:
        raise Invalid("Les signatures ne sont pas enregistrées : recommencez celles signalées.", errors)
    now = rt.now()
    async with write_transaction():
        await _bump(
            row,
            {
                Mandate.resident_signature: images["resident_signature"],
                Mandate.aidant_signature: images["aidant_signature"],
                Mandate.signing_mode: "screen",
                Mandate.scan_bytes: None,
                Mandate.scan_sha256: "",
                Mandate.scan_type: "",
                Mandate.status: "signed",
                Mandate.signed_at: now,
            },
            now,
        )
        await event(mandate_id, now, actor.user_id, "sign", mode="screen")
        await journal.append(
            rt, Act("mandate_signed", actor.user_id, row["structure"], "mandate", mandate_id, {"mode": "screen"})
        )


async def attach_scan(rt: Runtime, actor: Actor, mandate_id: int, data: bytes, filename: str) -> str:
    """The draft signed on paper, scanned (PDF, PNG or JPEG by content, ≤ 10 MB); returns its SHA-256."""
    row = await visible_mandate(actor, mandate_id)
    await require_aidant(rt, actor, row["structure"])
    if row["status"] not in ("draft", "signed"):
        raise Conflict("Ce mandat n'est plus un projet : son scan ne se remplace plus.")
    media_type = scan_type(data)
    digest = hashlib.sha256(data).hexdigest()
    now = rt.now()
    async with write_transaction():
        await _bump(
            row,
            {
                Mandate.scan_bytes: data,
                Mandate.scan_sha256: digest,
                Mandate.scan_type: media_type,
                Mandate.resident_signature: None,
                Mandate.aidant_signature: None,
                Mandate.signing_mode: "paper",
                Mandate.status: "signed",
                Mandate.signed_at: now,
            },
            now,
        )
        await event(mandate_id, now, actor.user_id, "scan", sha256=digest)
        await journal.append(
            rt,
            Act(
                "mandate_signed",
                actor.user_id,
                row["structure"],
                "mandate",
                mandate_id,
                {"mode": "paper", "sha256": digest},
            ),
        )
    return digest


async def scan_file(rt: Runtime, actor: Actor, mandate_id: int) -> tuple[bytes, str]:
    """The attached scan and its media type."""
    row = await visible_mandate(actor, mandate_id, blobs=True)
    if not row["scan_bytes"]:
        raise NotFound("Ce mandat n'a pas de scan.")
    return bytes(row["scan_bytes"]), row["scan_type"]


__all__ = [
    "CHARTER_TEXT",
    "MandateCreate",
    "ResidentCreate",
    "end_date",
    "list_habilitations",
    "habilitate",
    "withdraw_habilitation",
    "charter_status",
    "accept_charter",
    "aidant_context",
    "structure_merged",
    "get_mandate",
    "list_mandates",
    "operator_list",
    "finalise",
    "revoke",
    "revocation_errors",
    "name_errors",
    "step_up_errors",
    "draft_document",
    "sealed_pdf",
    "rendered_docx",
    "revocation_pdf",
    "expiry_letter",
    "charter_document",
    "list_variants",
    "upload_variant",
    "activate_variant",
    "deactivate_variant",
    "public_verification",
    "verify_file",
    "find_residents",
    "get_resident",
    "create_resident",
    "replaced_scopes",
    "create_draft",
    "start_renewal",
    "cancel_draft",
    "add_signatures",
    "attach_scan",
    "scan_file",
]
