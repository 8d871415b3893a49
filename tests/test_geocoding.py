"""Typed addresses into points (network.geocoding): the directory's own gazetteer, and the national BAN
geocoder when MAILLAGE_GEOCODER_URL is set, played here by a real HTTP server on loopback answering
geocodejson (an external service's stand-in; our own code runs for real).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar

from hub.runtime import Runtime
from hub.settings import Settings
from network.geocoding import BAN_PAUSE_S, Geocoder
from network.module import DirectorySettings
from network.search import index as search_index
from network.tables import Structure
from tests.conftest import SmtpServer, base_settings, make_service, make_structure

pytestmark = pytest.mark.usefixtures("app")  # the app (and its database) before any row

HOME = "17 rue des Lilas, 45160 Olivet"  # a resident's home, say: personal data
BAN_POINT = (47.8655, 1.9011)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client gave up on a "slow" answer: expected


class BanStandIn:
    """geocodejson answers, as api-adresse.data.gouv.fr gives them; mode: "ok", "empty", "broken" or "slow"."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, list[str]]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                stand_in.requests.append(parse_qs(urlsplit(self.path).query))
                if stand_in.mode == "slow":
                    time.sleep(1.5)
                if stand_in.mode == "broken":
                    self.send_response(502)
                    self.end_headers()
                    return
                body = json.dumps(stand_in.answer()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/search/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self) -> dict[str, Any]:
        features = []
        if self.mode != "empty":
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [BAN_POINT[1], BAN_POINT[0]]},
                    "properties": {
                        "label": "17 Rue des Lilas 45160 Olivet",
                        "score": 0.93,
                        "type": "housenumber",
                        "postcode": "45160",
                        "city": "Olivet",
                    },
                }
            )
        return {"type": "FeatureCollection", "version": "draft", "features": features, "query": "…"}


@pytest.fixture(scope="module")
def ban() -> Iterator[BanStandIn]:
    stand_in = BanStandIn()
    stand_in.thread.start()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture
def settings(tmp_path: Any, database_url: str, smtp_server: SmtpServer, ban: BanStandIn) -> Settings:
    """The suite's settings, with the BAN stand-in as MAILLAGE_GEOCODER_URL and a short timeout."""
    ban.mode, ban.requests[:] = "ok", []
    directory = DirectorySettings(geocoder_url=ban.url, geocoder_timeout_seconds=0.5)
    return base_settings(tmp_path, database_url, smtp_server.port, sections=(directory,))


@pytest.fixture
async def directory(app: Litestar) -> dict[str, int]:
    olivet = await make_structure(
        "CAF du Loiret",
        kind="CAF",
        commune="Olivet",
        postal_code="45160",
        address="8 avenue des Tilleuls",
        neighbourhood="Les Tilleuls",
        latitude=47.8633,
        longitude=1.9000,
    )
    saran = await make_structure(
        "Centre social Dauphine",
        commune="Saran",
        postal_code="45770",
        address="12 bis boulevard Pierre-Mendès-France",
        latitude=47.9500,
        longitude=1.8750,
    )
    await make_service(olivet, "Démarches en ligne")
    await make_service(saran, "Atelier smartphone")
    return {"olivet": olivet, "saran": saran}


def local(rt: Runtime) -> Geocoder:
    """A geocoder of the same directory without the BAN (the embedded default)."""
    return Geocoder()


# ---------------------------------------------------------------- the directory's gazetteer
@pytest.mark.usefixtures("directory")
async def test_the_gazetteer_knows_the_directory_places_without_any_service(rt: Runtime) -> None:
    geocoder = local(rt)
    cases = {
        "olivet": ("Olivet", "municipality"),
        "OLIVET 45160": ("Olivet", "municipality"),
        "45770": ("45770 Saran", "postcode"),
        "les tilleuls": ("quartier Les Tilleuls, Olivet", "neighbourhood"),
        "Quartier des Tilleuls": ("quartier Les Tilleuls, Olivet", "neighbourhood"),
        "8 av. des Tilleuls": ("8 avenue des Tilleuls, 45160 Olivet", "housenumber"),
        "8 avenue des tileuls olivet": ("8 avenue des Tilleuls, 45160 Olivet", "housenumber"),  # a typo
        "30 avenue des Tilleuls, 45160": ("avenue des Tilleuls, 45160 Olivet", "street"),  # no such number
        "12 bis bd Pierre Mendes France": ("12 bis boulevard Pierre-Mendès-France, 45770 Saran", "housenumber"),
        "5 rue Inconnue, Saran": ("Saran", "municipality"),  # an unknown street of a known commune
        "sarran": ("Saran", "municipality"),
    }
    for text, (label, precision) in cases.items():
        found = await geocoder.locate(text)
        assert found is not None, text
        assert (found.label, found.precision, found.source) == (label, precision, "annuaire"), text
    assert await geocoder.locate("Trifouilly-les-Oies") is None
    assert await geocoder.locate("   ") is None


async def test_the_gazetteer_follows_directory_edits(rt: Runtime, directory: dict[str, int]) -> None:
    geocoder = local(rt)
    assert (await geocoder.locate("Saran")) is not None
    assert await geocoder.locate("3 rue Neuve, Saran") == await geocoder.locate("Saran")  # commune centre

    await Structure.update({Structure.address: "3 rue Neuve", Structure.latitude: 47.96}).where(
        Structure.id == directory["saran"]
    )
    await search_index.reindex_structure(directory["saran"])  # what every edit of the directory calls
    # the previous gazetteer answers while the next is built, then the next one
    assert (await geocoder.locate("3 rue Neuve, Saran")).precision == "municipality"  # type: ignore[union-attr]
    await geocoder.settled()
    moved = await geocoder.locate("3 rue Neuve, Saran")
    assert moved is not None and (moved.precision, moved.latitude) == ("housenumber", 47.96)

    await Structure.update({Structure.status: "closed"}).where(Structure.id == directory["saran"])
    await search_index.reindex_structure(directory["saran"])
    await geocoder.gazetteer()
    await geocoder.settled()
    assert await geocoder.locate("Saran") is None  # a closed structure's places are no longer known


# ---------------------------------------------------------------- the BAN
@pytest.mark.usefixtures("directory")
async def test_street_addresses_go_to_the_ban_and_its_answers_are_kept(rt: Runtime, ban: BanStandIn) -> None:
    found = await rt.state(Geocoder).locate(HOME)
    assert found is not None
    assert (found.latitude, found.longitude) == BAN_POINT
    assert (found.label, found.precision, found.source) == ("17 Rue des Lilas 45160 Olivet", "housenumber", "ban")
    [asked] = ban.requests
    assert asked["q"] == [HOME] and asked["limit"] == ["1"]
    assert 47.8 < float(asked["lat"][0]) < 48.0  # the directory's centre: the BAN ranks what is near first

    assert await rt.state(Geocoder).locate("17 rue des lilas 45160 olivet") == found  # from the cache
    assert len(ban.requests) == 1

    assert (await rt.state(Geocoder).locate("Saran")).source == "annuaire"  # type: ignore[union-attr]
    assert len(ban.requests) == 1  # a place the directory knows by name is not asked for


@pytest.mark.usefixtures("directory")
async def test_the_gazetteer_answers_when_the_ban_finds_nothing(rt: Runtime, ban: BanStandIn) -> None:
    ban.mode = "empty"
    found = await rt.state(Geocoder).locate("8 av des Tilleuls Olivet")
    assert found is not None and (found.source, found.precision) == ("annuaire", "housenumber")
    assert len(ban.requests) == 1


@pytest.mark.parametrize("mode", ["broken", "slow"])
@pytest.mark.usefixtures("directory")
async def test_a_failing_ban_falls_back_to_the_gazetteer_and_is_left_alone_a_while(
    rt: Runtime, ban: BanStandIn, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    ban.mode = mode
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    found = await rt.state(Geocoder).locate("8 avenue des Tilleuls, 45160 Olivet")
    assert time.monotonic() - started < 1.4  # the timeout (0.5 s), not the stand-in's 1.5 s
    assert found is not None and found.source == "annuaire"
    assert await rt.state(Geocoder).locate("12 bis boulevard Pierre-Mendès-France, Saran") is not None
    assert len(ban.requests) == 1  # paused after the failure
    assert f"directory gazetteer only for {BAN_PAUSE_S:.0f} s" in caplog.text
    assert "Tilleuls" not in caplog.text and "Mend" not in caplog.text


@pytest.mark.usefixtures("directory")
async def test_the_typed_address_never_reaches_the_logs(
    client: httpx.AsyncClient, ban: BanStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for mode, address, status in (("ok", HOME, 200), ("empty", "17 rue des Lilas, Trifouilly", 422)):
        ban.mode = mode
        response = await client.post("/api/v1/directory/geocode", json={"adresse": address})
        assert response.status_code == status
        page = await client.post("/annuaire/recherche", data={"adresse": address + " bis", "q": "atelier"})
        assert page.status_code == 200 and "Lilas" not in str(page.url)
    assert len(ban.requests) == 4
    assert "Lilas" not in caplog.text and "Trifouilly" not in caplog.text


@pytest.mark.usefixtures("directory")
async def test_api_distance_from_a_ban_address(client: httpx.AsyncClient) -> None:
    origin = (await client.post("/api/v1/directory/geocode", json={"adresse": HOME})).json()
    assert origin["source"] == "ban" and origin["label"] == "17 Rue des Lilas 45160 Olivet"
    point = {"lat": origin["latitude"], "lon": origin["longitude"], "sort": "distance"}
    page = (await client.get("/api/v1/directory/services", params=point)).json()
    assert [hit["service_name"] for hit in page["hits"]] == ["Démarches en ligne", "Atelier smartphone"]


def test_the_geocoder_setting_comes_from_the_environment(tmp_path: Any) -> None:
    environ = {
        "MAILLAGE_VAR_DIR": str(tmp_path),
        "MAILLAGE_SECRET_KEY": "k" * 40,
        "MAILLAGE_GEOCODER_URL": " https://data.geopf.fr/geocodage/search ",
        "MAILLAGE_GEOCODER_TIMEOUT": "1.5",
    }
    settings = Settings.from_env(environ, sections=[DirectorySettings]).section(DirectorySettings)
    assert (settings.geocoder_url, settings.geocoder_timeout_seconds) == ("https://data.geopf.fr/geocodage/search", 1.5)
    assert dataclasses.replace(settings, geocoder_url="").geocoder_url == ""
    bare = {"MAILLAGE_VAR_DIR": str(tmp_path), "MAILLAGE_SECRET_KEY": "k" * 40}
    assert Settings.from_env(bare, sections=[DirectorySettings]).section(DirectorySettings).geocoder_url == ""
