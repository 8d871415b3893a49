"""Single-use links sent by e-mail: invitations to join a structure, password resets."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from hub import journal, mail, sessions, throttle
from hub.accounts import (
    BAD_CREDENTIALS,
    MFA_ROLES,
    ROLE_LABELS,
    Actor,
    check_password,
    check_role,
    clean_email,
    clean_name,
    revoke_tokens_without_second_factor,
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
    Membership,
    Structure,
    User,
    WebSession,
)
from hub.web import date_fr

RESETS_PER_HOUR = 3
log = logging.getLogger("maillage.invitations")


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
        pending = await _pending_query(rt, structure_id).where(AccessLink.email == email).first()
        if pending is not None:
            message = already_invited_message(pending)
            raise Conflict(message, {"email": message})
        await AccessLink.delete().where(  # expired ones: the new link replaces them
            (AccessLink.purpose == "invitation")
            & (AccessLink.email == email)
            & (AccessLink.structure == structure_id)
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


def _pending_query(rt: Runtime, structure_id: int) -> Any:
    return AccessLink.select(
        AccessLink.id,
        AccessLink.email,
        AccessLink.role,
        AccessLink.created_at,
        AccessLink.expires_at,
        AccessLink.invited_by.full_name.as_alias("inviter"),
    ).where(
        (AccessLink.purpose == "invitation")
        & (AccessLink.structure == structure_id)
        & AccessLink.used_at.is_null()
        & (AccessLink.expires_at > rt.now())
    )


def already_invited_message(pending: dict[str, Any]) -> str:
    sent = date_fr(pending["created_at"], False)
    return (
        f"Une invitation attend déjà une réponse à cette adresse (envoyée le {sent}). "
        "Renvoyez-la depuis la liste des invitations en attente, ou annulez-la pour en envoyer une autre."
    )


def _require_manager(actor: Actor, structure_id: int) -> None:
    if not (actor.oversees_network or actor.has_role(structure_id, "manager")):
        raise Forbidden("Seul un référent de la structure ou le coordinateur gère ses invitations.")


async def pending_invitations(rt: Runtime, actor: Actor, structure_id: int) -> list[dict[str, Any]]:
    """Invitations of the structure still waiting for an answer: address, role, date, who sent them."""
    _require_manager(actor, structure_id)
    return await _pending_query(rt, structure_id).order_by(AccessLink.created_at, ascending=False)


async def _pending_link(rt: Runtime, structure_id: int, invitation_id: int) -> dict[str, Any]:
    link = await _pending_query(rt, structure_id).where(AccessLink.id == invitation_id).first()
    if link is None:
        raise NotFound("Cette invitation n'attend plus de réponse : elle a servi, expiré ou été annulée.")
    return dict(link)


async def resend_invitation(rt: Runtime, actor: Actor, structure_id: int, invitation_id: int) -> None:
    """Send the invitation again with a new link (the old one stops working) valid for the full delay again."""
    _require_manager(actor, structure_id)
    async with write_transaction():
        link = await _pending_link(rt, structure_id, invitation_id)
        structure = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
        token = new_token()
        await AccessLink.update(
            {
                AccessLink.token_hash: token_hash(token),
                AccessLink.created_at: rt.now(),
                AccessLink.expires_at: rt.now() + timedelta(days=rt.settings.invitation_days),
                AccessLink.invited_by: actor.user_id,
            }
        ).where(AccessLink.id == invitation_id)
        await mail.enqueue(
            rt,
            to=link["email"],
            template="invitation",
            context={
                "token": token,
                "structure": structure["name"] if structure else "",
                "role": ROLE_LABELS.get(link["role"], link["role"]),
                "inviter": actor.full_name,
                "days": rt.settings.invitation_days,
            },
        )
        await journal.append(
            rt,
            Act("invitation_resent", actor.user_id, structure_id, "invitation", invitation_id, {"role": link["role"]}),
        )


async def revoke_invitation(rt: Runtime, actor: Actor, structure_id: int, invitation_id: int) -> None:
    """Cancel a pending invitation: its link stops working."""
    _require_manager(actor, structure_id)
    async with write_transaction():
        link = await _pending_link(rt, structure_id, invitation_id)
        await AccessLink.delete().where(AccessLink.id == invitation_id)
        await journal.append(
            rt,
            Act("invitation_revoked", actor.user_id, structure_id, "invitation", invitation_id, {"role": link["role"]}),
        )


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


async def accept_invitation(
    rt: Runtime, token: str, full_name: str, password: str, source: str, device_cookie: str = ""
) -> tuple[int, int]:
    """New people create their account; people who have one confirm with their password (throttled as a
    sign-in is). Returns the user's id and how many of their API tokens the new role revoked."""
    link = await peek_link(rt, token, "invitation")
    user = await User.select().where(User.email == link["email"]).first()
    password_hash = ""
    if user is not None:
        if await sessions.check_account_password(rt, link["email"], password, source, device_cookie) is None:
            raise Invalid(BAD_CREDENTIALS, {"password": "Mot de passe incorrect pour ce compte."})
    else:
        full_name = clean_name(full_name)
        check_password(password, link["email"])
        password_hash = await rt.secrets.hash_password_off_loop(password)
    revoked = 0
    async with write_transaction():
        await _spend_link(rt, link["id"])
        if user is None:
            new_user = User(
                email=link["email"],
                full_name=full_name,
                password_hash=password_hash,
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
            if link["role"] in MFA_ROLES:
                revoked = await revoke_tokens_without_second_factor(rt, user_id, link["invited_by"])
    rt.callers.invalidate()
    return user_id, revoked


async def accept_password_reset_request(rt: Runtime, email: str, source: str) -> str:
    """The part of a reset request the answer waits for: the same work whatever the address (its form, a
    throttle per source). Returns the cleaned address for send_password_reset, which the page runs after
    its answer has gone, so no timing tells whether the address has an account."""
    email = clean_email(email)
    await throttle.claim(rt, [throttle.Key(f"reset-source:{source}", rt.settings.login_max_failures * 4)])
    return email


async def send_password_reset(rt: Runtime, email: str) -> None:
    """Mail a reset link when the address has an active account (at most RESETS_PER_HOUR an hour)."""
    try:
        await _send_password_reset(rt, email)
    except Exception:  # after the answer: nobody to show it to, and it must not leak through timing either
        log.exception("password reset mail could not be queued")


async def request_password_reset(rt: Runtime, email: str, source: str = "cli") -> None:
    """Both steps at once (for callers that answer nobody, such as tests and scripts)."""
    await send_password_reset(rt, await accept_password_reset_request(rt, email, source))


async def _send_password_reset(rt: Runtime, email: str) -> None:
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
    password_hash = await rt.secrets.hash_password_off_loop(password)
    async with write_transaction():
        await _spend_link(rt, link["id"])
        await User.update({User.password_hash: password_hash}).where(User.id == link["user"])
        await WebSession.delete().where(WebSession.user == link["user"])
        await throttle.forget_account(rt, link["email"])
        await journal.append(rt, Act("password_reset", link["user"], None, "user", link["user"]))
    rt.callers.invalidate()
