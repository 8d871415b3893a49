"""The directory's edit forms, posted as strings, turned into the typed commands its services take.

Each function checks the whole form and raises hub.errors.Invalid with every field's French message at once,
or returns the command, tidied (spaces collapsed, codes sorted, phone numbers written the French way).
"""

from __future__ import annotations

import re

import msgspec

from hub.forms import FieldErrors
from hub.reporting import count_text
from hub.tables import STRUCTURE_KINDS
from network import opening_grid, validation, vocabulary
from network.schemas import (
    HoursFields,
    JoinRequestForm,
    PlaceCreate,
    PlaceForm,
    ServiceForm,
    ServiceUpdate,
    StructureForm,
    StructureUpdate,
)
from network.vocabulary import SERVICE_CHOICES

TICKED = ("on", "1", "true")  # what a browser (or a script) sends for a ticked checkbox

# The most characters each text field takes, as typed (before spaces are tidied). The pages' maxlength are
# these numbers (tests/test_form_limits.py compares them); each fits its column once tidied.
_HOURS_LIMITS = {"opening_hours": 500}
STRUCTURE_LIMITS: dict[str, int] = {
    "name": 150,
    "siret": 20,  # 14 digits, spaces allowed
    "address": 255,
    "address_extra": 255,
    "postal_code": 5,
    "commune": 120,
    "insee_code": 5,
    "neighbourhood": 120,
    "latitude": 20,
    "longitude": 20,
    "phone": 30,  # "+33 (0)2 38 00 00 00"; stored the French way, 14 characters
    "email": 254,
    "website": 255,
    "accessibility_url": 255,
    "description": 10000,
    **_HOURS_LIMITS,
}
JOIN_LIMITS: dict[str, int] = {**STRUCTURE_LIMITS, "contact_email": 254}
SERVICE_LIMITS: dict[str, int] = {
    "name": 150,
    "description": 10000,
    "fees_details": 1000,
    "access_conditions": 10000,
    "justificatifs": 2000,
    "weekly_capacity": 5,
    "referral_email": 254,
    "referral_instructions": 10000,
    "phone": 30,
    "booking_url": 500,
    **_HOURS_LIMITS,
}
PLACE_LIMITS: dict[str, int] = {
    "name": 200,
    "address": 255,
    "postal_code": 5,
    "commune": 120,
    "neighbourhood": 120,
    "latitude": 20,
    "longitude": 20,
    **_HOURS_LIMITS,
}
MULTI_LINE_FIELDS = {"description", "access_conditions", "referral_instructions", "justificatifs"}
JUSTIFICATIF_MAX = 200  # characters of one thing to bring
_SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
HOURS_BOTH = (
    "La grille et la saisie experte sont remplies toutes les deux et ne disent pas la même chose : videz la saisie "
    "experte pour garder la grille, ou videz la grille pour garder la saisie experte."
)


def _text_rules(form: msgspec.Struct, limits: dict[str, int], errors: FieldErrors) -> None:
    """Every text field's length and characters, in French (the page comes back with what was typed)."""
    for name, limit in limits.items():
        value = getattr(form, name, "")
        if not isinstance(value, str):
            continue
        value = value.strip()
        if len(value) > limit and name not in validation.URL_MAX_LENGTHS:  # a link's rule says it itself
            errors[name] = (
                f"{count_text(limit)} caractères au plus : le texte saisi en compte {count_text(len(value))}."
            )
        elif (_MULTI_LINE_FORBIDDEN if name in MULTI_LINE_FIELDS else _SINGLE_LINE_FORBIDDEN).search(value):
            errors[name] = (
                "Caractères non autorisés (caractères de contrôle)."
                if name in MULTI_LINE_FIELDS
                else "Caractères non autorisés (retours à la ligne, caractères de contrôle)."
            )


def hours_of(form: HoursFields, errors: FieldErrors) -> str:
    """The hours a form gives: its grid in OSM syntax, or its expert field; both filled and saying different
    things is refused (the page says which to empty)."""
    grid, grid_errors = opening_grid.grid_of(msgspec.structs.asdict(form))
    errors.update(grid_errors)
    expert = " ".join(form.opening_hours.split()) if "opening_hours" not in errors else ""
    from_grid = opening_grid.to_osm(grid)
    if expert:
        if problem := validation.opening_hours_problem(expert):
            errors["opening_hours"] = problem
        elif from_grid and not opening_grid.same_hours(expert, from_grid):
            errors["opening_hours"] = HOURS_BOTH
    return expert or from_grid


def hours_values(stored: str) -> dict[str, str]:
    """A stored expression as the form's fields: the grid when the hours fit in it (the expert field then
    empty), else the expert field alone."""
    grid = opening_grid.grid_from_osm(stored)
    if grid is None:
        return {**opening_grid.Grid().values(), "opening_hours": stored}
    return {**grid.values(), "opening_hours": ""}


# A way to reach a service needs the contact it uses (data·inclusion pairs them the same way).
_MODE_NEEDS = {
    "telephoner": ("phone", "Pour « Téléphoner », indiquez le téléphone du service."),
    "utiliser-lien-mobilisation": ("booking_url", "Pour ce mode, indiquez le lien de prise de rendez-vous."),
    "envoyer-un-courriel": ("referral_email", "Pour « Envoyer un courriel », indiquez l'e-mail de l'équipe."),
}


def _name(posted: str, errors: FieldErrors) -> str:
    name = " ".join(posted.split())
    if not 3 <= len(name) <= 150:
        errors.setdefault("name", "Le nom compte entre 3 et 150 caractères.")
    return name


def _codes(posted: list[str] | str, field: str, errors: FieldErrors) -> list[str]:
    """The known codes ticked for a multiple-choice field (a form sends one as a string), sorted, each once."""
    values = [posted] if isinstance(posted, str) else posted
    known = SERVICE_CHOICES[field]
    if any(value not in known for value in values):
        errors[field] = "Valeur inconnue : choisissez dans la liste."
    return sorted(set(values) & set(known))


def _languages(posted: list[str] | str, errors: FieldErrors) -> list[str]:
    """The ticked languages' codes; a code the list does not name (kept from an import) stays when it looks like one."""
    values = [posted] if isinstance(posted, str) else posted
    # ticked boxes; a script may still send "fr, ar" as the form once took it
    codes = {code.strip().lower() for value in values for code in value.replace(";", ",").split(",") if code.strip()}
    if any(not vocabulary.is_known("language", code) for code in codes):
        errors["languages"] = "Langue inconnue : choisissez dans la liste."
    return sorted(code for code in codes if vocabulary.is_known("language", code))


def _justificatifs(posted: str, errors: FieldErrors) -> list[str]:
    """What to bring, one a line (a leading dash or bullet dropped), each once."""
    items = [re.sub(r"^[\s\-–•*]+", "", line).strip() for line in posted.splitlines()]
    items = list(dict.fromkeys(" ".join(item.split()) for item in items if item.strip()))
    if "justificatifs" not in errors and any(len(item) > JUSTIFICATIF_MAX for item in items):
        errors["justificatifs"] = (
            f"Une ligne est trop longue ({JUSTIFICATIF_MAX} caractères par ligne) : écrivez une chose à apporter par ligne."
        )
    return items


def service_update(form: ServiceForm) -> ServiceUpdate:
    """The service edit form (new or existing service) as a ServiceUpdate, or Invalid naming every field at fault."""
    errors = FieldErrors()
    _text_rules(form, SERVICE_LIMITS, errors)
    name = _name(form.name, errors)
    codes = {field: _codes(getattr(form, field), field, errors) for field in SERVICE_CHOICES}
    for mode in codes["mobilisation_modes"]:
        needed, message = _MODE_NEEDS.get(mode, ("", ""))
        if needed and not str(getattr(form, needed)).strip():
            errors.setdefault(needed, message)
    languages = _languages(form.languages, errors)
    justificatifs = _justificatifs(form.justificatifs, errors)
    capacity = form.weekly_capacity.strip()
    if capacity and not (len(capacity) <= 5 and capacity.isdigit() and int(capacity) <= 10000):
        errors["weekly_capacity"] = "La capacité est un nombre entier de personnes par semaine, 10\u202f000 au plus."
    accepts = form.accepts_referrals in TICKED
    if accepts and not form.referral_email.strip():
        errors["referral_email"] = "Pour recevoir des orientations, indiquez l'adresse e-mail de l'équipe."
    with errors.collecting():
        validation.check(
            {name: getattr(form, name) for name in ("referral_email", "phone", "booking_url") if name not in errors}
        )
    hours = hours_of(form, errors)
    errors.raise_if_any()
    return ServiceUpdate(
        name=name,
        description=form.description.strip(),
        thematiques=codes["thematiques"],
        publics=codes["publics"],
        fees=codes["fees"],
        fees_details=form.fees_details.strip(),
        reception_modes=codes["reception_modes"],
        accommodations=codes["accommodations"],
        mobilisation_modes=codes["mobilisation_modes"],
        mobilisable_by=codes["mobilisable_by"],
        languages=languages,
        access_conditions=form.access_conditions.strip(),
        justificatifs=justificatifs,
        weekly_capacity=int(capacity) if capacity else None,
        accepts_referrals=accepts,
        referral_email=form.referral_email.strip().lower(),
        referral_instructions=form.referral_instructions.strip(),
        phone=validation.french_phone(form.phone) or "",
        booking_url=form.booking_url.strip(),
        opening_hours=hours,
    )


def place_create(form: PlaceForm) -> PlaceCreate:
    """The service page's "add a place" form as a PlaceCreate, or Invalid naming every field at fault."""
    errors = FieldErrors()
    _text_rules(form, PLACE_LIMITS, errors)
    if not form.commune.strip():
        errors["commune"] = "Indiquez la commune."
    with errors.collecting():
        validation.check(
            {
                name: value
                for name, value in (
                    ("postal_code", form.postal_code),
                    ("latitude", form.latitude),
                    ("longitude", form.longitude),
                )
                if name not in errors
            }
        )
    hours = hours_of(form, errors)
    errors.raise_if_any()
    return PlaceCreate(
        name=form.name.strip(),
        address=form.address.strip(),
        postal_code=form.postal_code.strip(),
        commune=form.commune.strip(),
        neighbourhood=form.neighbourhood.strip(),
        latitude=float(form.latitude) if form.latitude.strip() else None,
        longitude=float(form.longitude) if form.longitude.strip() else None,
        opening_hours=hours,
        itinerant=form.itinerant in TICKED,
    )


def structure_update(form: StructureForm) -> StructureUpdate:
    """The structure edit form (and the same fields of a request to join) as a StructureUpdate, or Invalid naming
    every field at fault."""
    errors = FieldErrors()
    _text_rules(form, JOIN_LIMITS if isinstance(form, JoinRequestForm) else STRUCTURE_LIMITS, errors)
    name = _name(form.name, errors)
    if form.kind not in STRUCTURE_KINDS:
        errors["kind"] = "Choisissez un type de structure dans la liste."
    if not form.commune.strip():
        errors["commune"] = "Indiquez la commune."
    checked = ("siret", "postal_code", "insee_code", "latitude", "longitude", "phone", "email", "website")
    with errors.collecting():
        validation.check({name: getattr(form, name) for name in (*checked, "accessibility_url") if name not in errors})
    hours = hours_of(form, errors)
    if bool(form.latitude.strip()) != bool(form.longitude.strip()):
        errors.setdefault("longitude", "Indiquez la latitude et la longitude ensemble.")
    errors.raise_if_any()
    return StructureUpdate(
        name=name,
        kind=form.kind,
        siret=form.siret.replace(" ", ""),
        address=form.address.strip(),
        address_extra=form.address_extra.strip(),
        postal_code=form.postal_code.strip(),
        commune=form.commune.strip(),
        insee_code=form.insee_code.strip(),
        neighbourhood=form.neighbourhood.strip(),
        latitude=float(form.latitude) if form.latitude.strip() else None,
        longitude=float(form.longitude) if form.longitude.strip() else None,
        phone=validation.french_phone(form.phone) or "",
        email=form.email.strip().lower(),
        website=form.website.strip(),
        opening_hours=hours,
        accessibility_url=form.accessibility_url.strip(),
        description=form.description.strip(),
    )
