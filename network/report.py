"""The directory's section of the network's reporting pack (hub.reporting): member structures, newcomers,
kinds, services per thématique, coverage by commune and neighbourhood with the "zones blanches" (the
thématiques no service offers within `WHITE_ZONE_KM`), and the directory's freshness.

Every figure is an SQL aggregate. The directory keeps no history of a structure's status: a member "at the end
of a period" is a structure active today that was created before the period's end (the section's notes say so).
The coverage compares the centre of each commune or neighbourhood (the mean of its structures' coordinates)
with the distinct places where each thématique is offered, a few thousand points at most.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from hub.reporting import Figure, Indicator, Period, Section, Table, by_label, percent
from hub.tables import STRUCTURE_KINDS
from network.tables import Structure
from network.vocabulary import CATEGORIES

if TYPE_CHECKING:
    from hub.runtime import Runtime

WHITE_ZONE_KM = 5.0  # a thématique offered nowhere within this distance of a zone's centre leaves it "blanche"
EARTH_KM = 6371.0

MEMBERS = Indicator(
    "directory.members",
    "Structures membres",
    "Structures actives de l'annuaire (hors fiches fusionnées) créées avant la fin de la période.",
    is_count=False,  # structures and services are public: no "< 5"
)
NEWCOMERS = Indicator(
    "directory.newcomers",
    "Nouvelles structures",
    "Structures actives de l'annuaire créées pendant la période.",
    is_count=False,  # structures and services are public: no "< 5"
)
SERVICES = Indicator(
    "directory.services",
    "Services actifs",
    "Services actifs des structures membres, créés avant la fin de la période.",
    is_count=False,  # structures and services are public: no "< 5"
)
KINDS = Indicator(
    "directory.kinds",
    "Structures par type",
    "Structures membres à la fin de la période, selon leur type (centre social, CCAS, médiathèque…).",
    is_count=False,  # structures and services are public: no "< 5"
)
THEMES = Indicator(
    "directory.themes",
    "Services par thématique",
    "Services actifs des structures membres qui proposent au moins une thématique de la famille "
    "(familles de thématiques data·inclusion) ; un service compte une fois par famille.",
    is_count=False,  # structures and services are public: no "< 5"
)
COVERAGE = Indicator(
    "directory.coverage",
    "Services proches par commune ou quartier",
    f"Pour chaque commune (ou quartier quand il est renseigné), nombre de lieux de services actifs à moins de "
    f"{WHITE_ZONE_KM:g} km de son centre (la moyenne des coordonnées de ses structures).",
    is_count=False,  # structures and services are public: no "< 5"
)
WHITE_ZONES = Indicator(
    "directory.white_zones",
    "Zones blanches",
    f"Couples (commune ou quartier, famille de thématiques) pour lesquels aucun service actif du réseau n'est "
    f"proposé à moins de {WHITE_ZONE_KM:g} km du centre de la zone ; seules les familles proposées quelque part "
    f"dans le réseau sont comptées.",
    is_count=False,  # structures and services are public: no "< 5"
)
FRESH_6 = Indicator(
    "directory.fresh_6",
    "Fiches confirmées depuis moins de 6 mois",
    "Structures membres dont la fiche a été confirmée par ses gestionnaires dans les 6 mois avant la fin de la "
    "période.",
    is_count=False,  # structures and services are public: no "< 5"
)
FRESH_12 = Indicator(
    "directory.fresh_12",
    "Fiches confirmées depuis moins de 12 mois",
    "Structures membres dont la fiche a été confirmée dans les 12 mois avant la fin de la période.",
    is_count=False,  # structures and services are public: no "< 5"
)
FRESH_6_RATE = Indicator(
    "directory.fresh_6_rate",
    "Part des fiches confirmées depuis moins de 6 mois",
    "Fiches confirmées depuis moins de 6 mois ÷ structures membres, en pourcentage (0 sans structure).",
    unit="%",
    is_count=False,
)

_MEMBER = "st.status = 'active' AND st.merged_into IS NULL AND st.created_at < {}"
_ACTIVE_SERVICE = "s.is_active = {} AND s.created_at < {}"


def _theme_family() -> str:
    """An SQL CASE naming a thématique code's family (the part before "--"), portable to SQLite and PostgreSQL."""
    whens = " ".join(f"WHEN t.code LIKE '{code}--%' THEN '{code}'" for code in sorted(CATEGORIES))
    return f"CASE {whens} ELSE t.code END"


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, min(day.day, 28))


async def _one(sql: str, *args: Any) -> int:
    rows = await Structure.raw(sql, *args)
    return int(next(iter(rows[0].values())) or 0) if rows else 0


async def _counts(period: Period) -> dict[str, int]:
    start, end = period.bounds()
    members = await _one(f"SELECT COUNT(*) AS n FROM network_structure st WHERE {_MEMBER}", end)
    newcomers = await _one(
        f"SELECT COUNT(*) AS n FROM network_structure st WHERE {_MEMBER} AND st.created_at >= {{}}", end, start
    )
    services = await _one(
        f"""SELECT COUNT(*) AS n FROM network_service s JOIN network_structure st ON st.id = s.structure
            WHERE {_ACTIVE_SERVICE} AND {_MEMBER}""",
        True,
        end,
        end,
    )
    fresh = {}
    for months in (6, 12):
        fresh[months] = await _one(
            f"""SELECT COUNT(*) AS n FROM network_structure st
                WHERE {_MEMBER} AND st.confirmed_on > {{}} AND st.confirmed_on <= {{}}""",
            end,
            _months_before(period.end, months),
            period.end,
        )
    return {
        "members": members,
        "newcomers": newcomers,
        "services": services,
        "fresh_6": fresh[6],
        "fresh_12": fresh[12],
    }


async def _kinds(period: Period) -> list[tuple[str, int]]:
    _, end = period.bounds()
    rows = await Structure.raw(
        f"SELECT st.kind AS code, COUNT(*) AS n FROM network_structure st WHERE {_MEMBER} GROUP BY st.kind", end
    )
    return [(row["code"], int(row["n"])) for row in rows]


async def _themes(period: Period) -> list[tuple[str, int]]:
    _, end = period.bounds()
    rows = await Structure.raw(
        f"""SELECT {_theme_family()} AS code, COUNT(DISTINCT s.id) AS n
            FROM network_service_tag t JOIN network_service s ON s.id = t.service
            JOIN network_structure st ON st.id = s.structure
            WHERE t.kind = 'thematique' AND {_ACTIVE_SERVICE} AND {_MEMBER}
            GROUP BY {_theme_family()}""",
        True,
        end,
        end,
    )
    return [(row["code"], int(row["n"])) for row in rows]


def _zone_label(commune: str, neighbourhood: str) -> str:
    if neighbourhood and commune:
        return f"{commune} – {neighbourhood}"
    return neighbourhood or commune


async def _coverage(period: Period) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]], list[tuple[Any, ...]]]:
    """(coverage rows, white-zone pairs, map rows) at the end of the period."""
    _, end = period.bounds()
    zones = await Structure.raw(
        f"""SELECT st.commune AS commune, st.neighbourhood AS neighbourhood,
                   AVG(st.latitude) AS lat, AVG(st.longitude) AS lon, COUNT(*) AS n
            FROM network_structure st
            WHERE {_MEMBER} AND st.latitude IS NOT NULL AND st.longitude IS NOT NULL AND st.commune <> ''
            GROUP BY st.commune, st.neighbourhood""",
        end,
    )
    points = await Structure.raw(
        f"""SELECT DISTINCT {_theme_family()} AS code,
                   COALESCE(p.latitude, st.latitude) AS lat, COALESCE(p.longitude, st.longitude) AS lon
            FROM network_service_tag t JOIN network_service s ON s.id = t.service
            JOIN network_structure st ON st.id = s.structure
            LEFT JOIN network_place p ON p.service = s.id
            WHERE t.kind = 'thematique' AND {_ACTIVE_SERVICE} AND {_MEMBER}
              AND COALESCE(p.latitude, st.latitude) IS NOT NULL AND COALESCE(p.longitude, st.longitude) IS NOT NULL""",
        True,
        end,
        end,
    )
    if not zones:
        return [], [], []
    import numpy as np

    families = sorted({row["code"] for row in points})
    lat = np.radians(np.array([float(row["lat"]) for row in points] or [0.0]))
    lon = np.radians(np.array([float(row["lon"]) for row in points] or [0.0]))
    code = np.array([row["code"] for row in points] or [""])
    places = {(round(float(r["lat"]), 6), round(float(r["lon"]), 6)) for r in points}
    place_lat = np.radians(np.array([p[0] for p in places] or [0.0]))
    place_lon = np.radians(np.array([p[1] for p in places] or [0.0]))
    coverage, white, map_rows = [], [], []
    for zone in sorted(zones, key=lambda z: (z["commune"], z["neighbourhood"])):
        label = _zone_label(zone["commune"], zone["neighbourhood"])
        zlat, zlon = math.radians(float(zone["lat"])), math.radians(float(zone["lon"]))
        near = _distance_km(zlat, zlon, lat, lon) <= WHITE_ZONE_KM if points else np.zeros(0, dtype=bool)
        served = set(code[near].tolist()) if points else set()
        missing = [f for f in families if f not in served]
        near_places = int((_distance_km(zlat, zlon, place_lat, place_lon) <= WHITE_ZONE_KM).sum()) if places else 0
        coverage.append((label, near_places, len(served), len(missing)))
        white += [(label, CATEGORIES.get(f, f)) for f in missing]
        map_rows.append((label, round(float(zone["lat"]), 5), round(float(zone["lon"]), 5), near_places, len(missing)))
    return coverage, white, map_rows


def _distance_km(lat: float, lon: float, lats: Any, lons: Any) -> Any:
    import numpy as np

    a = np.sin((lats - lat) / 2) ** 2 + math.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


async def report(rt: Runtime, period: Period) -> Section:
    """The directory's section for the period, each figure beside the previous equal period."""
    now, before = await _counts(period), await _counts(period.previous())
    coverage, white, map_rows = await _coverage(period)
    figures = (
        Figure(MEMBERS, now["members"], before["members"]),
        Figure(NEWCOMERS, now["newcomers"], before["newcomers"]),
        Figure(SERVICES, now["services"], before["services"]),
        Figure(WHITE_ZONES, len(white), None),
        Figure(FRESH_6, now["fresh_6"], before["fresh_6"]),
        Figure(FRESH_12, now["fresh_12"], before["fresh_12"]),
        Figure(
            FRESH_6_RATE,
            percent(now["fresh_6"], now["members"]),
            percent(before["fresh_6"], before["members"]),
        ),
    )
    tables = (
        Table(
            "structures_types",
            "Structures membres par type",
            ("Type", "Structures"),
            by_label(await _kinds(period), STRUCTURE_KINDS),
            KINDS,
            counts=False,
        ),
        Table(
            "services_thematiques",
            "Services par famille de thématiques",
            ("Thématique", "Services"),
            by_label(await _themes(period), CATEGORIES),
            THEMES,
            counts=False,
        ),
        Table(
            "couverture",
            f"Services à moins de {WHITE_ZONE_KM:g} km, par commune ou quartier",
            ("Commune ou quartier", "Lieux de services proches", "Thématiques couvertes", "Thématiques absentes"),
            tuple(coverage),
            COVERAGE,
            counts=False,
        ),
        Table(
            "carte_couverture",
            "Carte de la couverture",
            ("Commune ou quartier", "Latitude", "Longitude", "Lieux de services proches", "Thématiques absentes"),
            tuple(map_rows),
            COVERAGE,
            chart="map",
            counts=False,
        ),
        Table(
            "zones_blanches",
            f"Zones blanches : thématiques absentes à moins de {WHITE_ZONE_KM:g} km",
            ("Commune ou quartier", "Thématique absente"),
            tuple(white),
            WHITE_ZONES,
            chart="",
            counts=False,
        ),
    )
    return Section(
        key="directory",
        title="Le réseau et son annuaire",
        figures=figures,
        tables=tables,
        notes=(
            "L'annuaire ne garde pas l'historique des statuts : une structure membre à la fin d'une période est "
            "une structure active aujourd'hui, créée avant cette date.",
            f"Une zone blanche est une commune ou un quartier sans service d'une thématique à moins de "
            f"{WHITE_ZONE_KM:g} km (à vol d'oiseau) ; le nombre de zones blanches n'a pas de valeur passée.",
            "Seule la dernière confirmation d'une fiche est gardée : une fiche confirmée après la fin de la période "
            "ne compte pas parmi les fiches confirmées de cette période.",
        ),
        order=10,
    )
