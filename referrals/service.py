"""Referrals' rules: sending, deciding, following, and who sees what.

Members of the sending and the receiving structures see a referral (404 for anyone else, the coordinator
included: they see figures, never a resident). Every change goes through one transition table
(referrals.lifecycle), bumps the row's version (two deciders at once: one wins, the other gets a 409), is
written on the timeline and in the journal, and tells the other side by mail, without personal data.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from hub import contacts, journal, mail
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.tables import Membership, Structure, User
from network import referral_lookup as directory
from referrals import attachments, lifecycle, slots
from referrals.lifecycle import ACTIONS, STATUSES
from referrals.module import REFERRAL_ROLES
from referrals.schemas import AttachmentOut, Event, ReferralCreate, ReferralOut, Transition
from referrals.tables import Referral, ReferralEvent

# A NIR (numéro de sécurité sociale): sex, year, month, département (2A/2B for Corsica), commune, order, key.
_NIR_CANDIDATE = re.compile(r"[12378][\d\s.\-]{11,24}[\dAB][\d\s.\-]*", re.I)
_NIR = re.compile(r"^[12378]\d{2}(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2[AB])\d{6}(\d{2})?$", re.I)
NIR_MESSAGE = "N'écrivez jamais le numéro de sécurité sociale : il n'est pas utile pour orienter."
HALF_DAYS = {
    f"{day}-{half}": f"{day_label} {half_label}"
    for day, day_label in (
        ("mo", "lundi"),
        ("tu", "mardi"),
        ("we", "mercredi"),
        ("th", "jeudi"),
        ("fr", "vendredi"),
        ("sa", "samedi"),
    )
    for half, half_label in (("am", "matin"), ("pm", "après-midi"))
}


def looks_like_nir(text: str) -> bool:
    for match in _NIR_CANDIDATE.finditer(text):
        digits = re.sub(r"[\s.\-]", "", match.group(0))
        for length in (15, 13):
            if len(digits) >= length and _NIR.match(digits[:length]):
                return True
    return False


# ---------------------------------------------------------------- who sees what
def sides(actor: Actor, row: dict[str, Any]) -> set[str]:
    found = set()
    if actor.has_role(row["sender_structure"], *REFERRAL_ROLES):
        found.add("sender")
    if actor.has_role(row["receiver_structure"], *REFERRAL_ROLES):
        found.add("receiver")
    return found


async def _visible(actor: Actor, referral_id: int) -> dict[str, Any]:
    row = await Referral.select().where(Referral.id == referral_id).output(load_json=True).first()
    if row is None or not sides(actor, row):
        raise NotFound("Cette orientation n'existe pas.")
    return row


def _sender_structure(actor: Actor, wanted: int | None) -> int:
    mine = actor.structures_with(*REFERRAL_ROLES)
    if wanted is not None:
        if wanted not in mine:
            raise Invalid(
                "Vous n'orientez qu'au nom d'une structure dont vous êtes membre.",
                {"sender_structure_id": "Choisissez une de vos structures."},
            )
        return wanted
    if not mine:
        raise Forbidden("Vous n'êtes membre d'aucune structure : vous ne pouvez pas orienter.")
    return mine[0]


# ---------------------------------------------------------------- sending
def contact_errors(phone: str, email: str, preferred: str) -> dict[str, str]:
    """How the receiver reaches the person: well-formed, and the contact chosen is given (field -> French)."""
    errors = contacts.contact_errors(phone, email, phone_field="resident_phone", email_field="resident_email")
    if errors:
        return errors
    if not phone and not email:
        errors["resident_phone"] = "Indiquez un téléphone ou une adresse électronique pour joindre la personne."
    if preferred in ("phone", "sms") and not phone:
        errors["resident_phone"] = "Indiquez le téléphone : c'est le moyen de contact choisi."
    if preferred == "email" and not email:
        errors["resident_email"] = "Indiquez l'adresse électronique : c'est le moyen de contact choisi."
    return errors


def _check_resident(command: ReferralCreate) -> None:
    errors: dict[str, str] = {}
    if not command.resident_name.strip():
        errors["resident_name"] = "Indiquez le nom de la personne (ou ses initiales et un prénom)."
    errors.update(
        contact_errors(command.resident_phone.strip(), command.resident_email.strip(), command.preferred_contact)
    )
    for name in ("need", "note", "resident_name"):
        if looks_like_nir(getattr(command, name)):
            errors[name] = NIR_MESSAGE
    if (command.schedule_id is None) != (command.starts_at is None):
        errors["slot"] = "Choisissez un créneau complet (jour et heure), ou aucun."
    if unknown := [h for h in command.availability if h not in HALF_DAYS]:
        errors["availability"] = f"Demi-journée inconnue : {', '.join(unknown[:3])}."
    if not command.consent_confirmed:
        errors["consent_confirmed"] = "Confirmez que la personne est informée et d'accord pour être orientée."
    if errors:
        raise Invalid("La demande n'est pas envoyée : corrigez les champs signalés.", errors)


def _request_hash(command: ReferralCreate) -> str:
    return hashlib.sha256(msgspec.json.encode(command)).hexdigest()


async def create(
    rt: Runtime,
    actor: Actor,
    command: ReferralCreate,
    idempotency_key: str | None = None,
    uploads: Sequence[attachments.Upload] = (),
) -> tuple[int, bool]:
    """Send a referral, with its files if any; returns (id, created). The same Idempotency-Key with the same body
    returns the first. A file refused refuses the whole sending: nothing is written."""
    sender_structure = _sender_structure(actor, command.sender_structure_id)
    key = (idempotency_key or "").strip()[:100] or None
    digest = _request_hash(command)
    if key is not None:
        earlier = (
            await Referral.select(Referral.id, Referral.request_hash)
            .where((Referral.sender_user == actor.user_id) & (Referral.idempotency_key == key))
            .first()
        )
        if earlier is not None:
            if earlier["request_hash"] != digest:
                raise Conflict("Cette clé d'idempotence a déjà servi pour une autre demande : changez de clé.")
            return int(earlier["id"]), False
    try:
        _check_resident(command)
    except Invalid as error:
        raise attachments.with_files_checked(error, uploads) from None
    files = attachments.check(uploads)
    card = (await directory.cards([command.service_id])).get(command.service_id)
    if card is None or not card.active:
        raise Invalid("Ce service n'existe pas ou n'est plus actif.", {"service_id": "Service introuvable."})
    if not card.accepts_referrals:
        raise Conflict(f"« {card.name} » ne reçoit pas d'orientations : contactez la structure directement.")
    now = rt.now()
    async with write_transaction():
        referral = Referral(
            code=secrets.token_urlsafe(18),
            status="sent",
            sender_structure=sender_structure,
            sender_user=actor.user_id,
            receiver_structure=card.structure_id,
            service_id=card.service_id,
            service_name=card.name,
            thematiques=list(dict.fromkeys(command.thematiques)),
            need=command.need.strip(),
            resident_name=command.resident_name.strip(),
            resident_phone=command.resident_phone.strip(),
            resident_email=command.resident_email.strip(),
            preferred_contact=command.preferred_contact,
            availability=list(dict.fromkeys(command.availability)),
            note=command.note.strip(),
            consent_method=command.consent_method,
            consent_at=now,
            idempotency_key=key,
            request_hash=digest,
            created_at=now,
            updated_at=now,
        )
        await referral.save()
        referral_id = int(referral.id)
        details: dict[str, Any] = {"service": card.service_id}
        if command.schedule_id is not None and command.starts_at is not None:
            await slots.book(referral_id, card.service_id, command.schedule_id, command.starts_at, now)
            details["slot"] = True
        if files:
            await attachments.store(referral_id, files, actor, sender_structure)
            details["files"] = len(files)
        await _event(referral_id, now, actor, sender_structure, "send", "", "sent", details)
        await journal.append(
            rt,
            Act("referral_sent", actor.user_id, sender_structure, "referral", referral_id, {"to": card.structure_id}),
        )
        await mail_structure(rt, card.structure_id, "referral_received", referral_id, card.name)
    return referral_id, True


# ---------------------------------------------------------------- deciding and following
async def transition(rt: Runtime, actor: Actor, referral_id: int, command: Transition) -> str:
    """Take an action; returns the new status. 409 when the status no longer allows it or someone was first."""
    action = ACTIONS[command.action]
    row = await _visible(actor, referral_id)
    if action.side not in sides(actor, row):
        who = "le service qui reçoit" if action.side == "receiver" else "la structure qui oriente"
        raise Conflict(f"Seul {who} peut faire cette action.")
    if row["status"] not in action.sources:
        raise Conflict(lifecycle.refusal_message(action, row["status"]))
    changes, details = _changes(command)
    if command.action == "redirect":
        target = await _redirect_target(command, row)
        details["service"] = target.service_id
    now = rt.now()
    acting_structure = row["receiver_structure"] if action.side == "receiver" else row["sender_structure"]
    async with write_transaction():
        values: dict[Any, Any] = {**changes, Referral.updated_at: now, Referral.version: row["version"] + 1}
        if action.target is not None:
            values[Referral.status] = action.target
        if action.side == "receiver" and row["first_answer_at"] is None:
            values[Referral.first_answer_at] = now
        if command.action in ("accept", "refuse", "redirect"):
            values[Referral.decided_at] = now
        if command.action in ("close", "cancel"):
            values[Referral.closed_at] = now
        if command.action == "amend":
            values[Referral.note] = (row["note"] + "\n\n" + command.message.strip()).strip()[:4000]
        updated = (
            await Referral.update(values)
            .where((Referral.id == referral_id) & (Referral.version == row["version"]))
            .returning(Referral.id)
        )
        if not updated:
            raise Conflict("Quelqu'un vient de traiter cette orientation : rechargez la page pour voir où elle en est.")
        new_status = action.target or row["status"]
        if new_status in ("refused", "redirected", "cancelled"):
            await slots.release(referral_id, now)  # the seat goes back to the others
        if command.action == "redirect":
            new_id = await _send_on(rt, actor, row, target, now)
            await Referral.update({Referral.redirected_to: new_id}).where(Referral.id == referral_id)
            details["referral"] = new_id
        await _event(referral_id, now, actor, acting_structure, command.action, row["status"], new_status, details)
        await journal.append(
            rt,
            Act(f"referral_{command.action}", actor.user_id, acting_structure, "referral", referral_id, details),
        )
        if action.side == "receiver":
            await mail_sender(rt, row, "referral_decided", STATUSES[new_status])
        else:
            await mail_structure(rt, row["receiver_structure"], f"referral_{command.action}", referral_id, "")
    return new_status


def _changes(command: Transition) -> tuple[dict[Any, Any], dict[str, Any]]:
    """The columns an action fills, and the timeline's details (codes only, never personal data)."""
    if command.action == "refuse":
        if command.reason not in lifecycle.REFUSAL_REASONS:
            raise Invalid("Choisissez le motif du refus.", {"reason": "Motif obligatoire."})
        if command.reason == "other" and not command.message.strip():
            raise Invalid("Expliquez le motif en quelques mots.", {"message": "Précisez le motif « autre »."})
        return (
            {
                Referral.refusal_reason: command.reason,
                Referral.decision_message: command.message.strip(),
                Referral.share_reason: command.share_reason,
            },
            {"reason": command.reason, "shared": command.share_reason},
        )
    if command.action == "close":
        if command.outcome not in lifecycle.OUTCOMES:
            raise Invalid("Choisissez le résultat de l'accompagnement.", {"outcome": "Résultat obligatoire."})
        return {Referral.outcome: command.outcome}, {"outcome": command.outcome}
    if command.action == "amend":
        if not command.message.strip():
            raise Invalid("Écrivez ce que vous ajoutez à la demande.", {"message": "Texte obligatoire."})
        if looks_like_nir(command.message):
            raise Invalid(NIR_MESSAGE, {"message": NIR_MESSAGE})
        return {}, {}
    if command.action == "accept" and command.message.strip():
        if looks_like_nir(command.message):
            raise Invalid(NIR_MESSAGE, {"message": NIR_MESSAGE})
        return {Referral.decision_message: command.message.strip()}, {}
    return {}, {}


async def _redirect_target(command: Transition, row: dict[str, Any]) -> directory.ServiceCard:
    if command.service_id is None:
        raise Invalid("Choisissez le service vers lequel réorienter.", {"service_id": "Service obligatoire."})
    if command.service_id == row["service_id"]:
        raise Invalid("Choisissez un autre service que celui-ci.", {"service_id": "C'est le même service."})
    card = (await directory.cards([command.service_id])).get(command.service_id)
    if card is None or not card.active:
        raise Invalid("Ce service n'existe pas ou n'est plus actif.", {"service_id": "Service introuvable."})
    if not card.accepts_referrals:
        raise Conflict(f"« {card.name} » ne reçoit pas d'orientations.")
    return card


async def _send_on(rt: Runtime, actor: Actor, row: dict[str, Any], card: directory.ServiceCard, now: datetime) -> int:
    """The redirected referral: the same person and consent, to the new service, linked to the first."""
    referral = Referral(
        code=secrets.token_urlsafe(18),
        status="sent",
        sender_structure=row["sender_structure"],
        sender_user=row["sender_user"],
        receiver_structure=card.structure_id,
        service_id=card.service_id,
        service_name=card.name,
        **{
            name: row[name]
            for name in (
                "thematiques",
                "need",
                "resident_name",
                "resident_phone",
                "resident_email",
                "preferred_contact",
                "availability",
                "note",
                "consent_method",
                "consent_at",
            )
        },
        redirected_from=row["id"],
        created_at=now,
        updated_at=now,
    )
    await referral.save()
    new_id = int(referral.id)
    await attachments.copy(row["id"], new_id)
    await _event(new_id, now, actor, row["receiver_structure"], "send", "", "sent", {"from": row["id"]})
    await mail_structure(rt, card.structure_id, "referral_received", new_id, card.name)
    return new_id


async def _event(
    referral_id: int,
    at: datetime,
    actor: Actor | None,
    structure_id: int | None,
    action: str,
    from_status: str,
    to_status: str,
    details: dict[str, Any],
) -> None:
    await ReferralEvent.insert(
        ReferralEvent(
            referral=referral_id,
            at=at,
            actor_user=actor.user_id if actor else None,
            actor_structure=structure_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            details=details,
        )
    )


# ---------------------------------------------------------------- mail (the outbox; no personal data)
async def _members(structure_id: int) -> list[str]:
    rows = await (
        Membership.select(Membership.user.email)
        .where(
            (Membership.structure == structure_id)
            & Membership.role.is_in(list(REFERRAL_ROLES))
            & (Membership.user.is_active == True)  # noqa: E712
        )
        .distinct()
    )
    return sorted({row["user.email"] for row in rows})


async def mail_structure(
    rt: Runtime, structure_id: int, template: str, referral_id: int, service: str, **more: Any
) -> None:
    name = await _structure_name(structure_id)
    for address in await _members(structure_id):
        await mail.enqueue(
            rt,
            to=address,
            template=template,
            context={"structure": name, "service": service, "referral_id": referral_id, **more},
        )


async def mail_sender(rt: Runtime, row: dict[str, Any], template: str, status_label: str, **more: Any) -> None:
    user = None
    if row["sender_user"] is not None:
        user = (
            await User.select(User.email)
            .where((User.id == row["sender_user"]) & (User.is_active == True))  # noqa: E712
            .first()
        )
    addresses = [user["email"]] if user else await _members(row["sender_structure"])
    for address in addresses:
        await mail.enqueue(
            rt,
            to=address,
            template=template,
            context={"status": status_label, "service": row["service_name"], "referral_id": row["id"], **more},
        )


async def _structure_name(structure_id: int) -> str:
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    return row["name"] if row else ""


# ---------------------------------------------------------------- reading
def _side_label(structure_id: int | None, referral: dict[str, Any]) -> str:
    if structure_id is None:
        return "Maillage"
    if structure_id == referral["receiver_structure"]:
        return "le service qui reçoit"
    return "la structure qui oriente"


def _actor_label(event: dict[str, Any], referral: dict[str, Any]) -> str:
    return _side_label(event["actor_structure"], referral)


EVENT_LABELS = {
    "send": "Demande envoyée",
    "review": "Étude commencée",
    "accept": "Demande acceptée",
    "refuse": "Demande refusée",
    "redirect": "Réorientée vers un autre service",
    "close": "Accompagnement clôturé",
    "amend": "Demande complétée",
    "cancel": "Demande annulée",
    "expire": "Sans réponse : demande expirée",
    "remind": "Rappel envoyé au service",
    "escalate": "Signalée à la coordination",
    "attach": "Pièce jointe ajoutée",
    "purge_files": "Pièces jointes effacées (durée de conservation passée)",
}


async def read(actor: Actor, referral_id: int) -> ReferralOut:
    return (await read_with_code(actor, referral_id))[0]


async def read_with_code(actor: Actor, referral_id: int) -> tuple[ReferralOut, str]:
    """A referral as its two structures see it, and the resident's status code (for the page's link and the slip's
    QR). Its timeline, appointment and files are read at once (never call this inside a transaction)."""
    row = await _visible(actor, referral_id)
    appointment, events, files = await asyncio.gather(
        slots.appointment_of(referral_id),
        ReferralEvent.select().where(ReferralEvent.referral == referral_id).order_by(ReferralEvent.id).run(),
        attachments.listing(referral_id),
    )
    out = ReferralOut(
        id=row["id"],
        status=row["status"],
        status_label=STATUSES[row["status"]],
        service_id=row["service_id"],
        service_name=row["service_name"],
        sender_structure_id=row["sender_structure"],
        receiver_structure_id=row["receiver_structure"],
        created_at=row["created_at"],
        thematiques=list(row["thematiques"] or []),
        need=row["need"],
        resident_name=row["resident_name"],
        resident_phone=row["resident_phone"],
        resident_email=row["resident_email"],
        preferred_contact=row["preferred_contact"],
        availability=list(row["availability"] or []),
        note=row["note"],
        refusal_reason=row["refusal_reason"],
        decision_message=row["decision_message"],
        outcome=row["outcome"],
        redirected_to=row["redirected_to"],
        redirected_from=row["redirected_from"],
        appointment=appointment["label"] if appointment else "",
        appointment_place=appointment["place"] if appointment else "",
        timeline=[
            Event(
                at=e["at"],
                action=e["action"],
                label=EVENT_LABELS.get(e["action"], e["action"]),
                from_status=e["from_status"],
                to_status=e["to_status"],
                by=_actor_label(e, row),
            )
            for e in events
        ],
        actions=[a.name for a in lifecycle.allowed(row["status"], sides(actor, row))],
        attachments=[
            AttachmentOut(
                id=f["id"],
                filename=f["filename"],
                media_type=f["media_type"],
                size=f["size"],
                added_at=f["created_at"],
                by=_side_label(f["added_by_structure"], row),
            )
            for f in files
        ],
        can_attach=row["status"] in lifecycle.ACTIVE and row["anonymised_at"] is None,
    )
    return out, str(row["code"])


async def attach(rt: Runtime, actor: Actor, referral_id: int, uploads: Sequence[attachments.Upload]) -> list[int]:
    """Add files to a referral, from either structure while it is under way; returns the new files' numbers."""
    row = await _visible(actor, referral_id)
    side = row["sender_structure"] if "sender" in sides(actor, row) else row["receiver_structure"]
    return await attachments.add(rt, actor, row, side, uploads)


async def attachment(actor: Actor, referral_id: int, attachment_id: int) -> dict[str, Any]:
    """A file of a referral, to the two structures only (404 for anyone else, as for the referral)."""
    await _visible(actor, referral_id)
    return await attachments.content_of(referral_id, attachment_id)


async def inbox(
    actor: Actor, box: str, status: str = "", limit: int = 50, offset: int = 0, now: datetime | None = None
) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    """A structure's sent or received referrals (all the actor's structures), the counts per status, the total."""
    structures = actor.structures_with(*REFERRAL_ROLES) or [0]
    column = Referral.sender_structure if box == "sent" else Referral.receiver_structure
    where = column.is_in(structures)
    counts = {s: 0 for s in STATUSES}
    for row in await Referral.select(Referral.status, Count(alias="n")).where(where).group_by(Referral.status):
        counts[row["status"]] = row["n"]
    query = where if not status else where & (Referral.status == status)
    rows = await (
        Referral.select(
            Referral.id,
            Referral.status,
            Referral.service_name,
            Referral.sender_structure.name.as_alias("sender_name"),
            Referral.receiver_structure.name.as_alias("receiver_name"),
            Referral.resident_name,
            Referral.created_at,
            Referral.updated_at,
            Referral.first_answer_at,
        )
        .where(query)
        .order_by(Referral.created_at, ascending=False)
        .order_by(Referral.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = sum(counts.values()) if not status else counts.get(status, 0)
    return rows, counts, total


PHONE_OWNERS = {"service": "du service", "structure": "de la structure"}


def contact_phone(card: directory.ServiceCard | None) -> tuple[str, str]:
    """The number to call about a service: its own line, else its structure's; and whose it is (a key of
    PHONE_OWNERS), or ("", "") when the directory has none (places have no telephone of their own)."""
    if card is None:
        return "", ""
    if card.phone:
        return card.phone, "service"
    if card.structure_phone:
        return card.structure_phone, "structure"
    return "", ""


async def default_box(actor: Actor) -> str:
    """The inbox a member lands on: "received", unless the actor's structures have only ever sent referrals (a
    prescriber's structure that receives none lands on what it sent)."""
    structures = actor.structures_with(*REFERRAL_ROLES) or [0]
    if await Referral.exists().where(Referral.receiver_structure.is_in(structures)):
        return "received"
    return "sent" if await Referral.exists().where(Referral.sender_structure.is_in(structures)) else "received"


async def _public_row(where: Any) -> dict[str, Any] | None:
    return (
        await Referral.select(
            Referral.id,
            Referral.status,
            Referral.service_id,
            Referral.service_name,
            Referral.refusal_reason,
            Referral.share_reason,
            Referral.redirected_to,
            Referral.created_at,
            Referral.sender_structure.name.as_alias("sender_name"),
            Referral.receiver_structure.name.as_alias("receiver_name"),
        )
        .where(where)
        .first()
    )


MAX_REDIRECTS = 10  # a chain of redirects followed for the resident (each one a new service)


async def public_status(code: str) -> dict[str, Any]:
    """What the resident's status page may show: no personal data, the service and what became of it. A redirected
    referral is followed to the service that has it now (`via`: the services it went through first)."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]{10,40}", code):
        raise NotFound("Ce code ne correspond à aucune demande.")
    first = await _public_row(Referral.code == code)
    if first is None:
        raise NotFound("Ce code ne correspond à aucune demande.")
    row, via = first, list[str]()
    while row["status"] == "redirected" and row["redirected_to"] and len(via) < MAX_REDIRECTS:
        following = await _public_row(Referral.id == row["redirected_to"])
        if following is None:
            break
        via.append(row["service_name"])
        row = following
    card = (await directory.cards([row["service_id"]])).get(row["service_id"])
    reason = lifecycle.REFUSAL_FOR_RESIDENT.get(row["refusal_reason"], "") if row["share_reason"] else ""
    appointment = await slots.appointment_of(row["id"]) if row["status"] in ("sent", "in_review", "accepted") else None
    return {
        **row,
        "created_at": first["created_at"],
        "via": via,
        "card": card,
        "reason_for_resident": reason,
        "appointment": appointment,
    }


def available_half_days(codes: Sequence[str]) -> list[str]:
    return [HALF_DAYS[c] for c in codes if c in HALF_DAYS]
