"""Text for the search: folding (case, accents, ligatures), the box's words, filter tokens, snippets, distance."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_000.0
MAX_TERMS = 8

_STOPWORDS = frozenset(
    "a au aux avec ce ces cet cette d dans de des du en et l la le les leur leurs ma mes mon n ne nos notre ou "
    "par pas pour qu que qui s sa se ses son sur ta tes ton un une vos votre y".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'"})
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_FILTER_PREFIX = "zq"  # filter tokens: no French word starts so, and words typed so are ignored


def fold(text: str) -> str:
    """Lower case, without accents or ligatures: "Démarches CŒUR" → "demarches coeur"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def area_key(text: str) -> str:
    """The key a commune or neighbourhood is filtered on: "Saint-Jean-de-Braye" → "saint-jean-de-braye"."""
    return "-".join(_WORD.findall(fold(text)))


def filter_token(kind: str, code: str) -> str:
    """The full-text token standing for "this service has `code` in `kind`"."""
    number = int.from_bytes(hashlib.blake2b(f"{kind}:{code}".encode(), digest_size=8).digest(), "big")
    return _FILTER_PREFIX + "".join(_BASE36[number // 36**i % 36] for i in range(7))  # 36 bits: short and unique


def query_terms(text: str) -> list[str]:
    """The words of the box, each to be matched as a prefix; stop words out, final plural s/x off."""
    terms: list[str] = []
    for word in _WORD.findall(fold(text)):
        if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()) or word.startswith(_FILTER_PREFIX):
            continue
        if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
            word = word[:-1]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def snippet(text: str, terms: Sequence[str], width: int = 180) -> str:
    """A short plain-text extract of `text` starting a little before the first searched word."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    folded_chars = [fold(c) for c in text]
    offsets = [index for index, piece in enumerate(folded_chars) for _ in piece]  # folded → original position
    folded = "".join(folded_chars)
    found = [m.start() for t in terms if (m := re.search(rf"\b{re.escape(t)}", folded))]
    start = offsets[min(found)] if found else 0
    if start > 0:
        space = text.rfind(" ", 0, max(0, start - 30) + 1)
        start = space + 1 if space >= 0 else 0
    end = start + width
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
