"""The batching engine: lazy, bounded, outcome per request, nothing sent once stopped."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from friendli_images import (
    APIResponseValidationError,
    AsyncFriendliImages,
    BadRequestError,
    BatchFailedError,
    FriendliImages,
    FriendliImagesError,
    InvalidRequestError,
    Outcome,
    RateLimitError,
    ResponseFormat,
)
from friendli_images._batch._engine import generate_each
from friendli_images.testing import ErrorStatus, FriendliTestServer, InvalidJson

QUIET = 0.4
"""How long to watch the server after a batch stopped (retry delays are 10-50 ms here)."""


def _requests(count: int, pulled: list[int] | None = None) -> Iterator[dict[str, Any]]:
    for index in range(count):
        if pulled is not None:
            pulled.append(index)
        yield {"prompt": f"p{index}", "model": "ep", "seed": index, "response_format": "png"}


def _posts_after(friendli_server: FriendliTestServer, moment: float) -> int:
    return sum(1 for request in friendli_server.generation_requests if request.received_at > moment)


class TestGenerateMany:
    def test_every_request_has_one_outcome(self, client: FriendliImages) -> None:
        """Each request ends as one outcome with its index and request; a bad one fails alone."""
        requests = list(_requests(4))
        requests[2] = {**requests[2], "num_inference_steps": 0}

        outcomes = sorted(client.generate_many(requests, concurrency=2), key=lambda o: o.index)

        assert [0, 1, 2, 3] == [outcome.index for outcome in outcomes]
        assert requests == [outcome.request for outcome in outcomes]
        assert [True, True, False, True] == [outcome.ok for outcome in outcomes]
        assert isinstance(outcomes[2].error, InvalidRequestError)
        assert [0, 1, 3] == [o.result.images[0].seed for o in outcomes if o.result is not None]
        assert outcomes[0].result is outcomes[0].unwrap()
        with pytest.raises(InvalidRequestError) as raised:
            outcomes[2].unwrap()
        assert raised.value is outcomes[2].error

    @pytest.mark.parametrize(
        ("request_", "param"),
        [
            pytest.param({"prompt": "x"}, "model", id="no-model"),
            pytest.param({"model": "ep"}, "prompt", id="no-prompt"),
            pytest.param({"prompt": "x", "model": "ep", "colour": 1}, "colour", id="unknown"),
            pytest.param(["x"], "request", id="not-a-mapping"),
        ],
    )
    def test_invalid_request_is_its_outcome(
        self, client: FriendliImages, friendli_server: FriendliTestServer, request_: Any, param: str
    ) -> None:
        """A request that is not valid is rejected before sending, naming the field."""
        (outcome,) = client.generate_many([request_])

        assert isinstance(outcome.error, InvalidRequestError)
        assert param == outcome.error.param
        assert [] == friendli_server.generation_requests

    def test_requests_are_read_lazily(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Requests are taken one per free slot: closing early leaves the rest unread."""
        pulled: list[int] = []
        outcomes = client.generate_many(_requests(1000, pulled), concurrency=2)

        first = next(outcomes)
        outcomes.close()

        assert first.ok
        assert len(pulled) <= 5
        assert len(friendli_server.generation_requests) <= len(pulled)

    def test_nothing_sent_after_close(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Closing the iterator stops the batch: no new request and no retry afterwards."""
        friendli_server.inject(ErrorStatus(503), times=50)
        friendli_server.inject(ErrorStatus(400), times=1)  # after the 503s: never reached
        outcomes = client.generate_many(_requests(100), concurrency=4)
        with contextlib.closing(outcomes):
            time.sleep(0.05)  # let retries of 503s start
        stopped = time.monotonic()

        time.sleep(QUIET)

        assert 0 == _posts_after(friendli_server, stopped + 0.05)

    @pytest.mark.anyio
    async def test_async_outcomes(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async engine reads async iterables too, and keeps one outcome per request."""

        async def requests() -> Any:
            for request in _requests(5):
                yield request

        friendli_server.inject(ErrorStatus(400))
        outcomes = [o async for o in aclient.generate_many(requests(), concurrency=2)]

        assert [0, 1, 2, 3, 4] == sorted(outcome.index for outcome in outcomes)
        assert 1 == sum(1 for outcome in outcomes if isinstance(outcome.error, BadRequestError))


class TestGenerateN:
    def test_huge_n_starts_at_once(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """n=10**6 creates its work lazily: a strict failure returns fast, after few requests."""
        friendli_server.inject(ErrorStatus(400))
        start = time.monotonic()

        with pytest.raises(BadRequestError):
            client.generate("x", model="ep", n=10**6, concurrency=2, strict=True)

        assert time.monotonic() - start < 5
        assert len(friendli_server.generation_requests) <= 4

    @pytest.mark.anyio
    async def test_async_huge_n_starts_at_once(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async n=10**6 creates at most `concurrency` tasks."""
        friendli_server.inject(ErrorStatus(400))

        with pytest.raises(BadRequestError):
            await aclient.generate("x", model="ep", n=10**6, concurrency=2, strict=True)

        assert len(friendli_server.generation_requests) <= 4

    def test_no_attempt_after_strict_failure(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Issue 9 item 7: after strict=True raised, no POST (retries included) arrives."""
        friendli_server.inject(ErrorStatus(400))
        friendli_server.inject(ErrorStatus(503), times=100)

        with pytest.raises(BadRequestError):
            client.generate("x", model="ep", n=8, concurrency=4, strict=True, max_retries=50)
        raised = time.monotonic()
        time.sleep(QUIET)

        assert 0 == _posts_after(friendli_server, raised + 0.05)

    @pytest.mark.anyio
    async def test_async_no_attempt_after_strict_failure(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async batch cancels its requests: nothing is sent after it raised."""
        import asyncio

        friendli_server.inject(ErrorStatus(400))
        friendli_server.inject(ErrorStatus(503), times=100)

        with pytest.raises(BadRequestError):
            await aclient.generate("x", model="ep", n=8, concurrency=4, strict=True, max_retries=50)
        raised = time.monotonic()
        await asyncio.sleep(QUIET)

        assert 0 == _posts_after(friendli_server, raised + 0.05)

    @pytest.mark.parametrize("response_format", ["png", "url"])
    def test_one_malformed_200_keeps_the_others(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        response_format: ResponseFormat,
    ) -> None:
        """Issue 9 item 2: a 200 that does not parse fails its request only."""
        friendli_server.inject(InvalidJson())

        result = client.generate(
            "x", model="ep", seed=1, n=4, concurrency=1, response_format=response_format
        )

        assert [2, 3, 4] == [image.seed for image in result.images]
        (failure,) = result.errors
        assert isinstance(failure.error, APIResponseValidationError)

    def test_unexpected_error_fails_its_request_only(self, client: FriendliImages) -> None:
        """Whatever goes wrong with one request (even a bug) is that request's error."""

        def prepare(index: int) -> Any:
            if index == 1:
                raise RecursionError("deep")
            return client._prepare_request({"prompt": "x", "model": "ep"})

        outcomes = list(generate_each(client, range(3), prepare, concurrency=2))

        failed = [outcome for outcome in outcomes if not outcome.ok]
        assert [1] == [outcome.index for outcome in failed]
        assert type(failed[0].error) is FriendliImagesError
        assert "unexpected RecursionError: deep" == str(failed[0].error)
        assert all(isinstance(outcome, Outcome) for outcome in outcomes)


SLOW_REFUSAL = 0.3
"""Seconds the server takes to refuse in the overload tests: every request of the batch is
out by then, so each refusal comes back while the batch could send less (an immediate one
could come back before the next thread has even sent, at one in flight, where it is an
ordinary failure)."""


class TestAdaptive:
    def test_429_backs_off_instead_of_failing(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Overload answers while the batch can send less cost no retry: all succeed."""
        friendli_server.inject(ErrorStatus(429, delay=SLOW_REFUSAL), times=3)

        result = client.generate("x", model="ep", n=4, concurrency=4, max_retries=0)

        assert 4 == len(result.images)
        assert [] == result.errors

    def test_429_at_one_in_flight_counts_as_a_retry(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """At one request in flight, a 429 is an ordinary retryable failure."""
        friendli_server.inject(ErrorStatus.rate_limited(), times=2)

        with pytest.raises(BatchFailedError) as caught:
            client.generate("x", model="ep", n=2, concurrency=1, max_retries=0)

        assert 2 == len(caught.value.failures)
        assert all(isinstance(failure.error, RateLimitError) for failure in caught.value.failures)

    @pytest.mark.parametrize(("opt_in", "failed"), [(True, 0), (False, 3)])
    def test_503_slows_the_batch_only_when_asked(
        self, client: FriendliImages, friendli_server: FriendliTestServer, opt_in: bool, failed: int
    ) -> None:
        """With throttle_on_503=True a 503 is an overload answer like 429; else a plain failure."""
        friendli_server.inject(ErrorStatus(503, delay=SLOW_REFUSAL), times=3)
        requests = [{**request, "max_retries": 0} for request in _requests(4)]

        outcomes = list(client.generate_many(requests, concurrency=4, throttle_on_503=opt_in))

        assert failed == sum(1 for outcome in outcomes if not outcome.ok)

    def test_retry_after_pauses_the_whole_batch(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """One Retry-After holds back every request of the batch, not only the refused one."""
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=0.4))

        client.generate("x", model="ep", n=6, concurrency=2)

        requests = friendli_server.generation_requests
        refused = next(r for r in requests if r.fault is not None).received_at
        during_pause = [r for r in requests if refused + 0.05 < r.received_at < refused + 0.35]
        assert [] == during_pause
        assert 7 == len(requests)


def test_base64_text_is_not_kept(client: FriendliImages) -> None:
    """A decoded image keeps its bytes, not its base64 text too (memory of big batches)."""
    result = client.generate("x", model="ep", n=2, response_format="png")

    assert all(image.raw.b64_json == "" for image in result.images)
    assert all(image.content().startswith(b"\x89PNG") for image in result.images)


def test_a_failed_save_fails_its_request_only(client: FriendliImages, tmp_path: Path) -> None:
    """An OSError while saving one request's images is that request's error, with its reason."""

    def save(index: int, request: int, result: Any) -> list[Path]:
        if index == 0:
            raise PermissionError(13, "Permission denied", str(tmp_path / "x.png"))
        return []

    prepare = lambda index: client._prepare_request({"prompt": "x", "model": "ep"})  # noqa: E731
    outcomes = list(generate_each(client, range(2), prepare, concurrency=1, finish=save))

    failed = [outcome for outcome in outcomes if not outcome.ok]
    assert [0] == [outcome.index for outcome in failed]
    assert f"PermissionError: Permission denied: {tmp_path / 'x.png'}" == str(failed[0].error)


def test_threads_start_as_requests_come(client: FriendliImages) -> None:
    """Three requests at concurrency 64 start a handful of worker threads, not 64."""
    import threading

    def workers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("friendli-images-")}

    before = workers()
    outcomes = client.generate_many(_requests(3), concurrency=64)
    first = next(outcomes)
    during = len(workers() - before)
    rest = list(outcomes)

    assert first.ok
    assert 2 == len(rest)
    assert during <= 4


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("header b'Bearer {token}\\n'", id="bytes-repr"),
        pytest.param("value {token}", id="plain"),
    ],
)
def test_unexpected_error_text_never_holds_the_token(client: FriendliImages, text: str) -> None:
    """An unexpected error's message is redacted, and the original is not chained."""
    token = client._token
    assert token is not None

    def prepare(index: int) -> Any:
        raise RuntimeError(text.format(token=token))

    (outcome,) = generate_each(client, range(1), prepare, concurrency=1)

    assert outcome.error is not None
    assert token not in str(outcome.error)
    assert "[secure]" in str(outcome.error)
    assert outcome.error.__cause__ is None


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_strict_batch_sends_nothing_after_its_first_failure(
    client: FriendliImages, friendli_server: FriendliTestServer, concurrency: int
) -> None:
    """strict=True: the first failed request stops the batch at once; only requests already
    in flight at that moment were sent (sync workers used to send 1-2 more)."""
    friendli_server.latency = 0.1
    friendli_server.inject(ErrorStatus(400))

    with pytest.raises(BadRequestError):
        client.generate("x", model="ep", n=8, concurrency=concurrency, strict=True)
    time.sleep(QUIET)

    assert len(friendli_server.generation_requests) <= concurrency


@pytest.mark.anyio
@pytest.mark.parametrize("concurrency", [1, 2])
async def test_an_async_strict_batch_sends_nothing_after_its_first_failure(
    aclient: AsyncFriendliImages, friendli_server: FriendliTestServer, concurrency: int
) -> None:
    import asyncio

    friendli_server.latency = 0.1
    friendli_server.inject(ErrorStatus(400))

    with pytest.raises(BadRequestError):
        await aclient.generate("x", model="ep", n=8, concurrency=concurrency, strict=True)
    await asyncio.sleep(QUIET)

    assert len(friendli_server.generation_requests) <= concurrency
