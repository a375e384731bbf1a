"""What the batch engine needs of a client: ``SyncAttempts`` and ``AsyncAttempts``.

An attempt to run, the retry delay after a failed one, the connections a batch sends with,
and the secrets to redact from an error. The clients (``SyncClient``, ``AsyncClient``)
satisfy these protocols; the engine depends on them, not on the clients, so no import
runs back up from ``_batch`` to the clients.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from .._calls import _Call, _Failure
    from .._results import ImageResult

__all__ = ["AsyncAttempts", "SyncAttempts"]


class SyncAttempts(Protocol):
    """A client whose attempts block."""

    @property
    def _secrets(self) -> tuple[str, ...]: ...

    def _attempt(self, call: _Call, http: httpx.Client | None = None) -> ImageResult | _Failure:
        """Send ``call`` once: its result, or its failure with the retry decision."""
        ...

    def _next_delay(self, failure: _Failure, retries_taken: int, call: _Call) -> float | None:
        """Seconds to wait before retrying ``failure``, or ``None`` to give up."""
        ...

    def _connections(self, concurrency: int) -> Callable[[], AbstractContextManager[httpx.Client]]:
        """What a batch of ``concurrency`` sends with."""
        ...


class AsyncAttempts(Protocol):
    """A client whose attempts are awaited."""

    @property
    def _secrets(self) -> tuple[str, ...]: ...

    async def _attempt(
        self, call: _Call, http: httpx.AsyncClient | None = None
    ) -> ImageResult | _Failure:
        """Send ``call`` once: its result, or its failure with the retry decision."""
        ...

    def _next_delay(self, failure: _Failure, retries_taken: int, call: _Call) -> float | None:
        """Seconds to wait before retrying ``failure``, or ``None`` to give up."""
        ...

    def _connections(
        self, concurrency: int
    ) -> Callable[[], AbstractContextManager[httpx.AsyncClient]]:
        """What a batch of ``concurrency`` sends with."""
        ...
