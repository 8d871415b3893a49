"""The JSON API against its own OpenAPI document, with schemathesis: no 5xx, and every answer as documented.

Each generated request (positive and negative data, plus schemathesis' boundary "coverage" cases) is sent with a
coordinator's token and a structure manager's token, and checked for status codes, content types, headers and
bodies against the document; then once without a token, which must be refused with a 401 problem+json.

Event loops: schemathesis' own ASGI transport runs the app in a separate thread and loop (and starts its
lifespan there), which a PostgreSQL pool bound to the test's loop cannot follow. So the test function stays
synchronous (Hypothesis drives it) and each request is run to completion on the loop the fixtures live in,
through the same httpx client as the other tests: one loop, one pool, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from litestar.serialization import encode_json
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from hub import accounts
from hub.runtime import Runtime
from hub.tables import ApiToken
from network.tables import Structure
from tests.conftest import make_person, make_service, make_structure

BASE_URL = "http://testserver.local"
# Examples per operation and generation mode. The suite runs a fixed, derandomized set; set
# MAILLAGE_FUZZ_EXAMPLES=500 locally to dig deeper with fresh random data on each run.
MAX_EXAMPLES = int(os.environ.get("MAILLAGE_FUZZ_EXAMPLES", "15"))
DERANDOMIZE = "MAILLAGE_FUZZ_EXAMPLES" not in os.environ
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
]
TOKEN_PATH = re.compile(r"^/api/v1/tokens/(\d+)$")


@dataclasses.dataclass
class Fuzz:
    """Sends schemathesis cases through the app, on the fixtures' event loop."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    bearers: dict[str, str]  # role -> Authorization header
    token_ids: set[int]

    def send(self, case: schemathesis.Case, authorization: str | None) -> httpx.Response:
        headers = {"Authorization": authorization} if authorization else {}
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
        if not authorization:
            kwargs["headers"].pop("Authorization", None)
        # requests builds the exact bytes schemathesis' own transport would send
        prepared = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            cookies=kwargs.get("cookies"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
            files=kwargs.get("files"),
        ).prepare()
        return self.loop.run_until_complete(self._send(prepared))

    async def _send(self, prepared: requests.PreparedRequest) -> httpx.Response:
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        response = await self.client.request(
            prepared.method or "GET",
            prepared.url or BASE_URL,
            headers=dict(prepared.headers),
            content=body,
            follow_redirects=False,
        )
        await response.aread()
        # A generated DELETE may revoke one of our own tokens: give it back, the run goes on with both roles.
        match = TOKEN_PATH.match(response.request.url.path)
        if response.status_code == 204 and match and int(match.group(1)) in self.token_ids:
            await ApiToken.update({ApiToken.revoked_at: None}).where(ApiToken.id == int(match.group(1)))
        return response


@pytest.fixture
async def fuzz(client: httpx.AsyncClient, rt: Runtime) -> AsyncIterator[Fuzz]:
    a = await make_structure("Centre social des Tilleuls", "CS")
    b = await make_structure("CCAS de Montclair", "CCAS")
    # located, so the directory's gazetteer knows its commune (KNOWN_PLACE)
    await Structure.update(
        {Structure.address: "1 place du Marché", Structure.latitude: 47.9, Structure.longitude: 2.12}
    ).where(Structure.id == a)
    receiving = await make_service(b, "Aide aux démarches", accepts_referrals=True, thematiques=[DEMARCHES])
    assert receiving == FUZZ_SERVICE, "the fuzz world's first service takes referrals"
    manager = await make_person(rt, "maud.referente@tilleuls.example.fr", {a: ["manager"]})
    coordinator = await make_person(rt, "claire.coordinatrice@reseau.example.fr", coordinator=True)
    await make_person(rt, "ali.aidant@tilleuls.example.fr", {a: ["aidant", "prescriber"]})
    await make_person(rt, "bruno.referent@ccas.example.fr", {b: ["manager", "prescriber"]})
    bearers, token_ids = {}, set()
    for role, person in (("coordinator", coordinator), ("manager", manager)):
        token_id, token = await accounts.create_api_token(rt, await accounts.actor_for_user(person.id), role)
        bearers[role] = f"Bearer {token}"
        token_ids.add(token_id)
    yield Fuzz(asyncio.get_running_loop(), client, bearers, token_ids)


@pytest.fixture
def api_schema(app: Litestar) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_dict(_document(app))
    # Unknown query parameters are ignored, as HTTP APIs do: not "negative" data. (Unknown JSON fields are
    # refused, and tests/test_bad_input.py proves it.)
    schema.config.generation.update(allow_extra_parameters=False)
    return schema


# The operations fuzzed, by operationId; test_every_operation_is_fuzzed keeps this list equal to the document's.
OPERATIONS = [
    "health",
    "getMe",
    "listApiTokens",
    "createApiToken",
    "revokeApiToken",
    "listMembers",
    "inviteMember",
    "removeMembership",
    "listJournal",
    "searchServices",
    "geocodeAddress",
    "getStructure",
    "routeReferral",
    "whyNotService",
    "createReferral",
    "listReferrals",
    "getReferral",
    "transitionReferral",
    "listMandates",
    "getMandate",
    "verifyMandate",
]
PUBLIC_API = ("/api/v1/directory/", "/api/v1/mandates/verify/")  # the open directory, the QR code: no token, no 401


KNOWN_PLACE = "Montclair-sur-Loire"  # the fuzz fixture's commune
FUZZ_SERVICE = 1  # the fuzz fixture's service taking referrals (the first of a fresh database)
DEMARCHES = "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"


def within_documented_rules(case: schemathesis.Case) -> schemathesis.Case:
    """searchServices' parameters depend on one another, as its description says and a schema cannot: lat
    with lon; sort=distance and rayon_m with a point. Positive cases are brought within those rules;
    tests/test_directory_api.py proves the 400 of each rule broken. geocodeAddress's address must exist."""
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id == "geocodeAddress" and isinstance(case.body, dict) and "adresse" in case.body:
        case.body["adresse"] = KNOWN_PLACE  # an address must exist; the 422 of one that does not is tested apart
        return case
    if operation_id in ("routeReferral", "whyNotService") and isinstance(case.body, dict):
        # a need is required, codes come from the directory's vocabulary, a point is whole, an address exists
        case.body.update(thematiques=[DEMARCHES], address=KNOWN_PLACE if case.body.get("address") else "")
        if (case.body.get("latitude") is None) != (case.body.get("longitude") is None):
            case.body.pop("latitude", None), case.body.pop("longitude", None)
        return case
    if operation_id == "createReferral" and isinstance(case.body, dict):
        # a referral goes to a service that takes them, with the person's consent and a way to reach them
        case.body.update(
            service_id=FUZZ_SERVICE,
            consent_confirmed=True,
            resident_name="Awa B.",
            resident_phone="06 39 98 00 00",
            resident_email="",
            preferred_contact="phone",
            availability=[],
            need="",
            note="",
        )
        for name in ("sender_structure_id", "schedule_id", "starts_at"):
            case.body.pop(name, None)
        return case
    if operation_id != "searchServices" or case.query is None:
        return case
    query = case.query
    if ("lat" in query) != ("lon" in query):
        query.pop("lat", None), query.pop("lon", None)
    if "lat" not in query:
        query.pop("rayon_m", None)
        if query.get("sort") == "distance":
            del query["sort"]
    return case


# Operations without any input have no negative data to generate.
WITHOUT_INPUT = {"health", "getMe", "listApiTokens"}
RUNS = [
    (operation_id, mode)
    for operation_id in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or operation_id not in WITHOUT_INPUT
]


@pytest.mark.parametrize(("operation_id", "mode"), RUNS, ids=[f"{op}-{mode.value}" for op, mode in RUNS])
def test_api_answers_as_documented(
    api_schema: schemathesis.BaseSchema, fuzz: Fuzz, operation_id: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_id(operation_id)  # type: ignore[attr-defined]

    strategy = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE:
        strategy = strategy.map(within_documented_rules)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        for bearer in fuzz.bearers.values():
            response = fuzz.send(case, bearer)
            case.validate_response(response, checks=CHECKS, headers={"Authorization": bearer})
        if case.path.startswith("/api/") and not case.path.startswith(PUBLIC_API):
            response = fuzz.send(case, None)
            # 404: a negative path parameter that no route matches; the router answers before any guard
            assert response.status_code in (401, 404), response.text
            assert response.headers["content-type"] == "application/problem+json"
            if response.status_code == 401:
                assert response.headers["www-authenticate"].startswith("Bearer")

    answers_as_documented()


def test_schema_documents_every_api_route_and_error(app: Litestar) -> None:
    document = _document(app)
    problem = {"$ref": "#/components/schemas/Problem"}
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert sorted(op["operationId"] for _, _, op in operations) == sorted(OPERATIONS[1:])
    for path, method, operation in operations:
        responses = operation["responses"]
        for code in ("400",) if path.startswith(PUBLIC_API) else ("400", "401"):
            assert responses[code]["content"]["application/problem+json"]["schema"] == problem, (path, method, code)
        if "{" in path:
            assert "404" in responses, (path, method)
        if "requestBody" in operation:
            assert "415" in responses, (path, method)
        assert operation["operationId"] and operation["description"], (path, method)
    assert "examples" not in document["components"]["schemas"]["Problem"], "random examples would mislead readers"


def _document(app: Litestar) -> dict[str, Any]:
    return dict(json.loads(encode_json(app.openapi_schema.to_schema())))


def test_document_lists_only_the_service_and_the_api(app: Litestar) -> None:
    assert all(path in ("/healthz", "/readyz") or path.startswith("/api/") for path in _document(app)["paths"])


def test_document_declares_bearer_tokens(app: Litestar) -> None:
    document = _document(app)
    assert document["components"]["securitySchemes"]["jetonPersonnel"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            private = path.startswith("/api/") and not path.startswith(PUBLIC_API)
            assert (operation.get("security") == [{"jetonPersonnel": []}]) == private, path


def test_readiness_documents_its_503(app: Litestar) -> None:
    assert "503" in _document(app)["paths"]["/readyz"]["get"]["responses"]
