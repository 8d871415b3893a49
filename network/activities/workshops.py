"""Workshop series (registrations, attendance, drop-out, progression through the modules) and satisfaction in
FALC without an account (single-use codes shown as QR codes; one answer per code, counted in the activity).

A session of a series is an activity of kind "workshop": its participants are the registered people present
(their anonymous profiles) plus walk-ins, so the structure's figures count it like any other workshop.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import segno

from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Gone, Invalid, NotFound
from hub.reporting import percent
from hub.runtime import Runtime
from network.activities import service
from network.activities import vocabulary as vocab
from network.activities.figures import mean_tenths
from network.activities.schemas import (
    ActivityCreate,
    FeedbackAnswer,
    Profile,
    RegistrationCreate,
    SeriesCreate,
    SessionCreate,
)
from network.activities.tables import Activity, Attendance, Feedback, FeedbackCode, Participant, Registration, Series

DROP_AFTER = 2  # a registered person absent from the series' last 2 sessions (having come before) has dropped out
CODE_DAYS = 7  # a satisfaction code answers for a week
MAX_CODES = 30
MAX_INITIAL = 5  # "J.-P." at most: an initial, never a name
INITIAL = "Une initiale au plus, par exemple « M. » ou « J.-P. » : jamais un nom."


# ---------------------------------------------------------------- series
def _check_series(command: SeriesCreate, today: Any, place_ids: set[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not command.title.strip() or len(command.title) > service.MAX_LABEL:
        errors["title"] = f"Donnez un titre à la série ({service.MAX_LABEL} caractères au plus)."
    if command.level not in vocab.LEVELS:
        errors["level"] = "Niveau : débutant, intermédiaire ou avancé."
    if command.place_id is not None and command.place_id not in place_ids:
        errors["place"] = "Ce lieu n'est pas un des lieux de la structure."
    if not 0 <= command.weekday <= 6:
        errors["weekday"] = "Choisissez un jour de la semaine."
    if (
        len(command.start_time) != 5
        or command.start_time[2] != ":"
        or not command.start_time.replace(":", "").isdigit()
    ):
        errors["start_time"] = "Heure de début : par exemple 14:00."
    if not 0 < command.duration <= vocab.MAX_DURATION:
        errors["duration"] = f"Durée d'une séance : de 1 à {vocab.MAX_DURATION} minutes."
    if not 1 <= command.seats <= vocab.MAX_PARTICIPANTS:
        errors["seats"] = f"Places : de 1 à {vocab.MAX_PARTICIPANTS}."
    if len(command.modules) > 40 or any(len(m) > service.MAX_LABEL for m in command.modules):
        errors["modules"] = "40 modules au plus, de 200 caractères chacun au plus."
    if not command.thematiques:
        errors["thematiques"] = "Choisissez au moins une thématique."
    elif unknown := [t for t in command.thematiques if t not in vocab.THEMATIQUES]:
        errors["thematiques"] = f"Thématique inconnue : « {unknown[0]} »."
    if command.starts_on > today + timedelta(days=366):
        errors["starts_on"] = "La série commence dans plus d'un an : vérifiez la date."
    return errors


async def create_series(rt: Runtime, actor: Actor, command: SeriesCreate) -> int:
    service.require_member(actor, command.structure_id)
    own = {p.id: p.name for p in await service.places(command.structure_id)}
    errors = _check_series(command, rt.today(), set(own))
    if errors:
        raise Invalid("La série n'est pas créée : corrigez les champs signalés.", errors)
    async with write_transaction():
        series = Series(
            structure=command.structure_id,
            title=command.title.strip(),
            level=command.level,
            place_kind="structure",
            place_id=command.place_id,
            place_label=own.get(command.place_id or 0, command.place_label.strip()),
            weekday=command.weekday,
            start_time=command.start_time,
            duration=command.duration,
            seats=command.seats,
            modules=[m.strip() for m in command.modules if m.strip()],
            thematiques=list(dict.fromkeys(command.thematiques)),
            starts_on=command.starts_on,
            created_at=rt.now(),
        )
        await series.save()
    return int(series.id)


async def _series(actor: Actor, structure_id: int, series_id: int) -> dict[str, Any]:
    service.require_member(actor, structure_id)
    row = await (
        Series.select()
        .where((Series.id == series_id) & (Series.structure == structure_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound(service.NOT_FOUND)
    return row


async def list_series(actor: Actor, structure_id: int) -> list[dict[str, Any]]:
    """The structure's series, newest first, with their registrations, sessions and drop-outs."""
    service.require_member(actor, structure_id)
    rows = (
        await Series.select()
        .where(Series.structure == structure_id)
        .order_by(Series.starts_on, ascending=False)
        .output(load_json=True)
    )
    found = []
    for row in rows:
        detail = await attendance(row)
        found.append({**row, **detail["totals"]})
    return found


async def series_detail(actor: Actor, structure_id: int, series_id: int) -> dict[str, Any]:
    row = await _series(actor, structure_id, series_id)
    return {"series": row, **await attendance(row)}


async def attendance(series: dict[str, Any]) -> dict[str, Any]:
    """Registrations, sessions, who came to which, and for each person: sessions attended, modules reached, drop-out."""
    registrations = list(
        await Registration.select().where(Registration.series == series["id"]).order_by(Registration.id)
    )
    sessions = list(
        await Activity.select(Activity.id, Activity.day, Activity.participants, Activity.module_no)
        .where(Activity.series == series["id"])
        .order_by(Activity.day)
        .order_by(Activity.id)
    )
    session_ids = [s["id"] for s in sessions]
    present: set[tuple[int, int]] = set()
    if session_ids:
        for att in await Attendance.select(Attendance.registration, Attendance.activity).where(
            Attendance.activity.is_in(session_ids) & (Attendance.present.eq(True))
        ):
            present.add((att["registration"], att["activity"]))
    module_of = {s["id"]: s["module_no"] for s in sessions}
    modules = len(series["modules"])
    people = []
    dropped = 0
    for reg in registrations:
        came = [sid for sid in session_ids if (reg["id"], sid) in present]
        reached = {module_of[sid] for sid in came if module_of[sid]}
        last = session_ids[-DROP_AFTER:]
        is_dropped = bool(reg["withdrawn_on"]) or (
            bool(came) and len(session_ids) >= DROP_AFTER and not any(sid in came for sid in last)
        )
        dropped += is_dropped
        people.append(
            {
                **reg,
                "attended": len(came),
                "modules_reached": len(reached),
                "progress": percent(len(reached), modules),
                "dropped": is_dropped,
            }
        )
    registered = len(registrations)
    return {
        "registrations": people,
        "sessions": sessions,
        "present": present,
        "totals": {
            "registered": registered,
            "session_count": len(sessions),
            "dropped": dropped,
            "dropout_rate": percent(dropped, registered),
            "attendance_rate": percent(len(present), registered * len(sessions)),
        },
    }


SERIES_TOTALS = f"""
WITH met AS (
    SELECT DISTINCT series FROM activities_activity WHERE series IS NOT NULL AND day >= {{}} AND day <= {{}}
), s AS (
    SELECT a.series, a.id, ROW_NUMBER() OVER (PARTITION BY a.series ORDER BY a.day DESC, a.id DESC) AS from_end
    FROM activities_activity a WHERE a.series IN (SELECT series FROM met)
), n AS (
    SELECT series, COUNT(*) AS sessions FROM s GROUP BY series
), c AS (
    SELECT t.registration, s.series, COUNT(*) AS came,
        SUM(CASE WHEN s.from_end <= {DROP_AFTER} THEN 1 ELSE 0 END) AS came_last
    FROM activities_attendance t JOIN s ON s.id = t.activity WHERE t.present GROUP BY t.registration, s.series
)
SELECT COUNT(r.id) AS registered, SUM(n.sessions) AS expected,
    SUM(CASE WHEN r.withdrawn_on IS NOT NULL OR (c.came > 0 AND n.sessions >= {DROP_AFTER} AND c.came_last = 0)
        THEN 1 ELSE 0 END) AS dropped,
    (SELECT COUNT(*) FROM activities_attendance t JOIN s ON s.id = t.activity WHERE t.present) AS present
FROM activities_registration r JOIN n ON n.series = r.series
LEFT JOIN c ON c.registration = r.id AND c.series = r.series
"""


async def series_totals(start: Any, end: Any) -> dict[str, int]:
    """`attendance`'s totals added up over every series that held a session from start to end (both included),
    each over its whole run, in one statement: registered, expected presences (registered × sessions), present,
    dropped (withdrawn, or came and then absent from the last DROP_AFTER sessions)."""
    row = (await Activity.raw(SERIES_TOTALS, start, end))[0]
    return {key: int(row[key] or 0) for key in ("registered", "expected", "present", "dropped")}


def _check_initial(initial: str) -> str | None:
    text = initial.strip()
    letters = [ch for ch in text if ch.isalpha()]
    if len(text) > MAX_INITIAL or len(letters) > 2 or any(not (ch.isalpha() or ch in ".- ") for ch in text):
        return INITIAL
    return None


async def register(rt: Runtime, actor: Actor, structure_id: int, series_id: int, command: RegistrationCreate) -> int:
    series = await _series(actor, structure_id, series_id)
    errors = service.check_profile(command.profile)
    if message := _check_initial(command.initial):
        errors["initial"] = message
    if errors:
        raise Invalid("L'inscription n'est pas enregistrée : corrigez les champs signalés.", errors)
    async with write_transaction():
        taken = await Registration.count().where(
            (Registration.series == series_id) & Registration.withdrawn_on.is_null()
        )
        if taken >= series["seats"]:
            raise Invalid("La série est complète.", {"initial": f"Les {series['seats']} places sont prises."})
        registration = Registration(
            series=series_id,
            initial=command.initial.strip(),
            age_band=command.profile.age_band,
            gender=command.profile.gender,
            status=command.profile.status,
            commune=command.profile.commune.strip(),
            channel=command.profile.channel,
            registered_on=rt.today(),
        )
        await registration.save()
    return int(registration.id)


async def withdraw(rt: Runtime, actor: Actor, structure_id: int, series_id: int, registration_id: int) -> None:
    await _series(actor, structure_id, series_id)
    updated = (
        await Registration.update({Registration.withdrawn_on: rt.today()})
        .where((Registration.id == registration_id) & (Registration.series == series_id))
        .returning(Registration.id)
    )
    if not updated:
        raise NotFound(service.NOT_FOUND)


async def record_session(rt: Runtime, actor: Actor, structure_id: int, series_id: int, command: SessionCreate) -> int:
    """A session held: an activity of the series, with who came (and who did not) among the registered."""
    series = await _series(actor, structure_id, series_id)
    registrations = {
        r["id"]: r
        for r in await Registration.select().where(
            (Registration.series == series_id) & Registration.withdrawn_on.is_null()
        )
    }
    errors: dict[str, str] = {}
    if unknown := [rid for rid in command.present if rid not in registrations]:
        errors["present"] = f"{len(unknown)} personne(s) cochée(s) ne sont pas inscrites à cette série."
    if not 0 <= command.walk_ins <= vocab.MAX_PARTICIPANTS:
        errors["walk_ins"] = f"Personnes venues sans inscription : de 0 à {vocab.MAX_PARTICIPANTS}."
    if command.module_no is not None and not 1 <= command.module_no <= max(1, len(series["modules"])):
        errors["module_no"] = "Choisissez un module du parcours."
    present = list(dict.fromkeys(command.present))
    if not errors and not present and command.walk_ins == 0:
        errors["present"] = "Cochez au moins une personne venue, ou comptez les personnes venues sans inscription."
    came_before = set()
    if present:
        came_before = {
            row["registration"]
            for row in await Attendance.select(Attendance.registration).where(
                Attendance.registration.is_in(present) & Attendance.present.eq(True)
            )
        }
    profiles = tuple(
        Profile(
            age_band=registrations[rid]["age_band"],
            gender=registrations[rid]["gender"],
            status=registrations[rid]["status"],
            commune=registrations[rid]["commune"],
            channel=registrations[rid]["channel"],
            first_visit=rid not in came_before,
        )
        for rid in present
        if rid in registrations
    )
    activity = ActivityCreate(
        structure_id=structure_id,
        day=command.day,
        kind="workshop",
        duration=command.duration or series["duration"],
        place_kind=series["place_kind"],
        place_id=series["place_id"],
        place_label=series["place_label"],
        thematiques=tuple(series["thematiques"]),
        autonomy=series["level"],
        workshop_name=series["title"],
        participants=max(1, len(present) + command.walk_ins),
        profiles=profiles,
        series_id=series_id,
        module_no=command.module_no,
    )
    errors.update(service.check_activity(activity, rt.today()))
    if errors:
        raise Invalid("La séance n'est pas enregistrée : corrigez les champs signalés.", errors)
    async with write_transaction():
        (activity_id,) = await service.insert_activities([activity], actor.user_id, rt.now())
        rows = [Attendance(registration=rid, activity=activity_id, present=rid in present) for rid in registrations]
        if rows:
            await Attendance.insert(*rows)
    return activity_id


# ---------------------------------------------------------------- satisfaction codes and answers
def qr_svg(url: str) -> str:
    """An inline SVG QR code (no request to any other site); its size comes from the CSS."""
    return segno.make(url, error="m").svg_inline(scale=4, omitsize=True, dark="#000", light="#fff")


async def new_codes(rt: Runtime, actor: Actor, structure_id: int, activity_id: int, count: int) -> list[str]:
    """Single-use codes for an activity's people (one each), valid a week."""
    activity = await service.read(actor, structure_id, activity_id)
    if not 1 <= count <= min(MAX_CODES, activity["participants"]):
        raise Invalid(
            "Nombre de codes invalide.",
            {"count": f"De 1 à {min(MAX_CODES, activity['participants'])} : un code par personne présente."},
        )
    now = rt.now()
    codes = [secrets.token_urlsafe(12) for _ in range(count)]
    async with write_transaction():
        await FeedbackCode.insert(
            *[
                FeedbackCode(code=c, activity=activity_id, created_at=now, expires_at=now + timedelta(days=CODE_DAYS))
                for c in codes
            ]
        )
    return codes


async def open_codes(actor: Actor, structure_id: int, activity_id: int) -> list[str]:
    """The activity's codes not yet answered nor expired, to show or print again."""
    await service.read(actor, structure_id, activity_id)
    rows = (
        await FeedbackCode.select(FeedbackCode.code, FeedbackCode.expires_at)
        .where((FeedbackCode.activity == activity_id) & FeedbackCode.used_at.is_null())
        .order_by(FeedbackCode.id)
    )
    return [row["code"] for row in rows]


async def _usable(rt: Runtime, code: str) -> dict[str, Any]:
    row = await FeedbackCode.select().where(FeedbackCode.code == code).first()
    if row is None:
        raise NotFound("Ce code n'existe pas. Vérifiez le code sur votre feuille.")
    if row["used_at"] is not None:
        raise Gone("Ce code a déjà servi. Merci pour votre réponse.")
    if row["expires_at"] < rt.now():
        raise Gone("Ce code n'est plus valable. Demandez un nouveau code.")
    return row


async def check_code(rt: Runtime, code: str) -> None:
    """The satisfaction page may open: the code exists, was not used, has not expired."""
    await _usable(rt, code)


async def answer(rt: Runtime, code: str, command: FeedbackAnswer) -> None:
    """One answer per code: the smiley and how the person heard of the place; counted in the activity."""
    errors: dict[str, str] = {}
    if not 1 <= command.satisfaction <= 5:
        errors["satisfaction"] = "Choisissez un visage."
    if command.channel not in vocab.CHANNELS:
        errors["channel"] = "Choisissez une réponse."
    if errors:
        raise Invalid("Choisissez une réponse pour chaque question.", errors)
    async with write_transaction():
        row = await _usable(rt, code)
        taken = (
            await FeedbackCode.update({FeedbackCode.used_at: rt.now()})
            .where((FeedbackCode.id == row["id"]) & FeedbackCode.used_at.is_null())
            .returning(FeedbackCode.id)
        )
        if not taken:  # answered a moment ago, from another phone
            raise Gone("Ce code a déjà servi. Merci pour votre réponse.")
        activity = await Activity.select(Activity.structure, Activity.day).where(Activity.id == row["activity"]).first()
        if activity is None:  # the activity went (deleted with its codes) between the two reads
            raise NotFound("Ce code n'existe pas. Vérifiez le code sur votre feuille.")
        await Feedback.insert(
            Feedback(
                code=row["id"],
                activity=row["activity"],
                structure=activity["structure"],
                day=activity["day"],
                satisfaction=command.satisfaction,
                channel=command.channel,
                answered_at=rt.now(),
            )
        )


async def feedback_of(activity_id: int) -> dict[str, Any]:
    """An activity's satisfaction: codes given, answers, and their mean (with what its people told the worker)."""
    codes = await FeedbackCode.count().where(FeedbackCode.activity == activity_id)
    answers = list(
        await Feedback.select(Feedback.satisfaction, Feedback.channel).where(Feedback.activity == activity_id)
    )
    told = [
        r["satisfaction"]
        for r in await Participant.select(Participant.satisfaction).where(
            (Participant.activity == activity_id) & Participant.satisfaction.is_not_null()
        )
    ]
    scores: Sequence[int] = [a["satisfaction"] for a in answers] + told
    return {
        "codes": codes,
        "answers": answers,
        "count": len(scores),
        "mean": mean_tenths(sum(scores), len(scores)),
    }
