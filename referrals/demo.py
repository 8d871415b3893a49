"""The demo town's referrals: a year and a half of orientations between its partners (the older semester lighter),
sent and answered in office hours, in every state on both sides of the CAF's prescriber and the Roseraie's desk.

Runs after the directory's seed (the services) and the core's accounts; idempotent (nothing when the demo
already has referrals). Residents are invented (initials and a first name; phones in the 06 39 98 range
reserved for fiction); no mail is sent for them.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from hub.db import write_transaction
from hub.demo import journal_later, office_hour
from hub.journal import Act
from hub.modules import DemoContext
from hub.runtime import Runtime
from hub.tables import Membership
from network import referral_lookup as directory
from referrals.tables import Referral, ReferralEvent

SENDERS = (  # structures that send, by demo name, with their weight
    ("CAF du Loiret – accueil de Montclair", 5),
    ("CCAS de Montclair-sur-Loire", 4),
    ("Maison départementale des solidarités – secteur Nord", 3),
    ("Mission locale du Val de Loire", 2),
    ("PIMMS Médiation Montclair", 2),
    ("Centre social Bel-Air", 1),
)
FIRST_NAMES = ("Awa", "Bernard", "Chantal", "Djamel", "Élodie", "Fatou", "Gérard", "Hélène", "Ibrahim", "Jeanne")
NEEDS = (
    "Déclarer ses ressources trimestrielles en ligne",
    "Créer son espace France Travail",
    "Faire sa demande de logement social en ligne",
    "Apprendre à utiliser sa boîte mail",
    "Prendre rendez-vous pour un titre de séjour",
    "Obtenir un ordinateur à petit prix",
    "Faire sa déclaration d'impôts",
    "Ouvrir son compte Ameli",
)
# (status, weight, days the receiver took to answer or None)
FATES = (
    ("closed", 30),
    ("accepted", 10),
    ("refused", 10),
    ("redirected", 4),
    ("expired", 5),
    ("cancelled", 3),
    ("in_review", 6),
    ("sent", 8),
)
OUTCOMES = ("helped", "helped", "helped", "followed", "no_show", "sent_elsewhere")
REASONS = ("unreachable", "not_eligible", "full", "not_interested", "absent")
DEMO_COUNT = 230
DEMO_PRESCRIBER = "prescripteur.caf@demo.maillage.fr"
DEMO_RECEIVER = "Centre social de la Roseraie"  # its front desk's inbox shows every state, as the CAF's list does
OLDEST_DAYS = 520  # back to the start of the semester before last: the pack compares two semesters


async def seed(rt: Runtime, context: DemoContext) -> None:
    if await Referral.count() > 0:
        context.lines.append("Orientations de démonstration : déjà là.")
        return
    services = await directory.accepting_services()
    senders = [(context.structures[name], weight) for name, weight in SENDERS if name in context.structures]
    if not services or not senders:
        return
    chance = random.Random(2026)  # noqa: S311 (invented residents; the same demo every time)
    now = rt.now()
    made: dict[str, int] = {}
    caf = context.structures.get(SENDERS[0][0])
    members = await _members()
    desk = [c for c in services if c.structure_id == context.structures.get(DEMO_RECEIVER)]
    # every state between the CAF and the Roseraie first (two of the waiting ones), then the town's mix
    pairs: list[tuple[int | None, str | None]] = [
        (caf, status) for status, _ in FATES for _ in range(2 if status in ("sent", "in_review") else 1)
    ]
    plan = pairs if caf is not None and desk else []
    plan += [(None, None)] * (DEMO_COUNT - len(plan))
    async with write_transaction():
        for n, (forced_sender, forced_status) in enumerate(plan):
            if forced_sender is not None and forced_status is not None:
                sender, card, status = forced_sender, chance.choice(desk), forced_status
            else:
                sender = chance.choices([s for s, _ in senders], weights=[w for _, w in senders])[0]
                card = chance.choice([c for c in services if c.structure_id != sender])
                status = chance.choices([f for f, _ in FATES], weights=[w for _, w in FATES])[0]
            created = office_hour(now - timedelta(days=_age(chance, status)), chance)
            while created > now - timedelta(minutes=30):  # today's office hours are still to come
                created = office_hour(created - timedelta(days=1), chance)
            await _insert(rt, context, chance, n, sender, card, status, created, members)
            made[status] = made.get(status, 0) + 1
        booked = await _slots(rt, services, context, now)
    total = sum(made.values())
    context.lines.append(
        f"Orientations de démonstration : {total} sur dix-huit mois, dans tous les états ; "
        f"créneaux publiés par {len(SLOTTED)} services, {booked} rendez-vous pris."
    )


async def _members() -> dict[int, int]:
    """Each structure's first member (structure id -> user id): the demo's acts have an author on both sides."""
    rows = await Membership.select(Membership.structure, Membership.user).order_by(Membership.id)
    members: dict[int, int] = {}
    for row in rows:
        members.setdefault(int(row["structure"]), int(row["user"]))
    return members


SLOTTED = {  # structure name -> (weekday, start, end, minutes, seats) for its services taking referrals
    "CCAS de Montclair-sur-Loire": (1, "09:00", "12:00", 30, 2),
    "Centre social de la Roseraie": (0, "14:00", "16:00", 30, 2),  # its café numérique opens on Monday afternoons
    "France Services de Montclair": (0, "09:00", "12:00", 30, 3),
}


async def _slots(rt: Runtime, services: list[directory.ServiceCard], context: DemoContext, now: datetime) -> int:
    """Weekly schedules for a few services, and the next weeks' appointments of their open referrals."""
    from referrals import slots
    from referrals.tables import SlotSchedule

    schedule_of: dict[int, int] = {}
    for name, (weekday, start, end, minutes, seats) in SLOTTED.items():
        structure_id = context.structures.get(name)
        for card in [c for c in services if c.structure_id == structure_id][:2]:
            schedule = SlotSchedule(
                service_id=card.service_id,
                structure=card.structure_id,
                place=card.places[0].name,
                weekday=weekday,
                start_time=start,
                end_time=end,
                length=minutes,
                seats=seats,
                created_at=now,
            )
            await schedule.save()
            schedule_of[card.service_id] = int(schedule.id)
    booked = 0
    waiting = await (
        Referral.select(Referral.id, Referral.service_id)
        .where(
            Referral.status.is_in(["sent", "in_review", "accepted"])
            & Referral.service_id.is_in(list(schedule_of) or [0])
        )
        .order_by(Referral.id)
    )
    free = await slots.free_slots(list(schedule_of), now, limit=40)
    for row in waiting:
        options = free.get(row["service_id"], [])
        if not options:
            continue
        slot = options.pop(0)
        await slots.book(row["id"], row["service_id"], slot.schedule_id, slot.starts_at, now)
        booked += 1
    return booked


def _age(chance: random.Random, status: str) -> int:
    if status == "sent":
        return chance.choice((0, 1, 2, 4, 12, 16, 23))  # some overdue: reminded, escalated
    if status == "in_review":
        return chance.randint(1, 14)
    if status == "accepted":
        return chance.randint(3, 40)  # accepted, the appointment still to come or just held
    if status == "expired":
        return int(chance.triangular(35, OLDEST_DAYS, 35))
    return int(chance.triangular(25, OLDEST_DAYS, 25))  # fewer and fewer going back in time


async def _insert(
    rt: Runtime,
    context: DemoContext,
    chance: random.Random,
    n: int,
    sender: int,
    card: directory.ServiceCard,
    status: str,
    created: datetime,
    members: dict[int, int],
) -> int:
    first = chance.choice(FIRST_NAMES)
    now = rt.now()

    def later(days: int) -> datetime:  # a moment of the office hours this many days after the sending, not future
        at = office_hour(created + timedelta(days=days), chance)
        if at <= created:
            at = created + timedelta(minutes=chance.randint(40, 150))
        return min(at, now - timedelta(minutes=20))

    answered = later(chance.choice((0, 1, 1, 2, 3, 5))) if status not in ("sent", "expired", "cancelled") else None
    in_review_at = answered if status == "in_review" else None
    decided = answered if status in ("accepted", "closed", "refused", "redirected") else None
    closed = later((decided - created).days + chance.randint(2, 20)) if status == "closed" and decided else None
    if status == "expired":
        closed = created + timedelta(days=30)
    if status == "cancelled":
        closed = later(chance.randint(1, 5))
    caf = sender == context.structures.get(SENDERS[0][0])
    prescriber = context.users.get(DEMO_PRESCRIBER) if caf else members.get(sender)
    receiver = members.get(card.structure_id)  # who answers at the receiving structure, when it has a demo account
    row = Referral(
        code=secrets.token_urlsafe(18),
        status=status,
        sender_structure=sender,
        sender_user=prescriber,
        receiver_structure=card.structure_id,
        service_id=card.service_id,
        service_name=card.name,
        thematiques=list(card.thematiques[:1]),
        need=chance.choice(NEEDS),
        resident_name=f"{first} {chr(65 + n % 26)}.",
        resident_phone=f"06 39 98 {n // 100:02d} {n % 100:02d}",
        preferred_contact=chance.choice(("phone", "phone", "sms")),
        availability=chance.sample(["mo-am", "tu-am", "tu-pm", "we-am", "th-pm", "fr-am"], 2),
        note="",
        consent_method=chance.choice(("oral", "oral", "written")),
        consent_at=created,
        refusal_reason=chance.choice(REASONS) if status == "refused" else "",
        share_reason=status == "refused" and chance.random() < 0.6,
        outcome=chance.choice(OUTCOMES) if status == "closed" else "",
        created_at=created,
        updated_at=closed or decided or in_review_at or created,
        first_answer_at=answered,
        decided_at=decided,
        closed_at=closed,
        reminded_at=created + timedelta(days=10)
        if status in ("sent", "expired") and (rt.now() - created).days >= 10
        else None,
        escalated_at=created + timedelta(days=20)
        if status in ("sent", "expired") and (rt.now() - created).days >= 20
        else None,
    )
    await row.save()
    referral_id = int(row.id)
    events: list[dict[str, Any]] = [{"at": created, "action": "send", "from": "", "to": "sent", "side": sender}]
    if answered and status == "in_review":
        events.append({"at": answered, "action": "review", "from": "sent", "to": "in_review"})
    if decided:
        action = {"accepted": "accept", "closed": "accept", "refused": "refuse", "redirected": "redirect"}[status]
        target = "accepted" if status == "closed" else status
        events.append({"at": decided, "action": action, "from": "sent", "to": target})
    if status == "closed" and closed:
        events.append({"at": closed, "action": "close", "from": "accepted", "to": "closed"})
    if status == "expired" and closed:
        events.append({"at": closed, "action": "expire", "from": "sent", "to": "expired", "hub": True})
    if status == "cancelled" and closed:
        events.append({"at": closed, "action": "cancel", "from": "sent", "to": "cancelled", "side": sender})
    for event in events:
        by_sender = event.get("side") == sender
        if not event.get("hub"):  # the expiry is journaled by the jobs loop as a count, not one by one
            action = "referral_sent" if event["action"] == "send" else f"referral_{event['action']}"
            acting = sender if by_sender else card.structure_id
            details = {"to": card.structure_id} if event["action"] == "send" else {}
            journal_later(
                context,
                event["at"],
                Act(action, prescriber if by_sender else receiver, acting, "referral", referral_id, details),
            )
        await ReferralEvent.insert(
            ReferralEvent(
                referral=referral_id,
                at=event["at"],
                actor_user=None if event.get("hub") else (prescriber if by_sender else receiver),
                actor_structure=None if event.get("hub") else (sender if by_sender else card.structure_id),
                action=event["action"],
                from_status=event["from"],
                to_status=event["to"],
            )
        )
    return referral_id
