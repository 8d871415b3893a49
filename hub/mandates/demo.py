"""The demo town's mandates: habilitated aidants who accepted the charter, ~25 residents, and mandates in every
state (active, expiring within 30 days, expired, revoked as a whole or per scope, drafts, a signed one waiting
to be finalised), each finished one with its sealed PDF made by the real pipeline (docxtpl, the warm
LibreOffice, the hub's seal). Without LibreOffice the rows are still seeded, without their PDFs, and the demo
says so. Idempotent: nothing when the demo already has mandates. Residents are invented.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import random
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from hub.db import write_transaction
from hub.demo import journal_later
from hub.documents import DocumentsUnavailable
from hub.journal import Act
from hub.mandates import finalise
from hub.mandates.rules import current_charter_version, end_date
from hub.mandates.seal import SealUnavailable
from hub.mandates.tables import (
    CharterAcceptance,
    Habilitation,
    Mandate,
    MandateEvent,
    MandateScope,
    Resident,
    Revocation,
)
from hub.modules import DemoContext
from hub.runtime import PARIS, Runtime
from hub.tables import Membership

AIDANTS = (  # (demo account, its structure by demo name): habilitated, charter accepted
    ("aidant.franceservices@demo.maillage.fr", "France Services de Montclair"),
    ("referente.ccas@demo.maillage.fr", "CCAS de Montclair-sur-Loire"),
)
RESIDENTS = (
    ("Awa", "Diallo"),
    ("Bernard", "Lemoine"),
    ("Chantal", "Perrin"),
    ("Djamel", "Bouzid"),
    ("Élodie", "Marchand"),
    ("Fatou", "Sow"),
    ("Gérard", "Fontaine"),
    ("Hélène", "Robin"),
    ("Ibrahim", "Keita"),
    ("Jeanne", "Lambert"),
    ("Kevin", "Roux"),
    ("Louise", "Garnier"),
    ("Marcel", "Chevalier"),
    ("Nadia", "Amrani"),
    ("Odette", "Faure"),
    ("Pierre", "Blanc"),
    ("Rosa", "Da Silva"),
    ("Samir", "Haddad"),
    ("Thérèse", "Gauthier"),
    ("Ulysse", "Perret"),
    ("Véronique", "Colin"),
    ("William", "Renaud"),
    ("Yasmina", "Cherif"),
    ("Zoé", "Mercier"),
    ("Albert", "Noël"),
)
# (state, how many, duration days, started this many days ago)
PLAN = (
    ("active", 8, 365, 40),
    ("expiring", 4, 182, 165),  # ends within the 30 days of the reminders
    ("expired", 4, 31, 80),
    ("revoked", 2, 365, 120),  # revoked as a whole
    ("partly", 3, 365, 60),  # one scope revoked
    ("signed", 2, 182, 0),  # signed on screen, waiting to be finalised (one at each aidant's structure)
    ("draft", 3, 365, 0),
    ("expired", 2, 182, 420),  # the semester before last, for the pack's comparison
)
SCOPE_SETS = (
    ("social", "logement", "argent"),
    ("papiers", "famille"),
    ("travail", "social"),
    ("logement",),
    ("papiers", "transports", "etranger"),
    ("social", "argent", "justice", "loisirs"),
)


def demo_signature(seed: int, width: int = 480, height: int = 160) -> bytes:
    """A hand-drawn-looking stroke (a few sine loops), as the pad would send it: a PNG with ink on white."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)  # noqa: S311 (a drawing, not a secret)
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    loops, phase = rng.uniform(2.5, 5), rng.uniform(0, math.pi)
    points = [
        (20 + x, height / 2 + (height / 3) * math.sin(phase + loops * 2 * math.pi * x / (width - 40)) * (1 - x / width))
        for x in range(0, width - 40, 4)
    ]
    draw.line(points, fill=(20, 30, 90, 255), width=4, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def seed(rt: Runtime, context: DemoContext) -> None:
    if await Mandate.count() > 0:
        context.lines.append("Mandats de démonstration : déjà là.")
        return
    rng = random.Random(12)  # noqa: S311 (demo data, not secrets)
    now = rt.now()
    today = rt.today()
    version = current_charter_version()
    aidants: list[tuple[int, int]] = []  # (user, structure)
    for email, name in AIDANTS:
        user_id, structure_id = context.users.get(email), context.structures.get(name)
        if user_id is None or structure_id is None:
            continue
        role = "aidant" if email.startswith("aidant") else "manager"
        if not await Membership.exists().where(
            (Membership.user == user_id) & (Membership.structure == structure_id) & (Membership.role == role)
        ):
            await Membership.insert(Membership(user=user_id, structure=structure_id, role=role))
        await Habilitation.insert(Habilitation(user=user_id, structure=structure_id, granted_at=now))
        if not await CharterAcceptance.exists().where(
            (CharterAcceptance.user == user_id) & (CharterAcceptance.version == version)
        ):
            await CharterAcceptance.insert(CharterAcceptance(user=user_id, version=version, at=now))
        aidants.append((user_id, structure_id))
    if not aidants:
        context.lines.append("Mandats de démonstration : aucune structure d'aidant trouvée.")
        return
    residents: list[tuple[int, int]] = []  # (resident, structure)
    async with write_transaction():
        for index, (first, last) in enumerate(RESIDENTS):
            structure_id = aidants[index % len(aidants)][1]
            resident = Resident(
                structure=structure_id,
                first_name=first,
                last_name=last,
                birth_date=date(1940 + rng.randrange(0, 60), rng.randrange(1, 13), rng.randrange(1, 29)),
                phone=f"06 39 98 {rng.randrange(10, 99)} {rng.randrange(10, 99)}" if index % 3 else "",
                created_at=now - timedelta(days=200),
            )
            await resident.save()
            residents.append((int(resident.id), structure_id))
    made: list[dict[str, Any]] = []
    n = 0
    for state, count, duration, ago in PLAN:
        for _ in range(count):
            resident_id, structure_id = residents[n % len(residents)]
            aidant = next(user for user, structure in aidants if structure == structure_id)
            scopes = SCOPE_SETS[n % len(SCOPE_SETS)]
            n += 1
            starts = today - timedelta(days=ago)
            if state == "expiring":
                starts = today - timedelta(days=duration - 1 - rng.randrange(3, 28))
            made.append(
                await _mandate(rt, context, state, resident_id, structure_id, aidant, scopes, duration, starts, n)
            )
    pdfs, missing = await _documents(rt, made)
    context.ids["mandates"] = {f"mandate_{i}": m["id"] for i, m in enumerate(made)}
    context.lines.append(
        f"Mandats de démonstration : {len(RESIDENTS)} personnes, {len(made)} mandats "
        "(valides, bientôt échus, expirés, annulés en tout ou en partie, projets), "
        f"{len(aidants)} aidants habilités."
    )
    if missing:
        context.lines.append(
            f"  PDF scellés non produits ({missing}) : {pdfs}. Installez LibreOffice (scripts/install-libreoffice) "
            "puis relancez la démonstration sur une base vide."
        )
    else:
        context.lines.append(f"  {pdfs} PDF scellés produits (mandats et attestations d'annulation).")


async def _mandate(
    rt: Runtime,
    context: DemoContext,
    state: str,
    resident_id: int,
    structure_id: int,
    aidant: int,
    scopes: tuple[str, ...],
    duration: int,
    starts: date,
    n: int,
) -> dict[str, Any]:
    """One mandate row in its state (documents come after, all at once)."""
    created = datetime.combine(starts, datetime.min.time(), PARIS) + timedelta(hours=10)
    finished = state not in ("draft", "signed")
    async with write_transaction():
        mandate = Mandate(
            public_code=secrets.token_urlsafe(18),
            structure=structure_id,
            resident=resident_id,
            created_by=aidant,
            duration_days=duration,
            starts_on=starts,
            ends_on=end_date(starts, duration),
            status="draft" if state == "draft" else "signed",
            no_legal_protection=True,
            place="Montclair-sur-Loire",
            template_kind="mandat",
            created_at=created,
            updated_at=created,
            resident_signature=demo_signature(n) if state != "draft" else None,
            aidant_signature=demo_signature(1000 + n) if state != "draft" else None,
            signing_mode="screen" if state != "draft" else "",
            signed_at=created if state != "draft" else None,
        )
        await mandate.save()
        mandate_id = int(mandate.id)
        number = f"M-{starts.year}-{mandate_id:05d}"
        await Mandate.update({Mandate.number: number}).where(Mandate.id == mandate_id)
        await MandateScope.insert(*[MandateScope(mandate=mandate_id, scope=code) for code in scopes])
        await MandateEvent.insert(
            MandateEvent(
                mandate=mandate_id, at=created, actor_user=aidant, action="create", details={"scopes": list(scopes)}
            )
        )
    journal_later(context, created, Act("mandate_drafted", aidant, structure_id, "mandate", mandate_id))
    if state != "draft":
        signed = created + timedelta(minutes=25)
        journal_later(context, signed, Act("mandate_signed", aidant, structure_id, "mandate", mandate_id))
        if finished:
            journal_later(context, signed, Act("mandate_finalised", aidant, structure_id, "mandate", mandate_id))
    return {"id": mandate_id, "state": state, "finished": finished, "created": created, "scopes": scopes}


async def _documents(rt: Runtime, made: list[dict[str, Any]]) -> tuple[int, int]:
    """Seal each finished mandate (and its revocation) through the real pipeline; returns (made, not made).
    A few at once: one document renders in a worker thread while LibreOffice converts another."""
    from hub.mandates import documents

    template = documents.current_template("mandat")
    await Mandate.update({Mandate.template_version: template.version, Mandate.template_sha256: template.sha256}).where(
        Mandate.id.is_in([item["id"] for item in made])
    )
    slots = asyncio.Semaphore(3)

    async def one(item: dict[str, Any]) -> tuple[int, int]:
        async with slots:
            return await _finish(rt, item)

    counts = await asyncio.gather(*(one(item) for item in made if item["finished"]))
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


async def _finish(rt: Runtime, item: dict[str, Any]) -> tuple[int, int]:
    """One finished mandate: its sealed PDF, its state, and its revocation when it has one."""
    pdfs = missing = 0
    row = await Mandate.select().where(Mandate.id == item["id"]).first()
    assert row is not None
    facts = await finalise.mandate_facts(rt, row, draft=False, signed_on=row["starts_on"])
    sealed: bytes | None = None
    try:
        sealed = await finalise.sealed_mandate(rt, row, facts)
        pdfs += 1
    except (DocumentsUnavailable, SealUnavailable):
        missing += 1
    values: dict[Any, Any] = {
        Mandate.status: "active",
        Mandate.finalised_at: item["created"],
        Mandate.fingerprint: finalise.fingerprint(facts, row["template_sha256"], ""),
        Mandate.sealed_pdf: sealed,
        Mandate.sealed_sha256: hashlib.sha256(sealed).hexdigest() if sealed else "",
    }
    await Mandate.update(values).where(Mandate.id == item["id"])
    await MandateEvent.insert(MandateEvent(mandate=item["id"], at=item["created"], action="finalise"))
    if item["state"] == "expired":
        await Mandate.update({Mandate.status: "expired", Mandate.expired_at: rt.now()}).where(Mandate.id == item["id"])
    elif item["state"] in ("revoked", "partly"):
        revoked = list(item["scopes"]) if item["state"] == "revoked" else list(item["scopes"][-1:])
        remaining = [code for code in item["scopes"] if code not in revoked]
        on = rt.today() - timedelta(days=5)
        number = f"R-{on.year}-{item['id']:05d}-1"
        attestation: bytes | None = None
        try:
            attestation = await finalise.sealed_revocation(rt, row, number, revoked, remaining, on)
            pdfs += 1
        except (DocumentsUnavailable, SealUnavailable):
            missing += 1
        at = datetime.combine(on, datetime.min.time(), PARIS) + timedelta(hours=15)
        revocation = Revocation(
            mandate=item["id"],
            number=number,
            public_code=secrets.token_urlsafe(18),
            scopes=revoked,
            whole=not remaining,
            created_by=row["created_by"],
            created_at=at,
            sealed_pdf=attestation,
            sealed_sha256=hashlib.sha256(attestation).hexdigest() if attestation else "",
        )
        await revocation.save()
        await MandateScope.update(
            {MandateScope.status: "revoked", MandateScope.revoked_at: at, MandateScope.revocation: revocation.id}
        ).where((MandateScope.mandate == item["id"]) & MandateScope.scope.is_in(revoked))
        await MandateEvent.insert(
            MandateEvent(
                mandate=item["id"], at=at, actor_user=row["created_by"], action="revoke", details={"scopes": revoked}
            )
        )
        if not remaining:
            await Mandate.update({Mandate.status: "revoked", Mandate.revoked_at: at}).where(Mandate.id == item["id"])
    return pdfs, missing
