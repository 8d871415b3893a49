"""A structure's life in the directory: edited, asking to join, approved, closed, confirmed, reminded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec

from hub import accounts, hooks, invitations, journal, mail
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.tables import Membership
from network import duplicates, forms
from network.module import DirectorySettings
from network.schemas import JoinRequestForm, StructureForm, StructureUpdate
from network.search import index as search_index
from network.service import require_editor, structure_for
from network.tables import Structure


def _columns(command: StructureUpdate) -> dict[Any, Any]:
    """The command's fields by the Structure columns they fill (its field names are the columns')."""
    return {Structure._meta.get_column_by_name(name): value for name, value in msgspec.structs.asdict(command).items()}


def _structure_values(form: StructureForm) -> dict[Any, Any]:
    """The structure's posted fields (here a request to join's), checked, by column."""
    return _columns(forms.structure_update(form))


async def update_structure(rt: Runtime, actor: Actor, structure_id: int, command: StructureUpdate) -> None:
    """The manager's (or the coordinator's) new entry; saving it also confirms it."""
    await structure_for(actor, structure_id)
    require_editor(actor, structure_id)
    values = _columns(command)
    async with write_transaction():
        await Structure.update({**values, Structure.updated_at: rt.now(), Structure.confirmed_on: rt.today()}).where(
            Structure.id == structure_id
        )
        await journal.append(rt, Act("structure_updated", actor.user_id, structure_id, "structure", structure_id))
        await search_index.reindex_structure(structure_id)
        await duplicates.flag_duplicates(rt, [structure_id])


async def request_to_join(rt: Runtime, form: JoinRequestForm) -> int:
    """Anyone may ask for a structure to join; it stays hidden until the coordinator approves it."""
    values = _structure_values(form)
    contact = accounts.clean_email(form.contact_email, field="contact_email")
    async with write_transaction():
        structure = Structure(status="pending", source="maillage", created_at=rt.now(), updated_at=rt.now())
        for column, value in values.items():
            setattr(structure, column._meta.name, value)
        if not structure.email:
            structure.email = contact
        await structure.save()
        await journal.append(rt, Act("structure_join_requested", None, structure.id, "structure", structure.id))
        await duplicates.flag_duplicates(rt, [int(structure.id)])  # the coordinator sees look-alikes before approving
    return int(structure.id)


async def approve_structure(rt: Runtime, actor: Actor, structure_id: int, manager_email: str) -> None:
    """The coordinator lets a structure in and invites its first manager."""
    if not actor.oversees_network:
        raise Forbidden("Réservé au coordinateur du réseau.")
    async with write_transaction():
        row = await Structure.select(Structure.status).where(Structure.id == structure_id).first()
        if row is None:
            raise NotFound("Structure introuvable.")
        if row["status"] != "pending":
            raise Conflict("Cette structure n'attend pas de validation.")
        await Structure.update(
            {Structure.status: "active", Structure.confirmed_on: rt.today(), Structure.updated_at: rt.now()}
        ).where(Structure.id == structure_id)
        await journal.append(rt, Act("structure_approved", actor.user_id, structure_id, "structure", structure_id))
        await search_index.reindex_structure(structure_id)
        await invitations.invite(rt, actor, structure_id, manager_email, "manager")


async def close_structure(rt: Runtime, actor: Actor, structure_id: int) -> None:
    if not actor.oversees_network:
        raise Forbidden("Réservé au coordinateur du réseau.")
    async with write_transaction():
        row = await Structure.select(Structure.status).where(Structure.id == structure_id).first()
        if row is None:
            raise NotFound("Structure introuvable.")
        if row["status"] == "closed":
            raise Conflict("Cette structure est déjà fermée.")
        await Structure.update({Structure.status: "closed", Structure.updated_at: rt.now()}).where(
            Structure.id == structure_id
        )
        await journal.append(rt, Act("structure_closed", actor.user_id, structure_id, "structure", structure_id))
        await hooks.announce(rt, hooks.StructureClosed(structure_id=structure_id))
        await search_index.reindex_structure(structure_id)  # triggers dropped its services; this tells the caches


async def confirm_structure(rt: Runtime, actor: Actor, structure_id: int) -> date:
    """ "Tout est encore juste": the manager vouches for the entry as it stands."""
    await structure_for(actor, structure_id)
    require_editor(actor, structure_id)
    today = rt.today()
    async with write_transaction():
        await Structure.update({Structure.confirmed_on: today}).where(Structure.id == structure_id)
        await journal.append(rt, Act("structure_confirmed", actor.user_id, structure_id, "structure", structure_id))
    return today


REMIND_AGAIN_AFTER = timedelta(days=30)


async def remind_stale_entries(rt: Runtime) -> int:
    """Ask the managers of entries unconfirmed for `confirm_months` to check them; at most once a month each."""
    today = rt.today()
    months = rt.settings.section(DirectorySettings).confirm_months
    stale_before = today - timedelta(days=round(30.44 * months))
    due = await Structure.select(Structure.id, Structure.name).where(
        (Structure.status == "active")
        & (Structure.confirmed_on.is_null() | (Structure.confirmed_on < stale_before))
        & (Structure.reminded_on.is_null() | (Structure.reminded_on < today - REMIND_AGAIN_AFTER))
    )
    sent = 0
    for structure in due:
        managers = await Membership.select(Membership.user.email.as_alias("email")).where(
            (Membership.structure == structure["id"])
            & (Membership.role == "manager")
            & (Membership.user.is_active == True)  # noqa: E712
        )
        async with write_transaction():
            for manager in managers:
                await mail.enqueue(
                    rt,
                    to=manager["email"],
                    template="confirm_entry",
                    context={
                        "structure": structure["name"],
                        "structure_id": structure["id"],
                        "months": months,
                    },
                )
            # Entries without a manager are marked too: the coordinator sees them as "Ancienne" in the directory.
            await Structure.update({Structure.reminded_on: today}).where(Structure.id == structure["id"])
        sent += len(managers)
    return sent
