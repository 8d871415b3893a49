"""Médiation numérique (LaMednum v1.0.x) CSV: its vocabulary mapped to data·inclusion codes both ways, and its
import (one row per place, giving one structure and its digital inclusion service)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from data_inclusion.schema import v1 as di

from hub.tables import STRUCTURE_KINDS
from network.exchange import datainclusion
from network.exchange.files import InputFile, RawRow, read_csv
from network.exchange.report import DEFAULT_MEDNUM_SOURCE, Progress, RowOutcome
from network.exchange.rows import (
    Candidate,
    imported_hours,
    imported_phone,
    json_list,
    length_checks,
    shown,
    strip_prefix,
    validate_di,
)
from network.tables import Service, Structure

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
MEDNUM_SERVICE_OUT = (
    ("difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
     "Aide aux démarches administratives"),
    ("numerique--acceder-a-des-services-en-ligne", "Aide aux démarches administratives"),
    ("numerique--maitriser-les-fondamentaux-du-numerique", "Maîtrise des outils numériques du quotidien"),
    ("numerique--acceder-a-une-connexion-internet", "Accès internet et matériel informatique"),
    ("numerique--acquerir-un-equipement", "Acquisition de matériel informatique à prix solidaire"),
)  # fmt: skip
MEDNUM_SERVICE_OUT_WITH_DIGITAL = (
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
MEDNUM_NAMES = {  # data·inclusion field → LaMednum column, for messages
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
            reasons.append(f"{column} : valeur inconnue {shown(value)}")
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
        reasons.append(f"pivot : ni un SIRET (14 chiffres) ni un numéro RNA (W suivi de 9 chiffres) {shown(pivot)}")
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

    ident = strip_prefix(source, cells["id"])
    if not ident:
        reasons.append(f"id : identifiant vide après le préfixe « {source}-- »")
        return outcome, []
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
    structure_model = validate_di("structure", structure_data, outcome, MEDNUM_NAMES)
    service_model = validate_di("service", service_data, outcome, MEDNUM_NAMES) if structure_model else None
    if structure_model is None or service_model is None:
        outcome.reasons[:] = list(dict.fromkeys(outcome.reasons))  # both models may report the same field
        return outcome, []
    assert isinstance(structure_model, di.Structure) and isinstance(service_model, di.Service)

    key = (source, ident)
    structure_values = datainclusion.structure_values(structure_model)
    kinds = [k for k in re.split(r"[|;,]", cells.get("typologie", "")) if k.strip()]
    structure_values["kind"] = next((k.strip() for k in kinds if k.strip() in STRUCTURE_KINDS), "AUTRE")
    service_values, _ = datainclusion.service_values(service_model)
    for values in (structure_values, service_values):  # one cell: one note
        values["phone"] = imported_phone(values["phone"], outcome)
        values["opening_hours"] = imported_hours(values["opening_hours"], outcome, "horaires")
    service_values["types"] = json_list(types)
    service_values["accepts_referrals"] = prescription and bool(emails)
    service_values["fees"] = json_list(sorted({MEDNUM_FEES[f] for f in fees}))
    for kind, column in (("accommodation", "accommodations"), ("language", "languages")):
        service_values[column] = json_list(
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
    names = {
        **datainclusion.DI_NAMES,
        **{k: MEDNUM_NAMES.get(v, v) for k, v in datainclusion.DI_NAMES.items()},
        "opening_hours": "horaires",
    }
    length_problems = length_checks(Structure, structure_values, names) + length_checks(Service, service_values, names)
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
        rows.extend(read_csv(file, MEDNUM_REQUIRED)[1])
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
