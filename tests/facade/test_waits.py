"""The one capped wait: every sleep of the library is at most 60 s, within its deadline, finite."""

from __future__ import annotations

import asyncio
import math
import threading
import time

import pytest
from friendli_images import AsyncFriendliImages, FriendliImages, _waits
from friendli_images._batch._throttle import BatchStopped, Throttle
from friendli_images._transport._retry import retry_delay
from friendli_images.testing import ErrorStatus, FriendliTestServer

NOW = 1000.0


@pytest.mark.parametrize(
    ("seconds", "deadline", "expected"),
    [
        pytest.param(1.5, None, 1.5, id="plain"),
        pytest.param(60.0, None, 60.0, id="at-the-cap"),
        pytest.param(61.0, None, 60.0, id="over-the-cap"),
        pytest.param(1e9, None, 60.0, id="retry-after-1e9"),
        pytest.param(1e10, None, 60.0, id="retry-after-1e10"),
        pytest.param(1e300, None, 60.0, id="1e300"),
        pytest.param(math.inf, None, 60.0, id="inf-waits-the-cap"),
        pytest.param(math.nan, None, 0.0, id="nan-waits-nothing"),
        pytest.param(-math.inf, None, 0.0, id="minus-inf"),
        pytest.param(-3.0, None, 0.0, id="negative"),
        pytest.param(None, None, 60.0, id="until-notified-in-steps-of-the-cap"),
        pytest.param(10.0, NOW + 2.0, 2.0, id="deadline-first"),
        pytest.param(1e10, NOW + 2.0, 2.0, id="huge-within-deadline"),
        pytest.param(None, NOW + 2.0, 2.0, id="until-notified-within-deadline"),
        pytest.param(1.0, NOW + 2.0, 1.0, id="well-before-deadline"),
        pytest.param(5.0, NOW - 1.0, 0.0, id="deadline-passed"),
        pytest.param(5.0, math.nan, 0.0, id="nan-deadline"),
    ],
)
def test_bounded(seconds: float | None, deadline: float | None, expected: float) -> None:
    assert expected == _waits.bounded(seconds, deadline=deadline, now=NOW)


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        pytest.param(None, None, id="no-budget"),
        pytest.param(math.inf, None, id="inf-is-no-deadline"),
        pytest.param(5.0, NOW + 5.0, id="plain"),
        pytest.param(0.0, NOW, id="zero"),
        pytest.param(-1.0, NOW, id="negative-is-now"),
        pytest.param(math.nan, NOW, id="nan-is-now"),
    ],
)
def test_deadline_after(budget: float | None, expected: float | None) -> None:
    assert expected == _waits.deadline_after(budget, now=NOW)


@pytest.mark.parametrize(
    ("current", "retry_after", "expected"),
    [
        pytest.param(0.0, None, 0.0, id="no-retry-after"),
        pytest.param(0.0, 2.0, NOW + 2.0, id="plain"),
        pytest.param(0.0, 1e9, NOW + 60.0, id="capped"),
        pytest.param(0.0, math.inf, NOW + 60.0, id="inf"),
        pytest.param(0.0, math.nan, NOW, id="nan"),
        pytest.param(NOW + 30.0, 2.0, NOW + 30.0, id="a-longer-pause-stands"),
    ],
)
def test_pause_end(current: float, retry_after: float | None, expected: float) -> None:
    assert expected == _waits.pause_end(current, NOW, retry_after)


@pytest.mark.parametrize("retry_after", [1e9, 1e10, math.inf])
def test_retry_delay_goes_through_the_cap(retry_after: float) -> None:
    assert 60.0 == retry_delay(0, retry_after, random=lambda: 0.0)


def test_waits_hold_their_deadline_whatever_the_length() -> None:
    """1e10 s on a condition, an event or a sleep: no OverflowError, and the deadline holds."""
    started = time.monotonic()
    deadline = started + 0.05
    condition = threading.Condition()
    with condition:
        assert not _waits.wait_condition(condition, 1e10, deadline=deadline)
    assert not _waits.wait_event(threading.Event(), 1e10, deadline=deadline)
    assert 0.0 <= _waits.sleep(1e10, deadline=deadline) <= 0.05
    assert time.monotonic() - started < 5.0  # not 1e10 s, nor the 60 s cap


def test_the_throttle_pause_is_capped_not_an_overflow() -> None:
    """A Retry-After of 1e10 on the batch throttle pauses at most the cap: a thread waiting
    for a slot stops cleanly when the batch stops (it used to raise OverflowError)."""
    throttle = Throttle(2)
    epoch = throttle.acquire().epoch
    throttle.release(epoch, overloaded=True, retry_after=1e10)
    errors: list[BaseException] = []

    def take() -> None:
        try:
            throttle.acquire()
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=take)
    worker.start()
    time.sleep(0.1)
    throttle.stop()
    worker.join(5)

    assert not worker.is_alive()
    assert [BatchStopped] == [type(error) for error in errors]


@pytest.fixture
def short_cap(monkeypatch: pytest.MonkeyPatch) -> float:
    """The cap at 0.3 s, so that a test can see it applied without waiting 60 s."""
    monkeypatch.setattr(_waits, "MAX_WAIT", 0.3)
    return 0.3


@pytest.mark.parametrize("retry_after", [1e9, 1e10])
class TestHugeRetryAfter:
    """One 429 with ``Retry-After: 1e9`` no longer stalls a batch for 31 years."""

    def test_generate_n(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        short_cap: float,
        retry_after: float,
    ) -> None:
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=f"{retry_after:.0f}"))
        started = time.monotonic()

        result = client.generate("x", model="ep", n=4, concurrency=2)

        assert 4 == len(result.images)
        assert time.monotonic() - started < 30  # the cap applied, not 1e9 s

    def test_generate_many(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        short_cap: float,
        retry_after: float,
    ) -> None:
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=f"{retry_after:.0f}"))
        requests = [{"prompt": f"p{i}", "model": "ep"} for i in range(4)]

        outcomes = list(client.generate_many(requests, concurrency=2))

        assert [True] * 4 == [outcome.ok for outcome in outcomes]

    def test_async_generate_n(
        self, friendli_server: FriendliTestServer, short_cap: float, retry_after: float
    ) -> None:
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=f"{retry_after:.0f}"))

        async def main() -> int:
            async with AsyncFriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, timeout=10
            ) as client:
                result = await client.generate("x", model="ep", n=4, concurrency=2)
                return len(result.images)

        assert 4 == asyncio.run(asyncio.wait_for(main(), 30))
