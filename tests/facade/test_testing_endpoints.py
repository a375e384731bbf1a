"""The test server's simulated Dedicated Endpoints, spoken to with plain httpx."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from friendli_images.testing import WAKE_PHASES, ErrorStatus, FriendliTestServer, SimulatedEndpoint


def call(
    friendli_server: FriendliTestServer,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {friendli_server.token}", **(headers or {})}
    return httpx.request(
        method, friendli_server.base_url + path, headers=headers, timeout=10, **kwargs
    )


def status(friendli_server: FriendliTestServer, endpoint_id: str = "dep1") -> dict[str, Any]:
    response = call(friendli_server, "GET", f"/dedicated/beta/endpoint/{endpoint_id}/status")
    assert 200 == response.status_code
    body: dict[str, Any] = response.json()
    return body


def generate(friendli_server: FriendliTestServer, model: str) -> httpx.Response:
    return call(
        friendli_server,
        "POST",
        "/dedicated/v1/images/generations",
        json={"model": model, "prompt": "x"},
    )


class TestSimulatedEndpoint:
    def test_lifecycle_by_polls(self, friendli_server: FriendliTestServer) -> None:
        """Wake -> AWAKING through each phase for polls_per_phase reads -> RUNNING; sleep
        moves it back; generation gets 503 until RUNNING."""
        friendli_server.add_endpoint("dep1", polls_per_phase=2)

        assert 503 == generate(friendli_server, "dep1").status_code
        woken = call(friendli_server, "PUT", "/dedicated/beta/endpoint/dep1/wake").json()
        seen = [
            (body["status"], body["phase"]) for body in (status(friendli_server) for _ in range(6))
        ]
        ok = generate(friendli_server, "dep1:some-adapter")
        asleep = call(friendli_server, "PUT", "/dedicated/beta/endpoint/dep1/sleep").json()

        assert ("AWAKING", WAKE_PHASES[0]) == (woken["status"], woken["phase"])
        reading, downloading, engine = (("AWAKING", phase) for phase in WAKE_PHASES)
        assert [reading, downloading, downloading, engine, engine, ("RUNNING", None)] == seen
        assert 200 == ok.status_code
        assert ("SLEEPING", None) == (asleep["status"], asleep["phase"])
        assert 503 == generate(friendli_server, "dep1").status_code

    def test_lifecycle_by_seconds(self, friendli_server: FriendliTestServer) -> None:
        """With seconds_per_phase the phases follow the clock, not the polls."""
        friendli_server.add_endpoint("dep1", polls_per_phase=None, seconds_per_phase=0.05)
        call(friendli_server, "PUT", "/dedicated/beta/endpoint/dep1/wake")

        time.sleep(0.2)

        assert "RUNNING" == status(friendli_server)["status"]

    def test_fails_on_wake(self, friendli_server: FriendliTestServer) -> None:
        """fail_on_wake ends the phases in FAILED with that error code."""
        friendli_server.add_endpoint("dep1", fail_on_wake="WORKLOAD_INIT_DOWNLOAD_ERROR")
        call(friendli_server, "PUT", "/dedicated/beta/endpoint/dep1/wake")

        last = [status(friendli_server) for _ in range(len(WAKE_PHASES))][-1]

        assert ("FAILED", "WORKLOAD_INIT_DOWNLOAD_ERROR") == (last["status"], last["errorCode"])

    def test_wake_on_request(self, friendli_server: FriendliTestServer) -> None:
        """wake_on_request: a generation request wakes a sleeping endpoint (and gets 503)."""
        endpoint = friendli_server.add_endpoint("dep1", wake_on_request=True)

        assert 503 == generate(friendli_server, "dep1").status_code
        assert ("AWAKING", 0, 1) == (
            endpoint.status,
            endpoint.wake_requests,
            endpoint.rejected_generations,
        )

    def test_other_models_are_served(self, friendli_server: FriendliTestServer) -> None:
        """A model that names no simulated endpoint is served as before."""
        friendli_server.add_endpoint("dep1")

        assert 200 == generate(friendli_server, "another").status_code

    @pytest.mark.parametrize(
        ("method", "path", "expected"),
        [
            pytest.param("GET", "/dedicated/beta/endpoint/nope/status", 404, id="unknown-id"),
            pytest.param("GET", "/dedicated/beta/endpoint/a%20b/status", 422, id="invalid-id"),
            pytest.param("PUT", "/dedicated/beta/endpoint/dep1/status", 405, id="put-status"),
            pytest.param("GET", "/dedicated/beta/endpoint/dep1/wake", 405, id="get-wake"),
            pytest.param("POST", "/dedicated/beta/endpoint/dep1/sleep", 405, id="post-sleep"),
        ],
    )
    def test_errors(
        self, friendli_server: FriendliTestServer, method: str, path: str, expected: int
    ) -> None:
        """Unknown ids, invalid ids and wrong methods get their JSON errors."""
        friendli_server.add_endpoint("dep1")

        response = call(friendli_server, method, path)

        assert expected == response.status_code
        assert "detail" in response.json()

    def test_bad_requests(self, friendli_server: FriendliTestServer) -> None:
        """400 for an invalid team header and for waking or sleeping a terminated endpoint;
        500 for a wake request to an endpoint set to fail it (it stays asleep)."""
        friendli_server.add_endpoint("dead", status="TERMINATED")
        broken = friendli_server.add_endpoint("broken", fail_wake_request=True)
        base = "/dedicated/beta/endpoint"

        team = call(
            friendli_server, "GET", f"{base}/broken/status", headers={"X-Friendli-Team": "a b"}
        )
        answers = [
            call(friendli_server, "PUT", f"{base}/dead/wake").status_code,
            call(friendli_server, "PUT", f"{base}/dead/sleep").status_code,
            call(friendli_server, "PUT", f"{base}/broken/wake").status_code,
        ]

        assert 400 == team.status_code
        assert [400, 400, 500] == answers
        assert "SLEEPING" == broken.status

    def test_token_required(self, friendli_server: FriendliTestServer) -> None:
        """The endpoint API checks the bearer token like the generation path."""
        friendli_server.add_endpoint("dep1")

        response = httpx.get(friendli_server.base_url + "/dedicated/beta/endpoint/dep1/status")

        assert 401 == response.status_code

    def test_faults_on_endpoint_route(self, friendli_server: FriendliTestServer) -> None:
        """Faults can be injected into the endpoint API and are recorded on the request."""
        friendli_server.add_endpoint("dep1")
        friendli_server.inject(ErrorStatus(500), route="endpoint")

        first = call(friendli_server, "GET", "/dedicated/beta/endpoint/dep1/status")
        second = call(friendli_server, "GET", "/dedicated/beta/endpoint/dep1/status")

        assert (500, 200) == (first.status_code, second.status_code)
        assert ["endpoint", "endpoint"] == [r.route for r in friendli_server.endpoint_requests]

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"endpoint_id": "a b"}, id="bad-id"),
            pytest.param({"polls_per_phase": 0}, id="zero-polls"),
            pytest.param({"seconds_per_phase": -1.0}, id="negative-seconds"),
            pytest.param({"polls_per_phase": None}, id="no-pace"),
            pytest.param({"phases": ()}, id="no-phases"),
        ],
    )
    def test_rejects_bad_settings(self, kwargs: dict[str, Any]) -> None:
        """Impossible lifecycles are refused when created."""
        settings = {"endpoint_id": "dep1", **kwargs}

        with pytest.raises(ValueError):
            SimulatedEndpoint(**settings)
