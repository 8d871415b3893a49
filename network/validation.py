"""Field rules of the directory, with French messages: used by the edit forms and by the import."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from opening_hours import OpeningHours, ParserError, State  # type: ignore[attr-defined]  # stub lacks ParserError

from hub.contacts import PHONE_EXAMPLE, email_ok, french_phone
from hub.errors import Invalid
from network import opening_grid

WEEKDAYS_FR = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
_POSTAL = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$")
_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
HOURS_EXAMPLE = "par exemple « Mo-Fr 08:30-12:30; PH off »"
_PHONE_PROBLEM = f"Numéro de téléphone invalide : {PHONE_EXAMPLE}."
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
URL_MAX_LENGTHS = _URL_MAX_LENGTHS = {"website": 255, "accessibility_url": 255, "booking_url": 500}
FRESH_MONTHS = 6


_GENERIC_MAILBOX = re.compile(
    r"contact|accueil|info|secr[eé]tariat|direction|mairie|ccas|cias|caf|asso|mediath|biblio|centre|social|"
    r"numerique|france|service|mjc|epn|espace|maison|point|relais|permanence|bonjour|hello|admin|public|equipe|"
    r"team|orientation|inscription|rdv|aidant|conseiller|atelier|pimms|poste|mds|cs\d|ville|commune|agglo|"
    r"departement|region|solidarit|emploi|insertion|jeunes|famille|seniors|mediation|tiers|lieu|quartier",
    re.I,
)


def public_email(address: str) -> str:
    """A team mailbox is published; one shaped like a person's own (firstname.lastname@…) is not: ""."""
    return "" if not address or looks_personal(address) else address


def looks_personal(email: str) -> bool:
    """A person's own address (firstname.lastname@…, j.dupont@…): withheld from open data.

    A heuristic: team mailboxes (contact@, accueil.ccas@…) are exported; anything shaped like a name is not.
    """
    local = email.split("@", 1)[0].lower()
    if not local or _GENERIC_MAILBOX.search(local):
        return False
    parts = [p for p in re.split(r"[._\-]+", local) if p]
    return len(parts) == 2 and all(p.isalpha() for p in parts) and len(parts[1]) >= 2


def siret_problem(value: str) -> str | None:
    """None when valid: 14 digits and the Luhn key (La Poste's establishments are the known exception)."""
    digits = value.replace(" ", "")
    if not re.fullmatch(r"\d{14}", digits):
        return "Le SIRET compte 14 chiffres."
    if digits.startswith("356000000"):  # La Poste: its SIRETs follow another rule
        return None
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char) * (2 if index % 2 else 1)
        total += n - 9 if n > 9 else n
    return None if total % 10 == 0 else "Ce SIRET n'est pas valide : vérifiez les chiffres."


def opening_hours_problem(value: str) -> str | None:
    try:
        OpeningHours(value)
    except (ParserError, ValueError):
        return f"Horaires illisibles : utilisez le format OpenStreetMap, {HOURS_EXAMPLE}."
    return None


def check(fields: dict[str, object]) -> None:
    """Raise Invalid listing every field at fault (not just the first)."""
    errors: dict[str, str] = {}
    for name, value in fields.items():
        if value in (None, ""):
            continue
        text = str(value).strip()
        problem: str | None = None
        if name == "siret":
            problem = siret_problem(text)
        elif name == "postal_code":
            problem = None if _POSTAL.match(text) else "Le code postal compte 5 chiffres, par exemple 45000."
        elif name == "insee_code":
            problem = None if _INSEE.match(text) else "Le code INSEE compte 5 caractères, par exemple 45234."
        elif name == "latitude":
            problem = _range(value, -90, 90, "La latitude")
        elif name == "longitude":
            problem = _range(value, -180, 180, "La longitude")
        elif name == "phone":
            problem = None if french_phone(text) else _PHONE_PROBLEM
        elif name in _URL_MAX_LENGTHS:
            limit = _URL_MAX_LENGTHS[name]
            if len(text) > limit:
                problem = f"Adresse web trop longue : {limit} caractères au plus."
            elif not _URL.match(text):
                problem = "Adresse web invalide : elle commence par https:// (ou http://), sans espace."
        elif name in ("email", "referral_email"):
            problem = None if email_ok(text) else "Adresse e-mail invalide."
        elif name == "opening_hours":
            problem = opening_hours_problem(text)
        if problem:
            errors[name] = problem
    if errors:
        raise Invalid("Certains champs sont invalides.", errors)


def _range(value: object, low: float, high: float, label: str) -> str | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"{label} doit être un nombre."
    return None if low <= number <= high else f"{label} doit être comprise entre {low} et {high}."


def freshness(confirmed_on: date | None, today: date) -> tuple[str, str]:
    """(code, French label) of an entry's freshness: fresh, to confirm, stale."""
    if confirmed_on is None:
        return "stale", "Jamais confirmée"
    age = today - confirmed_on
    if age <= timedelta(days=30 * FRESH_MONTHS):
        return "fresh", "À jour"
    if age <= timedelta(days=365):
        return "aging", "À confirmer"
    return "stale", "Ancienne"


def _hm(moment: datetime) -> str:
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


def hours_in_french(value: str, week_of: date) -> list[tuple[str, str]]:
    """The week starting on week_of's Monday, day by day: [("Lundi", "8 h 30 à 12 h 30, 14 h à 17 h"), …]."""
    if not value or opening_hours_problem(value):
        return []
    monday = week_of - timedelta(days=week_of.weekday())
    start = datetime(monday.year, monday.month, monday.day)
    days: list[list[str]] = [[] for _ in range(7)]
    for begin, end, state, _comment in OpeningHours(value).intervals(start, start + timedelta(days=7)):
        while state == State.OPEN and begin < end:  # an interval may run over several days (24/7)
            midnight = datetime.combine(begin.date() + timedelta(days=1), datetime.min.time())
            stop = min(end, midnight)
            day = (begin.date() - monday).days
            if 0 <= day < 7:
                whole_day = begin.hour == begin.minute == 0 and stop == midnight
                days[day].append(
                    "24 h sur 24" if whole_day else f"{_hm(begin)} à {'minuit' if stop == midnight else _hm(stop)}"
                )
            begin = stop
    written = [", ".join(slots) if slots else "fermé" for slots in days]
    if "[" in value and (grid := opening_grid.grid_from_osm(value)):  # some weeks of the month: said as such,
        for i, grid_day in enumerate(grid.days):  # not as this week happens to be
            if grid_day.weeks:
                weeks = opening_grid.WEEKS[grid_day.weeks]
                ranges = ", ".join(f"{_clock(a)} à {_clock(b)}" for a, b in grid_day.ranges)
                written[i] = f"{weeks[:1].lower()}{weeks[1:]} : {ranges}"
    return [(WEEKDAYS_FR[i], text) for i, text in enumerate(written)]


def _clock(hh_mm: str) -> str:
    """ "08:30" → "8 h 30", "12:00" → "12 h"."""
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
