"""The mandates' reference lists (../shared/design/domain.md, "Mandates"): scopes, durations, statuses.

One place for each list: the documents, the pages, the API and the CLI read them from here.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Scope:
    """A family of online procedures (démarche) a mandate may cover; one row per scope in a mandate."""

    code: str  # stored value
    label: str  # the national list's label
    falc: str  # what it covers, said in easy-to-read French (one short sentence)
    pictogram: str  # file name in templates/mandates/pictograms/ (the same picture for the same idea everywhere)
    warning: str = ""  # said before the scope is chosen, and printed beside it


SCOPES: tuple[Scope, ...] = (
    Scope(
        "papiers",
        "Papiers - Citoyenneté - Élections",
        "Vos papiers : carte d'identité, passeport, élections.",
        "papiers.png",
    ),
    Scope("famille", "Famille - Scolarité", "Votre famille : enfants, école, allocations familiales.", "famille.png"),
    Scope("social", "Social - Santé", "Votre santé et vos aides : assurance maladie, RSA, handicap.", "social.png"),
    Scope("travail", "Travail - Formation", "Votre travail : France Travail, formation, retraite.", "travail.png"),
    Scope("logement", "Logement", "Votre logement : aide au logement, logement social.", "logement.png"),
    Scope(
        "transports", "Transports - Mobilité", "Vos déplacements : carte grise, permis, transports.", "transports.png"
    ),
    Scope(
        "argent",
        "Argent - Impôts - Consommation",
        "Votre argent : impôts, banque, factures.",
        "argent.png",
        warning="Un dossier de surendettement doit être signé par vous-même. L'aidant ne peut pas le signer.",
    ),
    Scope("justice", "Justice", "La justice : casier judiciaire, aide juridictionnelle.", "justice.png"),
    Scope("etranger", "Étranger - Europe", "Les démarches pour les étrangers : titre de séjour, visa.", "etranger.png"),
    Scope("loisirs", "Loisirs - Sport - Culture", "Vos loisirs : sport, culture, chasse et pêche.", "loisirs.png"),
)
SCOPE_BY_CODE = {scope.code: scope for scope in SCOPES}

DURATIONS: dict[int, str] = {  # days -> how the aidant and the resident read it
    1: "1 jour",
    31: "1 mois",
    182: "6 mois",
    365: "12 mois",
}

# The states of one mandate as a whole. The per-scope state is "active" or "revoked"; a mandate is
# "revoked" when all its scopes are, "expired" when its end date has passed.
MANDATE_STATUSES: dict[str, str] = {
    "draft": "Projet, sans valeur",  # created after the step-up, not yet signed
    "signed": "Signé, en cours de scellement",  # signatures in, the sealed PDF not yet made
    "active": "Valide",
    "expired": "Expiré",
    "revoked": "Arrêté",  # the documents' word (FALC): "arrêter", never "révoquer" nor "annuler"
    "cancelled": "Abandonné",  # a draft given up before signing (never valid)
}
SCOPE_STATUSES: dict[str, str] = {"active": "Valide", "revoked": "Arrêtée"}

LEGAL_PROTECTIONS = ("tutelle", "curatelle", "sauvegarde de justice")  # the recap asks: none of these applies
