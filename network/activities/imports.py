"""Importing a partner's activities (La Coop de la médiation numérique's export as its users download it, or
Maillage's documented template in CSV or XLSX) and exporting the network's activities as XLSX.

The Coop's columns that name a person (Bénéficiaire, Notes supplémentaires, the mediators' names, the export's
own "Informations export" block) are never read: no name nor note is stored. Each row keeps its source id
(`coop:<ID CRA>`, `template:<identifiant>`), so importing the same file again changes nothing. A fatal error (an
unreadable file, missing columns) imports nothing; a wrong row is refused with its reasons, the others are kept,
all in one transaction.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.spreadsheets import safe_cell, safe_row
from hub.tables import Structure
from network.activities import service
from network.activities import vocabulary as vocab
from network.activities.schemas import ActivityCreate, Profile
from network.activities.tables import Activity, Participant

MAX_BYTES = 40 * 1024 * 1024
MAX_ROWS = 250_000
HEADER_SEARCH_ROWS = 80  # the Coop's two blocks above the table take a dozen rows, more with many filters

# ---------------------------------------------------------------- the Coop's export (domain.md)
COOP_REQUIRED = (
    "Date",
    "Type",
    "Participants",
    "Canaux d’accompagnement",
    "Durée (min)",
    "Thématique(s) d’accompagnement",
    "ID CRA",
)
COOP_OPTIONAL = (
    "Nom du lieu",
    "Commune",
    "Code postal",
    "Code Insee",
    "Nom de l’atelier",
    "Matériel numérique utilisé",
    "Tags",
    "Nom de la démarche administrative",
    "Niveau d’autonomie (ou de l’atelier)",
    "Bénéficiaire réorienté",
    "Structure de redirection",
    "Commune du bénéficiaire",
    "Code postal du bénéficiaire",
    "Code Insee du bénéficiaire",
    "Genre du bénéficiaire",
    "Tranche d’âge du bénéficiaire",
    "Statut du bénéficiaire",
)
# Read by nobody: they name people (the person helped, the mediators) or hold free notes about them.
COOP_NEVER_READ = ("Bénéficiaire", "Notes supplémentaires", "Prénom du médiateur", "Nom du médiateur", "ID - Conum")
COOP_KINDS = {"individual": "Accompagnement individuel", "workshop": "Atelier collectif"}

# ---------------------------------------------------------------- Maillage's template (one row per activity)
TEMPLATE_COLUMNS = {
    "identifiant": "votre identifiant de la ligne (obligatoire : un nouvel import de la même ligne ne change rien)",
    "date": "AAAA-MM-JJ ou JJ/MM/AAAA, pas dans le futur",
    "type": "individuel | atelier",
    "duree_min": "durée en minutes, de 1 à 480",
    "lieu": "structure | autre | domicile | distance",
    "nom_lieu": "nom du lieu (facultatif)",
    "thematiques": "une ou plusieurs, séparées par | (libellés ou codes de la feuille Valeurs)",
    "demarches": "domaines de la démarche administrative, séparés par | (facultatif)",
    "nom_demarche": "nom de la démarche, jamais celui de la personne (facultatif)",
    "materiel": "séparés par | : ordinateur, téléphone, tablette, autre, pas de matériel (facultatif)",
    "autonomie": "1, 2 ou 3 : autonomie atteinte, ou niveau de l'atelier (facultatif)",
    "nom_atelier": "titre de l'atelier (facultatif)",
    "reorientation": "type de structure de redirection (facultatif)",
    "participants": "nombre de personnes (1 pour un accompagnement individuel)",
    "tranche_age": "de la personne, ou de la première pour un atelier (facultatif)",
    "genre": "masculin | féminin | non communiqué (facultatif)",
    "statut": "retraité | sans emploi | en emploi | scolarisé | non communiqué (facultatif)",
    "commune": "commune de la personne (facultatif)",
    "code_insee": "code INSEE de sa commune (facultatif)",
    "quartier": "quartier (facultatif)",
    "connu_par": "comment la personne a connu le lieu (facultatif)",
    "premiere_venue": "oui | non (facultatif)",
    "satisfaction": "de 1 à 5 (facultatif)",
    "orientation": "numéro de l'orientation Maillage suivie (facultatif)",
    "siret": "SIRET de la structure (facultatif : une ligne d'une autre structure est refusée)",
}
TEMPLATE_REQUIRED = ("identifiant", "date", "type", "duree_min", "thematiques")
TEMPLATE_KINDS = {"individual": "individuel", "workshop": "atelier"}
TEMPLATE_PLACES = {"structure": "structure", "other": "autre", "home": "domicile", "remote": "distance"}
TEMPLATE_EXAMPLE = {
    "identifiant": "2026-001",
    "date": "2026-03-02",
    "type": "individuel",
    "duree_min": "45",
    "lieu": "structure",
    "thematiques": "E-mail|Aide aux démarches administratives",
    "demarches": "Argent - Impôts",
    "nom_demarche": "Déclaration de revenus",
    "materiel": "Ordinateur",
    "autonomie": "2",
    "participants": "1",
    "tranche_age": "60 - 69 ans",
    "genre": "Féminin",
    "statut": "Retraité",
    "commune": "Montclair-sur-Loire",
    "connu_par": "Bouche-à-oreille, un proche",
    "premiere_venue": "oui",
    "satisfaction": "5",
}
STATUS_SHORT = {"nc": "Non communiqué"}  # the template's short label beside the Coop's
YES = {"oui", "o", "yes", "1", "vrai", "true"}
NO = {"non", "n", "no", "0", "faux", "false"}


@dataclasses.dataclass
class RowReport:
    line: int  # the spreadsheet's own row number
    source_id: str
    reasons: list[str]


@dataclasses.dataclass
class ImportReport:
    fmt: str
    dry_run: bool
    rows_read: int = 0
    activities_new: int = 0
    activities_known: int = 0  # already imported: left as they were
    refused: list[RowReport] = dataclasses.field(default_factory=list)

    def summary_lines(self) -> list[str]:
        label = {"coop": "export de la Coop de la médiation numérique", "template": "modèle Maillage"}[self.fmt]
        head = "Simulation, rien n'est enregistré" if self.dry_run else "Import terminé"
        return [
            f"{head} ({label}) : {self.rows_read} lignes lues.",
            f"Activités {'à créer' if self.dry_run else 'créées'} : {self.activities_new}.",
            f"Activités déjà importées, inchangées : {self.activities_known}.",
            f"Lignes refusées : {len(self.refused)}.",
        ]


# ---------------------------------------------------------------- reading a file
@dataclasses.dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number, cells)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_header(cells: Sequence[Any]) -> bool:
    folded = {vocab.fold(_text(c)) for c in cells}
    return "date" in folded and "type" in folded and ("id cra" in folded or "identifiant" in folded)


def read_table(content: bytes, filename: str) -> Table:
    """The table of an XLSX (below the Coop's blocks, wherever its header row is) or a CSV (, or ;)."""
    if len(content) > MAX_BYTES:
        raise Invalid(f"Fichier trop gros : {MAX_BYTES // (1024 * 1024)} Mo au plus.", {"file": "Fichier trop gros."})
    if content[:2] == b"PK":
        return _read_xlsx(content)
    if filename.lower().endswith((".xlsx", ".xls")):
        raise Invalid("Ce fichier n'est pas un classeur XLSX lisible.", {"file": "Fichier XLSX illisible."})
    return _read_csv(content)


def _read_xlsx(content: bytes) -> Table:
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise Invalid("Ce fichier n'est pas un classeur XLSX lisible.", {"file": str(error)[:200]}) from error
    try:
        sheet = book["Activités"] if "Activités" in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        headers: list[str] | None = None
        found: list[tuple[int, list[Any]]] = []
        for number, cells in enumerate(rows, start=1):
            if headers is None:
                if _is_header(cells):
                    headers = [_text(c) for c in cells]
                elif number >= HEADER_SEARCH_ROWS:
                    break
                continue
            if all(c is None or c == "" for c in cells):
                continue
            found.append((number, list(cells)))
            if len(found) > MAX_ROWS:
                raise Invalid(f"Trop de lignes : {MAX_ROWS} au plus par fichier.", {"file": "Découpez le fichier."})
    finally:
        book.close()
    if headers is None:
        raise Invalid(
            "Aucune ligne d'en-têtes trouvée : il faut au moins les colonnes « Date », « Type » et « ID CRA » "
            "(export de la Coop) ou « identifiant » (modèle Maillage).",
            {"file": "En-têtes introuvables."},
        )
    return Table(headers, found)


def _read_csv(content: bytes) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    headers: list[str] | None = None
    found: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(reader, start=1):
        if headers is None:
            if _is_header(cells):
                headers = [c.strip() for c in cells]
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if any(c.strip() for c in cells):
            found.append((number, list(cells)))
        if len(found) > MAX_ROWS:
            raise Invalid(f"Trop de lignes : {MAX_ROWS} au plus par fichier.", {"file": "Découpez le fichier."})
    if headers is None:
        raise Invalid(
            "Aucune ligne d'en-têtes trouvée : la première ligne doit nommer les colonnes du modèle "
            "(identifiant, date, type…).",
            {"file": "En-têtes introuvables."},
        )
    return Table(headers, found)


def detect_format(table: Table) -> str:
    folded = {vocab.fold(h) for h in table.headers}
    return "coop" if "id cra" in folded else "template"


def _columns(table: Table, required: Sequence[str], optional: Sequence[str]) -> dict[str, int]:
    """Wanted column -> its index, by the header's folded text; missing required ones are named (fatal)."""
    index = {vocab.fold(h): i for i, h in enumerate(table.headers) if h}
    missing = [name for name in required if vocab.fold(name) not in index]
    if missing:
        names = ", ".join(f"« {name} »" for name in missing)
        raise Invalid(
            f"Colonnes manquantes : {names}. Rien n'est importé.", {"file": f"Colonnes manquantes : {names}."}
        )
    return {name: index[vocab.fold(name)] for name in (*required, *optional) if vocab.fold(name) in index}


# ---------------------------------------------------------------- values
_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})")
_SHARE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    match = _DAY.match(text)
    if match:
        return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    return date.fromisoformat(text[:10])


def _many(value: Any) -> list[str]:
    return [part.strip() for part in re.split(r"[\n|]", _text(value)) if part.strip()]


class RowError(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _code(reasons: list[str], codes: dict[Any, str], text: str, what: str, *extra: dict[Any, str]) -> Any:
    if not text:
        return "nc" if "nc" in codes else None
    code = vocab.find(codes, text, *extra)
    if code is None:
        reasons.append(f"{what} inconnu(e) : « {text[:60]} ».")
    return code


# ---------------------------------------------------------------- the Coop's rows
def _coop_profile(cells: list[Any], col: dict[str, int], reasons: list[str]) -> Profile:
    def get(name: str) -> str:
        return _text(cells[col[name]]) if name in col and col[name] < len(cells) else ""

    insee = get("Code Insee du bénéficiaire")
    return Profile(
        age_band=_code(reasons, vocab.AGE_BANDS, get("Tranche d’âge du bénéficiaire"), "Tranche d'âge") or "nc",
        gender=_code(reasons, vocab.GENDERS, get("Genre du bénéficiaire"), "Genre") or "nc",
        status=_code(reasons, vocab.STATUSES, get("Statut du bénéficiaire"), "Statut", STATUS_SHORT) or "nc",
        commune=get("Commune du bénéficiaire")[: service.MAX_COMMUNE],
        commune_insee=insee,
    )


def _coop_activity(
    structure_id: int, group: list[tuple[int, list[Any]]], col: dict[str, int], places: dict[str, int]
) -> ActivityCreate:
    """One activity from a CRA's rows (one row per person helped)."""
    first = group[0][1]
    reasons: list[str] = []

    def get(name: str) -> Any:
        return first[col[name]] if name in col and col[name] < len(first) else None

    kind = _code(reasons, COOP_KINDS, _text(get("Type")), "Type")
    try:
        day = _day(get("Date"))
    except (ValueError, TypeError):
        reasons.append(f"Date illisible : « {_text(get('Date'))[:20]} ».")
        day = date.min
    shares = []
    for _, cells in group:
        text = _text(cells[col["Participants"]]) if col["Participants"] < len(cells) else ""
        match = _SHARE.match(text)
        if text.isdigit():
            shares.append((1, int(text)))
        elif match:
            shares.append((int(match.group(1)), int(match.group(2))))
        else:
            reasons.append(f"Participants illisibles : « {text[:20]} » (attendu 1, ou i/N pour un atelier).")
    total = max((n for _, n in shares), default=1)
    for i, n in shares:
        if i > n or i < 1 or n < 1:
            reasons.append(f"Participants « {i}/{n} » : le numéro dépasse le nombre de participants.")
    if len(group) > total:
        reasons.append(f"{len(group)} lignes pour {total} participant(s) : une ligne par personne au plus.")
    try:
        duration = int(float(_text(get("Durée (min)")) or "0"))
    except ValueError:
        reasons.append(f"Durée illisible : « {_text(get('Durée (min)'))[:20]} ».")
        duration = 0
    thematiques, demarches = [], []
    for label in _many(get("Thématique(s) d’accompagnement")):
        if code := vocab.find(vocab.THEMATIQUES, label):
            thematiques.append(code)
        elif code := vocab.find(vocab.DEMARCHES, label):
            demarches.append(code)
        else:
            reasons.append(f"Thématique inconnue : « {label[:60]} ».")
    if demarches and "procedures" not in thematiques:
        thematiques.append("procedures")  # an administrative domain is a help with a procedure
    materials = [_code(reasons, vocab.MATERIALS, m, "Matériel") for m in _many(get("Matériel numérique utilisé"))]
    autonomy_text = _text(get("Niveau d’autonomie (ou de l’atelier)"))
    autonomy = None
    if autonomy_text:
        match = _SHARE.match(autonomy_text)
        autonomy = int(match.group(1)) if match else None
        if autonomy is None:
            reasons.append(f"Niveau d'autonomie illisible : « {autonomy_text[:20]} » (attendu 1/3, 2/3 ou 3/3).")
    redirect_category = ""
    if vocab.fold(_text(get("Bénéficiaire réorienté"))) == "oui" or _text(get("Structure de redirection")):
        label = _text(get("Structure de redirection"))
        redirect_category = (vocab.find(vocab.REDIRECT_CATEGORIES, label) if label else "other") or "other"
    place_kind = _code(
        reasons, vocab.COOP_PLACE_KINDS, _text(get("Canaux d’accompagnement")), "Canal", vocab.PLACE_KINDS
    )
    place_label = _text(get("Nom du lieu"))[: service.MAX_LABEL]
    profiles = tuple(_coop_profile(cells, col, reasons) for _, cells in group)
    if reasons:
        raise RowError(reasons)
    return ActivityCreate(
        structure_id=structure_id,
        day=day,
        kind=kind,
        duration=duration,
        place_kind=place_kind or "structure",
        place_id=places.get(vocab.fold(place_label)) if place_kind == "structure" else None,
        place_label=place_label,
        thematiques=tuple(dict.fromkeys(thematiques)),
        demarches=tuple(dict.fromkeys(demarches)),
        demarche_name=_text(get("Nom de la démarche administrative"))[: service.MAX_LABEL],
        materials=tuple(m for m in dict.fromkeys(materials) if m),
        tags=tuple(t[:60] for t in _many(get("Tags"))[:20]),
        autonomy=autonomy,
        workshop_name=_text(get("Nom de l’atelier"))[: service.MAX_LABEL],
        redirected=bool(redirect_category),
        redirect_category=redirect_category,
        participants=total if kind == "workshop" else len(group),
        profiles=profiles,
        source="coop",
        source_id=f"coop:{_text(get('ID CRA'))[:90]}",
    )


def coop_activities(
    table: Table, structure_id: int, places: dict[str, int]
) -> Iterator[tuple[list[int], ActivityCreate | None, list[str], str]]:
    """(row numbers, activity or None, reasons, source id) per CRA of the file."""
    col = _columns(table, COOP_REQUIRED, COOP_OPTIONAL)
    groups: dict[str, list[tuple[int, list[Any]]]] = {}
    for number, cells in table.rows:
        key = _text(cells[col["ID CRA"]]) if col["ID CRA"] < len(cells) else ""
        groups.setdefault(key or f"ligne-{number}", []).append((number, cells))
    for key, group in groups.items():
        lines = [number for number, _ in group]
        if key.startswith("ligne-"):
            yield lines, None, ["« ID CRA » vide : la ligne ne peut pas être suivie d'un import à l'autre."], ""
            continue
        try:
            yield lines, _coop_activity(structure_id, group, col, places), [], f"coop:{key[:90]}"
        except RowError as error:
            yield lines, None, error.reasons, f"coop:{key[:90]}"


# ---------------------------------------------------------------- the template's rows
def _template_activity(
    structure_id: int, siret: str, cells: list[Any], col: dict[str, int], places: dict[str, int]
) -> ActivityCreate:
    reasons: list[str] = []

    def get(name: str) -> str:
        return _text(cells[col[name]]) if name in col and col[name] < len(cells) else ""

    if get("siret") and siret and get("siret").replace(" ", "") != siret:
        raise RowError([f"Ligne d'une autre structure (SIRET {get('siret')[:20]}) : vous importez pour {siret}."])
    kind = _code(reasons, vocab.KINDS, get("type"), "Type", TEMPLATE_KINDS)
    try:
        day = _day(cells[col["date"]])
    except (ValueError, TypeError):
        reasons.append(f"Date illisible : « {get('date')[:20]} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA).")
        day = date.min
    numbers: dict[str, int | None] = {}
    for name, label in (
        ("duree_min", "Durée"),
        ("participants", "Participants"),
        ("autonomie", "Autonomie"),
        ("satisfaction", "Satisfaction"),
        ("orientation", "Orientation"),
    ):
        text = get(name)
        try:
            numbers[name] = int(float(text)) if text else None
        except ValueError:
            reasons.append(f"{label} : « {text[:20]} » n'est pas un nombre.")
            numbers[name] = None
    thematiques = [_code(reasons, vocab.THEMATIQUES, t, "Thématique") for t in _many(get("thematiques"))]
    demarches = [_code(reasons, vocab.DEMARCHES, d, "Démarche") for d in _many(get("demarches"))]
    materials = [_code(reasons, vocab.MATERIALS, m, "Matériel") for m in _many(get("materiel"))]
    redirect = _code(reasons, vocab.REDIRECT_CATEGORIES, get("reorientation"), "Type de structure de redirection")
    place_kind = _code(reasons, vocab.PLACE_KINDS, get("lieu") or "structure", "Lieu", TEMPLATE_PLACES)
    first = vocab.fold(get("premiere_venue"))
    if first and first not in YES | NO:
        reasons.append(f"Première venue : « {get('premiere_venue')[:20]} » (oui ou non).")
    profile = Profile(
        age_band=_code(reasons, vocab.AGE_BANDS, get("tranche_age"), "Tranche d'âge") or "nc",
        gender=_code(reasons, vocab.GENDERS, get("genre"), "Genre") or "nc",
        status=_code(reasons, vocab.STATUSES, get("statut"), "Statut", STATUS_SHORT) or "nc",
        commune=get("commune")[: service.MAX_COMMUNE],
        commune_insee=get("code_insee"),
        neighbourhood=get("quartier")[: service.MAX_COMMUNE],
        channel=_code(reasons, vocab.CHANNELS, get("connu_par"), "Façon de connaître le lieu") or "nc",
        first_visit=None if not first else first in YES,
        satisfaction=numbers["satisfaction"],
    )
    if reasons:
        raise RowError(reasons)
    place_label = get("nom_lieu")[: service.MAX_LABEL]
    return ActivityCreate(
        structure_id=structure_id,
        day=day,
        kind=kind,
        duration=numbers["duree_min"] or 0,
        place_kind=place_kind or "structure",
        place_id=places.get(vocab.fold(place_label)) if place_kind == "structure" else None,
        place_label=place_label,
        thematiques=tuple(t for t in dict.fromkeys(thematiques) if t),
        demarches=tuple(d for d in dict.fromkeys(demarches) if d),
        demarche_name=get("nom_demarche")[: service.MAX_LABEL],
        materials=tuple(m for m in dict.fromkeys(materials) if m),
        autonomy=numbers["autonomie"],
        workshop_name=get("nom_atelier")[: service.MAX_LABEL],
        redirected=bool(redirect),
        redirect_category=redirect or "",
        participants=numbers["participants"] or 1,
        profiles=(profile,),
        referral_id=numbers["orientation"],
        source="template",
        source_id=f"template:{get('identifiant')[:90]}",
    )


def template_activities(
    table: Table, structure_id: int, siret: str, places: dict[str, int]
) -> Iterator[tuple[list[int], ActivityCreate | None, list[str], str]]:
    col = _columns(table, TEMPLATE_REQUIRED, tuple(c for c in TEMPLATE_COLUMNS if c not in TEMPLATE_REQUIRED))
    seen: set[str] = set()
    for number, cells in table.rows:
        ident = _text(cells[col["identifiant"]]) if col["identifiant"] < len(cells) else ""
        if not ident:
            yield [number], None, ["« identifiant » vide : chaque ligne a le sien."], ""
            continue
        if ident in seen:
            yield [number], None, [f"Identifiant « {ident[:40]} » déjà vu plus haut dans le fichier."], ident
            continue
        seen.add(ident)
        try:
            yield [number], _template_activity(structure_id, siret, cells, col, places), [], f"template:{ident[:90]}"
        except RowError as error:
            yield [number], None, error.reasons, f"template:{ident[:90]}"


# ---------------------------------------------------------------- the import
async def resolve_structure(text: str) -> int:
    """A structure by its id or its SIRET (14 digits)."""
    wanted = text.replace(" ", "")
    if len(wanted) == 14 and wanted.isdigit():
        row = await Structure.select(Structure.id).where(Structure.siret == wanted).first()
    elif wanted.isdigit() and int(wanted) < 2**31:
        row = await Structure.select(Structure.id).where(Structure.id == int(wanted)).first()
    else:
        raise Invalid("Structure : son numéro dans Maillage, ou son SIRET à 14 chiffres.", {"structure": wanted[:20]})
    if row is None:
        raise NotFound(f"Aucune structure n'a le numéro ou le SIRET « {wanted[:20]} ».")
    return int(row["id"])


async def import_file(
    rt: Runtime,
    path: Path,
    structure_id: int,
    fmt: str | None = None,
    dry_run: bool = False,
    actor: Actor | None = None,
) -> ImportReport:
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        raise Invalid(f"Fichier illisible : {error.strerror or error}.", {"file": str(path)}) from error
    return await import_bytes(rt, content, path.name, structure_id, fmt, dry_run, actor)


async def import_bytes(
    rt: Runtime,
    content: bytes,
    filename: str,
    structure_id: int,
    fmt: str | None = None,
    dry_run: bool = False,
    actor: Actor | None = None,
) -> ImportReport:
    """Check every row, then write the good ones in one transaction (none when dry_run); the report row by row."""
    if actor is not None:
        service.require_member(actor, structure_id)
    structure = await Structure.select(Structure.id, Structure.siret).where(Structure.id == structure_id).first()
    if structure is None:
        raise NotFound("Cette structure n'existe pas.")
    table = read_table(content, filename)
    found = detect_format(table)
    fmt = fmt or found
    if fmt not in ("coop", "template"):
        raise Invalid("Format inconnu : coop ou template.", {"format": "Choisissez coop ou template."})
    if fmt != found:
        expected = "« ID CRA » (export de la Coop)" if fmt == "coop" else "« identifiant » (modèle Maillage)"
        raise Invalid(f"Ce fichier n'a pas la colonne {expected}.", {"file": f"Colonne {expected} absente."})
    places = {vocab.fold(p.name): p.id for p in await service.places(structure_id)}
    today = rt.today()
    report = ImportReport(fmt=fmt, dry_run=dry_run, rows_read=len(table.rows))
    rows = (
        coop_activities(table, structure_id, places)
        if fmt == "coop"
        else template_activities(table, structure_id, structure["siret"], places)
    )
    known = {
        r["source_id"]
        for r in await Activity.select(Activity.source_id).where(
            (Activity.structure == structure_id) & (Activity.source == fmt)
        )
    }
    kept: list[ActivityCreate] = []
    for lines, command, reasons, source_id in rows:
        if command is not None:
            errors = service.check_activity(command, today, None)
            reasons = list(dict.fromkeys(errors.values()))
        if reasons or command is None:
            report.refused.append(RowReport(lines[0], source_id.split(":", 1)[-1], reasons))
        elif command.source_id in known:
            report.activities_known += 1
        else:
            known.add(command.source_id)
            kept.append(command)
    report.activities_new = len(kept)
    if dry_run:
        return report
    async with write_transaction():
        await service.insert_activities(kept, actor.user_id if actor else None, rt.now())
        await journal.append(
            rt,
            Act(
                "activities_imported",
                actor.user_id if actor else None,
                structure_id,
                "structure",
                structure_id,
                {"format": fmt, "created": len(kept), "refused": len(report.refused)},
            ),
        )
    return report


# ---------------------------------------------------------------- the template to download, the export
def _save(book: Any, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)


def template_rows() -> list[list[str]]:
    return [list(TEMPLATE_COLUMNS), [TEMPLATE_EXAMPLE.get(c, "") for c in TEMPLATE_COLUMNS]]


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in template_rows():
        writer.writerow(safe_row(list(row)))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Activités"
    for row in template_rows():
        sheet.append(safe_row(list(row)))
    values = book.create_sheet("Valeurs")
    values.append(["colonne", "ce qu'elle contient, ou une valeur admise"])
    for name, meaning in TEMPLATE_COLUMNS.items():
        values.append(safe_row([name, meaning]))
    for column, table in (
        ("thematiques", vocab.THEMATIQUES),
        ("demarches", vocab.DEMARCHES),
        ("materiel", vocab.MATERIALS),
        ("reorientation", vocab.REDIRECT_CATEGORIES),
        ("tranche_age", vocab.AGE_BANDS),
        ("genre", vocab.GENDERS),
        ("statut", vocab.STATUSES),
        ("connu_par", vocab.CHANNELS),
    ):
        for label in table.values():
            values.append(safe_row([column, label]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPORT_COLUMNS = ["structure", "siret", *TEMPLATE_COLUMNS][:-1]  # the template's columns, the structure first


async def export_xlsx(rt: Runtime, start: date, end: date, out: Path) -> int:
    """Every activity of the network in the period, one row each in the template's columns (re-importable)."""
    if start > end:
        raise Invalid("La fin de la période vient avant son début.", {"to": "Choisissez une date après le début."})
    names = {
        r["id"]: (r["name"], r["siret"]) for r in await Structure.select(Structure.id, Structure.name, Structure.siret)
    }
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Activités")
    sheet.append(EXPORT_COLUMNS)
    count = 0
    rows = await (
        Activity.select()
        .where((Activity.day >= start) & (Activity.day <= end))
        .order_by(Activity.structure)
        .order_by(Activity.day)
        .order_by(Activity.id)
        .output(load_json=True)
    )
    single = {
        p["activity"]: p
        for p in await Participant.select().where((Participant.day >= start) & (Participant.day <= end))
    }
    for row in rows:
        person = single.get(row["id"]) if row["participants"] == 1 else None
        name, siret = names.get(row["structure"], ("", ""))
        values = {
            "structure": name,
            "siret": siret,
            "identifiant": row["source_id"] or f"maillage:{row['id']}",
            "date": row["day"].isoformat(),
            "type": TEMPLATE_KINDS.get(row["kind"], row["kind"]),
            "duree_min": row["duration"],
            "lieu": TEMPLATE_PLACES.get(row["place_kind"], row["place_kind"]),
            "nom_lieu": row["place_label"],
            "thematiques": "|".join(vocab.THEMATIQUES.get(c, c) for c in row["thematiques"]),
            "demarches": "|".join(vocab.DEMARCHES.get(c, c) for c in row["demarches"]),
            "nom_demarche": row["demarche_name"],
            "materiel": "|".join(vocab.MATERIALS.get(c, c) for c in row["materials"]),
            "autonomie": row["autonomy"] or "",
            "nom_atelier": row["workshop_name"],
            "reorientation": vocab.REDIRECT_CATEGORIES.get(row["redirect_category"], ""),
            "participants": row["participants"],
            "orientation": row["referral_id"] or "",
        }
        if person:
            values |= {
                "tranche_age": vocab.AGE_BANDS.get(person["age_band"], ""),
                "genre": vocab.GENDERS.get(person["gender"], ""),
                "statut": vocab.STATUSES.get(person["status"], ""),
                "commune": person["commune"],
                "code_insee": person["commune_insee"],
                "quartier": person["neighbourhood"],
                "connu_par": vocab.CHANNELS.get(person["channel"], ""),
                "premiere_venue": "" if person["first_visit"] is None else ("oui" if person["first_visit"] else "non"),
                "satisfaction": person["satisfaction"] or "",
            }
        sheet.append([safe_cell(values.get(column, "")) for column in EXPORT_COLUMNS])
        count += 1
    await asyncio.to_thread(_save, book, out)
    await journal.append(rt, Act("activities_exported", None, None, "activities", "", {"rows": count}))
    return count
