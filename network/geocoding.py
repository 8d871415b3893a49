"""Where is "près de …"? A typed address, street, neighbourhood, commune or postal code turned into a point.

Two sources, in this order:
1. the local gazetteer, built from the directory itself (active structures and their active services'
   places): communes, postal codes and neighbourhoods (the centre of their addresses), and the street
   addresses with the coordinates recorded for them. Accent- and case-insensitive, abbreviations expanded
   ("bd" → "boulevard"), typos forgiven (rapidfuzz). It works offline: the embedded default needs nothing
   else. A place name it knows exactly (a commune, a postal code, a neighbourhood) is answered at once;
2. the national BAN geocoder (Base Adresse Nationale, geocodejson), when MAILLAGE_GEOCODER_URL is set, for
   street addresses: a short timeout, its answers kept in a bounded in-process cache, and after a failure
   the gazetteer alone for a minute;
then the gazetteer's fuzzy matching of streets (the house number picks the nearest recorded one).

The typed text may be a resident's home address: it is never logged, stored or journaled, and the BAN
is asked over HTTPS only if the deployment chose to (the "httpx" logger, which would print the URL, is
kept at WARNING by hub.app).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
import msgspec
from rapidfuzz import fuzz, process

from hub.db import current_engine
from hub.errors import Unprocessable
from network.search import DirectoryCache, Origin, Precision, fold

log = logging.getLogger("maillage.geocoding")

MAX_ADDRESS_LENGTH = 200
BAN_MIN_SCORE = 0.5  # below, the BAN is guessing
BAN_PAUSE_S = 60.0  # after a failure, the gazetteer alone for this long
CACHE_SIZE = 1024
GAZETTEER_MAX_AGE_S = 300.0
STREET_MIN_SCORE = 80.0
PLACE_MIN_SCORE = 86.0

_ABBREVIATIONS = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "ch": "chemin",
    "chem": "chemin",
    "crs": "cours",
    "fbg": "faubourg",
    "fg": "faubourg",
    "imp": "impasse",
    "pl": "place",
    "qu": "quai",
    "r": "rue",
    "res": "residence",
    "rte": "route",
    "sq": "square",
    "st": "saint",
    "ste": "sainte",
}
_NOISE = {"france", "cedex"}
_NUMBER = re.compile(r"^(\d{1,4})(?:\s*(bis|ter|quater|[a-d]))?$")
_POSTCODE = re.compile(r"^\d{5}$")
_WORDS = re.compile(r"[a-z0-9]+")


def words_of(text: str) -> list[str]:
    """Folded words, abbreviations expanded: "12 Bd Bel-Air" → ["12", "boulevard", "bel", "air"]."""
    return [_ABBREVIATIONS.get(word, word) for word in _WORDS.findall(fold(text)) if word not in _NOISE]


def _street_parts(words: Sequence[str]) -> tuple[str, str]:
    """("12bis", "rue des ecoles") from the words of "12 bis rue des Écoles"; the number may be missing."""
    if not words:
        return "", ""
    if words[0].isdigit() and len(words[0]) <= 4:
        rest = list(words[1:])
        if rest and rest[0] in ("bis", "ter", "quater"):
            return words[0] + rest[0], " ".join(rest[1:])
        return words[0], " ".join(rest)
    return "", " ".join(words)


def _house(number: str) -> int:
    return int(re.sub(r"\D.*", "", number) or 0)


_AREA_WORDS = {"quartier", "quartiers", "du", "de", "des", "d", "le", "la", "les", "l"}


def _area_key(words: Sequence[str]) -> str:
    """A neighbourhood's key without its leading words: "Quartier de la Source" and "La Source" → "source"."""
    words = list(words)
    while len(words) > 1 and words[0] in _AREA_WORDS:
        words = words[1:]
    return " ".join(words)


def _street_label(address: str) -> str:
    """ "12 bis rue des Écoles" → "rue des Écoles" (the label of a street found without its number)."""
    return re.sub(r"^\s*\d{1,4}\s*(?:bis|ter|quater|[a-dA-D]\b)?[\s,]*", "", address).strip() or address


# ---------------------------------------------------------------- the gazetteer
@dataclasses.dataclass
class _Area:
    """Points of one commune, postal code or neighbourhood: found as their centre."""

    label: str
    points: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    names: Counter[str] = dataclasses.field(default_factory=Counter)

    def origin(self, precision: Precision) -> Origin:
        latitude = sum(p[0] for p in self.points) / len(self.points)
        longitude = sum(p[1] for p in self.points) / len(self.points)
        return Origin(
            latitude=round(latitude, 6),
            longitude=round(longitude, 6),
            label=self.label,
            precision=precision,
            source="annuaire",
        )


@dataclasses.dataclass(frozen=True)
class _Address:
    number: str
    label: str  # as recorded: "8 avenue des Tilleuls, 45990 Montclair-sur-Loire"
    latitude: float
    longitude: float


class Gazetteer:
    """The directory's own places, from rows of (address, postal_code, commune, neighbourhood, lat, lon)."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.communes: dict[str, _Area] = {}
        self.postcodes: dict[str, _Area] = {}
        self.neighbourhoods: dict[str, dict[str, _Area]] = {}  # neighbourhood key → commune key → area
        self.streets: dict[str, dict[str, list[_Address]]] = {}  # commune key → street key → addresses
        self.postcode_communes: dict[str, set[str]] = {}
        self.size = 0
        for row in rows:
            self._add(row)
        for areas in (self.communes, self.postcodes):
            for area in areas.values():
                area.label = area.names.most_common(1)[0][0] if area.names else area.label
        self.commune_keys = sorted(self.communes, key=len, reverse=True)
        points = [point for area in self.communes.values() for point in area.points]
        self.centre = (
            (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)) if points else None
        )
        self._all_streets = [(street, commune) for commune, streets in self.streets.items() for street in streets]

    def _add(self, row: Mapping[str, Any]) -> None:
        latitude, longitude = row["latitude"], row["longitude"]
        if latitude is None or longitude is None:
            return
        point = (float(latitude), float(longitude))
        commune = " ".join(words_of(row["commune"] or ""))
        postcode = str(row["postal_code"] or "").strip()
        self.size += 1
        if commune:
            area = self.communes.setdefault(commune, _Area(row["commune"]))
            area.points.append(point)
            area.names[row["commune"]] += 1
        if _POSTCODE.match(postcode):
            area = self.postcodes.setdefault(postcode, _Area(postcode))
            area.points.append(point)
            area.names[f"{postcode} {row['commune']}".strip()] += 1
            if commune:
                self.postcode_communes.setdefault(postcode, set()).add(commune)
        if neighbourhood := _area_key(words_of(row["neighbourhood"] or "")):
            label = f"quartier {row['neighbourhood']}" + (f", {row['commune']}" if row["commune"] else "")
            by_commune = self.neighbourhoods.setdefault(neighbourhood, {})
            by_commune.setdefault(commune, _Area(label)).points.append(point)
        number, street = _street_parts(words_of(row["address"] or ""))
        if street and any(not word.isdigit() for word in street.split()):
            place = ", ".join(part for part in (row["address"], f"{postcode} {row['commune']}".strip()) if part)
            addresses = self.streets.setdefault(commune, {}).setdefault(street, [])
            addresses.append(_Address(number, place, point[0], point[1]))

    # -------------------------------------------------------------- lookups
    def place_name(self, text: str) -> Origin | None:
        """A commune, postal code or neighbourhood spelt out exactly (accents and case aside)."""
        words = words_of(text)
        postcodes = [w for w in words if _POSTCODE.match(w)]
        rest = [w for w in words if not _POSTCODE.match(w)]
        key = " ".join(rest)
        if not key:
            return (
                self.postcodes[postcodes[0]].origin("postcode")
                if postcodes and postcodes[0] in self.postcodes
                else None
            )
        allowed = self.postcode_communes.get(postcodes[0], set()) if postcodes else None
        if key in self.communes and (allowed is None or key in allowed):
            return self.communes[key].origin("municipality")
        if found := self._neighbourhood(_area_key(rest), postcodes[0] if postcodes else ""):
            return found
        if len(key) >= 4:  # the start of a commune's name: "montclair" for Montclair-sur-Loire
            started = [c for c in self.communes if c.startswith(key + " ") and (allowed is None or c in allowed)]
            if started:
                return max((self.communes[c] for c in started), key=lambda a: len(a.points)).origin("municipality")
        return None

    def _neighbourhood(self, key: str, postcode: str, commune: str = "") -> Origin | None:
        by_commune = self.neighbourhoods.get(key)
        if not by_commune:
            return None
        allowed = {commune} if commune else self.postcode_communes.get(postcode) if postcode else None
        areas = [area for c, area in by_commune.items() if allowed is None or c in allowed]
        return max(areas, key=lambda a: len(a.points)).origin("neighbourhood") if areas else None

    def locate(self, text: str) -> Origin | None:
        """The best place for the text: exact names, then streets (fuzzy), then names (fuzzy); at worst the
        commune or the postal code named (an unknown street of a known commune: its centre)."""
        if found := self.place_name(text):
            return found
        words = words_of(text)
        postcode = next((w for w in words if _POSTCODE.match(w)), "")
        words = [w for w in words if not _POSTCODE.match(w)]
        if not words:
            return None
        splits = self._splits(words)
        streets = [
            scored for street_words, commune in splits if (scored := self._street(street_words, commune, postcode))
        ]
        if streets:
            return max(streets, key=lambda scored: scored[0])[1]
        key = " ".join(words)
        if match := process.extractOne(key, self.commune_keys, scorer=fuzz.ratio, score_cutoff=PLACE_MIN_SCORE):
            return self.communes[match[0]].origin("municipality")
        area = _area_key(words)
        if match := process.extractOne(
            area, list(self.neighbourhoods), scorer=fuzz.ratio, score_cutoff=PLACE_MIN_SCORE
        ):
            return self._neighbourhood(match[0], postcode)
        if communes := [commune for _, commune in splits if commune]:
            return self.communes[communes[0]].origin("municipality")
        if postcode in self.postcodes:
            return self.postcodes[postcode].origin("postcode")
        return None

    def _splits(self, words: list[str]) -> list[tuple[list[str], str]]:
        """Ways to read the words as "street, commune": a known commune at the end (exact, or within a few
        typos), or no commune at all."""
        splits: list[tuple[list[str], str]] = []
        for size in range(min(len(words), 6), 0, -1):
            tail = " ".join(words[-size:])
            if tail in self.communes:
                splits.append((words[:-size], tail))
            elif len(tail) >= 4 and (started := [c for c in self.commune_keys if c.startswith(tail + " ")]):
                splits.append((words[:-size], max(started, key=lambda c: len(self.communes[c].points))))
            elif len(tail) >= 5 and (
                match := process.extractOne(tail, self.commune_keys, scorer=fuzz.ratio, score_cutoff=PLACE_MIN_SCORE)
            ):
                splits.append((words[:-size], match[0]))
        splits.append((words, ""))
        return splits

    def _street(self, words: list[str], commune: str, postcode: str) -> tuple[float, Origin] | None:
        """A street of the commune (or of the postal code's communes, or anywhere), scored."""
        number, street = _street_parts(words)
        if not street:
            return None
        if neighbourhood := self._neighbourhood(_area_key(street.split()), postcode, commune) if not number else None:
            return 100.0, neighbourhood
        if commune:
            communes: Iterable[str] = [commune]
        elif postcode in self.postcode_communes:
            communes = self.postcode_communes[postcode]
        else:
            communes = self.streets
        choices = [(s, c) for c in communes for s in self.streets.get(c, {})]
        if not commune and not postcode:
            choices = self._all_streets
        match = process.extractOne(street, [s for s, _ in choices], scorer=fuzz.ratio, score_cutoff=STREET_MIN_SCORE)
        if match is None:
            return None
        name, score, index = match
        addresses = self.streets[choices[index][1]][name]
        exact = [a for a in addresses if number and a.number == number]
        if exact:
            address = exact[0]
            return score + 1, Origin(
                latitude=round(address.latitude, 6),
                longitude=round(address.longitude, 6),
                label=address.label,
                precision="housenumber",
                source="annuaire",
            )
        address = min(addresses, key=lambda a: abs(_house(a.number) - _house(number)))
        return score, Origin(
            latitude=round(address.latitude, 6),
            longitude=round(address.longitude, 6),
            label=_street_label(address.label),
            precision="street",
            source="annuaire",
        )


_GAZETTEER_SQL = """
SELECT st.address, st.postal_code, st.commune, st.neighbourhood, st.latitude, st.longitude
FROM network_structure st WHERE st.status = 'active' AND st.latitude IS NOT NULL AND st.longitude IS NOT NULL
UNION ALL
SELECT p.address, p.postal_code, p.commune, p.neighbourhood, p.latitude, p.longitude
FROM network_place p JOIN network_service sv ON sv.id = p.service JOIN network_structure st ON st.id = sv.structure
WHERE st.status = 'active' AND sv.is_active AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL"""


async def load_gazetteer() -> Gazetteer:
    return Gazetteer(await current_engine().run_ddl(_GAZETTEER_SQL))  # type: ignore[arg-type]


# ---------------------------------------------------------------- the BAN (geocodejson)
class _Geometry(msgspec.Struct):
    coordinates: list[float]


class _Properties(msgspec.Struct):
    label: str = ""
    score: float = 0.0
    type: str = ""


class _Feature(msgspec.Struct):
    geometry: _Geometry
    properties: _Properties


class _FeatureCollection(msgspec.Struct):
    features: list[_Feature] = []


_BAN_PRECISION: dict[str, Precision] = {
    "housenumber": "housenumber",
    "street": "street",
    "locality": "street",
    "municipality": "municipality",
}


def _ban_origin(body: bytes) -> Origin | None:
    """The first feature of a geocodejson answer, if it is good enough; ValueError when it is not geocodejson."""
    try:
        collection = msgspec.json.decode(body, type=_FeatureCollection)
    except msgspec.DecodeError as error:
        raise ValueError("not geocodejson") from error
    for feature in collection.features[:1]:
        if len(feature.geometry.coordinates) < 2 or feature.properties.score < BAN_MIN_SCORE:
            return None
        longitude, latitude = feature.geometry.coordinates[:2]
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return Origin(
            latitude=round(latitude, 6),
            longitude=round(longitude, 6),
            label=feature.properties.label[:200],
            precision=_BAN_PRECISION.get(feature.properties.type, "street"),
            source="ban",
        )
    return None


class Geocoder:
    """One per app (on the Runtime): the gazetteer per database, the BAN's answers in a bounded LRU."""

    def __init__(self, ban_url: str = "", timeout: float = 2.0) -> None:
        self.ban_url = ban_url
        self.timeout = timeout
        self._gazetteers: DirectoryCache[Gazetteer] = DirectoryCache(GAZETTEER_MAX_AGE_S)
        self._ban_answers: OrderedDict[str, Origin | None] = OrderedDict()
        self._ban_paused_until = 0.0
        self._tls = ssl.create_default_context() if ban_url.startswith("https:") else None

    async def gazetteer(self) -> Gazetteer:
        return await self._gazetteers.get(load_gazetteer)

    async def locate(self, text: str) -> Origin | None:
        """The point of a typed place, or None when neither source knows it."""
        text = " ".join(text.split())[:MAX_ADDRESS_LENGTH]
        if not words_of(text):
            return None
        gazetteer = await self.gazetteer()
        if found := gazetteer.place_name(text):
            return found
        if self.ban_url and time.monotonic() >= self._ban_paused_until:
            if found := await self._ban(text, gazetteer):
                return found
        return gazetteer.locate(text)

    async def _ban(self, text: str, gazetteer: Gazetteer) -> Origin | None:
        key = " ".join(words_of(text))
        if key in self._ban_answers:
            self._ban_answers.move_to_end(key)
            return self._ban_answers[key]
        params: dict[str, str] = {"q": text, "limit": "1"}
        if centre := gazetteer.centre:  # the BAN ranks places near the directory first
            params["lat"], params["lon"] = f"{centre[0]:.4f}", f"{centre[1]:.4f}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=self._tls or True) as client:
                response = await client.get(self.ban_url, params=params, headers={"Accept": "application/json"})
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            found = _ban_origin(response.content)
        except (httpx.HTTPError, ValueError) as error:
            # never the address or the URL (which holds it): the kind of failure only
            log.warning(
                "BAN geocoder unavailable (%s): directory gazetteer only for %.0f s", type(error).__name__, BAN_PAUSE_S
            )
            self._ban_paused_until = time.monotonic() + BAN_PAUSE_S
            return None
        self._ban_answers[key] = found
        if len(self._ban_answers) > CACHE_SIZE:
            self._ban_answers.popitem(last=False)
        return found


async def origin_of(geocoder: Geocoder, address: str) -> Origin:
    """The point of a typed address; Unprocessable (in French) when it cannot be found."""
    found = await geocoder.locate(address)
    if found is None:
        raise Unprocessable(
            "Adresse introuvable : précisez la commune ou le code postal, ou choisissez un quartier.",
            {"adresse": "Adresse introuvable : précisez la commune ou le code postal."},
        )
    return found
