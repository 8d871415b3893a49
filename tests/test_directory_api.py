"""The open directory's search API (GET /api/v1/directory/services): every filter, distance from a point or a
typed address, and problem+json in French for what cannot be searched.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import make_service, make_structure

pytestmark = pytest.mark.usefixtures("app")

API = "/api/v1/directory/services"
GEOCODE = "/api/v1/directory/geocode"
# Orléans' cathedral; Olivet is ~4 km south, Saran ~6.5 km north-west, Gien ~60 km east.
CATHEDRAL = {"lat": "47.9022", "lon": "1.9090"}


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(API, params=params)
    assert response.status_code == 200, response.text
    return [hit["service_name"] for hit in response.json()["hits"]]


async def problem(client: httpx.AsyncClient, status: int, **params: Any) -> dict[str, str]:
    """The problem+json answer's fields (parameter → French message)."""
    response = await client.get(API, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    return {error["field"]: error["message"] for error in body.get("errors", [])}


@pytest.fixture
async def directory(app: Litestar) -> None:
    """Three services that differ on every filter, in three towns, one of them closed on Tuesday mornings."""
    caf = await make_structure(
        "CAF du Loiret",
        kind="CAF",
        commune="Olivet",
        insee_code="45232",
        postal_code="45160",
        address="8 avenue des Tilleuls",
        neighbourhood="Les Tilleuls",
        latitude=47.8633,
        longitude=1.9000,
    )
    social = await make_structure(
        "Centre social Dauphine",
        kind="CS",
        commune="Saran",
        insee_code="45302",
        postal_code="45770",
        address="12 rue de la République",
        neighbourhood="Le Bourg",
        latitude=47.9500,
        longitude=1.8750,
    )
    far = await make_structure(
        "Médiathèque de Gien", kind="BIB", commune="Gien", postal_code="45500", latitude=47.6880, longitude=2.6310
    )
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
        opening_hours="24/7",
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
        opening_hours="Tu 14:00-18:00",
    )
    await make_service(
        far,
        "Aide au budget",
        thematiques=["difficultes-financieres--ameliorer-sa-gestion-budgetaire"],
        publics=["familles"],
        fees=["gratuit"],
        types=["accompagnement"],
        opening_hours="Tu 09:00-12:00",
    )


# ---------------------------------------------------------------- every filter
@pytest.mark.usefixtures("directory")
async def test_every_filter_of_the_search_page_is_a_parameter(client: httpx.AsyncClient) -> None:
    everything = ["Aide au budget", "Atelier smartphone", "Démarches en ligne"]  # by name without words
    assert await names(client) == everything
    assert await names(client, q="atelier") == ["Atelier smartphone"]
    assert await names(client, thematique="numerique--acceder-a-des-services-en-ligne") == ["Démarches en ligne"]
    assert await names(client, categorie="numerique") == ["Atelier smartphone", "Démarches en ligne"]
    assert (
        await names(
            client, categorie="numerique", thematique=["difficultes-financieres--ameliorer-sa-gestion-budgetaire"]
        )
        == everything
    )
    assert await names(client, public=["seniors", "familles"]) == ["Aide au budget", "Atelier smartphone"]
    assert await names(client, type="atelier") == ["Atelier smartphone"]
    assert await names(client, frais="gratuit") == ["Aide au budget", "Démarches en ligne"]
    assert await names(client, mode_accueil="a-distance") == ["Démarches en ligne"]
    assert await names(client, amenagement="mobilite-reduite") == ["Atelier smartphone", "Démarches en ligne"]
    assert await names(client, amenagement=["mobilite-reduite", "surdite"]) == ["Démarches en ligne"]  # all of them
    assert await names(client, langue="ar") == ["Démarches en ligne"]
    assert await names(client, type_structure=["CAF", "BIB"]) == ["Aide au budget", "Démarches en ligne"]
    assert await names(client, commune="saran") == ["Atelier smartphone"]
    assert await names(client, commune="45232") == ["Démarches en ligne"]
    assert await names(client, quartier="le bourg") == ["Atelier smartphone"]
    assert await names(client, accepte_orientations="true") == ["Démarches en ligne"]
    assert await names(client, ouvert_maintenant="true") == ["Démarches en ligne"]  # 24/7: open whenever this runs
    tuesday = "2026-11-24T10:00:00+01:00"
    assert await names(client, ouvert_le=tuesday) == ["Aide au budget", "Démarches en ligne"]
    assert await names(client, ouvert_le="2026-11-24T15:00") == ["Atelier smartphone", "Démarches en ligne"]  # Paris
    assert await names(client, sort="name", limit="1", offset="1") == ["Atelier smartphone"]


@pytest.mark.usefixtures("directory")
async def test_distance_from_a_point_with_a_radius(client: httpx.AsyncClient) -> None:
    response = await client.get(API, params={**CATHEDRAL, "sort": "distance"})
    page = response.json()
    assert [hit["service_name"] for hit in page["hits"]] == [
        "Démarches en ligne",
        "Atelier smartphone",
        "Aide au budget",
    ]
    assert page["sort"] == "distance"
    assert page["origin"] == {"latitude": 47.9022, "longitude": 1.909, "label": "", "precision": "point", "source": ""}
    assert 4_000 < page["hits"][0]["distance_m"] < 4_800
    assert await names(client, **CATHEDRAL, rayon_m="10000") == ["Démarches en ligne", "Atelier smartphone"]
    # words rank by relevance unless asked otherwise; the distance is given all the same
    relevance = (await client.get(API, params={**CATHEDRAL, "q": "atelier"})).json()
    assert relevance["sort"] == "relevance" and relevance["hits"][0]["distance_m"] > 5_000


async def point_of(client: httpx.AsyncClient, address: str) -> dict[str, Any]:
    response = await client.post(GEOCODE, json={"adresse": address})
    assert response.status_code == 200, response.text
    return response.json()


async def near(client: httpx.AsyncClient, address: str, **params: Any) -> list[str]:
    origin = await point_of(client, address)
    return await names(client, lat=origin["latitude"], lon=origin["longitude"], **params)


@pytest.mark.usefixtures("directory")
async def test_distance_from_a_typed_address_found_by_post_then_searched_by_point(client: httpx.AsyncClient) -> None:
    origin = await point_of(client, "12 r. de la Republique, Saran")
    assert origin["precision"] == "housenumber" and origin["source"] == "annuaire"
    assert origin["label"] == "12 rue de la République, 45770 Saran"
    page = (
        await client.get(API, params={"lat": origin["latitude"], "lon": origin["longitude"], "sort": "distance"})
    ).json()
    assert [hit["service_name"] for hit in page["hits"]] == [
        "Atelier smartphone",
        "Démarches en ligne",
        "Aide au budget",
    ]
    assert page["hits"][0]["distance_m"] == 0.0
    # a commune, a postal code, a neighbourhood: their centre in the directory
    assert (await near(client, "Olivet", sort="distance"))[0] == "Démarches en ligne"
    assert (await near(client, "45500", sort="distance"))[0] == "Aide au budget"
    assert await near(client, "quartier des Tilleuls", rayon_m="1000") == ["Démarches en ligne"]


# ---------------------------------------------------------------- what cannot be searched
@pytest.mark.usefixtures("directory")
async def test_impossible_combinations_are_explained_in_french(client: httpx.AsyncClient) -> None:
    assert "point de départ" in (await problem(client, 400, sort="distance"))["sort"]
    assert "latitude et la longitude" in (await problem(client, 400, lat="47.9"))["lat"]
    assert "autour d'un point" in (await problem(client, 400, rayon_m="5000"))["rayon_m"]
    assert "par exemple 2026-11-24T14:30" in (await problem(client, 400, ouvert_le="0.5"))["ouvert_le"]
    assert set(await problem(client, 400, lat="91", lon="0")) == {"lat"}
    assert set(await problem(client, 400, thematique="cuisine")) == {"thematique"}
    assert set(await problem(client, 400, amenagement="ascenseur")) == {"amenagement"}
    assert set(await problem(client, 400, langue="FR")) == {"langue"}
    assert set(await problem(client, 400, type_structure="BANQUE")) == {"type_structure"}
    assert set(await problem(client, 400, sort="proche")) == {"sort"}


@pytest.mark.usefixtures("directory")
async def test_an_address_that_cannot_be_found_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(GEOCODE, json={"adresse": "3 chemin des Oubliettes, Trifouilly"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    fields = {e["field"]: e["message"] for e in response.json().get("errors", [])} or response.json()
    assert "Adresse introuvable" in str(fields)
    assert "Oubliettes" not in response.text  # the typed address is not echoed back
    assert (await client.post(GEOCODE, json={"adresse": "Saran", "extra": 1})).status_code == 400


async def test_the_document_lists_every_parameter(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"][API]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(parameters) == {
        "q",
        "thematique",
        "categorie",
        "public",
        "type",
        "frais",
        "mode_accueil",
        "amenagement",
        "langue",
        "type_structure",
        "commune",
        "quartier",
        "accepte_orientations",
        "ouvert_maintenant",
        "ouvert_le",
        "lat",
        "lon",
        "rayon_m",
        "sort",
        "limit",
        "offset",
    }
    assert (parameters["lat"]["minimum"], parameters["lat"]["maximum"]) == (-90, 90)
    assert (parameters["lon"]["minimum"], parameters["lon"]["maximum"]) == (-180, 180)
    assert (parameters["rayon_m"]["minimum"], parameters["rayon_m"]["maximum"]) == (1, 1_000_000)
    assert parameters["sort"]["enum"] == ["relevance", "distance", "name"]
    schemas = document["components"]["schemas"]
    assert "mobilite-reduite" in schemas["Amenagement"]["enum"] and "CAF" in schemas["TypeStructure"]["enum"]
    assert set(operation["responses"]) == {"200", "400", "422"}
