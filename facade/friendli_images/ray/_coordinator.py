"""The one small actor a Dataset's generation stage shares: who is which actor, and the waits.

Each stage actor registers once and gets an index, from which it takes its share of the
requests in flight (``_rows.spread``). When a request finds its endpoint asleep or
waking, the actor asks the coordinator to wait: the coordinator holds one client and the
library's endpoint waiters (``_endpoint_wait``), one per endpoint, so however many actors
find the endpoint asleep, it is polled by one of them and woken at most once for the
whole Dataset. The rounds of waiting are the waiters' own: an actor that saw an older
round than the coordinator's just sends again (another actor's wait already ended).

It is also the stage's ledger of what was sent. A batch is an *attempt* (named by a
fingerprint of its rows) and each row is *claimed* before its request may go out. When
Ray restarts an actor that died mid-batch (same actor id, a new incarnation) and retries
the batch, the retry adopts the dead incarnation's attempt: the rows it had claimed may
have generated, and been billed, so they come back as failure rows instead of being
sent again; the rows it had not claimed are sent.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._client import FriendliImages
from .._endpoints._status import EndpointEvent
from .._endpoints._wait import EndpointWaiter, WaiterPool
from .._exceptions import APIError, FriendliImagesError

__all__ = ["Coordinator"]


@attrs.define
class _Attempt:
    """One execution of one batch: who runs it, and the rows it may have sent."""

    number: int
    actor_id: str
    incarnation: str
    claimed: set[int] = attrs.field(factory=set)


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
        self._indexes: dict[str, int] = {}
        self._incarnations: dict[str, str] = {}
        self._attempts: dict[str, list[_Attempt]] = {}
        self._numbers = itertools.count()

    def register(self, actor_id: str, incarnation: str) -> int:
        """An actor's index (0, 1, 2, ... in the order actors start; a restarted actor
        keeps its own), and ``incarnation`` noted as the live one of ``actor_id``."""
        with self._lock:
            self._registered += 1
            self._incarnations[actor_id] = incarnation
            if actor_id not in self._indexes:
                self._indexes[actor_id] = len(self._indexes)
            return self._indexes[actor_id]

    def begin(self, fingerprint: str, actor_id: str, incarnation: str) -> tuple[int, list[int]]:
        """Start a batch: ``(attempt, rows claimed already)``, the rows of a dead
        incarnation's attempt of the same batch that this one adopts (else none)."""
        with self._lock:
            for attempt in self._attempts.get(fingerprint, []):
                if self._incarnations.get(attempt.actor_id) != attempt.incarnation:
                    attempt.actor_id, attempt.incarnation = actor_id, incarnation
                    return attempt.number, sorted(attempt.claimed)
            attempt = _Attempt(next(self._numbers), actor_id, incarnation)
            self._attempts.setdefault(fingerprint, []).append(attempt)
            return attempt.number, []

    def claim(self, fingerprint: str, number: int, positions: Sequence[int]) -> None:
        """Note rows of an attempt as about to be sent (before any byte of them is)."""
        with self._lock:
            for attempt in self._attempts.get(fingerprint, []):
                if attempt.number == number:
                    attempt.claimed.update(positions)

    def finish(self, fingerprint: str, number: int) -> None:
        """Forget an attempt whose every row has its output row."""
        with self._lock:
            attempts = self._attempts.get(fingerprint, [])
            attempts[:] = [attempt for attempt in attempts if attempt.number != number]
            if not attempts:
                self._attempts.pop(fingerprint, None)

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
        """How many actor incarnations registered (a restarted actor registers again)."""
        with self._lock:
            return self._registered
