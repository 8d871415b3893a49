"""Text for the search: folding (case, accents, ligatures), the box's words, filter tokens, snippets, distance."""

from __future__ import annotations

import bisect
import functools
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


@functools.lru_cache(maxsize=4096)
def _fold_char(character: str) -> str:
    """fold, one character at a time, remembered: a page of snippets folds the same few letters again and again."""
    return fold(character)


def area_key(text: str) -> str:
    """The key a commune or neighbourhood is filtered on: "Saint-Jean-de-Braye" → "saint-jean-de-braye"."""
    return "-".join(_WORD.findall(fold(text)))


def filter_token(kind: str, code: str) -> str:
    """The full-text token standing for "this service has `code` in `kind`"."""
    number = int.from_bytes(hashlib.blake2b(f"{kind}:{code}".encode(), digest_size=8).digest(), "big")
    return _FILTER_PREFIX + "".join(_BASE36[number // 36**i % 36] for i in range(7))  # 36 bits: short and unique


# Derivational endings taken off a searched word, longest first, when at least MIN_STEM letters stay: the
# rest is matched as a prefix, so "administratif" finds "administratives" and "accompagner" "accompagnement".
_ENDINGS = (
    "issements",
    "issement",
    "atrices",
    "atrice",
    "ateurs",
    "ateur",
    "ations",
    "ation",
    "ements",
    "ement",
    "ment",
    "ives",
    "ive",
    "ifs",
    "if",
    "elles",
    "elle",
    "ennes",
    "enne",
    "ites",
    "ite",
    "euses",
    "euse",
    "eurs",
    "eur",
    "ees",
    "ee",
    "er",
    "es",
)
MIN_STEM = 5


def stem(word: str) -> str:
    """A folded word's French stem, to be matched as a prefix: "démarches" → "demarche",
    "administratives" → "administrat"; short words as they are. "-ique" stays: "numer" would find "numéro",
    "informat" "information"."""
    if len(word) > 4 and word[-1] in "sx" and not word.endswith("ss"):  # not "ants", an acronym
        word = word[:-1]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def words_of(text: str) -> list[str]:
    """The searchable words of a text, folded, in order: stop words, single letters and filter-like words out."""
    return [
        word
        for word in _WORD.findall(fold(text))
        if word not in _STOPWORDS and (len(word) >= 2 or word.isdigit()) and not word.startswith(_FILTER_PREFIX)
    ]


def query_terms(text: str) -> list[str]:
    """The box's words as searched (stems), each once, at most MAX_TERMS."""
    return list(dict.fromkeys(stem(word) for word in words_of(text)))[:MAX_TERMS]


Phrase = tuple[str, ...]  # stems, all needed (a phrase of the synonym list), each a prefix
Concept = tuple[Phrase, ...]  # alternatives: any of them matches the idea


@functools.lru_cache(maxsize=8)
def _phrase_index(groups: tuple[tuple[str, ...], ...]) -> tuple[list[Concept], dict[Phrase, int], int]:
    """The synonym groups as stemmed phrases, and which group each phrase belongs to (built once a list)."""
    alternatives: list[Concept] = []
    phrases: dict[Phrase, int] = {}
    for number, group in enumerate(groups):
        members = list(
            dict.fromkeys(phrase for member in group if (phrase := tuple(stem(w) for w in words_of(member))))
        )
        # a member found wherever another member is needs no search of its own ("aider" through "aide",
        # "allocations familiales" through "allocations", "centre communal d'action sociale" through "action
        # sociale"); of two that find each other, the first stays
        kept = [
            phrase
            for n, phrase in enumerate(members)
            if not any(
                _covers(other, phrase) and (m < n or not _covers(phrase, other))
                for m, other in enumerate(members)
                if m != n
            )
        ]
        alternatives.append(tuple(kept))
        for phrase in members:
            phrases.setdefault(phrase, number)
    return alternatives, phrases, max((len(phrase) for phrase in phrases), default=1)


def _covers(phrase: Phrase, other: Phrase) -> bool:
    """Whether every text `other` matches is matched by `phrase` too: each of its words (prefixes) starts a
    word of `other` (PostgreSQL: all words needed; SQLite: close together, and they are in `other`)."""
    return all(any(word.startswith(prefix) for word in other) for prefix in phrase)


def concepts(text: str, groups: Sequence[Sequence[str]] = ()) -> list[Concept]:
    """What a box asks, idea by idea: each word (or a synonym list's phrase found in the box) with its synonyms.
    A result is ranked by how many of these ideas it matches; two words of one synonym group are one idea."""
    stems = [stem(word) for word in words_of(text)]
    alternatives, phrases, longest = _phrase_index(tuple(tuple(group) for group in groups))
    found: list[Concept] = []
    seen: set[int] = set()
    position = 0
    while position < len(stems):
        for size in range(min(longest, len(stems) - position), 0, -1):
            number = phrases.get(tuple(stems[position : position + size]), -1)
            if number >= 0:
                break
        else:
            size = 1
        if number >= 0:
            if number not in seen:
                seen.add(number)
                found.append(alternatives[number])
        else:
            concept: Concept = ((stems[position],),)
            if concept not in found:
                found.append(concept)
        position += size
    return found[:MAX_TERMS]


def concept_words(found: Sequence[Concept]) -> list[str]:
    """Every stem of the ideas, once (to place a snippet, to say what was searched)."""
    return list(dict.fromkeys(stem for concept in found for phrase in concept for stem in phrase))


def words_of_row(*texts: str) -> tuple[str, ...]:
    """An index row's words as FTS5 reads them (letters and digits), each once and sorted (phrase_in looks a
    prefix up by bisection): its texts were folded when indexed."""
    return tuple(sorted({word for text in texts for word in _WORD.findall(text or "")}))


def phrase_in(phrase: Phrase, row_words: tuple[str, ...]) -> bool:
    """A phrase's stems each start a word of the row (the row's words in any order: looser than NEAR)."""
    for stem in phrase:
        at = bisect.bisect_left(row_words, stem)  # the first word not before the stem: it starts so, or none does
        if at == len(row_words) or not row_words[at].startswith(stem):
            return False
    return True


def snippet(text: str, terms: Sequence[str], width: int = 180) -> str:
    """A short plain-text extract of `text` starting a little before the first searched word."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    start = 0
    if terms:  # folded character by character, to find where the first word is in the text as written
        table = {ord(c): _fold_char(c) for c in set(text)}
        folded = text.translate(table)
        if len(folded) == len(text) and all(len(piece) == 1 for piece in table.values()):
            offsets: Sequence[int] = range(len(text))  # one folded character each (most French text)
        else:  # a ligature, a mark on its own: folded → original position
            offsets = [index for index, c in enumerate(text) for _ in table[ord(c)]]
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
