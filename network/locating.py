"""A structure's position and INSEE code found from its address (the join form and the structure form): the
directory's geocoder (its gazetteer, the BAN when configured), the latitude and longitude typed only as a
correction.

The rule, for a form's StructureUpdate and the row it replaces (None for a request to join):
- a position typed as a correction (new, or different from the stored one) is kept as typed;
- else the address is looked up when it changed, or when there is no position yet: a house or a street found
  gives the position; the commune's INSEE code comes with it (the BAN's, or the directory's own for that commune);
- a new or changed address not found comes back to the form with a French message; posted again unchanged, the
  entry is saved without a position (the address may be right and simply unknown here); an address saved before
  and still not found is not asked about again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from hub.errors import Invalid
from hub.runtime import Runtime
from network.gazetteer import words_of
from network.geocoding import Geocoder
from network.schemas import PlaceCreate, StructureUpdate
from network.tables import Place, Structure

ADDRESS_NOT_FOUND = (
    "Adresse introuvable sur la carte : vérifiez le numéro, la rue, le code postal et la commune. Si elle est juste, "
    "enregistrez à nouveau : la fiche sera enregistrée sans position (vous pourrez la corriger sous « Corriger la "
    "position sur la carte »)."
)
PRECISE = ("housenumber", "street")  # a commune's centre is not a structure's position


class AddressNotFound(Invalid):
    """The address could not be placed; `key` is what the form posts back to save it anyway."""

    def __init__(self, key: str) -> None:
        super().__init__("Adresse introuvable.", {"address": ADDRESS_NOT_FOUND})
        self.key = key


def address_key(command: StructureUpdate) -> str:
    """The address as one folded line: what a second post must repeat to be saved without a position."""
    return " ".join(words_of(f"{command.address} {command.postal_code} {command.commune}"))


async def insee_of(commune: str, postal_code: str) -> str:
    """The INSEE code the directory's own entries give this commune (the most frequent), or ""."""
    wanted = words_of(commune)
    if not wanted:
        return ""
    found: Counter[str] = Counter()
    for table in (Structure, Place):
        rows = await (
            table.select(table.commune, table.postal_code, table.insee_code)  # type: ignore[attr-defined]
            .where(table.insee_code != "")  # type: ignore[attr-defined]
            .distinct()
        )
        for row in rows:
            if words_of(row["commune"]) == wanted and (not postal_code or row["postal_code"] == postal_code):
                found[row["insee_code"]] += 1
    return found.most_common(1)[0][0] if found else ""


async def placed(
    rt: Runtime, command: StructureUpdate, before: dict[str, Any] | None, unfound: str = ""
) -> StructureUpdate:
    """The command with its position and INSEE code found from the address (see the module's rule)."""
    typed = (command.latitude, command.longitude) if command.latitude is not None else None
    stored = (before["latitude"], before["longitude"]) if before and before["latitude"] is not None else None
    moved = before is None or any(before[f] != getattr(command, f) for f in ("address", "postal_code", "commune"))
    insee = command.insee_code
    if moved and before is not None and insee == before["insee_code"] and command.commune != before["commune"]:
        insee = ""  # the commune changed: its code is found again
    if typed is not None and (typed != stored or not moved):
        return msgspec.structs.replace(
            command, insee_code=insee or await insee_of(command.commune, command.postal_code)
        )
    found, ban_insee = None, ""
    if command.address:
        written = f"{command.address}, {command.postal_code} {command.commune}"
        found, ban_insee = await rt.state(Geocoder).locate_with_code(written)
    if found is None or found.precision not in PRECISE:
        key = address_key(command)
        if command.address and moved and unfound != key:  # an address already saved is not asked about again
            raise AddressNotFound(key)
        return msgspec.structs.replace(
            command,
            latitude=None,
            longitude=None,
            insee_code=insee or await insee_of(command.commune, command.postal_code),
        )
    return msgspec.structs.replace(
        command,
        latitude=found.latitude,
        longitude=found.longitude,
        insee_code=insee or ban_insee or await insee_of(command.commune, command.postal_code),
    )


async def placed_place(rt: Runtime, command: PlaceCreate) -> tuple[PlaceCreate, bool]:
    """A service's new place with its position found from its address (the form has no latitude or longitude
    fields); (the command, whether its address was given and not found)."""
    if (command.latitude is not None and command.longitude is not None) or not command.address:
        return command, False
    found = await rt.state(Geocoder).locate(f"{command.address}, {command.postal_code} {command.commune}")
    if found is None or found.precision not in PRECISE:
        return command, True
    return msgspec.structs.replace(command, latitude=found.latitude, longitude=found.longitude), False
