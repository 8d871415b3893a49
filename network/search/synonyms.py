"""The field's synonyms: words a worker at a front desk uses for the same thing ("carte grise", "ANTS").

Each group is one idea: a search word or phrase of a group finds every other of the group, and counts as
one word when results are ranked by how many of the words asked they match. Reviewed by hand: a group joins
words that always mean the same service, never a mere neighbour (a tablet is not a smartphone). The
coordinator adds the network's own groups from the desk (network_synonym rows, read with `extra_groups`).
"""

from __future__ import annotations

from network.search import sql
from network.search.index import DirectoryCache

REVIEWED: tuple[tuple[str, ...], ...] = (
    ("carte grise", "ANTS", "immatriculation", "certificat d'immatriculation"),
    ("permis de conduire", "permis", "ANTS"),
    ("carte d'identité", "CNI", "passeport", "titre d'identité"),
    ("CAF", "allocations familiales", "allocations", "prestations familiales"),
    ("APL", "aide au logement", "aide personnalisée au logement"),
    ("RSA", "revenu de solidarité active", "minima sociaux", "minimas sociaux"),
    ("prime d'activité", "prime activité"),
    ("impôts", "impôt", "DGFiP", "finances publiques", "déclaration de revenus", "impots.gouv"),
    ("Pôle emploi", "France Travail", "demandeur d'emploi", "recherche d'emploi"),
    ("Ameli", "CPAM", "assurance maladie", "sécurité sociale", "sécu", "carte vitale"),
    ("complémentaire santé solidaire", "CSS", "CMU", "mutuelle"),
    ("retraite", "CARSAT", "assurance retraite", "info-retraite"),
    ("MSA", "mutualité sociale agricole"),
    ("MDPH", "handicap", "AAH"),
    ("titre de séjour", "préfecture", "ANEF", "étrangers"),
    ("aide", "aider", "accompagnement", "accompagner"),
    ("ordinateur", "PC", "informatique"),
    ("smartphone", "téléphone portable", "portable"),
    ("internet", "web"),  # not "en ligne": without its stop word, "ligne" would match too much
    ("wifi", "wi-fi", "connexion internet"),
    ("e-mail", "mail", "courriel", "messagerie", "adresse électronique"),
    ("écrivain public", "courrier", "rédiger une lettre"),
    ("cours de français", "FLE", "alphabétisation", "apprendre le français"),
    ("CV", "curriculum vitae", "candidature"),
    ("énergie", "électricité", "gaz", "facture d'énergie", "chèque énergie"),
    ("France Services", "maison France Services", "MSAP"),
    ("médiathèque", "bibliothèque"),
    ("numérique", "digital"),
    ("CCAS", "centre communal d'action sociale", "action sociale"),
    ("surendettement", "dettes", "budget", "Banque de France"),
)


def parse_groups(text: str) -> list[tuple[str, ...]]:
    """The coordinator's groups as typed on the desk: one group a line, words or phrases between commas."""
    groups: list[tuple[str, ...]] = []
    for line in text.splitlines():
        words = tuple(dict.fromkeys(part.strip() for part in line.split(",") if part.strip()))
        if len(words) >= 2:
            groups.append(words)
    return groups


_NETWORK: DirectoryCache[tuple[tuple[str, ...], ...]] = DirectoryCache(max_age=60)


async def network_groups() -> tuple[tuple[str, ...], ...]:
    """The coordinator's groups (network_synonym), kept until the next directory write (within a transaction)."""

    async def build() -> tuple[tuple[str, ...], ...]:
        rows = await sql.fetch("SELECT words FROM network_synonym ORDER BY id")
        return tuple(group for row in rows for group in parse_groups(str(row["words"])))

    return await _NETWORK.get(build)


async def all_groups() -> tuple[tuple[str, ...], ...]:
    """The reviewed groups of the field, then the network's own."""
    return REVIEWED + await network_groups()
