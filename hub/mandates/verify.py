"""Verification by anyone: the public page the QR code opens, and a PDF checked byte for byte.

`public_verification` answers for a mandate's public code with the status per scope, the structure, the
dates and the resident's initials only. `verify_file` checks a PDF's seal (pyHanko, through HubSeal.check),
finds the document by the SHA-256 of its sealed bytes, then says its current status: valide, expiré, révoqué;
altéré when the seal is broken or not the hub's, inconnu when the hub never sealed those bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import date
from typing import Any

from hub.mandates.rules import effective_status, light_columns, structure_card
from hub.mandates.schemas import PublicScope, PublicVerification, VerifyResult
from hub.mandates.tables import Mandate, MandateScope, Resident, Revocation
from hub.mandates.vocabulary import SCOPE_BY_CODE
from hub.runtime import PARIS, Runtime

_CODE = re.compile(r"[A-Za-z0-9_\-]{10,60}")
PUBLIC_STATUS = {"active": "valide", "expired": "expiré", "revoked": "révoqué"}
PUBLIC_LABEL = {
    "valide": "Ce mandat est valide.",
    "expiré": "Ce mandat est expiré : il n'a plus de valeur.",
    "révoqué": "Ce mandat a été arrêté : il n'a plus de valeur.",
    "projet": "Ce document est un projet : il n'a pas de valeur.",
}


def initials(first_name: str, last_name: str) -> str:
    return " ".join(f"{part[:1].upper()}." for part in (first_name.strip(), last_name.strip()) if part)


async def _scopes(mandate_id: int, status: str) -> list[PublicScope]:
    rows = (
        await MandateScope.select(MandateScope.scope, MandateScope.status)
        .where(MandateScope.mandate == mandate_id)
        .order_by(MandateScope.id)
    )
    out = []
    for row in rows:
        if row["status"] == "revoked":
            label = "révoqué"
        elif status == "expired":
            label = "expiré"
        elif status in ("draft", "signed", "cancelled"):
            label = "projet"
        else:
            label = "valide"
        out.append(PublicScope(row["scope"], SCOPE_BY_CODE[row["scope"]].label, label))
    return out


def _public_status(status: str) -> str:
    return PUBLIC_STATUS.get(status, "projet")


async def public_verification(rt: Runtime, public_code: str) -> PublicVerification | None:
    """What the QR code's page shows; None when the code is unknown (the page answers 404)."""
    if not _CODE.fullmatch(public_code or ""):
        return None
    row = await Mandate.select(*light_columns()).where(Mandate.public_code == public_code).first()
    if row is None:
        return None
    return await _verification(rt, row)


async def _verification(rt: Runtime, row: dict[str, Any]) -> PublicVerification:
    status = effective_status(row, rt.today())
    resident = (
        await Resident.select(Resident.first_name, Resident.last_name).where(Resident.id == row["resident"]).first()
    )
    card = await structure_card(row["structure"])
    public = _public_status(status)
    signed_on: date | None = row["finalised_at"].astimezone(PARIS).date() if row["finalised_at"] else None
    revoked_on: date | None = row["revoked_at"].astimezone(PARIS).date() if row["revoked_at"] else None
    return PublicVerification(
        status=public,
        status_label=PUBLIC_LABEL[public],
        number=row["number"],
        structure_name=card.name,
        resident_initials=initials(resident["first_name"], resident["last_name"]) if resident else "",
        scopes=await _scopes(row["id"], status),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        signed_on=signed_on,
        revoked_on=revoked_on,
        sealed_sha256=row["sealed_sha256"],
    )


async def verify_file(rt: Runtime, pdf: bytes) -> VerifyResult:
    """A PDF checked: its seal, its fingerprint against the hub's records, then the mandate's current status."""
    from hub.mandates.seal import HubSeal

    if not pdf.startswith(b"%PDF-"):
        return VerifyResult(False, "altéré", "Ce fichier n'est pas un PDF : il ne peut pas être un mandat scellé.")
    check = await asyncio.to_thread(rt.state(HubSeal).check, pdf)
    if not check.sealed:
        return VerifyResult(False, "altéré", f"Aucun sceau de Maillage dans ce PDF : {check.reason_fr}")
    if not (check.intact and check.ours):
        return VerifyResult(False, "altéré", f"Document altéré : {check.reason_fr}")
    digest = hashlib.sha256(pdf).hexdigest()
    row = await Mandate.select(*light_columns()).where(Mandate.sealed_sha256 == digest).first()
    if row is not None:
        found = await _verification(rt, row)
        return _result(found, "mandat", row["id"], "Mandat")
    revocation = (
        await Revocation.select(Revocation.mandate, Revocation.number).where(Revocation.sealed_sha256 == digest).first()
    )
    if revocation is not None:
        mandate = await Mandate.select(Mandate.id).where(Mandate.id == revocation["mandate"]).first()
        if mandate is not None:
            return VerifyResult(
                True,
                "valide",
                f"Attestation d'annulation {revocation['number']} authentique : scellée par Maillage, intacte.",
                kind="revocation",
                number=revocation["number"],
                mandate_id=mandate["id"],
            )
    return VerifyResult(
        False,
        "inconnu",
        "Sceau intact, mais ce document est inconnu de Maillage : il a été supprimé ou n'a jamais été enregistré.",
    )


def _result(found: PublicVerification, kind: str, mandate_id: int, what: str) -> VerifyResult:
    if found.status == "valide":
        revoked = [s.label for s in found.scopes if s.status == "révoqué"]
        reason = f"{what} {found.number} valide jusqu'au {found.ends_on.strftime('%d/%m/%Y')}, sceau intact."
        if revoked:
            reason += f" Démarches arrêtées depuis : {', '.join(revoked)}."
        return VerifyResult(True, "valide", reason, kind, found.number, mandate_id, found.scopes)
    if found.status == "expiré":
        reason = f"{what} {found.number} expiré : valide jusqu'au {found.ends_on.strftime('%d/%m/%Y')}, il n'a plus de valeur."
        return VerifyResult(False, "expiré", reason, kind, found.number, mandate_id, found.scopes)
    if found.status == "révoqué":
        when = f" le {found.revoked_on.strftime('%d/%m/%Y')}" if found.revoked_on else ""
        reason = f"{what} {found.number} révoqué{when} : il n'a plus de valeur."
        return VerifyResult(False, "révoqué", reason, kind, found.number, mandate_id, found.scopes)
    return VerifyResult(False, "inconnu", f"{what} {found.number} jamais finalisé.", kind, found.number, mandate_id)
