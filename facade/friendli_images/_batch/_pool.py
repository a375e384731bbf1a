"""Connections for batches: several small httpx pools instead of one large one.

One httpx client keeps at most 20 connections alive by default, so a batch with more in
flight opened a new TCP connection for almost every request, and above 100 in flight
requests waited for a free connection (``PoolTimeout``). Raising one client's ``Limits``
fixes that but was measured 2.7x to 4.5x slower: httpcore scans every connection of the
pool on every pool event. So a batch spreads its requests over ``ceil(concurrency / 16)``
clients of ``CONNECTIONS_PER_CLIENT`` connections each, all kept alive, and gives each
attempt the client with the fewest requests in flight. As a batch never has more than
``concurrency`` attempts in flight, no client ever has more than its connections: no
request waits for a connection, and connections are reused at any concurrency.

The pool belongs to a ``FriendliImages``/``AsyncFriendliImages`` (grown to the largest
batch it ran, closed with it). A caller's own ``http_client`` is used as it is instead.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import httpx

__all__ = ["CONNECTIONS_PER_CLIENT", "ClientPool", "aclose_pool", "clients_for", "close_pool"]

CONNECTIONS_PER_CLIENT = 16

H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def clients_for(concurrency: int) -> int:
    """How many clients of ``CONNECTIONS_PER_CLIENT`` a batch of ``concurrency`` needs."""
    return -(-concurrency // CONNECTIONS_PER_CLIENT)


def pool_limits() -> httpx.Limits:
    """Every connection of a pooled client is kept alive: a batch reuses all of them."""
    return httpx.Limits(
        max_connections=CONNECTIONS_PER_CLIENT,
        max_keepalive_connections=CONNECTIONS_PER_CLIENT,
    )


class ClientPool(Generic[H]):
    """httpx clients created on demand; ``lease()`` gives the least busy one."""

    def __init__(self, make: Callable[[httpx.Limits], H]) -> None:
        self._make: Callable[[httpx.Limits], H] = make
        self._clients: list[H] = []
        self._busy: list[int] = []
        self._lock = threading.Lock()

    def reserve(self, concurrency: int) -> None:
        """Have enough clients for ``concurrency`` attempts in flight."""
        with self._lock:
            while len(self._clients) < clients_for(concurrency):
                self._clients.append(self._make(pool_limits()))
                self._busy.append(0)

    def _take(self) -> int:
        with self._lock:
            index = min(range(len(self._busy)), key=self._busy.__getitem__)
            self._busy[index] += 1
            return index

    def _give_back(self, index: int) -> None:
        with self._lock:
            self._busy[index] -= 1

    @contextlib.contextmanager
    def lease(self) -> Iterator[H]:
        index = self._take()
        try:
            yield self._clients[index]
        finally:
            self._give_back(index)

    @property
    def clients(self) -> list[H]:
        return list(self._clients)

    def take_all(self) -> list[H]:
        """Forget every client and return them, to be closed."""
        with self._lock:
            clients, self._clients, self._busy = self._clients, [], []
        return clients


def close_pool(pool: ClientPool[httpx.Client]) -> None:
    for client in pool.take_all():
        client.close()


async def aclose_pool(pool: ClientPool[httpx.AsyncClient]) -> None:
    for client in pool.take_all():
        await client.aclose()
