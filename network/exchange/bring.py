"""What to bring to a service (our `justificatifs` list) in the data·inclusion exchange.

data·inclusion v1 has no field of its own for it (v0's `justificatifs` and `pre_requis` lists were folded into
`conditions_acces`: "prérequis ou justificatifs à présenter"), so an export writes the list at the end of
`conditions_acces` as a block a person reads and an import finds again:

    Sur rendez-vous.

    Justificatifs à apporter :
    - Pièce d'identité
    - Dernier avis d'imposition

An import also takes a `justificatifs` list when a file has one (v0 exports, other producers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HEADING = "Justificatifs à apporter :"
_BLOCK = re.compile(r"(?:^|\n)[ \t]*Justificatifs à apporter :[ \t]*\n((?:[ \t]*[-•*][^\n]*(?:\n|$))+)\s*$")


def clean(items: Iterable[str]) -> list[str]:
    """Each item once, spaces collapsed, a leading dash or bullet dropped, empty ones left out."""
    found = (" ".join(re.sub(r"^[\s\-–•*]+", "", str(item)).split()) for item in items)
    return list(dict.fromkeys(item for item in found if item))


def with_block(conditions: str, items: list[str]) -> str:
    """The access conditions with the things to bring written after them."""
    if not items:
        return conditions
    block = "\n".join([HEADING, *(f"- {item}" for item in items)])
    return f"{conditions.rstrip()}\n\n{block}" if conditions.strip() else block


def split_block(conditions: str) -> tuple[str, list[str]]:
    """(the access conditions without the block, the things to bring it listed)."""
    found = _BLOCK.search(conditions)
    if not found:
        return conditions, []
    return conditions[: found.start()].rstrip(), clean(found.group(1).splitlines())
