"""Single-use links sent by e-mail: invitations to join a structure, password resets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub import journal, mail
from hub.accounts import (
    BAD_CREDENTIALS,
    ROLE_LABELS,
    Actor,
    check_password,
    check_role,
    clean_email,
    clean_name,
)
from hub.db import write_transaction
from hub.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.security import (
    new_token,
    token_hash,
)
from hub.tables import (
    AccessLink,
    LoginFailure,
    Membership,
    Structure,
    User,
    WebSession,
)

RESETS_PER_HOUR = 3


# ---------------------------------------------------------------- single-use links
async def _new_link(rt: Runtime, ttl: timedelta, **fields: Any) -> tuple[str, AccessLink]:
    token = new_token()
    link = AccessLink(token_hash=token_hash(token), created_at=rt.now(), expires_at=rt.now() + ttl, **fields)
    await link.save()
    return token, link


async def peek_link(rt: Runtime, token: str, purpose: str) -> dict[str, Any]:
    link = (
        await AccessLink.select()
        .where((AccessLink.token_hash == token_hash(token)) & (AccessLink.purpose == purpose))
        .first()
    )
    if link is None or link["used_at"] is not None:
        raise Gone("Ce lien a déjà servi ou n'existe pas. Demandez-en un nouveau.")
    if link["expires_at"] < rt.now():
        raise Gone("Ce lien a expiré. Demandez-en un nouveau.")
    return link


async def _spend_link(rt: Runtime, link_id: int) -> None:
    spent = (
        await AccessLink.update({AccessLink.used_at: rt.now()})
        .where((AccessLink.id == link_id) & AccessLink.used_at.is_null())
        .returning(AccessLink.id)
    )
    if not spent:
        raise Gone("Ce lien a déjà servi. Demandez-en un nouveau.")


async def invite(rt: Runtime, actor: Actor, structure_id: int, email: str, role: str) -> int:
    """A structure manager (or the coordinator) invites someone into the structure with a role."""
    email, role = clean_email(email), check_role(role)
    structure = (
        await Structure.select(Structure.id, Structure.name, Structure.status)
        .where(Structure.id == structure_id)
        .first()
    )
    if structure is None:
        raise NotFound("Structure introuvable.")
    if not (actor.oversees_network or actor.has_role(structure_id, "manager")):
        raise Forbidden("Seul un référent de la structure ou le coordinateur peut inviter.")
    if structure["status"] != "active":
        raise Conflict("Cette structure est fermée.")
    existing = await User.select(User.id).where(User.email == email).first()
    if existing and await Membership.exists().where(
        (Membership.user == existing["id"]) & (Membership.structure == structure_id) & (Membership.role == role)
    ):
        raise Conflict(
            "Cette personne a déjà ce rôle dans la structure.", {"email": "Cette personne a déjà ce rôle ici."}
        )
    async with write_transaction():
        await AccessLink.delete().where(
            (AccessLink.purpose == "invitation")
            & (AccessLink.email == email)
            & (AccessLink.structure == structure_id)
            & (AccessLink.role == role)
            & AccessLink.used_at.is_null()
        )
        token, link = await _new_link(
            rt,
            timedelta(days=rt.settings.invitation_days),
            purpose="invitation",
            email=email,
            structure=structure_id,
            role=role,
            invited_by=actor.user_id,
        )
        await mail.enqueue(
            rt,
            to=email,
            template="invitation",
            context={
                "token": token,
                "structure": structure["name"],
                "role": ROLE_LABELS[role],
                "inviter": actor.full_name,
                "days": rt.settings.invitation_days,
            },
        )
        await journal.append(
            rt,
            Act("invitation_sent", actor.user_id, structure_id, "invitation", link.id, {"role": role}),
        )
    return int(link.id)


async def invitation_summary(rt: Runtime, token: str) -> dict[str, Any]:
    link = await peek_link(rt, token, "invitation")
    structure = await Structure.select(Structure.name).where(Structure.id == link["structure"]).first()
    has_account = await User.exists().where(User.email == link["email"])
    return {
        "email": link["email"],
        "structure": structure["name"] if structure else "",
        "role": ROLE_LABELS.get(link["role"], link["role"]),
        "has_account": has_account,
    }


async def accept_invitation(rt: Runtime, token: str, full_name: str, password: str) -> int:
    """New people create their account; people who have one confirm with their password."""
    link = await peek_link(rt, token, "invitation")
    user = await User.select().where(User.email == link["email"]).first()
    if user is not None and not rt.secrets.verify_password(user["password_hash"], password):
        raise Invalid(BAD_CREDENTIALS, {"password": "Mot de passe incorrect pour ce compte."})
    if user is None:
        full_name = clean_name(full_name)
        check_password(password, link["email"])
    async with write_transaction():
        await _spend_link(rt, link["id"])
        if user is None:
            new_user = User(
                email=link["email"],
                full_name=full_name,
                password_hash=rt.secrets.hash_password(password),
                created_at=rt.now(),
            )
            await new_user.save()
            user_id = int(new_user.id)
            await journal.append(rt, Act("user_created", link["invited_by"], link["structure"], "user", user_id))
        else:
            user_id = user["id"]
        if not await Membership.exists().where(
            (Membership.user == user_id)
            & (Membership.structure == link["structure"])
            & (Membership.role == link["role"])
        ):
            membership = Membership(user=user_id, structure=link["structure"], role=link["role"], created_at=rt.now())
            await membership.save()
            await journal.append(
                rt,
                Act(
                    "role_granted",
                    link["invited_by"],
                    link["structure"],
                    "membership",
                    membership.id,
                    {"role": link["role"], "user": user_id},
                ),
            )
    rt.callers.invalidate()
    return user_id


async def request_password_reset(rt: Runtime, email: str) -> None:
    """Same answer whether or not the address has an account: no account discovery."""
    email = clean_email(email)
    user = await User.select(User.id, User.is_active).where(User.email == email).first()
    if user is None or not user["is_active"]:
        return
    recent = await AccessLink.count().where(
        (AccessLink.user == user["id"])
        & (AccessLink.purpose == "reset")
        & (AccessLink.created_at > rt.now() - timedelta(hours=1))
    )
    if recent >= RESETS_PER_HOUR:
        return
    async with write_transaction():
        token, _ = await _new_link(
            rt, timedelta(hours=rt.settings.reset_hours), purpose="reset", email=email, user=user["id"]
        )
        await mail.enqueue(
            rt, to=email, template="password_reset", context={"token": token, "hours": rt.settings.reset_hours}
        )


async def complete_password_reset(rt: Runtime, token: str, password: str) -> None:
    link = await peek_link(rt, token, "reset")
    check_password(password, link["email"])
    async with write_transaction():
        await _spend_link(rt, link["id"])
        await User.update({User.password_hash: rt.secrets.hash_password(password)}).where(User.id == link["user"])
        await WebSession.delete().where(WebSession.user == link["user"])
        await LoginFailure.delete().where(LoginFailure.key_hash == rt.secrets.keyed_hash(f"email:{link['email']}"))
        await journal.append(rt, Act("password_reset", link["user"], None, "user", link["user"]))
    rt.callers.invalidate()
