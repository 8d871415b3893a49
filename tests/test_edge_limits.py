"""Bad input is a 4xx, always: deeply nested JSON and huge numbers are refused at the edge, in French."""

from __future__ import annotations

import html
import json
from pathlib import Path

from network.tables import ImportRecord, Structure
from tests.conftest import make_person, sign_in
from tests.test_bad_input import french_problem
from tests.test_directory_coordination import run_import

DEEP = "[" * 1000 + "]" * 1000
HUGE = "1" * 5000


async def test_deeply_nested_json_on_an_api_body_is_a_400(client):
    for body in (DEEP, '{"adresse": ' + DEEP + "}", "[" * 100_000):
        response = await client.post(
            "/api/v1/directory/geocode", content=body, headers={"content-type": "application/json"}
        )
        problem = french_problem(response, 400)
        assert "imbriqu" in problem["detail"], problem


async def test_a_huge_number_on_an_api_body_is_a_400(client):
    response = await client.post(
        "/api/v1/directory/geocode", content='{"adresse": ' + HUGE + "}", headers={"content-type": "application/json"}
    )
    french_problem(response, 400)


async def test_reasonable_nesting_still_reaches_the_handler(client):
    # 20 levels inside a string are not nesting; the body is then refused by the handler's own schema (a 400 naming
    # the field), not by the edge
    body = json.dumps({"adresse": "[" * 200})
    response = await client.post(
        "/api/v1/directory/geocode", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 422), response.text


async def _upload(client, rt, name: str, content: bytes):
    files = [("file", (name, content, "application/octet-stream"))]
    return await run_import(client, rt, files, {"format": "datainclusion"})


async def test_an_import_file_with_a_huge_number_or_deep_nesting_is_refused_whole(client, rt):
    await sign_in(client, await make_person(rt, "camille@reseau.example.fr", coordinator=True))
    await client.get("/annuaire/coordination")
    structure = {
        "source": "test",
        "id": "s1",
        "nom": "Centre social",
        "commune": "Montclair",
        "latitude": "LAT",
        "date_maj": "2026-01-01",
    }
    huge = json.dumps({"structures": [structure], "services": []}).replace('"LAT"', HUGE).encode()
    deep = ('{"structures": ' + "[" * 5000 + "]" * 5000 + ', "services": []}').encode()
    for name, content in (("grand-nombre.json", huge), ("imbrique.json", deep)):
        response = await _upload(client, rt, name, content)
        text = html.unescape(response.text)
        assert "L'import a échoué" in text, text[:300]
        assert "Rien n'a été importé" in text and name in text
    assert await Structure.count() == 0 and await ImportRecord.count() == 0


async def test_huge_numbers_in_csv_cells_reject_their_row_only(client, rt):
    await sign_in(client, await make_person(rt, "camille@reseau.example.fr", coordinator=True))
    await client.get("/annuaire/coordination")
    data = Path(__file__).parent / "data"
    cases = [
        ("datainclusion", "datainclusion_structures.csv", "47.9118"),
        ("datainclusion", "datainclusion_structures.csv", "25855085330825"),
        ("mednum", "mednum_valid.csv", "47.8453"),
        ("mednum", "mednum_valid.csv", "45100"),
    ]
    for fmt, name, value in cases:
        content = (data / name).read_text(encoding="utf-8").replace(value, HUGE, 1).encode()
        files = [("file", (name, content, "text/csv"))]
        response = await run_import(client, rt, files, {"format": fmt})
        assert response.status_code == 200, (name, value, response.status_code)
        text = html.unescape(response.text)
        # refused, or (a SIRET, like data·inclusion does) kept with the unreadable field left empty and said so
        assert "Lignes refusées" in text or "Rien n'a été importé" in text or "laissé vide" in text, (name, value)
