"""Routing: which services fit a resident's need, ranked, each with its reasons in plain French.

The scoring rule, in one place (the README writes it out):
- **Out of the list** (a rule says why, for "pourquoi pas ce service ?"): the service takes no referral or is
  closed; it is not given the way the person can come (on site / remote); it lacks a needed accommodation
  (deafness, reduced mobility…) or the person's language; the person lives outside its eligibility zone or is
  not among its publics; it is farther than the distance the person can travel.
- **Score out of 100**, the sum of:
  need 30 × (thématiques asked that it covers ÷ thématiques asked; 30 when none asked)
  distance 25 ÷ (1 + km ÷ 2) (8 when either side has no point)
  availability 20 when open during one of the person's half-days, 0 when closed at all of them (10 when none given)
  load 10 × (1 − referrals of the last 7 days ÷ weekly capacity, floored at 0) (5 when no capacity is published)
  answers 10 ÷ (1 + median days to the receiver's first answer over 90 days ÷ 3) (5 when it has no history)
  slot 5 when it publishes slots and one is free within 7 days, 2 later, 0 when none is free (2 when it
  publishes none: it is not punished for taking people without appointments)
- **Words** typed beside the thématiques rank, they do not exclude: the services of the thématiques come first by
  how many of the words they match (each word with the directory's synonyms, as its search does; a word every
  candidate matches ranks nothing and is not named), the words matched said in the reasons. Words alone (no
  thématique) are the need: the directory's search picks the candidates (half of the ideas at least).
- **Ties** break by distance, then by the service's id: the same request always gives the same order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from piccolo.query.functions.aggregate import Count

from hub import db
from hub.errors import Invalid, NotFound
from hub.runtime import Runtime
from network import referral_lookup as directory
from referrals import slots
from referrals.schemas import Candidate, RouteRequest, RouteResult
from referrals.service import HALF_DAYS
from referrals.tables import Referral

CANDIDATES = 100  # how many matching services the directory's search hands over before scoring
SHOWN = 20
DAY_CODES = {"mo": 0, "tu": 1, "we": 2, "th": 3, "fr": 4, "sa": 5}
HALF_DAY_HOURS = {"am": (9, 10, 11), "pm": (14, 15, 16)}


@dataclasses.dataclass
class Context:
    """What a request's scoring needs beyond the cards: the origin, the loads and answer delays."""

    request: RouteRequest
    origin: directory.Origin | None
    now: datetime
    loads: dict[int, int]  # service id -> referrals of the last 7 days
    answer_days: dict[int, float]  # structure id -> median days to the first answer (90 days)
    free: dict[int, list[slots.FreeSlot]] = dataclasses.field(default_factory=dict)  # service id -> next free slot
    publishes: set[int] = dataclasses.field(default_factory=set)  # services that publish slots
    opened: dict[tuple[str, datetime], bool] = dataclasses.field(default_factory=dict)  # hours evaluated once

    def is_open(self, expression: str, at: datetime) -> bool:
        """directory.is_open, once per expression and moment of a request (many services share their hours)."""
        key = (expression, at)
        if key not in self.opened:
            self.opened[key] = directory.is_open(expression, at)
        return self.opened[key]


def _km(origin: directory.Origin, lat: float, lon: float) -> float:
    p1, p2 = math.radians(origin.latitude), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - origin.longitude)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(a))


def _distance_km(card: directory.ServiceCard, origin: directory.Origin | None) -> float | None:
    if origin is None:
        return None
    found = [
        _km(origin, p.latitude, p.longitude) for p in card.places if p.latitude is not None and p.longitude is not None
    ]
    return min(found) if found else None


def _map_place(card: directory.ServiceCard, origin: directory.Origin | None) -> directory.PlaceCard | None:
    """The place the map shows for a service: the nearest located one, else its first located one."""
    located = [p for p in card.places if p.latitude is not None and p.longitude is not None]
    if not located:
        return None
    if origin is None:
        return located[0]
    return min(located, key=lambda p: _km(origin, p.latitude, p.longitude))  # type: ignore[arg-type]


def _next_day(now: datetime, weekday: int) -> datetime:
    return now + timedelta(days=(weekday - now.weekday()) % 7)


def _open_half_days(card: directory.ServiceCard, wanted: Sequence[str], ctx: Context) -> list[str]:
    """The person's half-days (next 7 days) during which one of the service's places is open."""
    found = []
    for code in wanted:
        day, _, half = code.partition("-")
        if day not in DAY_CODES or half not in HALF_DAY_HOURS:
            continue
        date = _next_day(ctx.now, DAY_CODES[day])
        for hour in HALF_DAY_HOURS[half]:
            at = date.replace(hour=hour, minute=30, second=0, microsecond=0, tzinfo=None)  # naive: Europe/Paris
            if any(ctx.is_open(p.opening_hours, at) for p in card.places):
                found.append(code)
                break
    return found


def _answer_text(days: float) -> str:
    if days < 1:
        return "répond en moins d'un jour en général"
    rounded = round(days)
    return f"répond en {rounded} jour{'s' if rounded > 1 else ''} en général"


def distance_text(distance_m: float) -> str:
    """ "à 350 m", "à 1,2 km"."""
    if distance_m < 1000:
        return f"à {round(distance_m, -1):.0f} m"
    return f"à {distance_m / 1000:.1f} km".replace(".", ",")


def _exclusions(card: directory.ServiceCard, ctx: Context, km: float | None) -> list[str]:
    request, out = ctx.request, []
    if not card.active:
        out.append("Ce service est fermé ou retiré de l'annuaire.")
    if not card.accepts_referrals:
        out.append("Ce service ne reçoit pas d'orientations : il faut le contacter directement.")
    if request.modes:
        offered = {"on_site": "en-presentiel", "remote": "a-distance"}
        if card.reception_modes and not any(offered[m] in card.reception_modes for m in request.modes):
            out.append("Il n'accueille pas de la façon demandée (sur place ou à distance).")
    if missing := [a for a in request.accommodations if a not in card.accommodations]:
        out.append(f"Aménagement non indiqué : {', '.join(directory.labels('accommodation', missing))}.")
    if request.language and request.language != "fr" and card.languages and request.language not in card.languages:
        out.append("La langue de la personne n'est pas indiquée parmi celles du service.")
    zone = [z for z in card.eligibility_zone if z]
    if request.commune_insee and zone and "france" not in zone:
        if request.commune_insee not in zone and request.commune_insee[:2] not in zone:
            out.append("La personne habite hors de la zone où ce service intervient.")
    if request.public and card.publics and "tous-publics" not in card.publics and request.public not in card.publics:
        out.append("Ce service s'adresse à d'autres publics.")
    if request.max_distance_km is not None and km is not None and km > request.max_distance_km:
        out.append(f"Il est {distance_text(km * 1000)}, plus loin que les {request.max_distance_km:g} km possibles.")
    return out


def score(card: directory.ServiceCard, ctx: Context) -> Candidate:
    """A service's score, reasons and warnings; `excluded` lists the rules that put it out of the list."""
    request = ctx.request
    km = _distance_km(card, ctx.origin)
    reasons: list[str] = []
    warnings: list[str] = []
    asked = list(dict.fromkeys(request.thematiques))
    covered = [t for t in asked if t in card.thematiques]
    need = 30.0 * (len(covered) / len(asked)) if asked else 30.0
    if covered:
        reasons.append("pour " + ", ".join(directory.thematique_label(t).lower() for t in covered[:2]))
    elif asked:
        warnings.append("ne couvre pas exactement le besoin indiqué")
    if km is not None:
        distance = 25.0 / (1 + km / 2)
        reasons.append(distance_text(km * 1000))
    else:
        distance = 8.0
    if request.availability:
        open_codes = _open_half_days(card, request.availability, ctx)
        availability = 20.0 if open_codes else 0.0
        if open_codes:
            reasons.append("ouvert le " + " et le ".join(HALF_DAYS[c] for c in open_codes[:2]))
        else:
            warnings.append("fermé aux moments où la personne est disponible")
    else:
        availability = 10.0
    recent = ctx.loads.get(card.service_id, 0)
    if card.weekly_capacity:
        load = 10.0 * max(0.0, 1 - recent / card.weekly_capacity)
        if recent >= card.weekly_capacity:
            warnings.append(f"complet cette semaine ({recent} orientations pour {card.weekly_capacity} places)")
        else:
            reasons.append(f"{card.weekly_capacity - recent} places libres cette semaine")
    else:
        load = 5.0
    days = ctx.answer_days.get(card.structure_id)
    if days is not None:
        answers = 10.0 / (1 + days / 3)
        reasons.append(_answer_text(days))
    else:
        answers = 5.0
    next_free = ctx.free.get(card.service_id, [])
    next_slot = ""
    if next_free:
        next_slot = next_free[0].label
        soon = next_free[0].starts_at <= ctx.now + timedelta(days=7)
        appointment = 5.0 if soon else 2.0
        reasons.append(f"prochain créneau {next_slot}")
    elif card.service_id in ctx.publishes:
        appointment = 0.0
        warnings.append("aucun créneau libre dans les 4 semaines")
    else:
        appointment = 2.0
    place = _map_place(card, ctx.origin)
    return Candidate(
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        place_name=(place.name or place.commune) if place else "",
        service_id=card.service_id,
        service_name=card.name,
        structure_id=card.structure_id,
        structure_name=card.structure_name,
        score=round(need + distance + availability + load + answers + appointment, 1),
        next_slot=next_slot,
        distance_m=round(km * 1000) if km is not None else None,
        reasons=reasons,
        warnings=warnings,
        excluded=_exclusions(card, ctx, km),
    )


def _order(candidate: Candidate, words: dict[int, list[str]] | None = None) -> tuple[int, float, float, int]:
    far = candidate.distance_m if candidate.distance_m is not None else math.inf
    matched = len((words or {}).get(candidate.service_id, ()))
    return (-matched, -candidate.score, far, candidate.service_id)


async def _candidates(
    request: RouteRequest, probe: Context, radius: float | None
) -> tuple[dict[int, int], dict[int, list[str]]]:
    """The candidates (service id -> structure id) and, for each, the typed words it matches.

    With thématiques, they are the need and the words only rank: the thématiques' services, and those the
    directory's search finds for the words. Without, the words are the need: the search alone picks them."""

    async def lookup(text: str) -> dict[int, int]:
        return await directory.candidates(
            thematiques=request.thematiques,
            text=text,
            origin=probe.origin,
            radius_m=radius,
            now=probe.now,
            limit=CANDIDATES,
        )

    text = request.text.strip()
    if not text:
        return await lookup(""), {}
    if request.thematiques:  # both searches at once, each on a connection of its own (route runs outside one)
        worded, unworded = await asyncio.gather(lookup(text), lookup(""))
        found = {**unworded, **worded}
    else:
        found = await lookup(text)
    words = await directory.words_matched(list(found), text)
    # a word every candidate matches ranks nothing, and is not named
    everywhere = set.intersection(*(set(words.get(service_id, ())) for service_id in found)) if found else set()
    kept = {service_id: [w for w in matched if w not in everywhere] for service_id, matched in words.items()}
    return found, {service_id: matched for service_id, matched in kept.items() if matched}


async def _context(
    rt: Runtime, request: RouteRequest, service_ids: Sequence[int], structure_ids: Sequence[int]
) -> Context:
    now = rt.now()
    origin: directory.Origin | None = None
    if request.address.strip():
        origin = await directory.locate(rt, request.address.strip())
    elif request.latitude is not None and request.longitude is not None:
        origin = directory.Origin(latitude=request.latitude, longitude=request.longitude)
    elif request.latitude is not None or request.longitude is not None:
        raise Invalid("Donnez la latitude et la longitude ensemble.", {"latitude": "Point incomplet."})
    return Context(request, origin, now, await _loads(service_ids, now), await _answer_days(structure_ids, now))


async def _loads(service_ids: Sequence[int], now: datetime) -> dict[int, int]:
    if not service_ids:
        return {}
    rows = await (
        Referral.select(Referral.service_id, Count(alias="n"))
        .where(
            db.among(Referral.service_id, service_ids)
            & (Referral.created_at >= now - timedelta(days=7))
            & (Referral.status != "cancelled")
        )
        .group_by(Referral.service_id)
    )
    return {row["service_id"]: row["n"] for row in rows}


async def _answer_days(structure_ids: Sequence[int], now: datetime) -> dict[int, float]:
    """Each receiving structure's median days to its first answer over the last 90 days. The database computes
    each delay (a number per referral, no timestamps to parse); the median is taken here."""
    if not structure_ids:
        return {}
    if db.current_engine().engine_type == "postgres":
        delay = "EXTRACT(EPOCH FROM (first_answer_at - created_at)) / 86400.0"
    else:
        delay = "julianday(first_answer_at) - julianday(created_at)"
    among, ids = db.among_sql("receiver_structure", structure_ids)
    rows = await Referral.raw(
        f"SELECT receiver_structure AS s, {delay} AS d FROM referrals_referral "  # noqa: S608 (placeholders only)
        f"WHERE {among} AND created_at >= {{}} AND first_answer_at IS NOT NULL",
        ids,
        now - timedelta(days=90),
    )
    delays: dict[int, list[float]] = {}
    for row in rows:
        delays.setdefault(row["s"], []).append(float(row["d"]))
    return {sid: statistics.median(values) for sid, values in delays.items()}


async def route(rt: Runtime, request: RouteRequest) -> RouteResult:
    """The ranked services for this need (at most SHOWN), best first."""
    if not request.thematiques and not request.text.strip():
        raise Invalid(
            "Indiquez le besoin : au moins une thématique ou quelques mots.", {"thematiques": "Besoin manquant."}
        )
    probe = await _context(rt, request, (), ())
    radius = request.max_distance_km * 1000 if request.max_distance_km else None
    found_ids, words = await _candidates(request, probe, radius)
    ids = list(found_ids)
    # the cards and all the rest, at once (reads only, each on its own connection)
    found, loads, (free, publishes), answer_days = await asyncio.gather(
        directory.cards(ids),
        _loads(ids, probe.now),
        slots.offer(ids, probe.now),
        _answer_days(sorted(set(found_ids.values())), probe.now),
    )
    ctx = dataclasses.replace(probe, loads=loads, answer_days=answer_days, free=free, publishes=publishes)
    scored = [score(card, ctx) for card in found.values()]
    for candidate in scored:
        if matched := words.get(candidate.service_id):
            quoted = ", ".join(f"« {word} »" for word in matched)
            candidate.reasons.insert(0, f"{'mot trouvé' if len(matched) == 1 else 'mots trouvés'} : {quoted}")
    ranked = sorted(scored, key=lambda candidate: _order(candidate, words))
    kept = [c for c in ranked if not c.excluded][:SHOWN]
    return RouteResult(
        candidates=kept,
        origin_label=ctx.origin.label if ctx.origin else "",
        origin_latitude=ctx.origin.latitude if ctx.origin else None,
        origin_longitude=ctx.origin.longitude if ctx.origin else None,
    )


async def why_not(rt: Runtime, request: RouteRequest, service_id: int) -> Candidate:
    """One service judged against this request: its score and reasons, and the rules that exclude it."""
    card = (await directory.cards([service_id])).get(service_id)
    if card is None:
        raise NotFound("Ce service n'existe pas.")
    ctx = await _context(rt, request, [service_id], [card.structure_id])
    ctx.free, ctx.publishes = await slots.offer([service_id], ctx.now)
    candidate = score(card, ctx)
    asked = set(request.thematiques)
    if asked and not asked & set(card.thematiques):
        candidate.excluded.append("Il ne couvre aucune des thématiques du besoin.")
    return candidate
