"""French labels of the directory's codes: data·inclusion v1 enums, plus the local lists it lacks.

The data·inclusion codes and labels come from the `data-inclusion-schema` package (never copied here);
accommodations and languages are local lists, as are the structure kinds (hub.tables.STRUCTURE_KINDS).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from data_inclusion.schema.v1 import (
    Categorie,
    Frais,
    ModeAccueil,
    ModeMobilisation,
    PersonneMobilisatrice,
    Public,
    ReseauPorteur,
    Thematique,
    TypeService,
)

from hub.tables import STRUCTURE_KINDS


def _labels(enum: type[Enum]) -> dict[str, str]:
    return {str(member.value): str(getattr(member, "label", None) or member.value) for member in enum}


THEMATIQUES: dict[str, str] = _labels(Thematique)
CATEGORIES: dict[str, str] = _labels(Categorie)  # the part of a thématique code before "--"
PUBLICS: dict[str, str] = _labels(Public)
FEES: dict[str, str] = _labels(Frais)
RECEPTION_MODES: dict[str, str] = _labels(ModeAccueil)
SERVICE_TYPES: dict[str, str] = _labels(TypeService)
MOBILISATION_MODES: dict[str, str] = _labels(ModeMobilisation)
MOBILISED_BY: dict[str, str] = _labels(PersonneMobilisatrice)
NETWORKS: dict[str, str] = _labels(ReseauPorteur)

# The service page speaks to residents and social workers: plain words for how to reach a service and who may
# ask, in the order a reader looks for them. The official labels above stay for the edit form, exchange and the API.
WAYS_TO_REACH: dict[str, str] = {
    "utiliser-lien-mobilisation": "Prendre rendez-vous en ligne",
    "telephoner": "Téléphoner",
    "envoyer-un-courriel": "Envoyer un e-mail",
    "se-presenter": "Se présenter sur place",
}
WHO_ASKS: dict[str, str] = {
    "usagers": "Vous-même",
    "professionnels": "Un professionnel qui vous accompagne",
}

# What a place or a team does for people with a disability or a language need (not in data·inclusion v1).
ACCOMMODATIONS: dict[str, str] = {
    "surdite": "Accueil des personnes sourdes ou malentendantes",
    "langue-des-signes": "Accueil en langue des signes française (LSF)",
    "malvoyance": "Accueil des personnes aveugles ou malvoyantes",
    "mobilite-reduite": "Accessible aux personnes à mobilité réduite",
    "falc": "Documents faciles à lire et à comprendre (FALC)",
}

# ISO 639-1 codes of the languages most often offered by the network's teams.
LANGUAGES: dict[str, str] = {
    "fr": "français",
    "en": "anglais",
    "ar": "arabe",
    "es": "espagnol",
    "pt": "portugais",
    "it": "italien",
    "de": "allemand",
    "ro": "roumain",
    "ru": "russe",
    "uk": "ukrainien",
    "pl": "polonais",
    "tr": "turc",
    "zh": "chinois",
    "vi": "vietnamien",
    "fa": "persan",
    "ps": "pachto",
    "ku": "kurde",
    "ta": "tamoul",
    "wo": "wolof",
    "bm": "bambara",
    "so": "somali",
    "ti": "tigrigna",
    "am": "amharique",
    "ber": "tamazight (berbère)",
}

# The service form's multiple-choice fields → the codes each offers (its checkboxes; network.forms refuses others).
SERVICE_CHOICES: dict[str, dict[str, str]] = {
    "thematiques": THEMATIQUES,
    "publics": PUBLICS,
    "fees": FEES,
    "reception_modes": RECEPTION_MODES,
    "accommodations": ACCOMMODATIONS,
    "mobilisation_modes": MOBILISATION_MODES,
    "mobilisable_by": MOBILISED_BY,
}

# Service tag kind → its labels; the kinds are those of ServiceTag rows (see network.search).
TAG_LABELS: dict[str, dict[str, str]] = {
    "thematique": THEMATIQUES,
    "public": PUBLICS,
    "fee": FEES,
    "reception": RECEPTION_MODES,
    "type": SERVICE_TYPES,
    "accommodation": ACCOMMODATIONS,
    "language": LANGUAGES,
}


def label(kind: str, code: str) -> str:
    """The French label of a code of a tag kind (or "kind" for structure kinds); the code itself when unknown."""
    labels = STRUCTURE_KINDS if kind == "kind" else TAG_LABELS.get(kind, {})
    return labels.get(code, code)


def labels(kind: str, codes: Iterable[str]) -> list[str]:
    return [label(kind, code) for code in codes]


def ways_to_reach(codes: Iterable[str]) -> list[str]:
    """How to reach a service, in plain words, in the page's order (an unknown code keeps its official label)."""
    wanted = list(dict.fromkeys(codes))
    known = [WAYS_TO_REACH[code] for code in WAYS_TO_REACH if code in wanted]
    return known + [MOBILISATION_MODES.get(code, code) for code in wanted if code not in WAYS_TO_REACH]


def who_asks(codes: Iterable[str]) -> str:
    """ "Vous-même ou un professionnel qui vous accompagne": who may ask for a service, in one phrase."""
    wanted = list(dict.fromkeys(codes))
    words = [WHO_ASKS[code] for code in WHO_ASKS if code in wanted]
    words += [MOBILISED_BY.get(code, code) for code in wanted if code not in WHO_ASKS]
    return " ou ".join(word if n == 0 else word[:1].lower() + word[1:] for n, word in enumerate(words))


def thematique_category(code: str) -> str:
    """ "numerique--acquerir-un-equipement" → "numerique"."""
    return code.split("--", 1)[0]


def is_known(kind: str, code: str) -> bool:
    if kind == "thematique":
        return code in THEMATIQUES or code in CATEGORIES
    if kind == "language":
        return code in LANGUAGES or (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower())
    return code in TAG_LABELS.get(kind, {})
