"""A structure's own template variants (its logo, its contacts): uploaded by its manager, checked by the FALC
checker and for every required field (documents.check_variant), and activated only then, with the name of
the person who proofread it (the FALC rules only a human can check). A document rendered from a variant keeps
"variant-<id>" as its template version and the variant's SHA-256, so it re-renders from the same bytes."""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.mandates.tables import TemplateVariant
from hub.runtime import Runtime

if TYPE_CHECKING:
    from hub.mandates.documents import TemplateFile

MAX_VARIANT_BYTES = 5_000_000
VARIANT_KINDS = ("mandat", "revocation", "lettre-echeance")


def _manager(actor: Actor, structure_id: int) -> None:
    if not actor.has_role(structure_id, "manager"):
        if actor.has_role(structure_id):
            raise Forbidden("Seul le référent de la structure gère ses modèles.")
        raise NotFound("Cette structure n'existe pas ou vous n'en êtes pas membre.")


async def list_variants(rt: Runtime, actor: Actor, structure_id: int) -> list[dict[str, Any]]:
    _manager(actor, structure_id)
    return await (
        TemplateVariant.select(
            TemplateVariant.id,
            TemplateVariant.kind,
            TemplateVariant.filename,
            TemplateVariant.sha256,
            TemplateVariant.uploaded_at,
            TemplateVariant.proofread_by,
            TemplateVariant.proofread_at,
            TemplateVariant.active,
            TemplateVariant.falc_report,
        )
        .where(TemplateVariant.structure == structure_id)
        .order_by(TemplateVariant.id, ascending=False)
    )


def _report_text(report: Any) -> str:
    lines = list(report.messages_fr)
    if report.missing_fields:
        lines.append("Champs manquants : " + ", ".join(report.missing_fields))
    if report.unknown_fields:
        lines.append("Champs inconnus : " + ", ".join(report.unknown_fields))
    return "\n".join(lines) or "Le modèle passe les vérifications."


async def upload_variant(rt: Runtime, actor: Actor, structure_id: int, kind: str, data: bytes, filename: str) -> int:
    """Keep the variant with its report (inactive until proofread); returns its id."""
    from hub.mandates import documents

    _manager(actor, structure_id)
    if kind not in VARIANT_KINDS:
        raise Invalid("Type de modèle inconnu.", {"kind": "Choisissez : mandat, annulation ou lettre d'échéance."})
    if not data:
        raise Invalid("Le fichier est vide.", {"file": "Choisissez un fichier Word (.docx)."})
    if len(data) > MAX_VARIANT_BYTES:
        raise Invalid("Le fichier est trop lourd.", {"file": "Un modèle pèse 5 Mo au plus."})
    if not data.startswith(b"PK\x03\x04"):
        raise Invalid("Ce fichier n'est pas un document Word.", {"file": "Envoyez un fichier .docx."})
    try:
        report = await asyncio.to_thread(documents.check_variant, kind, data)
    except Exception:  # a damaged .docx: its parser's error says nothing useful to a person  # noqa: BLE001
        raise Invalid(
            "Ce document Word est illisible.", {"file": "Le fichier .docx est abîmé : enregistrez-le à nouveau."}
        ) from None
    now = rt.now()
    async with write_transaction():
        variant = TemplateVariant(
            structure=structure_id,
            kind=kind,
            filename=" ".join(filename.split())[:200],
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor.user_id,
            uploaded_at=now,
            active=False,
            falc_report=_report_text(report),
        )
        await variant.save()
        await journal.append(
            rt,
            Act(
                "mandate_variant_uploaded",
                actor.user_id,
                structure_id,
                "variant",
                variant.id,
                {"kind": kind, "ok": report.ok},
            ),
        )
    return int(variant.id)


async def activate_variant(rt: Runtime, actor: Actor, variant_id: int, proofreader: str) -> None:
    """Activate a variant that passes the checks, recording who proofread it; the previous one of its kind stops."""
    from hub.mandates import documents

    row = await TemplateVariant.select().where(TemplateVariant.id == variant_id).first()
    if row is None:
        raise NotFound("Ce modèle n'existe pas.")
    _manager(actor, row["structure"])
    name = " ".join(proofreader.split())
    if not 2 <= len(name) <= 120:
        raise Invalid(
            "Indiquez qui a relu le modèle.", {"proofreader": "Le nom de la personne qui a relu (2 à 120 caractères)."}
        )
    report = await asyncio.to_thread(documents.check_variant, row["kind"], bytes(row["data"]))
    if not report.ok:
        raise Conflict("Ce modèle ne passe pas les vérifications : corrigez-le et envoyez-le à nouveau.")
    now = rt.now()
    async with write_transaction():
        await TemplateVariant.update({TemplateVariant.active: False}).where(
            (TemplateVariant.structure == row["structure"])
            & (TemplateVariant.kind == row["kind"])
            & (TemplateVariant.active == True)  # noqa: E712
        )
        await TemplateVariant.update(
            {TemplateVariant.active: True, TemplateVariant.proofread_by: name, TemplateVariant.proofread_at: now}
        ).where(TemplateVariant.id == variant_id)
        await journal.append(
            rt,
            Act(
                "mandate_variant_activated",
                actor.user_id,
                row["structure"],
                "variant",
                variant_id,
                {"kind": row["kind"]},
            ),
        )


async def deactivate_variant(rt: Runtime, actor: Actor, variant_id: int) -> None:
    row = (
        await TemplateVariant.select(TemplateVariant.structure, TemplateVariant.kind)
        .where(TemplateVariant.id == variant_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce modèle n'existe pas.")
    _manager(actor, row["structure"])
    async with write_transaction():
        await TemplateVariant.update({TemplateVariant.active: False}).where(TemplateVariant.id == variant_id)
        await journal.append(
            rt,
            Act(
                "mandate_variant_deactivated",
                actor.user_id,
                row["structure"],
                "variant",
                variant_id,
                {"kind": row["kind"]},
            ),
        )


async def active_variant(structure_id: int, kind: str) -> tuple[str, str] | None:
    """(template version, sha256) of the structure's active variant of this kind, if any."""
    row = (
        await TemplateVariant.select(TemplateVariant.id, TemplateVariant.sha256)
        .where(
            (TemplateVariant.structure == structure_id)
            & (TemplateVariant.kind == kind)
            & (TemplateVariant.active == True)  # noqa: E712
        )
        .first()
    )
    return (f"variant-{row['id']}", row["sha256"]) if row else None


async def template_of(kind: str, version: str) -> TemplateFile | None:
    """The variant a document was rendered from ("variant-<id>"), even if no longer active."""
    from hub.mandates.documents import TemplateFile

    try:
        variant_id = int(version.removeprefix("variant-"))
    except ValueError:
        return None
    row = (
        await TemplateVariant.select(TemplateVariant.data, TemplateVariant.sha256)
        .where((TemplateVariant.id == variant_id) & (TemplateVariant.kind == kind))
        .first()
    )
    if row is None:
        return None
    return TemplateFile(kind=kind, version=version, sha256=row["sha256"], path=None, data=bytes(row["data"]))
