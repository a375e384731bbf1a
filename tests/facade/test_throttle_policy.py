"""The throttle's policy (``Limit``) as tables on a fake clock: slow start, then AIMD.

``Limit`` reads no clock: every event takes the time as an argument, so these tables
pass ``now`` by hand and never sleep. The same ``Limit`` drives ``Throttle`` (threads)
and ``AsyncThrottle`` (asyncio), so both paths follow what is pinned here.
"""

from __future__ import annotations

import pytest
from friendli_images import _waits
from friendli_images._batch._engine import _free_retry
from friendli_images._batch._throttle import (
    DECREASE_FACTOR,
    START,
    AsyncThrottle,
    Limit,
    Throttle,
)


def _round(limit: Limit, capacity: int, now: float = 0.0) -> tuple[Limit, int, int]:
    """One round trip: every open slot sends; ``capacity`` succeed, the rest are refused
    (answered at once, as a 429 is). Returns the new limit, successes and refusals."""
    slots = limit.slots
    epoch = limit.epoch
    ok = min(slots, capacity)
    for _ in range(ok):
        limit = limit.after_success()
    for _ in range(slots - ok):
        limit = limit.after_overload(epoch, now)
    return limit, ok, slots - ok


class TestStart:
    @pytest.mark.parametrize(
        ("ceiling", "slots"),
        [
            pytest.param(1, 1, id="one"),
            pytest.param(4, 4, id="below-start"),
            pytest.param(START, START, id="at-start"),
            pytest.param(64, START, id="64"),
            pytest.param(1024, START, id="1024"),
        ],
    )
    def test_opens_few_slots(self, ceiling: int, slots: int) -> None:
        """A batch opens START slots (fewer if its ceiling is lower), not its ceiling."""
        limit = Limit.start(ceiling)
        assert slots == limit.slots
        assert (ceiling > START) == limit.slow_start

    @pytest.mark.parametrize("ceiling", [64, 256, 1024])
    def test_doubles_per_round_up_to_the_ceiling(self, ceiling: int) -> None:
        """Without refusals, slots double every round of successes and stop at the ceiling."""
        limit = Limit.start(ceiling)
        seen = [limit.slots]
        while limit.slots < ceiling:
            limit, _, refused = _round(limit, capacity=10**6)
            assert 0 == refused
            seen.append(limit.slots)
        assert [min(ceiling, START * 2**step) for step in range(len(seen))] == seen
        limit, _, _ = _round(limit, capacity=10**6)
        assert ceiling == limit.slots


class TestOverload:
    def test_cut_ends_slow_start(self) -> None:
        limit = Limit(1024, 40.0, threshold=1024.0)

        cut = limit.after_overload(0, now=5.0)

        assert DECREASE_FACTOR * 40.0 == pytest.approx(cut.value)
        assert not cut.slow_start
        assert 1 == cut.epoch
        assert 40.0 * DECREASE_FACTOR + 1 / cut.value == pytest.approx(cut.after_success().value)

    @pytest.mark.parametrize(
        ("in_flight", "value"),
        [
            pytest.param(None, 40.0 * DECREASE_FACTOR, id="no-flight-size"),
            pytest.param(100, 40.0 * DECREASE_FACTOR, id="flight-above-the-cut"),
            pytest.param(18, 18.0, id="cut-to-the-flight-size"),
            pytest.param(0, 1.0, id="never-below-one"),
        ],
    )
    def test_cut_to_the_flight_size(self, in_flight: int | None, value: float) -> None:
        """Slow start overshoots before the first refusal comes back: the cut is at most
        what is still in flight."""
        limit = Limit(1024, 40.0, threshold=1024.0)
        assert value == pytest.approx(limit.after_overload(0, 1.0, None, in_flight).value)

    def test_late_refusals_cap_at_the_flight_size(self) -> None:
        """Refusals of an earlier epoch do not cut again, but cap the limit at what is in
        flight (the server is full with it), and slow start does not climb back."""
        cut = Limit(1024, 32.0, threshold=1024.0).after_overload(0, 1.0, None, 31)

        late = cut.after_overload(0, 1.001, None, 20).after_overload(0, 1.002, None, 17)

        assert (17.0, 1) == (late.value, late.epoch)
        assert not late.slow_start
        assert late == late.after_overload(0, 1.003, None, 30)

    def test_no_flight_cap_with_retry_after(self) -> None:
        """A Retry-After says pause, not "too many in flight": the pause handles it."""
        limit = Limit(64, 40.0)
        paused = limit.after_overload(0, 0.0, 1.0, 2)
        assert 40.0 * DECREASE_FACTOR == pytest.approx(paused.threshold)

    def test_one_cut_per_round(self) -> None:
        """Refusals of requests sent before the last cut do not cut again."""
        limit = Limit(64, 32.0, epoch=2)
        once = limit.after_overload(2, now=1.0)
        assert once == once.after_overload(2, now=1.0)
        assert once.value > once.after_overload(once.epoch, now=1.0).value

    @pytest.mark.parametrize("ceiling", [64, 256, 1024])
    def test_few_refusals_against_a_capped_server(self, ceiling: int) -> None:
        """300 images against a simulated server allowing 16 in flight (1 s per image, a
        refusal answered at once): at most 1.2 requests per image whatever the ceiling,
        and nearly the time of a batch that knew the capacity (simulated time)."""
        sent, seconds = _simulate(ceiling, images=300, capacity=16)
        _, capped_seconds = _simulate(16, images=300, capacity=16)

        assert sent / 300 <= 1.2
        assert capped_seconds / seconds >= 0.9


def _simulate(ceiling: int, images: int, capacity: int) -> tuple[int, float]:
    """A batch of ``images`` against a server of ``capacity`` on a simulated clock:
    (requests sent, simulated seconds). Refused requests are sent again at once."""
    import heapq

    limit = Limit.start(ceiling)
    events: list[tuple[float, int, bool, int]] = []  # (time, order, success?, epoch)
    now = 0.0
    done = sent = in_flight = busy = 0
    while done < images:
        while in_flight < limit.slots and done + in_flight < images:
            sent += 1
            in_flight += 1
            accepted = busy < capacity
            busy += accepted
            answer = now + (1.0 if accepted else 0.001) + sent * 1e-6
            heapq.heappush(events, (answer, sent, accepted, limit.epoch))
        now, _, accepted, epoch = heapq.heappop(events)
        in_flight -= 1
        if accepted:
            busy -= 1
            done += 1
            limit = limit.after_success()
        else:
            limit = limit.after_overload(epoch, now, in_flight=in_flight)
    return sent, now


class TestPause:
    def test_retry_after_pauses_everyone_on_the_fake_clock(self) -> None:
        limit = Limit(64, 32.0, epoch=0, threshold=32.0)

        paused = limit.after_overload(0, now=100.0, retry_after=5.0)

        assert 105.0 == paused.paused_until
        assert 5.0 == paused.wait_time(100.0, in_flight=0)
        assert 1.5 == paused.wait_time(103.5, in_flight=0)
        assert 0.0 == paused.wait_time(105.0, in_flight=0)

    def test_pause_is_capped_by_waits(self) -> None:
        """A Retry-After of a day pauses for at most ``_waits.MAX_WAIT``."""
        paused = Limit(64, 32.0).after_overload(0, now=10.0, retry_after=86_400.0)
        assert 10.0 + _waits.MAX_WAIT == paused.paused_until

    def test_restart_is_slow(self) -> None:
        """After a pause START slots open (not the whole limit), doubling back to the cut
        limit by successes, then growing additively."""
        limit = Limit(1024, 64.0, epoch=3, threshold=64.0)

        paused = limit.after_overload(3, now=0.0, retry_after=1.0)

        assert START == paused.slots
        assert paused.slow_start
        assert 64.0 * DECREASE_FACTOR == pytest.approx(paused.threshold)
        after = paused
        rounds = 0
        while after.slow_start:
            after, _, _ = _round(after, capacity=10**6, now=2.0)
            rounds += 1
        assert 3 == rounds  # 8 -> 16 -> 32 -> 57.6
        assert 64.0 * DECREASE_FACTOR == pytest.approx(after.value, abs=1.0)  # then additive

    def test_another_retry_after_extends_the_pause_without_a_second_cut(self) -> None:
        paused = Limit(64, 32.0).after_overload(0, now=0.0, retry_after=2.0)

        again = paused.after_overload(0, now=0.5, retry_after=3.0)

        assert 3.5 == again.paused_until
        assert (paused.value, paused.epoch) == (again.value, again.epoch)

    def test_stale_retry_after_still_restarts_slowly(self) -> None:
        """A pause announced by a request sent before the last cut restarts slowly too."""
        cut = Limit(256, 100.0).after_overload(0, now=0.0)

        paused = cut.after_overload(0, now=0.1, retry_after=1.0)

        assert 1.1 == pytest.approx(paused.paused_until)
        assert START == paused.slots
        assert cut.value == pytest.approx(paused.threshold)
        assert cut.epoch == paused.epoch

    def test_no_retry_after_no_pause(self) -> None:
        limit = Limit(64, 32.0).after_overload(0, now=7.0)
        assert 0.0 == limit.wait_time(7.0, in_flight=0)
        assert limit.wait_time(7.0, in_flight=limit.slots) is None


@pytest.mark.parametrize("throttle_type", [Throttle, AsyncThrottle])
def test_both_paths_start_the_same(throttle_type: type[Throttle] | type[AsyncThrottle]) -> None:
    """The sync and async throttles begin with the same policy."""
    assert Limit.start(256) == throttle_type(256).limit


@pytest.mark.parametrize(
    ("overloaded", "slots", "others", "free"),
    [
        pytest.param(True, 4, 0, True, id="limit-above-one"),
        pytest.param(True, 1, 2, True, id="cut-to-one-while-a-burst-is-out"),
        pytest.param(True, 1, 0, False, id="alone-at-one-slot"),
        pytest.param(False, 4, 3, False, id="not-an-overload"),
        pytest.param(None, 4, 3, False, id="no-answer"),
    ],
)
def test_free_retry(overloaded: bool | None, slots: int, others: int, free: bool) -> None:
    """An overload answer costs no retry while the batch could still send less."""
    limit = Limit(ceiling=8, value=float(slots))
    assert free == _free_retry(overloaded, limit, others)
