"""The one small actor a Dataset's generation stage shares: who is which actor, and the waits.

Each stage actor registers once and gets an index, from which it takes its share of the
requests in flight (``_rows.spread``). When a request finds its endpoint asleep or
waking, the actor asks the coordinator to wait: the coordinator holds one client and the
library's endpoint waiters (``_endpoint_wait``), one per endpoint, so however many actors
find the endpoint asleep, it is polled by one of them and woken at most once for the
whole Dataset. The rounds of waiting are the waiters' own: an actor that saw an older
round than the coordinator's just sends again (another actor's wait already ended).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .._client import FriendliImages
from .._endpoints._status import EndpointEvent
from .._endpoints._wait import EndpointWaiter, WaiterPool
from .._exceptions import APIError, FriendliImagesError

__all__ = ["Coordinator"]


class Coordinator:
    """The shared state of one generation stage (run as a Ray actor; see the module).

    :param client_options: ``FriendliImages`` keyword arguments (no token: it is read
        from ``FRIENDLI_TOKEN`` in the actor's own environment).
    """

    def __init__(self, client_options: Mapping[str, Any]) -> None:
        self._client = FriendliImages(**client_options)
        self._pool: WaiterPool[EndpointWaiter] = self._client._new_waiter_pool()
        self._lock = threading.Lock()
        self._registered = 0

    def register(self) -> int:
        """A new actor's index (0, 1, 2, ... in the order actors start)."""
        with self._lock:
            index = self._registered
            self._registered += 1
            return index

    def wait(
        self, endpoint_id: str, budget: float, wake: bool, seen_round: int, cause: APIError
    ) -> tuple[int, FriendliImagesError | None]:
        """Wait for the endpoint unless a wait ended since ``seen_round``.

        :returns: The round now, and the error of a wait that failed (returned, not
            raised: Ray would wrap a raised one in its own error type).
        """
        waiter = self._pool.get(endpoint_id, budget, wake=wake)
        try:
            waiter.wait(seen_round, cause)
        except FriendliImagesError as error:
            return waiter.round, error
        return waiter.round, None

    def events(self) -> list[EndpointEvent]:
        """Every wake and wait so far, for every endpoint (each one costs money)."""
        return self._pool.events

    def registered(self) -> int:
        """How many actors registered (a restarted actor registers again)."""
        with self._lock:
            return self._registered
