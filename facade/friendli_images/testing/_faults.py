"""Faults a test queues on the server: delays, error statuses, broken connections and bodies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeAlias

import attrs

from ._wire import json_bytes, reason_phrase

__all__ = [
    "FAULT_TYPES",
    "Delay",
    "DropConnection",
    "ErrorStatus",
    "Fault",
    "InvalidJson",
    "TruncatedBody",
    "WrongShape",
]


@attrs.frozen
class Delay:
    """Wait ``seconds`` before handling the request as usual (auth, validation, latency).

    :param seconds: How long to wait (``>= 0``).
    """

    seconds: float

    def __attrs_post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {self.seconds}")


@attrs.frozen
class ErrorStatus:
    """Answer with an error ``status`` and a JSON body, without looking at the request.

    The body is ``{"detail": message}`` (``message`` defaults to a sentence naming the
    status) unless ``body`` is given: any JSON value, or ``bytes`` sent verbatim with
    ``content_type``. ``retry_after`` becomes a ``Retry-After`` header: a number of
    seconds (``2`` -> ``"2"``, ``0.5`` -> ``"0.5"``), a ``datetime`` (sent as an HTTP-date;
    a naive one is taken as UTC), or a string sent as is (to test malformed values).
    ``delay`` holds the answer back, as an overloaded server that refuses only after a
    queue timeout does (and so that refusals can come while other requests are out).

    :param status: The HTTP status, in [200, 599].
    :param message: The ``detail`` of the default body.
    :param body: The body instead of ``{"detail": message}``: JSON, or raw ``bytes``.
    :param retry_after: The ``Retry-After`` header, if any.
    :param headers: More response headers.
    :param content_type: The ``Content-Type`` header.
    :param delay: Seconds to wait before answering (``>= 0``, finite).
    """

    status: int
    message: str | None = None
    body: Any = None
    retry_after: float | datetime | str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.status, bool) or not 200 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code in [200, 599], got {self.status}")
        if not 0 <= self.delay < float("inf"):  # NaN fails both comparisons
            raise ValueError(f"delay must be finite and >= 0, got {self.delay}")

    @classmethod
    def rate_limited(
        cls, retry_after: float | datetime | str | None = None, message: str | None = None
    ) -> ErrorStatus:
        """A 429 Too Many Requests, optionally with ``Retry-After``.

        :param retry_after: The ``Retry-After`` header, if any (as in ``ErrorStatus``).
        :param message: The ``detail`` of the body.
        """
        return cls(429, message=message, retry_after=retry_after)

    def response_body(self) -> bytes:
        """The exact bytes this fault sends as its body."""
        if isinstance(self.body, bytes):
            return self.body
        if self.body is not None:
            return json_bytes(self.body)
        message = self.message
        if message is None:
            message = f"Injected fault: {self.status} {reason_phrase(self.status)}"
        return json_bytes({"detail": message})

    def response_headers(self) -> list[tuple[str, str]]:
        """The headers this fault sends besides ``Content-Length``."""
        headers = [("Content-Type", self.content_type)]
        if self.retry_after is not None:
            headers.append(("Retry-After", _format_retry_after(self.retry_after)))
        headers.extend(self.headers.items())
        return headers


@attrs.frozen
class DropConnection:
    """Read the whole request, then close the connection without sending a byte.

    httpx reports this as ``httpx.RemoteProtocolError`` ("Server disconnected without
    sending a response").
    """


@attrs.frozen
class TruncatedBody:
    """Announce the normal response's full length, send part of its body, then close.

    The server prepares the response it would have sent (whatever it is: 200, 401, 422),
    sends its headers with the full ``Content-Length`` and only the first ``fraction`` of
    the body (always withholding at least one byte), then closes the connection. httpx
    reports this as ``httpx.RemoteProtocolError`` while reading the body.

    :param fraction: The share of the body sent, in [0, 1).
    """

    fraction: float = 0.5

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.fraction < 1:
            raise ValueError(f"fraction must be in [0, 1), got {self.fraction}")


@attrs.frozen
class InvalidJson:
    """Answer ``status`` (200) as ``application/json`` with a body that does not parse.

    The default body is a JSON document cut off in the middle; pass ``body`` for others.

    :param body: The bytes sent as the body.
    :param status: The HTTP status.
    """

    body: bytes = b'{"data": [{"seed": 1, "response_format": "url", "url": "http://'
    status: int = 200


def _missing_data() -> Any:
    return {"images": []}


@attrs.frozen
class WrongShape:
    """Answer ``status`` (200) with well-formed JSON that breaks the response schema.

    The default body has no ``data``; pass ``body`` for other breakages, e.g.
    ``{"data": [{"seed": 1, "response_format": "png", "b64_json": "not base64!"}]}``.

    :param body: The JSON value sent as the body.
    :param status: The HTTP status.
    """

    body: Any = attrs.field(factory=_missing_data)
    status: int = 200


Fault: TypeAlias = Delay | ErrorStatus | DropConnection | TruncatedBody | InvalidJson | WrongShape
"""Anything :meth:`FriendliTestServer.inject` accepts."""

FAULT_TYPES: tuple[type, ...] = (
    Delay,
    ErrorStatus,
    DropConnection,
    TruncatedBody,
    InvalidJson,
    WrongShape,
)


def _format_retry_after(value: float | datetime | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return format_datetime(when.astimezone(UTC), usegmt=True)
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))
