"""The adaptive concurrency rule (AIMD) and the shared Retry-After pause, as tables."""

from __future__ import annotations

import threading
import time

import pytest
from friendli_images._batch._throttle import (
    DECREASE_FACTOR,
    BatchStopped,
    Limit,
    Throttle,
    pause_until,
)


class TestLimit:
    @pytest.mark.parametrize(
        ("limit", "expected_value"),
        [
            pytest.param(Limit(16, 16.0), 16.0, id="stays-at-ceiling"),
            pytest.param(Limit(16, 8.0), 8.125, id="adds-one-over-limit"),
            pytest.param(Limit(16, 1.0), 2.0, id="from-one-to-two"),
            pytest.param(Limit(16, 15.99), 16.0, id="capped-at-ceiling"),
        ],
    )
    def test_after_success(self, limit: Limit, expected_value: float) -> None:
        """Each success adds 1/limit: about one more in flight per round of successes."""
        assert expected_value == pytest.approx(limit.after_success().value)

    @pytest.mark.parametrize(
        ("limit", "sent_in_epoch", "expected"),
        [
            pytest.param(
                Limit(64, 64.0, 0), 0, Limit(64, 64.0 * DECREASE_FACTOR, 1), id="cuts-once"
            ),
            pytest.param(Limit(64, 50.0, 3), 2, Limit(64, 50.0, 3), id="older-attempt-no-cut"),
            pytest.param(Limit(64, 1.0, 5), 5, Limit(64, 1.0, 6), id="never-below-one"),
        ],
    )
    def test_after_overload(self, limit: Limit, sent_in_epoch: int, expected: Limit) -> None:
        """An overload cuts the limit once per round: answers to older attempts do not."""
        assert expected == limit.after_overload(sent_in_epoch)

    @pytest.mark.parametrize(
        ("limit", "slots"),
        [
            pytest.param(Limit(16, 16.0), 16, id="ceiling"),
            pytest.param(Limit(16, 14.99), 14, id="floor"),
            pytest.param(Limit(16, 0.5), 1, id="at-least-one"),
        ],
    )
    def test_slots(self, limit: Limit, slots: int) -> None:
        """Requests allowed in flight: the limit rounded down, at least one."""
        assert slots == limit.slots

    def test_converges_under_a_server_cap(self) -> None:
        """Simulated against a cap of 16 from a ceiling of 64, the limit settles near 16."""
        limit = Limit.start(64)
        history = []
        for _ in range(400):  # one round trip per step: every slot answers
            slots = limit.slots
            epoch = limit.epoch
            for request in range(slots):
                limit = limit.after_overload(epoch) if request >= 16 else limit.after_success()
            history.append(slots)
        settled = history[100:]
        assert max(settled) <= 17
        assert sum(settled) / len(settled) >= 0.9 * 16


@pytest.mark.parametrize(
    ("current", "now", "retry_after", "expected"),
    [
        pytest.param(0.0, 10.0, None, 0.0, id="no-header"),
        pytest.param(0.0, 10.0, 2.0, 12.0, id="pauses"),
        pytest.param(15.0, 10.0, 2.0, 15.0, id="keeps-a-longer-pause"),
        pytest.param(11.0, 10.0, 2.0, 12.0, id="extends-a-shorter-pause"),
    ],
)
def test_pause_until(
    current: float, now: float, retry_after: float | None, expected: float
) -> None:
    """One Retry-After pauses the whole batch; the longest pause wins."""
    assert expected == pause_until(current, now, retry_after)


class TestThrottle:
    def test_stop_wakes_waiters(self) -> None:
        """A thread waiting for a slot raises BatchStopped when the batch stops."""
        throttle = Throttle(1)
        throttle.acquire()
        raised: list[BaseException] = []

        def wait() -> None:
            try:
                throttle.acquire()
            except BatchStopped as error:
                raised.append(error)

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.05)
        throttle.stop()
        thread.join(2)

        assert 1 == len(raised)

    def test_retry_after_pauses_new_attempts(self) -> None:
        """After an overload with Retry-After, no slot is given out until the pause ends."""
        throttle = Throttle(4)
        taken = throttle.acquire()
        throttle.release(taken.epoch, overloaded=True, retry_after=0.2)
        start = time.monotonic()

        throttle.acquire()

        assert time.monotonic() - start >= 0.15
        assert 1 == throttle.overloads
