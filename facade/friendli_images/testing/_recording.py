"""What the server remembers of each request it receives."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any, Literal, TypeAlias

import attrs
import httpx

from ._faults import Fault

__all__ = ["Listener", "RecordedRequest", "Route"]

Route: TypeAlias = Literal["generate", "image", "endpoint", "other"]
"""What a request was for: the generation path, an image download, the endpoint API
(status, wake, sleep; see :class:`SimulatedEndpoint`), or anything else."""

Listener: TypeAlias = Literal["api", "images"]
"""Which of the two sockets received a request: the API, or the image host."""


# slots=False: cached_property stores the parsed body in the instance's __dict__.
@attrs.frozen(eq=False, slots=False)
class RecordedRequest:
    """One request as the server received it, whatever happened to it afterwards.

    The server records these; the parameters are the attributes below.

    :param method: The HTTP method.
    :param path: The path without the query string.
    :param query: The query string, without its ``?``.
    :param headers: The request headers.
    :param body: The body after chunked decoding (empty if not recorded).
    :param body_length: The body's length in bytes.
    :param route: What the request was for.
    :param listener: Which socket received it.
    :param connection_id: The number of its TCP connection on this server.
    :param fault: The injected fault it consumed, if any.
    :param received_at: ``time.monotonic()`` when its body had been read.
    :param request_id: The ``X-Request-Id`` the server answered it with.
    """

    method: str
    path: str
    """The path without the query string."""
    query: str
    headers: httpx.Headers
    """Case-insensitive: ``headers["authorization"]`` finds ``Authorization``."""
    body: bytes
    """The body after chunked decoding; empty when the server has ``record_bodies=False``."""
    body_length: int
    """The body's length in bytes, recorded even when the body itself is not."""
    route: Route
    listener: Listener
    connection_id: int
    """Counts TCP connections per server from 1; equal ids mean a reused connection."""
    fault: Fault | None
    """The injected fault this request consumed, if any."""
    received_at: float
    """``time.monotonic()`` when the body had been read."""
    request_id: str = ""
    """The id the server answered it with, in its ``X-Request-Id`` header (``req-1``, ...)."""

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` if it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None
