"""Who may act as an aidant: the structure manager's habilitations, the charter (charte de l'aidant) in its
current version, where the caller may act (and why not), and what follows a structure's merge."""

from __future__ import annotations

from typing import Any

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, NotFound
from hub.journal import Act
from hub.mandates.module import MANDATE_ROLES
from hub.mandates.rules import current_charter_version
from hub.mandates.schemas import AidantContext
from hub.mandates.tables import CharterAcceptance, Habilitation, Mandate, Resident, TemplateVariant
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
