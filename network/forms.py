"""The directory's edit forms, posted as strings, turned into the typed commands its services take.

Each function checks the whole form and raises hub.errors.Invalid with every field's French message at once,
or returns the command, tidied (spaces collapsed, codes sorted, phone numbers written the French way).
"""

from __future__ import annotations

from hub.forms import FieldErrors
from hub.tables import STRUCTURE_KINDS
from network import validation
from network.schemas import PlaceCreate, PlaceForm, ServiceForm, ServiceUpdate, StructureForm, StructureUpdate
from network.vocabulary import SERVICE_CHOICES

TICKED = ("on", "1", "true")  # what a browser (or a script) sends for a ticked checkbox

# A way to reach a service needs the contact it uses (data·inclusion pairs them the same way).
_MODE_NEEDS = {
    "telephoner": ("phone", "Pour « Téléphoner », indiquez le téléphone du service."),
    "utiliser-lien-mobilisation": ("booking_url", "Pour ce mode, indiquez le lien de prise de rendez-vous."),
    "envoyer-un-courriel": ("referral_email", "Pour « Envoyer un courriel », indiquez l'e-mail de l'équipe."),
}


def _name(posted: str, errors: FieldErrors) -> str:
    name = " ".join(posted.split())
    if not 3 <= len(name) <= 150:
        errors["name"] = "Le nom compte entre 3 et 150 caractères."
    return name


def _codes(posted: list[str] | str, field: str, errors: FieldErrors) -> list[str]:
    """The known codes ticked for a multiple-choice field (a form sends one as a string), sorted, each once."""
    values = [posted] if isinstance(posted, str) else posted
    known = SERVICE_CHOICES[field]
    if any(value not in known for value in values):
        errors[field] = "Valeur inconnue : choisissez dans la liste."
    return sorted(set(values) & set(known))


def service_update(form: ServiceForm) -> ServiceUpdate:
    """The service edit form (new or existing service) as a ServiceUpdate, or Invalid naming every field at fault."""
    errors = FieldErrors()
    name = _name(form.name, errors)
    codes = {field: _codes(getattr(form, field), field, errors) for field in SERVICE_CHOICES}
    for mode in codes["mobilisation_modes"]:
        needed, message = _MODE_NEEDS.get(mode, ("", ""))
        if needed and not str(getattr(form, needed)).strip():
            errors.setdefault(needed, message)
    languages = sorted({code.strip().lower() for code in form.languages.replace(";", ",").split(",") if code.strip()})
    if any(len(code) != 2 or not code.isalpha() for code in languages):
        errors["languages"] = "Indiquez les langues par leur code à 2 lettres, séparées par des virgules : fr, en, ar."
    capacity = form.weekly_capacity.strip()
    if capacity and (not capacity.isdigit() or int(capacity) > 10000):
        errors["weekly_capacity"] = "La capacité est un nombre entier de personnes par semaine."
    accepts = form.accepts_referrals in TICKED
    if accepts and not form.referral_email.strip():
        errors["referral_email"] = "Pour recevoir des orientations, indiquez l'adresse e-mail de l'équipe."
    with errors.collecting():
        validation.check(
            {
                "referral_email": form.referral_email,
                "phone": form.phone,
                "booking_url": form.booking_url,
                "opening_hours": form.opening_hours,
            }
        )
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
        weekly_capacity=int(capacity) if capacity else None,
        accepts_referrals=accepts,
        referral_email=form.referral_email.strip().lower(),
        referral_instructions=form.referral_instructions.strip(),
        phone=validation.french_phone(form.phone) or "",
        booking_url=form.booking_url.strip(),
        opening_hours=form.opening_hours.strip(),
    )


def place_create(form: PlaceForm) -> PlaceCreate:
    """The service page's "add a place" form as a PlaceCreate, or Invalid naming every field at fault."""
    errors = FieldErrors()
    if not form.commune.strip():
        errors["commune"] = "Indiquez la commune."
    with errors.collecting():
        validation.check(
            {
                "postal_code": form.postal_code,
                "latitude": form.latitude,
                "longitude": form.longitude,
                "opening_hours": form.opening_hours,
            }
        )
    errors.raise_if_any()
    return PlaceCreate(
        name=form.name.strip(),
        address=form.address.strip(),
        postal_code=form.postal_code.strip(),
        commune=form.commune.strip(),
        neighbourhood=form.neighbourhood.strip(),
        latitude=float(form.latitude) if form.latitude.strip() else None,
        longitude=float(form.longitude) if form.longitude.strip() else None,
        opening_hours=form.opening_hours.strip(),
        itinerant=form.itinerant in TICKED,
    )


def structure_update(form: StructureForm) -> StructureUpdate:
    """The structure edit form (and the same fields of a request to join) as a StructureUpdate, or Invalid naming
    every field at fault."""
    errors = FieldErrors()
    name = _name(form.name, errors)
    if form.kind not in STRUCTURE_KINDS:
        errors["kind"] = "Choisissez un type de structure dans la liste."
    if not form.commune.strip():
        errors["commune"] = "Indiquez la commune."
    with errors.collecting():
        validation.check(
            {
                "siret": form.siret,
                "postal_code": form.postal_code,
                "insee_code": form.insee_code,
                "latitude": form.latitude,
                "longitude": form.longitude,
                "phone": form.phone,
                "email": form.email,
                "website": form.website,
                "accessibility_url": form.accessibility_url,
                "opening_hours": form.opening_hours,
            }
        )
    if bool(form.latitude.strip()) != bool(form.longitude.strip()):
        errors["longitude"] = "Indiquez la latitude et la longitude ensemble."
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
        opening_hours=form.opening_hours.strip(),
        accessibility_url=form.accessibility_url.strip(),
        description=form.description.strip(),
    )
