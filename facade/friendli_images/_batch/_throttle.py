"""Adaptive concurrency for batches: how many requests may be in flight right now.

``concurrency`` is a ceiling, not a promise. Opening every slot at once cost up to
``ceiling - capacity`` overload answers before the first one came back (a 429 storm), so a
batch grows as TCP does:

* **Slow start**: a batch opens ``START`` slots (or ``concurrency``, if smaller), and every
  success adds one: the limit doubles per round trip of successes, up to the ceiling.
* **Multiplicative decrease**: an overload answer (429 Too Many Requests, and 503 when the
  caller opts in) multiplies the limit by ``DECREASE_FACTOR``, once per round trip
  however many requests of that round were refused (``epoch``), and ends slow start.
  Every refusal without a ``Retry-After`` also caps the limit at the requests still in
  flight (TCP's flight size): the server is full with those.
* **Additive increase**: after that, every success adds ``1 / limit``, about one more
  request in flight per round trip of successes.
* **One shared pause**: a ``Retry-After`` pauses the whole batch once (capped by
  ``_waits``, as every wait is), instead of every request sleeping on its own and then
  stampeding back together. A new pause also **restarts slowly**: after it, ``START``
  slots open, and slow start doubles them back up to the cut limit.

The rule is ``Limit``: pure (no clock, no I/O; the time is passed in), table-tested with a
fake clock. ``Throttle`` and ``AsyncThrottle`` apply the same rule to threads and to
asyncio tasks.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import attrs

from .. import _waits
from .._exceptions import FriendliImagesError

if TYPE_CHECKING:
    import asyncio

__all__ = ["DECREASE_FACTOR", "START", "AsyncThrottle", "BatchStopped", "Limit", "Throttle"]

DECREASE_FACTOR = 0.95
"""Multiplier of the limit after an overload answer (a gentle cut keeps throughput high)."""

START = 8
"""Slots a batch opens first (and after a ``Retry-After`` pause), unless its ceiling is lower."""


class BatchStopped(FriendliImagesError):
    """The batch was stopped (strict failure, Ctrl-C, closed iterator): no new attempt starts."""


@attrs.frozen
class Limit:
    """The adaptive limit on requests in flight (immutable: every event returns a new one).

    ``value`` moves between 1 and ``ceiling``; below ``threshold`` the batch is in slow
    start (a success adds 1), at or above it in additive increase (a success adds
    ``1 / value``). ``epoch`` counts the decreases, so that an overload answer to a request
    sent before the last decrease does not cut again. ``paused_until`` is the end of the
    shared ``Retry-After`` pause, on the clock the caller passes in.
    """

    ceiling: int
    value: float
    epoch: int = 0
    threshold: float = 0.0
    paused_until: float = 0.0

    @classmethod
    def start(cls, ceiling: int, start: int = START) -> Limit:
        """A batch's first limit: ``start`` slots (at most ``ceiling``), in slow start."""
        return cls(ceiling, float(max(1, min(start, ceiling))), threshold=float(ceiling))

    @property
    def slots(self) -> int:
        """Requests allowed in flight (outside a pause)."""
        return max(1, min(self.ceiling, int(self.value)))

    @property
    def slow_start(self) -> bool:
        return self.value < self.threshold

    def wait_time(self, now: float, in_flight: int) -> float | None:
        """Seconds to wait before a slot may be taken; 0 to take it now; None: no slot free."""
        if self.paused_until > now:
            return self.paused_until - now
        return 0.0 if in_flight < self.slots else None

    def after_success(self) -> Limit:
        if self.slow_start:
            value = min(self.threshold, self.value + 1.0)
        else:
            value = self.value + 1.0 / self.value
        return attrs.evolve(self, value=min(float(self.ceiling), value))

    def after_overload(
        self,
        sent_in_epoch: int,
        now: float = 0.0,
        retry_after: float | None = None,
        in_flight: int | None = None,
    ) -> Limit:
        """The limit after an overload answer to an attempt sent during ``sent_in_epoch``,
        received at ``now``, with the server's ``Retry-After`` seconds if it sent one, while
        ``in_flight`` other attempts are still out.

        The cut is ``DECREASE_FACTOR`` of the limit, once per epoch. Without a
        ``Retry-After``, a refusal also means the server is full with what is in flight,
        so every refusal (a late one of an earlier epoch too) caps the limit at
        ``in_flight``, as TCP cuts to the flight size: slow start may have doubled the
        limit well past what the server takes before the first refusal came back, and
        those refused requests would otherwise be sent again into a full server.
        """
        paused_until = _waits.pause_end(self.paused_until, now, retry_after)
        flight = None if in_flight is None or retry_after is not None else float(in_flight)
        if sent_in_epoch == self.epoch:
            cut = self.value * DECREASE_FACTOR
            if flight is not None:
                cut = min(cut, flight)
            cut = max(1.0, cut)
            limit = Limit(self.ceiling, cut, self.epoch + 1, cut, paused_until)
        else:  # already cut since that request left: no second cut
            limit = attrs.evolve(self, paused_until=paused_until)
            if flight is not None and flight < limit.value:
                capped = max(1.0, flight)
                limit = attrs.evolve(limit, value=capped, threshold=min(limit.threshold, capped))
        if paused_until > now >= self.paused_until:  # a new pause: restart slowly after it
            restart = float(min(START, limit.slots))
            limit = attrs.evolve(limit, value=restart, threshold=max(limit.threshold, limit.value))
        return limit


def pause_until(current: float, now: float, retry_after: float | None) -> float:
    """When the batch may send again after a ``Retry-After`` of ``retry_after`` seconds:
    at most ``_waits.MAX_WAIT`` (60 s) from ``now``, as for a single request's retry."""
    return _waits.pause_end(current, now, retry_after)


class _Gate:
    """State shared by the sync and async throttles (every change under their lock)."""

    def __init__(self, ceiling: int) -> None:
        self.limit = Limit.start(ceiling)
        self.in_flight = 0
        self.stopped = False
        self.overloads = 0
        """Overload answers seen (429, or 503 when opted in)."""

    @property
    def paused_until(self) -> float:
        return self.limit.paused_until

    def wait_time(self, now: float) -> float | None:
        """Seconds to wait before a slot may be taken; 0 to take it now; None: no slot free."""
        return self.limit.wait_time(now, self.in_flight)

    def release(self, epoch: int, *, overloaded: bool | None, retry_after: float | None) -> None:
        """An attempt ended: ``overloaded`` True/False, or None when it says nothing of load."""
        self.in_flight -= 1
        if overloaded:
            self.overloads += 1
            self.limit = self.limit.after_overload(
                epoch, time.monotonic(), retry_after, self.in_flight
            )
        elif overloaded is False:
            self.limit = self.limit.after_success()


class Throttle:
    """``Limit`` for worker threads: ``acquire()`` blocks until a slot is free."""

    def __init__(self, ceiling: int) -> None:
        self._gate = _Gate(ceiling)
        self._changed = threading.Condition()

    @property
    def limit(self) -> Limit:
        return self._gate.limit

    @property
    def overloads(self) -> int:
        return self._gate.overloads

    @property
    def in_flight(self) -> int:
        """Attempts holding a slot now."""
        return self._gate.in_flight

    @property
    def stopped(self) -> bool:
        return self._gate.stopped

    def acquire(self) -> Limit:
        """Take a slot (waiting for one, and for any pause); return the limit it was taken under."""
        with self._changed:
            while True:
                if self._gate.stopped:
                    raise BatchStopped("the batch was stopped")
                wait = self._gate.wait_time(time.monotonic())
                if wait == 0.0:
                    self._gate.in_flight += 1
                    return self._gate.limit
                _waits.wait_condition(self._changed, wait)

    def release(self, epoch: int, *, overloaded: bool | None, retry_after: float | None) -> None:
        with self._changed:
            self._gate.release(epoch, overloaded=overloaded, retry_after=retry_after)
            self._changed.notify(max(1, self._gate.limit.slots - self._gate.in_flight))

    def sleep(self, seconds: float, *, deadline: float | None = None) -> None:
        """Wait ``seconds`` (bounded by ``_waits``: at most 60 s, never past ``deadline``),
        or less if the batch stops (then ``BatchStopped``)."""
        end = time.monotonic() + _waits.bounded(seconds, deadline=deadline)
        with self._changed:
            while not self._gate.stopped:
                left = end - time.monotonic()
                if left <= 0:
                    return
                _waits.wait_condition(self._changed, left)
            raise BatchStopped("the batch was stopped")

    def stop(self) -> None:
        """No attempt starts from now on; waiting threads raise ``BatchStopped``."""
        with self._changed:
            self._gate.stopped = True
            self._changed.notify_all()


class AsyncThrottle:
    """``Limit`` for asyncio tasks, waking exactly as many waiters as slots came free.

    Stopping an async batch is cancelling its tasks; ``stop()`` also makes every later
    ``acquire()`` raise ``BatchStopped`` (a strict batch stops at its first failure).
    """

    def __init__(self, ceiling: int) -> None:
        from collections import deque

        self._gate = _Gate(ceiling)
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> Limit:
        return self._gate.limit

    @property
    def overloads(self) -> int:
        return self._gate.overloads

    @property
    def in_flight(self) -> int:
        """Attempts holding a slot now."""
        return self._gate.in_flight

    async def acquire(self) -> Limit:
        """Take a slot (waiting for one, and for any pause); return the limit it was taken under."""
        import asyncio  # here, not at the top: sync users never pay for importing it

        loop = asyncio.get_running_loop()
        while True:
            if self._gate.stopped:
                raise BatchStopped("the batch was stopped")
            wait = self._gate.wait_time(time.monotonic())
            if wait == 0.0 and not self._waiters:
                self._gate.in_flight += 1
                return self._gate.limit
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await _waits.wait_future(waiter, wait or None)
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            wait = self._gate.wait_time(time.monotonic())
            if wait == 0.0 and not self._gate.stopped:
                self._gate.in_flight += 1
                self._wake()  # pass on any other free slot
                return self._gate.limit

    @property
    def stopped(self) -> bool:
        return self._gate.stopped

    def stop(self) -> None:
        """No attempt starts from now on; waiting tasks raise ``BatchStopped``."""
        self._gate.stopped = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def release(self, epoch: int, *, overloaded: bool | None, retry_after: float | None) -> None:
        """Give the slot back (no await: also safe while a task is being cancelled)."""
        self._gate.release(epoch, overloaded=overloaded, retry_after=retry_after)
        self._wake()

    def _wake(self) -> None:
        free = self._gate.limit.slots - self._gate.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
