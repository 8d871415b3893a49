"""What leaves the directory: active structures and their active services, read in keyset pages, mapped to
data·inclusion v1 and validated by the package row by row. Contact addresses exported are the structures' and
services' team mailboxes; one shaped like a person's own is withheld (`validation.public_email`). No user data
is read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import pydantic
from data_inclusion.schema import v1 as di
from piccolo.table import Table

from hub.runtime import PARIS
from network import validation
from network.exchange import bring
from network.exchange.report import BATCH, OWN_SOURCE, ExportReport
from network.exchange.rows import DI_REQUIRED, DI_SET_FIELDS, french_errors, load_places, loads
from network.tables import Service, Structure


def di_id(row: dict[str, Any]) -> str:
    source = row["source"] or OWN_SOURCE
    return f"{source}--{row['source_id'] or row['id']}"


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def export_today(now: datetime) -> date:
    """The last day an export may date an entry: today in Paris, or the server's own day when it is still
    yesterday there (data·inclusion's schema refuses a date_maj after `date.today()`, the server's day: between
    midnight in Paris and midnight UTC, an entry edited "today" would otherwise be left out of the file)."""
    return min(now.astimezone(PARIS).date(), now.astimezone().date())


def export_date(today: date, *values: Any) -> str:
    found = next((d for v in values if (d := _as_date(v))), today)
    return min(found, today).isoformat()


def public_email(value: str, report: ExportReport) -> str | None:
    if not value:
        return None
    if not validation.public_email(value):
        report.withheld_emails += 1
        return None
    return value


def clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [])}


def _validated(model: type[pydantic.BaseModel], data: dict[str, Any], report: ExportReport) -> dict[str, Any] | None:
    """The package's model of the row (its JSON dump); optional fields at fault are dropped, else the row is left out."""
    for _ in range(2):
        try:
            dumped = model.model_validate(data).model_dump(mode="json")
            for name in DI_SET_FIELDS & dumped.keys():
                if dumped[name]:
                    dumped[name] = sorted(dumped[name])  # the same file from the same data
            return dumped
        except pydantic.ValidationError as error:
            fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            if fields & set(DI_REQUIRED["structure" if model is di.Structure else "service"]):
                report.skipped.append(f"{data.get('id')} : {' ; '.join(french_errors(error))}")
                return None
            data = {k: v for k, v in data.items() if k not in fields}
            report.fields_dropped += len(fields)
    report.skipped.append(f"{data.get('id')} : invalide")
    return None


def _structure_out(row: dict[str, Any], report: ExportReport) -> dict[str, Any] | None:
    description = (row["description"] or "")[:10000]
    data = {
        "source": row["source"] or OWN_SOURCE,
        "id": di_id(row),
        "nom": (row["name"] or "")[:150],
        "date_maj": export_date(report.today, row["confirmed_on"], row["updated_at"]),
        "description": description if len(description) >= 5 else None,
        "siret": row["siret"],
        "commune": row["commune"],
        "code_postal": row["postal_code"],
        "code_insee": row["insee_code"],
        "adresse": row["address"],
        "complement_adresse": row["address_extra"],
        "longitude": row["longitude"],
        "latitude": row["latitude"],
        "telephone": row["phone"],
        "courriel": public_email(row["email"], report),
        "site_web": row["website"],
        "horaires_accueil": row["opening_hours"],
        "accessibilite_lieu": row["accessibility_url"],
        "reseaux_porteurs": loads(row["networks"]),
    }
    return _validated(di.Structure, clean(data), report)


def _service_out(
    row: dict[str, Any], structure_di_id: str, place: dict[str, Any] | None, report: ExportReport
) -> dict[str, Any] | None:
    description = (row["description"] or "")[:10000] or row["name"]
    types, fees = loads(row["types"]), loads(row["fees"])
    data = {
        "source": row["source"] or OWN_SOURCE,
        "structure_id": structure_di_id,
        "id": di_id(row),
        "nom": (row["name"] or "")[:150],
        "description": description,
        "date_maj": export_date(report.today, row["updated_on"], row["updated_at"]),
        "type": types[0] if types else None,
        "thematiques": loads(row["thematiques"]),
        "frais": fees[0] if fees else None,
        "frais_precisions": row["fees_details"],
        "publics": loads(row["publics"]),
        "conditions_acces": bring.with_block(row["access_conditions"] or "", loads(row["justificatifs"])),
        "courriel": public_email(row["referral_email"], report),
        "telephone": row["phone"],
        "lien_mobilisation": row["booking_url"],
        "modes_accueil": loads(row["reception_modes"]),
        "zone_eligibilite": loads(row["eligibility_zone"]),
        "modes_mobilisation": loads(row["mobilisation_modes"]),
        "mobilisable_par": loads(row["mobilisable_by"]),
        "mobilisation_precisions": row["referral_instructions"],
        "horaires_accueil": row["opening_hours"],
    }
    if place:
        data.update(
            adresse=place["address"],
            code_postal=place["postal_code"],
            commune=place["commune"],
            code_insee=place["insee_code"],
            latitude=place["latitude"],
            longitude=place["longitude"],
        )
    return _validated(di.Service, clean(data), report)


async def _pages(table: type[Table], where: Any) -> AsyncIterator[list[dict[str, Any]]]:
    """Keyset pages of BATCH rows: the export never holds the whole table."""
    id_column = table._meta.primary_key
    last = 0
    while True:
        rows = await table.select().where(where & (id_column > last)).order_by(id_column).limit(BATCH)
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


async def active_structures() -> AsyncIterator[dict[str, Any]]:
    async for page in _pages(Structure, Structure.status == "active"):
        for row in page:
            yield row


async def active_services(
    structure_ids: dict[int, Any],
) -> AsyncIterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Active services of the given structures, each with its first place."""
    async for page in _pages(Service, Service.is_active == True):  # noqa: E712 (Piccolo builds SQL from it)
        page = [row for row in page if row["structure"] in structure_ids]
        places = await load_places([row["id"] for row in page])
        for row in page:
            yield row, places.get(row["id"])


async def iter_datainclusion(report: ExportReport) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """("structure" | "service", row) in data·inclusion v1, each validated by the package: structures first."""
    exported: dict[int, str] = {}
    async for row in active_structures():
        data = _structure_out(row, report)
        if data is not None:
            exported[row["id"]] = data["id"]
            report.structures += 1
            yield "structure", data
    async for row, place in active_services(exported):
        data = _service_out(row, exported[row["structure"]], place, report)
        if data is not None:
            report.services += 1
            yield "service", data
