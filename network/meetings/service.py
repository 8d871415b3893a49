"""Network events and what happens around them: creating and inviting (the coordinator), minutes, decisions and
action items (carried over to the next meetings while open), and the meetings' section of the reporting pack.

Rules here, typed commands in, domain errors out (hub.errors); pages and forms are thin (routes.py, forms.py).
Answers to invitations and reminders are in rsvp.py; attendance and its sheet in attendance.py; partner
indicators in indicators.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import msgspec
from piccolo.query.methods.select import Count

from hub import journal, mail
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.reporting import Figure, Indicator, Period, Section, Table, count_text
from hub.runtime import Runtime
from hub.tables import Membership, Structure, User
from network.meetings import indicators
from network.meetings.tables import ActionItem, Attendance, EventStructure, Invitation, MeetingEvent

KINDS = {
    "meeting": "Réunion de réseau",
    "training": "Formation des aidants",
    "working_group": "Groupe de travail",
}
EVENT_STATUSES = {"planned": "Prévu", "invited": "Invitations envoyées", "held": "Tenu", "cancelled": "Annulé"}
STATUSES = {"todo": "À faire", "doing": "En cours", "done": "Fait", "dropped": "Abandonné"}
OPEN_STATUSES = ("todo", "doing")
ANSWERS = {"yes": "Oui", "no": "Non", "maybe": "Peut-être"}
AUDIENCES = {"all": "Toutes les structures membres", "chosen": "Des structures choisies"}
MAX_TITLE = 200
MAX_PLACE = 300
MAX_AGENDA_ITEMS = 30
MAX_AGENDA_LINE = 300
MAX_MINUTES = 50_000  # the minutes' one limit: the page's maxlength says it too
MAX_ACTION_TITLE = 300
MAX_AGENDA_CHARS = MAX_AGENDA_ITEMS * (MAX_AGENDA_LINE + 1)  # the agenda box's maxlength: every point, full
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def day_text(day: dt.date, weekday: bool = True) -> str:
    """ "jeudi 10 décembre 2026"."""
    first = "1er" if day.day == 1 else str(day.day)
    text = f"{first} {MONTHS_FR[day.month - 1]} {day.year}"
    return f"{WEEKDAYS_FR[day.weekday()]} {text}" if weekday else text


def time_text(value: str) -> str:
    """ "14:00" -> "14 h", "16:30" -> "16 h 30"."""
    hours, minutes = value.split(":")
    return f"{int(hours)} h" + ("" if minutes == "00" else f" {minutes}")


# ---------------------------------------------------------------- commands
class EventCommand(msgspec.Struct, frozen=True):
    """An event as the coordinator describes it (create or update)."""

    kind: str
    title: str
    day: dt.date
    start_time: str  # "14:00"
    end_time: str
    place: str
    agenda: tuple[str, ...] = ()
    audience: str = "all"
    structure_ids: tuple[int, ...] = ()  # the chosen structures, when audience is "chosen"


class ActionCommand(msgspec.Struct, frozen=True):
    """A decision (no owner) or an action item taken at an event."""

    kind: str  # decision | action
    title: str
    owner_structure_id: int | None = None
    due_date: dt.date | None = None


# ---------------------------------------------------------------- checks
def require_coordinator(actor: Actor) -> None:
    if not actor.oversees_network:
        raise Forbidden("Réservé au coordinateur du réseau.")


def _time(value: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(value) if len(value) == 5 else None
    except ValueError:
        return None


def check_event(command: EventCommand, today: dt.date) -> None:
    """Every rule of an event at once, in French, beside its field."""
    errors: dict[str, str] = {}
    if command.kind not in KINDS:
        errors["kind"] = "Choisissez le type d'événement dans la liste."
    if not command.title.strip():
        errors["title"] = "Donnez un titre à l'événement."
    elif len(command.title) > MAX_TITLE:
        errors["title"] = f"Le titre doit compter {MAX_TITLE} caractères au plus."
    if command.day < today - dt.timedelta(days=366) or command.day > today + dt.timedelta(days=3 * 366):
        errors["day"] = "Choisissez une date dans les trois ans à venir (ou l'année passée, pour mémoire)."
    start, end = _time(command.start_time), _time(command.end_time)
    if start is None:
        errors["start_time"] = "Heure de début invalide : par exemple 14:00."
    if end is None:
        errors["end_time"] = "Heure de fin invalide : par exemple 16:30."
    if start is not None and end is not None and end <= start:
        errors["end_time"] = "L'heure de fin vient après l'heure de début."
    if not command.place.strip():
        errors["place"] = "Indiquez le lieu : la salle et son adresse."
    elif len(command.place) > MAX_PLACE:
        errors["place"] = f"Le lieu doit compter {MAX_PLACE} caractères au plus."
    long_lines = [n for n, line in enumerate(command.agenda, start=1) if len(line) > MAX_AGENDA_LINE]
    if len(command.agenda) > MAX_AGENDA_ITEMS:
        errors["agenda"] = (
            f"L'ordre du jour compte {count_text(len(command.agenda))} points : {MAX_AGENDA_ITEMS} au plus, "
            f"de {MAX_AGENDA_LINE} caractères au plus chacun."
        )
    elif long_lines:
        errors["agenda"] = (
            f"Le point {long_lines[0]} compte {count_text(len(command.agenda[long_lines[0] - 1]))} caractères : "
            f"{MAX_AGENDA_LINE} au plus par point (un point par ligne)."
        )
    if command.audience not in AUDIENCES:
        errors["audience"] = "Choisissez qui est invité."
    elif command.audience == "chosen" and not command.structure_ids:
        errors["structure_ids"] = "Choisissez au moins une structure, ou invitez toutes les structures membres."
    if errors:
        raise Invalid("Certains champs sont invalides.", errors)


async def _check_structures(ids: Sequence[int]) -> None:
    if not ids:
        return
    found = await Structure.count().where(Structure.id.is_in(list(ids)) & (Structure.status == "active"))
    if found != len(set(ids)):
        raise Invalid("Structure inconnue.", {"structure_ids": "Choisissez des structures actives du réseau."})


async def event_row(event_id: int) -> dict[str, Any]:
    row = await MeetingEvent.select().where(MeetingEvent.id == event_id).first()
    if row is None:
        raise NotFound("Cet événement n'existe pas.")
    return row


# ---------------------------------------------------------------- events
async def create_event(rt: Runtime, actor: Actor, command: EventCommand) -> int:
    """The coordinator creates an event; nothing is sent yet (invite() sends)."""
    require_coordinator(actor)
    check_event(command, rt.today())
    await _check_structures(command.structure_ids)
    async with write_transaction():
        event = MeetingEvent(
            kind=command.kind,
            title=command.title.strip(),
            day=command.day,
            start_time=command.start_time,
            end_time=command.end_time,
            place=command.place.strip(),
            agenda=[line.strip() for line in command.agenda if line.strip()],
            audience=command.audience,
            created_by=actor.user_id,
            created_at=rt.now(),
            updated_at=rt.now(),
        )
        await event.save()
        event_id = int(event.id)
        if command.audience == "chosen":
            await EventStructure.insert(
                *[EventStructure(event=event_id, structure=sid) for sid in sorted(set(command.structure_ids))]
            )
        await journal.append(
            rt, Act("meetings.event_created", actor.user_id, None, "meetings_event", event_id, {"kind": command.kind})
        )
    return event_id


async def update_event(rt: Runtime, actor: Actor, event_id: int, command: EventCommand) -> bool:
    """The coordinator changes an event; a new date, time or place makes a new version of the calendar file
    (True: the invitees must hear of it, see rsvp.update_event)."""
    require_coordinator(actor)
    check_event(command, rt.today())
    await _check_structures(command.structure_ids)
    async with write_transaction():
        event = await event_row(event_id)
        if event["status"] == "cancelled":
            raise Invalid("Cet événement est annulé : il ne peut plus changer.")
        moved = (event["day"], event["start_time"], event["end_time"], event["place"]) != (
            command.day,
            command.start_time,
            command.end_time,
            command.place.strip(),
        )
        await MeetingEvent.update(
            {
                MeetingEvent.kind: command.kind,
                MeetingEvent.title: command.title.strip(),
                MeetingEvent.day: command.day,
                MeetingEvent.start_time: command.start_time,
                MeetingEvent.end_time: command.end_time,
                MeetingEvent.place: command.place.strip(),
                MeetingEvent.agenda: [line.strip() for line in command.agenda if line.strip()],
                MeetingEvent.audience: command.audience,
                MeetingEvent.sequence: event["sequence"] + (1 if moved else 0),
                MeetingEvent.reminded_at: None if moved else event["reminded_at"],
                MeetingEvent.updated_at: rt.now(),
            }
        ).where(MeetingEvent.id == event_id)
        await EventStructure.delete().where(EventStructure.event == event_id)
        if command.audience == "chosen":
            await EventStructure.insert(
                *[EventStructure(event=event_id, structure=sid) for sid in sorted(set(command.structure_ids))]
            )
        await journal.append(rt, Act("meetings.event_updated", actor.user_id, None, "meetings_event", event_id))
    return moved


async def list_events(rt: Runtime) -> list[dict[str, Any]]:
    """Every event, the coming ones first (soonest first), then the past ones (latest first), with counts."""
    rows = await MeetingEvent.select(
        MeetingEvent.id,
        MeetingEvent.kind,
        MeetingEvent.title,
        MeetingEvent.day,
        MeetingEvent.start_time,
        MeetingEvent.status,
    )
    invited = await _counts(Invitation, Invitation.event)
    yes = await _counts(Invitation, Invitation.event, Invitation.answer == "yes")
    present = await _counts(Attendance, Attendance.event)
    today = rt.today()
    for row in rows:
        row.update(invited=invited.get(row["id"], 0), yes=yes.get(row["id"], 0), present=present.get(row["id"], 0))
        row["past"] = row["day"] < today
    coming = sorted((r for r in rows if not r["past"]), key=lambda r: (r["day"], r["start_time"]))
    past = sorted((r for r in rows if r["past"]), key=lambda r: (r["day"], r["start_time"]), reverse=True)
    return coming + past


async def _counts(table: Any, key: Any, where: Any = None) -> dict[int, int]:
    query = table.select(key.as_alias("k"), Count(table.id).as_alias("n")).group_by(key)
    if where is not None:
        query = query.where(where)
    return {row["k"]: row["n"] for row in await query}


async def audience_structures(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's audience: every active structure, or the chosen ones."""
    query = Structure.select(Structure.id, Structure.name).where(Structure.status == "active")
    if event["audience"] == "chosen":
        chosen = await EventStructure.select(EventStructure.structure).where(EventStructure.event == event["id"])
        query = query.where(Structure.id.is_in([row["structure"] for row in chosen] or [0]))
    return sorted(await query, key=lambda row: row["name"])


async def audience_people(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Active members (any role) of the audience's structures, each once, for their first structure by name."""
    structures = await audience_structures(event)
    if not structures:
        return []
    names = {row["id"]: row["name"] for row in structures}
    rows = await Membership.select(
        Membership.user, Membership.structure, Membership.user.email.as_alias("email")
    ).where(Membership.structure.is_in(list(names)) & (Membership.user.is_active == True))  # noqa: E712
    people: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (names[r["structure"]], r["user"])):
        people.setdefault(row["user"], {"user": row["user"], "structure": row["structure"], "email": row["email"]})
    return list(people.values())


async def event_page(rt: Runtime, actor: Actor, event_id: int) -> dict[str, Any]:
    """Everything the coordinator's event page shows."""
    require_coordinator(actor)
    event = await event_row(event_id)
    invitations = await Invitation.select(
        Invitation.id,
        Invitation.user,
        Invitation.structure,
        Invitation.answer,
        Invitation.answered_at,
        Invitation.user.full_name.as_alias("name"),
        Invitation.structure.name.as_alias("structure_name"),
    ).where(Invitation.event == event_id)
    invitations.sort(key=lambda r: (r["structure_name"], r["name"]))
    present = {row["user"] for row in await Attendance.select(Attendance.user).where(Attendance.event == event_id)}
    actions = await actions_of_event(event_id)
    for item in actions:
        item["overdue"] = is_overdue(item, rt.today())
    audience = await audience_structures(event)
    people = await audience_people(event)
    reachable = {p["structure"] for p in people}
    return {
        "event": event,
        "agenda": await full_agenda(rt, event),
        "invitations": invitations,
        "present": present,
        "answer_counts": {key: sum(1 for r in invitations if r["answer"] == key) for key in [*ANSWERS, ""]},
        "actions": actions,
        "audience": audience,
        "audience_text": audience_text(event, audience, reachable, invitations),
        "chosen": await chosen_structure_ids(event_id),
        "not_invited": len(people) - len({r["user"] for r in invitations}),
    }


def _names(names: Sequence[str], most: int = 8) -> str:
    """ "A, B et C"; past `most` names, "A, B… et 5 autres"."""
    shown = list(names[:most])
    if len(names) > most:
        return ", ".join(shown) + f" et {len(names) - most} autres"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " et " + shown[-1]


def audience_text(
    event: dict[str, Any],
    audience: Sequence[dict[str, Any]],
    reachable: set[int],
    invitations: Sequence[dict[str, Any]],
) -> list[str]:
    """Who the event is for, and who is (or will be) invited, in true French sentences: only the members of the
    audience's structures that have an active account on Maillage receive an invitation."""
    n = len(audience)
    if event["audience"] == "all":
        lines = [f"Public : toutes les structures membres du réseau ({n})."]
    elif n:
        lines = [
            f"Public : {n} structure{'s' if n > 1 else ''} choisie{'s' if n > 1 else ''} : "
            f"{_names([s['name'] for s in audience])}."
        ]
    else:
        lines = ["Public : aucune des structures choisies n'est encore active."]
    if invitations:
        structures = sorted({r["structure_name"] for r in invitations})
        people = len({r["user"] for r in invitations})
        lines.append(
            f"Invitations envoyées à {people} personne{'s' if people > 1 else ''} de "
            f"{len(structures)} structure{'s' if len(structures) > 1 else ''} : {_names(structures)}."
        )
    silent = n - len(reachable)
    if n and silent:
        if silent == n:
            lines.append("Aucune de ces structures n'a de compte actif sur Maillage : personne ne peut être invité.")
        else:
            lines.append(
                f"{silent} de ces structures n'ont aucun compte actif sur Maillage : elles ne reçoivent pas d'invitation."
                if silent > 1
                else "1 de ces structures n'a aucun compte actif sur Maillage : elle ne reçoit pas d'invitation."
            )
    return lines


async def chosen_structure_ids(event_id: int) -> list[int]:
    rows = await EventStructure.select(EventStructure.structure).where(EventStructure.event == event_id)
    return [row["structure"] for row in rows]


# ---------------------------------------------------------------- action items, carried over
async def actions_of_event(event_id: int) -> list[dict[str, Any]]:
    rows = await ActionItem.select(
        *ActionItem.all_columns(), ActionItem.owner_structure.name.as_alias("owner_name")
    ).where(ActionItem.event == event_id)
    return sorted(rows, key=lambda r: (r["kind"] != "decision", r["id"]))


async def carried_over(event: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
    """Open action items of earlier events, shown in the agenda of an event still to come (today included)."""
    if event["day"] < today or event["status"] == "cancelled":
        return []
    rows = await ActionItem.select(
        *ActionItem.all_columns(),
        ActionItem.owner_structure.name.as_alias("owner_name"),
        ActionItem.event.title.as_alias("from_title"),
        ActionItem.event.day.as_alias("from_day"),
    ).where(
        (ActionItem.kind == "action")
        & ActionItem.status.is_in(list(OPEN_STATUSES))
        & (ActionItem.event.day < event["day"])
        & (ActionItem.event != event["id"])
    )
    return sorted(rows, key=lambda r: (r["due_date"] or dt.date.max, r["id"]))


async def full_agenda(rt: Runtime, event: dict[str, Any]) -> list[str]:
    """The event's own agenda, then a point for the open action items carried over from earlier events."""
    agenda = list(event["agenda"] if isinstance(event["agenda"], list) else msgspec.json.decode(event["agenda"]))
    carried = await carried_over(event, rt.today())
    if carried:
        agenda.append(f"Suivi des actions encore ouvertes : {len(carried)}")
    return agenda


def check_action(command: ActionCommand, event_day: dt.date | None = None) -> None:
    """Every rule of a decision or an action item at once; its due date, when given, is not before the event's
    day (the day it was decided), when that day is known."""
    errors: dict[str, str] = {}
    if command.kind not in ("decision", "action"):
        errors["kind"] = "Choisissez : décision ou action."
    if not command.title.strip():
        errors["title"] = "Écrivez la décision ou l'action."
    elif len(command.title) > MAX_ACTION_TITLE:
        errors["title"] = f"{MAX_ACTION_TITLE} caractères au plus."
    if command.kind == "action" and command.owner_structure_id is None:
        errors["owner_structure_id"] = "Choisissez la structure qui porte l'action."
    if command.kind == "action" and command.due_date and event_day and command.due_date < event_day:
        errors["due_date"] = (
            f"L'échéance ne peut pas tomber avant l'événement ({day_text(event_day, weekday=False)}) : "
            "choisissez ce jour-là ou un jour suivant."
        )
    if errors:
        raise Invalid("Certains champs sont invalides.", errors)


def is_overdue(item: dict[str, Any], today: dt.date) -> bool:
    """An open action item whose due date has passed."""
    return (
        item["kind"] == "action"
        and item["status"] in OPEN_STATUSES
        and bool(item["due_date"])
        and (item["due_date"] < today)
    )


async def add_action(rt: Runtime, actor: Actor, event_id: int, command: ActionCommand) -> int:
    """The coordinator records a decision or an action item; the owner structure's members get a mail with a
    signed link to update its status."""
    require_coordinator(actor)
    check_action(command)
    async with write_transaction():
        event = await event_row(event_id)
        check_action(command, event["day"])
        owner = None
        if command.kind == "action":
            owner = (
                await Structure.select(Structure.id, Structure.name)
                .where((Structure.id == command.owner_structure_id) & (Structure.status == "active"))
                .first()
            )
            if owner is None:
                raise Invalid("Structure inconnue.", {"owner_structure_id": "Choisissez une structure active."})
        item = ActionItem(
            event=event_id,
            kind=command.kind,
            title=command.title.strip(),
            owner_structure=owner["id"] if owner else None,
            due_date=command.due_date if command.kind == "action" else None,
            status="todo",
            created_at=rt.now(),
            updated_at=rt.now(),
        )
        await item.save()
        action_id = int(item.id)
        if owner is not None:
            for email in await _owner_emails(owner["id"]):
                await mail.enqueue(
                    rt,
                    to=email,
                    template="meeting_action",
                    context={
                        "title": item.title,
                        "structure": owner["name"],
                        "event_title": event["title"],
                        "due": command.due_date,
                        "link": f"/reunions/action/{action_id}/{action_signature(rt, action_id)}",
                    },
                )
        await journal.append(
            rt,
            Act("meetings.action_added", actor.user_id, owner["id"] if owner else None, "meetings_action", action_id),
        )
    return action_id


async def _owner_emails(structure_id: int) -> list[str]:
    """Who hears of a structure's action item: its managers, or every member when it has none."""
    rows = await Membership.select(Membership.user.email.as_alias("email"), Membership.role).where(
        (Membership.structure == structure_id) & (Membership.user.is_active == True)  # noqa: E712
    )
    managers = sorted({r["email"] for r in rows if r["role"] == "manager"})
    return managers or sorted({r["email"] for r in rows})


def action_signature(rt: Runtime, action_id: int) -> str:
    """The signed link's key: only the hub can make it; it names the item, never a person."""
    key = hmac.new(rt.settings.secret_key.encode(), b"maillage/meetings-action", hashlib.sha256).digest()
    return hmac.new(key, f"action:{action_id}".encode(), hashlib.sha256).hexdigest()[:32]


def check_signature(rt: Runtime, action_id: int, signature: str) -> None:
    if not hmac.compare_digest(action_signature(rt, action_id), signature):
        raise NotFound("Ce lien n'est pas valable.")


async def action_for(actor: Actor | None, action_id: int) -> dict[str, Any]:
    """An action item as its owner structure's members (or the coordinator) see it; 404 for anyone else."""
    row = (
        await ActionItem.select(
            *ActionItem.all_columns(),
            ActionItem.owner_structure.name.as_alias("owner_name"),
            ActionItem.event.title.as_alias("event_title"),
            ActionItem.event.day.as_alias("event_day"),
        )
        .where(ActionItem.id == action_id)
        .first()
    )
    if row is None:
        raise NotFound("Cette action n'existe pas.")
    if actor is not None and not actor.oversees_network:
        if row["owner_structure"] is None or not actor.has_role(row["owner_structure"]):
            raise NotFound("Cette action n'existe pas.")
    return row


async def set_action_status(rt: Runtime, actor: Actor | None, action_id: int, status: str) -> None:
    """Owner structure's members, the coordinator, or the signed link (actor None, checked by the caller)."""
    if status not in STATUSES:
        raise Invalid("Statut inconnu.", {"status": "Choisissez : à faire, en cours, fait ou abandonné."})
    async with write_transaction():
        row = await action_for(actor, action_id)
        if row["kind"] != "action":
            raise Invalid("Une décision n'a pas de statut.")
        closed = rt.now() if status in ("done", "dropped") else None
        await ActionItem.update(
            {ActionItem.status: status, ActionItem.updated_at: rt.now(), ActionItem.closed_at: closed}
        ).where(ActionItem.id == action_id)
        await journal.append(
            rt,
            Act(
                "meetings.action_status",
                actor.user_id if actor else None,
                row["owner_structure"],
                "meetings_action",
                action_id,
                {"status": status, "via": "page" if actor else "link"},
            ),
        )


async def structure_actions(actor: Actor, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The action items of the actor's structures, open first; each says whether it is overdue (as of today)."""
    mine = list(actor.roles)
    if not mine:
        return []
    rows = await ActionItem.select(
        *ActionItem.all_columns(),
        ActionItem.owner_structure.name.as_alias("owner_name"),
        ActionItem.event.title.as_alias("event_title"),
        ActionItem.event.day.as_alias("event_day"),
    ).where(ActionItem.owner_structure.is_in(mine) & (ActionItem.kind == "action"))
    for row in rows:
        row["overdue"] = today is not None and is_overdue(row, today)
    return sorted(rows, key=lambda r: (r["status"] not in OPEN_STATUSES, r["due_date"] or dt.date.max, r["id"]))


async def save_minutes(rt: Runtime, actor: Actor, event_id: int, text: str) -> None:
    require_coordinator(actor)
    text = text.replace("\r\n", "\n")  # a browser sends each line break as two characters; its maxlength counts one
    if len(text) > MAX_MINUTES:
        raise Invalid(
            "Compte rendu trop long.",
            {
                "minutes": f"Le compte rendu compte {count_text(len(text))} caractères : "
                f"{count_text(MAX_MINUTES)} au plus. Raccourcissez-le (votre texte est gardé ci-dessous)."
            },
        )
    async with write_transaction():
        await event_row(event_id)
        await MeetingEvent.update(
            {MeetingEvent.minutes: text.strip(), MeetingEvent.minutes_at: rt.now(), MeetingEvent.updated_at: rt.now()}
        ).where(MeetingEvent.id == event_id)
        await journal.append(rt, Act("meetings.minutes_saved", actor.user_id, None, "meetings_event", event_id))


async def my_invitations(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    rows = await Invitation.select(
        Invitation.id,
        Invitation.answer,
        Invitation.answered_at,
        Invitation.event.id.as_alias("event_id"),
        Invitation.event.title.as_alias("title"),
        Invitation.event.kind.as_alias("kind"),
        Invitation.event.day.as_alias("day"),
        Invitation.event.start_time.as_alias("start_time"),
        Invitation.event.end_time.as_alias("end_time"),
        Invitation.event.place.as_alias("place"),
        Invitation.event.status.as_alias("status"),
        Invitation.structure.name.as_alias("structure_name"),
    ).where(Invitation.user == actor.user_id)
    today = rt.today()
    for row in rows:
        row["can_answer"] = row["day"] >= today and row["status"] != "cancelled"
    return sorted(rows, key=lambda r: (not r["can_answer"], r["day"] if r["can_answer"] else -r["day"].toordinal()))


# ---------------------------------------------------------------- the meetings' section of the pack
EVENTS_HELD = Indicator(
    "meetings.events",
    "Événements du réseau",
    "Réunions de réseau, formations des aidants et groupes de travail dont la date tombe dans la période "
    "(les événements annulés ne comptent pas).",
)
PEOPLE_PRESENT = Indicator(
    "meetings.present",
    "Participations",
    "Personnes notées présentes par le coordinateur, additionnées sur les événements de la période.",
)
STRUCTURES_PRESENT = Indicator(
    "meetings.structures_present",
    "Structures représentées",
    "Structures différentes dont au moins une personne était présente à un événement de la période.",
)
ACTIONS_DECIDED = Indicator(
    "meetings.actions",
    "Actions décidées",
    "Actions confiées à une structure lors d'un événement de la période.",
)
ACTIONS_OPEN = Indicator(
    "meetings.actions_open",
    "Actions encore ouvertes",
    "Actions de tous les événements passés, à faire ou en cours à la fin de la période "
    "(selon leur statut aujourd'hui).",
)
ACTIONS_BY_STATUS = Indicator(
    "meetings.actions_by_status",
    "Actions par statut",
    "Actions décidées lors des événements de la période, selon leur statut aujourd'hui.",
)


async def _period_figures(period: Period) -> dict[str, int]:
    events = await MeetingEvent.select(MeetingEvent.id).where(
        (MeetingEvent.day >= period.start) & (MeetingEvent.day <= period.end) & (MeetingEvent.status != "cancelled")
    )
    ids = [row["id"] for row in events] or [0]
    present = await Attendance.count().where(Attendance.event.is_in(ids))
    structures = await Attendance.select(Attendance.structure).where(Attendance.event.is_in(ids)).distinct()
    actions = await ActionItem.count().where(ActionItem.event.is_in(ids) & (ActionItem.kind == "action"))
    open_items = await ActionItem.count().where(
        (ActionItem.kind == "action")
        & ActionItem.status.is_in(list(OPEN_STATUSES))
        & (ActionItem.event.day <= period.end)
    )
    return {
        "events": len(events),
        "present": present,
        "structures": len(structures),
        "actions": actions,
        "open": open_items,
    }


async def meetings_section(rt: Runtime, period: Period) -> Section:
    """The events of the period and who came, their action items and status, the partner indicators."""
    now, before = await _period_figures(period), await _period_figures(period.previous())
    figures = (
        Figure(EVENTS_HELD, now["events"], before["events"]),
        Figure(PEOPLE_PRESENT, now["present"], before["present"]),
        Figure(STRUCTURES_PRESENT, now["structures"], before["structures"]),
        Figure(ACTIONS_DECIDED, now["actions"], before["actions"]),
        Figure(ACTIONS_OPEN, now["open"], before["open"]),
    )
    events = await MeetingEvent.select(MeetingEvent.id, MeetingEvent.kind, MeetingEvent.title, MeetingEvent.day).where(
        (MeetingEvent.day >= period.start) & (MeetingEvent.day <= period.end) & (MeetingEvent.status != "cancelled")
    )
    events.sort(key=lambda r: (r["day"], r["id"]))
    invited = await _counts(Invitation, Invitation.event)
    yes = await _counts(Invitation, Invitation.event, Invitation.answer == "yes")
    present = await _counts(Attendance, Attendance.event)
    event_rows = tuple(
        (
            f"{e['title']} ({day_text(e['day'], weekday=False)})",
            invited.get(e["id"], 0),
            yes.get(e["id"], 0),
            present.get(e["id"], 0),
        )
        for e in events
    )
    ids = [e["id"] for e in events] or [0]
    items = await ActionItem.select(
        ActionItem.title, ActionItem.status, ActionItem.due_date, ActionItem.owner_structure.name.as_alias("owner")
    ).where(ActionItem.event.is_in(ids) & (ActionItem.kind == "action"))
    status_counts = {
        row["status"]: row["n"]
        for row in await ActionItem.select(ActionItem.status, Count(ActionItem.id).as_alias("n"))
        .where(ActionItem.event.is_in(ids) & (ActionItem.kind == "action"))
        .group_by(ActionItem.status)
    }
    by_status = tuple((label, status_counts.get(code, 0)) for code, label in STATUSES.items())
    item_rows = tuple(
        (
            i["title"],
            i["owner"] or "—",
            day_text(i["due_date"], weekday=False) if i["due_date"] else "—",
            STATUSES.get(i["status"], i["status"]),
        )
        for i in sorted(items, key=lambda i: (i["status"] not in OPEN_STATUSES, i["title"]))
    )
    tables: list[Table] = [
        Table(
            "reunions",
            "Événements de la période et participation",
            ("Événement", "Invités", "Réponses « oui »", "Présents"),
            event_rows,
            PEOPLE_PRESENT,
            chart="columns",
        ),
        Table("actions_statut", "Actions par statut", ("Statut", "Actions"), by_status, ACTIONS_BY_STATUS),
        Table(
            "actions",
            "Actions décidées et leur statut",
            ("Action", "Structure", "Échéance", "Statut"),
            item_rows,
            ACTIONS_DECIDED,
            chart="",
            counts=False,
        ),
    ]
    tables += await indicators.report_tables(period)
    return Section(
        key="meetings",
        title="Réunions du réseau et indicateurs des partenaires",
        figures=figures,
        tables=tuple(tables),
        notes=(
            "Les présences sont celles notées par le coordinateur le jour de l'événement.",
            "Les indicateurs des partenaires sont saisis par chaque structure pour la période.",
        ),
        order=60,
    )


async def user_names(ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r["id"]: r["full_name"] for r in await User.select(User.id, User.full_name).where(User.id.is_in(list(ids)))}
