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
Clients are created when attempts need them, not when a batch starts: a batch of two
requests at ``concurrency=10_000`` creates one client, not 625. Once the pool is closed, a
lease raises ``ClientClosedError`` until a new batch reserves it again, and an attempt that
was in flight gives its lease back quietly.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import httpx

from .._exceptions import ClientClosedError

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
        self._wanted = 0
        self._generation = 0
        """Counts ``take_all()`` calls: a lease of an earlier generation is not given back."""
        self._closed = False
        self._lock = threading.Lock()

    def reserve(self, concurrency: int) -> None:
        """Allow enough clients for ``concurrency`` attempts in flight (made as needed);
        opens the pool again after ``take_all()`` (a new batch after ``aclose()``)."""
        with self._lock:
            self._closed = False
            self._wanted = max(self._wanted, clients_for(concurrency))

    def _take(self) -> tuple[int, int, H]:
        with self._lock:
            if self._closed:
                raise ClientClosedError("the client was closed; open a new one to send requests")
            index = min(range(len(self._busy)), key=self._busy.__getitem__, default=-1)
            full = index < 0 or self._busy[index] >= CONNECTIONS_PER_CLIENT
            if full and len(self._clients) < max(self._wanted, 1):
                self._clients.append(self._make(pool_limits()))
                self._busy.append(0)
                index = len(self._clients) - 1
            self._busy[index] += 1
            return self._generation, index, self._clients[index]

    def _give_back(self, generation: int, index: int) -> None:
        with self._lock:
            if generation == self._generation:  # else: the pool was closed meanwhile
                self._busy[index] -= 1

    @contextlib.contextmanager
    def lease(self) -> Iterator[H]:
        generation, index, client = self._take()
        try:
            yield client
        finally:
            self._give_back(generation, index)

    @property
    def clients(self) -> list[H]:
        return list(self._clients)

    def take_all(self) -> list[H]:
        """Forget every client and return them, to be closed."""
        with self._lock:
            clients, self._clients, self._busy = self._clients, [], []
            self._generation += 1
            self._wanted = 0
            self._closed = True
        return clients


def close_pool(pool: ClientPool[httpx.Client]) -> None:
    for client in pool.take_all():
        client.close()


async def aclose_pool(pool: ClientPool[httpx.AsyncClient]) -> None:
    for client in pool.take_all():
        await client.aclose()
