"""Adaptive concurrency for batches: how many requests may be in flight right now.

``concurrency`` is a ceiling, not a promise. A batch starts at the ceiling; when the
endpoint answers "overloaded" (429 Too Many Requests, and 503 when the caller opts in)
the number in flight is multiplied by ``DECREASE_FACTOR`` (once per round trip, however
many requests of that round were refused), and every success adds ``1 / limit`` (about
one more request in flight per round trip of successes): additive increase,
multiplicative decrease, as TCP does. A ``Retry-After`` pauses the whole batch once,
instead of every request sleeping on its own and then stampeding back together.

The rule is ``Limit`` (pure, table-tested); ``Throttle`` and ``AsyncThrottle`` apply it
to threads and to asyncio tasks.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

import attrs

from .. import _waits
from .._exceptions import FriendliImagesError

if TYPE_CHECKING:
    import asyncio

__all__ = ["DECREASE_FACTOR", "AsyncThrottle", "BatchStopped", "Limit", "Throttle"]

DECREASE_FACTOR = 0.9
"""Multiplier of the limit after an overload answer (a gentle cut keeps throughput high)."""


class BatchStopped(FriendliImagesError):
    """The batch was stopped (strict failure, Ctrl-C, closed iterator): no new attempt starts."""


@attrs.frozen
class Limit:
    """The adaptive limit on requests in flight.

    ``value`` moves between 1 and ``ceiling``; ``epoch`` counts the decreases, so that an
    overload answer to a request sent before the last decrease does not cut again.
    """

    ceiling: int
    value: float
    epoch: int = 0

    @classmethod
    def start(cls, ceiling: int) -> Limit:
        return cls(ceiling, float(ceiling))

    @property
    def slots(self) -> int:
        """Requests allowed in flight now."""
        return max(1, min(self.ceiling, math.floor(self.value)))

    def after_success(self) -> Limit:
        return attrs.evolve(self, value=min(float(self.ceiling), self.value + 1.0 / self.value))

    def after_overload(self, sent_in_epoch: int) -> Limit:
        """The limit after an overload answer to an attempt sent during ``sent_in_epoch``."""
        if sent_in_epoch != self.epoch:  # already cut since that request left
            return self
        return Limit(self.ceiling, max(1.0, self.value * DECREASE_FACTOR), self.epoch + 1)


def pause_until(current: float, now: float, retry_after: float | None) -> float:
    """When the batch may send again after a ``Retry-After`` of ``retry_after`` seconds:
    at most ``_waits.MAX_WAIT`` (60 s) from ``now``, as for a single request's retry."""
    return _waits.pause_end(current, now, retry_after)


class _Gate:
    """State shared by the sync and async throttles (every change under their lock)."""

    def __init__(self, ceiling: int) -> None:
        self.limit = Limit.start(ceiling)
        self.in_flight = 0
        self.paused_until = 0.0
        self.stopped = False
        self.overloads = 0
        """Overload answers seen (429, or 503 when opted in)."""

    def wait_time(self, now: float) -> float | None:
        """Seconds to wait before a slot may be taken; 0 to take it now; None: no slot free."""
        if self.paused_until > now:
            return self.paused_until - now
        return 0.0 if self.in_flight < self.limit.slots else None

    def release(self, epoch: int, *, overloaded: bool | None, retry_after: float | None) -> None:
        """An attempt ended: ``overloaded`` True/False, or None when it says nothing of load."""
        self.in_flight -= 1
        if overloaded:
            self.overloads += 1
            self.limit = self.limit.after_overload(epoch)
            self.paused_until = pause_until(self.paused_until, time.monotonic(), retry_after)
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
