"""A structure's life in the directory: edited, asking to join, approved, closed, confirmed, reminded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hub import accounts, invitations, journal, mail
from hub.accounts import Actor
from hub.db import retry_on_contention, serialise, write_transaction
from hub.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from hub.journal import Act
from hub.runtime import Runtime
from hub.tables import LoginFailure, Membership
from network import duplicates, validation
from network.schemas import JoinRequestForm, StructureForm
from network.search import index as search_index
from network.service import require_editor, structure_for
from network.tables import STRUCTURE_KINDS, Structure


def _structure_values(form: StructureForm) -> dict[Any, Any]:
    name = " ".join(form.name.split())
    errors: dict[str, str] = {}
    if not 3 <= len(name) <= 150:
        errors["name"] = "Le nom compte entre 3 et 150 caractères."
    if form.kind not in STRUCTURE_KINDS:
        errors["kind"] = "Choisissez un type de structure dans la liste."
    if not form.commune.strip():
        errors["commune"] = "Indiquez la commune."
    try:
        validation.check(
            {
                "siret": form.siret,
                "postal_code": form.postal_code,
                "insee_code": form.insee_code,
                "latitude": form.latitude,
                "longitude": form.longitude,
                "phone": form.phone,
                "email": form.email,
                "website": form.website,
                "accessibility_url": form.accessibility_url,
                "opening_hours": form.opening_hours,
            }
        )
    except Invalid as error:
        errors.update(error.fields)
    if bool(form.latitude.strip()) != bool(form.longitude.strip()):
        errors["longitude"] = "Indiquez la latitude et la longitude ensemble."
    if errors:
        raise Invalid("Certains champs sont invalides.", errors)
    return {
        Structure.name: name,
        Structure.kind: form.kind,
        Structure.siret: form.siret.replace(" ", ""),
        Structure.address: form.address.strip(),
        Structure.address_extra: form.address_extra.strip(),
        Structure.postal_code: form.postal_code.strip(),
        Structure.commune: form.commune.strip(),
        Structure.insee_code: form.insee_code.strip(),
        Structure.neighbourhood: form.neighbourhood.strip(),
        Structure.latitude: float(form.latitude) if form.latitude.strip() else None,
        Structure.longitude: float(form.longitude) if form.longitude.strip() else None,
        Structure.phone: validation.french_phone(form.phone) or "",
        Structure.email: form.email.strip().lower(),
        Structure.website: form.website.strip(),
        Structure.opening_hours: form.opening_hours.strip(),
        Structure.accessibility_url: form.accessibility_url.strip(),
        Structure.description: form.description.strip(),
    }


async def update_structure(rt: Runtime, actor: Actor, structure_id: int, form: StructureForm) -> None:
    await structure_for(actor, structure_id)
    require_editor(actor, structure_id)
    values = _structure_values(form)
    async with write_transaction():
        await Structure.update(
            {**values, Structure.updated_at: rt.now(), Structure.confirmed_on: rt.now().date()}
        ).where(Structure.id == structure_id)
        await journal.append(
            rt.secrets.journal_key, Act("structure_updated", actor.user_id, structure_id, "structure", structure_id)
        )
        await search_index.reindex_structure(structure_id)
        await duplicates.flag_duplicates([structure_id])


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
    milliseconds), and a busy database retried, then a 503 (hub.db.retry_on_contention)."""
    values = _structure_values(form)
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
            await structure.save()
            await LoginFailure.insert(LoginFailure(key_hash=quota_key, at=rt.now()))  # the throttle's table
            await journal.append(
                rt.secrets.journal_key, Act("structure_join_requested", None, structure.id, "structure", structure.id)
            )
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
            {Structure.status: "active", Structure.confirmed_on: rt.now().date(), Structure.updated_at: rt.now()}
        ).where(Structure.id == structure_id)
        await journal.append(
            rt.secrets.journal_key, Act("structure_approved", actor.user_id, structure_id, "structure", structure_id)
        )
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
        await journal.append(
            rt.secrets.journal_key, Act("structure_closed", actor.user_id, structure_id, "structure", structure_id)
        )
        await search_index.reindex_structure(structure_id)  # triggers dropped its services; this tells the caches


async def confirm_structure(rt: Runtime, actor: Actor, structure_id: int) -> date:
    """ "Tout est encore juste": the manager vouches for the entry as it stands."""
    await structure_for(actor, structure_id)
    require_editor(actor, structure_id)
    today = rt.now().date()
    async with write_transaction():
        await Structure.update({Structure.confirmed_on: today}).where(Structure.id == structure_id)
        await journal.append(
            rt.secrets.journal_key, Act("structure_confirmed", actor.user_id, structure_id, "structure", structure_id)
        )
    return today


REMIND_AGAIN_AFTER = timedelta(days=30)


async def remind_stale_entries(rt: Runtime) -> int:
    """Ask the managers of entries unconfirmed for `confirm_months` to check them; at most once a month each."""
    today = rt.now().date()
    stale_before = today - timedelta(days=round(30.44 * rt.settings.confirm_months))
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
                        "months": rt.settings.confirm_months,
                    },
                )
            # Entries without a manager are marked too: the coordinator sees them as "Ancienne" in the directory.
            await Structure.update({Structure.reminded_on: today}).where(Structure.id == structure["id"])
        sent += len(managers)
    return sent
