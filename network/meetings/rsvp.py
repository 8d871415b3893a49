"""Invitations and their answers: the mail with its .ics and its answer link, the link's single use, the
signed-in page's answer, and the reminder before the day.

How answering works (the rule the pages say):
- each invitation mail carries a link `/reunions/reponse/{token}` that needs no password; the token is stored
  hashed, answers once (yes, no or maybe), and is valid until the end of the event's day;
- the answer can be changed afterwards, until the event's day included, from the "Réunions" page once signed in
  (a second use of the link says so, in French);
- two days before the event (once), everyone invited who has not declined gets a reminder; those who have not
  answered get a fresh link (the previous one no longer answers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub import journal, mail
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Gone, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.security import new_token, token_hash
from hub.tables import Structure
from network.meetings import ics, service
from network.meetings.service import (
    ANSWERS,
    KINDS,
    audience_people,
    day_text,
    event_row,
    full_agenda,
    require_coordinator,
    time_text,
)
from network.meetings.tables import Invitation, MeetingEvent

REMINDER_DAYS = 2


async def _mail_context(rt: Runtime, event: dict[str, Any], token: str | None) -> dict[str, Any]:
    return {
        "kind": KINDS.get(event["kind"], ""),
        "title": event["title"],
        "day": day_text(event["day"]),
        "start": time_text(event["start_time"]),
        "end": time_text(event["end_time"]),
        "place": event["place"],
        "agenda": await full_agenda(rt, event),
        "link": f"/reunions/reponse/{token}" if token else "",
    }


async def invite(rt: Runtime, actor: Actor, event_id: int) -> int:
    """Invite every member of the audience's structures not yet invited: one mail each, with the .ics and a
    single-use answer link. Returns how many were invited (0 when everyone already was)."""
    require_coordinator(actor)
    async with write_transaction():
        event = await event_row(event_id)
        if event["status"] == "cancelled":
            raise Invalid("Cet événement est annulé : personne n'est invité.")
        if event["day"] < rt.today():
            raise Invalid("Cet événement est passé : il n'est plus temps d'inviter.")
        already = {r["user"] for r in await Invitation.select(Invitation.user).where(Invitation.event == event_id)}
        people = [p for p in await audience_people(event) if p["user"] not in already]
        if not people and not already:
            raise Invalid("Personne à inviter : les structures choisies n'ont pas encore de membres.")
        attachment = mail.Attachment(
            ics.FILENAME, ics.CONTENT_TYPE, ics.event_ics(event, rt.settings.base_url, rt.now(), event["agenda"])
        )
        for person in people:
            token = new_token()
            await Invitation(
                event=event_id,
                user=person["user"],
                structure=person["structure"],
                token_hash=token_hash(token),
                created_at=rt.now(),
            ).save()
            await mail.enqueue(
                rt,
                to=person["email"],
                template="meeting_invitation",
                context=await _mail_context(rt, event, token),
                attachments=(attachment,),
            )
        await MeetingEvent.update(
            {MeetingEvent.status: "invited", MeetingEvent.invited_at: event["invited_at"] or rt.now()}
        ).where((MeetingEvent.id == event_id) & (MeetingEvent.status == "planned"))
        await journal.append(
            rt, Act("meetings.invited", actor.user_id, None, "meetings_event", event_id, {"invited": len(people)})
        )
    return len(people)


async def peek(rt: Runtime, token: str) -> dict[str, Any]:
    """The invitation behind a link, with its event; Gone (410, a French page) when used, unknown or expired."""
    row = (
        await Invitation.select(
            Invitation.id,
            Invitation.event,
            Invitation.answer,
            Invitation.token_used_at,
            Invitation.structure.name.as_alias("structure_name"),
        )
        .where(Invitation.token_hash == token_hash(token))
        .first()
    )
    if row is None:
        raise Gone(
            "Ce lien de réponse n'est pas ou plus valable. "
            "Connectez-vous à Maillage : la page Réunions permet de répondre."
        )
    if row["token_used_at"] is not None:
        raise Gone(
            "Ce lien a déjà servi : votre réponse est enregistrée. "
            "Pour la changer, connectez-vous à Maillage, page Réunions, jusqu'au jour de l'événement."
        )
    event = await event_row(row["event"])
    if event["day"] < rt.today() or event["status"] == "cancelled":
        raise Gone("Ce lien a expiré : l'événement est passé ou annulé.")
    return {"invitation": row, "event": event, "agenda": await full_agenda(rt, event)}


async def answer_by_link(rt: Runtime, token: str, answer: str) -> dict[str, Any]:
    """Record the answer and spend the link (once: a second use is refused, the first answer stays)."""
    if answer not in ANSWERS:
        raise Invalid("Réponse inconnue.", {"answer": "Choisissez : oui, non ou peut-être."})
    async with write_transaction():
        found = await peek(rt, token)
        spent = (
            await Invitation.update(
                {Invitation.answer: answer, Invitation.answered_at: rt.now(), Invitation.token_used_at: rt.now()}
            )
            .where((Invitation.id == found["invitation"]["id"]) & Invitation.token_used_at.is_null())
            .returning(Invitation.id)
        )
        if not spent:
            raise Gone("Ce lien a déjà servi : votre réponse est enregistrée.")
        await journal.append(
            rt,
            Act(
                "meetings.answered",
                None,
                None,
                "meetings_invitation",
                found["invitation"]["id"],
                {"answer": answer, "via": "link"},
            ),
        )
    return found


async def answer_signed_in(rt: Runtime, actor: Actor, invitation_id: int, answer: str) -> None:
    """The invitee changes their answer from their page, until the event's day included; 404 for others."""
    if answer not in ANSWERS:
        raise Invalid("Réponse inconnue.", {"answer": "Choisissez : oui, non ou peut-être."})
    async with write_transaction():
        row = (
            await Invitation.select(Invitation.id, Invitation.user, Invitation.event)
            .where(Invitation.id == invitation_id)
            .first()
        )
        if row is None or row["user"] != actor.user_id:
            raise NotFound("Cette invitation n'existe pas.")
        event = await event_row(row["event"])
        if event["day"] < rt.today() or event["status"] == "cancelled":
            raise Invalid("L'événement est passé ou annulé : la réponse ne peut plus changer.")
        await Invitation.update({Invitation.answer: answer, Invitation.answered_at: rt.now()}).where(
            Invitation.id == invitation_id
        )
        await journal.append(
            rt,
            Act(
                "meetings.answered",
                actor.user_id,
                None,
                "meetings_invitation",
                invitation_id,
                {"answer": answer, "via": "page"},
            ),
        )


async def send_reminders(rt: Runtime) -> int:
    """Periodic work: two days before an event (once), remind whoever has not declined. Returns mails queued."""
    today = rt.today()
    due = await MeetingEvent.select().where(
        (MeetingEvent.status == "invited")
        & MeetingEvent.reminded_at.is_null()
        & (MeetingEvent.day >= today)
        & (MeetingEvent.day <= today + dt.timedelta(days=REMINDER_DAYS))
    )
    sent = 0
    for event in due:
        async with write_transaction():
            claimed = (
                await MeetingEvent.update({MeetingEvent.reminded_at: rt.now()})
                .where((MeetingEvent.id == event["id"]) & MeetingEvent.reminded_at.is_null())
                .returning(MeetingEvent.id)
            )
            if not claimed:  # another worker took it
                continue
            sent += await _mail_invitees(rt, event, "meeting_reminder", with_ics=False)
    return sent


async def _mail_invitees(rt: Runtime, event: dict[str, Any], template: str, *, with_ics: bool) -> int:
    """One mail to each invitee who has not declined; those who have not answered get a fresh answer link."""
    attachments: tuple[mail.Attachment, ...] = ()
    if with_ics:
        data = ics.event_ics(event, rt.settings.base_url, rt.now(), event["agenda"])
        attachments = (mail.Attachment(ics.FILENAME, ics.CONTENT_TYPE, data),)
    rows = await Invitation.select(Invitation.id, Invitation.answer, Invitation.user.email.as_alias("email")).where(
        (Invitation.event == event["id"]) & (Invitation.answer != "no")
    )
    for row in rows:
        token = None
        if row["answer"] == "":
            token = new_token()  # a fresh link: the first one's token is not kept, only its hash
            await Invitation.update({Invitation.token_hash: token_hash(token), Invitation.token_used_at: None}).where(
                Invitation.id == row["id"]
            )
        if template == "meeting_reminder":
            await Invitation.update({Invitation.reminded_at: rt.now()}).where(Invitation.id == row["id"])
        context = await _mail_context(rt, event, token)
        context["answer"] = ANSWERS.get(row["answer"], "")
        await mail.enqueue(rt, to=row["email"], template=template, context=context, attachments=attachments)
    return len(rows)


async def update_event(rt: Runtime, actor: Actor, event_id: int, command: service.EventCommand) -> int:
    """Change the event; when its date, times or place change after the invitations left, each invitee who has
    not declined gets the news with the new version of the .ics (same UID, next SEQUENCE). Returns mails queued."""
    async with write_transaction():
        moved = await service.update_event(rt, actor, event_id, command)
        event = await event_row(event_id)
        if not moved or event["invited_at"] is None:
            return 0
        return await _mail_invitees(rt, event, "meeting_update", with_ics=True)


async def structure_name(structure_id: int) -> str:
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    return row["name"] if row else ""
