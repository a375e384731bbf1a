"""Sync deadlines that hold inside httpx: every blocking socket operation of the
package's own sync clients ends by the deadline of the exchange it serves.

httpx's timeouts apply to each socket operation, not to a request: a server that sends
its headers (or a body) a byte at a time, each byte just inside the read timeout, holds
a plain sync request for ever. The asyncio path wraps each exchange in
``asyncio.timeout``; threads cannot be interrupted from outside, so here the limit goes
where the waiting happens. The package's sync clients connect through
``_backend.DeadlineBackend``, whose streams clip each read, write, connect and TLS
handshake to what is left of the deadline that the thread set with ``within`` (and fail
once it has passed): ``ReadTimeout`` (``ConnectTimeout``, ``WriteTimeout``) as httpx
raises them, so the callers' error handling is the one they already have. This module
imports nothing of httpx (an exchange uses ``within`` on every attempt); ``_backend``,
which needs httpcore, loads when the first client is built.

A thread without a deadline (``within(None)``, or none set) keeps httpx's own timeouts.
A caller's own ``http_client`` has its own transport, which this does not reach: there
httpx's per-operation timeouts apply, as documented for ``http_client``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

__all__ = ["clip", "within"]

_local = threading.local()


@contextlib.contextmanager
def within(deadline: float | None) -> Iterator[None]:
    """Run the block with ``deadline`` (a ``time.monotonic()`` value; ``None``: none) as
    this thread's limit for the socket operations of the package's clients."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = previous


def clip(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` of one socket operation, at most what is left of this thread's
    deadline; ``expired`` raised once the deadline has passed."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the exchange's deadline passed")
    return left if timeout is None or timeout > left else timeout
