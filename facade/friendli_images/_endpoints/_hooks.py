"""The endpoint waiter's hooks in the single-request path and the batch engine: noted
before each attempt, asked after a failed one.

Kept apart from ``_wait`` so that a call without waiting (the default) loads nothing of
the waiter: ``_wait`` is imported only when a waiter exists (``wait_for_endpoint``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._exceptions import APIError
    from ._wait import WaiterState

__all__ = ["await_if_not_ready", "wait_if_not_ready", "waits_seen"]


def waits_seen(waiter: WaiterState | None) -> int:
    """Noted before each attempt: how many waits ``waiter`` had completed."""
    return 0 if waiter is None else waiter.round


def wait_if_not_ready(waiter: WaiterState | None, seen: int, error: APIError) -> bool:
    """With a waiter and a not-ready ``error``: wait until the endpoint is ready and
    return ``True`` (send again: nothing was generated). ``False`` otherwise; raises
    the ``EndpointError`` (or API error) of a wait that failed."""
    if waiter is None or not waiter.handles(error):
        return False
    from ._wait import EndpointWaiter

    assert isinstance(waiter, EndpointWaiter)
    waiter.wait(seen, error)
    return True


async def await_if_not_ready(waiter: WaiterState | None, seen: int, error: APIError) -> bool:
    """``wait_if_not_ready`` for the async clients."""
    if waiter is None or not waiter.handles(error):
        return False
    from ._wait import AsyncEndpointWaiter

    assert isinstance(waiter, AsyncEndpointWaiter)
    await waiter.wait(seen, error)
    return True
