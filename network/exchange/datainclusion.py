"""data·inclusion v1 import: JSON (one list, {"structures", "services"}, or a page of the API) or CSV (a
structures file and a services file), every row validated by the package and mapped to our columns.

data·inclusion ids are "<source>--<id>": source_id keeps the part after the prefix. In CSV, list cells are read
from `a|b`, `a,b`, `a;b`, `["a","b"]` and `{a,b}`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from data_inclusion.schema import v1 as di
from piccolo.table import Table

from network.exchange import bring
from network.exchange.files import InputFile, RawRow, fatal, read_csv, read_json
from network.exchange.report import Progress, RowOutcome
from network.exchange.rows import (
    DI_LIST_FIELDS,
    DI_REQUIRED,
    Candidate,
    imported_hours,
    imported_phone,
    json_list,
    length_checks,
    split_list,
    strip_prefix,
    validate_di,
)
from network.tables import Place, Service, Structure

# data·inclusion networks → our local kind, for new structures (v1 dropped the typologie); first match wins.
_KIND_FROM_NETWORK = {
    "caf": "CAF",
    "ccas-cias": "CCAS",
    "france-service": "RFS",
    "msap": "RFS",
    "mjc": "MJC",
    "pimms-mediation": "PIMMS",
    "la-poste": "LA_POSTE",
    "espaces-publics-numeriques": "EPN",
    "communes": "MUNI",
    "maisons-des-solidarites": "MDS",
    "fcsf": "CS",
    "unaf": "UDAF",
    "fabrique-de-territoire": "TIERS_LIEUX",
}


def structure_values(model: di.Structure) -> dict[str, Any]:
    d = model.model_dump(mode="json")
    return {
        "name": d["nom"],
        "siret": d["siret"] or "",
        "address": d["adresse"] or "",
        "address_extra": d["complement_adresse"] or "",
        "postal_code": d["code_postal"] or "",
        "commune": d["commune"] or "",
        "insee_code": d["code_insee"] or "",
        "latitude": d["latitude"],
        "longitude": d["longitude"],
        "phone": d["telephone"] or "",
        "email": d["courriel"] or "",
        "website": d["site_web"] or "",
        "opening_hours": d["horaires_accueil"] or "",
        "accessibility_url": d["accessibilite_lieu"] or "",
        "networks": json_list(sorted(d["reseaux_porteurs"] or [])),
        "description": d["description"] or "",
        "confirmed_on": model.date_maj,
    }


def service_values(model: di.Service) -> tuple[dict[str, Any], dict[str, Any] | None]:
    d = model.model_dump(mode="json")
    conditions = d["conditions_acces"] or ""
    conditions, justificatifs = bring.split_block(conditions)  # what to bring, as our exports write it
    if d["publics_precisions"]:  # no column of its own: kept with the access conditions, not lost
        conditions = f"{conditions}\n\nPublics : {d['publics_precisions']}".strip()
    modes = sorted(d["modes_mobilisation"] or [])
    by = sorted(d["mobilisable_par"] or [])
    email = d["courriel"] or ""
    values = {
        "name": d["nom"],
        "description": d["description"],
        "types": json_list([d["type"]] if d["type"] else []),
        "thematiques": json_list(sorted(d["thematiques"] or [])),
        "publics": json_list(sorted(d["publics"] or [])),
        "fees": json_list([d["frais"]] if d["frais"] else []),
        "fees_details": d["frais_precisions"] or "",
        "reception_modes": json_list(sorted(d["modes_accueil"] or [])),
        "mobilisation_modes": json_list(modes),
        "mobilisable_by": json_list(by),
        "eligibility_zone": json_list(d["zone_eligibilite"] or []),
        "access_conditions": conditions,
        "justificatifs": json_list(justificatifs),
        "referral_email": email,
        "referral_instructions": d["mobilisation_precisions"] or "",
        "phone": d["telephone"] or "",
        "booking_url": d["lien_mobilisation"] or "",
        "accepts_referrals": bool(email) and "envoyer-un-courriel" in modes and (not by or "professionnels" in by),
        "opening_hours": d["horaires_accueil"] or "",
        "updated_on": model.date_maj,
    }
    where = {
        "address": d["adresse"] or "",
        "postal_code": d["code_postal"] or "",
        "commune": d["commune"] or "",
        "insee_code": d["code_insee"] or "",
        "latitude": d["latitude"],
        "longitude": d["longitude"],
    }
    place = where if any(v not in ("", None) for v in where.values()) else None
    return values, place


def _di_candidate(kind: str, row: RawRow, source_override: str | None) -> tuple[RowOutcome, Candidate | None]:
    data = {k: v for k, v in row.data.items() if v not in ("", None)}
    data.pop("contact_nom_prenom", None)  # a person's name: never stored
    for name in DI_LIST_FIELDS[kind] & data.keys():
        data[name] = split_list(data[name])
    if source_override and not data.get("source"):
        data["source"] = source_override
    outcome = RowOutcome(row.file, row.where, kind, str(data.get("id", "")))
    if row.problem:
        outcome.reasons.append(row.problem)
        return outcome, None
    model = validate_di(kind, data, outcome)
    if model is None:
        return outcome, None
    row_source = str(data["source"])
    source = source_override or row_source
    key = (source, strip_prefix(row_source, str(data["id"])))
    if not key[1]:  # rows made here have no source_id: an imported row needs one
        outcome.reasons.append(f"id : identifiant vide après le préfixe « {row_source}-- »")
        return outcome, None
    if isinstance(model, di.Structure):
        values = structure_values(model)
        networks = json.loads(values["networks"])
        kind_code = next((code for n, code in _KIND_FROM_NETWORK.items() if n in networks), "AUTRE")
        candidate = Candidate(outcome, key, values, {"kind": kind_code})
        table: type[Table] = Structure
    else:
        assert isinstance(model, di.Service)
        values, place = service_values(model)
        if "justificatifs" in data:  # a file's own list (data·inclusion v0, other producers): kept too
            found = json.loads(values["justificatifs"]) + split_list(data["justificatifs"])
            values["justificatifs"] = json_list(bring.clean(found))
        candidate = Candidate(
            outcome,
            key,
            values,
            structure_key=(source, strip_prefix(row_source, model.structure_id)),
            structure_ref=model.structure_id,
            place=place,
            led_lists=("types", "fees"),
        )
        table = Service
    values["phone"] = imported_phone(values["phone"], outcome)  # written as the forms write it, or left out
    values["opening_hours"] = imported_hours(values["opening_hours"], outcome)
    reasons = length_checks(table, {**values, "source": key[0], "source_id": key[1]}, DI_NAMES)
    if candidate.place:
        reasons += length_checks(Place, candidate.place, DI_NAMES)
    if reasons:
        outcome.reasons.extend(reasons)
        return outcome, None
    return outcome, candidate


DI_NAMES = {  # our column → data·inclusion field, for messages
    "name": "nom",
    "address": "adresse",
    "address_extra": "complement_adresse",
    "postal_code": "code_postal",
    "insee_code": "code_insee",
    "phone": "telephone",
    "email": "courriel",
    "website": "site_web",
    "opening_hours": "horaires_accueil",
    "accessibility_url": "accessibilite_lieu",
    "referral_email": "courriel",
    "booking_url": "lien_mobilisation",
    "source_id": "id",
}


def _classify_json(file: InputFile) -> dict[str, list[RawRow]]:
    document = read_json(file)
    if isinstance(document, dict) and "items" in document and isinstance(document["items"], list):
        document = document["items"]  # one page of the data·inclusion API
    groups: dict[str, list[RawRow]] = {"structure": [], "service": []}
    if isinstance(document, list):
        for index, item in enumerate(document, start=1):
            where = f"élément {index}"
            if not isinstance(item, dict):
                groups["structure"].append(RawRow(file.name, where, {}, "objet JSON attendu"))
            else:
                groups["service" if "structure_id" in item else "structure"].append(RawRow(file.name, where, item))
        return groups
    if isinstance(document, dict) and ({"structures", "services"} & document.keys()):
        for key, kind in (("structures", "structure"), ("services", "service")):
            items = document.get(key) or []
            if not isinstance(items, list):
                raise fatal(f"{file.name} : « {key} » doit être une liste.")
            for index, item in enumerate(items, start=1):
                where = f"élément {index} de « {key} »"
                if isinstance(item, dict):
                    groups[kind].append(RawRow(file.name, where, item))
                else:
                    groups[kind].append(RawRow(file.name, where, {}, "objet JSON attendu"))
        return groups
    raise fatal(
        f"{file.name} : structure JSON inattendue ; une liste, ou un objet avec les clés "
        "« structures » et « services », est attendu."
    )


def _classify_csv(file: InputFile, source_given: bool) -> dict[str, list[RawRow]]:
    text_head = file.content[:4096].decode("utf-8", errors="ignore").splitlines()
    header = [h.strip().strip('"').lower() for h in (text_head[0].split(",") if text_head else [])]
    kind = "service" if "structure_id" in header else "structure"
    required = [n for n in DI_REQUIRED[kind] if not (source_given and n == "source")]
    _, rows = read_csv(file, required)
    return {kind: rows, "service" if kind == "structure" else "structure": []}


def parse_datainclusion(
    files: Sequence[InputFile], source: str | None = None, progress: Progress | None = None
) -> tuple[list[RowOutcome], list[Candidate], list[Candidate]]:
    """Read and validate every row (JSON or CSV, one file or structures + services): no database access."""
    groups: dict[str, list[RawRow]] = {"structure": [], "service": []}
    for file in files:
        start = file.content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        is_json = file.name.lower().endswith(".json") or (not file.name.lower().endswith(".csv") and start in b"[{")
        found = _classify_json(file) if is_json else _classify_csv(file, bool(source))
        for kind in groups:
            groups[kind].extend(found[kind])
    outcomes: list[RowOutcome] = []
    candidates: dict[str, list[Candidate]] = {"structure": [], "service": []}
    total = sum(len(rows) for rows in groups.values())
    done = 0
    for kind, rows in groups.items():
        for row in rows:
            outcome, candidate = _di_candidate(kind, row, source)
            outcomes.append(outcome)
            if candidate:
                candidates[kind].append(candidate)
            done += 1
            if progress and (done % 1000 == 0 or done == total):
                progress("validation", done, total)
    return outcomes, candidates["structure"], candidates["service"]
