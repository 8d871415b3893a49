"""How to reach a person or a service: telephone numbers and e-mail addresses, checked with French messages.

One rule for every domain: the directory's numbers (French ones), and the residents' own (French, or from
abroad in international form: a resident may keep a foreign number)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-/()]")
# +33, and the overseas départements' own codes (Réunion and Mayotte, Guadeloupe, Guyane, Martinique)
_INTERNATIONAL_FR = re.compile(r"^(?:\+|00)(?:33|262|590|594|596)(?:0)?([1-9]\d{8})$")
_NATIONAL = re.compile(r"^0[1-9]\d{8}$")
_SHORT = re.compile(r"^(?:3\d{3}|10\d{2})$")  # 4-digit service numbers: 3230 (CAF), 3949 (France Travail)
_ABROAD = re.compile(r"^(?:\+|00)[1-9]\d{7,14}$")  # E.164: a country code and at most 15 digits in all
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE_EXAMPLE = "10 chiffres, par exemple 02 38 00 00 00 (ou +33 2 38 00 00 00, ou un numéro court comme 32 30)"
PERSON_PHONE_PROBLEM = (
    "Numéro de téléphone incomplet ou invalide : 10 chiffres, par exemple 06 12 34 56 78, "
    "ou un numéro étranger commençant par +, par exemple +32 470 12 34 56."
)
EMAIL_PROBLEM = "Adresse électronique invalide : par exemple nom@exemple.fr."


def french_phone(value: str) -> str | None:
    """The number written the French way ("02 38 00 00 00", "32 30"), or None when it is not a French number."""
    digits = _SEPARATORS.sub("", value.strip())
    if found := _INTERNATIONAL_FR.match(digits):
        digits = "0" + found.group(1)
    if not (_NATIONAL.match(digits) or _SHORT.match(digits)):
        return None
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def person_phone(value: str) -> str | None:
    """A person's number: a French one written the French way, or one from abroad in international form
    ("+32 470 12 34 56", as typed); None when it cannot be called (too short, letters, a service's short number)."""
    digits = _SEPARATORS.sub("", value.strip())
    if _NATIONAL.match(digits) or _INTERNATIONAL_FR.match(digits):
        return french_phone(value)
    if _ABROAD.match(digits) and not digits.lstrip("+0").startswith(("33", "262", "590", "594", "596")):
        return " ".join(value.split())
    return None


def email_ok(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def contact_errors(phone: str, email: str, *, phone_field: str = "phone", email_field: str = "email") -> dict[str, str]:
    """A person's telephone and e-mail, each optional here, checked (field -> French message)."""
    errors: dict[str, str] = {}
    if phone and person_phone(phone) is None:
        errors[phone_field] = PERSON_PHONE_PROBLEM
    if email and not email_ok(email):
        errors[email_field] = EMAIL_PROBLEM
    return errors
