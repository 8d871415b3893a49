"""The demo town's activity records: a year of individual sessions and workshops at its digital-inclusion
partners, workshop series with their registrations and attendance (and drop-outs), free-access tallies, and
satisfaction answers, so every figure is alive.

Runs after the directory's seed (the structures, their places); idempotent (nothing when demo activities exist);
the same year every time (a seeded random), ending today. People are anonymous profiles: no name anywhere.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from typing import Any

from hub.db import write_transaction
from hub.modules import DemoContext
from hub.runtime import Runtime
from network.activities import service
from network.activities.schemas import ActivityCreate, Profile
from network.activities.tables import Activity, Attendance, Feedback, FeedbackCode, Registration, Series, Tally

# structure name -> (open weekdays, individual sessions a day (min, max), main thématiques)
PARTNERS: dict[str, tuple[tuple[int, ...], tuple[int, int], tuple[str, ...]]] = {
    "Espace public numérique de la Roseraie": (
        (0, 1, 2, 3, 4),
        (3, 8),
        ("procedures", "email", "browsing", "security"),
    ),
    "Cyber-base de Saint-Jean": ((1, 2, 4), (2, 5), ("equipment", "browsing", "email", "office")),
    "Médiathèque Louise-Michel": ((1, 2, 3, 4, 5), (1, 4), ("browsing", "contents", "culture", "email")),
    "Médiathèque de quartier des Aubiers": ((3,), (3, 7), ("procedures", "equipment", "email")),
    "France Services de Montclair": ((0, 1, 2, 3, 4), (4, 10), ("procedures", "email", "health", "banking")),
    "Conseillers numériques de la Ville": ((0, 2, 4), (3, 8), ("equipment", "procedures", "security", "ai")),
    "Centre social de la Roseraie": ((0, 3), (1, 4), ("procedures", "parenting", "school")),
    "PIMMS Médiation Montclair": ((0, 1, 2, 3, 4), (2, 6), ("procedures", "banking")),
    "Emmaüs Connect – point de Montclair": ((2, 4), (2, 5), ("equipment", "diagnostic", "maintenance")),
    "CCAS de Montclair-sur-Loire": ((1, 3), (1, 3), ("procedures", "health", "email")),
}
LIGHTER_BEFORE = 0.45  # the semester before last, older than a year: fewer records, but a pack to compare with
# (structure, title, level, weekday, modules, seats): Manosque's nine-module path, shorter ones elsewhere
SERIES = (
    (
        "Médiathèque Louise-Michel",
        "Premiers pas sur l'ordinateur",
        1,
        2,
        (
            "Allumer, la souris",
            "Le clavier",
            "Les fichiers",
            "Internet",
            "La messagerie",
            "Les sites publics",
            "La sécurité",
            "Le smartphone",
            "Bilan",
        ),
        10,
    ),
    ("Cyber-base de Saint-Jean", "Initiation à internet", 1, 2, ("Naviguer", "Chercher", "Se protéger", "Bilan"), 8),
    ("Centre social de la Roseraie", "Café numérique des parents", 2, 0, ("ENT du collège", "Pronote", "CAF"), 12),
)
TALLIED = {"Médiathèque Louise-Michel": (18, 45, 40), "Espace public numérique de la Roseraie": (8, 20, None)}
NEIGHBOURHOODS = ("Centre", "Les Tilleuls", "Les Aubiers", "La Roseraie", "Bel-Air", "Saint-Jean", "Gare")
AGES = (("lt12", 1), ("12-17", 3), ("18-24", 8), ("25-39", 16), ("40-59", 22), ("60-69", 20), ("70+", 22), ("nc", 8))
STATUSES = (("retired", 38), ("unemployed", 22), ("employed", 20), ("student", 6), ("nc", 14))
CHANNELS = (("partner", 22), ("word_of_mouth", 30), ("passing_by", 14), ("poster", 8), ("internet", 9), ("nc", 17))
DURATIONS = ((15, 10), (30, 35), (45, 25), (60, 18), (90, 8), (120, 4))
MATERIALS = ("computer", "phone", "tablet")
DEMO_SOURCE = "demo"


def _pick(chance: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return chance.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _profile(chance: random.Random, first_visit: bool | None = None) -> Profile:
    told = chance.random() < 0.55
    return Profile(
        age_band=_pick(chance, AGES),
        gender=chance.choices(("f", "m", "nc"), weights=(54, 40, 6))[0],
        status=_pick(chance, STATUSES),
        commune="Montclair-sur-Loire" if chance.random() < 0.85 else chance.choice(("Saint-Aignan", "Vienne-en-Val")),
        neighbourhood=chance.choice(NEIGHBOURHOODS) if chance.random() < 0.7 else "",
        channel=_pick(chance, CHANNELS),
        first_visit=first_visit if first_visit is not None else chance.random() < 0.42,
        satisfaction=chance.choices((2, 3, 4, 5), weights=(3, 12, 40, 45))[0] if told else None,
    )


async def seed(rt: Runtime, context: DemoContext) -> None:
    if await Activity.exists().where(Activity.source == DEMO_SOURCE):
        context.lines.append("Activités de démonstration : déjà là.")
        return
    partners = {name: sid for name, sid in context.structures.items() if name in PARTNERS}
    if not partners:
        return
    chance = random.Random(2026)  # noqa: S311 (invented, anonymous profiles; the same demo every time)
    today = rt.today()
    year_ago = today - timedelta(days=365)
    start = date(today.year - 1, 7 if today.month > 6 else 1, 1)  # the semester before last
    places = {sid: [p.id for p in await service.places(sid)] for sid in partners.values()}
    commands: list[ActivityCreate] = []
    n = 0
    day = start
    while day <= today:
        for name, sid in partners.items():
            weekdays, (low, high), themes = PARTNERS[name]
            if day.weekday() not in weekdays or (day.month == 8 and chance.random() < 0.6):
                continue
            if day < year_ago and chance.random() > LIGHTER_BEFORE:
                continue
            for _ in range(chance.randint(low, high)):
                n += 1
                theme = chance.sample(themes, k=chance.choice((1, 1, 2)))
                demarches = (
                    (chance.choice(("money", "social", "work", "housing", "papers")),) if "procedures" in theme else ()
                )
                commands.append(
                    ActivityCreate(
                        structure_id=sid,
                        day=day,
                        duration=_pick(chance, DURATIONS),
                        place_kind="structure" if chance.random() < 0.9 else chance.choice(("home", "remote")),
                        place_id=places[sid][0] if places[sid] else None,
                        thematiques=tuple(theme),
                        demarches=demarches,
                        materials=(chance.choice(MATERIALS),),
                        autonomy=chance.choices((1, 2, 3), weights=(25, 45, 30))[0],
                        redirect_category="social" if chance.random() < 0.06 else "",
                        profiles=(_profile(chance),),
                        source=DEMO_SOURCE,
                        source_id=f"demo-{n}",
                    )
                )
        day += timedelta(days=1)
    async with write_transaction():
        ids = await service.insert_activities(commands, None, rt.now())
        sessions, registered = await _series(rt, chance, context, today)
        visits = await _tallies(chance, context, start, today)
        answers = await _answers(rt, chance, ids, commands)
    context.lines.append(
        f"Activités de démonstration : {len(ids)} accompagnements depuis le {start:%d/%m/%Y} chez {len(partners)} partenaires, "
        f"{sessions} séances d'ateliers ({registered} inscrits), {visits} passages en accès libre, "
        f"{answers} avis de satisfaction."
    )


async def _series(rt: Runtime, chance: random.Random, context: DemoContext, today: date) -> tuple[int, int]:
    """Each series started some weeks ago, one session a week, some registered people stopping along the way."""
    sessions = registered = 0
    for name, title, level, weekday, modules, seats in SERIES:
        sid = context.structures.get(name)
        if sid is None:
            continue
        first_day = today - timedelta(days=7 * (len(modules) + 1))
        first_day += timedelta(days=(weekday - first_day.weekday()) % 7)
        places = await service.places(sid)
        series = Series(
            structure=sid,
            title=title,
            level=level,
            place_id=places[0].id if places else None,
            place_label=places[0].name if places else "",
            weekday=weekday,
            start_time="14:00",
            duration=120,
            seats=seats,
            modules=list(modules),
            thematiques=["equipment", "browsing"],
            starts_on=first_day,
            created_at=rt.now(),
        )
        await series.save()
        people = []
        for k in range(seats - chance.randint(0, 2)):
            profile = _profile(chance, first_visit=True)
            registration = Registration(
                series=series.id,
                initial=f"{chr(65 + (k * 7) % 26)}.",
                age_band=profile.age_band,
                gender=profile.gender,
                status=profile.status,
                commune=profile.commune,
                channel=profile.channel,
                registered_on=first_day - timedelta(days=7),
            )
            await registration.save()
            stops_after = chance.randint(2, len(modules)) if chance.random() < 0.25 else len(modules) + 1
            people.append((int(registration.id), registration, stops_after))
        registered += len(people)
        came_before: set[int] = set()
        for number in range(1, len(modules) + 1):
            day = first_day + timedelta(days=7 * (number - 1))
            if day > today:
                break
            present = [rid for rid, _, stops in people if number < stops and chance.random() < 0.88]
            profiles = tuple(
                Profile(
                    age_band=reg.age_band,
                    gender=reg.gender,
                    status=reg.status,
                    commune=reg.commune,
                    channel=reg.channel,
                    first_visit=rid not in came_before,
                )
                for rid, reg, _ in people
                if rid in present
            )
            came_before |= set(present)
            (activity_id,) = await service.insert_activities(
                [
                    ActivityCreate(
                        structure_id=sid,
                        day=day,
                        kind="workshop",
                        duration=120,
                        place_id=series.place_id,
                        place_label=series.place_label,
                        thematiques=("equipment", "browsing"),
                        autonomy=level,
                        workshop_name=title,
                        participants=max(1, len(present)),
                        profiles=profiles,
                        series_id=int(series.id),
                        module_no=number,
                        source=DEMO_SOURCE,
                        source_id=f"demo-series-{series.id}-{number}",
                    )
                ],
                None,
                rt.now(),
            )
            await Attendance.insert(
                *[Attendance(registration=rid, activity=activity_id, present=rid in present) for rid, _, _ in people]
            )
            sessions += 1
    return sessions, registered


async def _tallies(chance: random.Random, context: DemoContext, start: date, today: date) -> int:
    rows, total = [], 0
    for name, (low, high, limit) in TALLIED.items():
        sid = context.structures.get(name)
        if sid is None:
            continue
        day = start
        while day <= today:
            if day.weekday() in (1, 2, 3, 4, 5):
                visits = chance.randint(low, high)
                total += visits
                rows.append(
                    Tally(structure=sid, place_key=0, place_label=name, day=day, visits=visits, time_limit=limit)
                )
            day += timedelta(days=1)
    for offset in range(0, len(rows), service.BATCH):
        await Tally.insert(*rows[offset : offset + service.BATCH])
    return total


async def _answers(rt: Runtime, chance: random.Random, ids: list[int], commands: list[ActivityCreate]) -> int:
    """A satisfaction code answered for about one session in eight (and a few left unanswered)."""
    now = rt.now()
    picked = [(i, c) for i, c in zip(ids, commands, strict=True) if chance.random() < 0.14]
    codes = [
        FeedbackCode(code=secrets.token_urlsafe(12), activity=i, created_at=now, expires_at=now, used_at=now)
        for i, _ in picked
    ]
    for offset in range(0, len(codes), service.BATCH):
        await FeedbackCode.insert(*codes[offset : offset + service.BATCH])
    answers = [
        Feedback(
            code=code.id,
            activity=i,
            structure=command.structure_id,
            day=command.day,
            satisfaction=chance.choices((1, 2, 3, 4, 5), weights=(2, 4, 12, 38, 44))[0],
            channel=_pick(chance, CHANNELS),
            answered_at=now,
        )
        for code, (i, command) in zip(codes, picked, strict=True)
    ]
    for offset in range(0, len(answers), service.BATCH):
        await Feedback.insert(*answers[offset : offset + service.BATCH])
    return len(answers)
