from hub.journal import verify
from tests.conftest import make_person, make_structure, sign_in


async def test_health_reports_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_manager_signs_in_with_totp_and_sees_members(client, rt):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@ccas.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    page = await client.get(f"/structures/{sid}/membres")
    assert page.status_code == 200
    assert "nadia@ccas.example.fr" in page.text
    assert (await verify(rt.secrets.journal_key)).ok
