"""Reading mandates: one mandate as its page shows it, a structure's lists, the operator's list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from hub.accounts import Actor
from hub.errors import Invalid
from hub.mandates.module import MANDATE_ROLES, MandateSettings
from hub.mandates.rules import effective_status, member_structure, missing_conditions, structure_card, visible_mandate
from hub.mandates.schemas import EventView, MandateRow, MandateView, ResidentView, RevocationView, ScopeView
from hub.mandates.tables import Mandate, MandateEvent, MandateScope, Resident, Revocation
from hub.mandates.vocabulary import DURATIONS, MANDATE_STATUSES, SCOPE_BY_CODE, SCOPE_STATUSES
from hub.runtime import Runtime
from hub.tables import User


def resident_view(row: dict[str, Any], live: int = 0) -> ResidentView:
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


async def live_counts(resident_ids: list[int], today: date) -> dict[int, int]:
    if not resident_ids:
        return {}
    rows = await (
        Mandate.select(Mandate.resident, Count(alias="n"))
        .where(Mandate.resident.is_in(resident_ids) & (Mandate.status == "active") & (Mandate.ends_on >= today))
        .group_by(Mandate.resident)
    )
    return {row["resident"]: row["n"] for row in rows}


# ---------------------------------------------------------------- reading
EVENT_LABELS = {
    "create": "Projet de mandat créé",
    "renew": "Projet de renouvellement créé",
    "sign": "Signé sur l'écran",
    "scan": "Signé sur papier, scan joint",
    "finalise": "Mandat finalisé et scellé",
    "revoke": "Démarches arrêtées",
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
            Revocation.note,
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
    if row["sealed_sha256"]:
        documents.append("mandat.pdf")
    if row["scan_sha256"]:
        documents.append("scan")
    if status in ("active", "expired") and row["sealed_sha256"]:
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
        resident=resident_view(resident) if resident else ResidentView(0, row["structure"], "", "", None, "", ""),
        duration_days=row["duration_days"],
        duration_label=DURATIONS.get(row["duration_days"], f"{row['duration_days']} jours"),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        days_left=(row["ends_on"] - today).days,
        no_legal_protection=row["no_legal_protection"],
        place=row["place"],
        signing_mode=row["signing_mode"],
        has_signatures=row["signing_mode"] == "screen",
        has_scan=bool(row["scan_sha256"]),
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
                note=r["note"],
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
