"""Activity records' page forms: the posted strings, and the typed commands they become (schemas.py).

Each function checks the whole form and raises hub.errors.Invalid with every field's French message at once, or
returns the command. The shapes are lenient (strings) so a wrong value comes back beside its field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from hub.forms import FieldErrors
from hub.reporting import count_text
from hub.schemas import SINGLE_LINE
from network.activities import vocabulary as vocab
from network.activities.schemas import (
    ActivityCreate,
    FeedbackAnswer,
    Profile,
    RegistrationCreate,
    SeriesCreate,
    SessionCreate,
)

Line = Annotated[str, msgspec.Meta(max_length=400, pattern=SINGLE_LINE)]
Code = Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)]
Codes = Annotated[list[Code], msgspec.Meta(max_length=60)] | Code


class EntryForm(msgspec.Struct):
    """The quick entry form (every field optional as posted; the rules say what is missing)."""

    action: Code = "save"  # save | same (save, then the same again for the next person in the queue)
    kind: Code = "individual"
    day: Code = ""
    duration: Code = "30"
    duration_other: Code = ""
    place: Code = ""  # "p:<place id>" | home | remote | other
    place_label: Line = ""
    thematiques: Codes = []
    demarches: Codes = []
    demarche_name: Line = ""
    materials: Codes = []
    autonomy: Code = ""
    redirect: Code = ""  # "" | "s:<structure id>" | "c:<category>"
    participants: Code = "1"
    age_band: Code = "nc"
    gender: Code = "nc"
    status: Code = "nc"
    commune: Line = ""
    neighbourhood: Line = ""
    channel: Code = "nc"
    first_visit: Code = ""  # "" | new | followed
    satisfaction: Code = ""
    referral_id: Code = ""


def as_list(value: list[str] | str) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if v]


def values_of(form: EntryForm) -> dict[str, Any]:
    """What was typed, to show the form again."""
    values = msgspec.structs.asdict(form)
    for name in ("thematiques", "demarches", "materials"):
        values[name] = as_list(values[name])
    return values


def parse_int(text: str, errors: FieldErrors, name: str, message: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors[name] = message
        return None


def parse_day(text: str, errors: FieldErrors, name: str = "day") -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = "Date invalide : choisissez un jour, par exemple 2026-03-14."
        return None


def activity_create(form: EntryForm, structure_id: int) -> ActivityCreate:
    """The typed activity, or Invalid with every field's French message (the service's rules come next)."""
    errors = FieldErrors()
    day = parse_day(form.day, errors)
    if form.duration == "autre":
        duration = parse_int(form.duration_other, errors, "duration", "Durée : un nombre de minutes, par exemple 40.")
        if duration is None and "duration" not in errors:
            errors["duration"] = "Indiquez la durée en minutes."
    else:
        duration = parse_int(form.duration, errors, "duration", "Durée : un nombre de minutes, par exemple 40.")
    place_id: int | None = None
    place_kind = form.place or "structure"
    if form.place.startswith("p:"):
        place_kind = "structure"
        place_id = parse_int(form.place[2:], errors, "place", "Choisissez un lieu de la liste.")
    elif form.place and form.place not in vocab.PLACE_KINDS:
        errors["place"] = "Choisissez un lieu de la liste."
    if place_kind == "other" and not form.place_label.strip():
        errors["place_label"] = "Indiquez le nom de l'autre lieu."
    autonomy = parse_int(form.autonomy, errors, "autonomy", "Niveau d'autonomie : 1, 2 ou 3.")
    redirect_structure: int | None = None
    redirect_category = ""
    if form.redirect.startswith("s:"):
        redirect_structure = parse_int(form.redirect[2:], errors, "redirect", "Choisissez une structure de la liste.")
    elif form.redirect.startswith("c:"):
        redirect_category = form.redirect[2:]
    elif form.redirect:
        errors["redirect"] = "Choisissez une structure ou un type de structure dans la liste."
    participants = parse_int(form.participants, errors, "participants", "Nombre de participants : un nombre entier.")
    satisfaction = parse_int(form.satisfaction, errors, "satisfaction", "Satisfaction : de 1 à 5.")
    referral_id = parse_int(form.referral_id, errors, "referral_id", "Numéro d'orientation invalide.")
    if form.first_visit not in ("", "new", "followed"):
        errors["first_visit"] = "Choisissez première venue, déjà venue, ou rien."
    errors.raise_if_any()
    assert day is not None and duration is not None  # noqa: S101 (errors raised above otherwise)
    profile = Profile(
        age_band=form.age_band or "nc",
        gender=form.gender or "nc",
        status=form.status or "nc",
        commune=form.commune.strip(),
        neighbourhood=form.neighbourhood.strip(),
        channel=form.channel or "nc",
        first_visit=None if not form.first_visit else form.first_visit == "new",
        satisfaction=satisfaction,
    )
    return ActivityCreate(
        structure_id=structure_id,
        day=day,
        kind=form.kind,
        duration=duration,
        place_kind=place_kind,
        place_id=place_id,
        place_label=form.place_label.strip() if place_kind == "other" else "",
        thematiques=tuple(as_list(form.thematiques)),
        demarches=tuple(as_list(form.demarches)),
        demarche_name=form.demarche_name.strip(),
        materials=tuple(as_list(form.materials)),
        autonomy=autonomy,
        redirect_structure_id=redirect_structure,
        redirect_category=redirect_category,
        participants=participants if participants is not None else 1,
        profiles=(profile,),
        referral_id=referral_id,
    )


def values_from_activity(row: dict[str, Any]) -> dict[str, Any]:
    """The entry form's values for "the same again": the session as it was, a blank profile for the next person."""
    if row["redirect_structure"]:
        redirect = f"s:{row['redirect_structure']}"
    elif row["redirect_category"]:
        redirect = f"c:{row['redirect_category']}"
    else:
        redirect = ""
    duration = str(row["duration"])
    return {
        "kind": row["kind"],
        "duration": duration if row["duration"] in vocab.DURATIONS else "autre",
        "duration_other": "" if row["duration"] in vocab.DURATIONS else duration,
        "place": f"p:{row['place_id']}" if row["place_id"] else row["place_kind"],
        "place_label": row["place_label"] if row["place_kind"] == "other" else "",
        "thematiques": list(row["thematiques"]),
        "demarches": list(row["demarches"]),
        "demarche_name": row["demarche_name"],
        "materials": list(row["materials"]),
        "autonomy": str(row["autonomy"] or ""),
        "redirect": redirect,
        "participants": str(row["participants"]),
    }


class TallyForm(msgspec.Struct):
    place: Code = "0"
    delta: Code = "1"
    time_limit: Code = ""


# ---------------------------------------------------------------- workshops and satisfaction
Text = Annotated[str, msgspec.Meta(max_length=8000)]
MAX_MODULES_TEXT = 6000  # the modules' box, below Text's hard cap: one more comes back beside the field


class SeriesForm(msgspec.Struct):
    title: Line = ""
    level: Code = "1"
    place: Code = ""
    weekday: Code = "0"
    start_time: Code = "14:00"
    duration: Code = "120"
    seats: Code = "10"
    starts_on: Code = ""
    modules: Text = ""  # one module per line
    thematiques: Codes = []


class RegistrationForm(msgspec.Struct):
    initial: Code = ""
    age_band: Code = "nc"
    gender: Code = "nc"
    status: Code = "nc"
    commune: Line = ""
    channel: Code = "nc"


class SessionForm(msgspec.Struct):
    day: Code = ""
    present: Codes = []
    walk_ins: Code = "0"
    module_no: Code = ""


class CodesForm(msgspec.Struct):
    count: Code = "1"


class AnswerForm(msgspec.Struct):
    satisfaction: Code = ""
    channel: Code = ""


def series_create(form: SeriesForm, structure_id: int) -> SeriesCreate:
    errors = FieldErrors()
    starts_on = parse_day(form.starts_on, errors, "starts_on")
    numbers = {
        name: parse_int(getattr(form, name), errors, name, message)
        for name, message in (
            ("level", "Choisissez un niveau."),
            ("weekday", "Choisissez un jour."),
            ("duration", "Durée : un nombre de minutes."),
            ("seats", "Places : un nombre entier."),
        )
    }
    place_id = (
        parse_int(form.place[2:], errors, "place", "Choisissez un lieu.") if form.place.startswith("p:") else None
    )
    if len(form.modules) > MAX_MODULES_TEXT:
        errors["modules"] = f"Modules : {count_text(MAX_MODULES_TEXT)} caractères au plus."
    errors.raise_if_any()
    assert starts_on is not None  # noqa: S101 (errors raised above otherwise)
    return SeriesCreate(
        structure_id=structure_id,
        title=form.title.strip(),
        starts_on=starts_on,
        level=numbers["level"] or 1,
        place_id=place_id,
        weekday=numbers["weekday"] or 0,
        start_time=form.start_time.strip(),
        duration=numbers["duration"] or 0,
        seats=numbers["seats"] or 0,
        modules=tuple(line.strip() for line in form.modules.splitlines() if line.strip()),
        thematiques=tuple(as_list(form.thematiques)),
    )


def registration_create(form: RegistrationForm) -> RegistrationCreate:
    return RegistrationCreate(
        initial=form.initial.strip(),
        profile=Profile(
            age_band=form.age_band or "nc",
            gender=form.gender or "nc",
            status=form.status or "nc",
            commune=form.commune.strip(),
            channel=form.channel or "nc",
        ),
    )


def session_create(form: SessionForm) -> SessionCreate:
    errors = FieldErrors()
    day = parse_day(form.day, errors)
    walk_ins = parse_int(form.walk_ins, errors, "walk_ins", "Un nombre entier, 0 s'il n'y en a pas.")
    module_no = parse_int(form.module_no, errors, "module_no", "Choisissez un module.")
    present: list[int] = []
    for value in as_list(form.present):
        number = parse_int(value, errors, "present", "Cochez des personnes de la liste.")
        if number is not None:
            present.append(number)
    errors.raise_if_any()
    assert day is not None  # noqa: S101 (errors raised above otherwise)
    return SessionCreate(day=day, present=tuple(present), walk_ins=walk_ins or 0, module_no=module_no)


def answer_of(form: AnswerForm) -> FeedbackAnswer:
    errors = FieldErrors()
    satisfaction = parse_int(form.satisfaction, errors, "satisfaction", "Choisissez un visage.")
    if satisfaction is None and "satisfaction" not in errors:
        errors["satisfaction"] = "Choisissez un visage."
    if form.channel not in vocab.CHANNELS_FALC:
        errors["channel"] = "Choisissez une réponse."
    errors.raise_if_any("Choisissez une réponse pour chaque question.")
    assert satisfaction is not None  # noqa: S101 (errors raised above otherwise)
    return FeedbackAnswer(satisfaction=satisfaction, channel=form.channel)
