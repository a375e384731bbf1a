"""Sync deadlines that hold inside httpx: every blocking socket operation of the
package's own sync clients ends by the deadline of the exchange it serves.

httpx's timeouts apply to each socket operation, not to a request: a server that sends
its headers (or a body) a byte at a time, each byte just inside the read timeout, holds
a plain sync request for ever. The asyncio path wraps each exchange in
``asyncio.timeout``; threads cannot be interrupted from outside, so here the limit goes
where the waiting happens. The package's sync clients connect through ``DeadlineBackend``
(``deadline_transport``), whose streams clip each read, write, connect and TLS handshake
to what is left of the deadline that the thread set with ``within`` (and fail once it
has passed): ``ReadTimeout`` (``ConnectTimeout``, ``WriteTimeout``) as httpx raises them,
so the callers' error handling is the one they already have.

A thread without a deadline (``within(None)``, or none set) keeps httpx's own timeouts.
A caller's own ``http_client`` has its own transport, which this does not reach: there
httpx's per-operation timeouts apply, as documented for ``http_client``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import httpcore
import httpx

from ._tls import shared_ssl_context

if TYPE_CHECKING:
    import ssl

__all__ = ["DEFAULT_LIMITS", "DeadlineBackend", "deadline_transport", "within"]

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""``httpx.Client``'s own default limits, for a client built with our transport."""

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


class _Stream(httpcore.NetworkStream):
    """A stream whose every operation is clipped to the thread's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, with streams clipped to the thread's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend | None = None) -> None:
        self._backend = backend if backend is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        limit = clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, limit, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        limit = clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, limit, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.HTTPTransport:
    """The transport of every sync client the package creates: httpx's own, with the
    shared TLS context and ``limits``, connecting through ``DeadlineBackend``.

    httpx builds its connection pool itself and has no parameter for the network
    backend, so the pool is replaced by an httpcore pool of the same settings that has
    one (``tests/facade/test_deadline.py`` checks that the limits still hold).
    """
    context = shared_ssl_context()
    transport = httpx.HTTPTransport(verify=context, limits=limits)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=DeadlineBackend(),
    )
    return transport
