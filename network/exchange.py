"""Open-data exchange of the directory: data·inclusion v1 and médiation numérique (LaMednum) in, four formats out.

Import: the whole file is read and every row validated (with the `data-inclusion-schema` pydantic models, plus our
own checks) before anything is written; rows are then upserted by (source, source_id) in one transaction, with
batched statements and one preload of the existing rows per table. A fatal file error (encoding, JSON, delimiter,
missing columns) raises `Invalid` before any write, so nothing is half-imported; a bad row is only rejected.

Export: active structures and their active services, streamed in batches. Every data·inclusion row is validated by
the package before it is written. Contact addresses exported are the structures' and services' public mailboxes;
one that looks like a person's own (firstname.lastname@…) is withheld (see `looks_personal`). No user data is read.

data·inclusion ids are "<source>--<id>": source_id keeps the part after the prefix. In data·inclusion CSV, list
cells are written `a|b` (as LaMednum does); on import `a|b`, `a,b`, `a;b`, `["a","b"]` and `{a,b}` are all read.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import time
import typing
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import pydantic
from data_inclusion.schema import v1 as di
from piccolo.columns import Varchar
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from hub import journal
from hub.db import current_engine, write_transaction
from hub.errors import Invalid
from hub.journal import Act
from hub.runtime import Runtime
from network import duplicates, search
from network.tables import STRUCTURE_KINDS, Place, Service, Structure
from network.validation import opening_hours_problem, siret_problem

FORMATS_IN = ("datainclusion", "mednum")
FORMATS_OUT = ("datainclusion-json", "datainclusion-csv", "mednum-csv", "geojson")
DEFAULT_MEDNUM_SOURCE = "mediation-numerique"  # the name data·inclusion gives this source
OWN_SOURCE = "maillage"  # rows created in Maillage itself
BATCH = 2000  # rows per statement batch and per export page
Progress = Callable[[str, int, int], None]  # (phase, done, total)


# ---------------------------------------------------------------- report
@dataclasses.dataclass(slots=True)
class RowOutcome:
    """What became of one row of a file: created, updated, unchanged, or rejected with French reasons."""

    file: str
    where: str  # "ligne 12" (CSV) or "élément 3" (JSON)
    kind: str  # structure | service | lieu (a médiation numérique row: one structure and its service)
    ident: str
    status: str = ""
    reasons: list[str] = dataclasses.field(default_factory=list)

    def settle(self, status: str) -> None:
        order = ("", "unchanged", "updated", "created", "rejected")
        if order.index(status) > order.index(self.status):
            self.status = status


@dataclasses.dataclass
class ImportReport:
    format: str
    dry_run: bool
    rows: list[RowOutcome] = dataclasses.field(default_factory=list)
    duplicates_flagged: int = 0
    structure_ids: list[int] = dataclasses.field(default_factory=list)  # created or updated
    service_ids: list[int] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase, for benchmarks

    def counts(self, kind: str) -> Counter[str]:
        return Counter(row.status for row in self.rows if row.kind == kind)

    @property
    def rejected(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.status == "rejected"]

    def summary_lines(self) -> list[str]:
        """The report in French, one line per kind of row, then the duplicates."""
        labels = {"structure": ("Structures", "e"), "service": ("Services", ""), "lieu": ("Lieux", "")}
        lines = []
        for kind, (label, e) in labels.items():
            c = self.counts(kind)
            if sum(c.values()):
                lines.append(
                    f"{label} : {c['created']} créé{e}(s), {c['updated']} mis{e}(s) à jour, "
                    f"{c['unchanged']} inchangé{e}(s), {c['rejected']} refusé{e}(s)."
                )
        if not self.dry_run:
            lines.append(f"Doublons probables signalés au coordinateur : {self.duplicates_flagged}.")
        return lines


@dataclasses.dataclass
class ExportReport:
    format: str
    paths: list[Path]
    structures: int = 0
    services: int = 0
    places: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)  # rows left out, with the reason
    withheld_emails: int = 0
    fields_dropped: int = 0  # optional fields invalid for the package, left out of their row

    def summary_lines(self) -> list[str]:
        if self.format == "mednum-csv":
            what = f"{self.structures} lieu(x)"
        elif self.format == "geojson":
            what = f"{self.structures} structure(s) et {self.places} lieu(x) de service situés"
        else:
            what = f"{self.structures} structure(s), {self.services} service(s)"
        lines = [f"Export {self.format} : {what} → {', '.join(str(p) for p in self.paths)}."]
        if self.withheld_emails:
            lines.append(f"Adresses e-mail personnelles retenues (non exportées) : {self.withheld_emails}.")
        if self.fields_dropped:
            lines.append(f"Champs facultatifs invalides laissés vides : {self.fields_dropped}.")
        if self.skipped:
            lines.append(f"Lignes non exportées car invalides : {len(self.skipped)}.")
        return lines


# ---------------------------------------------------------------- reading files
def _fatal(message: str) -> Invalid:
    """A file the import cannot read at all: refused whole, before any write."""
    return Invalid(f"{message} Rien n'a été importé.")


@dataclasses.dataclass(frozen=True)
class InputFile:
    name: str
    content: bytes

    @classmethod
    def from_path(cls, path: Path) -> InputFile:
        try:
            return cls(path.name, path.read_bytes())
        except OSError as error:
            raise _fatal(f"{path} : fichier illisible ({error.strerror or error}).") from error


@dataclasses.dataclass(slots=True)
class RawRow:
    file: str
    where: str
    data: dict[str, Any]
    problem: str = ""  # a row broken at the file level (wrong number of cells…)


def _decode(file: InputFile) -> str:
    try:
        return file.content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = file.content[: error.start].count(b"\n") + 1
        hint = ""
        try:
            file.content.decode("cp1252")
            hint = " Il semble enregistré en Latin-1 (Windows-1252) : réenregistrez-le en UTF-8."
        except UnicodeDecodeError:
            pass
        raise _fatal(f"{file.name} : le fichier n'est pas encodé en UTF-8 (ligne {line}).{hint}") from error


def _read_json(file: InputFile) -> Any:
    try:
        return json.loads(_decode(file))
    except json.JSONDecodeError as error:
        raise _fatal(
            f"{file.name} : JSON invalide ou tronqué (ligne {error.lineno}, colonne {error.colno})."
        ) from error


def _read_csv(file: InputFile, required: Iterable[str]) -> tuple[list[str], list[RawRow]]:
    """Header and rows of a comma-separated file; wrong delimiter, bad quoting or missing columns are fatal."""
    reader = csv.reader(io.StringIO(_decode(file), newline=""), strict=True)
    rows: list[RawRow] = []
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not any(header):
            raise _fatal(f"{file.name} : fichier vide (aucune ligne d'en-tête).")
        if len(header) == 1:
            for delimiter, label in ((";", "point-virgule"), ("\t", "tabulation"), ("|", "barre verticale")):
                if delimiter in header[0]:
                    raise _fatal(
                        f"{file.name} : les colonnes sont séparées par des « {label} » ; le format attendu "
                        "sépare les colonnes par des virgules (,). Réenregistrez le fichier en CSV « virgule »."
                    )
        missing = [name for name in required if name not in header]
        if missing:
            raise _fatal(f"{file.name} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}.")
        first_line = reader.line_num + 1
        for cells in reader:
            where = f"ligne {first_line}"
            first_line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                rows.append(
                    RawRow(
                        file.name,
                        where,
                        {},
                        f"la ligne compte {len(cells)} colonne(s) au lieu de {len(header)} "
                        "(séparateur ou guillemets mal placés ?)",
                    )
                )
                continue
            rows.append(RawRow(file.name, where, {k: v.strip() for k, v in zip(header, cells, strict=True) if k}))
    except csv.Error as error:
        raise _fatal(f"{file.name} : CSV mal formé à la ligne {reader.line_num} ({error}).") from error
    return header, rows


# ---------------------------------------------------------------- French messages
def _list_fields(model: type[pydantic.BaseModel], kinds: tuple[type, ...] = (set, list)) -> frozenset[str]:
    names = set()
    for name, field in model.model_fields.items():
        for part in (field.annotation, *typing.get_args(field.annotation)):
            if typing.get_origin(part) in kinds:
                names.add(name)
    return frozenset(names)


DI_LIST_FIELDS = {"structure": _list_fields(di.Structure), "service": _list_fields(di.Service)}
DI_SET_FIELDS = _list_fields(di.Structure, (set,)) | _list_fields(di.Service, (set,))  # dumped in no fixed order
DI_REQUIRED = {
    "structure": [n for n, f in di.Structure.model_fields.items() if f.is_required()],
    "service": [n for n, f in di.Service.model_fields.items() if f.is_required()],
}
_PATTERN_HINTS = {
    "code_postal": "5 chiffres attendus",
    "siret": "14 chiffres attendus",
    "code_insee": "code commune INSEE de 5 caractères attendu",
}


def _shown(value: Any) -> str:
    text = str(value)
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


def french_errors(error: pydantic.ValidationError, rename: dict[str, str] | None = None) -> list[str]:
    """One French sentence per field at fault, naming the field (as the file names it)."""
    by_field: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = item["loc"]
        field = str(loc[0]) if loc else "?"
        label = (rename or {}).get(field, field)
        if label in by_field:
            continue
        kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
        if kind == "missing":
            message = "champ obligatoire manquant"
        elif kind in ("enum", "literal_error") or (field == "zone_eligibilite" and len(loc) > 2):
            message = f"valeur inconnue {_shown(value)}"
            if field == "zone_eligibilite":
                message += " (code commune, département, EPCI, pays ou « france » attendu)"
        elif kind in ("string_too_short", "string_too_long", "string_pattern_mismatch") and field in _PATTERN_HINTS:
            message = f"{_PATTERN_HINTS[field]} (reçu {_shown(value)})"
        elif kind == "string_too_short":
            message = f"{ctx.get('min_length')} caractères au moins"
        elif kind == "string_too_long":
            message = f"{ctx.get('max_length')} caractères au plus"
        elif kind == "too_short":
            message = "au moins une valeur attendue"
        elif kind == "string_pattern_mismatch":
            message = f"{_PATTERN_HINTS.get(field, 'format invalide')} (reçu {_shown(value)})"
        elif kind.startswith("url_"):
            message = f"adresse web invalide {_shown(value)} : elle commence par https://"
        elif kind.startswith("date_"):
            message = f"date invalide {_shown(value)} : format AAAA-MM-JJ attendu"
        elif kind.startswith(("float_", "int_")):
            message = f"nombre attendu (reçu {_shown(value)})"
            if isinstance(value, str) and "," in value:
                message += " : le séparateur décimal est le point"
        elif kind in ("greater_than_equal", "greater_than"):
            message = f"doit être supérieur ou égal à {ctx.get('ge', ctx.get('gt'))}"
        elif kind in ("set_type", "list_type"):
            message = "liste de codes attendue"
        elif kind == "string_type":
            message = "texte attendu"
        elif kind == "value_error" and field == "courriel":
            message = "adresse e-mail invalide"
        elif kind == "value_error":
            message = str(item["msg"]).removeprefix("Value error, ")
        else:
            message = f"valeur invalide ({item['msg']})"
        by_field[label] = message
    return [f"{field} : {message}" for field, message in by_field.items()]


def _extra_checks(values: dict[str, Any], rename: dict[str, str] | None = None) -> list[str]:
    """Our rules beyond the package's: SIRET key, postcode range, coordinates, opening hours."""
    reasons = []

    def name(field: str) -> str:
        return (rename or {}).get(field, field)

    siret = str(values.get("siret") or "")
    if siret and (problem := siret_problem(siret)):
        reasons.append(f"{name('siret')} : {problem[0].lower()}{problem[1:]}")
    postcode = str(values.get("code_postal") or "")
    if postcode and not re.fullmatch(r"(?:0[1-9]|[1-8]\d|9[0-8])\d{3}", postcode):
        reasons.append(f"{name('code_postal')} : code postal inexistant {_shown(postcode)}")
    lat, lon = _number(values.get("latitude")), _number(values.get("longitude"))
    if lat is not None and not -90 <= lat <= 90:
        reasons.append(f"{name('latitude')} : doit être comprise entre -90 et 90 (reçu {lat})")
    if lon is not None and not -180 <= lon <= 180:
        reasons.append(f"{name('longitude')} : doit être comprise entre -180 et 180 (reçu {lon})")
    if (lat is None) != (lon is None):
        reasons.append(f"{name('latitude')} : renseignez la latitude et la longitude ensemble")
    hours = values.get("horaires_accueil")
    if isinstance(hours, str) and hours and opening_hours_problem(hours):
        reasons.append(
            f"{name('horaires_accueil')} : horaires illisibles {_shown(hours)} ; "
            "format OpenStreetMap attendu, par exemple « Mo-Fr 08:30-12:30; PH off »"
        )
    return reasons


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


_VARCHAR_LENGTHS: dict[str, dict[str, int]] = {
    table._meta.tablename: {c._meta.name: c.length for c in table._meta.columns if isinstance(c, Varchar) and c.length}
    for table in (Structure, Service, Place)
}


def _length_checks(table: type[Table], values: dict[str, Any], names: dict[str, str]) -> list[str]:
    """Varchar lengths are not enforced by SQLite: check them here, naming the file's field."""
    lengths = _VARCHAR_LENGTHS[table._meta.tablename]
    reasons = []
    for column, value in values.items():
        limit = lengths.get(column)
        if limit and isinstance(value, str) and len(value) > limit:
            reasons.append(f"{names.get(column, column)} : {limit} caractères au plus")
    return reasons


def _split_list(value: Any) -> list[str]:
    """A list cell as exports write them: a|b, a,b, a;b, ["a","b"] or {a,b}."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return [str(v).strip() for v in parsed if str(v).strip()]
        except json.JSONDecodeError:
            text = text[1:-1]
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    separator = next((s for s in "|,;" if s in text), "|")
    return [part.strip().strip("'\"") for part in text.split(separator) if part.strip().strip("'\"")]


def _strip_prefix(source: str, ident: str) -> str:
    return ident[len(source) + 2 :] if ident.startswith(f"{source}--") else ident


# ---------------------------------------------------------------- candidates (validated rows)
@dataclasses.dataclass(slots=True)
class Candidate:
    """A valid row, mapped to our columns, ready to be compared with the database and written."""

    outcome: RowOutcome
    key: tuple[str, str]  # (source, source_id)
    values: dict[str, Any]  # columns this import owns: compared, and written on create and update
    on_create: dict[str, Any] = dataclasses.field(default_factory=dict)  # written on create only
    structure_key: tuple[str, str] | None = None  # services: their structure
    structure_ref: str = ""  # services: the structure_id as the file wrote it, for messages
    place: dict[str, Any] | None = None  # services: where it is delivered, when the file says
    # list columns the format holds one value of (data·inclusion `type`, `frais`): a list led by it is unchanged
    led_lists: tuple[str, ...] = ()


def _json_list(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


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


def _structure_values(model: di.Structure) -> dict[str, Any]:
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
        "networks": _json_list(sorted(d["reseaux_porteurs"] or [])),
        "description": d["description"] or "",
        "confirmed_on": model.date_maj,
    }


def _service_values(model: di.Service) -> tuple[dict[str, Any], dict[str, Any] | None]:
    d = model.model_dump(mode="json")
    conditions = d["conditions_acces"] or ""
    if d["publics_precisions"]:  # no column of its own: kept with the access conditions, not lost
        conditions = f"{conditions}\n\nPublics : {d['publics_precisions']}".strip()
    modes = sorted(d["modes_mobilisation"] or [])
    by = sorted(d["mobilisable_par"] or [])
    email = d["courriel"] or ""
    values = {
        "name": d["nom"],
        "description": d["description"],
        "types": _json_list([d["type"]] if d["type"] else []),
        "thematiques": _json_list(sorted(d["thematiques"] or [])),
        "publics": _json_list(sorted(d["publics"] or [])),
        "fees": _json_list([d["frais"]] if d["frais"] else []),
        "fees_details": d["frais_precisions"] or "",
        "reception_modes": _json_list(sorted(d["modes_accueil"] or [])),
        "mobilisation_modes": _json_list(modes),
        "mobilisable_by": _json_list(by),
        "eligibility_zone": _json_list(d["zone_eligibilite"] or []),
        "access_conditions": conditions,
        "referral_email": email,
        "referral_instructions": d["mobilisation_precisions"] or "",
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


def _validate_di(
    kind: str, data: dict[str, Any], outcome: RowOutcome, rename: dict[str, str] | None = None
) -> pydantic.BaseModel | None:
    model_class: type[pydantic.BaseModel] = di.Structure if kind == "structure" else di.Service
    try:
        model = model_class.model_validate(data)
    except pydantic.ValidationError as error:
        reasons = french_errors(error, rename)
        # our own checks too, on the fields the package did not fault, so the report lists every fault at once
        named = {reason.split(" : ", 1)[0] for reason in reasons}
        reasons += [r for r in _extra_checks(data, rename) if r.split(" : ", 1)[0] not in named]
        outcome.reasons.extend(reasons)
        return None
    fields = ("siret", "code_postal", "latitude", "longitude", "horaires_accueil")
    checked = _extra_checks({name: getattr(model, name, None) for name in fields}, rename)
    if checked:
        outcome.reasons.extend(checked)
        return None
    return model


def _di_candidate(kind: str, row: RawRow, source_override: str | None) -> tuple[RowOutcome, Candidate | None]:
    data = {k: v for k, v in row.data.items() if v not in ("", None)}
    data.pop("contact_nom_prenom", None)  # a person's name: never stored
    for name in DI_LIST_FIELDS[kind] & data.keys():
        data[name] = _split_list(data[name])
    if source_override and not data.get("source"):
        data["source"] = source_override
    outcome = RowOutcome(row.file, row.where, kind, str(data.get("id", "")))
    if row.problem:
        outcome.reasons.append(row.problem)
        return outcome, None
    model = _validate_di(kind, data, outcome)
    if model is None:
        return outcome, None
    row_source = str(data["source"])
    source = source_override or row_source
    key = (source, _strip_prefix(row_source, str(data["id"])))
    if isinstance(model, di.Structure):
        values = _structure_values(model)
        networks = json.loads(values["networks"])
        kind_code = next((code for n, code in _KIND_FROM_NETWORK.items() if n in networks), "AUTRE")
        candidate = Candidate(outcome, key, values, {"kind": kind_code})
        table: type[Table] = Structure
    else:
        assert isinstance(model, di.Service)
        values, place = _service_values(model)
        candidate = Candidate(
            outcome,
            key,
            values,
            structure_key=(source, _strip_prefix(row_source, model.structure_id)),
            structure_ref=model.structure_id,
            place=place,
            led_lists=("types", "fees"),
        )
        table = Service
    reasons = _length_checks(table, {**values, "source": key[0], "source_id": key[1]}, _DI_NAMES)
    if candidate.place:
        reasons += _length_checks(Place, candidate.place, _DI_NAMES)
    if reasons:
        outcome.reasons.extend(reasons)
        return outcome, None
    return outcome, candidate


_DI_NAMES = {  # our column → data·inclusion field, for messages
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
    "source_id": "id",
}


def _classify_json(file: InputFile) -> dict[str, list[RawRow]]:
    document = _read_json(file)
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
                raise _fatal(f"{file.name} : « {key} » doit être une liste.")
            for index, item in enumerate(items, start=1):
                where = f"élément {index} de « {key} »"
                if isinstance(item, dict):
                    groups[kind].append(RawRow(file.name, where, item))
                else:
                    groups[kind].append(RawRow(file.name, where, {}, "objet JSON attendu"))
        return groups
    raise _fatal(
        f"{file.name} : structure JSON inattendue ; une liste, ou un objet avec les clés "
        "« structures » et « services », est attendu."
    )


def _classify_csv(file: InputFile, source_given: bool) -> dict[str, list[RawRow]]:
    text_head = file.content[:4096].decode("utf-8", errors="ignore").splitlines()
    header = [h.strip().strip('"').lower() for h in (text_head[0].split(",") if text_head else [])]
    kind = "service" if "structure_id" in header else "structure"
    required = [n for n in DI_REQUIRED[kind] if not (source_given and n == "source")]
    _, rows = _read_csv(file, required)
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


# ---------------------------------------------------------------- médiation numérique (LaMednum v1.0.x)
MEDNUM_COLUMNS = (
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "latitude",
    "longitude", "typologie", "telephone", "courriels", "site_web", "horaires", "presentation_resume",
    "presentation_detail", "source", "itinerance", "structure_parente", "date_maj", "services",
    "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels", "modalites_acces",
    "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
)  # fmt: skip
MEDNUM_REQUIRED = ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj")
_DIGITAL = ("numerique--maitriser-les-fondamentaux-du-numerique",)
# LaMednum "services" → data·inclusion thématiques (v1.0.x labels, and the older v1.0 ones as aliases).
MEDNUM_SERVICES: dict[str, tuple[str, ...]] = {
    "Aide aux démarches administratives": (
        "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
        "numerique--acceder-a-des-services-en-ligne",
    ),
    "Maîtrise des outils numériques du quotidien": _DIGITAL,
    "Insertion professionnelle via le numérique": (
        *_DIGITAL,
        "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi",
    ),
    "Utilisation sécurisée du numérique": _DIGITAL,
    "Parentalité et éducation avec le numérique": (*_DIGITAL, "famille--soutien-a-la-parentalite-et-a-leducation"),
    "Loisirs et créations numériques": (*_DIGITAL, "remobilisation--activites-sportives-et-culturelles"),
    "Compréhension du monde numérique": _DIGITAL,
    "Accès internet et matériel informatique": ("numerique--acceder-a-une-connexion-internet",),
    "Acquisition de matériel informatique à prix solidaire": ("numerique--acquerir-un-equipement",),
}
_MEDNUM_SERVICE_ALIASES = {
    "Comprehension du monde numérique": "Compréhension du monde numérique",
    "Devenir autonome dans les démarches administratives": "Aide aux démarches administratives",
    "Réaliser des démarches administratives avec un accompagnement": "Aide aux démarches administratives",
    "Prendre en main un smartphone ou une tablette": "Maîtrise des outils numériques du quotidien",
    "Prendre en main un ordinateur": "Maîtrise des outils numériques du quotidien",
    "Utiliser le numérique au quotidien": "Maîtrise des outils numériques du quotidien",
    "Approfondir ma culture numérique": "Compréhension du monde numérique",
    "Favoriser mon insertion professionnelle": "Insertion professionnelle via le numérique",
    "Accéder à une connexion internet": "Accès internet et matériel informatique",
    "Accéder à du matériel": "Accès internet et matériel informatique",
    "S’équiper en matériel informatique": "Acquisition de matériel informatique à prix solidaire",
    "Soutenir la parentalité et l'éducation avec le numérique": "Parentalité et éducation avec le numérique",
    "Créer avec le numérique": "Loisirs et créations numériques",
}
# Export: the thématique that stands for each LaMednum service (first match wins, in this order).
_MEDNUM_SERVICE_OUT = (
    ("difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
     "Aide aux démarches administratives"),
    ("numerique--acceder-a-des-services-en-ligne", "Aide aux démarches administratives"),
    ("numerique--maitriser-les-fondamentaux-du-numerique", "Maîtrise des outils numériques du quotidien"),
    ("numerique--acceder-a-une-connexion-internet", "Accès internet et matériel informatique"),
    ("numerique--acquerir-un-equipement", "Acquisition de matériel informatique à prix solidaire"),
)  # fmt: skip
_MEDNUM_SERVICE_OUT_WITH_DIGITAL = (
    ("famille--soutien-a-la-parentalite-et-a-leducation", "Parentalité et éducation avec le numérique"),
    ("preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi",
     "Insertion professionnelle via le numérique"),
    ("remobilisation--activites-sportives-et-culturelles", "Loisirs et créations numériques"),
)  # fmt: skip
MEDNUM_PUBLICS = {
    "Jeunes": "jeunes",
    "Étudiants": "etudiants",
    "Familles et/ou enfants": "familles",
    "Seniors": "seniors",
    "Femmes": "femmes",
}
# prise_en_charge_specifique → a local accommodation code (network.vocabulary.ACCOMMODATIONS) or a language;
# "Langues étrangères (autres)" names no language: it is accepted and not stored.
MEDNUM_SUPPORT: dict[str, tuple[str, str]] = {
    "Surdité": ("accommodation", "surdite"),
    "Handicaps moteurs": ("accommodation", "mobilite-reduite"),
    "Déficience visuelle": ("accommodation", "malvoyance"),
    "Handicaps mentaux": ("accommodation", "falc"),
    "Illettrisme": ("accommodation", "falc"),
    "Langues étrangères (anglais)": ("language", "en"),
    "Langues étrangères (autres)": ("", ""),
}
MEDNUM_FEES = {"Gratuit": "gratuit", "Gratuit sous condition": "gratuit", "Payant": "payant"}
MEDNUM_PROGRAMMES: dict[str, str | None] = {
    "Aidants Connect": "aidants-connect",
    "Bibliothèques numérique de référence": None,
    "Certification PIX": None,
    "Conseillers numériques": "conseillers-numeriques",
    "Emmaüs Connect": "emmaus",
    "France Services": "france-service",
    "Grande école du numérique": "grandes-ecoles-du-numerique",
    "La Croix Rouge": "croix-rouge",
    "Point d'accès numérique CAF": "caf",
    "Promeneurs du net": None,
    "Relais numérique (Emmaüs Connect)": "emmaus",
}
MEDNUM_ACCESS = {
    "Se présenter": "se-presenter",
    "Téléphoner": "telephoner",
    "Contacter par mail": "envoyer-un-courriel",
    "Prendre un RDV en ligne": "utiliser-lien-mobilisation",
    "Envoyer un mail avec une fiche de prescription": "envoyer-un-courriel",
    "Ce lieu n'accueille pas de public": "",
}
MEDNUM_SUPPORT_MODES = {  # modalites_accompagnement → (service type, reception mode)
    "En autonomie": ("", "en-presentiel"),
    "Accompagnement individuel": ("accompagnement", "en-presentiel"),
    "Dans un atelier collectif": ("atelier", "en-presentiel"),
    "Atelier collectif": ("atelier", "en-presentiel"),
    "À distance": ("", "a-distance"),
}
MEDNUM_ITINERANCE = ("Itinérant", "Fixe")
_MEDNUM_NAMES = {  # data·inclusion field → LaMednum column, for messages
    "siret": "pivot",
    "courriel": "courriels",
    "horaires_accueil": "horaires",
    "accessibilite_lieu": "fiche_acces_libre",
    "description": "presentation_resume",
    "lien_mobilisation": "prise_rdv",
    "nom": "nom",
    "id": "id",
}
MEDNUM_SERVICE_NAME = "Médiation numérique"


_MEDNUM_ALIASES: dict[str, dict[str, str]] = {  # labels of earlier versions of the schema, per column
    "services": _MEDNUM_SERVICE_ALIASES,
    "modalites_accompagnement": {
        "Dans un atelier collectif : j'apprends collectivement à utiliser le numérique": "Dans un atelier collectif",
        "À distance (par téléphone ou en visioconférence)": "À distance",
    },
    "frais_a_charge": {
        "Gratuit : Je peux accéder gratuitement au lieu et à ses services": "Gratuit",
        "Payant : L’accès au lieu et/ou à ses services est payant": "Payant",
    },
    "prise_en_charge_specifique": {"Illetrisme": "Illettrisme"},
}


def _mednum_values(row: dict[str, str], column: str, allowed: Iterable[str], reasons: list[str]) -> list[str]:
    """A `|`-separated cell checked against its vocabulary; an unknown value names the column."""
    aliases = _MEDNUM_ALIASES.get(column, {})
    known = set(allowed)
    values = []
    for value in (v.strip() for v in re.split(r"[|;]", row.get(column, ""))):
        if not value:
            continue
        value = aliases.get(value, value)
        if value in known:
            values.append(value)
        elif value.startswith("Gratuit sous condition") and column == "frais_a_charge":
            values.append("Gratuit sous condition")  # the long label of 0.2 holds commas and parentheses
        else:
            reasons.append(f"{column} : valeur inconnue {_shown(value)}")
    return list(dict.fromkeys(values))


def _mednum_candidate(row: RawRow, source: str) -> tuple[RowOutcome, list[Candidate]]:
    cells = row.data
    outcome = RowOutcome(row.file, row.where, "lieu", cells.get("id", ""))
    if row.problem:
        outcome.reasons.append(row.problem)
        return outcome, []
    reasons = outcome.reasons
    for column in MEDNUM_REQUIRED:
        if not cells.get(column):
            reasons.append(f"{column} : champ obligatoire manquant")
    pivot = cells.get("pivot", "").replace(" ", "")
    siret = ""
    if re.fullmatch(r"\d{14}", pivot):
        siret = "" if pivot == "0" * 14 else pivot  # the national map's placeholder for "unknown"
    elif pivot and not re.fullmatch(r"W\d{9}", pivot, re.I):
        reasons.append(f"pivot : ni un SIRET (14 chiffres) ni un numéro RNA (W suivi de 9 chiffres) {_shown(pivot)}")
    services = _mednum_values(cells, "services", MEDNUM_SERVICES, reasons)
    publics = _mednum_values(cells, "publics_specifiquement_adresses", MEDNUM_PUBLICS, reasons)
    support = _mednum_values(cells, "prise_en_charge_specifique", MEDNUM_SUPPORT, reasons)
    fees = _mednum_values(cells, "frais_a_charge", MEDNUM_FEES, reasons)
    programmes = _mednum_values(cells, "dispositif_programmes_nationaux", MEDNUM_PROGRAMMES, reasons)
    access = _mednum_values(cells, "modalites_acces", MEDNUM_ACCESS, reasons)
    modes = _mednum_values(cells, "modalites_accompagnement", MEDNUM_SUPPORT_MODES, reasons)
    itinerance = _mednum_values(cells, "itinerance", MEDNUM_ITINERANCE, reasons)
    if reasons:
        return outcome, []

    ident = _strip_prefix(source, cells["id"])
    di_id = f"{source}--{ident}"
    emails = [e for e in re.split(r"[|;,]\s*", cells.get("courriels", "")) if e]
    websites = [w for w in re.split(r"[|;,]\s*", cells.get("site_web", "")) if w]
    resume, detail = cells.get("presentation_resume", ""), cells.get("presentation_detail", "")
    common = {
        "source": source,
        "date_maj": cells["date_maj"],
        "commune": cells.get("commune"),
        "code_postal": cells.get("code_postal"),
        "code_insee": cells.get("code_insee") or None,
        "adresse": cells.get("adresse"),
        "complement_adresse": cells.get("complement_adresse") or None,
        "latitude": cells.get("latitude") or None,
        "longitude": cells.get("longitude") or None,
        "telephone": cells.get("telephone") or None,
        "courriel": emails[0] if emails else None,
        "horaires_accueil": cells.get("horaires") or None,
    }
    structure_data = {
        **common,
        "id": di_id,
        "nom": cells["nom"],
        "siret": siret or None,
        "site_web": websites[0] if websites else None,
        "accessibilite_lieu": cells.get("fiche_acces_libre") or None,
        "reseaux_porteurs": sorted({n for p in programmes if (n := MEDNUM_PROGRAMMES[p])}),
        "description": (detail or resume) if len(detail or resume) >= 5 else None,
    }
    types = sorted({t for m in modes if (t := MEDNUM_SUPPORT_MODES[m][0])})
    reception = sorted({r for m in modes if (r := MEDNUM_SUPPORT_MODES[m][1])})
    access_codes = sorted({code for a in access if (code := MEDNUM_ACCESS[a])})
    prescription = "Envoyer un mail avec une fiche de prescription" in access
    service_data = {
        **common,
        "id": di_id,
        "structure_id": di_id,
        "nom": MEDNUM_SERVICE_NAME,
        "description": (resume or detail)
        if len(resume or detail) >= 5
        else f"{MEDNUM_SERVICE_NAME} : " + (", ".join(services) or cells["nom"]),
        "type": types[0] if types else None,
        "thematiques": sorted({t for s in services for t in MEDNUM_SERVICES[s]}),
        "publics": sorted({MEDNUM_PUBLICS[p] for p in publics}) or ["tous-publics"],
        "frais": ("payant" if "Payant" in fees else "gratuit") if fees else None,
        "frais_precisions": "Gratuit sous condition" if "Gratuit sous condition" in fees else None,
        "modes_accueil": reception or None,
        "modes_mobilisation": access_codes or None,
        "mobilisable_par": ["professionnels"] if prescription else None,
        "lien_mobilisation": cells.get("prise_rdv") or None,
    }
    structure_data = {k: v for k, v in structure_data.items() if v not in (None, "", [])}
    service_data = {k: v for k, v in service_data.items() if v not in (None, "", [])}
    structure_model = _validate_di("structure", structure_data, outcome, _MEDNUM_NAMES)
    service_model = _validate_di("service", service_data, outcome, _MEDNUM_NAMES) if structure_model else None
    if structure_model is None or service_model is None:
        outcome.reasons[:] = list(dict.fromkeys(outcome.reasons))  # both models may report the same field
        return outcome, []
    assert isinstance(structure_model, di.Structure) and isinstance(service_model, di.Service)

    key = (source, ident)
    structure_values = _structure_values(structure_model)
    kinds = [k for k in re.split(r"[|;,]", cells.get("typologie", "")) if k.strip()]
    structure_values["kind"] = next((k.strip() for k in kinds if k.strip() in STRUCTURE_KINDS), "AUTRE")
    service_values, _ = _service_values(service_model)
    service_values["types"] = _json_list(types)
    service_values["accepts_referrals"] = prescription and bool(emails)
    service_values["fees"] = _json_list(sorted({MEDNUM_FEES[f] for f in fees}))
    for kind, column in (("accommodation", "accommodations"), ("language", "languages")):
        service_values[column] = _json_list(
            sorted({MEDNUM_SUPPORT[s][1] for s in support if MEDNUM_SUPPORT[s][0] == kind})
        )
    place = None
    if "Itinérant" in itinerance:
        place = {
            "address": structure_values["address"],
            "postal_code": structure_values["postal_code"],
            "commune": structure_values["commune"],
            "insee_code": structure_values["insee_code"],
            "latitude": structure_values["latitude"],
            "longitude": structure_values["longitude"],
            "itinerant": True,
        }
    names = {**_DI_NAMES, **{k: _MEDNUM_NAMES.get(v, v) for k, v in _DI_NAMES.items()}, "opening_hours": "horaires"}
    length_problems = _length_checks(Structure, structure_values, names) + _length_checks(
        Service, service_values, names
    )
    if length_problems:
        outcome.reasons.extend(dict.fromkeys(length_problems))
        return outcome, []
    return outcome, [
        Candidate(outcome, key, structure_values),
        Candidate(outcome, key, service_values, structure_key=key, place=place),
    ]


def parse_mednum(
    files: Sequence[InputFile], source: str | None = None, progress: Progress | None = None
) -> tuple[list[RowOutcome], list[Candidate], list[Candidate]]:
    """Read and validate a LaMednum CSV: one row per place, giving one structure and its digital service."""
    rows: list[RawRow] = []
    for file in files:
        rows.extend(_read_csv(file, MEDNUM_REQUIRED)[1])
    source = source or DEFAULT_MEDNUM_SOURCE
    outcomes, structures, services = [], [], []
    for done, row in enumerate(rows, start=1):
        outcome, found = _mednum_candidate(row, source)
        outcomes.append(outcome)
        if found:
            structures.append(found[0])
            services.append(found[1])
        if progress and (done % 1000 == 0 or done == len(rows)):
            progress("validation", done, len(rows))
    return outcomes, structures, services


# ---------------------------------------------------------------- upsert
@dataclasses.dataclass(slots=True)
class _Existing:
    id: int
    values: dict[str, Any]
    merged_into: int | None = None
    place: dict[str, Any] | None = None  # services: their first place


def _same(old: Any, new: Any) -> bool:
    if old == new:
        return True
    if isinstance(old, str) and isinstance(new, str) and new[:1] in "[{":
        try:
            return bool(json.loads(old) == json.loads(new))  # same list, written with other spacing
        except json.JSONDecodeError:
            return False
    if isinstance(old, datetime) and isinstance(new, date):
        return old.date() == new
    return False


def _changed(existing: dict[str, Any], values: dict[str, Any]) -> bool:
    return any(not _same(existing.get(column), value) for column, value in values.items())


def _placeholders(count: int, start: int = 1) -> list[str]:
    if isinstance(current_engine(), SQLiteEngine):
        return ["?"] * count
    return [f"${i}" for i in range(start, start + count)]


async def _execute_many(transaction: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One prepared statement, many rows: the driver's executemany (aiosqlite or asyncpg) on the transaction."""
    for start in range(0, len(rows), BATCH * 10):
        await transaction.connection.executemany(sql, rows[start : start + BATCH * 10])


async def _insert_many(transaction: Any, table: type[Table], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({", ".join(_placeholders(len(columns)))})'
        await _execute_many(transaction, sql, rows)


async def _update_many(transaction: Any, table: type[Table], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows are (values…, id)."""
    if rows:
        marks = _placeholders(len(columns) + 1)
        sets = ", ".join(f'"{c}" = {m}' for c, m in zip(columns, marks, strict=False))
        sql = f'UPDATE "{table._meta.tablename}" SET {sets} WHERE id = {marks[-1]}'
        await _execute_many(transaction, sql, rows)


async def _load(table: type[Table], sources: set[str], columns: list[str]) -> dict[tuple[str, str], _Existing]:
    """Every row of these sources, keyed by (source, source_id): one query, not one per row."""
    if not sources:
        return {}
    extra = ["merged_into"] if table is Structure else []
    wanted = [table._meta.get_column_by_name(c) for c in ["id", "source", "source_id", *extra, *columns]]
    rows = await table.select(*wanted).where(table._meta.get_column_by_name("source").is_in(sorted(sources)))
    found = {}
    for row in rows:
        # a row made in Maillage has no source_id: its exports name it by its id ("maillage--12")
        key = (row["source"], row["source_id"] or str(row["id"]))
        found[key] = _Existing(row["id"], row, row.get("merged_into"))
    return found


async def _load_places(service_ids: list[int]) -> dict[int, dict[str, Any]]:
    places: dict[int, dict[str, Any]] = {}
    for start in range(0, len(service_ids), BATCH * 5):
        chunk = service_ids[start : start + BATCH * 5]
        for row in await Place.select().where(Place.service.is_in(chunk)).order_by(Place.id):
            places.setdefault(row["service"], row)
    return places


def _final(structure_id: int, merged: dict[int, int | None]) -> int:
    """Follow merged_into: services of a merged structure belong to the one it was merged into."""
    seen = set()
    while (target := merged.get(structure_id)) and structure_id not in seen:
        seen.add(structure_id)
        structure_id = target
    return structure_id


def _reject_repeats(candidates: list[Candidate]) -> list[Candidate]:
    first: dict[tuple[str, str], RowOutcome] = {}
    kept = []
    for candidate in candidates:
        seen = first.get(candidate.key)
        if seen is None:
            first[candidate.key] = candidate.outcome
            kept.append(candidate)
        elif seen is not candidate.outcome:
            reason = f"id : identifiant déjà présent dans le fichier ({seen.where})"
            if reason not in candidate.outcome.reasons:  # a médiation numérique row repeats two candidates
                candidate.outcome.reasons.append(reason)
            candidate.outcome.settle("rejected")
    return kept


async def _upsert(
    structures: list[Candidate],
    services: list[Candidate],
    report: ImportReport,
    transaction: Any | None,
    progress: Progress | None = None,
) -> None:
    """Compare every candidate with the preloaded rows; write (batched) unless transaction is None (dry run)."""
    now = datetime.now(UTC)
    structures = _reject_repeats(structures)
    services = _reject_repeats(services)
    sources = {c.key[0] for c in structures} | {c.key[0] for c in services}
    total = len(structures) + len(services)

    # structures
    s_columns = list(structures[0].values) if structures else []
    existing = await _load(Structure, sources, s_columns)
    creates: list[Candidate] = []
    updates: list[tuple[Candidate, _Existing]] = []
    for candidate in structures:
        found = existing.get(candidate.key)
        if found is None:
            creates.append(candidate)
        elif _changed(found.values, candidate.values):
            updates.append((candidate, found))
        else:
            candidate.outcome.settle("unchanged")
    if transaction is not None and creates:
        create_columns = [
            *s_columns,
            *creates[0].on_create,
            "source",
            "source_id",
            "status",
            "created_at",
            "updated_at",
        ]
        rows = [(*c.values.values(), *c.on_create.values(), *c.key, "active", now, now) for c in creates]
        await _insert_many(transaction, Structure, create_columns, rows)
    if transaction is not None and updates:
        rows = [(*c.values.values(), now, found.id) for c, found in updates]
        await _update_many(transaction, Structure, [*s_columns, "updated_at"], rows)
    for candidate in creates:
        candidate.outcome.settle("created")
    for candidate, found in updates:
        candidate.outcome.settle("updated")
        report.structure_ids.append(found.id)
    if progress:
        progress("écriture", len(structures), total)

    # where each structure now is: ids of the new ones, merges followed
    structure_ids: dict[tuple[str, str], int | None] = {k: e.id for k, e in existing.items()}
    merged = {e.id: e.merged_into for e in existing.values()}
    if transaction is not None and creates:
        fresh = await _load(Structure, {c.key[0] for c in creates}, [])
        for candidate in creates:
            structure_ids[candidate.key] = fresh[candidate.key].id
            report.structure_ids.append(fresh[candidate.key].id)
    else:
        structure_ids.update({c.key: None for c in creates})  # dry run: would be created
    rejected_refs = {o.ident for o in report.rows if o.kind == "structure" and o.status == "rejected"}

    # services
    v_columns = list(services[0].values) if services else []
    existing_services = await _load(Service, sources, ["structure", *v_columns])
    places = await _load_places([e.id for e in existing_services.values()])
    for found in existing_services.values():
        found.place = places.get(found.id)
    s_creates: list[tuple[Candidate, int | None]] = []
    s_updates: list[tuple[Candidate, _Existing, int | None]] = []
    for candidate in services:
        assert candidate.structure_key is not None
        if candidate.structure_key not in structure_ids:
            ident = candidate.structure_ref
            if ident in rejected_refs:
                candidate.outcome.reasons.append(f"structure_id : la structure {_shown(ident)} a été refusée")
            else:
                candidate.outcome.reasons.append(
                    f"structure_id : structure {_shown(ident)} introuvable (ni dans le fichier, ni dans l'annuaire)"
                )
            candidate.outcome.settle("rejected")
            continue
        structure_id = structure_ids[candidate.structure_key]
        if structure_id is not None:
            structure_id = _final(structure_id, merged)
        found = existing_services.get(candidate.key)
        if found is None:
            s_creates.append((candidate, structure_id))
            continue
        for column in candidate.led_lists:
            new, old = _loads(candidate.values[column]), _loads(found.values[column])
            if len(new) == 1 and old[:1] == new:
                candidate.values[column] = found.values[column]
        place_changed = candidate.place is not None and (found.place is None or _changed(found.place, candidate.place))
        if found.values["structure"] != structure_id or place_changed or _changed(found.values, candidate.values):
            s_updates.append((candidate, found, structure_id))
        else:
            candidate.outcome.settle("unchanged")
    if transaction is not None and s_creates:
        columns = [*v_columns, "structure", "source", "source_id", "created_at", "updated_at"]
        rows = [(*c.values.values(), sid, *c.key, now, now) for c, sid in s_creates]
        await _insert_many(transaction, Service, columns, rows)
    if transaction is not None and s_updates:
        rows = [(*c.values.values(), sid, now, found.id) for c, found, sid in s_updates]
        await _update_many(transaction, Service, [*v_columns, "structure", "updated_at"], rows)
    for candidate, _ in s_creates:
        candidate.outcome.settle("created")
    for candidate, _, _ in s_updates:
        candidate.outcome.settle("updated")

    if transaction is not None and (s_creates or s_updates):
        fresh_services = await _load(Service, {c.key[0] for c, _ in s_creates}, []) if s_creates else {}
        new_places: list[dict[str, Any]] = []
        changed_places: list[tuple[dict[str, Any], int]] = []
        for candidate, _ in s_creates:
            service_id = fresh_services[candidate.key].id
            report.service_ids.append(service_id)
            if candidate.place:
                new_places.append({**candidate.place, "service": service_id})
        for candidate, found, _ in s_updates:
            report.service_ids.append(found.id)
            if candidate.place and found.place is None:
                new_places.append({**candidate.place, "service": found.id})
            elif candidate.place and found.place is not None and _changed(found.place, candidate.place):
                changed_places.append((candidate.place, found.place["id"]))
        if new_places:  # one parser gives every place the same keys
            await _insert_many(transaction, Place, list(new_places[0]), [tuple(p.values()) for p in new_places])
        if changed_places:
            columns = list(changed_places[0][0])
            await _update_many(transaction, Place, columns, [(*p.values(), pid) for p, pid in changed_places])
    if progress:
        progress("écriture", total, total)


async def refresh_search(service_ids: list[int], structure_ids: list[int]) -> None:
    """Tags and index entries of the services written, and of every service of the structures written.

    Runs in the import's transaction, so the index never lags the directory.
    """
    if service_ids:
        await search.sync_tags_bulk(service_ids)
    touched = set(service_ids)
    for start in range(0, len(structure_ids), BATCH):
        chunk = structure_ids[start : start + BATCH]
        touched.update(r["id"] for r in await Service.select(Service.id).where(Service.structure.is_in(chunk)))
    if touched:
        await search.reindex_services(sorted(touched))


_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,59}$")


async def import_files(
    rt: Runtime,
    files: Sequence[InputFile],
    fmt: str,
    *,
    source: str | None = None,
    dry_run: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row, then upsert the good ones in one transaction (or only report, with dry_run).

    Raises Invalid, with nothing written, on a fatal file error.
    """
    if fmt not in FORMATS_IN:
        raise Invalid(f"Format inconnu : {fmt} (attendu : {', '.join(FORMATS_IN)}).")
    if source is not None and not _SOURCE_NAME.match(source):
        raise Invalid("Nom de source invalide : minuscules, chiffres et tirets, par exemple « cd45 ».")
    if not files:
        raise Invalid("Aucun fichier à importer.")
    parse = parse_datainclusion if fmt == "datainclusion" else parse_mednum
    clock = time.perf_counter()
    outcomes, structures, services = parse(files, source, progress)
    report = ImportReport(fmt, dry_run, outcomes)
    report.timings["validation"] = time.perf_counter() - clock
    for outcome in outcomes:
        if outcome.reasons:
            outcome.settle("rejected")
    if dry_run:
        await _upsert(structures, services, report, None, progress)
        return report
    async with write_transaction() as transaction:
        clock = time.perf_counter()
        await _upsert(structures, services, report, transaction, progress)
        report.timings["writing"] = time.perf_counter() - clock
        report.duplicates_flagged = await duplicates.flag_duplicates(report.structure_ids)
        report.timings["duplicates"] = time.perf_counter() - clock - report.timings["writing"]
        clock = time.perf_counter()
        await refresh_search(report.service_ids, report.structure_ids)
        report.timings["search_index"] = time.perf_counter() - clock
        counts = {kind: report.counts(kind) for kind in ("structure", "service", "lieu")}
        details: dict[str, journal.Scalar] = {"format": fmt}
        if source:
            details["source"] = source
        for kind, c in counts.items():
            if sum(c.values()):
                for status in ("created", "updated", "unchanged", "rejected"):
                    details[f"{kind}s_{status}"] = c[status]
        details["duplicates_flagged"] = report.duplicates_flagged
        await journal.append(rt.secrets.journal_key, Act("directory_import", actor_id, None, "import", fmt, details))
    return report


async def import_paths(
    rt: Runtime,
    paths: Sequence[Path],
    fmt: str,
    *,
    source: str | None = None,
    dry_run: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    files = [InputFile.from_path(path) for path in paths]
    return await import_files(rt, files, fmt, source=source, dry_run=dry_run, actor_id=actor_id, progress=progress)


# ---------------------------------------------------------------- export
_GENERIC_MAILBOX = re.compile(
    r"contact|accueil|info|secr[eé]tariat|direction|mairie|ccas|cias|caf|asso|mediath|biblio|centre|social|"
    r"numerique|france|service|mjc|epn|espace|maison|point|relais|permanence|bonjour|hello|admin|public|equipe|"
    r"team|orientation|inscription|rdv|aidant|conseiller|atelier|pimms|poste|mds|cs\d|ville|commune|agglo|"
    r"departement|region|solidarit|emploi|insertion|jeunes|famille|seniors|mediation|tiers|lieu|quartier",
    re.I,
)


def looks_personal(email: str) -> bool:
    """A person's own address (firstname.lastname@…, j.dupont@…): withheld from open data.

    A heuristic: team mailboxes (contact@, accueil.ccas@…) are exported; anything shaped like a name is not.
    """
    local = email.split("@", 1)[0].lower()
    if not local or _GENERIC_MAILBOX.search(local):
        return False
    parts = [p for p in re.split(r"[._\-]+", local) if p]
    return len(parts) == 2 and all(p.isalpha() for p in parts) and len(parts[1]) >= 2


def _di_id(row: dict[str, Any]) -> str:
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


def _export_date(*values: Any) -> str:
    today = date.today()
    found = next((d for v in values if (d := _as_date(v))), today)
    return min(found, today).isoformat()


def _loads(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, json.JSONDecodeError):
        return []
    return parsed if isinstance(parsed, list) else []


def _public_email(value: str, report: ExportReport) -> str | None:
    if not value:
        return None
    if looks_personal(value):
        report.withheld_emails += 1
        return None
    return value


def _clean(data: dict[str, Any]) -> dict[str, Any]:
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
        "id": _di_id(row),
        "nom": (row["name"] or "")[:150],
        "date_maj": _export_date(row["confirmed_on"], row["updated_at"]),
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
        "courriel": _public_email(row["email"], report),
        "site_web": row["website"],
        "horaires_accueil": row["opening_hours"],
        "accessibilite_lieu": row["accessibility_url"],
        "reseaux_porteurs": _loads(row["networks"]),
    }
    return _validated(di.Structure, _clean(data), report)


def _service_out(
    row: dict[str, Any], structure_di_id: str, place: dict[str, Any] | None, report: ExportReport
) -> dict[str, Any] | None:
    description = (row["description"] or "")[:10000] or row["name"]
    types, fees = _loads(row["types"]), _loads(row["fees"])
    data = {
        "source": row["source"] or OWN_SOURCE,
        "structure_id": structure_di_id,
        "id": _di_id(row),
        "nom": (row["name"] or "")[:150],
        "description": description,
        "date_maj": _export_date(row["updated_on"], row["updated_at"]),
        "type": types[0] if types else None,
        "thematiques": _loads(row["thematiques"]),
        "frais": fees[0] if fees else None,
        "frais_precisions": row["fees_details"],
        "publics": _loads(row["publics"]),
        "conditions_acces": row["access_conditions"],
        "courriel": _public_email(row["referral_email"], report),
        "modes_accueil": _loads(row["reception_modes"]),
        "zone_eligibilite": _loads(row["eligibility_zone"]),
        "modes_mobilisation": _loads(row["mobilisation_modes"]),
        "mobilisable_par": _loads(row["mobilisable_by"]),
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
    return _validated(di.Service, _clean(data), report)


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


async def _active_structures() -> AsyncIterator[dict[str, Any]]:
    async for page in _pages(Structure, Structure.status == "active"):
        for row in page:
            yield row


async def _active_services(
    structure_ids: dict[int, Any],
) -> AsyncIterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Active services of the given structures, each with its first place."""
    async for page in _pages(Service, Service.is_active == True):  # noqa: E712 (Piccolo builds SQL from it)
        page = [row for row in page if row["structure"] in structure_ids]
        places = await _load_places([row["id"] for row in page])
        for row in page:
            yield row, places.get(row["id"])


async def iter_datainclusion(report: ExportReport) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """("structure" | "service", row) in data·inclusion v1, each validated by the package: structures first."""
    exported: dict[int, str] = {}
    async for row in _active_structures():
        data = _structure_out(row, report)
        if data is not None:
            exported[row["id"]] = data["id"]
            report.structures += 1
            yield "structure", data
    async for row, place in _active_services(exported):
        data = _service_out(row, exported[row["structure"]], place, report)
        if data is not None:
            report.services += 1
            yield "service", data


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


@dataclasses.dataclass
class _Sink:
    """A file written beside its final name, moved into place only when complete."""

    path: Path
    handle: TextIO | None = None

    def open(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.with_name(self.path.name + ".partiel").open("w", encoding="utf-8", newline="")
        return self.handle

    def commit(self) -> None:
        assert self.handle is not None
        self.handle.close()
        self.path.with_name(self.path.name + ".partiel").replace(self.path)

    def abort(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.path.with_name(self.path.name + ".partiel").unlink(missing_ok=True)


async def _write_datainclusion_json(out: Path, report: ExportReport) -> None:
    sink = _Sink(out)
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


def csv_paths(out: Path) -> tuple[Path, Path]:
    """data·inclusion CSV is two files: <stem>-structures.csv and <stem>-services.csv beside `out`."""
    stem = out.stem.removesuffix("-structures").removesuffix("-services")
    suffix = out.suffix or ".csv"
    return out.with_name(f"{stem}-structures{suffix}"), out.with_name(f"{stem}-services{suffix}")


async def _write_datainclusion_csv(out: Path, report: ExportReport) -> list[Path]:
    paths = csv_paths(out)
    sinks = {"structure": _Sink(paths[0]), "service": _Sink(paths[1])}
    writers = {}
    try:
        for kind, sink in sinks.items():
            fields = list((di.Structure if kind == "structure" else di.Service).model_fields)
            writer = csv.writer(sink.open())
            writer.writerow(fields)
            writers[kind] = (writer, fields)
        async for kind, data in iter_datainclusion(report):
            writer, fields = writers[kind]
            writer.writerow([_csv_cell(data.get(f)) for f in fields])
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
    booking_url: str = ""


def _mednum_services(thematiques: set[str]) -> list[str]:
    found = [label for code, label in _MEDNUM_SERVICE_OUT if code in thematiques]
    if any(t.startswith("numerique--") for t in thematiques):
        found += [label for code, label in _MEDNUM_SERVICE_OUT_WITH_DIGITAL if code in thematiques]
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
    async for row, place in _active_services(active):
        offer = offers.setdefault(row["structure"], _Offer())
        offer.thematiques |= set(_loads(row["thematiques"]))
        offer.publics |= set(_loads(row["publics"]))
        offer.fees |= set(_loads(row["fees"]))
        offer.conditional_free |= (row["fees_details"] or "").lower().startswith("gratuit sous condition")
        offer.access |= set(_loads(row["mobilisation_modes"]))
        offer.prescription |= bool(row["accepts_referrals"])
        offer.types |= set(_loads(row["types"]))
        offer.reception |= set(_loads(row["reception_modes"]))
        offer.accommodations |= set(_loads(row["accommodations"]))
        offer.languages |= set(_loads(row["languages"]))
        offer.itinerant |= bool(place and place["itinerant"])
        offer.opening_hours = offer.opening_hours or row["opening_hours"]
    sink = _Sink(out)
    writer = csv.writer(sink.open())
    try:
        writer.writerow(MEDNUM_COLUMNS)
        async for row in _active_structures():
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
            if found.prescription:
                access.append("Envoyer un mail avec une fiche de prescription")
            modes = []
            if "accompagnement" in found.types:
                modes.append("Accompagnement individuel")
            if "atelier" in found.types:
                modes.append("Dans un atelier collectif")
            if "a-distance" in found.reception:
                modes.append("À distance")
            email = _public_email(row["email"], report)
            cells = {
                "id": _di_id(row),
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
                "telephone": row["phone"],
                "courriels": email,
                "site_web": row["website"],
                "horaires": row["opening_hours"] or found.opening_hours,
                "presentation_resume": _shorten(description, 280),
                "presentation_detail": description if len(description) > 280 else "",
                "source": "Maillage",
                "itinerance": "Itinérant" if found.itinerant else "",
                "date_maj": _export_date(row["confirmed_on"], row["updated_at"]),
                "services": _mednum_services(found.thematiques),
                "publics_specifiquement_adresses": _reverse(MEDNUM_PUBLICS, found.publics),
                "prise_en_charge_specifique": support,
                "frais_a_charge": fees,
                "dispositif_programmes_nationaux": _reverse(MEDNUM_PROGRAMMES, _loads(row["networks"])),
                "modalites_acces": access,
                "modalites_accompagnement": modes,
                "fiche_acces_libre": row["accessibility_url"],
            }
            writer.writerow([_csv_cell(cells.get(column)) for column in MEDNUM_COLUMNS])
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
    sink = _Sink(out)
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
        async for row in _active_structures():
            names[row["id"]] = (_di_id(row), row["name"])
            if row["latitude"] is None or row["longitude"] is None:
                continue
            feature(
                row["longitude"],
                row["latitude"],
                _clean(
                    {
                        "type": "structure",
                        "id": _di_id(row),
                        "nom": row["name"],
                        "typologie": row["kind"],
                        "adresse": row["address"],
                        "code_postal": row["postal_code"],
                        "commune": row["commune"],
                        "telephone": row["phone"],
                        "courriel": _public_email(row["email"], report),
                        "site_web": row["website"],
                        "horaires_accueil": row["opening_hours"],
                        "date_maj": _export_date(row["confirmed_on"], row["updated_at"]),
                    }
                ),
            )
            report.structures += 1
        async for service, place in _active_services(names):
            if not place or place["latitude"] is None or place["longitude"] is None:
                continue
            structure_id, structure_name = names[service["structure"]]
            feature(
                place["longitude"],
                place["latitude"],
                _clean(
                    {
                        "type": "lieu",
                        "service_id": _di_id(service),
                        "service": service["name"],
                        "structure_id": structure_id,
                        "structure": structure_name,
                        "nom": place["name"],
                        "adresse": place["address"],
                        "code_postal": place["postal_code"],
                        "commune": place["commune"],
                        "horaires_accueil": place["opening_hours"] or service["opening_hours"],
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
    report = ExportReport(fmt, [out])
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
    await journal.append(rt.secrets.journal_key, Act("directory_export", actor_id, None, "export", fmt, details))
    return report


def read_datainclusion_export(paths: Sequence[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of an export made here, as plain dicts ("structure" | "service", row): for checks and tests."""
    for path in paths:
        if path.suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            for key, kind in (("structures", "structure"), ("services", "service")):
                for item in document.get(key, []):
                    yield kind, item
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                kind = "service" if "structure_id" in row else "structure"
                data = {k: v for k, v in row.items() if v != ""}
                for name in DI_LIST_FIELDS[kind] & data.keys():
                    data[name] = _split_list(data[name])
                yield kind, data
