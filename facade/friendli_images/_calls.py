"""One call of an operation, validated and ready to send (``_Call``), and one failed
attempt with its retry decision (``_Failure``): what the clients hand the batch engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx

from ._exceptions import (
    APIError,
)
from ._operations import DEDICATED_GENERATE, Operation
from ._params import Extras

__all__ = ["_Call", "_Failure"]

if TYPE_CHECKING:
    from ._endpoints._wait import WaiterState


# Named tuples, not attrs classes: this module loads with ``import friendli_images`` and
# an attrs class costs ~4x a named tuple to build (attrs itself loads with the first call).
class _Call(NamedTuple):
    """One validated call of an operation, ready to send (possibly several times)."""

    body: Any
    """The operation's generated request model."""
    timeout: httpx.Timeout
    max_retries: int
    retry_ambiguous: bool
    operation: Operation = DEDICATED_GENERATE
    endpoint_waiter: WaiterState | None = None
    """With ``wait_for_endpoint``: a not-ready answer goes to it instead of being retried."""
    extras: Extras | None = None
    """The call's ``extra_headers``, ``extra_query`` and ``extra_body``, checked."""
    on_send: Callable[[], None] | None = None
    """Called by a batch each time the call holds a slot and goes out (not while queued)."""

    def waiting_with(self, waiter: WaiterState | None) -> _Call:
        return self if waiter is None else self._replace(endpoint_waiter=waiter)

    def with_seed(self, seed: int) -> _Call:
        import attrs  # the body is a generated attrs model: attrs is loaded

        return self._replace(body=attrs.evolve(self.body, seed=seed))


class _Failure(NamedTuple):
    """A failed attempt: the error to raise, and whether and when it may be retried."""

    error: APIError
    retryable: bool
    retry_after: float | None = None
