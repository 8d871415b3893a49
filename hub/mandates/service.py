"""Mandates' rules: who may act, residents, drafts with a TOTP step-up, signatures, and reading.

An aidant acts for a structure only when its manager habilitated them, they accepted the charter in its current
version and they have TOTP enrolled. Anything of another structure answers 404 (never revealing it exists).
A mandate binds the resident and the structure; the aidant who made it is on the timeline and in the journal,
whose details are codes and ids, never a name. Finalising, revoking and the documents: hub.mandates.finalise;
verification: hub.mandates.verify (both reached through this module by the pages).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query.functions.aggregate import Count

from hub import journal, throttle
from hub.accounts import Actor
from hub.db import current_engine, write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.mandates.finalise import (  # noqa: F401 (the pages call them here)
    charter_document as charter_document,
)
from hub.mandates.finalise import (
    draft_document as draft_document,
)
from hub.mandates.finalise import (
    expiry_letter as expiry_letter,
)
from hub.mandates.finalise import (
    finalise as finalise,
)
from hub.mandates.finalise import (
    rendered_docx as rendered_docx,
)
from hub.mandates.finalise import (
    revocation_pdf as revocation_pdf,
)
from hub.mandates.finalise import (
    revoke as revoke,
)
from hub.mandates.finalise import (
    sealed_pdf as sealed_pdf,
)
from hub.mandates.module import MANDATE_ROLES, MandateSettings
from hub.mandates.rules import (
    CHARTER_TEXT as CHARTER_TEXT,
)
from hub.mandates.rules import (
    codes,
    contact_errors,
    current_charter_version,
    effective_status,
    event,
    member_structure,
    missing_conditions,
    require_aidant,
    scan_type,
    scope_list,
    signature_png,
    step_up,
    structure_card,
    visible_mandate,
)
from hub.mandates.rules import (
    end_date as end_date,
)
from hub.mandates.schemas import (
    AidantContext,
    EventView,
    MandateRow,
    MandateView,
    ReplacedScope,
    ResidentView,
    RevocationView,
    ScopeView,
)
from hub.mandates.schemas import (
    MandateCreate as MandateCreate,
)
from hub.mandates.schemas import (
    ResidentCreate as ResidentCreate,
)
from hub.mandates.tables import (
    CharterAcceptance,
    Habilitation,
    Mandate,
    MandateEvent,
    MandateScope,
    Resident,
    Revocation,
    TemplateVariant,
)
from hub.mandates.variants import (  # noqa: F401 (the pages call them here)
    activate_variant as activate_variant,
)
from hub.mandates.variants import (
    deactivate_variant as deactivate_variant,
)
from hub.mandates.variants import (
    list_variants as list_variants,
)
from hub.mandates.variants import (
    upload_variant as upload_variant,
)
from hub.mandates.verify import public_verification as public_verification
from hub.mandates.verify import verify_file as verify_file
from hub.mandates.vocabulary import DURATIONS, MANDATE_STATUSES, SCOPE_BY_CODE, SCOPE_STATUSES
from hub.runtime import Runtime
from hub.tables import Membership, Structure, User


# ---------------------------------------------------------------- habilitations (the structure's manager)
def _manager_of(actor: Actor, structure_id: int) -> None:
    if not actor.has_role(structure_id, *MANDATE_ROLES, "prescriber"):
        raise NotFound("Cette structure n'existe pas ou vous n'en êtes pas membre.")
    if not actor.has_role(structure_id, "manager"):
        raise Forbidden("Seul le référent de la structure habilite ses aidants.")


async def list_habilitations(rt: Runtime, actor: Actor, structure_id: int) -> list[dict[str, Any]]:
    """The structure's aidants (and managers), each with their live habilitation and charter status."""
    _manager_of(actor, structure_id)
    members = await (
        Membership.select(
            Membership.user.id.as_alias("user_id"),
            Membership.user.full_name.as_alias("full_name"),
            Membership.user.email.as_alias("email"),
            Membership.user.totp_enabled.as_alias("totp_enabled"),
            Membership.role,
        )
        .where((Membership.structure == structure_id) & Membership.role.is_in(list(MANDATE_ROLES)))
        .order_by(Membership.user.full_name)
    )
    live = {
        row["user"]: row
        for row in await Habilitation.select().where(
            (Habilitation.structure == structure_id) & Habilitation.withdrawn_at.is_null()
        )
    }
    version = current_charter_version()
    accepted = {
        row["user"]
        for row in await CharterAcceptance.select(CharterAcceptance.user).where(CharterAcceptance.version == version)
    }
    people: dict[int, dict[str, Any]] = {}
    for row in members:
        person = people.setdefault(
            row["user_id"],
            {
                "user_id": row["user_id"],
                "full_name": row["full_name"],
                "email": row["email"],
                "roles": [],
                "totp_enabled": bool(row["totp_enabled"]),
                "habilitated": row["user_id"] in live,
                "granted_at": live[row["user_id"]]["granted_at"] if row["user_id"] in live else None,
                "charter_accepted": row["user_id"] in accepted,
            },
        )
        person["roles"].append(row["role"])
    return list(people.values())


async def habilitate(rt: Runtime, actor: Actor, structure_id: int, user_id: int) -> None:
    _manager_of(actor, structure_id)
    async with write_transaction():
        if not await Membership.exists().where(
            (Membership.structure == structure_id)
            & (Membership.user == user_id)
            & Membership.role.is_in(list(MANDATE_ROLES))
        ):
            raise NotFound("Cette personne n'est pas aidante de votre structure.")
        if await Habilitation.exists().where(
            (Habilitation.structure == structure_id)
            & (Habilitation.user == user_id)
            & Habilitation.withdrawn_at.is_null()
        ):
            return  # already habilitated: nothing to do twice
        await Habilitation.insert(
            Habilitation(user=user_id, structure=structure_id, granted_by=actor.user_id, granted_at=rt.now())
        )
        await journal.append(rt, Act("aidant_habilitated", actor.user_id, structure_id, "user", user_id))


async def withdraw_habilitation(rt: Runtime, actor: Actor, structure_id: int, user_id: int) -> None:
    _manager_of(actor, structure_id)
    async with write_transaction():
        withdrawn = (
            await Habilitation.update({Habilitation.withdrawn_at: rt.now(), Habilitation.withdrawn_by: actor.user_id})
            .where(
                (Habilitation.structure == structure_id)
                & (Habilitation.user == user_id)
                & Habilitation.withdrawn_at.is_null()
            )
            .returning(Habilitation.id)
        )
        if not withdrawn:
            raise NotFound("Cette personne n'est pas habilitée dans votre structure.")
        await journal.append(rt, Act("aidant_habilitation_withdrawn", actor.user_id, structure_id, "user", user_id))


# ---------------------------------------------------------------- the charter
async def charter_status(rt: Runtime, actor: Actor) -> tuple[bool, str]:
    """(accepted the current version, the current version)."""
    version = current_charter_version()
    accepted = await CharterAcceptance.exists().where(
        (CharterAcceptance.user == actor.user_id) & (CharterAcceptance.version == version)
    )
    return bool(accepted), version


async def accept_charter(rt: Runtime, actor: Actor, version: str) -> None:
    current = current_charter_version()
    if version.strip() != current:
        raise Conflict(
            "La charte a changé depuis que vous l'avez ouverte : relisez la version en vigueur.",
            {"version": "Relisez la charte en vigueur avant de l'accepter."},
        )
    if not actor.structures_with(*MANDATE_ROLES):
        raise Forbidden("Seuls les aidants et les référents d'une structure acceptent la charte de l'aidant.")
    async with write_transaction():
        if await CharterAcceptance.exists().where(
            (CharterAcceptance.user == actor.user_id) & (CharterAcceptance.version == current)
        ):
            return
        await CharterAcceptance.insert(CharterAcceptance(user=actor.user_id, version=current, at=rt.now()))
        await journal.append(
            rt, Act("charter_accepted", actor.user_id, None, "user", actor.user_id, {"version": current})
        )


async def aidant_context(rt: Runtime, actor: Actor) -> AidantContext:
    """Where the actor may act as an aidant, or why nowhere (one French reason per missing condition)."""
    mine = actor.structures_with(*MANDATE_ROLES)
    if not mine:
        return AidantContext([], ["Vous n'êtes aidant d'aucune structure."])
    habilitated = {
        row["structure"]
        for row in await Habilitation.select(Habilitation.structure).where(
            (Habilitation.user == actor.user_id)
            & Habilitation.withdrawn_at.is_null()
            & Habilitation.structure.is_in(mine)
        )
    }
    accepted, version = await charter_status(rt, actor)
    user = await User.select(User.totp_enabled).where(User.id == actor.user_id).first()
    reasons = []
    if not habilitated:
        reasons.append("Le référent de votre structure ne vous a pas encore habilité à faire des mandats.")
    if not accepted:
        reasons.append(f"Acceptez la charte de l'aidant (version {version}).")
    if not (user and user["totp_enabled"]):
        reasons.append("Activez la double authentification (code à 6 chiffres) dans « Mon compte ».")
    if reasons:
        return AidantContext([], reasons)
    names = {
        row["id"]: row["name"]
        for row in await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(sorted(habilitated)))
    }
    return AidantContext([(sid, names.get(sid, "")) for sid in sorted(habilitated)], [])


# ---------------------------------------------------------------- residents
def _clean_name(value: str, field: str, label: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= 80:
        raise Invalid(f"Indiquez le {label} de la personne.", {field: f"Le {label} compte de 1 à 80 caractères."})
    return name


def _resident_view(row: dict[str, Any], live: int = 0) -> ResidentView:
    return ResidentView(
        id=row["id"],
        structure_id=row["structure"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        birth_date=row["birth_date"],
        phone=row["phone"],
        email=row["email"],
        live_mandates=live,
    )


async def find_residents(rt: Runtime, actor: Actor, structure_id: int, q: str) -> list[ResidentView]:
    await require_aidant(rt, actor, structure_id)
    where: Any = Resident.structure == structure_id
    sqlite = isinstance(current_engine(), SQLiteEngine)  # its LIKE ignores (ASCII) case already; no ILIKE there
    for word in q.split()[:4]:
        pattern = "%" + word.replace("\\", "").replace("%", "").replace("_", "")[:40] + "%"
        first, last = Resident.first_name, Resident.last_name
        where &= (first.like(pattern) | last.like(pattern)) if sqlite else (first.ilike(pattern) | last.ilike(pattern))
    rows = await Resident.select().where(where).order_by(Resident.last_name).order_by(Resident.first_name).limit(50)
    live = await _live_counts([row["id"] for row in rows], rt.today())
    return [_resident_view(row, live.get(row["id"], 0)) for row in rows]


async def _live_counts(resident_ids: list[int], today: date) -> dict[int, int]:
    if not resident_ids:
        return {}
    rows = await (
        Mandate.select(Mandate.resident, Count(alias="n"))
        .where(Mandate.resident.is_in(resident_ids) & (Mandate.status == "active") & (Mandate.ends_on >= today))
        .group_by(Mandate.resident)
    )
    return {row["resident"]: row["n"] for row in rows}


async def get_resident(rt: Runtime, actor: Actor, structure_id: int, resident_id: int) -> ResidentView:
    await require_aidant(rt, actor, structure_id)
    row = await Resident.select().where((Resident.id == resident_id) & (Resident.structure == structure_id)).first()
    if row is None:
        raise NotFound("Cette personne n'existe pas ou n'est pas suivie par votre structure.")
    return _resident_view(row, (await _live_counts([resident_id], rt.today())).get(resident_id, 0))


async def create_resident(rt: Runtime, actor: Actor, command: ResidentCreate) -> int:
    await require_aidant(rt, actor, command.structure_id)
    errors: dict[str, str] = {}
    try:
        first = _clean_name(command.first_name, "first_name", "prénom")
    except Invalid as error:
        errors.update(error.fields)
    try:
        last = _clean_name(command.last_name, "last_name", "nom")
    except Invalid as error:
        errors.update(error.fields)
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
    row = await visible_mandate(actor, mandate_id)
    if not row["scan_bytes"]:
        raise NotFound("Ce mandat n'a pas de scan.")
    return bytes(row["scan_bytes"]), row["scan_type"]


# ---------------------------------------------------------------- reading
EVENT_LABELS = {
    "create": "Projet de mandat créé",
    "renew": "Projet de renouvellement créé",
    "sign": "Signé sur l'écran",
    "scan": "Signé sur papier, scan joint",
    "finalise": "Mandat finalisé et scellé",
    "revoke": "Démarches annulées",
    "replaced": "Démarches remplacées par un nouveau mandat",
    "remind": "Rappel d'échéance envoyé aux aidants",
    "expire": "Arrivé à échéance",
    "cancel": "Projet abandonné",
}


async def get_mandate(rt: Runtime, actor: Actor, mandate_id: int) -> MandateView:
    row = await visible_mandate(actor, mandate_id)
    today = rt.today()
    status = effective_status(row, today)
    resident = await Resident.select().where(Resident.id == row["resident"]).first()
    card = await structure_card(row["structure"])
    scope_rows = await MandateScope.select().where(MandateScope.mandate == mandate_id).order_by(MandateScope.id)
    events = await MandateEvent.select().where(MandateEvent.mandate == mandate_id).order_by(MandateEvent.id)
    names = {
        r["id"]: r["full_name"]
        for r in await User.select(User.id, User.full_name).where(
            User.id.is_in(sorted({e["actor_user"] for e in events if e["actor_user"]}) or [0])
        )
    }
    revocations = (
        await Revocation.select(
            Revocation.id,
            Revocation.number,
            Revocation.scopes,
            Revocation.whole,
            Revocation.reason,
            Revocation.created_at,
            Revocation.sealed_sha256,
        )
        .where(Revocation.mandate == mandate_id)
        .order_by(Revocation.id)
        .output(load_json=True)
    )
    reminder_days = rt.settings.section(MandateSettings).reminder_days
    member = await _can_act(rt, actor, row["structure"])
    documents: list[str] = []
    actions: list[str] = []
    if status in ("draft", "signed"):
        documents += ["projet.pdf", "projet.docx"]
        if member:
            actions += ["sign", "scan", "cancel"]
            if status == "signed":
                actions.append("finalise")
    if row["sealed_pdf"]:
        documents.append("mandat.pdf")
    if row["scan_bytes"]:
        documents.append("scan")
    if status in ("active", "expired") and row["sealed_pdf"]:
        documents.append("lettre.docx")
    if member and status == "active":
        actions.append("revoke")
    if member and status in ("active", "expired") and any(s["status"] == "active" for s in scope_rows):
        actions.append("renew")
    scopes = []
    for s in scope_rows:
        scope = SCOPE_BY_CODE[s["scope"]]
        scope_status = "expired" if status == "expired" and s["status"] == "active" else s["status"]
        label = MANDATE_STATUSES["expired"] if scope_status == "expired" else SCOPE_STATUSES[s["status"]]
        scopes.append(
            ScopeView(
                code=scope.code,
                label=scope.label,
                falc=scope.falc,
                status=scope_status,
                status_label=label,
                revoked_at=s["revoked_at"],
                revocation_id=s["revocation"],
                replaced_by=s["replaced_by"],
                warning=scope.warning,
            )
        )
    return MandateView(
        id=row["id"],
        number=row["number"],
        public_code=row["public_code"],
        verify_url=f"{rt.settings.base_url}/verifier/{row['public_code']}",
        status=status,
        status_label=MANDATE_STATUSES[status],
        structure_id=row["structure"],
        structure_name=card.name,
        resident=_resident_view(resident) if resident else ResidentView(0, row["structure"], "", "", None, "", ""),
        duration_days=row["duration_days"],
        duration_label=DURATIONS.get(row["duration_days"], f"{row['duration_days']} jours"),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        days_left=(row["ends_on"] - today).days,
        no_legal_protection=row["no_legal_protection"],
        place=row["place"],
        signing_mode=row["signing_mode"],
        has_signatures=bool(row["resident_signature"] and row["aidant_signature"]),
        has_scan=bool(row["scan_bytes"]),
        scan_sha256=row["scan_sha256"],
        sealed_sha256=row["sealed_sha256"],
        template_version=row["template_version"],
        fingerprint=row["fingerprint"],
        created_at=row["created_at"],
        finalised_at=row["finalised_at"],
        revoked_at=row["revoked_at"],
        renewal_of=row["renewal_of"],
        scopes=scopes,
        events=[
            EventView(
                at=e["at"],
                action=e["action"],
                label=EVENT_LABELS.get(e["action"], e["action"]),
                by=names.get(e["actor_user"], "Maillage") if e["actor_user"] else "Maillage",
            )
            for e in events
        ],
        revocations=[
            RevocationView(
                id=r["id"],
                number=r["number"],
                scopes=list(r["scopes"] or []),
                whole=r["whole"],
                reason=r["reason"],
                created_at=r["created_at"],
                has_pdf=bool(r["sealed_sha256"]),
            )
            for r in revocations
        ],
        documents=documents,
        actions=actions,
        expiring=status == "active" and 0 <= (row["ends_on"] - today).days <= reminder_days,
    )


async def _can_act(rt: Runtime, actor: Actor, structure_id: int) -> bool:
    return actor.has_role(structure_id, *MANDATE_ROLES) and not await missing_conditions(rt, actor, structure_id)


TABS = ("active", "expiring", "history", "drafts")


async def list_mandates(rt: Runtime, actor: Actor, structure_id: int, tab: str = "active") -> list[MandateRow]:
    """A structure's mandates: active (valid), expiring (valid, ending within the reminder days), history
    (expired, revoked, cancelled), drafts (not finalised yet)."""
    member_structure(actor, structure_id)
    if tab not in TABS:
        raise Invalid("Onglet inconnu.", {"tab": "Choisissez : valides, bientôt expirés, historique ou projets."})
    today = rt.today()
    soon = today + timedelta(days=rt.settings.section(MandateSettings).reminder_days)
    where: Any = Mandate.structure == structure_id
    if tab == "active":
        where &= (Mandate.status == "active") & (Mandate.ends_on >= today)
    elif tab == "expiring":
        where &= (Mandate.status == "active") & (Mandate.ends_on >= today) & (Mandate.ends_on <= soon)
    elif tab == "drafts":
        where &= Mandate.status.is_in(["draft", "signed"])
    else:
        where &= Mandate.status.is_in(["expired", "revoked", "cancelled"]) | (
            (Mandate.status == "active") & (Mandate.ends_on < today)
        )
    rows = await (
        Mandate.select(
            Mandate.id,
            Mandate.number,
            Mandate.status,
            Mandate.structure,
            Mandate.resident,
            Mandate.resident.first_name.as_alias("first_name"),
            Mandate.resident.last_name.as_alias("last_name"),
            Mandate.starts_on,
            Mandate.ends_on,
        )
        .where(where)
        .order_by(Mandate.ends_on, ascending=tab != "history")
        .order_by(Mandate.id, ascending=False)
        .limit(500)
    )
    return await _rows(rows, today, with_names=True)


async def _rows(rows: list[dict[str, Any]], today: date, *, with_names: bool) -> list[MandateRow]:
    scopes: dict[int, list[str]] = {}
    revoked: dict[int, list[str]] = {}
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), 500):
        for s in (
            await MandateScope.select(MandateScope.mandate, MandateScope.scope, MandateScope.status)
            .where(MandateScope.mandate.is_in(ids[start : start + 500]))
            .order_by(MandateScope.id)
        ):
            (scopes if s["status"] == "active" else revoked).setdefault(s["mandate"], []).append(s["scope"])
    out = []
    for r in rows:
        status = effective_status(r, today)
        out.append(
            MandateRow(
                id=r["id"],
                number=r["number"],
                status=status,
                status_label=MANDATE_STATUSES[status],
                structure_id=r["structure"],
                resident_id=r["resident"],
                resident_name=f"{r.get('first_name', '')} {r.get('last_name', '')}".strip() if with_names else "",
                scopes=scopes.get(r["id"], []),
                revoked_scopes=revoked.get(r["id"], []),
                starts_on=r["starts_on"],
                ends_on=r["ends_on"],
                days_left=(r["ends_on"] - today).days,
            )
        )
    return out


async def operator_list(rt: Runtime, status: str = "") -> list[MandateRow]:
    """Every mandate for the operator's CLI (no names: numbers, structures, scopes, dates)."""
    today = rt.today()
    query = Mandate.select(
        Mandate.id,
        Mandate.number,
        Mandate.status,
        Mandate.structure,
        Mandate.resident,
        Mandate.starts_on,
        Mandate.ends_on,
    ).order_by(Mandate.id)
    rows = await query
    result = await _rows(rows, today, with_names=False)
    return [row for row in result if not status or row.status == status]


# ---------------------------------------------------------------- a structure merged into another
async def structure_merged(rt: Runtime, event: Any) -> dict[str, int]:
    """Inside the merge's transaction: the dropped structure's residents and mandates continue in the kept one
    (its members move there too), with its aidants' live habilitations; its template variants follow, inactive."""
    kept, dropped = event.kept_id, event.dropped_id
    residents = (
        await Resident.update({Resident.structure: kept}).where(Resident.structure == dropped).returning(Resident.id)
    )
    mandates = await Mandate.update({Mandate.structure: kept}).where(Mandate.structure == dropped).returning(Mandate.id)
    held = {
        row["user"]
        for row in await Habilitation.select(Habilitation.user).where(
            (Habilitation.structure == kept) & Habilitation.withdrawn_at.is_null()
        )
    }
    moved = 0
    for row in await Habilitation.select().where(
        (Habilitation.structure == dropped) & Habilitation.withdrawn_at.is_null()
    ):
        if row["user"] in held:
            await Habilitation.update({Habilitation.withdrawn_at: rt.now()}).where(Habilitation.id == row["id"])
        else:
            await Habilitation.update({Habilitation.structure: kept}).where(Habilitation.id == row["id"])
            moved += 1
    await TemplateVariant.update({TemplateVariant.structure: kept, TemplateVariant.active: False}).where(
        TemplateVariant.structure == dropped
    )
    return {"mandates_moved": len(mandates), "mandate_residents_moved": len(residents), "habilitations_moved": moved}
