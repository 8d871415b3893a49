"""Duplicate structures: flagged on import and on creation, merged by the coordinator keeping history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub import accounts
from hub.errors import Conflict, Forbidden
from hub.tables import JournalEntry, Membership
from network import duplicates
from network.exchange import importing
from network.tables import DuplicateFlag, Service, Structure
from tests.conftest import make_person

DATA = Path(__file__).parent / "data"


async def structure(name: str, **fields) -> int:
    row = Structure(
        name=name, commune=fields.pop("commune", "Orléans"), postal_code=fields.pop("postal_code", "45000"), **fields
    )
    await row.save()
    return int(row.id)


async def flags() -> list[dict]:
    return await DuplicateFlag.select().order_by(DuplicateFlag.id)


def test_names_and_addresses_are_compared_without_accents_case_or_abbreviations():
    assert duplicates.normalise("Centre Social « Les Tilleuls »") == "centre social les tilleuls"
    assert duplicates.address_key("12 av. Jean-Jaurès", "45000") == duplicates.address_key(
        "12 Avenue Jean Jaures", "45000"
    )
    assert duplicates.address_key("", "45000") == ""


async def test_same_siret_is_flagged_on_import(rt, tmp_path):
    own = await structure("Maison France Services", siret="13481780311533", commune="Saran", postal_code="45770")
    report = await importing.import_paths(
        rt, [DATA / "datainclusion_structures.csv", DATA / "datainclusion_services.csv"], "datainclusion"
    )
    assert report.duplicates_flagged == 1
    (flag,) = await flags()
    saran = await Structure.select(Structure.id).where(Structure.source_id == "france-services-saran").first()
    assert {flag["structure"], flag["other"]} == {own, saran["id"]}
    assert flag["reason"] == "siret" and flag["status"] == "open"


async def test_close_name_at_the_same_address_or_commune_is_flagged(rt):
    tilleuls = await structure("Centre social Les Tilleuls", address="12 rue des Lilas")
    near = await structure("Centre Social des Tilleuls", address="12 r. des Lilas")
    elsewhere = await structure("Centre social les Tilleuls", commune="Saran", postal_code="45770")
    other_name = await structure("Médiathèque des Tilleuls", address="12 rue des Lilas")
    same_commune = await structure("CENTRE SOCIAL LES TILLEULS (antenne)", address="3 place du Marché")
    added = await duplicates.flag_duplicates(rt, [near, elsewhere, other_name, same_commune])
    found = {frozenset((f["structure"], f["other"])): f["reason"] for f in await flags()}
    assert found[frozenset((tilleuls, near))] == "name_address"
    assert frozenset((tilleuls, elsewhere)) not in found  # another commune
    assert not any(other_name in pair for pair in found)  # another name at the same address
    assert found.get(frozenset((tilleuls, same_commune))) in (None, "name_commune")
    assert added == len(found)
    # a name close enough in the same commune, at another address
    twin = await structure("Centre social Les Tilleuls", address="40 boulevard Alexandre Martin")
    await duplicates.flag_duplicates(rt, [twin])
    found = {frozenset((f["structure"], f["other"])): f["reason"] for f in await flags()}
    assert found[frozenset((tilleuls, twin))] == "name_commune"


async def test_a_pair_is_flagged_once_even_after_dismissal(rt):
    coordinator = await make_person(rt, "coordination@reseau.example.fr", coordinator=True)
    actor = await accounts.actor_for_user(coordinator.id)
    a = await structure("CCAS d'Orléans", siret="94241319246499")
    b = await structure("Centre communal d'action sociale", siret="94241319246499", commune="Orléans")
    assert await duplicates.flag_duplicates(rt, [b]) == 1
    assert await duplicates.flag_duplicates(rt, [a, b]) == 0
    (flag,) = await flags()
    assert [f["id"] for f in await duplicates.open_flags()] == [flag["id"]]
    await duplicates.dismiss(rt, actor, flag["id"])
    assert await duplicates.flag_duplicates(rt, [a]) == 0
    assert (await flags())[0]["status"] == "dismissed" and await duplicates.open_flags() == []


async def test_creation_form_can_warn_before_saving(rt):
    existing = await structure(
        "Espace public numérique de La Source", address="4 place Sainte-Beuve", postal_code="45100"
    )
    matches = await duplicates.similar_to(
        {
            "name": "Espace Public Numérique La Source",
            "address": "4 pl. Sainte-Beuve",
            "postal_code": "45100",
            "commune": "Orléans",
        }
    )
    assert [(m.other_id, m.reason) for m in matches] == [(existing, "name_address")]
    assert await duplicates.similar_to({"name": "Mission locale", "commune": "Orléans", "postal_code": "45000"}) == []


async def test_merge_moves_services_and_members_and_keeps_history(rt):
    coordinator = await make_person(rt, "coordination@reseau.example.fr", coordinator=True)
    actor = await accounts.actor_for_user(coordinator.id)
    keep = await structure("Centre social de l'Argonne", address="1 rue Pierre Ségelle")
    drop = await structure(
        "Centre Social Argonne", address="1 rue Pierre Segelle", siret="63353632004716", phone="+33238000001"
    )
    for sid, name in ((keep, "Accueil"), (drop, "Aide aux démarches"), (drop, "Atelier numérique")):
        await Service.insert(Service(structure=sid, name=name))
    both = await make_person(rt, "nadia@argonne.example.fr", {keep: ["manager"], drop: ["manager"]})
    only_drop = await make_person(rt, "paul@argonne.example.fr", {drop: ["aidant"]})
    await duplicates.flag_duplicates(rt, [drop])
    (flag,) = await flags()

    outcome = await duplicates.merge(rt, actor, keep, drop)

    assert (outcome.services_moved, outcome.memberships_moved, outcome.memberships_left) == (2, 1, 1)
    assert await Service.count().where(Service.structure == keep) == 3
    dropped = await Structure.select().where(Structure.id == drop).first()
    assert dropped["status"] == "closed" and dropped["merged_into"] == keep  # kept, closed, pointing to the survivor
    kept = await Structure.select().where(Structure.id == keep).first()
    assert kept["siret"] == "63353632004716" and kept["phone"] == "+33238000001"  # blanks filled, nothing lost
    assert set(outcome.fields_filled) == {"siret", "phone"}
    assert await Membership.exists().where((Membership.user == only_drop.id) & (Membership.structure == keep))
    # the role Nadia already held stays on the closed structure, as history
    assert await Membership.count().where((Membership.user == both.id) & (Membership.structure == drop)) == 1
    assert (await DuplicateFlag.select().where(DuplicateFlag.id == flag["id"]).first())["status"] == "merged"
    entry = await JournalEntry.select().where(JournalEntry.action == "structure_merged").first()
    assert entry["object_id"] == str(drop) and json.loads(entry["details"])["services"] == 2
    assert await Structure.count() == 2  # nothing deleted
    with pytest.raises(Conflict):
        await duplicates.merge(rt, actor, keep, drop)


async def test_only_the_coordinator_merges(rt):
    a, b = await structure("Structure A"), await structure("Structure B")
    manager = await make_person(rt, "nadia@a.example.fr", {a: ["manager"], b: ["manager"]})
    with pytest.raises(Forbidden):
        await duplicates.merge(rt, await accounts.actor_for_user(manager.id), a, b)
    assert (await Structure.select(Structure.status).where(Structure.id == b).first())["status"] == "active"


async def test_reimport_after_merge_attaches_services_to_the_kept_structure(rt):
    coordinator = await make_person(rt, "coordination@reseau.example.fr", coordinator=True)
    actor = await accounts.actor_for_user(coordinator.id)
    await importing.import_paths(rt, [DATA / "datainclusion_valid.json"], "datainclusion")
    keep = await structure("Centre social de l'Argonne (fiche du réseau)", address="1 rue Pierre Ségelle")
    argonne = (await Structure.select(Structure.id).where(Structure.source_id == "cs-argonne").first())["id"]
    await duplicates.merge(rt, actor, keep, argonne)
    report = await importing.import_paths(rt, [DATA / "datainclusion_valid.json"], "datainclusion")
    assert report.counts("service") == {"unchanged": 4}
    assert await Service.count().where(Service.structure == keep) == 2
    assert await Service.count().where(Service.structure == argonne) == 0
