"""The documents' pipeline: render the DOCX (docxtpl, in a worker thread), convert it to PDF with the warm
LibreOffice (`rt.documents`), seal the PDF (`rt.state(HubSeal)`), then store everything in one write
transaction. The slow parts come first and write nothing: when LibreOffice or the seal is unavailable, the
caller gets their French message and the mandate is exactly as it was (never half-sealed).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Invalid, NotFound
from hub.journal import Act
from hub.mandates.rules import (
    codes,
    effective_status,
    event,
    require_aidant,
    scope_list,
    structure_card,
    visible_mandate,
)
from hub.mandates.tables import Mandate, MandateScope, Resident, Revocation
from hub.mandates.vocabulary import SCOPE_BY_CODE
from hub.runtime import PARIS, Runtime
from hub.tables import User

if TYPE_CHECKING:
    from hub.mandates.documents import MandateFacts, TemplateFile


# ---------------------------------------------------------------- facts and templates
async def template_file(kind: str, version: str, structure_id: int | None = None) -> TemplateFile:
    """The exact template a document was (or will be) rendered from: a structure's variant or a versioned file."""
    from hub.mandates import documents, variants

    if version.startswith("variant-"):
        found = await variants.template_of(kind, version)
        if found is not None:
            return found
        raise NotFound("Le modèle de ce document n'existe plus.")
    if not version:
        return documents.current_template(kind)
    return documents.template_version(kind, version)


async def _aidant_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    row = await User.select(User.full_name).where(User.id == user_id).first()
    return row["full_name"] if row else ""


async def mandate_facts(
    rt: Runtime, row: dict[str, Any], *, draft: bool, signed_on: date | None = None, starts_on: date | None = None
) -> MandateFacts:
    from hub.mandates.documents import MandateFacts
    from hub.mandates.rules import end_date

    resident = await Resident.select().where(Resident.id == row["resident"]).first()
    if resident is None:
        raise NotFound("La personne de ce mandat n'existe plus.")
    card = await structure_card(row["structure"])
    starts = starts_on or row["starts_on"]
    ends = end_date(starts, row["duration_days"]) if starts_on else row["ends_on"]
    return MandateFacts(
        number=row["number"],
        resident_first_name=resident["first_name"],
        resident_last_name=resident["last_name"],
        resident_birth_date=resident["birth_date"],
        structure_name=card.name,
        structure_address=card.address,
        structure_phone=card.phone,
        structure_email=card.email,
        aidant_name=await _aidant_name(row["created_by"]),
        scopes=tuple(await scope_list(row["id"])),
        duration_days=row["duration_days"],
        starts_on=starts,
        ends_on=ends,
        place=row["place"] or card.commune,
        signed_on=signed_on,
        verify_url=f"{rt.settings.base_url}/verifier/{row['public_code']}",
        draft=draft,
        resident_signature=None if draft or row["resident_signature"] is None else bytes(row["resident_signature"]),
        aidant_signature=None if draft or row["aidant_signature"] is None else bytes(row["aidant_signature"]),
    )


def fingerprint(facts: MandateFacts, template_sha256: str, scan_sha256: str) -> str:
    """SHA-256 of what the mandate states, the template's hash, and the signatures' or the scan's hashes."""

    def digest(data: bytes | None) -> str:
        return hashlib.sha256(data).hexdigest() if data else ""

    content = {
        "number": facts.number,
        "resident": [facts.resident_first_name, facts.resident_last_name, str(facts.resident_birth_date or "")],
        "structure": facts.structure_name,
        "aidant": facts.aidant_name,
        "scopes": list(facts.scopes),
        "duration": facts.duration_days,
        "dates": [str(facts.starts_on), str(facts.ends_on), str(facts.signed_on or "")],
        "place": facts.place,
        "verify": facts.verify_url,
        "template": template_sha256,
        "signatures": [digest(facts.resident_signature), digest(facts.aidant_signature)],
        "scan": scan_sha256,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


async def _render(rt: Runtime, row: dict[str, Any], facts: MandateFacts) -> bytes:
    from hub.mandates import documents

    template = await template_file(row["template_kind"], row["template_version"], row["structure"])
    return await asyncio.to_thread(documents.render_mandate, facts, template)


async def _seal(rt: Runtime, pdf: bytes, reason: str, location: str) -> bytes:
    from hub.mandates.seal import HubSeal

    return await rt.state(HubSeal).seal(pdf, reason=reason, location=location)


async def sealed_mandate(rt: Runtime, row: dict[str, Any], facts: MandateFacts) -> bytes:
    """The slow part of finalising, writing nothing: render, convert, seal."""
    docx = await _render(rt, row, facts)
    pdf = await rt.documents.to_pdf(docx)
    return await _seal(rt, pdf, f"Mandat {row['number']} scellé par Maillage", facts.place)


async def sealed_revocation(
    rt: Runtime, row: dict[str, Any], number: str, revoked: list[str], remaining: list[str], on: date
) -> bytes:
    """The revocation attestation, rendered, converted and sealed (writing nothing)."""
    pdf = await _revocation_pdf_bytes(rt, row, number, revoked, remaining, on)
    return await _seal(rt, pdf, f"Annulation {number} du mandat {row['number']}", "")


def _signed_on(row: dict[str, Any]) -> date | None:
    at: datetime | None = row["finalised_at"]
    return at.astimezone(PARIS).date() if at else None


# ---------------------------------------------------------------- finalising
async def finalise(rt: Runtime, actor: Actor, mandate_id: int) -> str:
    """Render with the signatures and the QR code, convert, seal, store; the mandate is valid from today and the
    scopes older mandates of the same resident and structure held are revoked. Returns the sealed PDF's SHA-256."""
    row = await visible_mandate(actor, mandate_id, blobs=True)  # the signatures go into the document
    await require_aidant(rt, actor, row["structure"])
    if row["status"] == "draft":
        raise Conflict("Faites d'abord signer le mandat : sur l'écran, ou sur papier avec le scan.")
    if row["status"] != "signed":
        raise Conflict("Ce mandat est déjà finalisé." if row["sealed_pdf"] else "Ce mandat ne peut plus être finalisé.")
    today = rt.today()
    facts = await mandate_facts(rt, row, draft=False, signed_on=today, starts_on=today)
    sealed = await sealed_mandate(rt, row, facts)
    digest = hashlib.sha256(sealed).hexdigest()
    now = rt.now()
    async with write_transaction():
        updated = (
            await Mandate.update(
                {
                    Mandate.status: "active",
                    Mandate.starts_on: facts.starts_on,
                    Mandate.ends_on: facts.ends_on,
                    Mandate.fingerprint: fingerprint(facts, row["template_sha256"], row["scan_sha256"]),
                    Mandate.sealed_pdf: sealed,
                    Mandate.sealed_sha256: digest,
                    Mandate.finalised_at: now,
                    Mandate.updated_at: now,
                    Mandate.version: row["version"] + 1,
                }
            )
            .where((Mandate.id == mandate_id) & (Mandate.version == row["version"]) & (Mandate.status == "signed"))
            .returning(Mandate.id)
        )
        if not updated:
            raise Conflict("Quelqu'un vient de modifier ce mandat : rechargez la page pour voir où il en est.")
        replaced = await _revoke_replaced(rt, actor, row, list(facts.scopes), now)
        await event(mandate_id, now, actor.user_id, "finalise", sha256=digest)
        await journal.append(
            rt,
            Act(
                "mandate_finalised",
                actor.user_id,
                row["structure"],
                "mandate",
                mandate_id,
                {"scopes": codes(facts.scopes), "sha256": digest, "replaced": replaced, "mode": row["signing_mode"]},
            ),
        )
    return digest


async def _revoke_replaced(rt: Runtime, actor: Actor, row: dict[str, Any], scopes: list[str], now: datetime) -> int:
    """Inside finalise's transaction: the same scopes of older live mandates of this resident and structure."""
    older = await MandateScope.select(MandateScope.id, MandateScope.mandate, MandateScope.scope).where(
        (MandateScope.mandate.structure == row["structure"])
        & (MandateScope.mandate.resident == row["resident"])
        & (MandateScope.mandate.status == "active")
        & (MandateScope.mandate.id != row["id"])
        & (MandateScope.status == "active")
        & MandateScope.scope.is_in(scopes)
    )
    if not older:
        return 0
    await MandateScope.update(
        {MandateScope.status: "revoked", MandateScope.revoked_at: now, MandateScope.replaced_by: row["id"]}
    ).where(MandateScope.id.is_in([s["id"] for s in older]))
    for mandate_id in sorted({s["mandate"] for s in older}):
        gone = [s["scope"] for s in older if s["mandate"] == mandate_id]
        await event(mandate_id, now, actor.user_id, "replaced", scopes=gone, by=row["id"])
        await _close_if_empty(mandate_id, now)
        await journal.append(
            rt,
            Act(
                "mandate_scopes_replaced",
                actor.user_id,
                row["structure"],
                "mandate",
                mandate_id,
                {"scopes": codes(gone), "by": row["id"]},
            ),
        )
    return len(older)


async def _close_if_empty(mandate_id: int, now: datetime) -> bool:
    """A mandate whose scopes are all revoked is revoked as a whole."""
    if await MandateScope.exists().where((MandateScope.mandate == mandate_id) & (MandateScope.status == "active")):
        return False
    await Mandate.update(
        {
            Mandate.status: "revoked",
            Mandate.revoked_at: now,
            Mandate.updated_at: now,
            Mandate.version: Mandate.version + 1,
        }
    ).where((Mandate.id == mandate_id) & (Mandate.status == "active"))
    return True


# ---------------------------------------------------------------- revoking
NOTE_MAX = 200


def revocation_field_errors(active: list[str], wanted: list[str], reason: str) -> dict[str, str]:
    """Every wrong field of a revocation at once: the scopes asked (none: the whole mandate), the note."""
    errors: dict[str, str] = {}
    if unknown := [code for code in wanted if code not in SCOPE_BY_CODE]:
        errors["scopes"] = f"Démarche inconnue : {', '.join(unknown[:3])[:60]}."
    elif not_here := [code for code in wanted if code not in active]:
        labels = ", ".join(SCOPE_BY_CODE[c].label for c in not_here)
        errors["scopes"] = f"Déjà arrêtées ou absentes : {labels}."
    note = " ".join(reason.split())
    if len(note) > NOTE_MAX:
        errors["reason"] = f"La note compte {NOTE_MAX} caractères au plus : elle en a {len(note)}. Raccourcissez-la."
    return errors


async def revocation_errors(
    rt: Runtime, actor: Actor, mandate_id: int, scopes: tuple[str, ...] | list[str] | None, reason: str
) -> dict[str, str]:
    """What revoke() would refuse in the fields, without revoking (the page reports it with its own checks)."""
    await visible_mandate(actor, mandate_id)
    active = await scope_list(mandate_id, "active")
    return revocation_field_errors(active, list(dict.fromkeys(scopes or [])), reason)


async def revoke(
    rt: Runtime, actor: Actor, mandate_id: int, scopes: tuple[str, ...] | list[str] | None = None, reason: str = ""
) -> int:
    """Revoke the whole mandate (scopes None or empty) or some scopes, at the resident's request (`reason`: the
    aidant's note for the structure, ≤ 200 characters): a sealed FALC attestation is made, and the verification
    page says "révoqué" at once. Returns the revocation's id."""
    row = await visible_mandate(actor, mandate_id)
    await require_aidant(rt, actor, row["structure"])
    status = effective_status(row, rt.today())
    if status != "active":
        raise Conflict("Seul un mandat valide s'arrête." if status != "revoked" else "Ce mandat est déjà arrêté.")
    active = await scope_list(mandate_id, "active")
    wanted = list(dict.fromkeys(scopes or []))
    if errors := revocation_field_errors(active, wanted, reason):
        raise Invalid("L'arrêt n'est pas fait : corrigez les champs signalés.", errors)
    note = " ".join(reason.split())
    revoked = [code for code in active if code in wanted] if wanted else active
    remaining = [code for code in active if code not in revoked]
    count = await Revocation.count().where(Revocation.mandate == mandate_id)
    today = rt.today()
    number = f"R-{today.year}-{mandate_id:05d}-{count + 1}"
    sealed = await sealed_revocation(rt, row, number, revoked, remaining, today)
    digest = hashlib.sha256(sealed).hexdigest()
    now = rt.now()
    async with write_transaction():
        updated = (
            await Mandate.update({Mandate.updated_at: now, Mandate.version: row["version"] + 1})
            .where((Mandate.id == mandate_id) & (Mandate.version == row["version"]) & (Mandate.status == "active"))
            .returning(Mandate.id)
        )
        if not updated:
            raise Conflict("Quelqu'un vient de modifier ce mandat : rechargez la page pour voir où il en est.")
        revocation = Revocation(
            mandate=mandate_id,
            number=number,
            public_code=secrets.token_urlsafe(18),
            scopes=revoked,
            whole=not remaining,
            reason="resident",
            note=note,
            created_by=actor.user_id,
            created_at=now,
            sealed_pdf=sealed,
            sealed_sha256=digest,
        )
        await revocation.save()
        await MandateScope.update(
            {MandateScope.status: "revoked", MandateScope.revoked_at: now, MandateScope.revocation: revocation.id}
        ).where(
            (MandateScope.mandate == mandate_id) & MandateScope.scope.is_in(revoked) & (MandateScope.status == "active")
        )
        await _close_if_empty(mandate_id, now)
        await event(mandate_id, now, actor.user_id, "revoke", scopes=revoked, revocation=int(revocation.id))
        await journal.append(
            rt,
            Act(
                "mandate_revoked",
                actor.user_id,
                row["structure"],
                "mandate",
                mandate_id,
                {"scopes": codes(revoked), "whole": not remaining, "revocation": int(revocation.id), "sha256": digest},
            ),
        )
    return int(revocation.id)


async def _revocation_pdf_bytes(
    rt: Runtime, row: dict[str, Any], number: str, revoked: list[str], remaining: list[str], on: date
) -> bytes:
    from hub.mandates import documents
    from hub.mandates.documents import RevocationFacts

    resident = await Resident.select().where(Resident.id == row["resident"]).first()
    if resident is None:
        raise NotFound("La personne de ce mandat n'existe plus.")
    card = await structure_card(row["structure"])
    facts = RevocationFacts(
        number=number,
        mandate_number=row["number"],
        resident_first_name=resident["first_name"],
        resident_last_name=resident["last_name"],
        structure_name=card.name,
        structure_address=card.address,
        structure_phone=card.phone,
        aidant_name=await _aidant_name(row["created_by"]),
        revoked_scopes=tuple(revoked),
        remaining_scopes=tuple(remaining),
        revoked_on=on,
        verify_url=f"{rt.settings.base_url}/verifier/{row['public_code']}",
    )
    docx = await asyncio.to_thread(documents.render_revocation, facts)
    return await rt.documents.to_pdf(docx)


# ---------------------------------------------------------------- documents to download
async def draft_document(rt: Runtime, actor: Actor, mandate_id: int, fmt: str = "pdf") -> bytes:
    """The draft, marked "projet, sans valeur" on every page, to read with the resident or print and sign."""
    if fmt not in ("pdf", "docx"):
        raise Invalid("Format inconnu.", {"fmt": "PDF ou DOCX."})
    row = await visible_mandate(actor, mandate_id)
    if row["status"] not in ("draft", "signed"):
        raise Conflict("Ce mandat n'est plus un projet : téléchargez le mandat scellé.")
    facts = await mandate_facts(rt, row, draft=True)
    docx = await _render(rt, row, facts)
    return docx if fmt == "docx" else await rt.documents.to_pdf(docx)


async def sealed_pdf(rt: Runtime, actor: Actor, mandate_id: int) -> bytes:
    row = await visible_mandate(actor, mandate_id, blobs=True)
    if not row["sealed_pdf"]:
        raise NotFound("Ce mandat n'a pas encore de PDF scellé : finalisez-le d'abord.")
    return bytes(row["sealed_pdf"])


async def final_docx(rt: Runtime, row: dict[str, Any]) -> bytes:
    """A finalised mandate rendered again from the exact template it was made with (same content, same hash)."""
    facts = await mandate_facts(rt, row, draft=False, signed_on=_signed_on(row))
    return await _render(rt, row, facts)


async def rendered_docx(rt: Runtime, actor: Actor, mandate_id: int) -> bytes:
    row = await visible_mandate(actor, mandate_id, blobs=True)
    if not row["finalised_at"]:
        raise NotFound("Ce mandat n'est pas encore finalisé.")
    return await final_docx(rt, row)


async def revocation_pdf(rt: Runtime, actor: Actor, revocation_id: int) -> bytes:
    row = (
        await Revocation.select(Revocation.mandate, Revocation.sealed_pdf).where(Revocation.id == revocation_id).first()
    )
    if row is None:
        raise NotFound("Cette attestation d'annulation n'existe pas.")
    await visible_mandate(actor, row["mandate"])  # 404 outside the structure
    if not row["sealed_pdf"]:
        raise NotFound("Cette annulation n'a pas d'attestation.")
    return bytes(row["sealed_pdf"])


async def expiry_letter(rt: Runtime, actor: Actor, mandate_id: int, fmt: str = "docx") -> bytes:
    """The FALC letter the aidant hands or sends to the resident when the mandate comes to its end."""
    from hub.mandates import documents
    from hub.mandates.documents import ExpiryLetterFacts

    row = await visible_mandate(actor, mandate_id)
    if effective_status(row, rt.today()) not in ("active", "expired"):
        raise Conflict("La lettre d'échéance concerne un mandat valide ou expiré.")
    resident = await Resident.select().where(Resident.id == row["resident"]).first()
    if resident is None:
        raise NotFound("La personne de ce mandat n'existe plus.")
    card = await structure_card(row["structure"])
    facts = ExpiryLetterFacts(
        resident_first_name=resident["first_name"],
        resident_last_name=resident["last_name"],
        structure_name=card.name,
        structure_address=card.address,
        structure_phone=card.phone,
        scopes=tuple(await scope_list(mandate_id, "active")),
        ends_on=row["ends_on"],
        aidant_name=actor.full_name,
    )
    docx = await asyncio.to_thread(documents.render_expiry_letter, facts)
    return docx if fmt == "docx" else await rt.documents.to_pdf(docx)


async def charter_document(rt: Runtime, actor: Actor) -> bytes:
    """The charter (charte de l'aidant) in its current version, as DOCX, with the aidant's name."""
    from hub.mandates import documents

    return await asyncio.to_thread(documents.render_charter, actor.full_name, "")
