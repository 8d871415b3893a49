"""The join form's position and INSEE code from the BAN when the deployment has one (MAILLAGE_GEOCODER_URL),
played by the real HTTP stand-in of tests/test_geocoding.py answering geocodejson with a citycode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.settings import Settings
from network.module import DirectorySettings
from network.tables import Structure
from tests.conftest import SmtpServer, base_settings, post_form
from tests.test_geocoding import BAN_POINT, BanStandIn

pytestmark = pytest.mark.usefixtures("app")


class BanWithCitycode(BanStandIn):
    def answer(self) -> dict[str, Any]:
        found = super().answer()
        for feature in found["features"]:
            feature["properties"]["citycode"] = "45232"
        return found


@pytest.fixture(scope="module")
def ban() -> Iterator[BanWithCitycode]:
    stand_in = BanWithCitycode()
    stand_in.thread.start()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture
def settings(tmp_path: Any, database_url: str, smtp_server: SmtpServer, ban: BanWithCitycode) -> Settings:
    ban.mode, ban.requests[:] = "ok", []
    directory = DirectorySettings(geocoder_url=ban.url, geocoder_timeout_seconds=0.5)
    return base_settings(tmp_path, database_url, smtp_server.port, sections=(directory,))


async def test_the_join_form_takes_the_bans_point_and_citycode(client: Any, ban: BanWithCitycode) -> None:
    form = {
        "name": "Centre social des Lilas",
        "kind": "CS",
        "address": "17 rue des Lilas",
        "postal_code": "45160",
        "commune": "Olivet",
        "contact_email": "direction@lilas.example.fr",
    }
    response = await post_form(client, "/annuaire/rejoindre", form)
    assert response.status_code == 200, response.text
    row = await Structure.select().where(Structure.name == "Centre social des Lilas").first()
    assert (row["latitude"], row["longitude"], row["insee_code"]) == (*BAN_POINT, "45232")
    assert ban.requests and ban.requests[-1]["q"] == ["17 rue des Lilas, 45160 Olivet"]
    # the BAN finds nothing: said in French, beside the address
    ban.mode = "empty"
    response = await post_form(
        client, "/annuaire/rejoindre", {**form, "name": "Centre social Perdu", "address": "1 rue X"}
    )
    assert response.status_code == 400 and "Adresse introuvable sur la carte" in response.text
