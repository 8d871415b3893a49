"""The meetings' page forms: posted strings, and the typed commands they become (every field's French message at
once, the form coming back with what was typed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from hub.forms import FieldErrors
from hub.schemas import MULTI_LINE, SINGLE_LINE
from network.meetings import service
from network.meetings.indicators import IndicatorCommand

# Free text has no length cap here: the request body's limit bounds it, and the services' limits (service.MAX_*)
# answer beside the field with the text kept; a cap here would answer a bare 400 page and lose what was typed.
Line = Annotated[str, msgspec.Meta(pattern=SINGLE_LINE)]
Text = Annotated[str, msgspec.Meta(pattern=MULTI_LINE)]
Code = Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)]
Codes = Annotated[list[Code], msgspec.Meta(max_length=5000)] | Code
TICKED = ("on", "1", "true", "oui")


class EventForm(msgspec.Struct):
    kind: Code = "meeting"
    title: Line = ""
    day: Code = ""
    start_time: Code = ""
    end_time: Code = ""
    place: Line = ""
    agenda: Text = ""
    audience: Code = "all"
    structure_ids: Codes = []


class ActionForm(msgspec.Struct):
    kind: Code = "action"
    title: Line = ""
    owner_structure_id: Code = ""
    due_date: Code = ""


class StatusForm(msgspec.Struct):
    status: Code = ""


class AnswerForm(msgspec.Struct):
    answer: Code = ""


class MinutesForm(msgspec.Struct):
    minutes: Text = ""


class AttendanceForm(msgspec.Struct):
    present: Codes = []


class IndicatorForm(msgspec.Struct):
    label: Line = ""
    definition: Text = ""
    unit: Line = ""
    number_type: Code = "integer"
    by_neighbourhood: Code = ""


def as_list(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _ids(values: list[str]) -> list[int] | None:
    if not all(v.strip().isdigit() and len(v.strip()) < 10 for v in values):
        return None
    return [int(v) for v in values]


def event_values(form: EventForm) -> dict[str, Any]:
    """What was typed, to show the form again."""
    values = msgspec.structs.asdict(form)
    values["structure_ids"] = as_list(form.structure_ids)
    return values


def event_command(form: EventForm, today: dt.date) -> service.EventCommand:
    errors = FieldErrors()
    day = _date(form.day) if form.day.strip() else None
    if not form.day.strip():
        errors["day"] = "Choisissez la date de l'événement : un événement sans date ne peut pas être créé."
    elif day is None:
        errors["day"] = "Date invalide : choisissez un jour, par exemple 2026-12-10."
    ids = _ids(as_list(form.structure_ids))
    if ids is None:
        errors["structure_ids"] = "Choisissez des structures dans la liste."
    agenda = tuple(line.strip() for line in form.agenda.splitlines() if line.strip())
    command = service.EventCommand(
        kind=form.kind,
        title=form.title,
        day=day or today,
        start_time=form.start_time.strip(),
        end_time=form.end_time.strip(),
        place=form.place,
        agenda=agenda,
        audience=form.audience,
        structure_ids=tuple(ids or ()) if form.audience == "chosen" else (),
    )
    with errors.collecting():
        service.check_event(command, today)
    if "day" in errors and not form.day.strip():  # the missing date's message wins over the range's
        errors["day"] = "Choisissez la date de l'événement : un événement sans date ne peut pas être créé."
    errors.raise_if_any()
    return command


def action_command(form: ActionForm, event_day: dt.date | None = None) -> service.ActionCommand:
    errors = FieldErrors()
    owner: int | None = None
    if form.owner_structure_id.strip():
        ids = _ids([form.owner_structure_id])
        if ids is None:
            errors["owner_structure_id"] = "Choisissez une structure dans la liste."
        else:
            owner = ids[0]
    due = None
    if form.due_date.strip():
        due = _date(form.due_date)
        if due is None:
            errors["due_date"] = "Date invalide : choisissez un jour, par exemple 2027-03-31."
    command = service.ActionCommand(kind=form.kind, title=form.title, owner_structure_id=owner, due_date=due)
    if "owner_structure_id" not in errors:
        with errors.collecting():
            service.check_action(command, event_day)
    errors.raise_if_any()
    return command


def present_ids(form: AttendanceForm) -> list[int]:
    ids = _ids(as_list(form.present))
    if ids is None:
        errors = FieldErrors(present="Cochez des personnes de la liste.")
        errors.raise_if_any()
    return ids or []


def indicator_command(form: IndicatorForm) -> IndicatorCommand:
    return IndicatorCommand(
        label=form.label,
        definition=form.definition,
        unit=form.unit,
        number_type=form.number_type,
        by_neighbourhood=form.by_neighbourhood.strip().lower() in TICKED,
    )
