"""Activity records' reference lists: code (English, stored) -> French label (shown), from domain.md.

The Coop's export labels (La Coop de la médiation numérique) are kept beside ours where they differ, so the
importer reads them; `find(code_map, text)` matches a label whatever its case, accents and apostrophes.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

KINDS = {"individual": "Accompagnement individuel", "workshop": "Atelier collectif"}

# The 19 médiation thématiques (domain.md), labels as the Coop writes them.
THEMATIQUES = {
    "diagnostic": "Diagnostic numérique",
    "equipment": "Prendre en main du matériel",
    "maintenance": "Maintenance de matériel",
    "contents": "Gérer ses contenus numériques",
    "browsing": "Navigation sur internet",
    "email": "E-mail",
    "office": "Bureautique",
    "social_media": "Réseaux sociaux communication",
    "health": "Santé",
    "banking": "Banque et achats en ligne",
    "professional": "Accompagner un professionnel",
    "employment": "Insertion professionnelle",
    "security": "Prévention en sécurité numérique",
    "parenting": "Parentalité",
    "school": "Scolarité et numérique",
    "creating": "Créer avec le numérique",
    "culture": "Culture numérique",
    "ai": "Intelligence artificielle (IA)",
    "procedures": "Aide aux démarches administratives",
}
# The administrative domains of a démarche (the Coop's administrative thématiques).
DEMARCHES = {
    "papers": "Papiers - Élections - Citoyenneté",
    "family": "Famille - Scolarité",
    "social": "Social - Santé",
    "work": "Travail - Formation - Entreprise",
    "housing": "Logement",
    "transport": "Transports - Mobilité",
    "money": "Argent - Impôts",
    "justice": "Justice",
    "foreigners": "Étrangers - Europe",
    "leisure": "Loisirs - Sports - Culture",
    "associations": "Associations",
}
PLACE_KINDS = {
    "structure": "Dans la structure",
    "other": "Autre lieu",
    "home": "À domicile",
    "remote": "À distance",
}
COOP_PLACE_KINDS = {"structure": "Lieu d’activité", "other": "Autre lieu", "home": "À domicile", "remote": "À distance"}
MATERIALS = {
    "computer": "Ordinateur",
    "phone": "Téléphone",
    "tablet": "Tablette",
    "other": "Autre",
    "none": "Pas de matériel",
}
AUTONOMY = {1: "Pas autonome (1/3)", 2: "Partiellement autonome (2/3)", 3: "Autonome (3/3)"}
LEVELS = {1: "Débutant (1/3)", 2: "Intermédiaire (2/3)", 3: "Avancé (3/3)"}
REDIRECT_CATEGORIES = {
    "administration": "Administration (mairie, préfecture…)",
    "mediation": "Autre structure de médiation numérique",
    "operator": "Opérateur ou organisme en charge de la démarche administrative",
    "social": "Structure d’aide sociale (maison des solidarités, centre social…)",
    "insertion": "Structure d’insertion professionnelle (France Travail, mission locale, chambre de commerce…)",
    "demarches": "Structure d’aide aux démarches administratives (France Services…)",
    "other": "Autre",
}
AGE_BANDS = {
    "lt12": "Moins de 12 ans",
    "12-17": "12 - 17 ans",
    "18-24": "18 - 24 ans",
    "25-39": "25 - 39 ans",
    "40-59": "40 - 59 ans",
    "60-69": "60 - 69 ans",
    "70+": "70 ans et plus",
    "nc": "Non communiqué",
}
GENDERS = {"m": "Masculin", "f": "Féminin", "nc": "Non communiqué"}
STATUSES = {
    "retired": "Retraité",
    "unemployed": "Sans emploi",
    "employed": "En emploi",
    "student": "Scolarisé",
    "nc": "Non communiqué ou hétérogène",
}
# How the person heard of the place: what the national tool lacks. "partner" links to the referral when known.
CHANNELS = {
    "partner": "Envoyé par un partenaire",
    "word_of_mouth": "Bouche-à-oreille, un proche",
    "passing_by": "En passant devant",
    "poster": "Affiche, journal, radio",
    "internet": "Internet, réseaux sociaux",
    "other": "Autrement",
    "nc": "Non communiqué",
}
# The same, in FALC, for the public satisfaction page (one picture each: static/img/activities/channel-*.svg).
CHANNELS_FALC = {
    "partner": "Une structure m’a envoyé ici.",
    "word_of_mouth": "Un proche m’a parlé de ce lieu.",
    "passing_by": "Je suis passé devant.",
    "poster": "J’ai vu une affiche.",
    "internet": "J’ai vu ce lieu sur internet.",
    "other": "Autrement.",
}
SATISFACTION = {1: "Pas du tout content", 2: "Pas content", 3: "Moyen", 4: "Content", 5: "Très content"}
DURATIONS = (15, 30, 45, 60, 90, 120)  # the usual choices; any other number of minutes is "custom"
DURATION_BANDS = {
    "lt30": "Moins de 30 min",
    "30-60": "30 à 60 min",
    "60-120": "60 à 120 min",
    "120+": "Plus de 120 min",
}
MAX_DURATION = 480  # a day of workshops; beyond, a typing error
MAX_PARTICIPANTS = 200


@functools.lru_cache(maxsize=8192)  # an import folds the same few labels 100,000 times
def fold(text: str) -> str:
    """A label as compared: lower case, no accents, one kind of apostrophe and dash, single spaces."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("–", "-").replace("—", "-"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().split())


_FOLDED: dict[int, tuple[dict[Any, str], dict[str, Any]]] = {}


def _folded(table: dict[Any, str]) -> dict[str, Any]:
    """The table's labels and codes, folded, to its codes (computed once per table: imports call this per cell)."""
    cached = _FOLDED.get(id(table))
    if cached is None or cached[0] is not table:
        folded: dict[str, Any] = {}
        for code, label in table.items():
            folded.setdefault(fold(label), code)
            folded.setdefault(fold(str(code)), code)
        cached = _FOLDED[id(table)] = (table, folded)
    return cached[1]


def find(codes: dict[Any, str], text: str, *extra: dict[Any, str]) -> Any:
    """The code whose label (or code) is this text, or None."""
    wanted = fold(text)
    for table in (codes, *extra):
        code = _folded(table).get(wanted)
        if code is not None:
            return code
    return None


def duration_band(minutes: int) -> str:
    """<30 | 30–60 (60 included) | 60–120 (120 included) | more than 120: the usual 60 and 120 fall in the lower band."""
    if minutes < 30:
        return "lt30"
    if minutes <= 60:
        return "30-60"
    if minutes <= 120:
        return "60-120"
    return "120+"
