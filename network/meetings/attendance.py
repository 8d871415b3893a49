"""Who came: the coordinator's checklist on the day, and the attendance sheet to print and sign (DOCX and PDF).

The sheet's template is templates/reports/attendance.docx, built by scripts/make-report-templates (FALC-friendly:
Liberation Sans 14 pt, dates and times written out); it lists every invited person by structure, with their answer
and an empty box to sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Response

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.documents import render_docx
from hub.errors import Invalid
from hub.journal import Act
from hub.runtime import Runtime
from hub.settings import PROJECT_ROOT
from network.meetings.rsvp import day_text, time_text
from network.meetings.service import ANSWERS, KINDS, event_row, full_agenda, require_coordinator
from network.meetings.tables import Attendance, Invitation, MeetingEvent

TEMPLATE = PROJECT_ROOT / "templates" / "reports" / "attendance.docx"
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


async def record(rt: Runtime, actor: Actor, event_id: int, present_user_ids: Sequence[int]) -> int:
    """The coordinator ticks who came (the whole list at once: unticked means absent). From the day on."""
    require_coordinator(actor)
    async with write_transaction():
        event = await event_row(event_id)
        if event["day"] > rt.today():
            raise Invalid("La présence se note le jour de l'événement, ou après.", {"present": "Pas avant le jour."})
        if event["status"] == "cancelled":
            raise Invalid("Cet événement est annulé.")
        invited = {
            r["user"]: r["structure"]
            for r in await Invitation.select(Invitation.user, Invitation.structure).where(Invitation.event == event_id)
        }
        unknown = [uid for uid in present_user_ids if uid not in invited]
        if unknown:
            raise Invalid("Personne inconnue.", {"present": "Cochez seulement des personnes invitées."})
        await Attendance.delete().where(Attendance.event == event_id)
        wanted = sorted(set(present_user_ids))
        if wanted:
            await Attendance.insert(
                *[Attendance(event=event_id, user=uid, structure=invited[uid], recorded_at=rt.now()) for uid in wanted]
            )
        await MeetingEvent.update({MeetingEvent.status: "held", MeetingEvent.updated_at: rt.now()}).where(
            MeetingEvent.id == event_id
        )
        await journal.append(
            rt, Act("meetings.attendance", actor.user_id, None, "meetings_event", event_id, {"present": len(wanted)})
        )
    return len(wanted)


async def sheet_context(rt: Runtime, event_id: int) -> dict[str, Any]:
    """What the sheet prints: the event written out, its agenda, and the invited people by structure."""
    event = await event_row(event_id)
    rows = await Invitation.select(
        Invitation.answer,
        Invitation.user.full_name.as_alias("name"),
        Invitation.structure.name.as_alias("structure"),
    ).where(Invitation.event == event_id)
    rows.sort(key=lambda r: (r["structure"], r["name"]))
    return {
        "kind": KINDS.get(event["kind"], ""),
        "title": event["title"],
        "day": day_text(event["day"]),
        "start": time_text(event["start_time"]),
        "end": time_text(event["end_time"]),
        "place": event["place"],
        "agenda": await full_agenda(rt, event),
        "people": [
            {"name": r["name"], "structure": r["structure"], "answer": ANSWERS.get(r["answer"], "Pas de réponse")}
            for r in rows
        ],
        "count": len(rows),
    }


async def sheet_docx(rt: Runtime, actor: Actor, event_id: int) -> bytes:
    require_coordinator(actor)
    return render_docx(TEMPLATE, await sheet_context(rt, event_id))


async def sheet_pdf(rt: Runtime, actor: Actor, event_id: int) -> bytes:
    return await rt.documents.to_pdf(await sheet_docx(rt, actor, event_id))


async def download(rt: Runtime, actor: Actor, event_id: int, kind: str) -> Response[bytes]:
    """The sheet as an attachment, never kept by a cache (it names people)."""
    content = await (sheet_pdf if kind == "pdf" else sheet_docx)(rt, actor, event_id)
    return Response(
        content,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="feuille-de-presence-{event_id}.{kind}"',
            "Cache-Control": "no-store",
        },
    )
