"""Referrals' page forms: the posted strings, and the typed commands they become (referrals.schemas).

Each function checks the whole form and raises hub.errors.Invalid with every field's French message at once,
or returns the command. The form shapes are lenient (strings, generous lengths) so that a wrong value comes back
beside its field instead of as a bare 400 page; the real limits are checked here, in French.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from hub.errors import Invalid
from hub.forms import FieldErrors
from hub.schemas import MULTI_LINE, SINGLE_LINE
from network import referral_lookup as directory
from referrals import lifecycle, service
from referrals.schemas import ReferralCreate, RouteRequest, Transition
from referrals.service import HALF_DAYS, NIR_MESSAGE, looks_like_nir

TICKED = ("on", "1", "true", "oui")  # what a browser (or a script) sends for a ticked checkbox

Line = Annotated[str, msgspec.Meta(max_length=2000, pattern=SINGLE_LINE)]
Text = Annotated[str, msgspec.Meta(max_length=10000, pattern=MULTI_LINE)]
Code = Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)]
# A form sends one value as a string and several as a list (repeated keys).
Codes = Annotated[list[Code], msgspec.Meta(max_length=200)] | Code

# The need's thématiques a referral network uses most: digital inclusion and help with procedures, first.
FIRST_CATEGORIES = {
    "numerique": "Numérique",
    "difficultes-administratives-ou-juridiques": "Démarches administratives et accès aux droits",
}
MODES = {"on_site": "Sur place", "remote": "À distance (téléphone, visio)"}
MAX_NEED = 500
MAX_TEXT = 200
MAX_MESSAGE = 1000


class RouteForm(msgspec.Struct):
    """The routing form (and the same fields carried, hidden, by the results' own forms)."""

    thematiques: Codes = []
    text: Line = ""
    address: Line = ""
    modes: Codes = []
    accommodations: Codes = []
    language: Code = ""
    availability: Codes = []
    max_distance_km: Code = ""
    public: Code = ""
    why_not: Code = ""  # "pourquoi pas ce service ?": a service picked in the select
    why_not_id: Code = ""  # … or its number typed (wins over the select)


class SendForm(msgspec.Struct):
    """The sending form. step "prepare" comes from the results (the need carried over), "send" sends."""

    step: Code = "send"
    thematiques: Codes = []
    need: Text = ""
    resident_name: Line = ""
    resident_phone: Line = ""
    resident_email: Line = ""
    preferred_contact: Code = "phone"
    availability: Codes = []
    note: Text = ""
    consent_method: Code = ""
    consent_confirmed: Code = ""
    sender_structure_id: Code = ""
    idempotency_key: Code = ""  # drawn when the form is shown: sending twice (a double click) sends once
    slot: Code = ""  # a free slot picked: "<schedule id>@<ISO start>"; empty: no appointment
    # the routing form's own fields, carried over from the results (thématiques and availability above)
    text: Line = ""


class ActionForm(msgspec.Struct):
    """An action on a referral page: the button's action and the fields of its form."""

    action: Code = ""
    reason: Code = ""
    message: Text = ""
    share_reason: Code = ""
    outcome: Code = ""
    service_id: Code = ""  # redirect: picked from the candidates
    other_service_id: Code = ""  # redirect: typed


def as_list(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def values_of(form: msgspec.Struct) -> dict[str, Any]:
    """A posted form as the template's values: multiple choices always as lists."""
    values = msgspec.structs.asdict(form)
    for name in ("thematiques", "modes", "accommodations", "availability"):
        if name in values:
            values[name] = [v for v in as_list(values[name]) if v]
    return values


def thematique_groups() -> list[tuple[str, dict[str, str]]]:
    """The need's checkboxes: the network's own categories first; every other thématique after."""
    every = directory.choices("thematique")
    groups = [
        (title, {code: label for code, label in every.items() if code.split("--", 1)[0] == category})
        for category, title in FIRST_CATEGORIES.items()
    ]
    others = {code: label for code, label in every.items() if code.split("--", 1)[0] not in FIRST_CATEGORIES}
    groups.append(("Autres besoins", dict(sorted(others.items(), key=lambda item: item[1]))))
    return groups


def _codes(posted: list[str] | str, known: dict[str, str], field: str, errors: FieldErrors) -> list[str]:
    values = [v for v in as_list(posted) if v]
    if any(value not in known for value in values):
        errors[field] = "Valeur inconnue : choisissez dans la liste."
    return list(dict.fromkeys(v for v in values if v in known))


def _positive_int(posted: str) -> int | None:
    text = posted.strip()
    return int(text) if text.isdigit() and 1 <= int(text) <= 2**31 - 1 else None


def route_request(form: RouteForm) -> RouteRequest:
    """The routing form as a RouteRequest, or Invalid naming every field at fault."""
    errors = FieldErrors()
    thematiques = _codes(form.thematiques, directory.choices("thematique"), "thematiques", errors)
    text = " ".join(form.text.split())
    if len(text) > MAX_TEXT:
        errors["text"] = f"Décrivez le besoin en {MAX_TEXT} caractères au plus."
    if looks_like_nir(text):
        errors["text"] = NIR_MESSAGE
    if not thematiques and not text and "thematiques" not in errors:
        errors["thematiques"] = "Indiquez le besoin : cochez au moins une thématique ou écrivez quelques mots."
    address = " ".join(form.address.split())
    if len(address) > MAX_TEXT:
        errors["address"] = f"L'adresse compte {MAX_TEXT} caractères au plus."
    modes = _codes(form.modes, MODES, "modes", errors)
    accommodations = _codes(form.accommodations, directory.choices("accommodation"), "accommodations", errors)
    language = form.language.strip()
    if language and language not in directory.choices("language"):
        errors["language"] = "Choisissez une langue dans la liste."
    availability = _codes(form.availability, HALF_DAYS, "availability", errors)
    distance: float | None = None
    if form.max_distance_km.strip():
        try:
            distance = float(form.max_distance_km.strip().replace(",", "."))
        except ValueError:
            distance = -1
        if not 0.5 <= distance <= 200:
            errors["max_distance_km"] = "Indiquez une distance en kilomètres, de 0,5 à 200 (par exemple 5)."
    public = form.public.strip()
    if public and public not in directory.choices("public"):
        errors["public"] = "Choisissez un public dans la liste."
    errors.raise_if_any("La recherche n'est pas lancée : corrigez les champs signalés.")
    return RouteRequest(
        thematiques=thematiques,
        text=text,
        address=address,
        modes=modes,  # type: ignore[arg-type]  # checked against MODES above
        accommodations=accommodations,
        language="" if language == "fr" else language,
        availability=availability,
        max_distance_km=distance,
        public=public,
    )


def why_not_service(form: RouteForm) -> int | None:
    """The service asked about in "pourquoi pas ce service ?": the number typed, else the one picked."""
    return _positive_int(form.why_not_id if form.why_not_id.strip() else form.why_not)


def referral_create(form: SendForm, service_id: int, structures: dict[int, str]) -> ReferralCreate:
    """The sending form as a ReferralCreate, or Invalid naming every field at fault (the service checks the
    resident's contact, the NIR and the consent again: one rule, two places that say it)."""
    errors = FieldErrors()  # in the form's order: the person, the need, the consent
    name = " ".join(form.resident_name.split())
    if not name:
        errors["resident_name"] = "Indiquez le nom de la personne (ou ses initiales et un prénom)."
    elif len(name) > 120:
        errors["resident_name"] = "Le nom compte 120 caractères au plus."
    phone, email = form.resident_phone.strip(), form.resident_email.strip()
    if form.preferred_contact not in lifecycle.CONTACT_MODES:
        errors["preferred_contact"] = "Choisissez un moyen de contact dans la liste."
    for field, message in service.contact_errors(phone, email, form.preferred_contact).items():
        errors[field] = message
    availability = _codes(form.availability, HALF_DAYS, "availability", errors)
    thematiques = _codes(form.thematiques, directory.choices("thematique"), "thematiques", errors)
    need = form.need.strip()
    if len(need) > MAX_NEED:
        errors["need"] = f"Décrivez le besoin en {MAX_NEED} caractères au plus."
    elif not need and not thematiques:
        errors["need"] = "Décrivez le besoin en quelques mots."
    note = form.note.strip()
    if len(note) > MAX_MESSAGE:
        errors["note"] = f"La note compte {MAX_MESSAGE} caractères au plus."
    for field, text in (("need", need), ("note", note), ("resident_name", name)):
        if looks_like_nir(text):
            errors[field] = NIR_MESSAGE
    if form.consent_method not in lifecycle.CONSENT_METHODS:
        errors["consent_method"] = "Indiquez comment la personne a donné son accord."
    confirmed = form.consent_confirmed in TICKED
    if not confirmed:
        errors["consent_confirmed"] = "Confirmez que la personne est informée et d'accord pour être orientée."
    sender: int | None = None
    if len(structures) > 1:
        sender = _positive_int(form.sender_structure_id)
        if sender not in structures:
            errors["sender_structure_id"] = "Choisissez la structure au nom de laquelle vous orientez."
    schedule_id, starts_at = _slot(form.slot, errors)
    errors.raise_if_any("La demande n'est pas envoyée : corrigez les champs signalés.")
    return ReferralCreate(
        service_id=service_id,
        sender_structure_id=sender,
        thematiques=thematiques,
        need=need,
        resident_name=name,
        resident_phone=phone,
        resident_email=email,
        preferred_contact=form.preferred_contact,  # type: ignore[arg-type]  # checked above
        availability=availability,
        note=note,
        consent_method=form.consent_method,  # type: ignore[arg-type]  # checked above
        consent_confirmed=confirmed,
        schedule_id=schedule_id,
        starts_at=starts_at,
    )


def _slot(posted: str, errors: FieldErrors) -> tuple[int | None, datetime | None]:
    if not posted.strip():
        return None, None
    schedule, _, start = posted.strip().partition("@")
    try:
        moment = datetime.fromisoformat(start)
        if moment.tzinfo is None or int(schedule) < 1:
            raise ValueError(posted)
        return int(schedule), moment
    except ValueError:
        errors["slot"] = "Choisissez un créneau dans la liste."
        return None, None


def transition(form: ActionForm) -> Transition:
    """An action's form as a Transition, or Invalid naming every field at fault."""
    errors = FieldErrors()
    if form.action not in lifecycle.ACTIONS or lifecycle.ACTIONS[form.action].side == "hub":
        raise Invalid("Action inconnue.", {"action": "Action inconnue : rechargez la page."})
    message = form.message.strip()
    # the message's error is named last: every action's form puts its message field after its other fields
    message_error = ""
    if len(message) > MAX_MESSAGE:
        message_error = f"Le message compte {MAX_MESSAGE} caractères au plus."
    elif looks_like_nir(message):
        message_error = NIR_MESSAGE
    reason, outcome, service_id = "", "", None
    if form.action == "refuse":
        reason = form.reason
        if reason not in lifecycle.REFUSAL_REASONS:
            errors["reason"] = "Choisissez le motif du refus."
        elif reason == "other" and not message:
            message_error = message_error or "Précisez le motif « autre » en quelques mots."
    if form.action == "close":
        outcome = form.outcome
        if outcome not in lifecycle.OUTCOMES:
            errors["outcome"] = "Choisissez le résultat de l'accompagnement."
    if form.action == "amend" and not message:
        message_error = message_error or "Écrivez ce que vous ajoutez à la demande."
    if form.action == "redirect":
        typed = form.other_service_id.strip()
        service_id = _positive_int(typed) if typed else _positive_int(form.service_id)
        if service_id is None:
            errors["service_id"] = (
                "Le numéro du service est un nombre entier."
                if typed
                else "Choisissez le service vers lequel réorienter."
            )
    if message_error:
        errors["message"] = message_error
    errors.raise_if_any("L'action n'est pas faite : corrigez les champs signalés.")
    return Transition(
        action=form.action,  # type: ignore[arg-type]  # checked above
        reason=reason,
        message=message,
        share_reason=form.action == "refuse" and form.share_reason in TICKED,
        outcome=outcome,
        service_id=service_id,
    )
