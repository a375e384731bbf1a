"""Every wait of the library, in one place: capped, within the caller's deadline, finite.

The promise: no wait the library does lasts longer than ``MAX_WAIT`` (60 s, the documented
cap on a server's ``Retry-After``), none runs past the deadline the caller set
(``wait_for_endpoint``, ``wait_until_ready(timeout=...)``), and no value a server sends
(``Retry-After: 1e10``, ``inf``, ``nan``, a negative number) reaches the clock: ``+inf`` and
anything above the cap wait the cap, ``nan`` and anything below zero wait nothing.

Retry delays, the batch-wide ``Retry-After`` pause, endpoint polling, the throttle's
waiting for a free slot and the command line's idle loops all go through these functions;
no other module of the package calls ``time.sleep``, ``asyncio.sleep`` or waits on a
condition with a timeout of its own (the test server aside).

``bounded`` is the rule (pure, table-tested); the other functions apply it to a plain
sleep, a ``threading.Condition``, a ``threading.Event`` and an ``asyncio`` future. The
other side of a deadline, a blocking socket read that must end by it, is
``_transport._deadline``'s.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

from . import _config

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "MAX_WAIT",
    "asleep",
    "bounded",
    "deadline_after",
    "pause_end",
    "sleep",
    "wait_condition",
    "wait_event",
    "wait_future",
]


MAX_WAIT = _config.MAX_RETRY_AFTER
"""The longest single wait, in seconds: 60, the documented cap on ``Retry-After``."""


def bounded(
    seconds: float | None,
    *,
    deadline: float | None = None,
    now: float | None = None,
    cap: float | None = None,
) -> float:
    """How long a wait of ``seconds`` may really last: within ``[0, cap]`` and ``deadline``.

    ``seconds=None`` means "until something happens", which is waited in steps of ``cap``.
    ``deadline`` is a ``time.monotonic()`` value (``now`` defaults to the clock); ``cap``
    defaults to ``MAX_WAIT``.
    """
    if cap is None:
        cap = MAX_WAIT
    if seconds is None or math.isnan(seconds):
        seconds = cap if seconds is None else 0.0
    wait = min(max(seconds, 0.0), cap)
    if deadline is not None:
        left = deadline - (time.monotonic() if now is None else now)
        wait = min(wait, max(left, 0.0)) if not math.isnan(left) else 0.0
    return wait


def deadline_after(seconds: float | None, *, now: float | None = None) -> float | None:
    """The ``time.monotonic()`` deadline ``seconds`` from ``now`` (``None``: no deadline).

    A non-finite or negative budget is no budget: ``inf`` is no deadline, the others now.
    """
    if seconds is None or seconds == math.inf:
        return None
    start = time.monotonic() if now is None else now
    if math.isnan(seconds) or seconds < 0:
        return start
    return start + seconds


def pause_end(current: float, now: float, retry_after: float | None) -> float:
    """When a batch paused until ``current`` may send again after a ``Retry-After``.

    The pause is the server's ``retry_after`` capped at ``MAX_WAIT`` from ``now``; an
    earlier pause that ends later stands.
    """
    if retry_after is None:
        return current
    return max(current, now + bounded(retry_after))


def sleep(seconds: float, *, deadline: float | None = None) -> float:
    """Block for ``seconds``, bounded; return the seconds actually waited for."""
    wait = bounded(seconds, deadline=deadline)
    if wait > 0:
        time.sleep(wait)
    return wait


async def asleep(seconds: float, *, deadline: float | None = None) -> float:
    """``sleep`` for asyncio."""
    import asyncio

    wait = bounded(seconds, deadline=deadline)
    await asyncio.sleep(wait)  # 0 too: one pass of the event loop, as callers expect
    return wait


def wait_condition(
    condition: threading.Condition, seconds: float | None, *, deadline: float | None = None
) -> bool:
    """``condition.wait`` (called with it held) for at most ``seconds``, bounded.

    Returns whether it was notified before the time ran out. Callers loop and check their
    state, as with any condition.
    """
    wait = bounded(seconds, deadline=deadline)
    if wait <= 0:
        return False
    return condition.wait(wait)


def wait_event(
    event: threading.Event, seconds: float | None, *, deadline: float | None = None
) -> bool:
    """``event.wait`` for at most ``seconds``, bounded; whether the event is set."""
    wait = bounded(seconds, deadline=deadline)
    if wait <= 0:
        return event.is_set()
    return event.wait(wait)


async def wait_future(
    future: asyncio.Future[None], seconds: float | None, *, deadline: float | None = None
) -> bool:
    """Wait for ``future`` at most ``seconds``, bounded; whether it completed in time.

    The future is not cancelled when the time runs out (its owner decides).
    """
    import asyncio

    wait = bounded(seconds, deadline=deadline)
    if future.done():
        return True
    if wait <= 0:
        return False
    done, _ = await asyncio.wait({future}, timeout=wait)
    return bool(done)
