"""The demo town's directory: Montclair-sur-Loire (60,000 people), its 35 partner structures and their services.

Idempotent (structures by name, services by structure and name). Everything here is invented: names,
addresses, phone numbers (in the 01 99 00 range reserved for fiction, but the CAF's national 32 30), booking
links (under demo.maillage.fr). The core's demo accounts join these structures by name.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hub.db import write_transaction
from hub.demo import journal_later, office_hour
from hub.journal import Act
from hub.modules import DemoContext
from hub.runtime import Runtime
from network import duplicates
from network.exchange import records
from network.exchange.files import InputFile
from network.exchange.report import ImportReport, RowOutcome
from network.search import index as search_index
from network.tables import Place, Service, Structure, Synonym

TOWN = "Montclair-sur-Loire"
POSTAL_CODE = "45990"
INSEE = "45999"
CENTRE = (47.9012, 2.1245)

NETWORK_SYNONYMS = "Pass numérique, chèque APTIC, coupon numérique"  # a local word for the digital help vouchers

STRUCTURE_HOURS = {
    "BIB": "Tu-Sa 10:00-18:00; PH off",
    "RFS": "Mo-Fr 09:00-12:30,13:30-17:30; Sa 09:00-12:00; PH off",
    "LA_POSTE": "Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:00-12:00; PH off",
    "MJC": "Tu-Fr 14:00-19:00; Sa 10:00-17:00; PH off",
}

# (kind, name, neighbourhood, street, offset north/east in hundredths of a degree)
STRUCTURES: list[tuple[str, str, str, str, tuple[float, float]]] = [
    ("CAF", "CAF du Loiret – accueil de Montclair", "Centre", "12 rue de la République", (0.2, 0.1)),
    ("CCAS", "CCAS de Montclair-sur-Loire", "Centre", "1 place de l'Hôtel de Ville", (0.0, 0.0)),
    ("RFS", "France Services de Montclair", "Les Tilleuls", "8 avenue des Tilleuls", (-0.8, 1.1)),
    ("RFS", "France Services itinérant du Val de Loire", "Centre", "Parking de la gare", (0.4, -0.6)),
    ("BIB", "Médiathèque Louise-Michel", "Centre", "3 rue des Écoles", (0.3, 0.4)),
    ("BIB", "Médiathèque de quartier des Aubiers", "Les Aubiers", "22 allée des Aubiers", (1.2, -0.9)),
    ("CS", "Centre social de la Roseraie", "La Roseraie", "5 rue des Églantines", (-1.1, -0.7)),
    ("CS", "Centre social Bel-Air", "Bel-Air", "40 boulevard Bel-Air", (0.9, 1.4)),
    ("CSC", "Centre socioculturel Saint-Jean", "Saint-Jean", "17 rue Saint-Jean", (-0.4, 1.8)),
    ("EVS", "Espace de vie sociale Le Trait d'Union", "Les Aubiers", "2 place du Marché", (1.4, -1.2)),
    ("MQ", "Maison de quartier des Tilleuls", "Les Tilleuls", "11 rue des Peupliers", (-0.9, 0.8)),
    ("MQ", "Maison de quartier de la Gare", "Gare", "6 rue Denis-Papin", (0.5, -0.5)),
    ("MUNI", "Mairie annexe de Bel-Air", "Bel-Air", "1 rue du Stade", (1.0, 1.2)),
    ("MUNI", "Mairie de Montclair-sur-Loire", "Centre", "Place de l'Hôtel de Ville", (0.05, 0.02)),
    ("EPCI", "Communauté de communes Loire et Forêts", "Centre", "30 quai de Loire", (-0.2, 0.3)),
    ("EPN", "Espace public numérique de la Roseraie", "La Roseraie", "5 bis rue des Églantines", (-1.05, -0.75)),
    ("EPN", "Cyber-base de Saint-Jean", "Saint-Jean", "19 rue Saint-Jean", (-0.45, 1.85)),
    ("ASSO", "Emmaüs Connect – point de Montclair", "Gare", "14 rue Denis-Papin", (0.55, -0.45)),
    ("ASSO", "Secours populaire – comité de Montclair", "Les Tilleuls", "3 impasse des Acacias", (-0.7, 0.9)),
    ("ASSO", "Restos du cœur – centre de Montclair", "Bel-Air", "52 boulevard Bel-Air", (0.95, 1.5)),
    ("ASSO", "Association Lire et Écrire 45", "Centre", "9 rue Pasteur", (0.25, 0.2)),
    ("ASSO", "Ordinateurs solidaires du Val", "Les Aubiers", "Zone artisanale des Aubiers", (1.6, -1.4)),
    ("ASSO", "Cimade – permanence de Montclair", "Centre", "7 rue Voltaire", (0.15, 0.35)),
    ("MJC", "MJC Jacques-Prévert", "Saint-Jean", "25 avenue Jean-Jaurès", (-0.3, 1.5)),
    ("PIMMS", "PIMMS Médiation Montclair", "Gare", "Hall de la gare", (0.45, -0.65)),
    ("MDS", "Maison départementale des solidarités – secteur Nord", "Les Aubiers", "10 rue de la Forêt", (1.3, -0.8)),
    ("LA_POSTE", "La Poste – bureau de Bel-Air", "Bel-Air", "36 boulevard Bel-Air", (0.85, 1.3)),
    ("TIERS_LIEUX", "Tiers-lieu La Fabrique", "Gare", "Ancienne halle SNCF", (0.6, -0.7)),
    ("UDAF", "UDAF du Loiret – antenne de Montclair", "Centre", "18 rue de la République", (0.22, 0.12)),
    ("CIAS", "CIAS Loire et Forêts", "Centre", "30 quai de Loire", (-0.21, 0.31)),
    ("ASSO", "Mission locale du Val de Loire", "Centre", "4 rue Gambetta", (0.1, 0.5)),
    ("ASSO", "Habitat et Humanisme – agence de Montclair", "La Roseraie", "1 rue des Lilas", (-1.2, -0.5)),
    ("AUTRE", "Conseillers numériques de la Ville", "Centre", "1 place de l'Hôtel de Ville", (0.02, 0.01)),
    ("ASSO", "Point Info Famille – Montclair", "Les Tilleuls", "15 avenue des Tilleuls", (-0.85, 1.0)),
    ("ASSO", "Croix-Rouge – unité locale de Montclair", "Saint-Jean", "8 rue de la Croix", (-0.5, 1.6)),
]


PRESENTATIONS = {  # what a structure says of itself on its page (the others: a sentence of their kind)
    "CCAS de Montclair-sur-Loire": (
        "Le centre communal d'action sociale accueille les habitants de Montclair-sur-Loire pour l'aide sociale "
        "légale et facultative : aides d'urgence, domiciliation, dossiers d'APA et d'aide au logement. Son équipe "
        "accompagne aussi les démarches en ligne et oriente vers les partenaires du réseau."
    ),
    "CAF du Loiret – accueil de Montclair": (
        "L'accueil de la CAF reçoit les allocataires sur rendez-vous et propose un point numérique en libre accès."
    ),
    "France Services de Montclair": (
        "Un guichet unique où des agents formés vous aident pour vos démarches auprès de neuf partenaires nationaux."
    ),
    "Centre social de la Roseraie": (
        "Le centre social du quartier de la Roseraie : accueil des familles, café numérique, aide aux devoirs et "
        "sorties. Son accueil reçoit les orientations des partenaires."
    ),
    "Médiathèque Louise-Michel": (
        "La médiathèque centrale : prêt de livres et de jeux, postes internet en accès libre, ateliers numériques."
    ),
}
KIND_PRESENTATIONS = {
    "ASSO": "Une association du quartier {quarter} engagée pour l'inclusion et l'accès aux droits.",
    "BIB": "Une médiathèque du quartier {quarter} avec des postes internet et des ateliers numériques.",
    "CS": "Un centre social du quartier {quarter} : accueil, familles, animations et accès aux droits.",
    "EPN": "Un espace public numérique du quartier {quarter} : postes en accès libre et médiateurs.",
    "MQ": "La maison de quartier {quarter} : permanences, associations et activités pour tous.",
    "MUNI": "Un accueil municipal du quartier {quarter} pour les démarches de la vie courante.",
}


DEMARCHES = "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"
DROITS = "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"
EN_LIGNE = "numerique--acceder-a-des-services-en-ligne"
CONNEXION = "numerique--acceder-a-une-connexion-internet"
EQUIPEMENT = "numerique--acquerir-un-equipement"
FONDAMENTAUX = "numerique--maitriser-les-fondamentaux-du-numerique"


@dataclasses.dataclass(frozen=True)
class DemoService:
    structure: str
    name: str
    description: str
    thematiques: tuple[str, ...]
    types: tuple[str, ...]
    publics: tuple[str, ...] = ("tous-publics",)
    fees: tuple[str, ...] = ("gratuit",)
    hours: str = ""
    accepts_referrals: bool = True
    accommodations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("fr",)
    capacity: int | None = None
    phone: str = ""  # the team's line, in the range reserved for fiction (or a real national number)
    booking_url: str = ""
    places: tuple[tuple[str, str, str, tuple[float, float], str], ...] = ()  # name, street, quarter, offset, hours
    justificatifs: tuple[str, ...] = ()  # what to bring


SERVICES = [
    DemoService(
        "CAF du Loiret – accueil de Montclair",
        "Point numérique CAF",
        "Un agent vous aide à utiliser caf.fr et l'appli CAF : déclaration trimestrielle, attestations, changement de situation.",
        (EN_LIGNE, DEMARCHES),
        ("accompagnement",),
        ("familles", "beneficiaires-des-minimas-sociaux"),
        hours="Mo,We,Fr 08:30-12:00; PH off",
        capacity=40,
        phone="32 30",  # the CAF's national number
    ),
    DemoService(
        "CAF du Loiret – accueil de Montclair",
        "Rendez-vous droits et prestations",
        "Un conseiller fait le point sur vos droits aux prestations familiales et sociales.",
        (DROITS,),
        ("accompagnement",),
        ("familles",),
        hours="Tu,Th 13:30-16:30; PH off",
        capacity=25,
        phone="32 30",
        booking_url="https://rdv.demo.maillage.fr/caf-du-loiret/montclair/droits-et-prestations",
        justificatifs=("Numéro d'allocataire CAF", "Pièce d'identité", "Dernier avis d'imposition"),
    ),
    DemoService(
        "CCAS de Montclair-sur-Loire",
        "Aide aux démarches administratives",
        "Un travailleur social vous accompagne pour vos démarches : logement, énergie, santé, impôts.",
        (DEMARCHES, DROITS),
        ("accompagnement",),
        ("tous-publics", "seniors"),
        hours="Mo-Fr 09:00-12:00,13:30-17:00; PH off",
        capacity=60,
        languages=("fr", "ar"),
        justificatifs=("Pièce d'identité", "Courriers reçus en lien avec la démarche"),
    ),
    DemoService(
        "France Services de Montclair",
        "Accompagnement France Services",
        "Des agents formés vous aident pour vos démarches avec la CAF, l'Assurance maladie, France Travail, les impôts et l'ANTS.",
        (DEMARCHES, EN_LIGNE),
        ("accompagnement",),
        hours="Mo-Fr 09:00-12:30,13:30-17:30; Sa 09:00-12:00; PH off",
        capacity=120,
        accommodations=("mobilite-reduite", "surdite"),
        booking_url="https://rdv.demo.maillage.fr/france-services/montclair",
    ),
    DemoService(
        "France Services itinérant du Val de Loire",
        "Bus France Services",
        "Le bus France Services vient près de chez vous pour vos démarches en ligne.",
        (DEMARCHES, EN_LIGNE),
        ("accompagnement",),
        capacity=30,
        phone="01 99 00 10 01",
        places=(
            ("Place du marché des Aubiers", "Place du Marché", "Les Aubiers", (1.35, -1.15), "Tu 09:00-12:00"),
            ("Parking de la mairie annexe", "1 rue du Stade", "Bel-Air", (1.0, 1.25), "Th 14:00-17:00"),
        ),
    ),
    DemoService(
        "Médiathèque Louise-Michel",
        "Ateliers « Premiers pas sur l'ordinateur »",
        "En petit groupe, apprenez à utiliser la souris, le clavier, internet et votre messagerie.",
        (FONDAMENTAUX,),
        ("atelier",),
        ("tous-publics", "seniors"),
        hours="We 10:00-12:00; Sa 10:00-12:00; PH off",
        capacity=8,
    ),
    DemoService(
        "Médiathèque Louise-Michel",
        "Accès libre à internet",
        "Des ordinateurs et une imprimante en libre accès, avec un médiateur pour vous aider.",
        (CONNEXION,),
        ("aide-materielle",),
        hours="Tu-Sa 10:00-18:00; PH off",
        accepts_referrals=False,
    ),
    DemoService(
        "Médiathèque de quartier des Aubiers",
        "Permanence numérique des Aubiers",
        "Un conseiller numérique répond à vos questions sur votre téléphone ou votre ordinateur.",
        (EN_LIGNE, FONDAMENTAUX),
        ("accompagnement",),
        ("residents-qpv-frr",),
        hours="Th 14:00-17:00; PH off",
        capacity=12,
        phone="01 99 00 10 02",
    ),
    DemoService(
        "Centre social de la Roseraie",
        "Café numérique",
        "Venez avec vos questions sur le numérique, autour d'un café, sans rendez-vous.",
        (FONDAMENTAUX,),
        ("atelier",),
        ("familles", "seniors"),
        hours="Mo 14:00-16:00; PH off",
        capacity=15,
    ),
    DemoService(
        "Centre social Bel-Air",
        "Écrivain public",
        "Aide pour écrire un courrier, remplir un formulaire ou comprendre un document administratif.",
        (DEMARCHES,),
        ("accompagnement",),
        hours="Tu 09:00-12:00; PH off",
        languages=("fr", "tr"),
    ),
    DemoService(
        "Centre socioculturel Saint-Jean",
        "Atelier smartphone",
        "Apprenez à utiliser votre smartphone : appels vidéo, photos, applications utiles.",
        (FONDAMENTAUX,),
        ("atelier",),
        ("seniors",),
        hours="Fr 14:00-16:00; PH off",
        capacity=10,
    ),
    DemoService(
        "Espace public numérique de la Roseraie",
        "Aide aux démarches en ligne",
        "Un médiateur numérique vous accompagne pour créer vos comptes en ligne et faire vos démarches.",
        (EN_LIGNE, DEMARCHES),
        ("accompagnement",),
        hours="Mo-Fr 14:00-18:00; PH off",
        capacity=35,
    ),
    DemoService(
        "Cyber-base de Saint-Jean",
        "Initiation à internet",
        "Un parcours de 4 séances pour découvrir internet en sécurité.",
        (FONDAMENTAUX,),
        ("formation",),
        hours="We 14:00-16:00; PH off",
        capacity=8,
    ),
    DemoService(
        "Emmaüs Connect – point de Montclair",
        "Équipement et connexion solidaires",
        "Téléphones, ordinateurs et recharges internet à prix solidaire, sur orientation d'un travailleur social.",
        (EQUIPEMENT, CONNEXION),
        ("aide-materielle",),
        ("beneficiaires-des-minimas-sociaux",),
        ("payant",),
        hours="We,Fr 10:00-13:00; PH off",
        capacity=20,
    ),
    DemoService(
        "Ordinateurs solidaires du Val",
        "Ordinateurs solidaires",
        "Des ordinateurs reconditionnés à petit prix pour les familles et les personnes aux minima sociaux.",
        (EQUIPEMENT,),
        ("aide-materielle",),
        ("familles", "beneficiaires-des-minimas-sociaux"),
        ("payant",),
        hours="Sa 09:00-12:00; PH off",
        capacity=10,
    ),
    DemoService(
        "PIMMS Médiation Montclair",
        "Médiation énergie et démarches",
        "Aide pour vos factures d'énergie, d'eau, vos démarches en ligne et vos droits.",
        (DEMARCHES, DROITS),
        ("accompagnement",),
        hours="Mo-Fr 09:00-12:00,14:00-17:00; PH off",
        capacity=50,
    ),
    DemoService(
        "Mission locale du Val de Loire",
        "Démarches numériques des 16-25 ans",
        "Un conseiller aide les jeunes à créer leurs comptes en ligne et à faire leurs démarches.",
        (EN_LIGNE, DEMARCHES),
        ("accompagnement",),
        ("jeunes",),
        hours="Mo-Fr 09:00-12:30,13:30-17:00; PH off",
        capacity=30,
    ),
    DemoService(
        "Cimade – permanence de Montclair",
        "Accès aux droits des personnes étrangères",
        "Information et accompagnement pour vos démarches de titre de séjour.",
        (DROITS, DEMARCHES),
        ("accompagnement",),
        ("personnes-exilees",),
        hours="Th 14:00-18:00; PH off",
        languages=("fr", "en", "ar"),
        capacity=15,
        phone="01 99 00 10 03",
    ),
    DemoService(
        "Conseillers numériques de la Ville",
        "Permanences des conseillers numériques",
        "Les conseillers numériques de la Ville vous reçoivent dans plusieurs quartiers.",
        (EN_LIGNE, FONDAMENTAUX),
        ("accompagnement",),
        capacity=45,
        phone="01 99 00 10 04",
        places=(
            ("Maison de quartier des Tilleuls", "11 rue des Peupliers", "Les Tilleuls", (-0.9, 0.8), "Mo 14:00-17:00"),
            ("Maison de quartier de la Gare", "6 rue Denis-Papin", "Gare", (0.5, -0.5), "We 09:00-12:00"),
            ("Centre social Bel-Air", "40 boulevard Bel-Air", "Bel-Air", (0.9, 1.4), "Fr 09:00-12:00"),
        ),
    ),
    DemoService(
        "La Poste – bureau de Bel-Air",
        "Accompagnement numérique La Poste",
        "Un chargé de clientèle vous aide pour vos démarches en ligne simples.",
        (EN_LIGNE,),
        ("accompagnement",),
        hours="Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:00-12:00; PH off",
        accepts_referrals=False,
    ),
    DemoService(
        "Centre socioculturel Saint-Jean",
        "Permanence d'accès aux droits",
        "Une conseillère vous aide à comprendre vos courriers et à faire valoir vos droits (CAF, Ameli, logement).",
        (DROITS,),
        ("accompagnement",),
        hours="Mo 09:00-12:00; PH off",
        capacity=15,
        justificatifs=("Pièce d'identité", "Courriers reçus en lien avec la démarche"),
    ),
    DemoService(
        "CCAS de Montclair-sur-Loire",
        "Point numérique en mairie",
        "Un ordinateur et un agent pour créer votre compte Ameli, CAF ou impots.gouv et imprimer vos attestations.",
        (EN_LIGNE, FONDAMENTAUX),
        ("accompagnement",),
        ("seniors", "tous-publics"),
        hours="Tu,Th 09:00-12:00; PH off",
        capacity=16,
    ),
    DemoService(
        "Centre social Bel-Air",
        "Numérique en famille",
        "Des ateliers parents-enfants pour utiliser l'ENT, Pronote et les sites de la CAF en famille.",
        (FONDAMENTAUX, EN_LIGNE),
        ("atelier",),
        ("familles",),
        hours="We 14:00-16:00; PH off",
        capacity=12,
    ),
    DemoService(
        "MJC Jacques-Prévert",
        "Point information jeunesse numérique",
        "Aide aux jeunes pour Parcoursup, les candidatures en ligne et la sécurité sur les réseaux sociaux.",
        (EN_LIGNE, FONDAMENTAUX),
        ("accompagnement",),
        ("jeunes",),
        hours="Tu-Fr 14:00-18:00; PH off",
        capacity=20,
    ),
    DemoService(
        "Secours populaire – comité de Montclair",
        "Permanence accès aux droits",
        "Des bénévoles vous aident à constituer vos dossiers et à faire vos démarches en ligne.",
        (DROITS, DEMARCHES),
        ("accompagnement",),
        ("beneficiaires-des-minimas-sociaux",),
        hours="Mo 14:00-17:00; PH off",
        capacity=15,
    ),
    DemoService(
        "Restos du cœur – centre de Montclair",
        "Coup de main numérique",
        "Pendant la distribution, un bénévole vous aide pour vos mails et vos démarches en ligne.",
        (EN_LIGNE,),
        ("accompagnement",),
        hours="Th 09:00-12:00; PH off",
        capacity=10,
        accepts_referrals=False,
    ),
    DemoService(
        "Association Lire et Écrire 45",
        "Français et numérique",
        "Des cours pour lire, écrire et utiliser un ordinateur, pour les adultes qui veulent reprendre confiance.",
        (FONDAMENTAUX,),
        ("formation",),
        ("tous-publics", "personnes-exilees"),
        hours="Mo,Th 09:30-11:30; PH off",
        capacity=12,
        languages=("fr",),
    ),
    DemoService(
        "Mairie annexe de Bel-Air",
        "Accueil des démarches de la vie courante",
        "Cartes d'identité, inscriptions scolaires, attestations : l'accueil vous aide à faire la démarche en ligne.",
        (DEMARCHES, EN_LIGNE),
        ("accompagnement",),
        hours="Mo-Fr 09:00-12:00,14:00-17:00; PH off",
        capacity=40,
    ),
    DemoService(
        "UDAF du Loiret – antenne de Montclair",
        "Point conseil budget",
        "Un conseiller vous aide à faire le point sur votre budget, vos dettes et vos démarches bancaires en ligne.",
        (DROITS,),
        ("accompagnement",),
        ("familles", "tous-publics"),
        hours="Tu,Th 14:00-17:00; PH off",
        capacity=12,
        booking_url="https://rdv.demo.maillage.fr/udaf-45/point-conseil-budget",
    ),
    DemoService(
        "Habitat et Humanisme – agence de Montclair",
        "Demande de logement social en ligne",
        "Aide pour déposer et renouveler votre demande de logement social sur le portail national.",
        (DEMARCHES,),
        ("accompagnement",),
        hours="We 09:00-12:00; PH off",
        capacity=8,
    ),
    DemoService(
        "Point Info Famille – Montclair",
        "Parentalité et écrans",
        "Des rencontres pour parler des écrans à la maison et découvrir le contrôle parental.",
        (FONDAMENTAUX,),
        ("atelier",),
        ("familles",),
        hours="Sa 10:00-12:00; PH off",
        capacity=15,
    ),
    DemoService(
        "Croix-Rouge – unité locale de Montclair",
        "Permanence numérique solidaire",
        "Des bénévoles vous accompagnent pour vos démarches en ligne et vous prêtent un téléphone si besoin.",
        (EN_LIGNE, EQUIPEMENT),
        ("accompagnement", "aide-materielle"),
        hours="Fr 14:00-17:00; PH off",
        capacity=12,
    ),
    DemoService(
        "Tiers-lieu La Fabrique",
        "Repair café numérique",
        "Apportez votre ordinateur ou votre téléphone en panne : on le répare ensemble.",
        (EQUIPEMENT,),
        ("atelier",),
        hours="Sa 14:00-18:00; PH off",
        capacity=20,
        accepts_referrals=False,
    ),
    DemoService(
        "Maison départementale des solidarités – secteur Nord",
        "Accueil social départemental",
        "Un travailleur social fait le point avec vous sur vos droits (RSA, logement, protection de l'enfance).",
        (DROITS, DEMARCHES),
        ("accompagnement",),
        hours="Mo-Fr 09:00-12:00,13:30-17:00; PH off",
        capacity=50,
    ),
    DemoService(
        "Maison de quartier de la Gare",
        "Permanence numérique de la Gare",
        "Un médiateur vous aide sans rendez-vous avec votre téléphone, vos mots de passe et vos démarches.",
        (EN_LIGNE, FONDAMENTAUX),
        ("accompagnement",),
        ("residents-qpv-frr",),
        hours="Tu 14:00-17:00; PH off",
        capacity=10,
    ),
    DemoService(
        "Espace de vie sociale Le Trait d'Union",
        "Tablette pour les seniors",
        "Un cycle de six ateliers pour apprivoiser la tablette : photos, appels vidéo, actualités.",
        (FONDAMENTAUX,),
        ("atelier",),
        ("seniors",),
        hours="Th 10:00-12:00; PH off",
        capacity=8,
    ),
]


async def _seed_services(ids: dict[str, int]) -> int:
    created = 0
    existing = {(row["structure"], row["name"]) for row in await Service.select(Service.structure, Service.name)}
    for demo_service in SERVICES:
        structure_id = ids[demo_service.structure]
        if (structure_id, demo_service.name) in existing:
            continue
        service = Service(
            structure=structure_id,
            name=demo_service.name,
            description=demo_service.description,
            thematiques=list(demo_service.thematiques),
            types=list(demo_service.types),
            publics=list(demo_service.publics),
            fees=list(demo_service.fees),
            reception_modes=["en-presentiel"],
            accommodations=list(demo_service.accommodations),
            languages=list(demo_service.languages),
            weekly_capacity=demo_service.capacity,
            accepts_referrals=demo_service.accepts_referrals,
            referral_email=f"orientations{structure_id}@structures.demo.maillage.fr"
            if demo_service.accepts_referrals
            else "",
            phone=demo_service.phone,
            booking_url=demo_service.booking_url,
            # how to reach it follows from the contacts it has (data·inclusion pairs them the same way)
            mobilisation_modes=sorted(
                ["se-presenter"]
                + (["telephoner"] if demo_service.phone else [])
                + (["utiliser-lien-mobilisation"] if demo_service.booking_url else [])
                + (["envoyer-un-courriel"] if demo_service.accepts_referrals else [])
            ),
            mobilisable_by=["professionnels", "usagers"],
            opening_hours=demo_service.hours,
            justificatifs=list(demo_service.justificatifs),
            updated_on=date(2026, 10, 1),
            created_at=JOINED,
        )
        await service.save()
        created += 1
        for place_name, street, quarter, offset, hours in demo_service.places:
            await Place.insert(
                Place(
                    service=service.id,
                    name=place_name,
                    **_in_town(street, quarter, offset),
                    opening_hours=hours,
                    itinerant=len(demo_service.places) > 1,
                )
            )
    return created


def _in_town(street: str, quarter: str, offset: tuple[float, float]) -> dict[str, Any]:
    """An address of the demo town: its street, quarter and point (hundredths of a degree from the centre)."""
    north, east = offset
    return {
        "address": street,
        "postal_code": POSTAL_CODE,
        "commune": TOWN,
        "insee_code": INSEE,
        "neighbourhood": quarter,
        "latitude": round(CENTRE[0] + north / 100, 5),
        "longitude": round(CENTRE[1] + east / 100, 5),
    }


def _phone(index: int) -> str:
    return f"01 99 00 {index // 100:02d} {index % 100:02d}"


DEFAULT_MEDNUM = "mediation-numerique"
JOINED = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)  # the demo network's members joined before the packs it reports
JOINED_2026 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a few newcomers in 2026-S1


async def seed(rt: Runtime, context: DemoContext) -> None:
    """The structures (by name into context.structures), their services and places, then the search index."""
    created = 0
    async with write_transaction():
        existing = {row["name"]: row["id"] for row in await Structure.select(Structure.id, Structure.name)}
        for index, (kind, name, quarter, street, offset) in enumerate(STRUCTURES, start=1):
            if name in existing:
                context.structures[name] = existing[name]
                continue
            structure = Structure(
                name=name,
                kind=kind,
                **_in_town(street, quarter, offset),
                phone=_phone(index),
                email=f"contact{index}@structures.demo.maillage.fr",
                opening_hours=STRUCTURE_HOURS.get(kind, "Mo-Fr 09:00-12:00,14:00-17:00; PH off"),
                description=PRESENTATIONS.get(name)
                or KIND_PRESENTATIONS.get(kind, "Un partenaire du réseau, dans le quartier {quarter}.").format(
                    quarter=quarter
                ),
                confirmed_on=date(2026, 10, 1) if index % 7 else date(2025, 9, 15),  # some entries are due for a check
                created_at=JOINED if index % 9 else JOINED_2026,  # the reporting pack's members and newcomers
            )
            await structure.save()
            context.structures[name] = int(structure.id)
            created += 1
        services = await _seed_services(context.structures)
        if not await Synonym.exists():  # the network's own words, as a coordinator adds them on the desk
            await Synonym(words=NETWORK_SYNONYMS).save()
        desk = await _desk(rt, context) if created else ""
        if created or services:
            await search_index.rebuild_index()
    context.lines.append(
        f"Réseau de démonstration de {TOWN} : {created} structures et {services} services créés "
        f"({len(STRUCTURES)} structures au total){desk}."
    )


# The coordination desk's work in progress: a structure asking to join, an imported look-alike to merge, past imports
JOIN_REQUEST = ("ASSO", "Connexions solidaires Loire", "Gare", "21 rue Denis-Papin", (0.52, -0.48))
LOOK_ALIKE = ("BIB", "Mediatheque Louise Michel", "Centre", "3 rue des Ecoles", (0.3, 0.4))  # an import's copy
COORDINATOR = "coordination@demo.maillage.fr"
MANAGER = "referente.ccas@demo.maillage.fr"


def _outcomes(file: str, kind: str, statuses: list[tuple[str, str, list[str]]]) -> list[RowOutcome]:
    return [
        RowOutcome(file, f"ligne {n}", kind, ident, status, list(reasons))
        for n, (ident, status, reasons) in enumerate(statuses, start=2)
    ]


async def _desk(rt: Runtime, context: DemoContext) -> str:
    chance = random.Random(45)  # noqa: S311 (demo data)
    now = rt.now()
    coordinator, manager = context.users.get(COORDINATOR), context.users.get(MANAGER)
    asked = office_hour(now - timedelta(days=2), chance)
    kind, name, quarter, street, offset = JOIN_REQUEST
    pending = Structure(
        name=name,
        kind=kind,
        **_in_town(street, quarter, offset),
        email="bonjour@connexions-solidaires.demo.maillage.fr",
        contact_email="bonjour@connexions-solidaires.demo.maillage.fr",
        description="Des bénévoles qui prêtent des ordinateurs et accompagnent les premiers pas sur internet.",
        status="pending",
        source="maillage",
        created_at=asked,
        updated_at=asked,
    )
    await pending.save()
    journal_later(context, asked, Act("structure_join_requested", None, pending.id, "structure", pending.id))
    kind, name, quarter, street, offset = LOOK_ALIKE
    imported_at = office_hour(now - timedelta(days=9), chance)
    copy = Structure(
        name=name,
        kind=kind,
        **_in_town(street, quarter, offset),
        phone=_phone(5),
        description="Médiathèque municipale (fiche importée de la cartographie nationale).",
        source=DEFAULT_MEDNUM,
        source_id="mednum-montclair-0042",
        created_at=imported_at,
        updated_at=imported_at,
    )
    await copy.save()
    flagged = await duplicates.flag_duplicates(rt, [int(copy.id)])
    # two past imports, as the desk keeps them: one that went through, one whose rows were all refused
    good = ImportReport(
        "mednum",
        False,
        _outcomes(
            "lieux-mediation-numerique-45.csv",
            "structure",
            [
                ("mednum-montclair-0042", "created", []),
                ("mednum-montclair-0017", "unchanged", []),
                ("mednum-montclair-0023", "unchanged", []),
                ("mednum-montclair-0031", "updated", []),
            ],
        ),
        duplicates_flagged=flagged,
    )
    bad = ImportReport(
        "datainclusion",
        False,
        _outcomes(
            "structures-partenaires.csv",
            "structure",
            [
                ("asso-42", "rejected", ["siret : 14 chiffres attendus (« 1234 »)"]),
                ("asso-43", "rejected", ["code_postal : code postal inconnu (« 4599 »)"]),
                ("asso-44", "rejected", ["nom : champ obligatoire manquant"]),
            ],
        ),
    )
    kept = 0
    for report, file, source, when in (
        (bad, "structures-partenaires.csv", "partenaires", office_hour(now - timedelta(days=41), chance)),
        (good, "lieux-mediation-numerique-45.csv", DEFAULT_MEDNUM, imported_at),
    ):
        if await records.keep(report, [InputFile(file, b"")], source, coordinator, when) is not None:
            kept += 1
        c = report.counts("structure")
        details: dict[str, str | int | bool | None] = {"format": report.format, "source": source}
        details |= {f"structures_{status}": c[status] for status in ("created", "updated", "unchanged", "rejected")}
        details["duplicates_flagged"] = report.duplicates_flagged
        journal_later(context, when, Act("directory_import", coordinator, None, "import", report.format, details))
    # the partners keep their pages alive: edits and confirmations over the months
    for n, (name, sid) in enumerate(sorted(context.structures.items())):
        for _ in range(1 + n % 3):
            at = office_hour(now - timedelta(days=chance.randint(5, 480)), chance)
            action = chance.choice(("structure_updated", "structure_confirmed"))
            actor = manager if name == "CCAS de Montclair-sur-Loire" else coordinator
            journal_later(context, at, Act(action, actor, sid, "structure", sid))
    for row in await Service.select(Service.id, Service.structure):
        if chance.random() < 0.5:
            at = office_hour(now - timedelta(days=chance.randint(5, 400)), chance)
            journal_later(context, at, Act("service_updated", coordinator, row["structure"], "service", row["id"]))
    return f", une demande d'adhésion en attente, {flagged} doublon(s) probable(s) à fusionner, {kept} imports passés"
