"""The demo town's meetings: last semester's network meeting (agenda, answered invitations, attendance, minutes,
decisions and action items, some still open), an aidant training, the next network meeting (in about ten days,
its agenda carrying the open items) and partner indicators with values for last semester.

Seeded relative to the real clock (`rt.today()`); idempotent (nothing when the demo already has events); no mail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from hub.db import write_transaction
from hub.modules import DemoContext
from hub.reporting import Period
from hub.runtime import PARIS, Runtime
from hub.tables import Membership
from network.meetings import indicators
from network.meetings.tables import (
    ActionItem,
    Attendance,
    IndicatorValue,
    Invitation,
    MeetingEvent,
    PartnerIndicator,
)

TOWN_HALL = "Salle du conseil, Hôtel de ville, 1 place de la Mairie, Montclair-sur-Loire"
MINUTES = """Présents : voir la feuille de présence.

1. Bilan du semestre
Le réseau a reçu plus d'orientations que le semestre précédent. Les délais de réponse baissent.
Les quartiers des Aubiers et de la Gare restent peu couverts pour l'aide aux démarches en ligne.

2. Nouvelles structures
Deux associations ont rejoint le réseau. Elles présenteront leurs services à la prochaine réunion.

3. Formation des aidants
Une session est organisée au printemps pour les nouveaux aidants.

Décisions et actions : voir la liste sur la page de la réunion."""


PRIOR_MINUTES = """Présents : voir la feuille de présence.

1. Bilan du semestre
Premier semestre complet du réseau : les partenaires enregistrent leurs accompagnements dans Maillage.

2. Calendrier
Le réseau se réunira en juin et en décembre ; une formation des aidants est prévue au printemps."""


def _after(day: dt.date, days: int) -> dt.datetime:
    """A working moment (10 h in Paris) this many days after a day (before, when negative)."""
    return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(10, 0), PARIS)


def _hash() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()  # a link nobody holds: the demo sends no mail


async def _members() -> list[dict[str, Any]]:
    rows = await Membership.select(Membership.user, Membership.structure).where(Membership.structure.status == "active")
    people: dict[int, int] = {}
    for row in sorted(rows, key=lambda r: (r["user"], r["structure"])):
        people.setdefault(row["user"], row["structure"])
    return [{"user": user, "structure": structure} for user, structure in sorted(people.items())]


async def seed(rt: Runtime, context: DemoContext) -> None:
    if await MeetingEvent.count() > 0:
        context.lines.append("Réunions de démonstration : déjà là.")
        return
    today = rt.today()
    last = Period.parse(f"{today.year}-S{1 if today.month <= 6 else 2}").previous()
    meeting_day = last.start + dt.timedelta(days=162)  # mid-June (or early December)
    training_day = last.start + dt.timedelta(days=92)
    next_day = today + dt.timedelta(days=11)
    coordinator = context.users.get("coordination@demo.maillage.fr")
    structures = context.structures
    owners = [
        structures.get(name)
        for name in (
            "CCAS de Montclair-sur-Loire",
            "France Services de Montclair",
            "Centre social de la Roseraie",
            "CAF du Loiret – accueil de Montclair",
        )
    ]
    members = await _members()
    stamp = rt.now()
    answers = ["yes", "yes", "maybe", "no", "yes", ""]
    async with write_transaction():
        meeting = await _event(
            "meeting",
            f"Réunion du réseau, semestre {last.label}",
            meeting_day,
            ("14:00", "16:30"),
            [
                "Accueil et tour de table",
                f"Bilan du semestre {last.label}",
                "Les nouvelles structures du réseau",
                "La formation des aidants",
                "Questions diverses",
            ],
            "held",
            coordinator,
            stamp,
        )
        written = _after(meeting_day, 2)  # the minutes are written in the days after the meeting
        await MeetingEvent.update({MeetingEvent.minutes: MINUTES, MeetingEvent.minutes_at: written}).where(
            MeetingEvent.id == meeting
        )
        # the semester before: its meeting too, so that the pack compares two semesters of the network's life
        prior = last.previous()
        prior_day = prior.start + dt.timedelta(days=162)
        earlier = await _event(
            "meeting",
            f"Réunion du réseau, semestre {prior.label}",
            prior_day,
            ("14:00", "16:30"),
            ["Accueil et tour de table", f"Bilan du semestre {prior.label}", "Le calendrier de l'année"],
            "held",
            coordinator,
            _after(prior_day, -30),
        )
        await MeetingEvent.update(
            {MeetingEvent.minutes: PRIOR_MINUTES, MeetingEvent.minutes_at: _after(prior_day, 3)}
        ).where(MeetingEvent.id == earlier)
        for n, person in enumerate(members):
            await _invite(earlier, person, answers[(n + 1) % len(answers)], prior_day, _after(prior_day, -30))
            if n % 3 != 2:
                await Attendance(
                    event=earlier, user=person["user"], structure=person["structure"], recorded_at=_after(prior_day, 0)
                ).save()
        for n, person in enumerate(members):
            answer = answers[n % len(answers)]
            await _invite(meeting, person, answer, meeting_day, stamp)
            if answer == "yes" or (answer == "maybe" and n % 2 == 0):
                await Attendance(
                    event=meeting, user=person["user"], structure=person["structure"], recorded_at=stamp
                ).save()
        items = [
            ("decision", "Le réseau se réunit deux fois par an, en juin et en décembre.", None, None, "todo"),
            (
                "decision",
                "Chaque structure met à jour sa fiche de l'annuaire avant chaque réunion.",
                None,
                None,
                "todo",
            ),
            ("action", "Ouvrir une permanence d'aide aux démarches aux Aubiers", 0, 120, "doing"),
            ("action", "Présenter les services France Services aux nouveaux partenaires", 1, 60, "done"),
            ("action", "Recenser les besoins en matériel des structures du quartier de la Gare", 2, 150, "todo"),
            ("action", "Compter les nouvelles inscriptions à la CAF par quartier", 3, 90, "todo"),
        ]
        for kind, title, owner, due_days, status in items:
            owner_id = owners[owner] if owner is not None else None
            if kind == "action" and owner_id is None:
                continue
            await ActionItem(
                event=meeting,
                kind=kind,
                title=title,
                owner_structure=owner_id,
                due_date=meeting_day + dt.timedelta(days=due_days) if due_days else None,
                status=status,
                created_at=stamp,
                updated_at=stamp,
                closed_at=stamp if status == "done" else None,
            ).save()
        training = await _event(
            "training",
            "Formation des aidants : accompagner les démarches en ligne",
            training_day,
            ("09:30", "12:30"),
            ["Le mandat Aidants Connect", "Les démarches CAF en ligne", "Cas pratiques"],
            "held",
            coordinator,
            stamp,
        )
        for n, person in enumerate(members[:4]):
            await _invite(training, person, "yes", training_day, stamp)
            if n != 3:
                await Attendance(
                    event=training, user=person["user"], structure=person["structure"], recorded_at=stamp
                ).save()
        upcoming = await _event(
            "meeting",
            f"Réunion du réseau, semestre {today.year}-S{1 if today.month <= 6 else 2}",
            next_day,
            ("14:00", "16:30"),
            [
                "Accueil et tour de table",
                f"Le bilan du semestre {last.label} : présentation du dossier",
                "Les indicateurs des partenaires",
            ],
            "invited",
            coordinator,
            stamp,
        )
        for n, person in enumerate(members):
            await _invite(upcoming, person, ["yes", "", "maybe", "yes"][n % 4], next_day, stamp)
        count = await _indicators(rt, last, structures, coordinator, stamp)
    context.ids["meetings"] = {"last_meeting": meeting, "training": training, "next_meeting": upcoming}
    context.lines.append(
        f"Réunions de démonstration : la réunion {last.label} (compte rendu, 6 décisions et actions), "
        f"une formation des aidants, la prochaine réunion le {next_day:%d/%m/%Y} ; {count} valeurs d'indicateurs."
    )


async def _event(
    kind: str,
    title: str,
    day: dt.date,
    times: tuple[str, str],
    agenda: list[str],
    status: str,
    coordinator: int | None,
    stamp: dt.datetime,
) -> int:
    event = MeetingEvent(
        kind=kind,
        title=title,
        day=day,
        start_time=times[0],
        end_time=times[1],
        place=TOWN_HALL,
        agenda=agenda,
        audience="all",
        status=status,
        created_by=coordinator,
        created_at=stamp,
        updated_at=stamp,
        invited_at=stamp,
    )
    await event.save()
    return int(event.id)


async def _invite(event_id: int, person: dict[str, Any], answer: str, day: dt.date, stamp: dt.datetime) -> None:
    await Invitation(
        event=event_id,
        user=person["user"],
        structure=person["structure"],
        token_hash=_hash(),
        token_used_at=stamp if answer else None,
        answer=answer,
        answered_at=stamp if answer else None,
        created_at=stamp,
    ).save()


async def _indicators(
    rt: Runtime, period: Period, structures: dict[str, int], coordinator: int | None, stamp: dt.datetime
) -> int:
    caf = PartnerIndicator(
        label="Nouvelles inscriptions à la CAF",
        definition="Personnes aidées à créer leur compte en ligne sur caf.fr pendant la période.",
        unit="inscriptions",
        number_type="integer",
        by_neighbourhood=True,
        created_at=stamp,
    )
    await caf.save()
    hours = PartnerIndicator(
        label="Heures d'accompagnement numérique",
        definition="Heures passées à accompagner des personnes sur un outil numérique, ateliers compris.",
        unit="heures",
        number_type="decimal",
        created_at=stamp,
    )
    await hours.save()
    places = await indicators.neighbourhoods()
    reporting = [
        (name, sid)
        for name, sid in sorted(structures.items())
        if name
        in (
            "CAF du Loiret – accueil de Montclair",
            "CCAS de Montclair-sur-Loire",
            "Centre social de la Roseraie",
            "France Services de Montclair",
        )
    ]
    count = 0
    for n, (_, sid) in enumerate(reporting):
        split = {place: (n + 2) * (k + 1) % 9 + 1 for k, place in enumerate(places[:4])}
        rows = [(caf.id, "", float(sum(split.values())))]
        rows += [(caf.id, place, float(value)) for place, value in split.items()]
        rows.append((hours.id, "", 42.5 + 17.25 * n))
        for indicator_id, place, value in rows:
            await IndicatorValue(
                indicator=indicator_id,
                structure=sid,
                period=period.label,
                neighbourhood=place,
                value=value,
                entered_by=coordinator,
                entered_at=stamp,
            ).save()
            count += 1
    return count
