"""Where is "près de …"? A typed address, street, neighbourhood, commune or postal code turned into a point.

Two sources, in this order:
1. the local gazetteer (network.gazetteer), built from the directory itself (active structures and their active services'
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

import logging
import ssl
import time
from collections import OrderedDict

import httpx
import msgspec

from hub.errors import Unprocessable
from network.gazetteer import Gazetteer, load_gazetteer, words_of
from network.search.index import DirectoryCache
from network.search.query import Origin, Precision

log = logging.getLogger("maillage.geocoding")

MAX_ADDRESS_LENGTH = 200
NOT_FOUND = "Adresse introuvable : précisez la commune ou le code postal."
TOO_LONG = f"Adresse trop longue : {MAX_ADDRESS_LENGTH} caractères au plus."
BAN_MIN_SCORE = 0.5  # below, the BAN is guessing
BAN_PAUSE_S = 60.0  # after a failure, the gazetteer alone for this long
CACHE_SIZE = 1024
GAZETTEER_MAX_AGE_S = 300.0


# ---------------------------------------------------------------- the BAN (geocodejson)
class _Geometry(msgspec.Struct):
    coordinates: list[float]


class _Properties(msgspec.Struct):
    label: str = ""
    score: float = 0.0
    type: str = ""
    citycode: str = ""


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


def _ban_origin(body: bytes) -> tuple[Origin, str] | None:
    """The first feature of a geocodejson answer, if it is good enough, with its commune's INSEE code (its
    "citycode", or ""); ValueError when it is not geocodejson."""
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
        origin = Origin(
            latitude=round(latitude, 6),
            longitude=round(longitude, 6),
            label=feature.properties.label[:200],
            precision=_BAN_PRECISION.get(feature.properties.type, "street"),
            source="ban",
        )
        citycode = feature.properties.citycode
        return origin, citycode if len(citycode) == 5 and citycode.isalnum() else ""
    return None


class Geocoder:
    """One per app (on the Runtime): the gazetteer per database, the BAN's answers in a bounded LRU."""

    def __init__(self, ban_url: str = "", timeout: float = 2.0) -> None:
        self.ban_url = ban_url
        self.timeout = timeout
        self._gazetteers: DirectoryCache[Gazetteer] = DirectoryCache(GAZETTEER_MAX_AGE_S, in_background=True)
        self._ban_answers: OrderedDict[str, tuple[Origin, str] | None] = OrderedDict()
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
        found, _insee_code = await self.locate_with_code(text)
        return found

    async def locate_with_code(self, text: str) -> tuple[Origin | None, str]:
        """The point of a typed place (None when neither source knows it), and its commune's INSEE code when
        the BAN found it ("" otherwise: the directory's forms then read it from their own entries)."""
        text = " ".join(text.split())[:MAX_ADDRESS_LENGTH]
        if not words_of(text):
            return None, ""
        gazetteer = await self.gazetteer()
        if found := gazetteer.place_name(text):
            return found, ""
        if self.ban_url and time.monotonic() >= self._ban_paused_until:
            if answer := await self._ban(text, gazetteer):
                return answer
        return gazetteer.locate(text), ""

    async def _ban(self, text: str, gazetteer: Gazetteer) -> tuple[Origin, str] | None:
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
