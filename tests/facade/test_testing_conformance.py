"""The test server against the spec it ships: by Schemathesis, and after a spec change.

Schemathesis generates requests from the shipped ``openapi.json`` for every operation in
it (the tracked operations) and checks the running server's answers: no 5xx, documented
status codes and content types, bodies that conform to the response schemas, schema
violations rejected, undocumented methods refused with 405 and ``Allow``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import requests
import schemathesis
from friendli_images.testing import (
    CONTAINER_EDIT_PATH,
    CONTAINER_GENERATION_PATH,
    DEFAULT_TOKEN,
    EDIT_PATH,
    GENERATION_PATH,
    FriendliTestServer,
)
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.checks import positive_data_acceptance, status_code_conformance
from schemathesis.config import SchemathesisConfig

ROOT = Path(__file__).resolve().parents[2]

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def tracked_operations() -> list[str]:
    lines = (ROOT / "scripts" / "tracked-operations.txt").read_text(encoding="utf-8")
    return [line.strip() for line in lines.splitlines() if line.strip() and line[0] != "#"]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def conforms(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> bool:
    """Whether ``response``'s JSON body validates against ``spec``'s documented schema."""
    documented = spec["paths"][path][method.lower()]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    registry: Registry[Any] = Registry().with_resource(
        "", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    # Validate from the document's root so its "#/components/..." references resolve.
    root = {**spec, **{"$ref": "#/paths/_/schema"}}
    root["paths"] = {**spec["paths"], "_": {"schema": schema}}
    validator = Draft202012Validator(root, registry=registry)
    return bool(validator.is_valid(response.json()))


@pytest.fixture(scope="module")
def conformance_server() -> Iterator[FriendliTestServer]:
    with FriendliTestServer() as server:
        # Simulated endpoints for the endpoint API's documented statuses (Schemathesis
        # picks other ids: 404 or 422).
        server.add_endpoint("conformance-running", status="RUNNING")
        server.add_endpoint("conformance-asleep")
        server.add_endpoint("conformance-gone", status="TERMINATED")
        server.add_endpoint("conformance-broken", fail_wake_request=True)
        yield server
    assert [] == server.errors


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
        yield session


def shipped_spec() -> dict[str, Any]:
    spec_file = resources.files("friendli_images_api") / "openapi.json"
    spec: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
    return spec


# Loaded at collection: one test per operation of the spec the server ships and serves.
# (schemathesis.pytest.from_fixture would wait for the server, but fails on pytest 9.)
# The spec's bearer scheme ("token") gets the server's token: Schemathesis sends it, and
# leaves it out on purpose to check that its absence is refused.
schema = schemathesis.openapi.from_dict(
    shipped_spec(),
    config=SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"token": {"bearer": DEFAULT_TOKEN}}}}
    ),
)


@schema.parametrize()
# 25 examples and no deadline keep it to seconds; derandomized so a failure reproduces, and
# no example database (nothing written into the checkout).
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis(
    case: Any, conformance_server: FriendliTestServer, session: requests.Session
) -> None:
    """Schemathesis finds no 5xx, no undocumented answer and no non-conforming body.

    Decisions, case by case (the mock follows the real API where the spec says less):

    - ``positive_data_acceptance`` is off: the spec states some rules only in prose
      (steps in [1, 50], control images as URLs or base64 data URIs of at most 50 MiB,
      one ControlNet weight per image), so schema-valid bodies may rightly get 422. The
      spec's own example ``"data:image/png;base64,..."`` is an elision, not an image:
      the mock rejects it with 422, as the API would (``test_spec_example_images``).
    - 401 is not documented, but the spec's ``security`` requires a bearer token, so the
      mock answers a missing or wrong one with 401 (``ignored_auth`` and
      ``missing_required_header`` check that it does): the spec is incomplete there, not
      the mock. ``status_code_conformance`` is replaced by the same rule plus that 401.
    - An undocumented method (TRACE included) gets 405 with ``Allow``, not 501: 501 is for
      methods a server does not know, and TRACE is an HTTP method (``unsupported_method``).
    """
    response = case.call(base_url=conformance_server.base_url, session=session)
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance, status_code_conformance]
    )

    # status_code_conformance, plus the 401 the spec leaves out and the 405 for methods it
    # does not list (decisions above).
    status = response.status_code
    if response.request.method != case.operation.method.upper():
        assert (405, [case.operation.method.upper()]) == (status, response.headers["allow"])
    elif (
        "security" in case.operation.definition.raw
        and response.request.headers.get("Authorization") != AUTH["Authorization"]
    ):  # a Friendli Container's operations have no security scheme: no 401 there
        assert 401 == status, response.text
    else:
        assert str(status) in case.operation.definition.raw["responses"], response.text


def test_every_tracked_operation_is_served(conformance_server: FriendliTestServer) -> None:
    """Every tracked operation is in the served spec, so Schemathesis covers all of them."""
    ids = [op["operationId"] for _, _, op in operations(dict(conformance_server.spec))]

    assert sorted(tracked_operations()) == sorted(ids)


# For every operation of the spec: a body that must produce each documented status. An
# operation added to the spec without a row here fails test_every_documented_status.
EXAMPLE_BODY: dict[str, Any] = shipped_spec()["components"]["schemas"][
    "DedicatedImageGenerationBody"
]["example"]


@attrs.frozen
class Probe:
    """A request for an operation whose path has parameters (or that needs headers)."""

    path: str
    headers: dict[str, str] = attrs.Factory(dict)
    body: Any = None


_ENDPOINT = "/dedicated/beta/endpoint"
IMAGE = {"image": "https://example.com/cat.png"}  # accepted, never fetched
STATUS_INPUTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", GENERATION_PATH): {"200": EXAMPLE_BODY, "422": {"prompt": 1}},
    ("POST", EDIT_PATH): {"200": {"model": "m", "prompt": "p", "image": IMAGE}, "422": {}},
    ("POST", CONTAINER_GENERATION_PATH): {"200": {"prompt": "p"}, "422": {"prompt": 1}},
    ("POST", CONTAINER_EDIT_PATH): {"200": {"prompt": "p", "image": [IMAGE]}, "422": {}},
    ("GET", f"{_ENDPOINT}/{{endpoint_id}}/status"): {
        "200": Probe(f"{_ENDPOINT}/conformance-running/status"),
        "400": Probe(
            f"{_ENDPOINT}/conformance-running/status", headers={"X-Friendli-Team": "no team"}
        ),
        "404": Probe(f"{_ENDPOINT}/unknown/status"),
        "422": Probe(f"{_ENDPOINT}/not%20an%20id/status"),
    },
    ("PUT", f"{_ENDPOINT}/{{endpoint_id}}/wake"): {
        "200": Probe(f"{_ENDPOINT}/conformance-asleep/wake"),
        "400": Probe(f"{_ENDPOINT}/conformance-gone/wake"),
        "404": Probe(f"{_ENDPOINT}/unknown/wake"),
        "422": Probe(f"{_ENDPOINT}/not%20an%20id/wake"),
        "500": Probe(f"{_ENDPOINT}/conformance-broken/wake"),
    },
    ("PUT", f"{_ENDPOINT}/{{endpoint_id}}/sleep"): {
        "200": Probe(f"{_ENDPOINT}/conformance-running/sleep"),
        "400": Probe(f"{_ENDPOINT}/conformance-gone/sleep"),
        "404": Probe(f"{_ENDPOINT}/unknown/sleep"),
        "422": Probe(f"{_ENDPOINT}/not%20an%20id/sleep"),
    },
}


def probed_statuses(operation: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    """The statuses of ``operation`` to probe: every row of ``inputs``.

    The rows must be documented, and every documented success status (2xx/3xx) must have
    a row. What upstream may add without a row (and without turning the sync red) is an
    error status or ``default``: the server need not produce every error it may return.
    """
    documented = set(operation["responses"])
    assert set(inputs) <= documented, f"rows for undocumented statuses: {set(inputs) - documented}"
    unprobed = documented - set(inputs)
    assert all(status == "default" or status[0] in "45" for status in unprobed), unprobed
    return sorted(inputs)


def check_documented_statuses(server: FriendliTestServer) -> None:
    spec = dict(server.spec)
    with httpx.Client(trust_env=False, timeout=30) as http:
        for method, path, operation in operations(spec):
            inputs = STATUS_INPUTS[(method, path)]
            for status in probed_statuses(operation, inputs):
                given = inputs[status]
                probe = given if isinstance(given, Probe) else Probe(path, body=given)
                response = http.request(
                    method,
                    server.base_url + probe.path,
                    json=probe.body,
                    headers={**AUTH, **probe.headers},
                )
                assert int(status) == response.status_code, response.text
                if "content" in operation["responses"][status]:
                    assert conforms(spec, method, path, response)


def test_every_documented_status(conformance_server: FriendliTestServer) -> None:
    """Each documented status of each operation is produced for the right input, and a 200
    body conforms to its schema."""
    check_documented_statuses(conformance_server)


def with_harmless_sync(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` after a harmless upstream change to every operation: a new
    optional header before the others, and a documented ``default`` and 400 response."""
    changed = copy.deepcopy(spec)
    for _, _, operation in operations(changed):
        operation.setdefault("parameters", []).insert(
            0, {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}}
        )
        operation["responses"].setdefault("default", {"description": "Unexpected error"})
        operation["responses"].setdefault("400", {"description": "Bad request"})
    return changed


def test_documented_statuses_after_a_harmless_sync(conformance_server: FriendliTestServer) -> None:
    """An optional header and new error responses upstream keep the status test green: it
    probes the rows it has; a new success status without a row would still fail it."""
    spec = with_harmless_sync(dict(conformance_server.spec))
    with FriendliTestServer(spec=spec) as server:
        for name, status in (
            ("conformance-running", "RUNNING"),
            ("conformance-asleep", None),
            ("conformance-gone", "TERMINATED"),
        ):
            if status is None:
                server.add_endpoint(name)
            else:
                server.add_endpoint(name, status=status)
        server.add_endpoint("conformance-broken", fail_wake_request=True)
        check_documented_statuses(server)

    _, _, first = operations(spec)[0]
    with pytest.raises(AssertionError):
        probed_statuses({"responses": {**first["responses"], "201": {}}}, {"200": None})


def test_spec_example_images(conformance_server: FriendliTestServer) -> None:
    """The spec's ImageInput examples: the URL is accepted (never fetched); the elided data
    URI ``data:image/png;base64,...`` is rejected with 422, as by the API (it is not base64).
    """
    examples = shipped_spec()["components"]["schemas"]["ImageInput"]["properties"]["image"]
    url_example, data_example = examples["examples"]
    with httpx.Client(trust_env=False, timeout=30) as http:
        accepted, rejected = (
            http.post(
                conformance_server.generation_url,
                json={**EXAMPLE_BODY, "control_images": [{"image": image}]},
                headers=AUTH,
            )
            for image in (url_example, data_example)
        )

    assert "data:image/png;base64,..." == data_example
    assert 200 == accepted.status_code
    assert 422 == rejected.status_code
    assert ["body", "control_images", 0, "image"] == rejected.json()["detail"][0]["loc"]


def with_new_required_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` whose responses require properties the server has never heard of."""
    changed = copy.deepcopy(spec)
    schemas = changed["components"]["schemas"]
    result = schemas["ImageGenerationDedicatedResult"]
    result["properties"]["created"] = {"type": "integer", "examples": [1700000000]}
    result["required"].append("created")
    for name in ("UrlImageItem", "B64ImageItem"):
        schemas[name]["properties"]["revised_prompt"] = {"type": "string"}
        schemas[name]["properties"]["usage"] = {
            "type": "object",
            "properties": {"steps": {"type": "integer", "default": 20}},
            "required": ["steps"],
        }
        schemas[name]["required"] += ["revised_prompt", "usage"]
    return changed


@pytest.mark.parametrize(
    "response_format",
    [pytest.param("url", id="url"), pytest.param("png", id="b64")],
)
def test_new_required_response_property(
    conformance_server: FriendliTestServer, response_format: str
) -> None:
    """A regenerated spec with new required response properties keeps the server conformant.

    The server fills them from the schema (example, default, or a value of the type) and
    keeps the item's own kind: a base64 item does not become a URL item.
    """
    spec = with_new_required_properties(dict(conformance_server.spec))
    body = {"model": "m", "prompt": "p", "seed": 5, "response_format": response_format}

    with FriendliTestServer(spec=spec) as server, httpx.Client(trust_env=False) as http:
        response = http.post(server.generation_url, json=body, headers=AUTH)
    with httpx.Client(trust_env=False) as http:
        before = http.post(conformance_server.generation_url, json=body, headers=AUTH)

    assert 200 == response.status_code, response.text
    assert conforms(spec, "POST", GENERATION_PATH, response)
    assert not conforms(spec, "POST", GENERATION_PATH, before)  # the change mattered
    assert 1700000000 == response.json()["created"]
    item = response.json()["data"][0]
    assert {"steps": 20} == item["usage"]
    assert "" == item["revised_prompt"]
    assert (5, response_format) == (item["seed"], item["response_format"])
    assert ("url" in item) == (response_format == "url")
    assert ("b64_json" in item) == (response_format != "url")
    assert json.loads(response.content) == response.json()
