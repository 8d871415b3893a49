"""Activity records' rules: who records and reads what, the checks every activity passes (typed on a page or
imported), writing activities with their anonymous participants, the list with its filters, the free-access tally.

A structure's activities are its members' (any role): anyone else gets a 404, the coordinator included, who reads
figures (network.activities.figures). Workshop series and satisfaction codes are in network.activities.workshops.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.engine.sqlite import SQLiteEngine

from hub.accounts import Actor
from hub.db import current_engine, write_transaction
from hub.errors import Invalid, NotFound
from hub.runtime import Runtime
from hub.tables import Structure
from network.activities import vocabulary as vocab
from network.activities.schemas import ActivityCreate, Profile
from network.activities.tables import Activity, Participant, Tally
from network.tables import Place

OLDEST = date(2015, 1, 1)  # before the national tools existed: a typing error
INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
MAX_LABEL = 200
MAX_COMMUNE = 120
NOT_FOUND = "Cette page n'existe pas, ou elle n'est pas celle d'une de vos structures."
BATCH = 400  # rows per INSERT: well under SQLite's limit of bound values
ID_MAX = 2**31 - 1  # ids are PostgreSQL integers


# ---------------------------------------------------------------- who sees what
def require_member(actor: Actor, structure_id: int) -> None:
    """A member of the structure (any role); a 404 for anyone else, the coordinator included."""
    if not actor.has_role(structure_id):
        raise NotFound(NOT_FOUND)


def require_figures(actor: Actor, structure_id: int) -> None:
    """A structure's figures: its members, and the coordinator (aggregates only)."""
    if not (actor.oversees_network or actor.has_role(structure_id)):
        raise NotFound(NOT_FOUND)


async def structure_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(wanted))
    return {row["id"]: row["name"] for row in rows}


async def my_structures(actor: Actor) -> dict[int, str]:
    names = await structure_names(actor.structures_with())
    return dict(sorted(names.items(), key=lambda item: item[1]))


@dataclasses.dataclass(frozen=True)
class PlaceChoice:
    id: int
    name: str
    commune: str


async def places(structure_id: int) -> list[PlaceChoice]:
    """The structure's own places in the directory (its active services'), one per name."""
    rows = await (
        Place.select(Place.id, Place.name, Place.commune)
        .where((Place.service.structure == structure_id) & (Place.service.is_active == True))  # noqa: E712
        .order_by(Place.id)
    )
    found: dict[str, PlaceChoice] = {}
    for row in rows:
        name = row["name"] or "Lieu sans nom"
        found.setdefault(name.casefold(), PlaceChoice(row["id"], name, row["commune"]))
    return sorted(found.values(), key=lambda p: p.name)


async def directory_structures() -> dict[int, str]:
    """Active structures of the directory, to redirect a person to."""
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.status == "active")
    return dict(sorted(((r["id"], r["name"]) for r in rows), key=lambda item: item[1]))


# ---------------------------------------------------------------- the checks (pages and imports alike)
def _unknown(codes: Sequence[str], known: dict[str, str]) -> list[str]:
    return [code for code in codes if code not in known]


def check_profile(profile: Profile, prefix: str = "") -> dict[str, str]:
    errors: dict[str, str] = {}
    if profile.age_band not in vocab.AGE_BANDS:
        errors[f"{prefix}age_band"] = f"Tranche d'âge inconnue : « {profile.age_band} »."
    if profile.gender not in vocab.GENDERS:
        errors[f"{prefix}gender"] = f"Genre inconnu : « {profile.gender} »."
    if profile.status not in vocab.STATUSES:
        errors[f"{prefix}status"] = f"Statut inconnu : « {profile.status} »."
    if profile.channel not in vocab.CHANNELS:
        errors[f"{prefix}channel"] = f"Façon de connaître le lieu inconnue : « {profile.channel} »."
    if profile.commune_insee and not INSEE.match(profile.commune_insee):
        errors[f"{prefix}commune_insee"] = "Code INSEE invalide : 5 caractères, par exemple 45234 ou 2A004."
    if len(profile.commune) > MAX_COMMUNE:
        errors[f"{prefix}commune"] = f"Commune trop longue : {MAX_COMMUNE} caractères au plus."
    if len(profile.neighbourhood) > MAX_COMMUNE:
        errors[f"{prefix}neighbourhood"] = f"Quartier trop long : {MAX_COMMUNE} caractères au plus."
    if profile.satisfaction is not None and not 1 <= profile.satisfaction <= 5:
        errors[f"{prefix}satisfaction"] = "Satisfaction : de 1 à 5."
    return errors


def check_activity(command: ActivityCreate, today: date, place_ids: set[int] | None = None) -> dict[str, str]:
    """Every field's French message, or nothing: the same rules for a typed activity and an imported row."""
    errors: dict[str, str] = {}
    if command.kind not in vocab.KINDS:
        errors["kind"] = "Choisissez accompagnement individuel ou atelier collectif."
    if command.day > today:
        errors["day"] = "La date est dans le futur : une activité s'enregistre le jour même ou après."
    elif command.day < OLDEST:
        errors["day"] = f"Date trop ancienne : le {command.day.strftime('%d/%m/%Y')} est avant 2015."
    if command.duration <= 0:
        errors["duration"] = "La durée doit être un nombre de minutes positif."
    elif command.duration > vocab.MAX_DURATION:
        errors["duration"] = f"Durée de {command.duration} minutes : {vocab.MAX_DURATION} au plus (8 heures)."
    if command.place_kind not in vocab.PLACE_KINDS:
        errors["place"] = "Lieu inconnu : un lieu de la structure, à domicile, à distance ou autre lieu."
    elif command.place_id is not None and place_ids is not None and command.place_id not in place_ids:
        errors["place"] = "Ce lieu n'est pas un des lieux de la structure."
    if len(command.place_label) > MAX_LABEL:
        errors["place_label"] = f"Nom du lieu trop long : {MAX_LABEL} caractères au plus."
    if not command.thematiques:
        errors["thematiques"] = "Choisissez au moins une thématique."
    elif unknown := _unknown(command.thematiques, vocab.THEMATIQUES):
        errors["thematiques"] = f"Thématique inconnue : « {unknown[0]} »."
    if unknown := _unknown(command.demarches, vocab.DEMARCHES):
        errors["demarches"] = f"Démarche administrative inconnue : « {unknown[0]} »."
    if unknown := _unknown(command.materials, vocab.MATERIALS):
        errors["materials"] = f"Matériel inconnu : « {unknown[0]} »."
    if len(command.demarche_name) > MAX_LABEL or len(command.workshop_name) > MAX_LABEL:
        errors["demarche_name"] = f"Nom trop long : {MAX_LABEL} caractères au plus."
    if command.autonomy is not None and not 1 <= command.autonomy <= 3:
        errors["autonomy"] = "Niveau d'autonomie : 1, 2 ou 3 (sur 3)."
    if command.redirect_category and command.redirect_category not in vocab.REDIRECT_CATEGORIES:
        errors["redirect"] = f"Type de structure de redirection inconnu : « {command.redirect_category} »."
    if command.participants < 1 or command.participants > vocab.MAX_PARTICIPANTS:
        errors["participants"] = f"Nombre de participants : de 1 à {vocab.MAX_PARTICIPANTS}."
    elif command.kind == "individual" and command.participants != 1:
        errors["participants"] = "Un accompagnement individuel compte une personne : choisissez atelier collectif."
    if len(command.profiles) > command.participants:
        errors["participants"] = (
            f"{len(command.profiles)} personnes décrites pour {command.participants} participants : "
            "comptez-les toutes dans le nombre de participants."
        )
    for index, profile in enumerate(command.profiles):
        errors.update(check_profile(profile, "" if len(command.profiles) == 1 else f"{index + 1}."))
    if command.referral_id is not None and not 1 <= command.referral_id <= ID_MAX:
        errors["referral_id"] = "Numéro d'orientation invalide."
    return errors


def _with_partner_channel(command: ActivityCreate) -> ActivityCreate:
    """An activity answering a referral: the person was sent by a partner, whatever else was ticked."""
    if command.referral_id is None:
        return command
    first = command.profiles[0] if command.profiles else Profile()
    profiles = (msgspec.structs.replace(first, channel="partner"), *command.profiles[1:])
    return msgspec.structs.replace(command, profiles=profiles)


# ---------------------------------------------------------------- writing
ACTIVITY_COLUMNS = (
    "structure", "kind", "day", "duration", "place_kind", "place_id", "place_label", "thematiques", "demarches",
    "demarche_name", "materials", "tags", "autonomy", "workshop_name", "redirected", "redirect_structure",
    "redirect_category", "participants", "referral_id", "series", "module_no", "source", "source_id", "recorded_by",
    "created_at",
)  # fmt: skip
PARTICIPANT_COLUMNS = (
    "activity", "structure", "day", "age_band", "gender", "status", "commune_insee", "commune", "neighbourhood",
    "channel", "first_visit", "satisfaction",
)  # fmt: skip


def _codes(values: Sequence[str]) -> str:
    return json.dumps(list(dict.fromkeys(values)), ensure_ascii=False)


def _activity_values(command: ActivityCreate, recorded_by: int | None, now: datetime) -> tuple[Any, ...]:
    return (
        command.structure_id,
        command.kind,
        command.day,
        command.duration,
        command.place_kind,
        command.place_id,
        command.place_label.strip(),
        _codes(command.thematiques),
        _codes(command.demarches),
        command.demarche_name.strip(),
        _codes(command.materials),
        _codes(command.tags),
        command.autonomy,
        command.workshop_name.strip(),
        command.redirected or bool(command.redirect_structure_id or command.redirect_category),
        command.redirect_structure_id,
        command.redirect_category,
        command.participants,
        command.referral_id,
        command.series_id,
        command.module_no,
        command.source,
        command.source_id,
        recorded_by,
        now,
    )


def _participant_values(activity_id: int, command: ActivityCreate) -> list[tuple[Any, ...]]:
    """One row per person: the profiles given, then "nc" ones up to the number of participants."""
    profiles = list(command.profiles) + [Profile()] * (command.participants - len(command.profiles))
    return [
        (
            activity_id,
            command.structure_id,
            command.day,
            p.age_band,
            p.gender,
            p.status,
            p.commune_insee,
            p.commune.strip(),
            p.neighbourhood.strip(),
            p.channel,
            p.first_visit,
            p.satisfaction,
        )
        for p in profiles
    ]


def _insert_sql(table: str, columns: Sequence[str], rows: int, returning: bool) -> str:
    row = "(" + ", ".join("{}" for _ in columns) + ")"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"
    return sql + (" RETURNING id" if returning else "")


async def insert_activities(commands: Sequence[ActivityCreate], recorded_by: int | None, now: datetime) -> list[int]:
    """Write checked activities and their participants in batches (inside the caller's transaction); their ids.

    Multi-row INSERTs of plain values (an import writes 100,000 rows): the new ids come back by RETURNING, in the
    rows' order, as Piccolo's own inserts read them."""
    engine = current_engine()
    transaction = engine.current_transaction.get() if isinstance(engine, SQLiteEngine) else None
    if transaction is not None:
        return await _insert_sqlite(transaction.connection, commands, recorded_by, now)
    ids: list[int] = []
    people: list[tuple[Any, ...]] = []
    for start in range(0, len(commands), BATCH):
        chunk = [_with_partner_channel(c) for c in commands[start : start + BATCH]]
        values = [v for c in chunk for v in _activity_values(c, recorded_by, now)]
        returned = await Activity.raw(_insert_sql("activities_activity", ACTIVITY_COLUMNS, len(chunk), True), *values)
        for row, command in zip(returned, chunk, strict=True):
            ids.append(int(row["id"]))
            people += _participant_values(int(row["id"]), command)
        while len(people) >= BATCH:
            await _insert_people(people[:BATCH])
            people = people[BATCH:]
    if people:
        await _insert_people(people)
    return ids


async def _insert_sqlite(
    connection: Any, commands: Sequence[ActivityCreate], recorded_by: int | None, now: datetime
) -> list[int]:
    """SQLite, inside a write transaction (IMMEDIATE: the write lock is held): the next ids are ours to give, so the
    rows go by executemany on the transaction's own connection, without a statement per batch to build."""
    async with connection.execute("SELECT COALESCE(MAX(id), 0) AS last FROM activities_activity") as cursor:
        last = int((await cursor.fetchone())["last"])
    ids = list(range(last + 1, last + 1 + len(commands)))
    chunk = [_with_partner_channel(c) for c in commands]
    marks = ", ".join("?" for _ in range(len(ACTIVITY_COLUMNS) + 1))
    await connection.executemany(
        f"INSERT INTO activities_activity (id, {', '.join(ACTIVITY_COLUMNS)}) VALUES ({marks})",
        [(i, *_activity_values(c, recorded_by, now)) for i, c in zip(ids, chunk, strict=True)],
    )
    marks = ", ".join("?" for _ in PARTICIPANT_COLUMNS)
    await connection.executemany(
        f"INSERT INTO activities_participant ({', '.join(PARTICIPANT_COLUMNS)}) VALUES ({marks})",
        [row for i, c in zip(ids, chunk, strict=True) for row in _participant_values(i, c)],
    )
    return ids


async def _insert_people(rows: list[tuple[Any, ...]]) -> None:
    sql = _insert_sql("activities_participant", PARTICIPANT_COLUMNS, len(rows), False)
    await Participant.raw(sql, *[v for row in rows for v in row])


async def record(rt: Runtime, actor: Actor, command: ActivityCreate) -> int:
    """Record one activity of one of the actor's structures."""
    require_member(actor, command.structure_id)
    place_ids = {p.id for p in await places(command.structure_id)}
    errors = check_activity(command, rt.today(), place_ids)
    if command.redirect_structure_id is not None and not await Structure.exists().where(
        Structure.id == command.redirect_structure_id
    ):
        errors["redirect"] = "Cette structure n'est pas dans l'annuaire."
    if errors:
        raise Invalid("L'activité n'est pas enregistrée : corrigez les champs signalés.", errors)
    async with write_transaction():
        (activity_id,) = await insert_activities([command], actor.user_id, rt.now())
    return activity_id


async def read(actor: Actor, structure_id: int, activity_id: int) -> dict[str, Any]:
    require_member(actor, structure_id)
    row = (
        await Activity.select()
        .where((Activity.id == activity_id) & (Activity.structure == structure_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


async def participants(activity_id: int) -> list[dict[str, Any]]:
    """An activity's people, as anonymous profiles (the caller has read the activity through `read`)."""
    rows = await Participant.select().where(Participant.activity == activity_id).order_by(Participant.id)
    return list(rows)


async def last_place(actor: Actor, structure_id: int) -> int | None:
    """The worker's place: where they recorded their last activity for this structure."""
    row = await (
        Activity.select(Activity.place_id)
        .where(
            (Activity.structure == structure_id)
            & (Activity.recorded_by == actor.user_id)
            & Activity.place_id.is_not_null()
        )
        .order_by(Activity.id, ascending=False)
        .first()
    )
    return None if row is None else int(row["place_id"])


# ---------------------------------------------------------------- the list
@dataclasses.dataclass(frozen=True)
class ListFilters:
    start: date | None = None
    end: date | None = None
    kind: str = ""
    thematique: str = ""
    place_kind: str = ""
    source: str = ""


async def list_activities(
    actor: Actor, structure_id: int, filters: ListFilters, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A structure's activities, newest first, with the filters; and how many match."""
    require_member(actor, structure_id)
    where: Any = Activity.structure == structure_id
    if filters.start:
        where &= Activity.day >= filters.start
    if filters.end:
        where &= Activity.day <= filters.end
    if filters.kind:
        where &= Activity.kind == filters.kind
    if filters.place_kind:
        where &= Activity.place_kind == filters.place_kind
    if filters.source:
        where &= Activity.source == filters.source
    if filters.thematique:
        # JSON lists of codes from a closed vocabulary: the quoted code cannot match anything else
        where &= WhereRaw("CAST(thematiques AS TEXT) LIKE {}", f'%"{filters.thematique}"%')
    total = await Activity.count().where(where)
    rows = await (
        Activity.select()
        .where(where)
        .order_by(Activity.day, ascending=False)
        .order_by(Activity.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    return list(rows), total


# ---------------------------------------------------------------- free-access tally
async def tally_day(actor: Actor, structure_id: int, day: date) -> dict[int, dict[str, Any]]:
    """The day's counters of the structure, by place key (0: the structure itself)."""
    require_member(actor, structure_id)
    rows = await Tally.select().where((Tally.structure == structure_id) & (Tally.day == day))
    return {row["place_key"]: row for row in rows}


async def tap(
    rt: Runtime,
    actor: Actor,
    structure_id: int,
    place_key: int,
    delta: int = 1,
    time_limit: int | None = None,
) -> int:
    """One more visit (or one less, to undo a tap) at a place today; the day's count after it."""
    require_member(actor, structure_id)
    own = {p.id: p.name for p in await places(structure_id)}
    if place_key and place_key not in own:
        raise Invalid("Ce lieu n'est pas un des lieux de la structure.", {"place": "Choisissez un lieu de la liste."})
    if delta not in (1, -1, 0) or (delta == 0 and time_limit is None):
        raise Invalid("Un passage à la fois.", {"delta": "+1 ou −1 (0 pour ne changer que la limite de temps)."})
    if time_limit is not None and not 5 <= time_limit <= 480:
        raise Invalid("Limite de temps invalide.", {"time_limit": "De 5 à 480 minutes par personne."})
    today = rt.today()
    label = own.get(place_key, "") if place_key else (await structure_names([structure_id])).get(structure_id, "")
    async with write_transaction():
        row = (
            await Tally.select()
            .where((Tally.structure == structure_id) & (Tally.place_key == place_key) & (Tally.day == today))
            .first()
        )
        if row is None:
            visits = max(0, delta)
            await Tally.insert(
                Tally(
                    structure=structure_id,
                    place_key=place_key,
                    place_label=label,
                    day=today,
                    visits=visits,
                    time_limit=time_limit,
                    updated_at=rt.now(),
                )
            )
            return visits
        visits = max(0, row["visits"] + delta)
        changes: dict[Any, Any] = {Tally.visits: visits, Tally.updated_at: rt.now()}
        if time_limit is not None:
            changes[Tally.time_limit] = time_limit
        await Tally.update(changes).where(Tally.id == row["id"])
        return visits


async def tally_week(actor: Actor, structure_id: int, today: date) -> list[dict[str, Any]]:
    """The last seven days' counts, by day and place, for the tally page."""
    require_member(actor, structure_id)
    rows = await (
        Tally.select(Tally.day, Tally.place_label, Tally.visits, Tally.time_limit)
        .where((Tally.structure == structure_id) & (Tally.day > today - timedelta(days=7)))
        .order_by(Tally.day, ascending=False)
        .order_by(Tally.place_label)
    )
    return list(rows)
