"""The four exports: data·inclusion JSON and CSV (two files), médiation numérique CSV, GeoJSON; journalled.

In data·inclusion CSV, list cells are written `a|b` (as LaMednum does). Files appear only once complete.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from data_inclusion.schema import v1 as di

from hub import journal
from hub.errors import Invalid
from hub.journal import Act
from hub.runtime import Runtime
from network.exchange.files import Sink, csv_cell, csv_paths
from network.exchange.mednum import (
    MEDNUM_ACCESS,
    MEDNUM_COLUMNS,
    MEDNUM_PROGRAMMES,
    MEDNUM_PUBLICS,
    MEDNUM_SERVICE_OUT,
    MEDNUM_SERVICE_OUT_WITH_DIGITAL,
    MEDNUM_SUPPORT,
)
from network.exchange.outgoing import (
    active_services,
    active_structures,
    clean,
    di_id,
    export_date,
    export_today,
    iter_datainclusion,
    public_email,
)
from network.exchange.report import FORMATS_OUT, ExportReport
from network.exchange.rows import loads
from network.tables import Structure


async def _write_datainclusion_json(out: Path, report: ExportReport) -> None:
    sink = Sink(out)
    handle = sink.open()
    try:
        handle.write('{"structures": [')
        current, first = "structure", True
        async for kind, data in iter_datainclusion(report):
            if kind != current:
                handle.write('\n],\n"services": [')
                current, first = kind, True
            handle.write(("\n" if first else ",\n") + json.dumps(data, ensure_ascii=False))
            first = False
        if current == "structure":
            handle.write('\n],\n"services": [')
        handle.write("\n]}\n")
    except BaseException:
        sink.abort()
        raise
    sink.commit()


async def _write_datainclusion_csv(out: Path, report: ExportReport) -> list[Path]:
    paths = csv_paths(out)
    sinks = {"structure": Sink(paths[0]), "service": Sink(paths[1])}
    writers = {}
    try:
        for kind, sink in sinks.items():
            fields = list((di.Structure if kind == "structure" else di.Service).model_fields)
            writer = csv.writer(sink.open())
            writer.writerow(fields)
            writers[kind] = (writer, fields)
        async for kind, data in iter_datainclusion(report):
            writer, fields = writers[kind]
            writer.writerow([csv_cell(data.get(f)) for f in fields])
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    for sink in sinks.values():
        sink.commit()
    return list(paths)


@dataclasses.dataclass
class _Offer:
    """What a structure's active services offer, gathered for its LaMednum row."""

    thematiques: set[str] = dataclasses.field(default_factory=set)
    publics: set[str] = dataclasses.field(default_factory=set)
    fees: set[str] = dataclasses.field(default_factory=set)
    conditional_free: bool = False
    access: set[str] = dataclasses.field(default_factory=set)
    prescription: bool = False
    types: set[str] = dataclasses.field(default_factory=set)
    reception: set[str] = dataclasses.field(default_factory=set)
    accommodations: set[str] = dataclasses.field(default_factory=set)
    languages: set[str] = dataclasses.field(default_factory=set)
    itinerant: bool = False
    opening_hours: str = ""
    phone: str = ""
    booking_url: str = ""


def _mednum_services(thematiques: set[str]) -> list[str]:
    found = [label for code, label in MEDNUM_SERVICE_OUT if code in thematiques]
    if any(t.startswith("numerique--") for t in thematiques):
        found += [label for code, label in MEDNUM_SERVICE_OUT_WITH_DIGITAL if code in thematiques]
    return list(dict.fromkeys(found))


def _reverse(mapping: dict[str, Any], codes: Iterable[str]) -> list[str]:
    """Labels for these codes, the first label of each code only (several labels may share one code)."""
    labels: dict[str, str] = {}
    for label, code in mapping.items():
        if code:
            labels.setdefault(code, label)
    return [label for code, label in labels.items() if code in set(codes)]


async def _write_mednum(out: Path, report: ExportReport) -> None:
    """One row per active structure offering digital inclusion services (a numerique-- thématique)."""
    offers: dict[int, _Offer] = {}
    active: dict[int, bool] = {
        row["id"]: True for row in await Structure.select(Structure.id).where(Structure.status == "active")
    }
    async for row, place in active_services(active):
        offer = offers.setdefault(row["structure"], _Offer())
        offer.thematiques |= set(loads(row["thematiques"]))
        offer.publics |= set(loads(row["publics"]))
        offer.fees |= set(loads(row["fees"]))
        offer.conditional_free |= (row["fees_details"] or "").lower().startswith("gratuit sous condition")
        offer.access |= set(loads(row["mobilisation_modes"]))
        offer.prescription |= bool(row["accepts_referrals"])
        offer.types |= set(loads(row["types"]))
        offer.reception |= set(loads(row["reception_modes"]))
        offer.accommodations |= set(loads(row["accommodations"]))
        offer.languages |= set(loads(row["languages"]))
        offer.itinerant |= bool(place and place["itinerant"])
        offer.opening_hours = offer.opening_hours or row["opening_hours"]
        offer.phone = offer.phone or row["phone"]
        offer.booking_url = offer.booking_url or row["booking_url"]
    sink = Sink(out)
    writer = csv.writer(sink.open())
    try:
        writer.writerow(MEDNUM_COLUMNS)
        async for row in active_structures():
            found = offers.get(row["id"])
            if found is None or not any(t.startswith("numerique--") for t in found.thematiques):
                continue
            description = row["description"] or ""
            accommodations = {label: code for label, (kind, code) in MEDNUM_SUPPORT.items() if kind == "accommodation"}
            support = _reverse(accommodations, found.accommodations)
            if "langue-des-signes" in found.accommodations and "Surdité" not in support:
                support.append("Surdité")
            if "en" in found.languages:
                support.append("Langues étrangères (anglais)")
            if found.languages - {"en", "fr"} and "Langues étrangères (autres)" not in support:
                support.append("Langues étrangères (autres)")
            fees = (
                ["Gratuit sous condition" if found.conditional_free else "Gratuit"] if "gratuit" in found.fees else []
            )
            fees += ["Payant"] if "payant" in found.fees else []
            access = _reverse(MEDNUM_ACCESS, found.access)
            if found.booking_url and "Prendre un RDV en ligne" not in access:  # prise_rdv says so
                access.append("Prendre un RDV en ligne")
            if found.prescription:
                access.append("Envoyer un mail avec une fiche de prescription")
            modes = []
            if "accompagnement" in found.types:
                modes.append("Accompagnement individuel")
            if "atelier" in found.types:
                modes.append("Dans un atelier collectif")
            if "a-distance" in found.reception:
                modes.append("À distance")
            email = public_email(row["email"], report)
            cells = {
                "id": di_id(row),
                "pivot": row["siret"] or "0" * 14,
                "nom": row["name"],
                "commune": row["commune"],
                "code_postal": row["postal_code"],
                "code_insee": row["insee_code"],
                "adresse": row["address"],
                "complement_adresse": row["address_extra"],
                "latitude": row["latitude"],
                "longitude": row["longitude"],
                "typologie": "Autre" if row["kind"] == "AUTRE" else row["kind"],
                "telephone": row["phone"] or found.phone,
                "courriels": email,
                "site_web": row["website"],
                "horaires": row["opening_hours"] or found.opening_hours,
                "presentation_resume": _shorten(description, 280),
                "presentation_detail": description if len(description) > 280 else "",
                "source": "Maillage",
                "itinerance": "Itinérant" if found.itinerant else "",
                "date_maj": export_date(report.today, row["confirmed_on"], row["updated_at"]),
                "services": _mednum_services(found.thematiques),
                "publics_specifiquement_adresses": _reverse(MEDNUM_PUBLICS, found.publics),
                "prise_en_charge_specifique": support,
                "frais_a_charge": fees,
                "dispositif_programmes_nationaux": _reverse(MEDNUM_PROGRAMMES, loads(row["networks"])),
                "modalites_acces": access,
                "modalites_accompagnement": modes,
                "fiche_acces_libre": row["accessibility_url"],
                "prise_rdv": found.booking_url,
            }
            writer.writerow([csv_cell(cells.get(column)) for column in MEDNUM_COLUMNS])
            report.structures += 1
    except BaseException:
        sink.abort()
        raise
    sink.commit()


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


async def _write_geojson(out: Path, report: ExportReport) -> None:
    """A FeatureCollection: structures with coordinates, then the places services are delivered at."""
    sink = Sink(out)
    handle = sink.open()
    first = True

    def feature(lon: float, lat: float, properties: dict[str, Any]) -> None:
        nonlocal first
        item = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}
        handle.write(("\n" if first else ",\n") + json.dumps(item, ensure_ascii=False))
        first = False

    try:
        handle.write('{"type": "FeatureCollection", "features": [')
        names: dict[int, tuple[str, str]] = {}
        async for row in active_structures():
            names[row["id"]] = (di_id(row), row["name"])
            if row["latitude"] is None or row["longitude"] is None:
                continue
            feature(
                row["longitude"],
                row["latitude"],
                clean(
                    {
                        "type": "structure",
                        "id": di_id(row),
                        "nom": row["name"],
                        "typologie": row["kind"],
                        "adresse": row["address"],
                        "code_postal": row["postal_code"],
                        "commune": row["commune"],
                        "telephone": row["phone"],
                        "courriel": public_email(row["email"], report),
                        "site_web": row["website"],
                        "horaires_accueil": row["opening_hours"],
                        "date_maj": export_date(report.today, row["confirmed_on"], row["updated_at"]),
                    }
                ),
            )
            report.structures += 1
        async for service, place in active_services(names):
            if not place or place["latitude"] is None or place["longitude"] is None:
                continue
            structure_id, structure_name = names[service["structure"]]
            feature(
                place["longitude"],
                place["latitude"],
                clean(
                    {
                        "type": "lieu",
                        "service_id": di_id(service),
                        "service": service["name"],
                        "structure_id": structure_id,
                        "structure": structure_name,
                        "nom": place["name"],
                        "adresse": place["address"],
                        "code_postal": place["postal_code"],
                        "commune": place["commune"],
                        "horaires_accueil": place["opening_hours"] or service["opening_hours"],
                        "telephone": service["phone"],
                        "lien_mobilisation": service["booking_url"],
                        "itinerant": place["itinerant"] or None,
                    }
                ),
            )
            report.places += 1
        handle.write("\n]}\n")
    except BaseException:
        sink.abort()
        raise
    sink.commit()


async def export_directory(rt: Runtime, fmt: str, out: Path, *, actor_id: int | None = None) -> ExportReport:
    """Write the open directory in one of FORMATS_OUT; journalled. Files appear only once complete."""
    if fmt not in FORMATS_OUT:
        raise Invalid(f"Format inconnu : {fmt} (attendu : {', '.join(FORMATS_OUT)}).")
    report = ExportReport(fmt, [out], export_today(rt.now()))
    if fmt == "datainclusion-json":
        await _write_datainclusion_json(out, report)
    elif fmt == "datainclusion-csv":
        report.paths = await _write_datainclusion_csv(out, report)
    elif fmt == "mednum-csv":
        await _write_mednum(out, report)
    else:
        await _write_geojson(out, report)
    details: dict[str, journal.Scalar] = {
        "format": fmt,
        "structures": report.structures,
        "services": report.services,
        "places": report.places,
        "skipped": len(report.skipped),
    }
    await journal.append(rt, Act("directory_export", actor_id, None, "export", fmt, details))
    return report
