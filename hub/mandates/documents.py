"""The mandate's documents (issue 12): the mandate, the revocation attestation, the aidant's charter and the
expiry letter to the resident, rendered from FALC .docx templates.

The templates live in templates/mandates/, one file per kind and version: `mandat.2026-11.docx` (written by
scripts/make-mandate-templates, with the pictograms they carry). A new wording is a new file; the old one
stays, so a mandate re-renders from the exact template it was made with (`template_version`, its SHA-256
kept with the mandate). A structure may use its own variant of a kind (its logo, its contacts): it is accepted
only when `check_variant` passes (the FALC checker on the template and on a filled sample, every required
field present, no unknown field). The fields a template may use are listed in FIELDS, in French.

Every value put in a document is made FALC here (names without capitals or symbols, cut into short lines;
dates written out; phone numbers in pairs of digits), so a rendered document passes hub.falc.check_docx
whatever the database holds. Rendering is synchronous: callers run it in a worker thread.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from hub import falc
from hub.documents import Picture, render_docx
from hub.errors import Invalid, NotFound
from hub.falc import FalcReport
from hub.mandates.vocabulary import DURATIONS, SCOPE_BY_CODE, SCOPES
from hub.settings import PROJECT_ROOT
from hub.web import MONTHS_FR, WEEKDAYS_FR

KINDS = ("mandat", "revocation", "charte", "lettre-echeance")
KIND_NAMES = {  # how a person reads each kind
    "mandat": "le mandat",
    "revocation": "l'attestation de fin de mandat",
    "charte": "la charte de l'aidant",
    "lettre-echeance": "la lettre de fin de mandat",
}
TEMPLATE_DIR = PROJECT_ROOT / "templates" / "mandates"
PICTOGRAM_DIR = TEMPLATE_DIR / "pictograms"
CHARTER_VERSION = "2026-11"  # the charter's current version: templates/mandates/charte.<version>.docx
RETENTION_YEARS = 6  # what the mandate tells the resident by default: kept while active, then 6 years
QR_WIDTH_CM = 4.0
SIGNATURE_BOX_CM = (6.2, 2.8)  # width, height a drawn signature fits in
NBSP = "\u00a0"
MAX_LINE_WORDS = 10
_FILE_NAME = re.compile(r"^(?P<kind>[a-z-]+)\.(?P<version>\d{4}-\d{2}(?:-\d+)?)\.docx$")
_VERSION = re.compile(r"^\d{4}-\d{2}(?:-\d+)?$")


# ---------------------------------------------------------------- the template files
@dataclasses.dataclass(frozen=True)
class TemplateFile:
    kind: str
    version: str
    sha256: str
    path: Path | None  # None for a structure's variant, kept in the database
    data: bytes  # the exact bytes rendered from

    @classmethod
    def from_bytes(cls, kind: str, version: str, data: bytes, path: Path | None = None) -> TemplateFile:
        return cls(kind, version, hashlib.sha256(data).hexdigest(), path, data)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid(f"Type de document inconnu : « {kind} » (attendu : {', '.join(KINDS)}).")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-"))


@functools.lru_cache(maxsize=64)
def _load(path: Path) -> bytes:
    return path.read_bytes()  # a versioned template never changes: a new wording is a new file


def _read(kind: str, version: str) -> TemplateFile:
    path = TEMPLATE_DIR / f"{kind}.{version}.docx"
    if not _VERSION.match(version) or not path.is_file():
        raise NotFound(f"Le modèle de {KIND_NAMES[kind]} en version « {version} » n'existe pas.")
    return TemplateFile.from_bytes(kind, version, _load(path), path)


def versions(kind: str) -> list[str]:
    """The versions of a kind's template on disk, oldest first."""
    _check_kind(kind)
    found = []
    for path in TEMPLATE_DIR.glob(f"{kind}.*.docx"):
        match = _FILE_NAME.match(path.name)
        if match and match["kind"] == kind:
            found.append(match["version"])
    return sorted(found, key=_version_key)


def current_template(kind: str) -> TemplateFile:
    """The newest versioned file of the kind."""
    found = versions(kind)
    if not found:
        raise NotFound(f"Aucun modèle de {KIND_NAMES[kind]} dans {TEMPLATE_DIR}.")
    return _read(kind, found[-1])


def template_version(kind: str, version: str) -> TemplateFile:
    """An older one, to re-render an old mandate from the very template it was made with."""
    _check_kind(kind)
    return _read(kind, version)


# ---------------------------------------------------------------- the facts
@dataclasses.dataclass(frozen=True)
class MandateFacts:
    number: str  # "M-2026-00042" shown on the paper
    resident_first_name: str
    resident_last_name: str
    resident_birth_date: date | None
    structure_name: str
    structure_address: str
    structure_phone: str
    structure_email: str
    aidant_name: str  # who made it, for the structure
    scopes: tuple[str, ...]  # codes from vocabulary.SCOPES
    duration_days: int  # a key of vocabulary.DURATIONS
    starts_on: date
    ends_on: date
    place: str  # the town where it is signed
    signed_on: date | None  # None while a draft
    verify_url: str  # what the QR code opens: {base_url}/verifier/{public_code}
    draft: bool  # prints "Projet, sans valeur" on every page
    resident_signature: bytes | None = None  # PNG drawn on the pad (None: a box to sign by hand)
    aidant_signature: bytes | None = None
    retention_years: int = RETENTION_YEARS


@dataclasses.dataclass(frozen=True)
class RevocationFacts:
    number: str
    mandate_number: str
    resident_first_name: str
    resident_last_name: str
    structure_name: str
    structure_address: str
    structure_phone: str
    aidant_name: str
    revoked_scopes: tuple[str, ...]
    remaining_scopes: tuple[str, ...]
    revoked_on: date
    verify_url: str


@dataclasses.dataclass(frozen=True)
class ExpiryLetterFacts:
    resident_first_name: str
    resident_last_name: str
    structure_name: str
    structure_address: str
    structure_phone: str
    scopes: tuple[str, ...]
    ends_on: date
    aidant_name: str


# ---------------------------------------------------------------- the fields a template may use
FIELDS: dict[str, dict[str, str]] = {
    "mandat": {
        "number": "le numéro du mandat",
        "resident_lines": "le prénom et le nom de la personne, en lignes courtes",
        "birth_date": "sa date de naissance écrite en toutes lettres (vide si inconnue)",
        "structure_lines": "le nom de la structure, en lignes courtes",
        "address_lines": "l'adresse de la structure, en lignes courtes",
        "structure_phone": "le téléphone de la structure",
        "structure_email": "l'adresse mail de la structure",
        "aidant_lines": "le nom de l'aidant, en lignes courtes",
        "scope_codes": "les codes des démarches choisies (papiers, famille…)",
        "scopes": "les démarches choisies : code, label, falc, warning_lines",
        "argent_warning": "l'avertissement de la démarche « argent », une phrase par ligne",
        "duration": "la durée : 1 jour, 1 mois, 6 mois ou 12 mois",
        "starts_on": "le jour où le mandat commence",
        "ends_on": "le jour où le mandat finit",
        "place": "la ville où le mandat est signé",
        "signed_on": "le jour de la signature (vide pour un projet)",
        "verify_url": "l'adresse de la page de vérification",
        "qr": "le code QR vers la page de vérification",
        "draft": "vrai pour un projet, sans valeur",
        "resident_signature": "la signature de la personne (vide : une case pour signer à la main)",
        "aidant_signature": "la signature de l'aidant (vide : une case pour signer à la main)",
        "retention_years": "combien d'années les informations sont gardées après le mandat",
    },
    "revocation": {
        "number": "le numéro de l'attestation",
        "mandate_number": "le numéro du mandat",
        "resident_lines": "le prénom et le nom de la personne, en lignes courtes",
        "structure_lines": "le nom de la structure, en lignes courtes",
        "address_lines": "l'adresse de la structure, en lignes courtes",
        "structure_phone": "le téléphone de la structure",
        "aidant_lines": "le nom de l'aidant, en lignes courtes",
        "revoked_codes": "les codes des démarches arrêtées",
        "revoked_scopes": "les démarches arrêtées : code, label, falc, warning_lines",
        "remaining_codes": "les codes des démarches qui continuent (vide : le mandat est fini)",
        "remaining_scopes": "les démarches qui continuent : code, label, falc, warning_lines",
        "argent_warning": "l'avertissement de la démarche « argent », une phrase par ligne",
        "revoked_on": "le jour de l'arrêt",
        "verify_url": "l'adresse de la page de vérification",
        "qr": "le code QR vers la page de vérification",
    },
    "lettre-echeance": {
        "greeting": "« Bonjour Awa, » avec le prénom seul",
        "structure_lines": "le nom de la structure, en lignes courtes",
        "address_lines": "l'adresse de la structure, en lignes courtes",
        "structure_phone": "le téléphone de la structure",
        "aidant_lines": "le nom de l'aidant, en lignes courtes",
        "scope_codes": "les codes des démarches du mandat",
        "scopes": "les démarches du mandat : code, label, falc, warning_lines",
        "argent_warning": "l'avertissement de la démarche « argent », une phrase par ligne",
        "ends_on": "le jour où le mandat finit",
    },
    "charte": {
        "aidant_lines": "le nom de l'aidant, en lignes courtes (vide pour la charte à lire)",
        "structure_lines": "le nom de sa structure, en lignes courtes",
        "version_month": "le mois de la version de la charte",
    },
}
# Every field a variant must hold; a tuple is a choice (a list of codes, or the same list with its labels).
REQUIRED: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "mandat": (
        "number",
        "resident_lines",
        "birth_date",
        "structure_lines",
        "address_lines",
        "structure_phone",
        "aidant_lines",
        ("scope_codes", "scopes"),
        "argent_warning",
        "duration",
        "starts_on",
        "ends_on",
        "place",
        "signed_on",
        "verify_url",
        "qr",
        "draft",
        "resident_signature",
        "aidant_signature",
        "retention_years",
    ),
    "revocation": (
        "number",
        "mandate_number",
        "resident_lines",
        "structure_lines",
        "address_lines",
        "structure_phone",
        "aidant_lines",
        ("revoked_codes", "revoked_scopes"),
        ("remaining_codes", "remaining_scopes"),
        "revoked_on",
        "verify_url",
        "qr",
    ),
    "lettre-echeance": (
        "greeting",
        "structure_lines",
        "address_lines",
        "structure_phone",
        "aidant_lines",
        ("scope_codes", "scopes"),
        "ends_on",
    ),
    "charte": ("version_month",),
}


# ---------------------------------------------------------------- values made FALC
_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]+(?:-[A-ZÀ-ÖØ-Þ]+)*\b")  # a word in capitals, hyphens too
_SEPARATORS = re.compile(r"\s[-–—]\s|[,:]\s")
_LINKING_WORD = re.compile(r"^(?:et|ou|de|du|des|la|le|les|à|au|aux|en|sur|sous|pour|par|d'.*|l'.*)$", re.IGNORECASE)


def _uncapitalised(match: re.Match[str]) -> str:
    """ "DUPONT-LAVALLÉE" → "Dupont-Lavallée"; acronyms of 2 to 4 letters (CAF, CCAS) stay as they are."""
    parts = match.group(0).split("-")
    if max(len(part) for part in parts) < 5:
        return match.group(0)
    return "-".join(part.capitalize() for part in parts)


def clean(text: str) -> str:
    """A name, an address or a town from the database, without what the FALC rules forbid on paper."""
    text = " ".join(text.split())
    text = re.sub(r"\s*&\s*", " et ", text)
    text = re.sub(r"\b(?:etc|ex|cf)\.", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*[(\[{]\s*", ", ", text)  # "Centre communal d'action sociale (CCAS)": ", CCAS"
    text = re.sub(r"\s*[)\]}]", "", text)
    text = re.sub(r"\s*;\s*", ", ", text).replace("%", " pour cent").replace("#", " numéro ").replace("§", "")
    text = _CAPS_WORD.sub(_uncapitalised, text)
    text = re.sub(r"(?:\s*,)+", ",", text)  # "a , , b": "a, b"
    found = falc.sentences(" ".join(text.split()))  # "Asso. Les Amis" would read as two sentences
    text = ", ".join(sentence.rstrip(".!?…") for sentence in found) if len(found) > 1 else " ".join(found)
    return text.strip(" ,")


def lines_of(text: str, max_words: int = MAX_LINE_WORDS) -> list[str]:
    """A value as short lines: a line per line of the value, each cut at its commas and dashes when long."""
    lines: list[str] = []
    for raw in text.splitlines():
        value = clean(raw)
        if not value:
            continue
        if len(falc.words(value)) <= falc.TARGET_WORDS:
            lines.append(value)
            continue
        pieces: list[str] = []
        for piece in _SEPARATORS.split(value):
            words = piece.strip(" ,-–—").split()
            while len(words) > falc.TARGET_WORDS:  # a piece still too long: cut it by word count
                cut = max_words
                while cut > max_words // 2 and _LINKING_WORD.match(words[cut - 1]):
                    cut -= 1  # "du Val de Loire et" / "du Sud": never end a line on "et", "de"…
                pieces.append(" ".join(words[:cut]))
                words = words[cut:]
            if not words:
                continue
            if pieces and len(pieces[-1].split()) + len(words) <= max_words:
                pieces[-1] = f"{pieces[-1]}, {' '.join(words)}"
            else:
                pieces.append(" ".join(words))
        lines += pieces
    return lines


def one_line(text: str) -> str:
    """A short value shown inside a sentence (a town): cleaned, and cut to its first words when long."""
    words = clean(text).split()
    return " ".join(words[:MAX_LINE_WORDS])


def _name_case(name: str) -> str:
    """A person's name typed in capitals, written as it is read: "DE LA TOUR D'AUVERGNE" → "De La Tour D'Auvergne"
    (a person's name holds no acronym)."""

    def word(token: str) -> str:
        if not (token.isupper() and len(token) > 1):
            return token
        return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), token)

    return " ".join(word(token) for token in name.split())


def person_lines(first_name: str, last_name: str) -> list[str]:
    return lines_of(_name_case(f"{first_name} {last_name}")) or ["Nom non indiqué"]


def date_in_words(day: date) -> str:
    """ "jeudi 3 décembre 2026", "mardi 1er juin 2027"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS_FR[day.weekday()]} {number} {MONTHS_FR[day.month - 1]} {day.year}"


def birth_date_in_words(day: date) -> str:
    """ "12 mars 1948": a birth date written out, without the weekday nobody needs."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS_FR[day.month - 1]} {day.year}"


def month_in_words(version: str) -> str:
    """ "2026-11" → "novembre 2026"."""
    year, month = version.split("-")[:2]
    return f"{MONTHS_FR[int(month) - 1]} {year}"


def phone_in_words(phone: str) -> str:
    """ "02 38 00 00 02": a French number in pairs of digits (never dots, which read as a date)."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+33") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 10:  # no-break spaces: the number never wraps in the middle
        return NBSP.join(digits[i : i + 2] for i in range(0, 10, 2))
    return NBSP.join(re.sub(r"[^\d+]", " ", phone).split())


def greeting(first_name: str) -> str:
    """ "Bonjour Awa," with the first name only, or "Bonjour," when it is no name."""
    first = first_name.split()[0].strip(",.") if first_name.split() else ""
    if first.isupper():
        first = "-".join(part.capitalize() for part in first.split("-"))
    return f"Bonjour {first}," if re.fullmatch(r"[^\W\d_]{2,}(?:[-'][^\W\d_]+)*", first) else "Bonjour,"


def _scope_codes(codes: Iterable[str], *, at_least_one: bool = True) -> list[str]:
    """The codes in the national list's order; an unknown code is refused."""
    given = set(codes)
    unknown = sorted(given - SCOPE_BY_CODE.keys())
    if unknown:
        raise Invalid(f"Démarche inconnue : {', '.join(unknown)}.")
    if at_least_one and not given:
        raise Invalid("Choisissez au moins une démarche.")
    return [scope.code for scope in SCOPES if scope.code in given]


def _scope_items(codes: list[str]) -> list[dict[str, Any]]:
    items = []
    for code in codes:
        scope = SCOPE_BY_CODE[code]
        items.append(
            {
                "code": code,
                "label": scope.label,
                "falc": scope.falc,
                "warning_lines": falc.sentences(scope.warning),
            }
        )
    return items


ARGENT_WARNING = falc.sentences(SCOPE_BY_CODE["argent"].warning)


@functools.lru_cache(maxsize=256)
def qr_png(url: str) -> bytes:
    """The QR code of a verification address (a draft and its final document share it)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _qr(url: str) -> Picture:
    return Picture(qr_png(url), QR_WIDTH_CM, link=url, alt=f"Code QR vers la page de vérification : {url}")


def _signature(image: bytes, who: str) -> Picture:
    """A drawn signature, fitted into its box whatever its shape."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as opened:
            width, height = opened.size
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise Invalid(f"La signature de {who} n'est pas une image lisible.") from error
    if width < 1 or height < 1:
        raise Invalid(f"La signature de {who} est vide.")
    box_width, box_height = SIGNATURE_BOX_CM
    return Picture(image, min(box_width, box_height * width / height), alt=f"Signature de {who}")


# ---------------------------------------------------------------- the contexts
def mandate_context(facts: MandateFacts) -> tuple[dict[str, Any], dict[str, Picture]]:
    if facts.duration_days not in DURATIONS:
        raise Invalid(f"Durée inconnue : {facts.duration_days} jours (possible : {', '.join(DURATIONS.values())}).")
    codes = _scope_codes(facts.scopes)
    context: dict[str, Any] = {
        "number": facts.number,
        "resident_lines": person_lines(facts.resident_first_name, facts.resident_last_name),
        "birth_date": birth_date_in_words(facts.resident_birth_date) if facts.resident_birth_date else "",
        "structure_lines": lines_of(facts.structure_name) or ["La structure"],
        "address_lines": lines_of(facts.structure_address),
        "structure_phone": phone_in_words(facts.structure_phone),
        "structure_email": facts.structure_email.strip(),
        "aidant_lines": lines_of(_name_case(facts.aidant_name)) or ["Nom non indiqué"],
        "scope_codes": codes,
        "scopes": _scope_items(codes),
        "argent_warning": ARGENT_WARNING,
        "duration": DURATIONS[facts.duration_days],
        "starts_on": date_in_words(facts.starts_on),
        "ends_on": date_in_words(facts.ends_on),
        "place": one_line(facts.place),
        "signed_on": date_in_words(facts.signed_on) if facts.signed_on else "",
        "verify_url": facts.verify_url,
        "draft": facts.draft,
        "resident_signature": "",
        "aidant_signature": "",
        "retention_years": facts.retention_years,
    }
    pictures = {"qr": _qr(facts.verify_url)}
    if facts.resident_signature:
        pictures["resident_signature"] = _signature(facts.resident_signature, "la personne")
    if facts.aidant_signature:
        pictures["aidant_signature"] = _signature(facts.aidant_signature, "l'aidant")
    return context, pictures


def revocation_context(facts: RevocationFacts) -> tuple[dict[str, Any], dict[str, Picture]]:
    revoked = _scope_codes(facts.revoked_scopes)
    remaining = _scope_codes(facts.remaining_scopes, at_least_one=False)
    if set(revoked) & set(remaining):
        raise Invalid("Une démarche ne peut pas être à la fois arrêtée et continuée.")
    context: dict[str, Any] = {
        "number": facts.number,
        "mandate_number": facts.mandate_number,
        "resident_lines": person_lines(facts.resident_first_name, facts.resident_last_name),
        "structure_lines": lines_of(facts.structure_name) or ["La structure"],
        "address_lines": lines_of(facts.structure_address),
        "structure_phone": phone_in_words(facts.structure_phone),
        "aidant_lines": lines_of(_name_case(facts.aidant_name)) or ["Nom non indiqué"],
        "revoked_codes": revoked,
        "revoked_scopes": _scope_items(revoked),
        "remaining_codes": remaining,
        "remaining_scopes": _scope_items(remaining),
        "argent_warning": ARGENT_WARNING,
        "revoked_on": date_in_words(facts.revoked_on),
        "verify_url": facts.verify_url,
    }
    return context, {"qr": _qr(facts.verify_url)}


def expiry_letter_context(facts: ExpiryLetterFacts) -> dict[str, Any]:
    codes = _scope_codes(facts.scopes)
    return {
        "greeting": greeting(facts.resident_first_name),
        "structure_lines": lines_of(facts.structure_name) or ["La structure"],
        "address_lines": lines_of(facts.structure_address),
        "structure_phone": phone_in_words(facts.structure_phone),
        "aidant_lines": lines_of(_name_case(facts.aidant_name)) or ["Votre aidant"],
        "scope_codes": codes,
        "scopes": _scope_items(codes),
        "argent_warning": ARGENT_WARNING,
        "ends_on": date_in_words(facts.ends_on),
    }


def charter_context(aidant_name: str = "", structure_name: str = "", version: str = CHARTER_VERSION) -> dict[str, Any]:
    return {
        "aidant_lines": lines_of(_name_case(aidant_name)),
        "structure_lines": lines_of(structure_name),
        "version_month": month_in_words(version),
    }


# ---------------------------------------------------------------- rendering
def _template(kind: str, template: TemplateFile | None) -> TemplateFile:
    if template is None:
        return current_template(kind)
    if template.kind != kind:
        raise Invalid(
            f"Ce modèle est celui de {KIND_NAMES.get(template.kind, template.kind)}, pas de {KIND_NAMES[kind]}."
        )
    return template


def render_mandate(facts: MandateFacts, template: TemplateFile | None = None) -> bytes:
    """The mandate as DOCX bytes (QR code and signatures included)."""
    context, pictures = mandate_context(facts)
    return render_docx(_template("mandat", template).data, context, pictures)


def render_revocation(facts: RevocationFacts, template: TemplateFile | None = None) -> bytes:
    context, pictures = revocation_context(facts)
    return render_docx(_template("revocation", template).data, context, pictures)


def render_expiry_letter(facts: ExpiryLetterFacts, template: TemplateFile | None = None) -> bytes:
    return render_docx(_template("lettre-echeance", template).data, expiry_letter_context(facts))


def render_charter(aidant_name: str = "", structure_name: str = "", template: TemplateFile | None = None) -> bytes:
    chosen = _template("charte", template)
    version = chosen.version if _VERSION.match(chosen.version) else CHARTER_VERSION
    return render_docx(chosen.data, charter_context(aidant_name, structure_name, version))


# ---------------------------------------------------------------- samples, for a variant's check and the previews
SAMPLE_URL = "https://maillage.example.fr/verifier/Zx3kP9qLm2Rt7vWb"


def sample_mandate(**changes: Any) -> MandateFacts:
    facts = MandateFacts(
        number="M-2026-00042",
        resident_first_name="Awa",
        resident_last_name="Diallo",
        resident_birth_date=date(1958, 4, 12),
        structure_name="France Services de Montclair-sur-Loire",
        structure_address="5 rue des Lilas\n45990 Montclair-sur-Loire",
        structure_phone="02 38 00 00 02",
        structure_email="france-services@montclair.example.fr",
        aidant_name="Lucie Martin",
        scopes=("papiers", "social", "argent"),
        duration_days=365,
        starts_on=date(2026, 12, 3),
        ends_on=date(2027, 12, 2),
        place="Montclair-sur-Loire",
        signed_on=date(2026, 12, 3),
        verify_url=SAMPLE_URL,
        draft=False,
    )
    return dataclasses.replace(facts, **changes)


def sample_revocation(**changes: Any) -> RevocationFacts:
    facts = RevocationFacts(
        number="R-2027-00007",
        mandate_number="M-2026-00042",
        resident_first_name="Awa",
        resident_last_name="Diallo",
        structure_name="France Services de Montclair-sur-Loire",
        structure_address="5 rue des Lilas\n45990 Montclair-sur-Loire",
        structure_phone="02 38 00 00 02",
        aidant_name="Lucie Martin",
        revoked_scopes=("argent",),
        remaining_scopes=("papiers", "social"),
        revoked_on=date(2027, 3, 1),
        verify_url=SAMPLE_URL,
    )
    return dataclasses.replace(facts, **changes)


def sample_expiry_letter(**changes: Any) -> ExpiryLetterFacts:
    facts = ExpiryLetterFacts(
        resident_first_name="Awa",
        resident_last_name="Diallo",
        structure_name="France Services de Montclair-sur-Loire",
        structure_address="5 rue des Lilas\n45990 Montclair-sur-Loire",
        structure_phone="02 38 00 00 02",
        scopes=("papiers", "social", "argent"),
        ends_on=date(2027, 12, 2),
        aidant_name="Lucie Martin",
    )
    return dataclasses.replace(facts, **changes)


_LONG = {  # names as long as the database may hold, every scope: what a variant must survive too
    "first": "Marie-Christine Anne-Sophie Éléonore",
    "last": "DUPONT-LAVALLÉE DE LA TOUR D'AUVERGNE",
    "structure": "Centre communal d'action sociale (CCAS) & Espace France Services de Montclair-sur-Loire "
    "et des communes associées du Val de Loire",
    "address": "Résidence Les Jardins de la Loire, bâtiment B, escalier 3, appartement 12, "
    "145 avenue du Maréchal de Lattre de Tassigny\n45990 Montclair-sur-Loire",
    "aidant": "Jean-Baptiste Alexandre LEFÈBVRE-DESROCHES",
}
ALL_SCOPES = tuple(scope.code for scope in SCOPES)


def _render_samples(kind: str, template: TemplateFile) -> list[bytes]:
    """The template filled with a realistic example and an extreme one (long names, all 10 scopes, a draft)."""
    names = {"resident_first_name": _LONG["first"], "resident_last_name": _LONG["last"]}
    place = {
        "structure_name": _LONG["structure"],
        "structure_address": _LONG["address"],
        "aidant_name": _LONG["aidant"],
    }
    if kind == "mandat":
        extreme = sample_mandate(**names, **place, scopes=ALL_SCOPES, duration_days=1, draft=True, signed_on=None)
        return [render_mandate(facts, template) for facts in (sample_mandate(), extreme)]
    if kind == "revocation":  # the template branches: the realistic example stops some scopes, the extreme one all
        whole = sample_revocation(**names, **place, revoked_scopes=ALL_SCOPES, remaining_scopes=(), structure_phone="")
        return [render_revocation(facts, template) for facts in (sample_revocation(), whole)]
    if kind == "lettre-echeance":
        long_letter = sample_expiry_letter(**names, **place, scopes=ALL_SCOPES, structure_phone="")
        return [render_expiry_letter(facts, template) for facts in (sample_expiry_letter(), long_letter)]
    return [
        render_charter("Lucie Martin", "France Services", template),
        render_charter(_LONG["aidant"], _LONG["structure"], template),
    ]


# ---------------------------------------------------------------- a structure's own variant
@dataclasses.dataclass(frozen=True)
class VariantReport:
    ok: bool
    falc: FalcReport
    missing_fields: tuple[str, ...]
    unknown_fields: tuple[str, ...]
    messages_fr: tuple[str, ...]


def template_fields(data: bytes) -> set[str]:
    """The fields a .docx template uses (body, headers and footers); raises Invalid on a broken tag."""
    import jinja2
    from docxtpl import DocxTemplate

    try:
        return set(
            DocxTemplate(io.BytesIO(data)).get_undeclared_template_variables(jinja2.Environment(autoescape=True))
        )
    except jinja2.TemplateSyntaxError as error:
        raise Invalid(f"Un champ du modèle est mal écrit, ligne {error.lineno} : {error.message}.") from error


def _describe(field: str, kind: str) -> str:
    return f"{{{{ {field} }}}} ({FIELDS[kind][field]})"


def check_variant(kind: str, data: bytes) -> VariantReport:
    """A structure's own template: the FALC checker passes on it and on a filled sample, every required field
    is present, no field is unknown. The reasons are in French, one per message."""
    _check_kind(kind)
    messages: list[str] = []
    try:
        template_report = falc.check_docx(data)
    except falc.UnreadableDocument:
        return VariantReport(False, FalcReport(), (), (), ("Ce fichier n'est pas un document Word (.docx) lisible.",))
    try:
        used = template_fields(data)
    except Invalid as error:
        return VariantReport(False, template_report, (), (), (error.message,))
    missing: list[str] = []
    for required in REQUIRED[kind]:
        choices = required if isinstance(required, tuple) else (required,)
        if not used & set(choices):
            missing.append(choices[0])
            either = " ou ".join(_describe(choice, kind) for choice in choices)
            messages.append(f"Champ manquant : {either}.")
    unknown = sorted(used - FIELDS[kind].keys())
    for field in unknown:
        messages.append(f"Champ inconnu : {{{{ {field} }}}} n'existe pas pour {KIND_NAMES[kind]}.")
    report = FalcReport(list(template_report.breaches), template_report.paragraphs_read)
    if not missing and not unknown:  # filled with an example: what the resident will read
        template = TemplateFile.from_bytes(kind, "variante", data)
        try:
            filled = _render_samples(kind, template)
        except Exception as error:  # a variant's Jinja may fail in many ways (a filter, a loop on a number…)
            messages.append(f"Le modèle ne se remplit pas avec un exemple : {error}.")
            return VariantReport(False, report, (), (), tuple(messages))
        seen = {b.describe() for b in report.breaches}
        for document in filled:
            for breach in falc.check_docx(document).breaches:
                if breach.describe() not in seen:
                    seen.add(breach.describe())
                    report.breaches.append(breach)
    if report.errors:
        count = len(report.errors)
        messages.append(f"Le modèle ne respecte pas les règles FALC : {count} {'erreur' if count == 1 else 'erreurs'}.")
        messages += [breach.describe() for breach in report.errors]
    ok = not missing and not unknown and report.ok
    return VariantReport(ok, report, tuple(missing), tuple(unknown), tuple(messages))


def pictogram(name: str) -> bytes:
    """A pictogram of the documents (a scope's: vocabulary.Scope.pictogram), for the pages to show the same one."""
    path = PICTOGRAM_DIR / (name if name.endswith(".png") else f"{name}.png")
    if path.parent != PICTOGRAM_DIR or not path.is_file():
        raise NotFound(f"Pictogramme inconnu : {name}.")
    return path.read_bytes()


def context_names(kind: str) -> Mapping[str, str]:
    """The fields of a kind with what each holds, in French (for the page where a structure uploads a variant)."""
    _check_kind(kind)
    return FIELDS[kind]
