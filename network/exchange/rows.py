"""One row at a time: validation by the data·inclusion package and our own rules, French reasons naming the
field as the file names it, list cells, and the validated row mapped to our columns (`Candidate`)."""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pydantic
from data_inclusion.schema import v1 as di
from piccolo.columns import Varchar
from piccolo.table import Table

from network.exchange.report import BATCH, RowOutcome
from network.tables import Place, Service, Structure
from network.validation import HOURS_EXAMPLE, PHONE_EXAMPLE, french_phone, opening_hours_problem, siret_problem


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


def shown(value: Any) -> str:
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
            message = f"valeur inconnue {shown(value)}"
            if field == "zone_eligibilite":
                message += " (code commune, département, EPCI, pays ou « france » attendu)"
        elif kind in ("string_too_short", "string_too_long", "string_pattern_mismatch") and field in _PATTERN_HINTS:
            message = f"{_PATTERN_HINTS[field]} (reçu {shown(value)})"
        elif kind == "string_too_short":
            message = f"{ctx.get('min_length')} caractères au moins"
        elif kind == "string_too_long":
            message = f"{ctx.get('max_length')} caractères au plus"
        elif kind == "too_short":
            message = "au moins une valeur attendue"
        elif kind == "string_pattern_mismatch":
            message = f"{_PATTERN_HINTS.get(field, 'format invalide')} (reçu {shown(value)})"
        elif kind.startswith("url_"):
            message = f"adresse web invalide {shown(value)} : elle commence par https://"
        elif kind.startswith("date_"):
            message = f"date invalide {shown(value)} : format AAAA-MM-JJ attendu"
        elif kind.startswith(("float_", "int_")):
            message = f"nombre attendu (reçu {shown(value)})"
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


def extra_checks(values: dict[str, Any], rename: dict[str, str] | None = None) -> list[str]:
    """Our rules beyond the package's that reject a row: SIRET key, postcode range, coordinates."""
    reasons = []

    def name(field: str) -> str:
        return (rename or {}).get(field, field)

    siret = str(values.get("siret") or "")
    if siret and (problem := siret_problem(siret)):
        reasons.append(f"{name('siret')} : {problem[0].lower()}{problem[1:]}")
    postcode = str(values.get("code_postal") or "")
    if postcode and not re.fullmatch(r"(?:0[1-9]|[1-8]\d|9[0-8])\d{3}", postcode):
        reasons.append(f"{name('code_postal')} : code postal inexistant {shown(postcode)}")
    lat, lon = _number(values.get("latitude")), _number(values.get("longitude"))
    if lat is not None and not -90 <= lat <= 90:
        reasons.append(f"{name('latitude')} : doit être comprise entre -90 et 90 (reçu {lat})")
    if lon is not None and not -180 <= lon <= 180:
        reasons.append(f"{name('longitude')} : doit être comprise entre -180 et 180 (reçu {lon})")
    if (lat is None) != (lon is None):
        reasons.append(f"{name('latitude')} : renseignez la latitude et la longitude ensemble")
    return reasons


def imported_phone(value: str, outcome: RowOutcome, field: str = "telephone") -> str:
    """A phone written as the forms write it ("02 38 00 00 00"); one that is not a French number is left out
    and the row's report says so, the row being kept (the phone is optional)."""
    if not value.strip():
        return ""
    if phone := french_phone(value):
        return phone
    outcome.note(f"{field} : numéro non reconnu {shown(value)}, laissé vide ; attendu : {PHONE_EXAMPLE}")
    return ""


def imported_hours(value: str, outcome: RowOutcome, field: str = "horaires_accueil") -> str:
    """Opening hours in OpenStreetMap syntax; free text ("lundi 9h-12h") is left out and the row's report says
    so, the row being kept (a manager fills them in; until then the service is never shown "ouvert")."""
    value = value.strip()
    if not value or not opening_hours_problem(value):
        return value
    outcome.note(
        f"{field} : horaires illisibles {shown(value)}, laissés vides ; format OpenStreetMap attendu, {HOURS_EXAMPLE}"
    )
    return ""


def _without_bad_siret(data: dict[str, Any], outcome: RowOutcome, field: str) -> dict[str, Any]:
    """A SIRET that is not 14 digits or fails its key is left out of a row that is kept, and the row's report
    says so (as data·inclusion does: the SIRET is optional; a form still refuses a bad one)."""
    siret = str(data.get("siret") or "").strip()
    if not siret or not (problem := siret_problem(siret)):
        return data
    outcome.note(f"{field} : {problem[0].lower()}{problem[1:-1]} (reçu {shown(siret)}), laissé vide")
    return {**data, "siret": None}


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


_VARCHAR_LENGTHS: dict[str, dict[str, int]] = {
    table._meta.tablename: {c._meta.name: c.length for c in table._meta.columns if isinstance(c, Varchar) and c.length}
    for table in (Structure, Service, Place)
}


def length_checks(table: type[Table], values: dict[str, Any], names: dict[str, str]) -> list[str]:
    """Varchar lengths are not enforced by SQLite: check them here, naming the file's field."""
    lengths = _VARCHAR_LENGTHS[table._meta.tablename]
    reasons = []
    for column, value in values.items():
        limit = lengths.get(column)
        if limit and isinstance(value, str) and len(value) > limit:
            reasons.append(f"{names.get(column, column)} : {limit} caractères au plus")
    return reasons


def split_list(value: Any) -> list[str]:
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


def loads(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, json.JSONDecodeError):
        return []
    return parsed if isinstance(parsed, list) else []


def strip_prefix(source: str, ident: str) -> str:
    return ident[len(source) + 2 :] if ident.startswith(f"{source}--") else ident


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


def json_list(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def validate_di(
    kind: str, data: dict[str, Any], outcome: RowOutcome, rename: dict[str, str] | None = None
) -> pydantic.BaseModel | None:
    model_class: type[pydantic.BaseModel] = di.Structure if kind == "structure" else di.Service
    data = _without_bad_siret(data, outcome, (rename or {}).get("siret", "siret"))
    data, ahead = _dated_today(data)
    try:
        model = model_class.model_validate(data)
    except pydantic.ValidationError as error:
        reasons = french_errors(error, rename)
        # our own checks too, on the fields the package did not fault, so the report lists every fault at once
        named = {reason.split(" : ", 1)[0] for reason in reasons}
        reasons += [r for r in extra_checks(data, rename) if r.split(" : ", 1)[0] not in named]
        outcome.reasons.extend(reasons)
        return None
    fields = ("siret", "code_postal", "latitude", "longitude")
    checked = extra_checks({name: getattr(model, name, None) for name in fields}, rename)
    if checked:
        outcome.reasons.extend(checked)
        return None
    return model if ahead is None else model.model_copy(update={"date_maj": ahead})


def _dated_today(data: dict[str, Any]) -> tuple[dict[str, Any], date | None]:
    """A date_maj one day after the server's day is today where the file was written (after midnight in
    Paris, before midnight UTC; or overseas): data·inclusion's schema refuses any date after `date.today()`,
    so the row is checked as of the server's day, and keeps its own date. Later dates are still refused."""
    value = data.get("date_maj")
    try:
        dated = date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return data, None
    today = date.today()  # the schema's own clock
    if today < dated <= today + timedelta(days=1):
        return {**data, "date_maj": today.isoformat()}, dated
    return data, None


async def load_places(service_ids: list[int]) -> dict[int, dict[str, Any]]:
    places: dict[int, dict[str, Any]] = {}
    for start in range(0, len(service_ids), BATCH * 5):
        chunk = service_ids[start : start + BATCH * 5]
        for row in await Place.select().where(Place.service.is_in(chunk)).order_by(Place.id):
            places.setdefault(row["service"], row)
    return places
