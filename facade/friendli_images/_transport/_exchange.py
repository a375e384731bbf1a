"""The HTTP exchange behind a generated endpoint call.

The generated endpoint functions build the request (path, headers, the JSON body from
the model's ``to_dict()``) and parse the response into models; all they need from their
"httpx client" is one ``request(method, url, json=..., headers=...)`` call. An
``Exchange`` answers that call for exactly one attempt:

* it sends through the facade's ``httpx.Client`` (or the caller's own), against the
  configured base URL, adding the ``Authorization`` header to this request only;
* it writes the JSON body itself, streaming control images (``Base64Payload``) in
  chunks with an exact ``Content-Length``, so no copy of a large base64 string is made;
* it reads the response body as a stream, decoding it in bounded steps and counting
  decoded bytes against a limit (``max_response_bytes``: an endless or gzip-bomb body
  stops there) and the attempt's
  wall-clock deadline (checked as every piece arrives, so a server trickling bytes cannot
  stretch it);
* it remembers the request and response, so that failures inside the generated code
  (a body that does not parse, a status ``HTTPStatus`` does not know) can still be
  reported with the real status and body.
"""

from __future__ import annotations

import json
import os
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx

from .._exceptions import ClientClosedError
from ._deadline import within
from ._decoding import BoundedDecoder
from ._payload import Base64Payload

__all__ = [
    "AsyncExchange",
    "BodyTooLargeError",
    "Exchange",
    "attempt_seconds",
    "build_request",
    "check_open",
    "encode_json_body",
    "parsed_url",
]


class BodyTooLargeError(ValueError):
    """The response body is larger than the client's ``max_response_bytes``."""


def attempt_seconds(timeout: httpx.Timeout) -> float | None:
    """The wall-clock budget of one whole attempt: the largest of ``timeout``'s values.

    ``None`` (no deadline) when the read timeout is ``None``.
    """
    if timeout.read is None:
        return None
    return max(timeout.read, timeout.connect or 0.0, timeout.write or 0.0, timeout.pool or 0.0)


Part = bytes | Base64Payload


def encode_json_body(value: Any) -> tuple[list[Part], int]:
    """Serialise ``value`` to compact UTF-8 JSON parts and their total length in bytes.

    Each ``Base64Payload`` inside becomes a JSON string written later, chunk by chunk: the
    encoder (C, walking the value once) writes a marker where it meets one, and the text
    is split at the markers.
    """
    payloads: dict[str, Base64Payload] = {}

    def marker_for(item: object) -> str:
        if not isinstance(item, Base64Payload):
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
        marker = f"friendli-images-payload-{os.urandom(16).hex()}"
        payloads[marker] = item
        return marker

    text = json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=marker_for
    )
    if not payloads:
        data = text.encode()
        return [data], len(data)
    parts: list[Part] = []
    for marker, payload in payloads.items():
        before, after = text.split(f'"{marker}"', 1)
        parts.extend((before.encode() + b'"', payload))
        text = '"' + after
    parts.append(text.encode())
    length = sum(len(p) if isinstance(p, bytes) else p.encoded_length for p in parts)
    return parts, length


def _iter_parts(parts: list[Part]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, bytes):
            yield part
        else:
            yield from part.iter_encoded()


async def _aiter_parts(parts: list[Part]) -> AsyncIterator[bytes]:
    for chunk in _iter_parts(parts):
        yield chunk


_PARSED_URLS: dict[str, httpx.URL] = {}
_MAX_PARSED_URLS = 256


def parsed_url(url: str) -> httpx.URL:
    """``httpx.URL(url)``, parsed once per process: httpx parses a string URL on every
    request (about 80 us), a client sends to the same few URLs (base URL + operation path)
    on every attempt, and an ``httpx.URL`` is immutable."""
    parsed = _PARSED_URLS.get(url)
    if parsed is None:
        parsed = httpx.URL(url)
        if len(_PARSED_URLS) >= _MAX_PARSED_URLS:
            _PARSED_URLS.clear()
        _PARSED_URLS[url] = parsed
    return parsed


_MERGED_HEADERS: weakref.WeakKeyDictionary[
    httpx.Client | httpx.AsyncClient, dict[tuple[object, ...], httpx.Headers]
] = weakref.WeakKeyDictionary()
"""Per httpx client (and gone with it, so no header value outlives its client)."""
_MAX_MERGED_HEADERS = 64
_BUILT_KWARGS = frozenset({"content", "headers", "timeout"})


def build_request(
    http: httpx.Client | httpx.AsyncClient, method: str, url: httpx.URL, kwargs: dict[str, Any]
) -> httpx.Request:
    """``http.build_request(method, url, **kwargs)``, with the client's headers merged with
    ours once per distinct pair instead of on every request (about 20 us each).

    Only the plain case is built here: an absolute URL, no query parameters or cookies on
    either side, and only ``content``, ``headers`` (a ``dict`` of ours) and ``timeout``
    (the timeout extension's ``dict``) given; anything else goes to httpx. The request is
    the one httpx would build: the client's headers that ours do not replace, then ours,
    and the timeout extension.
    """
    headers = kwargs.get("headers")
    timeout = kwargs.get("timeout")
    if (
        not _BUILT_KWARGS.issuperset(kwargs)
        or not isinstance(headers, dict)
        or not isinstance(timeout, dict)
        or url.is_relative_url
        or http.params
        or http.cookies
    ):
        if isinstance(timeout, dict):
            kwargs = {**kwargs, "timeout": httpx.Timeout(**timeout)}
        return http.build_request(method, url, **kwargs)
    headers = dict(headers)
    length = headers.pop("Content-Length", None)
    key = (tuple(http.headers.raw), tuple(headers.items()))
    known = _MERGED_HEADERS.get(http)
    if known is None:
        known = _MERGED_HEADERS.setdefault(http, {})
    merged = known.get(key)
    if merged is None:
        merged = httpx.Headers(http.headers)
        merged.update(headers)
        if len(known) >= _MAX_MERGED_HEADERS:
            known.clear()
        known[key] = merged
    request_headers = httpx.Headers(merged)
    if length is not None:
        request_headers["Content-Length"] = length
    return httpx.Request(
        method,
        url,
        content=kwargs.get("content"),
        headers=request_headers,
        extensions={"timeout": timeout},
    )


def check_open(http: httpx.Client | httpx.AsyncClient) -> None:
    """``ClientClosedError`` (before anything is sent) if ``http`` was closed, where httpx
    would raise its own ``RuntimeError``."""
    if http.is_closed:
        raise ClientClosedError(
            "the client was closed (close(), or the end of its with block); "
            "create a new one to send requests"
        )


class _ExchangeBase:
    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        max_body_bytes: int,
        extra_query: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        self._extra_query = extra_query or {}
        self._extra_body = extra_body or {}
        self._base_url = base_url.rstrip("/")
        self._headers = headers
        self._timeout = timeout
        self._max_body_bytes = max_body_bytes
        seconds = attempt_seconds(timeout)
        self._deadline = None if seconds is None else time.monotonic() + seconds
        self._budget = seconds
        self.sent_request: httpx.Request | None = None
        self.response: httpx.Response | None = None

    def remaining(self) -> float | None:
        """Seconds left before the attempt's deadline (``None``: no deadline)."""
        if self._deadline is None:
            return None
        return max(self._deadline - time.monotonic(), 0.0)

    def _clipped_timeout(self) -> dict[str, float | None]:
        """The per-operation timeouts, none longer than what is left of the deadline (as
        the ``timeout`` extension of an ``httpx.Request`` holds them)."""
        left = self.remaining()
        timeout = self._timeout
        if left is None:
            return timeout.as_dict()
        return {
            "connect": left if timeout.connect is None else min(timeout.connect, left),
            "read": left if timeout.read is None else min(timeout.read, left),
            "write": left if timeout.write is None else min(timeout.write, left),
            "pool": left if timeout.pool is None else min(timeout.pool, left),
        }

    def _add(self, chunks: list[bytes], chunk: bytes, size: int) -> int:
        size += len(chunk)
        if size > self._max_body_bytes:
            raise BodyTooLargeError(
                f"the response body is larger than its limit ({self._max_body_bytes} "
                "bytes, decoded)"
            )
        left = self.remaining()
        if left is not None and left <= 0:
            raise httpx.ReadTimeout(
                f"the response did not arrive within the attempt's {self._budget:g} s deadline",
                request=self.sent_request,
            )
        chunks.append(chunk)
        return size

    def _complete(self, streamed: httpx.Response, chunks: list[bytes]) -> httpx.Response:
        """``streamed``, now read: what ``Response.read()`` does, with the limits applied.

        httpx has no public way to read a body with a size limit, so the decoded body is
        stored where ``read()`` stores it; ``.content``, ``.text`` and ``.json()`` work as
        after ``read()``.
        """
        streamed._content = b"".join(chunks)
        chunks.clear()
        return streamed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    def _request_args(
        self, url: str, kwargs: dict[str, Any]
    ) -> tuple[httpx.URL, list[Part] | None]:
        """Complete ``kwargs`` for ``build_request``; return the URL and any streamed parts."""
        headers = {**dict(kwargs.pop("headers", None) or {}), **self._headers}
        parts: list[Part] | None = None
        if self._extra_query:  # checked by the client (check_extras)
            kwargs["params"] = {**dict(kwargs.pop("params", None) or {}), **self._extra_query}
        if "json" in kwargs:
            document = kwargs.pop("json")
            if self._extra_body and isinstance(document, dict):
                document = {**document, **self._extra_body}  # not the body's own fields
            parts, length = encode_json_body(document)
            for part in parts:
                if isinstance(part, Base64Payload):
                    part.check_unchanged()  # before a byte goes out, on every attempt
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(length)
            if len(parts) == 1:
                kwargs["content"], parts = parts[0], None
        kwargs["headers"] = headers
        kwargs["timeout"] = self._clipped_timeout()
        return parsed_url(self._base_url + url), parts


class Exchange(_ExchangeBase):
    """One attempt's HTTP exchange for the generated sync endpoint functions."""

    def __init__(self, http: httpx.Client, **settings: Any) -> None:
        super().__init__(**settings)
        self._http = http

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        check_open(self._http)
        full_url, parts = self._request_args(url, kwargs)
        if parts is not None:
            kwargs["content"] = _iter_parts(parts)
        self.sent_request = build_request(self._http, method, full_url, kwargs)
        with within(self._deadline):  # each socket operation ends by the deadline (_deadline)
            streamed = self._http.send(self.sent_request, follow_redirects=False, stream=True)
            self.response = streamed
            chunks: list[bytes] = []
            size = 0
            try:
                if streamed.is_stream_consumed:  # a transport that answered with a read body
                    self._add(chunks, streamed.content, size)
                else:
                    decoder = BoundedDecoder(streamed.headers.get("Content-Encoding"))
                    for raw in streamed.iter_raw():
                        for piece in decoder.feed(raw):
                            size = self._add(chunks, piece, size)
                    self._add(chunks, decoder.flush(), size)
            finally:
                streamed.close()
        return self._complete(streamed, chunks)


class AsyncExchange(_ExchangeBase):
    """One attempt's HTTP exchange for the generated async endpoint functions."""

    def __init__(self, http: httpx.AsyncClient, **settings: Any) -> None:
        super().__init__(**settings)
        self._http = http

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        check_open(self._http)
        full_url, parts = self._request_args(url, kwargs)
        if parts is not None:
            kwargs["content"] = _aiter_parts(parts)
        self.sent_request = build_request(self._http, method, full_url, kwargs)
        streamed = await self._http.send(self.sent_request, follow_redirects=False, stream=True)
        self.response = streamed
        chunks: list[bytes] = []
        size = 0
        try:
            if streamed.is_stream_consumed:  # a transport that answered with a read body
                self._add(chunks, streamed.content, size)
            else:
                decoder = BoundedDecoder(streamed.headers.get("Content-Encoding"))
                async for raw in streamed.aiter_raw():
                    for piece in decoder.feed(raw):
                        size = self._add(chunks, piece, size)
                self._add(chunks, decoder.flush(), size)
        finally:
            await streamed.aclose()
        return self._complete(streamed, chunks)
