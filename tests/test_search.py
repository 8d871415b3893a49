"""Directory search (network.search): words, filters, places, distance, opening hours, index upkeep.

Every test runs on the engine the suite runs on (a SQLite file, or PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from hub.db import PG_WORK_MEM, current_engine
from hub.errors import Invalid
from network.search import index as search_index
from network.search.hours import PARIS, is_open, paris_minute
from network.search.query import ENOUGH_MATCH_EVERY_IDEA, Origin, SearchQuery, search
from network.search.synonyms import REVIEWED
from network.search.text import concepts, query_terms
from network.tables import Service, ServiceTag, Structure
from tests.conftest import make_service, make_structure

pytestmark = pytest.mark.usefixtures("app")

TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
TUESDAY_15H = datetime(2026, 11, 24, 15, 0, tzinfo=PARIS)
BASTILLE_DAY_10H = datetime(2026, 7, 14, 10, 0, tzinfo=PARIS)  # a Tuesday and a public holiday
MORNINGS = "Mo-Fr 08:30-12:30; PH off"


async def names(now: datetime = TUESDAY_10H, **query: Any) -> list[str]:
    page = await search(SearchQuery(**query), now=now)
    return [hit.service_name for hit in page.hits]


# ---------------------------------------------------------------- words
async def test_words_match_without_accents_or_case_and_as_prefixes() -> None:
    structure = await make_structure()
    await make_service(structure, "Démarches CAF en ligne", description="Votre espace personnel CAF.")
    await make_service(structure, "Atelier numérique", description="Apprendre l'ordinateur et la tablette.")
    await make_service(structure, "Cours de français")

    assert await names(text="demarche caf") == ["Démarches CAF en ligne"]
    assert await names(text="DÉMARCHES Caf") == ["Démarches CAF en ligne"]
    assert await names(text="numerique") == ["Atelier numérique"]
    assert await names(text="Numériq") == ["Atelier numérique"]
    assert await names(text="ordi") == ["Atelier numérique"]  # a prefix, from the description
    assert await names(text="ateliers numériques") == ["Atelier numérique"]  # plurals
    assert await names(text="francais") == ["Cours de français"]
    # ranked by how many words match, not every word required: "aide" is nowhere, "démarches" is
    assert await names(text="aide pour les démarches") == ["Démarches CAF en ligne"]
    assert await names(text="les démarches de la caf") == ["Démarches CAF en ligne"]  # stop words are not


async def test_caf_finds_the_caf_by_its_kind_and_its_name() -> None:
    caf = await make_structure("Caisse d'allocations familiales du Loiret", kind="CAF")
    other = await make_structure("Médiathèque Jean-Moulin", kind="BIB")
    await make_service(caf, "Accueil sur rendez-vous")
    await make_service(other, "Prêt de liseuses")
    await make_service(other, "Point numérique CAF")

    assert sorted(await names(text="caf")) == ["Accueil sur rendez-vous", "Point numérique CAF"]
    assert sorted(await names(text="mediatheque")) == ["Point numérique CAF", "Prêt de liseuses"]


async def test_the_service_name_ranks_before_the_description() -> None:
    structure = await make_structure()
    await make_service(structure, "Permanence logement", description="On vous aide aussi pour le budget.")
    await make_service(structure, "Aide au budget", description="Rendez-vous avec une conseillère.")

    page = await search(SearchQuery(text="budget"), now=TUESDAY_10H)

    assert [hit.service_name for hit in page.hits] == ["Aide au budget", "Permanence logement"]
    assert page.sort == "relevance" and page.terms == ("budget",)
    assert page.hits[0].score is not None and page.hits[0].score >= (page.hits[1].score or 0)


async def test_thematique_labels_places_and_the_structure_are_searchable() -> None:
    structure = await make_structure("Maison de quartier Bel-Air", kind="MQ", neighbourhood="Les Aulnaies")
    await make_service(
        structure,
        "Permanence du mardi",
        thematiques=["numerique--acquerir-un-equipement"],
        places=[{"name": "Salle polyvalente", "commune": "Saint-Jean-de-Braye", "neighbourhood": "Le Bourg"}],
    )

    for words in ("équipement", "maison de quartier bel air", "aulnaies", "saint jean braye", "salle polyvalente"):
        assert await names(text=words) == ["Permanence du mardi"], words


async def test_the_snippet_shows_the_words_found() -> None:
    structure = await make_structure()
    description = "Un lieu chaleureux. " * 12 + "Nous aidons pour la déclaration de revenus en ligne."
    await make_service(structure, "Accueil", description=description)

    page = await search(SearchQuery(text="declaration revenus"), now=TUESDAY_10H)

    assert page.hits[0].snippet.startswith("…")
    assert "déclaration de revenus" in page.hits[0].snippet
    assert len(page.hits[0].snippet) <= 190


# ---------------------------------------------------------------- filters
async def test_filters_by_codes_category_and_structure() -> None:
    caf = await make_structure("CAF du Loiret", kind="CAF")
    social = await make_structure("Centre social Dauphine", kind="CS")
    await make_service(
        caf,
        "Démarches en ligne",
        thematiques=["numerique--acceder-a-des-services-en-ligne"],
        publics=["tous-publics"],
        fees=["gratuit"],
        types=["accompagnement"],
        reception_modes=["en-presentiel", "a-distance"],
        accommodations=["surdite", "mobilite-reduite"],
        languages=["fr", "ar"],
        accepts_referrals=True,
    )
    await make_service(
        social,
        "Atelier smartphone",
        thematiques=["numerique--maitriser-les-fondamentaux-du-numerique"],
        publics=["seniors"],
        fees=["payant"],
        types=["atelier"],
        reception_modes=["en-presentiel"],
        accommodations=["mobilite-reduite"],
        languages=["fr"],
    )
    await make_service(
        social,
        "Aide au budget",
        thematiques=["difficultes-financieres--ameliorer-sa-gestion-budgetaire"],
        publics=["familles"],
        fees=["gratuit"],
    )

    assert await names(thematiques=("numerique--acceder-a-des-services-en-ligne",)) == ["Démarches en ligne"]
    assert await names(thematiques=("numerique",)) == ["Atelier smartphone", "Démarches en ligne"]  # by name
    assert await names(thematiques=("numerique", "difficultes-financieres")) == [
        "Aide au budget",
        "Atelier smartphone",
        "Démarches en ligne",
    ]
    assert await names(publics=("seniors", "familles")) == ["Aide au budget", "Atelier smartphone"]
    assert await names(fees=("gratuit",)) == ["Aide au budget", "Démarches en ligne"]
    assert await names(types=("atelier",)) == ["Atelier smartphone"]
    assert await names(reception_modes=("a-distance",)) == ["Démarches en ligne"]
    assert await names(accommodations=("mobilite-reduite",)) == ["Atelier smartphone", "Démarches en ligne"]
    assert await names(accommodations=("mobilite-reduite", "surdite")) == ["Démarches en ligne"]  # all needed
    assert await names(languages=("ar",)) == ["Démarches en ligne"]
    assert await names(structure_kinds=("CAF",)) == ["Démarches en ligne"]
    assert await names(accepts_referrals=True) == ["Démarches en ligne"]
    assert await names(text="atelier", thematiques=("numerique",), fees=("payant",)) == ["Atelier smartphone"]
    assert await names(text="atelier", fees=("gratuit",)) == []


async def test_filter_by_commune_or_neighbourhood_of_the_structure_or_a_place() -> None:
    orleans = await make_structure("CCAS d'Orléans", kind="CCAS", commune="Orléans", insee_code="45234")
    montclair = await make_structure("Mairie de Montclair", kind="MUNI", neighbourhood="Centre-ville")
    await make_service(orleans, "Aide sociale")
    await make_service(
        montclair,
        "Permanence itinérante",
        places=[
            {
                "commune": "Orléans",
                "insee_code": "45234",
                "neighbourhood": "La Source",
                "latitude": 47.84,
                "longitude": 1.94,
            }
        ],
    )
    await make_service(montclair, "État civil")

    assert await names(commune="orleans") == ["Aide sociale", "Permanence itinérante"]
    assert await names(commune="ORLÉANS") == ["Aide sociale", "Permanence itinérante"]
    assert await names(commune="45234") == ["Aide sociale", "Permanence itinérante"]
    assert await names(commune="Montclair-sur-Loire") == ["État civil", "Permanence itinérante"]
    assert await names(neighbourhood="la source") == ["Permanence itinérante"]
    assert await names(neighbourhood="centre ville") == ["État civil", "Permanence itinérante"]
    assert await names(commune="Orléans", neighbourhood="La Source") == ["Permanence itinérante"]
    assert await names(text="aide", commune="orleans") == ["Aide sociale"]

    page = await search(SearchQuery(commune="orleans"), now=TUESDAY_10H)
    itinerant = next(hit for hit in page.hits if hit.service_name == "Permanence itinérante")
    assert (itinerant.commune, itinerant.neighbourhood, itinerant.latitude) == ("Orléans", "La Source", 47.84)


# ---------------------------------------------------------------- distance
async def test_distance_order_and_radius() -> None:
    # From Orléans' cathedral (47.9022, 1.9090): Olivet ~4 km, Saran ~6.5 km, Gien ~60 km.
    for name, lat, lon in (("Gien", 47.6880, 2.6310), ("Olivet", 47.8633, 1.9000), ("Saran", 47.9500, 1.8750)):
        structure = await make_structure(f"Point numérique {name}", commune=name, latitude=lat, longitude=lon)
        await make_service(structure, f"Atelier numérique {name}")
    nowhere = await make_structure("Sans adresse", commune="")
    await make_service(nowhere, "Atelier numérique à distance")
    here = {"latitude": 47.9022, "longitude": 1.9090}

    page = await search(SearchQuery(text="atelier", sort="distance", **here), now=TUESDAY_10H)

    assert page.sort == "distance"
    assert [hit.service_name for hit in page.hits] == [
        "Atelier numérique Olivet",
        "Atelier numérique Saran",
        "Atelier numérique Gien",
        "Atelier numérique à distance",  # no coordinates: last, without a distance
    ]
    distances = [hit.distance_m for hit in page.hits]
    assert distances[3] is None
    assert 4_000 < distances[0] < 4_800 and 5_500 < distances[1] < 6_500 and 57_000 < distances[2] < 62_000  # type: ignore[operator]

    assert await names(radius_m=10_000, **here) == ["Atelier numérique Olivet", "Atelier numérique Saran"]
    # Without words, nearest first, page by page (widening circles, then everything).
    pages = [
        await search(SearchQuery(limit=limit, offset=offset, **here), now=TUESDAY_10H)
        for limit, offset in ((2, 0), (1, 2), (1, 3), (5, 4))
    ]
    assert [[hit.service_name for hit in page.hits] for page in pages] == [
        ["Atelier numérique Olivet", "Atelier numérique Saran"],
        ["Atelier numérique Gien"],
        ["Atelier numérique à distance"],
        [],
    ]
    assert {(page.sort, page.total) for page in pages} == {("distance", 4)}


# ---------------------------------------------------------------- opening hours
async def test_open_now_with_a_fixed_clock_in_paris() -> None:
    mornings = await make_structure("Centre social des matins", opening_hours=MORNINGS)
    no_hours = await make_structure("Association sans horaires")
    await make_service(mornings, "Accueil du matin")  # the structure's hours
    await make_service(mornings, "Atelier de l'après-midi", opening_hours="Tu,Th 14:00-17:00; PH off")
    await make_service(mornings, "Sur rendez-vous", opening_hours='Tu 09:00-12:00 unknown "sur rendez-vous"')
    await make_service(no_hours, "Permanence sans horaires")
    await make_service(no_hours, "Horaires illisibles", opening_hours="le mardi matin")

    assert await names(open_now=True) == ["Accueil du matin"]  # "unknown" is not open
    assert await names(open_now=True, now=TUESDAY_15H) == ["Atelier de l'après-midi"]
    assert await names(open_now=True, now=BASTILLE_DAY_10H) == []  # "PH off": closed on 14 July
    assert await names(open_at=datetime(2026, 11, 26, 15, 30)) == ["Atelier de l'après-midi"]  # naive = Paris
    tuesday_9h = datetime(2026, 11, 24, 9, 0, tzinfo=PARIS)
    assert await names(open_at=tuesday_9h, open_now=True, now=TUESDAY_15H) == ["Accueil du matin"]

    page = await search(SearchQuery(text="horaires"), now=TUESDAY_10H)
    assert {hit.service_name: (hit.open_now, hit.opening_hours) for hit in page.hits} == {
        "Permanence sans horaires": (False, ""),
        "Horaires illisibles": (False, "le mardi matin"),
    }
    morning = (await search(SearchQuery(text="accueil matin"), now=TUESDAY_10H)).hits[0]
    assert (morning.open_now, morning.opening_hours) == (True, MORNINGS)
    assert page.at == TUESDAY_10H


def test_opening_hours_are_read_in_paris_time() -> None:
    assert not is_open(MORNINGS, datetime(2026, 11, 24, 8, 0, tzinfo=PARIS))
    utc_morning = datetime.fromisoformat("2026-11-24T08:00:00+00:00")  # 09:00 in Paris (winter)
    assert is_open(MORNINGS, utc_morning)
    assert paris_minute(utc_morning) == datetime(2026, 11, 24, 9, 0, tzinfo=PARIS)
    assert not is_open(MORNINGS, datetime.fromisoformat("2026-07-14T08:00:00+00:00"))
    assert not is_open("", utc_morning) and not is_open("n'importe quoi", utc_morning)


# ---------------------------------------------------------------- what never shows
async def test_closed_or_pending_structures_and_inactive_services_never_appear() -> None:
    active = await make_structure("Centre social ouvert")
    pending = await make_structure("Centre social en attente", status="pending")
    closed = await make_structure("Centre social fermé", status="closed")
    kept = await make_service(active, "Atelier numérique ouvert")
    gone = await make_service(active, "Atelier numérique arrêté", is_active=False)
    await make_service(pending, "Atelier numérique en attente")
    await make_service(closed, "Atelier numérique fermé")
    assert await names(text="atelier") == ["Atelier numérique ouvert"]

    # Closing a structure or stopping a service hides it at once, before any reindex (triggers).
    await Service.update({Service.is_active: False}).where(Service.id == kept)
    assert await names(text="atelier") == []
    await Service.update({Service.is_active: True}).where(Service.id.is_in([kept, gone]))
    await search_index.reindex_structure(active)
    assert sorted(await names(text="atelier")) == ["Atelier numérique arrêté", "Atelier numérique ouvert"]
    await Structure.update({Structure.status: "closed"}).where(Structure.id == active)
    assert await names(text="atelier") == []

    # Approving the pending structure and reindexing it shows its services.
    await Structure.update({Structure.status: "active"}).where(Structure.id == pending)
    await search_index.reindex_structure(pending)
    assert await names(text="atelier") == ["Atelier numérique en attente"]


async def test_a_deleted_service_leaves_the_index() -> None:
    structure = await make_structure()
    service = await make_service(structure, "Écrivain public")
    await Service.delete().where(Service.id == service)

    assert await names(text="ecrivain") == []
    await make_service(structure, "Écrivain public")  # the same words again, a new row
    assert await names(text="ecrivain") == ["Écrivain public"]


# ---------------------------------------------------------------- index upkeep
async def test_reindex_after_an_edit_and_only_when_something_changed() -> None:
    structure = await make_structure("Centre social des Tilleuls")
    service = await make_service(structure, "Atelier tablette")

    await Service.update({Service.name: "Atelier smartphone"}).where(Service.id == service)
    assert await names(text="smartphone") == []  # not reindexed yet
    report = await search_index.reindex_services([service])
    assert (report.written, report.indexed) == (1, 1)
    assert await names(text="tablette") == []
    assert await names(text="smartphone") == ["Atelier smartphone"]
    assert (await search_index.reindex_services([service])).written == 0  # unchanged: nothing rewritten

    await Structure.update({Structure.name: "Maison des solidarités"}).where(Structure.id == structure)
    await search_index.reindex_structure(structure)
    assert await names(text="solidarites smartphone") == ["Atelier smartphone"]
    assert await names(text="tilleuls") == []


async def test_sync_tags_mirrors_the_code_lists_and_is_idempotent() -> None:
    structure = await make_structure()
    service = Service(
        structure=structure,
        name="Aide aux démarches",
        thematiques=["numerique--acceder-a-des-services-en-ligne"],
        publics=["seniors", "familles"],
        fees=["gratuit"],
        languages=["fr"],
    )
    await service.save()

    assert await search_index.sync_tags_bulk([service.id]) == 5
    assert await search_index.sync_tags_bulk([service.id]) == 0
    await Service.update({Service.publics: ["seniors"], Service.accommodations: ["surdite"]}).where(
        Service.id == service.id
    )
    assert await search_index.sync_tags_bulk([service.id]) == 2  # one deleted, one added
    rows = await ServiceTag.select(ServiceTag.kind, ServiceTag.code).where(ServiceTag.service == service.id)
    assert sorted((r["kind"], r["code"]) for r in rows) == [
        ("accommodation", "surdite"),
        ("fee", "gratuit"),
        ("language", "fr"),
        ("public", "seniors"),
        ("thematique", "numerique--acceder-a-des-services-en-ligne"),
    ]


async def test_rebuild_index_catches_up_with_rows_written_behind_its_back() -> None:
    structure = await make_structure()
    for n in range(3):
        await Service(structure=structure, name=f"Permanence {n}", fees=["gratuit"]).save()
    assert await names(text="permanence") == []

    report = await search_index.rebuild_index()

    assert (report.services, report.indexed, report.written, report.tags_written) == (3, 3, 3, 3)
    assert await names(text="permanence", fees=("gratuit",)) == ["Permanence 0", "Permanence 1", "Permanence 2"]
    again = await search_index.rebuild_index()
    assert (again.written, again.removed, again.tags_written) == (0, 0, 0)


# ---------------------------------------------------------------- pages and bad input
async def test_pages_and_total() -> None:
    structure = await make_structure()
    for n in range(25):
        await make_service(structure, f"Atelier {n:02d}")

    first = await search(SearchQuery(text="atelier", limit=10), now=TUESDAY_10H)
    last = await search(SearchQuery(text="atelier", limit=10, offset=20), now=TUESDAY_10H)
    beyond = await search(SearchQuery(text="atelier", limit=10, offset=40), now=TUESDAY_10H)
    by_name = await search(SearchQuery(limit=10, offset=10), now=TUESDAY_10H)

    assert (first.total, len(first.hits), last.total, len(last.hits)) == (25, 10, 25, 5)
    assert (beyond.total, beyond.hits) == (25, [])
    assert [hit.service_name for hit in by_name.hits] == [f"Atelier {n:02d}" for n in range(10, 20)]
    assert by_name.total == 25 and by_name.sort == "name"
    everything = [
        hit.service_id
        for n in range(0, 25, 10)
        for hit in (await search(SearchQuery(text="atelier", limit=10, offset=n), now=TUESDAY_10H)).hits
    ]
    assert len(set(everything)) == 25


async def test_a_query_that_cannot_be_searched_is_refused_in_french() -> None:
    with pytest.raises(Invalid) as refused:
        await search(SearchQuery(thematiques=("cuisine",), publics=("martiens",), limit=0), now=TUESDAY_10H)
    assert set(refused.value.fields) == {"thematiques", "publics", "limit"}
    assert "Thématique inconnue : cuisine" in refused.value.fields["thematiques"]
    with pytest.raises(Invalid) as refused:
        await search(SearchQuery(latitude=91.0, longitude=2.0), now=TUESDAY_10H)
    assert "latitude" in refused.value.fields
    with pytest.raises(Invalid):
        await search(SearchQuery(radius_m=5000), now=TUESDAY_10H)  # a radius needs a point
    with pytest.raises(Invalid) as refused:
        await search(SearchQuery(text="atelier", sort="distance"), now=TUESDAY_10H)  # so does the distance order
    assert "point de départ" in refused.value.fields["sort"]
    with pytest.raises(Invalid) as refused:  # an address found, or a point: not both
        await search(
            SearchQuery(latitude=47.9, longitude=1.9), now=TUESDAY_10H, origin=Origin(latitude=47.8, longitude=1.8)
        )
    assert "pas les deux" in refused.value.fields["latitude"]


async def test_an_instant_at_the_edge_of_the_calendar_finds_nothing_open() -> None:
    structure = await make_structure()
    await make_service(structure, "Toujours ouvert", opening_hours="24/7")
    edge = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=23)))  # before year 1 in Paris
    assert await names(open_at=edge) == []
    assert await names(open_at=datetime(2026, 11, 24, 3, 0)) == ["Toujours ouvert"]


async def test_words_that_look_like_nothing_find_nothing_without_error() -> None:
    structure = await make_structure()
    await make_service(structure, "Aide", fees=["gratuit"])
    for text in ('"', "*", "AND OR NOT", "le la les", "zq", "a:b", "NEAR(", "'; DROP TABLE x; --", "é" * 150):
        page = await search(SearchQuery(text=text), now=TUESDAY_10H)
        assert page.total == (1 if not query_terms(text) else 0), text


async def test_the_pools_sessions_carry_the_engines_settings() -> None:
    """The app's session settings on the pool's connections: PostgreSQL's (hub.db.PG_SESSION) rank in memory and
    compile nothing; SQLite's keep readers beside the writer (WAL) and enforce foreign keys."""
    if isinstance(current_engine(), SQLiteEngine):
        assert await Service.raw("PRAGMA journal_mode") == [{"journal_mode": "wal"}]
        assert await Service.raw("PRAGMA foreign_keys") == [{"foreign_keys": 1}]
        return
    assert await Service.raw("SHOW work_mem") == [{"work_mem": PG_WORK_MEM}]  # large result sets ranked in memory
    # compiling the semester's figures cost more than running them (bench/report_pack)
    assert await Service.raw("SHOW jit") == [{"jit": "off"}]


async def test_results_are_ranked_by_how_many_ideas_they_match_with_synonyms_and_stems() -> None:
    structure = await make_structure("Maison France Services")
    await make_service(structure, "Carte grise et permis", description="Vos démarches ANTS en ligne.")
    await make_service(structure, "Aide aux démarches administratives", description="Un agent vous aide.")
    await make_service(structure, "Accompagnement administratif", description="Pour les démarches.")
    await make_service(structure, "Atelier tablette")

    assert await names(text="immatriculation") == ["Carte grise et permis"]  # a synonym of the field
    assert await names(text="ants carte grise") == ["Carte grise et permis"]  # one idea, not three words
    page = await search(SearchQuery(text="aide démarches administratives"), now=TUESDAY_10H)
    # "accompagnement" is "aide", "administratif" is "administratives" (stems): both match all three ideas
    assert page.ideas == 3 and {hit.matched for hit in page.hits} == {3}
    assert sorted(hit.service_name for hit in page.hits) == [
        "Accompagnement administratif",
        "Aide aux démarches administratives",
    ]
    partly = await search(SearchQuery(text="atelier démarches"), now=TUESDAY_10H)
    assert [hit.matched for hit in partly.hits] == [1, 1, 1, 1]  # one of two ideas is enough, ranked after all
    both = await search(SearchQuery(text="démarches ants"), now=TUESDAY_10H)
    assert both.hits[0].service_name == "Carte grise et permis" and [h.matched for h in both.hits] == [2, 1, 1]
    assert await names(text="démarches ants", sort="name") == [
        "Accompagnement administratif",
        "Aide aux démarches administratives",
        "Carte grise et permis",
    ]


def test_a_synonym_found_through_another_one_is_not_searched_again() -> None:
    # "allocations familiales" is found by "allocations" alone, "centre communal d'action sociale" by "action
    # sociale": the full-text index reads each idea's shortest forms only
    assert concepts("caf", REVIEWED) == [(("caf",), ("alloc",), ("prest", "familiale"))]
    assert concepts("ccas", REVIEWED) == [(("ccas",), ("action", "sociale"))]
    assert concepts("carte vitale", [("carte vitale", "vitale carte")]) == [(("carte", "vitale"),)]  # the first


async def test_a_word_finds_its_plain_forms_and_its_french_stem() -> None:
    structure = await make_structure("Maison des solidarités", kind="MDS")
    await make_service(structure, "Minima sociaux", description="Dossiers de RSA.")
    await make_service(structure, "Allocations familiales", description="Vos prestations.")
    await make_service(structure, "Atelier tablette")

    assert await names(text="familiale") == ["Allocations familiales"]
    if not isinstance(current_engine(), SQLiteEngine):  # French stems (SQLite matches the words as prefixes)
        assert await names(text="social") == ["Minima sociaux"]  # "sociaux" has "social" for stem
    assert await names(text="caf") == ["Allocations familiales"]  # through its synonym, without a phrase


async def test_when_enough_services_match_every_idea_partial_matches_stay_out() -> None:
    structure = await make_structure()
    await make_service(structure, "Atelier seul")  # one idea of two
    for n in range(ENOUGH_MATCH_EVERY_IDEA - 1):
        await make_service(structure, f"Atelier numérique {n:02d}")
    assert len(await names(text="atelier numérique", limit=100)) == ENOUGH_MATCH_EVERY_IDEA  # the partial one too
    await make_service(structure, "Atelier numérique 99")
    page = await search(SearchQuery(text="atelier numérique", limit=100), now=TUESDAY_10H)
    assert page.total == ENOUGH_MATCH_EVERY_IDEA and "Atelier seul" not in [h.service_name for h in page.hits]
