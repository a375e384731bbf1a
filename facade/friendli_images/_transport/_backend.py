"""The network backend and transport of the package's sync clients: httpcore's own,
with every socket operation clipped to the thread's deadline (``_deadline``).

Imported when the first sync client is built (it needs httpcore, which ``import httpx``
does not load).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import httpcore
import httpx

from ._deadline import clip
from ._tls import shared_ssl_context

if TYPE_CHECKING:
    import ssl

__all__ = ["DEFAULT_LIMITS", "DeadlineBackend", "deadline_transport"]

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""``httpx.Client``'s own default limits, for a client built with our transport."""


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
