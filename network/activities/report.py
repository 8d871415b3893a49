"""Activity records' section of the network's reporting pack (hub.reporting).

The definitions are those of network.activities.figures (the same SQL the structures' own figures pages use,
over the whole network); series attendance and drop-out are those of network.activities.workshops, for the
series that held a session in the period. The pack's percentages follow its one rule (hub.reporting.percent);
the tables carry counts. No name of anybody is read: there is none stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.reporting import Figure, Indicator, Period, Section, Table, percent
from network.activities import figures as activity_figures
from network.activities import workshops
from network.activities.tables import Activity

if TYPE_CHECKING:
    from hub.runtime import Runtime


def _indicator(key: str, label: str, definition: str, *, unit: str = "", is_count: bool = True) -> Indicator:
    return Indicator(f"activities.{key}", label, definition, unit=unit, is_count=is_count)


ACTIVITIES = _indicator(
    "activities", "Activités enregistrées", "Séances individuelles et séances d'atelier de la période."
)
ACCOMPANIMENTS = _indicator(
    "accompaniments",
    "Accompagnements",
    "Personnes aidées, comptées une fois par activité : une séance individuelle compte 1, un atelier ses "
    "participants (comme l'outil national de la médiation numérique).",
)
UNIQUE = _indicator(
    "unique_people",
    "Personnes différentes (au moins)",
    "Personnes inscrites à un atelier venues au moins une fois, plus les premières visites en séance individuelle. "
    "Un minimum : une personne anonyme venue deux fois ne peut pas être reconnue.",
)
NEW = _indicator("new_people", "Nouvelles personnes", "Participants notés comme venus pour la première fois.")
WORKSHOPS = _indicator("workshops", "Séances d'atelier", "Séances collectives de la période.")
PARTICIPANTS = _indicator("workshop_participants", "Participants aux ateliers", "Participants des séances d'atelier.")
VISITS = _indicator(
    "free_access_visits",
    "Passages en accès libre",
    "Passages comptés au compteur des espaces en accès libre (un clic par personne accueillie).",
)
REDIRECTED = _indicator(
    "redirected", "Activités suivies d'une réorientation", "Activités où la personne a été réorientée."
)
SATISFACTION = _indicator(
    "satisfaction_mean",
    "Satisfaction moyenne",
    "Moyenne des notes de 1 à 5 données à l'aidant ou sur la page d'avis (code QR), arrondie au dixième.",
    unit="sur 5",
    is_count=False,
)
OPINIONS = _indicator("satisfaction_count", "Avis recueillis", "Notes de satisfaction données pendant la période.")
ATTENDANCE = _indicator(
    "series_attendance",
    "Assiduité des ateliers suivis",
    "Présences ÷ (inscrits × séances), sur toute leur durée, des séries d'ateliers qui ont eu une séance pendant "
    "la période.",
    unit="%",
    is_count=False,
)
DROPOUT = _indicator(
    "series_dropout",
    "Abandon des ateliers suivis",
    "Inscrits qui ont cessé de venir (retirés, ou absents des dernières séances) ÷ inscrits, pour les mêmes séries.",
    unit="%",
    is_count=False,
)
PLACES = _indicator(
    "per_place",
    "Fréquentation par lieu",
    "Activités et passages en accès libre par lieu : pour voir les permanences chargées et celles qui restent vides.",
)

BREAKDOWNS: tuple[tuple[str, str, str, str], ...] = (  # (figures' breakdown, sheet key, French title, rows' name)
    ("thematique", "activites_thematiques", "Activités par thématique", "Thématique"),
    ("duration", "activites_durees", "Activités par durée", "Durée"),
    ("place", "activites_lieux_types", "Activités par type de lieu", "Type de lieu"),
    ("month", "activites_mois", "Activités par mois", "Mois"),
    ("age", "personnes_ages", "Personnes aidées par tranche d'âge", "Tranche d'âge"),
    ("gender", "personnes_genres", "Personnes aidées par genre", "Genre"),
    ("status", "personnes_statuts", "Personnes aidées par situation", "Situation"),
    ("commune", "personnes_communes", "Personnes aidées par commune", "Commune"),
    ("channel", "personnes_connu", "Comment les personnes ont connu le lieu", "Connu par"),
    ("satisfaction", "satisfaction", "Notes de satisfaction", "Note"),
)
MONTH_NOTE = (
    "Activités par mois : chaque mois est comparé au mois de même rang de la période précédente, "
    "nommé entre parenthèses."
)


async def _series_totals(period: Period) -> tuple[int, int, int, int]:
    """(registered, present, expected presences, dropped) over the series that met in the period."""
    totals = await workshops.series_totals(period.start, period.end)
    return totals["registered"], totals["present"], totals["expected"], totals["dropped"]


async def _per_place_rows(period: Period) -> tuple[tuple[Any, ...], ...]:
    """(structure – place, activities, free-access visits): the crowded permanences and the empty ones."""
    query = (
        "SELECT s.name AS structure, x.place AS place, SUM(x.acts) AS acts, SUM(x.visits) AS visits FROM ("
        " SELECT structure, CASE WHEN place_label = '' THEN 'Dans la structure' ELSE place_label END AS place,"
        " COUNT(*) AS acts, 0 AS visits FROM activities_activity WHERE day >= {} AND day <= {}"
        " GROUP BY structure, CASE WHEN place_label = '' THEN 'Dans la structure' ELSE place_label END"
        " UNION ALL"
        " SELECT structure, CASE WHEN place_label = '' THEN 'Accueil' ELSE place_label END AS place,"
        " 0 AS acts, SUM(visits) AS visits FROM activities_tally WHERE day >= {} AND day <= {}"
        " GROUP BY structure, CASE WHEN place_label = '' THEN 'Accueil' ELSE place_label END"
        ") x JOIN network_structure s ON s.id = x.structure GROUP BY s.name, x.place"
    )
    rows = list(await Activity.raw(query, period.start, period.end, period.start, period.end))
    rows.sort(key=lambda r: (-(int(r["acts"] or 0) + int(r["visits"] or 0)), r["structure"], r["place"]))
    return tuple((_place_name(r["structure"], r["place"]), int(r["acts"] or 0), int(r["visits"] or 0)) for r in rows)


def _place_name(structure: str, place: str) -> str:
    """ "Structure – place", or the structure's name alone when the place is named after it."""
    if " ".join(place.split()).casefold() == " ".join(structure.split()).casefold():
        return structure
    return f"{structure} – {place}"


async def report(rt: Runtime, period: Period) -> Section:
    before = period.previous()
    now = await activity_figures.structure_figures(rt, None, period.start, period.end)
    then = await activity_figures.structure_figures(rt, None, before.start, before.end)
    registered, present, expected, dropped = await _series_totals(period)
    registered_b, present_b, expected_b, dropped_b = await _series_totals(before)

    def pair(indicator: Indicator, name: str) -> Figure:
        return Figure(indicator, getattr(now, name), getattr(then, name))

    figures = (
        pair(ACTIVITIES, "activities"),
        pair(ACCOMPANIMENTS, "accompaniments"),
        pair(UNIQUE, "unique_people"),
        pair(NEW, "new_people"),
        pair(WORKSHOPS, "workshops"),
        pair(PARTICIPANTS, "workshop_participants"),
        pair(VISITS, "free_access_visits"),
        pair(REDIRECTED, "redirected"),
        pair(SATISFACTION, "satisfaction_mean"),
        pair(OPINIONS, "satisfaction_count"),
        Figure(ATTENDANCE, percent(present, expected), percent(present_b, expected_b)),
        Figure(DROPOUT, percent(dropped, registered), percent(dropped_b, registered_b)),
    )
    tables = [
        Table(
            key,
            title,
            (rows_name, "Nombre", "Période précédente"),
            _compare_months(now.shares(name), then.shares(name), period, before)
            if name == "month"
            else _compare(now.shares(name), then.shares(name), keep_order=name in ("satisfaction", "age", "duration")),
            indicator=ACCOMPANIMENTS if name in ("age", "gender", "status", "commune", "channel") else ACTIVITIES,
            chart="columns" if name == "month" else "bar",
        )
        for name, key, title, rows_name in BREAKDOWNS
    ]
    tables.append(
        Table(
            "frequentation_lieux",
            "Fréquentation par lieu et permanence",
            ("Lieu", "Activités", "Passages en accès libre"),
            await _per_place_rows(period),
            indicator=PLACES,
        )
    )
    notes = (
        "Les personnes sont anonymes : « personnes différentes » est un minimum.",
        "Une activité compte dans chacune de ses thématiques : les parts peuvent dépasser 100 %.",
        MONTH_NOTE,
    )
    return Section("activities", "Activités des partenaires", figures, tuple(tables), notes, order=40)


def _compare(current: list[Any], previous: list[Any], *, keep_order: bool) -> tuple[tuple[Any, ...], ...]:
    """(label, count now, count before) rows; the largest first unless the breakdown has its own order."""
    before = {share.code: share.count for share in previous}
    rows = [(share.label, share.count, before.get(share.code, 0)) for share in current]
    if not keep_order:
        rows.sort(key=lambda row: (-row[1], row[0]))
    return tuple(rows)


def _month_index(code: str) -> int:
    year, month = code.split("-")
    return int(year) * 12 + int(month) - 1


def _month_code(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _compare_months(
    current: list[Any], previous: list[Any], period: Period, before: Period
) -> tuple[tuple[Any, ...], ...]:
    """(month, count now, count in the previous period's month of the same rank): month codes never match across
    two periods, so each month is paired with the one as many months after the previous period's start as it is
    after this period's (a semester's January with the previous semester's July), named in its label."""
    shift = (period.start.year * 12 + period.start.month) - (before.start.year * 12 + before.start.month)
    counts = {share.code: share.count for share in previous}
    rows = []
    for share in current:
        then = _month_code(_month_index(share.code) - shift)
        rows.append((f"{share.label} ({activity_figures.month_label(then)})", share.count, counts.get(then, 0)))
    return tuple(rows)
