"""The synthetic département the directory benchmarks share: 320 communes, 20,000 structures, 100,000
services, their places, bulk-loaded with the driver's executemany / COPY (directory_search, directory_page).
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from typing import Any

ROOTS = [
    "Orléans",
    "Fleury",
    "Saran",
    "Olivet",
    "Ingré",
    "Chécy",
    "Semoy",
    "Ardon",
    "Mardié",
    "Bou",
    "Combreux",
    "Jargeau",
    "Meung",
    "Beaugency",
    "Cléry",
    "Gien",
    "Briare",
    "Montargis",
    "Amilly",
    "Pithiviers",
    "Malesherbes",
    "Sully",
    "Châteauneuf",
    "Lorris",
    "Bellegarde",
    "Ferrières",
    "Courtenay",
    "Puiseaux",
    "Neuville",
    "Artenay",
    "Patay",
    "Coulmiers",
    "Tavers",
    "Lailly",
    "Dry",
    "Mézières",
    "Saint-Denis",
    "Saint-Jean",
    "Saint-Cyr",
    "Saint-Pryvé",
    "Saint-Hilaire",
    "Sainte-Geneviève",
    "Villemandeur",
    "Châlette",
    "Nogent",
    "Outarville",
    "Épieds",
    "Huisseau",
    "Baule",
    "Messas",
]
SUFFIXES = ["", "", "", "-sur-Loire", "-en-Val", "-le-Vieux", "-la-Forêt", "-des-Bois", "-en-Sologne", "-aux-Loges"]
NEIGHBOURHOODS = [
    "Centre-ville",
    "La Source",
    "Les Blossières",
    "L'Argonne",
    "Les Salmoneries",
    "Dauphine",
    "Madeleine",
    "Saint-Marceau",
    "Les Champs-Élysées",
    "Le Bourg",
    "Les Aulnaies",
    "La Chise",
    "Les Tilleuls",
    "Bel-Air",
]
KINDS = [
    ("CS", 12),
    ("CCAS", 8),
    ("ASSO", 25),
    ("BIB", 8),
    ("MUNI", 8),
    ("RFS", 4),
    ("EPN", 5),
    ("CAF", 2),
    ("MQ", 4),
    ("PIMMS", 2),
    ("MDS", 3),
    ("LA_POSTE", 3),
    ("TIERS_LIEUX", 3),
    ("MJC", 3),
    ("AUTRE", 10),
]
STRUCTURE_NAMES = {
    "CS": ["Centre social {n}", "Centre social des {q}"],
    "CCAS": ["CCAS de {c}"],
    "BIB": ["Médiathèque {n}"],
    "MUNI": ["Mairie de {c}"],
    "RFS": ["France Services {c}"],
    "EPN": ["Espace public numérique {n}"],
    "CAF": ["CAF du Loiret — accueil {c}"],
    "MQ": ["Maison de quartier {q}"],
    "PIMMS": ["PIMMS Médiation {c}"],
    "MDS": ["Maison départementale des solidarités de {c}"],
    "LA_POSTE": ["La Poste {c} — point numérique"],
    "TIERS_LIEUX": ["Tiers-lieu {n}"],
    "MJC": ["MJC {n}"],
    "ASSO": ["Association {n}", "{n} solidarité", "Les amis de {n}"],
    "AUTRE": ["Collectif {n}", "Point d'accueil {n}"],
}
PEOPLE = [
    "Jean-Moulin",
    "Louise-Michel",
    "Victor-Hugo",
    "Simone-Veil",
    "George-Sand",
    "Jules-Verne",
    "Marie-Curie",
    "Jean-Zay",
    "Charles-Péguy",
    "Colette",
    "Les Lilas",
    "Le Trait d'union",
    "L'Escale",
    "Le Relais",
    "La Passerelle",
]
SERVICES = [  # name, description seeds, thématiques, types
    (
        "Aide aux démarches administratives",
        "demarches",
        [
            "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
            "numerique--acceder-a-des-services-en-ligne",
        ],
        ["accompagnement"],
    ),
    (
        "Démarches CAF en ligne",
        "caf",
        [
            "numerique--acceder-a-des-services-en-ligne",
            "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
        ],
        ["accompagnement"],
    ),
    (
        "Point numérique CAF",
        "caf",
        ["numerique--acceder-a-des-services-en-ligne", "numerique--acceder-a-une-connexion-internet"],
        ["accompagnement", "information"],
    ),
    ("Atelier numérique débutants", "atelier", ["numerique--maitriser-les-fondamentaux-du-numerique"], ["atelier"]),
    ("Initiation au smartphone", "atelier", ["numerique--maitriser-les-fondamentaux-du-numerique"], ["atelier"]),
    ("Ordinateurs solidaires", "materiel", ["numerique--acquerir-un-equipement"], ["aide-materielle"]),
    ("Accès libre à internet", "internet", ["numerique--acceder-a-une-connexion-internet"], ["aide-materielle"]),
    ("Café numérique", "atelier", ["numerique--maitriser-les-fondamentaux-du-numerique"], ["atelier"]),
    (
        "Écrivain public",
        "demarches",
        ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"],
        ["accompagnement"],
    ),
    (
        "Permanence d'accès aux droits",
        "droits",
        ["difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"],
        ["information", "accompagnement"],
    ),
    (
        "Permanence juridique",
        "droits",
        ["difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination"],
        ["information"],
    ),
    ("Aide au budget", "budget", ["difficultes-financieres--ameliorer-sa-gestion-budgetaire"], ["accompagnement"]),
    (
        "Atelier CV et lettre de motivation",
        "emploi",
        ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"],
        ["atelier"],
    ),
    (
        "Accompagnement vers l'emploi",
        "emploi",
        ["trouver-un-emploi--convaincre-un-recruteur-en-entretien"],
        ["accompagnement"],
    ),
    ("Cours de français", "langue", ["lecture-ecriture-calcul--maitriser-le-francais"], ["formation"]),
    (
        "Permanence logement",
        "logement",
        ["logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement"],
        ["accompagnement"],
    ),
    ("Déclaration de revenus en ligne", "impots", ["numerique--acceder-a-des-services-en-ligne"], ["accompagnement"]),
    ("Aide à la retraite en ligne", "retraite", ["numerique--acceder-a-des-services-en-ligne"], ["accompagnement"]),
    (
        "Mobilité : permis et transport solidaire",
        "mobilite",
        ["mobilite--etre-accompagne-dans-son-parcours-mobilite"],
        ["accompagnement"],
    ),
    ("Espace parents", "famille", ["famille--soutien-a-la-parentalite-et-a-leducation"], ["information"]),
]
SENTENCES = {
    "demarches": [
        "Un conseiller vous aide à faire vos démarches administratives en ligne : CAF, Assurance maladie, impôts, France Travail.",
        "Nous vous accompagnons pour créer vos comptes et remplir vos dossiers.",
        "Venez avec vos identifiants et vos papiers.",
    ],
    "caf": [
        "Accompagnement pour votre espace personnel CAF : déclaration trimestrielle, prime d'activité, aides au logement.",
        "Un agent de la caisse d'allocations familiales vous reçoit.",
        "Simulez vos droits et suivez votre dossier.",
    ],
    "atelier": [
        "Ateliers collectifs pour apprendre à utiliser un ordinateur, une tablette ou un smartphone.",
        "Messagerie, navigation sur internet, sécurité numérique : à votre rythme.",
        "Groupes de six personnes, niveau débutant ou intermédiaire.",
    ],
    "materiel": [
        "Ordinateurs reconditionnés à prix solidaire pour les personnes aux revenus modestes.",
        "Matériel garanti un an, prise en main offerte.",
    ],
    "internet": [
        "Postes informatiques en libre accès avec imprimante et scanner.",
        "Connexion wifi gratuite et aide ponctuelle d'un médiateur numérique.",
    ],
    "droits": [
        "Information sur vos droits sociaux et orientation vers le bon interlocuteur.",
        "Un juriste répond à vos questions, gratuitement et en toute confidentialité.",
    ],
    "budget": [
        "Conseils pour gérer votre budget, prévenir le surendettement et comprendre vos factures.",
        "Rendez-vous individuel avec une conseillère en économie sociale et familiale.",
    ],
    "emploi": [
        "Rédigez votre CV, préparez un entretien, consultez les offres d'emploi.",
        "Accompagnement personnalisé vers l'emploi et la formation.",
    ],
    "langue": [
        "Cours de français langue étrangère et alphabétisation pour adultes.",
        "Groupes de niveau, inscription toute l'année.",
    ],
    "logement": [
        "Aide pour votre demande de logement social et vos démarches auprès des bailleurs.",
        "Information sur les aides au logement.",
    ],
    "impots": ["Aide pour déclarer vos revenus sur impots.gouv.fr et comprendre votre avis d'imposition."],
    "retraite": ["Aide pour demander votre retraite en ligne et consulter votre relevé de carrière."],
    "mobilite": ["Conseils en mobilité, aide au permis de conduire et transport solidaire."],
    "famille": ["Un lieu d'écoute et d'échange pour les parents, avec des ateliers parents-enfants."],
}
PUBLICS = [
    "tous-publics",
    "seniors",
    "jeunes",
    "familles",
    "demandeurs-emploi",
    "personnes-exilees",
    "personnes-en-situation-de-handicap",
    "beneficiaires-des-minimas-sociaux",
]
ACCOMMODATIONS = ["surdite", "langue-des-signes", "malvoyance", "mobilite-reduite", "falc"]
LANGUAGES = ["fr", "en", "ar", "es", "pt", "tr", "ro", "uk"]


def _hours_pool() -> list[str]:
    days = ["Mo-Fr", "Mo-Sa", "Tu-Sa", "Mo,We,Fr", "Tu,Th", "Mo-Th", "We", "Sa", "Mo-Fr", "Mo-Fr"]
    slots = [
        "08:30-12:30",
        "09:00-12:00",
        "13:30-17:00",
        "14:00-18:00",
        "09:00-12:00,13:30-17:00",
        "08:30-12:00,13:30-17:30",
        "10:00-19:00",
        "09:00-17:00",
    ]
    pool = {f"{d} {s}; PH off" for d in days for s in slots}
    pool.update(f"{d} {s}; Sa 09:00-12:00; PH off" for d in days[:3] for s in slots[:4])
    pool.update(["24/7", 'Tu,Th 14:00-17:00 "sur rendez-vous"', "Mo-Fr 09:00-17:00; Aug off; PH off"])
    return sorted(pool)


STREETS = [
    "rue Victor-Hugo",
    "avenue Jean-Jaurès",
    "place du Marché",
    "rue de la République",
    "boulevard Alexandre-Martin",
    "rue des Écoles",
    "allée des Tilleuls",
    "rue Pasteur",
    "chemin des Prés",
    "rue du Stade",
    "quai de Loire",
    "rue Jeanne-d'Arc",
    "impasse des Acacias",
    "route de Paris",
]


def street(n: int) -> str:
    """A street address, derived from a row's number (no random draw: the data set stays the same)."""
    return f"{1 + n * 7 % 97} {STREETS[n * 5 % len(STREETS)]}"


def postal_code(commune: tuple[str, str, float, float]) -> str:
    """Loiret-like postal codes, shared by a few communes each (derived from the INSEE code)."""
    return f"45{int(commune[1][2:]) * 7 % 80 * 10:03d}"


@dataclasses.dataclass
class Dataset:
    structures: list[tuple[Any, ...]]
    services: list[tuple[Any, ...]]
    places: list[tuple[Any, ...]]
    communes: list[tuple[str, str, float, float]]  # name, insee, lat, lon


def generate(structure_count: int = 20_000, service_count: int = 100_000, seed: int = 20261122) -> Dataset:
    """A seeded synthetic département: communes, structures, services and places."""
    rng = random.Random(seed)
    communes: list[tuple[str, str, float, float]] = []
    seen: set[str] = set()
    while len(communes) < 320:
        name = rng.choice(ROOTS) + rng.choice(SUFFIXES)
        if name in seen:
            continue
        seen.add(name)
        communes.append(
            (name, f"45{len(communes) + 1:03d}", 47.9 + rng.uniform(-0.5, 0.5), 2.1 + rng.uniform(-0.9, 0.9))
        )
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(communes))]  # a few big towns, many villages
    hours = _hours_pool()
    kinds, kind_weights = zip(*KINDS, strict=True)
    structures, services, places = [], [], []
    for sid in range(1, structure_count + 1):
        commune = rng.choices(communes, weights)[0]
        kind = rng.choices(kinds, kind_weights)[0]
        quarter = rng.choice(NEIGHBOURHOODS) if rng.random() < 0.5 else ""
        name = rng.choice(STRUCTURE_NAMES[kind]).format(
            c=commune[0], n=rng.choice(PEOPLE), q=quarter or rng.choice(NEIGHBOURHOODS)
        )
        status = rng.choices(["active", "pending", "closed"], [90, 5, 5])[0]
        lat, lon = commune[2] + rng.gauss(0, 0.01), commune[3] + rng.gauss(0, 0.015)
        opening = rng.choice(hours) if rng.random() < 0.9 else ""
        structures.append(
            (
                sid,
                name,
                kind,
                status,
                commune[0],
                commune[1],
                quarter,
                lat,
                lon,
                opening,
                street(sid),
                postal_code(commune),
            )
        )
    per_structure = [1] * structure_count
    for _ in range(service_count - structure_count):
        per_structure[rng.randrange(structure_count)] += 1
    service_id = 0
    for structure, count in zip(structures, per_structure, strict=True):
        for _ in range(count):
            service_id += 1
            name, topic, thematiques, types = rng.choice(SERVICES)
            description = " ".join(rng.sample(SENTENCES[topic], k=min(len(SENTENCES[topic]), rng.randint(1, 3))))
            description += f" À {structure[4]}."
            own_hours = rng.choice(hours) if rng.random() < 0.4 else ""
            services.append(
                (
                    service_id,
                    structure[0],
                    name,
                    description,
                    json.dumps(types),
                    json.dumps(thematiques[: rng.randint(1, len(thematiques))]),
                    json.dumps(rng.sample(PUBLICS, k=rng.randint(1, 2))),
                    json.dumps(["gratuit"] if rng.random() < 0.85 else ["payant"]),
                    json.dumps(["en-presentiel"] if rng.random() < 0.7 else ["en-presentiel", "a-distance"]),
                    json.dumps(rng.sample(ACCOMMODATIONS, k=rng.choice([0, 0, 1, 2]))),
                    json.dumps(["fr", *rng.sample(LANGUAGES[1:], k=rng.choice([0, 0, 0, 1, 2]))]),
                    rng.random() < 0.5,
                    own_hours,
                    rng.random() < 0.95,
                )
            )
            if rng.random() < 0.25:
                for _ in range(rng.randint(1, 3)):
                    commune = rng.choices(communes, weights)[0]
                    places.append(
                        (
                            service_id,
                            f"Permanence {commune[0]}",
                            commune[0],
                            commune[1],
                            rng.choice(NEIGHBOURHOODS) if rng.random() < 0.3 else "",
                            commune[2] + rng.gauss(0, 0.01),
                            commune[3] + rng.gauss(0, 0.015),
                            rng.choice(hours),
                            street(len(places) + 7),
                            postal_code(commune),
                        )
                    )
    return Dataset(structures, services, places, communes)


STRUCTURE_COLUMNS = "id, name, kind, status, commune, insee_code, neighbourhood, latitude, longitude, opening_hours, address, postal_code"
SERVICE_COLUMNS = (
    "id, structure, name, description, types, thematiques, publics, fees, reception_modes, accommodations, "
    "languages, accepts_referrals, opening_hours, is_active"
)
PLACE_COLUMNS = (
    "service, name, commune, insee_code, neighbourhood, latitude, longitude, opening_hours, address, postal_code"
)


def load_sqlite(path: str, data: Dataset) -> None:
    with sqlite3.connect(path) as connection:
        for table, columns, rows in (
            ("network_structure", STRUCTURE_COLUMNS, data.structures),
            ("network_service", SERVICE_COLUMNS, data.services),
            ("network_place", PLACE_COLUMNS, data.places),
        ):
            marks = ",".join("?" * len(rows[0]))
            connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


async def load_postgres(url: str, data: Dataset) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for table, columns, rows in (
            ("network_structure", STRUCTURE_COLUMNS, data.structures),
            ("network_service", SERVICE_COLUMNS, data.services),
            ("network_place", PLACE_COLUMNS, data.places),
        ):
            await connection.copy_records_to_table(table, records=rows, columns=[c.strip() for c in columns.split(",")])
        for table in ("network_structure", "network_service"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
