"""A structure's life in the directory: edited, asking to join, approved, closed, confirmed, reminded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec

from hub import accounts, hooks, invitations, journal, mail
from hub.accounts import Actor
from hub.db import retry_on_contention, serialise, write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from hub.journal import Act
from hub.runtime import Runtime
from hub.tables import LoginFailure, Membership
from network import duplicates, forms, locating
from network.module import DirectorySettings
from network.schemas import JoinRequestForm, StructureUpdate
from network.search import index as search_index
from network.service import require_editor, structure_for
from network.tables import Structure


def _columns(command: StructureUpdate) -> dict[Any, Any]:
    """The command's fields by the Structure columns they fill (its field names are the columns')."""
    return {Structure._meta.get_column_by_name(name): value for name, value in msgspec.structs.asdict(command).items()}


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


JOIN_WINDOW = timedelta(hours=1)
JOIN_TOO_MANY = "Trop de demandes ont été envoyées depuis votre connexion. Réessayez dans une heure."
JOIN_ALREADY_PENDING = (
    "Une demande pour cette structure attend déjà la validation du coordinateur du réseau : inutile de la renvoyer."
)


async def _check_join_quota(rt: Runtime, key_hash: str) -> None:
    since = rt.now() - JOIN_WINDOW
    if await LoginFailure.count().where((LoginFailure.key_hash == key_hash) & (LoginFailure.at > since)) >= (
        rt.settings.join_max_per_hour
    ):
        raise TooManyRequests(JOIN_TOO_MANY, retry_after=int(JOIN_WINDOW.total_seconds()))


async def _refuse_identical_pending(values: dict[Any, Any]) -> None:
    name, commune = duplicates.normalise(values[Structure.name]), duplicates.normalise(values[Structure.commune])
    for row in await Structure.select(Structure.name, Structure.commune).where(Structure.status == "pending"):
        if duplicates.normalise(row["name"]) == name and duplicates.normalise(row["commune"]) == commune:
            raise Conflict(JOIN_ALREADY_PENDING, {"name": JOIN_ALREADY_PENDING})


async def request_to_join(rt: Runtime, form: JoinRequestForm, source: str = "") -> int:
    """Anyone may ask for a structure to join; it stays hidden until the coordinator approves it.

    No account is needed, so: `join_max_per_hour` accepted requests per source (the caller's address), a second
    identical pending request refused, look-alikes found before the write transaction (which then lasts
    milliseconds), and a busy database retried, then a 503 (hub.db.retry_on_contention). The position and the
    INSEE code come from the address (network.locating)."""
    values = _columns(await locating.placed(rt, forms.structure_update(form), None, form.address_unfound))
    contact = accounts.clean_email(form.contact_email, field="contact_email")
    quota_key = rt.secrets.keyed_hash(f"join:{source}")
    await _check_join_quota(rt, quota_key)  # a flood is refused before any work
    look_alikes = await duplicates.similar_to({column._meta.name: value for column, value in values.items()})

    async def write() -> int:
        async with write_transaction():
            await serialise("maillage/join")  # one join at a time: the quota and the identical check hold
            await _check_join_quota(rt, quota_key)  # again under the write lock: concurrent requests are counted
            await _refuse_identical_pending(values)
            structure = Structure(status="pending", source="maillage", created_at=rt.now(), updated_at=rt.now())
            for column, value in values.items():
                setattr(structure, column._meta.name, value)
            if not structure.email:
                structure.email = contact
            structure.contact_email = contact  # until the coordinator decides (approve: invited; refuse: mailed)
            await structure.save()
            await LoginFailure.insert(LoginFailure(key_hash=quota_key, at=rt.now()))  # the throttle's table
            await journal.append(rt, Act("structure_join_requested", None, structure.id, "structure", structure.id))
            # the coordinator sees look-alikes before approving
            await duplicates.record_matches(int(structure.id), look_alikes, rt.now())
        return int(structure.id)

    return await retry_on_contention(write)


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
            {
                Structure.status: "active",
                Structure.confirmed_on: rt.today(),
                Structure.updated_at: rt.now(),
                Structure.contact_email: "",
            }
        ).where(Structure.id == structure_id)
        await journal.append(rt, Act("structure_approved", actor.user_id, structure_id, "structure", structure_id))
        await search_index.reindex_structure(structure_id)
        await invitations.invite(rt, actor, structure_id, manager_email, "manager")


REFUSAL_MAX_LENGTH = 2000


async def refuse_join_request(rt: Runtime, actor: Actor, structure_id: int, message: str) -> None:
    """The coordinator says no to a request to join, with a message mailed to whoever asked. The request is
    closed (kept for the journal and the look-alikes) and its contact address forgotten."""
    if not actor.oversees_network:
        raise Forbidden("Réservé au coordinateur du réseau.")
    message = message.strip()
    if not message:
        raise Invalid(
            "Écrivez un message.", {"message": "Expliquez en quelques mots pourquoi la demande n'est pas validée."}
        )
    if len(message) > REFUSAL_MAX_LENGTH:
        raise Invalid(
            "Message trop long.", {"message": f"Le message ne doit pas dépasser {REFUSAL_MAX_LENGTH} caractères."}
        )
    async with write_transaction():
        row = (
            await Structure.select(Structure.status, Structure.name, Structure.contact_email, Structure.email)
            .where(Structure.id == structure_id)
            .first()
        )
        if row is None:
            raise NotFound("Structure introuvable.")
        if row["status"] != "pending":
            raise Conflict("Cette structure n'attend pas de validation.")
        await Structure.update(
            {Structure.status: "closed", Structure.contact_email: "", Structure.updated_at: rt.now()}
        ).where(Structure.id == structure_id)
        recipient = row["contact_email"] or row["email"]
        if recipient:
            await mail.enqueue(
                rt, to=recipient, template="join_refused", context={"structure": row["name"], "message": message}
            )
        await journal.append(
            rt,
            Act(
                "structure_join_refused",
                actor.user_id,
                structure_id,
                "structure",
                structure_id,
                {"mailed": bool(recipient)},
            ),
        )


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
    row = await structure_for(actor, structure_id)
    require_editor(actor, structure_id)
    if row["status"] == "closed":
        raise Conflict("Cette structure est fermée : sa fiche ne se confirme plus.")
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
