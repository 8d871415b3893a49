"""Partner indicators: extra figures the coordinator defines (new CAF registrations per neighbourhood…), each
structure enters its values per period, and the pack shows their totals and per-neighbourhood breakdowns.

A value is an integer or a decimal as its indicator says, never negative; the whole form is checked before
anything is written (one wrong value: nothing saved, each field's message in French). Entering again for the
same period replaces the structure's values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.reporting import Indicator, Period, Table
from hub.runtime import Runtime
from hub.tables import Structure
from network.meetings.tables import IndicatorValue, PartnerIndicator
from network.tables import Place
from network.tables import Structure as DirectoryStructure

VALUE_TYPES = {"integer": "Nombre entier", "decimal": "Nombre décimal"}
MAX_VALUE = 1_000_000_000
MAX_VALUE_CHARS = len(f"{MAX_VALUE:,},0000")  # "1 000 000 000,0000": the largest value, spaced the French way
MAX_PERIOD = 20
MAX_LABEL, MAX_DEFINITION, MAX_UNIT = 200, 2000, 40
_INTEGER = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d+(?:[.,]\d{1,4})?")


class IndicatorCommand(msgspec.Struct, frozen=True):
    label: str
    definition: str
    unit: str
    number_type: str  # integer | decimal
    by_neighbourhood: bool = False


def _require_coordinator(actor: Actor) -> None:
    if not actor.oversees_network:
        raise Forbidden("Réservé au coordinateur du réseau.")


async def define(rt: Runtime, actor: Actor, command: IndicatorCommand) -> int:
    """The coordinator defines a new indicator."""
    _require_coordinator(actor)
    errors: dict[str, str] = {}
    if not 2 <= len(command.label.strip()) <= MAX_LABEL:
        errors["label"] = f"Donnez un nom à l'indicateur : de 2 à {MAX_LABEL} caractères."
    definition = command.definition.replace("\r\n", "\n")
    if not definition.strip():
        errors["definition"] = "Dites ce qui est compté, pour que chaque structure compte de la même façon."
    elif len(definition) > MAX_DEFINITION:
        errors["definition"] = f"La définition compte {len(definition)} caractères : 2 000 au plus."
    if len(command.unit) > MAX_UNIT:
        errors["unit"] = f"{MAX_UNIT} caractères au plus."
    if command.number_type not in VALUE_TYPES:
        errors["number_type"] = "Choisissez : nombre entier ou nombre décimal."
    if errors:
        raise Invalid("Certains champs sont invalides.", errors)
    async with write_transaction():
        row = PartnerIndicator(
            label=command.label.strip(),
            definition=definition.strip(),
            unit=command.unit.strip(),
            number_type=command.number_type,
            by_neighbourhood=command.by_neighbourhood,
            created_at=rt.now(),
        )
        await row.save()
        await journal.append(rt, Act("meetings.indicator_defined", actor.user_id, None, "meetings_indicator", row.id))
    return int(row.id)


async def active_indicators() -> list[dict[str, Any]]:
    rows = await PartnerIndicator.select().where(PartnerIndicator.active == True)  # noqa: E712
    return sorted(rows, key=lambda r: r["id"])


async def neighbourhoods() -> list[str]:
    """The directory's neighbourhoods (structures' and places'), the breakdown's rows."""
    found = {
        r["neighbourhood"]
        for r in await DirectoryStructure.select(DirectoryStructure.neighbourhood).distinct()
        if r["neighbourhood"]
    }
    found |= {r["neighbourhood"] for r in await Place.select(Place.neighbourhood).distinct() if r["neighbourhood"]}
    return sorted(found)


def parse_value(text: str, number_type: str) -> float:
    """A typed value ("12", "12,5") as a number; Invalid (French) for anything else."""
    if len(text.strip()) > MAX_VALUE_CHARS:
        message = f"Nombre trop long : {MAX_VALUE_CHARS} caractères au plus (un milliard au plus)."
        raise Invalid(message, {"": message})
    value = text.strip().replace("\u202f", "").replace(" ", "")
    if number_type == "integer" and not _INTEGER.fullmatch(value):
        raise Invalid("Nombre entier attendu.", {"": "Nombre entier attendu : des chiffres seulement, par exemple 12."})
    if number_type == "decimal" and not _DECIMAL.fullmatch(value):
        raise Invalid("Nombre attendu.", {"": "Nombre attendu, par exemple 12 ou 12,5 (4 décimales au plus)."})
    number = float(value.replace(",", "."))
    if number > MAX_VALUE:
        raise Invalid("Nombre trop grand.", {"": "Nombre trop grand : un milliard au plus."})
    return number


def field_name(indicator_id: int, neighbourhood: str = "") -> str:
    """The form field of a value: "v12" or "v12__Les Aubiers"."""
    return f"v{indicator_id}" + (f"__{neighbourhood}" if neighbourhood else "")


async def _structure_for(actor: Actor, structure_id: int) -> dict[str, Any]:
    """A structure the actor belongs to (any role) or, for the coordinator, any; 404 for anyone else."""
    row = await Structure.select(Structure.id, Structure.name).where(Structure.id == structure_id).first()
    if row is None or not (actor.oversees_network or actor.has_role(structure_id)):
        raise NotFound("Cette structure n'existe pas.")
    return row


async def entry_form(rt: Runtime, actor: Actor, structure_id: int, period_label: str) -> dict[str, Any]:
    """What a structure's entry page shows: each indicator, its fields, and the values already entered."""
    structure = await _structure_for(actor, structure_id)
    period = Period.parse(period_label)
    rows = await IndicatorValue.select(
        IndicatorValue.indicator, IndicatorValue.neighbourhood, IndicatorValue.value
    ).where((IndicatorValue.structure == structure_id) & (IndicatorValue.period == period.label))
    indicators = await active_indicators()
    types = {i["id"]: i["number_type"] for i in indicators}
    values = {
        field_name(r["indicator"], r["neighbourhood"]): _shown(r["value"], types.get(r["indicator"])) for r in rows
    }
    return {"structure": structure, "period": period, "indicators": indicators, "values": values}


def _shown(value: float, number_type: str | None) -> str:
    if number_type == "integer":
        return str(int(value))
    return f"{value:g}".replace(".", ",")


async def enter_values(
    rt: Runtime, actor: Actor, structure_id: int, period_label: str, posted: Mapping[str, str]
) -> int:
    """A structure's values for a period: every field checked first, then all saved at once (replacing)."""
    structure = await _structure_for(actor, structure_id)
    errors: dict[str, str] = {}
    if len(period_label) > MAX_PERIOD:
        message = f"Période trop longue : {MAX_PERIOD} caractères au plus, par exemple 2026-S1."
        raise Invalid(message, {"period": message})
    try:
        period = Period.parse(period_label)
        period.check_not_future(rt.today())
    except Invalid as error:
        raise Invalid(error.message, {"period": error.message}) from None
    places = await neighbourhoods()
    wanted: list[tuple[int, str, float]] = []
    for indicator in await active_indicators():
        keys = [""] + (places if indicator["by_neighbourhood"] else [])
        for place in keys:
            name = field_name(indicator["id"], place)
            text = posted.get(name, "").strip()
            if not text:
                continue
            try:
                wanted.append((indicator["id"], place, parse_value(text, indicator["number_type"])))
            except Invalid as error:
                errors[name] = error.fields[""]
    if errors:
        raise Invalid("Certaines valeurs sont invalides : rien n'est enregistré.", errors)
    async with write_transaction():
        await IndicatorValue.delete().where(
            (IndicatorValue.structure == structure_id) & (IndicatorValue.period == period.label)
        )
        if wanted:
            await IndicatorValue.insert(
                *[
                    IndicatorValue(
                        indicator=indicator_id,
                        structure=structure_id,
                        period=period.label,
                        neighbourhood=place,
                        value=value,
                        entered_by=actor.user_id,
                        entered_at=rt.now(),
                    )
                    for indicator_id, place, value in wanted
                ]
            )
        await journal.append(
            rt,
            Act(
                "meetings.indicator_values",
                actor.user_id,
                structure["id"],
                "network_structure",
                structure["id"],
                {"period": period.label, "values": len(wanted)},
            ),
        )
    return len(wanted)


def _periods_within(labels: list[str], period: Period) -> list[str]:
    """The entry periods ("2026-S1", "2026-T2", "2026") that lie inside the report's period."""
    inside = []
    for label in labels:
        try:
            entry = Period.parse(label)
        except Invalid:
            continue
        if period.start <= entry.start and entry.end <= period.end:
            inside.append(label)
    return inside


async def totals(period: Period) -> list[dict[str, Any]]:
    """Each indicator's total over the structures (the "whole" values, not the per-neighbourhood ones), the
    number of structures that reported, and its per-neighbourhood sums."""
    labels = [r["period"] for r in await IndicatorValue.select(IndicatorValue.period).distinct()]
    inside = _periods_within(labels, period) or ["-"]
    sums = await IndicatorValue.raw(
        "SELECT indicator, neighbourhood, SUM(value) AS total, COUNT(DISTINCT structure) AS structures "
        "FROM meetings_indicator_value WHERE period IN ({}) GROUP BY indicator, neighbourhood".format(
            ", ".join("{}" for _ in inside)
        ),
        *inside,
    )
    result = []
    for indicator in await active_indicators():
        mine = [r for r in sums if r["indicator"] == indicator["id"]]
        whole = next((r for r in mine if r["neighbourhood"] == ""), None)
        result.append(
            {
                **indicator,
                "total": float(whole["total"]) if whole else 0.0,
                "structures": int(whole["structures"]) if whole else 0,
                "by_place": sorted(
                    ((r["neighbourhood"], float(r["total"])) for r in mine if r["neighbourhood"]),
                    key=lambda pair: pair[0],
                ),
            }
        )
    return result


def _number(value: float, number_type: str) -> int | float:
    return int(round(value)) if number_type == "integer" else round(value, 2)


async def report_tables(period: Period) -> list[Table]:
    """The pack's tables: one of totals, then one breakdown per indicator broken down by neighbourhood."""
    found = await totals(period)
    if not found:
        return []
    tables = [
        Table(
            "indicateurs_partenaires",
            "Indicateurs des partenaires",
            ("Indicateur", "Total", "Structures ayant répondu"),
            tuple(
                (
                    f"{i['label']} ({i['unit']})" if i["unit"] else i["label"],
                    _number(i["total"], i["number_type"]),
                    i["structures"],
                )
                for i in found
            ),
            Indicator(
                "meetings.partner_indicators",
                "Indicateurs des partenaires",
                "Valeurs saisies par chaque structure pour les périodes comprises dans la période du bilan, "
                "additionnées sur les structures. Définitions : "
                + " ".join(f"{i['label']} : {i['definition']}" for i in found),
            ),
            chart="",
        )
    ]
    for i in found:
        if not i["by_neighbourhood"]:
            continue
        tables.append(
            Table(
                f"indicateur_{i['id']}_quartiers"[:31],
                f"{i['label']} par quartier",
                ("Quartier", i["unit"] or "Valeur"),
                tuple((place, _number(total, i["number_type"])) for place, total in i["by_place"]),
                Indicator(f"meetings.partner_indicator_{i['id']}", i["label"], i["definition"], unit=i["unit"]),
            )
        )
    return tables
