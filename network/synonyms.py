"""The network's own synonyms for the directory search: the coordinator adds a group of words of the same
meaning from the desk ("RSA, revenu de solidarité active"), or removes one; the field's reviewed list stays
as it is (network.search.synonyms.REVIEWED)."""

from __future__ import annotations

from typing import Any

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Forbidden, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from network.search import synonyms
from network.search.index import DirectoryCache
from network.search.text import words_of
from network.tables import Synonym

MAX_WORDS = 12
MAX_WORD_LENGTH = 60
MAX_LENGTH = 500


def _require_coordinator(actor: Actor) -> None:
    if not actor.oversees_network:
        raise Forbidden("Seule la coordination modifie les synonymes de la recherche.")


def checked_group(text: str) -> str:
    """The group as it will be kept ("a, b, c"), or Invalid with the field's French error."""
    members = list(dict.fromkeys(part.strip() for part in text.replace("\n", ",").split(",") if part.strip()))
    error = ""
    if len(text) > MAX_LENGTH:
        error = f"Un groupe compte au plus {MAX_LENGTH} caractères."
    elif len(members) < 2:
        error = "Indiquez au moins deux mots ou expressions de même sens, séparés par des virgules."
    elif len(members) > MAX_WORDS:
        error = f"Un groupe compte au plus {MAX_WORDS} mots ou expressions."
    elif too_long := [m for m in members if len(m) > MAX_WORD_LENGTH]:
        error = f"« {too_long[0][:20]}… » est trop long : {MAX_WORD_LENGTH} caractères au plus par expression."
    elif empty := [m for m in members if not words_of(m)]:
        error = f"« {empty[0]} » ne contient aucun mot cherchable."
    if error:
        raise Invalid("Ce groupe de synonymes n'est pas valide.", {"synonymes": error})
    return ", ".join(members)


async def network_groups() -> list[dict[str, Any]]:
    """The coordinator's groups, oldest first."""
    return list(await Synonym.select(Synonym.id, Synonym.words, Synonym.added_at).order_by(Synonym.id))


async def add_group(rt: Runtime, actor: Actor, text: str) -> int:
    _require_coordinator(actor)
    words = checked_group(text)
    async with write_transaction():
        row = Synonym(words=words, added_at=rt.now(), actor_id=actor.user_id)
        await row.save()
        await journal.append(rt, Act("synonyms_added", actor.user_id, None, "synonym", row.id))
    DirectoryCache.directory_changed()
    return int(row.id)


async def remove_group(rt: Runtime, actor: Actor, synonym_id: int) -> None:
    _require_coordinator(actor)
    async with write_transaction():
        removed = await Synonym.delete().where(Synonym.id == synonym_id).returning(Synonym.id)
        if not removed:
            raise NotFound("Ce groupe de synonymes n'existe pas.")
        await journal.append(rt, Act("synonyms_removed", actor.user_id, None, "synonym", synonym_id))
    DirectoryCache.directory_changed()


REVIEWED = synonyms.REVIEWED
