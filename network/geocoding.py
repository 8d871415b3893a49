"""Where is "près de …"? A typed address, street, neighbourhood, commune or postal code turned into a point.

Two sources, in this order:
1. the local gazetteer, built from the directory itself (active structures and their active services'
   places): communes, postal codes and neighbourhoods (the centre of their addresses), and the street
   addresses with the coordinates recorded for them. Accent- and case-insensitive, abbreviations expanded
   ("bd" → "boulevard"), typos forgiven (rapidfuzz). It works offline: the embedded default needs nothing
   else. Kept per database; after a directory change, rebuilt in the background while the previous one
   answers. A place name it knows exactly (a commune, a postal code, a neighbourhood) is answered at once;
2. the national BAN geocoder (Base Adresse Nationale, geocodejson), when MAILLAGE_GEOCODER_URL is set, for
   street addresses: a short timeout, its answers kept in a bounded in-process cache, and after a failure
   the gazetteer alone for a minute;
then the gazetteer's fuzzy matching of streets (the house number picks the nearest recorded one).

The typed text may be a resident's home address: it is never logged, stored or journaled (the "httpx"
logger, which would print the URL, is kept at WARNING by hub.app), and leaves the server only for the BAN,
when the deployment set MAILLAGE_GEOCODER_URL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import ssl
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import httpx
import msgspec
from rapidfuzz import fuzz, process

from hub.db import current_engine
from hub.errors import Unprocessable
from network.search.index import DirectoryCache
from network.search.query import Origin, Precision

log = logging.getLogger("maillage.geocoding")

MAX_ADDRESS_LENGTH = 200
NOT_FOUND = "Adresse introuvable : précisez la commune ou le code postal."
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
_POSTCODE = re.compile(r"^\d{5}$")
_WORDS = re.compile(r"[a-z0-9]+")


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def words_of(text: str) -> list[str]:
    """Folded words, abbreviations expanded, a trailing "France" or "Cedex" dropped: "12 Bd Bel-Air" →
    ["12", "boulevard", "bel", "air"]. (network.search.fold's words, in C: the gazetteer folds every address.)"""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_LIGATURES).casefold()).encode("ascii", "ignore")
    words = [_ABBREVIATIONS.get(word, word) for word in _WORDS.findall(ascii_text.decode("ascii"))]
    while words and words[-1] in _NOISE:
        words.pop()
    return words


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
    """A commune, postal code or neighbourhood: found as the centre of its addresses."""

    label: str
    count: int = 0
    latitude_sum: float = 0.0
    longitude_sum: float = 0.0
    names: Counter[str] = dataclasses.field(default_factory=Counter)

    def add(self, count: int, latitude: float, longitude: float, name: str = "") -> None:
        self.count += count
        self.latitude_sum += count * latitude
        self.longitude_sum += count * longitude
        if name:
            self.names[name] += count

    def origin(self, precision: Precision) -> Origin:
        return Origin(
            latitude=round(self.latitude_sum / self.count, 6),
            longitude=round(self.longitude_sum / self.count, 6),
            label=self.names.most_common(1)[0][0] if self.names else self.label,
            precision=precision,
            source="annuaire",
        )


def _area(areas: dict[str, _Area], key: str, label: str) -> _Area:
    area = areas.get(key)
    if area is None:
        area = areas[key] = _Area(label)
    return area


class _Address(NamedTuple):
    number: str
    address: str  # as recorded: "8 avenue des Tilleuls"
    place: str  # "45990 Montclair-sur-Loire"
    latitude: float
    longitude: float

    @property
    def label(self) -> str:
        return f"{self.address}, {self.place}" if self.place else self.address


class Gazetteer:
    """The directory's own places, from rows (address, postal_code, commune, neighbourhood, n, latitude,
    longitude): the centre of the n located structures and places at that address."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.communes: dict[str, _Area] = {}
        self.postcodes: dict[str, _Area] = {}
        self.neighbourhoods: dict[str, dict[str, _Area]] = {}  # neighbourhood key → commune key → area
        self.streets: dict[str, dict[str, list[_Address]]] = {}  # commune key → street key → addresses
        self.postcode_communes: dict[str, set[str]] = {}
        everywhere = _Area("")
        folded: dict[str, list[str]] = {}  # the same names and streets come back often: folded once

        def words(text: str) -> list[str]:
            found = folded.get(text)
            if found is None:
                found = folded[text] = words_of(text)
            return found

        for row in rows:
            count, latitude, longitude = int(row["n"]), float(row["latitude"]), float(row["longitude"])
            name, postcode = row["commune"] or "", (row["postal_code"] or "").strip()
            commune = " ".join(words(name))
            everywhere.add(count, latitude, longitude)
            if commune:
                _area(self.communes, commune, name).add(count, latitude, longitude, name)
            if _POSTCODE.match(postcode):
                _area(self.postcodes, postcode, postcode).add(count, latitude, longitude, f"{postcode} {name}".strip())
                self.postcode_communes.setdefault(postcode, set()).add(commune)
            if neighbourhood := _area_key(words(row["neighbourhood"] or "")):
                by_commune = self.neighbourhoods.get(neighbourhood) or self.neighbourhoods.setdefault(neighbourhood, {})
                label = f"quartier {row['neighbourhood']}" + (f", {name}" if name else "")
                _area(by_commune, commune, label).add(count, latitude, longitude)
            number, street = _street_parts(words(row["address"] or ""))
            if street and not street.isdigit():
                streets = self.streets.get(commune) or self.streets.setdefault(commune, {})
                place = _Address(number, row["address"], f"{postcode} {name}".strip(), latitude, longitude)
                streets.setdefault(street, []).append(place)
        self.size = everywhere.count
        self.centre = everywhere.origin("point") if everywhere.count else None
        self.commune_keys = sorted(self.communes, key=len, reverse=True)
        self._all_streets = [(street, commune) for commune, streets in self.streets.items() for street in streets]

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
                return max((self.communes[c] for c in started), key=lambda a: a.count).origin("municipality")
        return None

    def _neighbourhood(self, key: str, postcode: str, commune: str = "") -> Origin | None:
        by_commune = self.neighbourhoods.get(key)
        if not by_commune:
            return None
        allowed = {commune} if commune else self.postcode_communes.get(postcode) if postcode else None
        areas = [area for c, area in by_commune.items() if allowed is None or c in allowed]
        return max(areas, key=lambda a: a.count).origin("neighbourhood") if areas else None

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
                splits.append((words[:-size], max(started, key=lambda c: self.communes[c].count)))
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


_LOCATED = """WITH located AS (
SELECT st.address, st.postal_code, st.commune, st.neighbourhood, st.latitude, st.longitude
FROM network_structure st WHERE st.status = 'active' AND st.latitude IS NOT NULL AND st.longitude IS NOT NULL
UNION ALL
SELECT p.address, p.postal_code, p.commune, p.neighbourhood, p.latitude, p.longitude
FROM network_place p JOIN network_service sv ON sv.id = p.service JOIN network_structure st ON st.id = sv.structure
WHERE st.status = 'active' AND sv.is_active AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL)
"""
_GAZETTEER_SQL = (
    _LOCATED + "SELECT address, postal_code, commune, neighbourhood, count(*) AS n, avg(latitude) AS latitude,"
    " avg(longitude) AS longitude FROM located GROUP BY address, postal_code, commune, neighbourhood"
)


async def load_gazetteer() -> Gazetteer:
    """The gazetteer of the current database: grouped in SQL, folded in a thread (the event loop serves on)."""
    rows = await current_engine().run_ddl(_GAZETTEER_SQL)
    return await asyncio.to_thread(Gazetteer, rows)  # type: ignore[arg-type]


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
        self._gazetteers: DirectoryCache[Gazetteer] = DirectoryCache(GAZETTEER_MAX_AGE_S, in_background=True)
        self._ban_answers: OrderedDict[str, Origin | None] = OrderedDict()
        self._ban_paused_until = 0.0
        self._tls = ssl.create_default_context() if ban_url.startswith("https:") else None

    async def gazetteer(self) -> Gazetteer:
        """The directory's gazetteer; after a change, the previous one while the next is built (~1 s for
        20,000 structures and their places)."""
        return await self._gazetteers.get(load_gazetteer)

    async def settled(self) -> None:
        """Wait for a gazetteer being rebuilt (tests)."""
        await self._gazetteers.settled()

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
            params["lat"], params["lon"] = f"{centre.latitude:.4f}", f"{centre.longitude:.4f}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=self._tls or True) as client:
                response = await client.get(self.ban_url, params=params, headers={"Accept": "application/json"})
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            found = _ban_origin(response.content)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
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
            {"adresse": NOT_FOUND},
        )
    return found
