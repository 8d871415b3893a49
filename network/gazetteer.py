"""The directory's own gazetteer: where its communes, postal codes, neighbourhoods and street addresses are.

Built from the directory itself (active structures and their active services' places): communes, postal
codes and neighbourhoods (the centre of their addresses), and the street addresses with the coordinates
recorded for them. Accent- and case-insensitive, abbreviations expanded ("bd" → "boulevard"), typos forgiven
(rapidfuzz); a house number picks the nearest recorded one. It works offline. network.geocoding keeps one
per database and asks the BAN first for street addresses when a deployment has one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process

from hub.db import current_engine
from network.search.query import Origin, Precision

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
