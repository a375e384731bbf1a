"""Endpoint status, wake, sleep, waiting, and opt-in waiting in generate(), against the
loopback test server's simulated endpoints."""

from __future__ import annotations

import logging
import pickle
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from friendli_images import (
    APIResponseValidationError,
    AsyncFriendliImages,
    BatchFailedError,
    EndpointError,
    EndpointFailedError,
    EndpointStatus,
    EndpointStoppedError,
    EndpointWaitTimeoutError,
    FriendliImages,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    UnprocessableEntityError,
    agenerate_image,
    generate_image,
)
from friendli_images._endpoints import _rules as _endpoint_rules
from friendli_images.testing import WAKE_PHASES, ErrorStatus, FriendliTestServer
from friendli_images_api.models import DedicatedEndpointStatus


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep status polls close together; the deadlines under test are still real."""
    monkeypatch.setattr(_endpoint_rules, "INITIAL_POLL_DELAY", 0.01)
    monkeypatch.setattr(_endpoint_rules, "MAX_POLL_DELAY", 0.05)


def paths(friendli_server: FriendliTestServer) -> list[tuple[str, str]]:
    return [(r.method, r.path.rsplit("/", 1)[-1]) for r in friendli_server.endpoint_requests]


class TestStatusWakeSleep:
    def test_status_round_trip(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A status read returns the API's fields, aware datetimes and the generated model."""
        friendli_server.add_endpoint("dep1", status="RUNNING")

        status = client.endpoint_status("dep1")

        assert ("dep1", "RUNNING", None, None) == (
            status.endpoint_id,
            status.status,
            status.phase,
            status.error_code,
        )
        assert status.created_at.tzinfo is not None
        assert status.updated_at is not None
        assert status.updated_at.tzinfo is not None
        assert isinstance(status.raw, DedicatedEndpointStatus)
        (request,) = friendli_server.endpoint_requests
        assert ("GET", "/dedicated/beta/endpoint/dep1/status") == (request.method, request.path)
        assert f"Bearer {friendli_server.token}" == request.headers["authorization"]

    def test_wake_then_sleep(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Wake starts the first phase; sleep puts the endpoint back to SLEEPING."""
        endpoint = friendli_server.add_endpoint("dep1")

        woken = client.wake_endpoint("dep1")
        asleep = client.sleep_endpoint("dep1")

        assert ("AWAKING", WAKE_PHASES[0]) == (woken.status, woken.phase)
        assert ("SLEEPING", None) == (asleep.status, asleep.phase)
        assert [("PUT", "wake"), ("PUT", "sleep")] == paths(friendli_server)
        assert (1, 1) == (endpoint.wake_requests, endpoint.sleep_requests)

    def test_adapter_route_maps_to_endpoint(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """ENDPOINT_ID:ADAPTER_ROUTE reads the status of ENDPOINT_ID."""
        friendli_server.add_endpoint("dep1", status="RUNNING")

        assert "dep1" == client.endpoint_status("dep1:my-lora").endpoint_id
        assert "/dedicated/beta/endpoint/dep1/status" == friendli_server.endpoint_requests[0].path

    def test_team_header(self, friendli_server: FriendliTestServer) -> None:
        """The team is sent as X-Friendli-Team on endpoint calls too."""
        friendli_server.add_endpoint("dep1", status="RUNNING")
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, team_id="t1"
        ) as c:
            c.endpoint_status("dep1")

        assert "t1" == friendli_server.endpoint_requests[0].headers["x-friendli-team"]

    def test_unknown_status_parses(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A status and phase newer than this client are kept as sent."""
        endpoint = friendli_server.add_endpoint("dep1")
        endpoint.status, endpoint.phase = "HIBERNATING", "FREEZING_GPU"

        status = client.endpoint_status("dep1")

        assert ("HIBERNATING", "FREEZING_GPU") == (status.status, status.phase)

    def test_naive_datetimes_are_utc(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A date-time without an offset is taken as UTC; offsets are kept."""
        endpoint = friendli_server.add_endpoint("dep1")
        endpoint.created_at = "2026-07-22T10:00:00"
        endpoint.updated_at = "2026-07-22T12:30:00+02:00"

        status = client.endpoint_status("dep1")

        assert datetime(2026, 7, 22, 10, tzinfo=UTC) == status.created_at
        assert datetime(2026, 7, 22, 10, 30, tzinfo=UTC) == status.updated_at
        assert status.updated_at is not None
        assert status.updated_at.utcoffset() is not None

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            pytest.param("created_at", "yesterday", id="created-malformed"),
            pytest.param("updated_at", "soon", id="updated-malformed"),
            pytest.param("status", 7, id="status-not-string"),
            pytest.param("phase", ["x"], id="phase-not-string"),
        ],
    )
    def test_malformed_body(
        self, client: FriendliImages, friendli_server: FriendliTestServer, field: str, value: object
    ) -> None:
        """A 200 whose fields break the spec is an APIResponseValidationError."""
        endpoint = friendli_server.add_endpoint("dep1")
        setattr(endpoint, field, value)

        with pytest.raises(APIResponseValidationError):
            client.endpoint_status("dep1")

    def test_unknown_endpoint_404(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An id no endpoint has is a NotFoundError with the server's message."""
        with pytest.raises(NotFoundError) as caught:
            client.endpoint_status("nope")

        assert "nope" in caught.value.message

    def test_invalid_id_422(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An id the API refuses to validate is an UnprocessableEntityError with its detail."""
        with pytest.raises(UnprocessableEntityError) as caught:
            client.wake_endpoint("bad!id")

        assert ["path", "endpoint_id"] == caught.value.detail[0]["loc"]

    @pytest.mark.parametrize("endpoint_id", ["", ":adapter", "a/b", None])
    def test_invalid_id_sends_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, endpoint_id: object
    ) -> None:
        """An id that names no endpoint is refused before sending anything."""
        with pytest.raises(InvalidRequestError):
            client.endpoint_status(endpoint_id)  # type: ignore[arg-type]

        assert [] == friendli_server.requests

    @pytest.mark.anyio
    async def test_async_round_trip(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client reads, wakes and sleeps the same way."""
        endpoint = friendli_server.add_endpoint("dep1")
        endpoint.created_at = "2026-07-22T10:00:00"
        endpoint.status = "NEW_STATE"

        status = await aclient.endpoint_status("dep1")
        endpoint.status = "SLEEPING"
        woken = await aclient.wake_endpoint("dep1")
        asleep = await aclient.sleep_endpoint("dep1")

        assert ("NEW_STATE", datetime(2026, 7, 22, 10, tzinfo=UTC)) == (
            status.status,
            status.created_at,
        )
        assert ("AWAKING", "SLEEPING") == (woken.status, asleep.status)
        with pytest.raises(NotFoundError):
            await aclient.endpoint_status("nope")
        with pytest.raises(UnprocessableEntityError):
            await aclient.sleep_endpoint("bad!id")


class TestWaitUntilReady:
    def test_wakes_and_reaches_running(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """With wake=True a sleeping endpoint gets one wake request and is waited through
        each phase to RUNNING; on_status sees every status, and the wake is logged."""
        endpoint = friendli_server.add_endpoint("dep1", polls_per_phase=2)
        seen: list[EndpointStatus] = []

        with caplog.at_level(logging.INFO, logger="friendli_images"):
            final = client.wait_until_ready("dep1", timeout=10, wake=True, on_status=seen.append)

        assert "RUNNING" == final.status
        assert 1 == endpoint.wake_requests
        phases = [s.phase for s in seen if s.status == "AWAKING"]
        assert list(WAKE_PHASES) == sorted(set(phases), key=phases.index)
        assert ["SLEEPING", "AWAKING"] == [s.status for s in seen[:2]]
        messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert any("waking it" in m for m in messages)
        assert any("is ready" in m for m in messages)

    def test_ready_at_once(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A running endpoint costs one status request and no wake."""
        friendli_server.add_endpoint("dep1", status="RUNNING")

        assert "RUNNING" == client.wait_until_ready("dep1", timeout=5).status
        assert [("GET", "status")] == paths(friendli_server)

    def test_never_wakes_without_opt_in(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """wake=False never sends a wake request: a sleeping endpoint times out, with its
        last status on the error, and the log says that this call does not wake it."""
        endpoint = friendli_server.add_endpoint("dep1")

        with (
            caplog.at_level(logging.INFO, logger="friendli_images"),
            pytest.raises(EndpointWaitTimeoutError) as caught,
        ):
            client.wait_until_ready("dep1", timeout=1.0)

        assert any("does not wake it" in r.getMessage() for r in caplog.records)

        assert caught.value.status is not None
        assert "SLEEPING" == caught.value.status.status
        assert isinstance(caught.value, TimeoutError)
        assert 0 == endpoint.wake_requests
        assert {("GET", "status")} == set(paths(friendli_server))

    def test_deadline_holds(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A slow wake ends at the deadline, reporting the phase it had reached."""
        friendli_server.add_endpoint("dep1", polls_per_phase=None, seconds_per_phase=60)
        started = time.monotonic()

        with pytest.raises(EndpointWaitTimeoutError) as caught:
            client.wait_until_ready("dep1", timeout=1.0, wake=True)

        assert time.monotonic() - started < 5  # 1 s plus slack for a loaded machine
        assert caught.value.status is not None
        assert ("AWAKING", WAKE_PHASES[0]) == (
            caught.value.status.status,
            caught.value.status.phase,
        )
        assert "AWAKING" in str(caught.value)

    def test_failed_raises_with_error_code(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An endpoint that fails while waking raises EndpointFailedError with its code."""
        friendli_server.add_endpoint("dep1", fail_on_wake="WORKLOAD_INIT_DOWNLOAD_ERROR")

        with pytest.raises(EndpointFailedError) as caught:
            client.wait_until_ready("dep1", timeout=10, wake=True)

        assert "WORKLOAD_INIT_DOWNLOAD_ERROR" == caught.value.error_code
        assert "WORKLOAD_INIT_DOWNLOAD_ERROR" in str(caught.value)

    @pytest.mark.parametrize("state", ["STOPPING", "TERMINATING", "TERMINATED"])
    def test_stopped_raises_at_once(
        self, client: FriendliImages, friendli_server: FriendliTestServer, state: str
    ) -> None:
        """A stopping or terminated endpoint raises after one status read."""
        friendli_server.add_endpoint("dep1", status=state)

        with pytest.raises(EndpointStoppedError):
            client.wait_until_ready("dep1", timeout=10, wake=True)

        assert [("GET", "status")] == paths(friendli_server)

    def test_transient_poll_failures_are_polled_again(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A 503 or 429 on a status poll is not the endpoint's answer: polling goes on."""
        friendli_server.add_endpoint("dep1", status="RUNNING")
        friendli_server.inject(ErrorStatus(503), route="endpoint")
        friendli_server.inject(ErrorStatus.rate_limited(), route="endpoint")

        assert "RUNNING" == client.wait_until_ready("dep1", timeout=10).status
        assert 3 == len(friendli_server.endpoint_requests)

    def test_failed_wake_request_is_not_repeated(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A wake request that fails (500) raises at once: waking is never sent twice."""
        endpoint = friendli_server.add_endpoint("dep1", fail_wake_request=True)

        with pytest.raises(InternalServerError):
            client.wait_until_ready("dep1", timeout=10, wake=True)

        assert 1 == endpoint.wake_requests

    def test_unknown_endpoint_raises(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A 404 is final: no polling until the deadline."""
        with pytest.raises(NotFoundError):
            client.wait_until_ready("nope", timeout=10)

        assert 1 == len(friendli_server.endpoint_requests)

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"timeout": 0}, id="zero-timeout"),
            pytest.param({"timeout": None}, id="no-deadline"),
            pytest.param({"wake": "yes"}, id="wake-not-bool"),
            pytest.param({"on_status": 3}, id="callback-not-callable"),
        ],
    )
    def test_invalid_arguments_send_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, kwargs: dict[str, object]
    ) -> None:
        """Bad arguments are refused before any request."""
        friendli_server.add_endpoint("dep1")

        with pytest.raises(InvalidRequestError):
            client.wait_until_ready("dep1", **kwargs)  # type: ignore[arg-type]

        assert [] == friendli_server.requests

    @pytest.mark.anyio
    async def test_async(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client wakes once and reaches RUNNING; without wake it times out."""
        friendli_server.add_endpoint("dep1")
        friendli_server.add_endpoint("dep2")

        final = await aclient.wait_until_ready("dep1", timeout=10, wake=True)
        with pytest.raises(EndpointWaitTimeoutError):
            await aclient.wait_until_ready("dep2", timeout=0.2)

        assert "RUNNING" == final.status
        assert (1, 0) == (
            friendli_server.endpoint("dep1").wake_requests,
            friendli_server.endpoint("dep2").wake_requests,
        )


class TestGenerateWaitsForEndpoint:
    def test_batch_wakes_once(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A batch of 8 against a sleeping endpoint: 8 images, one wake request, a bounded
        number of status polls, and the wake and the wait reported and logged."""
        endpoint = friendli_server.add_endpoint("dep1")

        with caplog.at_level(logging.INFO, logger="friendli_images"):
            result = client.generate(
                "a cat", model="dep1", n=8, wait_for_endpoint=30, wake=True, response_format="png"
            )

        assert (8, []) == (len(result.images), result.errors)
        assert 1 == endpoint.wake_requests
        assert endpoint.status_reads <= 8
        assert ["wake", "wait"] == [event.kind for event in result.endpoint_events]
        assert "RUNNING" == result.endpoint_events[-1].status.status
        assert len(friendli_server.generation_requests) <= 16  # at most one not-ready answer each
        info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert any("waking it" in m for m in info)
        assert any("is ready" in m for m in info)

    @pytest.mark.anyio
    async def test_batch_wakes_once_async(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async batch shares one wait and one wake request too."""
        endpoint = friendli_server.add_endpoint("dep1")

        result = await aclient.generate(
            "a cat", model="dep1:adapter", n=8, wait_for_endpoint=30, wake=True
        )

        assert (8, []) == (len(result.images), result.errors)
        assert 1 == endpoint.wake_requests
        assert endpoint.status_reads <= 8
        assert ["wake", "wait"] == [event.kind for event in result.endpoint_events]

    def test_without_opt_in_nothing_changes(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Without wait_for_endpoint a sleeping endpoint fails with 503 as before, and no
        status or wake request is sent."""
        endpoint = friendli_server.add_endpoint("dep1")

        with pytest.raises(InternalServerError) as caught:
            client.generate("a cat", model="dep1")

        assert 503 == caught.value.status_code
        assert [] == friendli_server.endpoint_requests
        assert 3 == len(friendli_server.generation_requests)  # today's two quick retries
        assert "SLEEPING" == endpoint.status

    def test_wait_without_wake_never_wakes(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """wait_for_endpoint alone waits for someone else to wake it, up to its deadline."""
        endpoint = friendli_server.add_endpoint("dep1")

        with pytest.raises(BatchFailedError) as caught:  # all failed: nothing to keep
            client.generate("a cat", model="dep1", n=3, wait_for_endpoint=0.3)

        assert {EndpointWaitTimeoutError} == {type(f.error) for f in caught.value.failures}
        assert 0 == endpoint.wake_requests

    def test_awaking_endpoint_is_awaited(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An endpoint that is already waking is waited for without a wake request."""
        endpoint = friendli_server.add_endpoint("dep1")
        endpoint.wake()
        endpoint.wake_requests = 0

        result = client.generate("a cat", model="dep1", wait_for_endpoint=30)

        assert 1 == len(result.images)
        assert ["wait"] == [event.kind for event in result.endpoint_events]
        assert 0 == endpoint.wake_requests

    def test_woken_by_the_request_itself(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An endpoint that the generation request itself woke (as Friendli documents) is
        only awaited: with wake=True no wake request is sent, since it is not SLEEPING."""
        endpoint = friendli_server.add_endpoint("dep1", wake_on_request=True)

        result = client.generate("a cat", model="dep1", n=4, wait_for_endpoint=30, wake=True)

        assert (4, []) == (len(result.images), result.errors)
        assert ["wait"] == [event.kind for event in result.endpoint_events]
        assert 0 == endpoint.wake_requests

    def test_failed_wake_fails_every_request(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An endpoint that fails to wake fails the batch's requests with its error code,
        after one wait and one wake request."""
        endpoint = friendli_server.add_endpoint(
            "dep1", fail_on_wake="INFERENCE_ENGINE_MEMORY_ERROR"
        )

        with pytest.raises(BatchFailedError) as caught:
            client.generate("a cat", model="dep1", n=6, wait_for_endpoint=30, wake=True)

        failures = caught.value.failures
        assert 6 == len(failures)
        assert {"INFERENCE_ENGINE_MEMORY_ERROR"} == {
            f.error.error_code for f in failures if isinstance(f.error, EndpointFailedError)
        }
        assert 1 == endpoint.wake_requests
        assert endpoint.status_reads <= 6

    def test_single_request_raises_wait_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A single request raises the wait's error (here: the endpoint is terminated)."""
        friendli_server.add_endpoint("dep1", status="TERMINATED")

        with pytest.raises(EndpointStoppedError):
            client.generate("a cat", model="dep1", wait_for_endpoint=30, wake=True)

    def test_running_endpoint_costs_nothing_extra(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """With the options on and the endpoint running, no status or wake request is sent."""
        friendli_server.add_endpoint("dep1", status="RUNNING")

        result = client.generate("a cat", model="dep1", wait_for_endpoint=30, wake=True)

        assert (1, []) == (len(result.images), result.endpoint_events)
        assert [] == friendli_server.endpoint_requests

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"wake": True}, id="wake-without-wait"),
            pytest.param({"wait_for_endpoint": 0}, id="zero-wait"),
            pytest.param({"wait_for_endpoint": -5}, id="negative-wait"),
            pytest.param({"wait_for_endpoint": 10, "wake": 1}, id="wake-not-bool"),
        ],
    )
    def test_invalid_options_send_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, kwargs: dict[str, object]
    ) -> None:
        """Bad waiting options are refused before any request."""
        with pytest.raises(InvalidRequestError):
            client.generate("a cat", model="dep1", **kwargs)  # type: ignore[arg-type]

        assert [] == friendli_server.requests


class TestGenerateWaitEdgeCases:
    def test_ready_status_but_still_not_ready(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An endpoint that says RUNNING but still answers 503 is polled again (with a
        pause), never hammered, until the request goes through."""
        friendli_server.add_endpoint("dep1", status="RUNNING")
        friendli_server.inject(ErrorStatus(503), times=3)

        result = client.generate("a cat", model="dep1", wait_for_endpoint=30)

        assert 1 == len(result.images)
        assert 4 == len(friendli_server.generation_requests)  # no quick retries in between
        assert [("GET", "status")] * 3 == paths(friendli_server)

    def test_not_ready_message_on_429(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A 429 whose message says the endpoint is waking is a not-ready answer too."""
        friendli_server.add_endpoint("dep1", status="RUNNING")
        friendli_server.inject(ErrorStatus(429, message="Endpoint is waking up, retry later"))

        result = client.generate("a cat", model="dep1", wait_for_endpoint=30, max_retries=0)

        assert 1 == len(result.images)
        assert [("GET", "status")] == paths(friendli_server)

    def test_deadline_holds_in_generate(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A wake slower than wait_for_endpoint fails the batch at the deadline with the
        last status; only one wake request was sent."""
        endpoint = friendli_server.add_endpoint("dep1", polls_per_phase=None, seconds_per_phase=60)
        started = time.monotonic()

        with pytest.raises(BatchFailedError) as caught:
            client.generate("a cat", model="dep1", n=4, wait_for_endpoint=1, wake=True)

        assert time.monotonic() - started < 6  # 1 s plus slack for a loaded machine
        errors = [failure.error for failure in caught.value.failures]
        assert 4 == len(errors)
        assert all(isinstance(error, EndpointWaitTimeoutError) for error in errors)
        first = errors[0]
        assert isinstance(first, EndpointWaitTimeoutError)
        assert first.status is not None
        assert "AWAKING" == first.status.status
        assert 1 == endpoint.wake_requests


class TestEndpointErrorsAndSecrets:
    def test_token_redacted_from_endpoint_errors(self, friendli_server: FriendliTestServer) -> None:
        """A server message that quotes the token is redacted in the raised error."""
        secret = "flp_endpoint-secret-123"
        friendli_server.token = secret
        friendli_server.inject(ErrorStatus(404, message=f"nothing for {secret}"), route="endpoint")

        with FriendliImages(token=secret, base_url=friendli_server.base_url) as client:
            with pytest.raises(NotFoundError) as caught:
                client.endpoint_status("dep1")

        assert secret not in str(caught.value)
        assert secret not in repr(caught.value.body)
        assert "[secure]" in str(caught.value)

    def test_on_status_exception_propagates(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An exception raised by on_status stops the wait and reaches the caller as is."""
        friendli_server.add_endpoint("dep1")

        def fail(status: EndpointStatus) -> None:
            raise KeyError(status.status)

        with pytest.raises(KeyError, match="SLEEPING"):
            client.wait_until_ready("dep1", timeout=10, wake=True, on_status=fail)

        assert 0 == friendli_server.endpoint("dep1").wake_requests

    @pytest.mark.anyio
    async def test_async_batch_failure(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An async batch whose endpoint fails to wake fails every request with its error
        code after one wake request; strict=True raises it."""
        endpoint = friendli_server.add_endpoint(
            "dep1", fail_on_wake="INFERENCE_ENGINE_MEMORY_ERROR"
        )

        with pytest.raises(BatchFailedError) as caught:
            await aclient.generate("a", model="dep1", n=4, wait_for_endpoint=30, wake=True)
        with pytest.raises(EndpointFailedError):
            await aclient.generate(
                "a", model="dep1", n=2, wait_for_endpoint=30, wake=True, strict=True
            )

        assert 4 == len(caught.value.failures)
        assert all(isinstance(f.error, EndpointFailedError) for f in caught.value.failures)
        assert 1 == endpoint.wake_requests  # the second call found it FAILED: no wake


class TestPickle:
    def test_endpoint_errors_round_trip(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Endpoint errors pickle with their status (for process pools), as every error does."""
        friendli_server.add_endpoint("dep1", fail_on_wake="WORKLOAD_INIT_DOWNLOAD_ERROR")
        friendli_server.add_endpoint("dep2")
        errors: list[EndpointError] = []
        for kwargs in ({"endpoint_id": "dep1", "wake": True}, {"endpoint_id": "dep2"}):
            with pytest.raises(EndpointError) as caught:
                client.wait_until_ready(timeout=1.0, **kwargs)
            errors.append(caught.value)

        for error in errors:
            copy = pickle.loads(pickle.dumps(error))
            assert (type(error), str(error)) == (type(copy), str(copy))
            assert error.status == copy.status
        assert "WORKLOAD_INIT_DOWNLOAD_ERROR" == pickle.loads(pickle.dumps(errors[0])).error_code


class TestOneCall:
    def test_generate_image_wakes(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """generate_image(..., wait_for_endpoint, wake=True): one call, the image saved."""
        endpoint = friendli_server.add_endpoint("dep1")

        result = generate_image(
            "a cat",
            model="dep1",
            save_to=tmp_path,
            wait_for_endpoint=30,
            wake=True,
            token=friendli_server.token,
            base_url=friendli_server.base_url,
        )

        assert ["image.png"] == sorted(p.name for p in tmp_path.iterdir())
        assert ["wake", "wait"] == [event.kind for event in result.endpoint_events]
        assert 1 == endpoint.wake_requests

    @pytest.mark.anyio
    async def test_agenerate_image_waits(self, friendli_server: FriendliTestServer) -> None:
        """agenerate_image waits for a waking endpoint too."""
        endpoint = friendli_server.add_endpoint("dep1")
        endpoint.wake()

        result = await agenerate_image(
            "a cat",
            model="dep1",
            wait_for_endpoint=30,
            token=friendli_server.token,
            base_url=friendli_server.base_url,
        )

        assert 1 == len(result.images)
        assert ["wait"] == [event.kind for event in result.endpoint_events]
