"""Mandates' page forms: the posted strings, and the typed commands they become (hub.mandates.schemas).

The form shapes are lenient (strings, generous lengths) so that a wrong value comes back beside its field
instead of as a bare 400 page; the rules themselves (scopes, durations, the TOTP step-up, the images) are the
service's, which answers in French with the field at fault.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar.datastructures import UploadFile

from hub.forms import FieldErrors
from hub.mandates.vocabulary import DURATIONS, SCOPE_BY_CODE
from hub.schemas import MULTI_LINE, SINGLE_LINE

TICKED = ("on", "1", "true", "oui")
Line = Annotated[str, msgspec.Meta(max_length=400, pattern=SINGLE_LINE)]
Text = Annotated[str, msgspec.Meta(max_length=2000, pattern=MULTI_LINE)]
Code = Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)]
# The revocation's note: the service allows 200 characters; a longer one comes back beside its field.
Note = Annotated[str, msgspec.Meta(max_length=4000, pattern=SINGLE_LINE)]
Codes = Annotated[list[Code], msgspec.Meta(max_length=50)] | Code
# A signature drawn on the pad, as the browser's data URL; the service refuses images over 500 kB,
# and base64 makes them a third bigger: this bound only keeps a runaway post from being read whole.
DataUrl = Annotated[str, msgspec.Meta(max_length=1_000_000)]
SIGNATURE_PREFIXES = ("data:image/png;base64,", "data:image/jpeg;base64,")


class ResidentSearchForm(msgspec.Struct):
    """Find a resident of the structure by name (posted: a name never goes into a URL)."""

    structure_id: Code = ""
    q: Line = ""


class ResidentForm(msgspec.Struct):
    """A new resident: the minimum the mandate names."""

    structure_id: Code = ""
    first_name: Line = ""
    last_name: Line = ""
    birth_date: Code = ""


class MandateForm(msgspec.Struct):
    """The creation flow after the resident is chosen. step "recap": check the choices and show the recap;
    step "create": the recap was read, the legal-protection answer and the fresh TOTP code are in."""

    step: Code = "recap"
    structure_id: Code = ""
    resident_id: Code = ""
    scopes: Codes = []
    duration_days: Code = ""
    no_legal_protection: Code = ""
    totp_code: Code = ""


class SignForm(msgspec.Struct):
    """The two signatures drawn on the pads (hidden fields filled by static/js/signature-pad.js)."""

    resident_signature: DataUrl = ""
    aidant_signature: DataUrl = ""


@dataclasses.dataclass
class ScanUpload:
    """The scan of the draft signed on paper."""

    file: UploadFile | None = None


class RevokeForm(msgspec.Struct):
    """Revoke the whole mandate ("all") or the scopes ticked, once confirmed."""

    what: Code = "all"
    scopes: Codes = []
    reason: Note = ""
    confirm: Code = ""


class TotpForm(msgspec.Struct):
    """A fresh code from the aidant's authenticator app (renewal)."""

    totp_code: Code = ""


class CharterForm(msgspec.Struct):
    version: Code = ""
    accept: Code = ""


class HabilitationForm(msgspec.Struct):
    structure_id: Code = ""
    user_id: Code = ""
    action: Code = ""  # "grant" | "withdraw"


@dataclasses.dataclass
class VariantUpload:
    """A structure's own version of a template (logo, contacts)."""

    file: UploadFile | None = None
    structure_id: str = ""
    kind: str = "mandat"


class VariantProofForm(msgspec.Struct):
    """Who proofread a variant (the FALC rules a program cannot check), and whether to activate it."""

    structure_id: Code = ""
    proofreader: Line = ""
    activate: Code = ""


# ---------------------------------------------------------------- readers
def as_list(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def values_of(form: msgspec.Struct) -> dict[str, Any]:
    """A posted form as the template's values (scopes always a list; never a signature or a code back)."""
    values = msgspec.structs.asdict(form)
    if "scopes" in values:
        values["scopes"] = [v for v in as_list(values["scopes"]) if v]
    for secret in ("totp_code", "resident_signature", "aidant_signature"):
        values.pop(secret, None)
    return values


def positive_id(text: str, field: str, errors: FieldErrors, message: str) -> int:
    """An id from a form (a select's value); 0 and a message when it is not one."""
    text = text.strip()
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        errors[field] = message
        return 0
    return int(text)


def scopes_of(posted: list[str] | str, errors: FieldErrors, field: str = "scopes") -> tuple[str, ...]:
    wanted = [v for v in as_list(posted) if v]
    if not wanted:
        errors[field] = "Choisissez au moins une démarche."
    elif any(code not in SCOPE_BY_CODE for code in wanted):
        errors[field] = "Démarche inconnue : choisissez dans la liste."
    return tuple(dict.fromkeys(code for code in wanted if code in SCOPE_BY_CODE))


def duration_of(text: str, errors: FieldErrors) -> int:
    if not text.strip():
        errors["duration_days"] = "Choisissez une durée."
        return 0
    if not text.strip().isdigit() or int(text) not in DURATIONS:
        errors["duration_days"] = "Durée inconnue : choisissez 1 jour, 1 mois, 6 mois ou 12 mois."
        return 0
    return int(text)


def birth_date_of(text: str, errors: FieldErrors, today: date) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        errors["birth_date"] = "Date invalide : choisissez un jour, par exemple 1950-03-21."
        return None
    if value > today:
        errors["birth_date"] = "Date de naissance impossible : ce jour n'est pas encore arrivé."
        return None
    if value.year < 1900:
        errors["birth_date"] = "Date de naissance impossible : choisissez une année après 1900."
        return None
    return value


def signature_bytes(data_url: str, field: str, who: str, errors: FieldErrors) -> bytes:
    """The image the pad posted; the service then checks it is a real, sensible image."""
    data_url = data_url.strip()
    if not data_url:
        errors[field] = f"La signature {who} manque : signez dans le cadre."
        return b""
    prefix = next((p for p in SIGNATURE_PREFIXES if data_url.startswith(p)), "")
    if not prefix:
        errors[field] = f"La signature {who} n'est pas une image : signez à nouveau dans le cadre."
        return b""
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        errors[field] = f"La signature {who} est illisible : effacez et signez à nouveau."
        return b""


def ticked(value: str) -> bool:
    return value.strip().lower() in TICKED
