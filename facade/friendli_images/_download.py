"""Fetching ``url`` results: http(s) only, without the API token, within a deadline."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx

from ._exceptions import ImageDownloadError

__all__ = ["AsyncDownloader", "Downloader", "display_url"]

_CHUNK = 1024 * 1024


def display_url(url: str) -> str:
    """``url`` without its query and fragment (signed URLs carry credentials there)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _check_scheme(url: str) -> None:
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ImageDownloadError(
            f"refusing to download {display_url(url)!r}: only http and https URLs are fetched",
            url=url,
        )


class _Deadline:
    def __init__(self, seconds: float, url: str) -> None:
        self._seconds = seconds
        self._url = url
        self._end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self._end:
            raise self.expired()

    def expired(self) -> ImageDownloadError:
        return ImageDownloadError(
            f"downloading {display_url(self._url)} took longer than {self._seconds:g} s",
            url=self._url,
        )


def _request(http: httpx.Client | httpx.AsyncClient, url: str, timeout: float) -> httpx.Request:
    request = http.build_request("GET", url, timeout=httpx.Timeout(timeout))
    # The image host is not the API: whatever the client's defaults, no credentials go there.
    request.headers.pop("Authorization", None)
    request.headers.pop("X-Friendli-Team", None)
    return request


def _status_error(response: httpx.Response, url: str) -> ImageDownloadError:
    return ImageDownloadError(
        f"downloading {display_url(url)} failed: {response.status_code} {response.reason_phrase}",
        url=url,
        status_code=response.status_code,
    )


def _transport_error(exc: httpx.HTTPError, url: str, deadline: _Deadline) -> ImageDownloadError:
    if isinstance(exc, httpx.TimeoutException):
        return deadline.expired()
    return ImageDownloadError(f"downloading {display_url(url)} failed: {exc}", url=url)


class Downloader:
    """Streams images with the client's connection pool, or a short-lived one once it is closed."""

    def __init__(self, http: httpx.Client | None, timeout: float) -> None:
        self._http = http
        self.timeout = timeout

    @contextlib.contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        if self._http is not None and not self._http.is_closed:
            yield self._http
        else:
            with httpx.Client() as http:
                yield http

    def iter_bytes(self, url: str) -> Iterator[bytes]:
        """Yield the image at ``url`` in chunks; ``ImageDownloadError`` on any failure."""
        _check_scheme(url)
        deadline = _Deadline(self.timeout, url)
        with self._client() as http:
            try:
                response = http.send(
                    _request(http, url, self.timeout), stream=True, follow_redirects=True
                )
                try:
                    if response.status_code >= 400:
                        raise _status_error(response, url)
                    for chunk in response.iter_bytes(_CHUNK):
                        deadline.check()
                        yield chunk
                finally:
                    response.close()
            except httpx.HTTPError as exc:
                raise _transport_error(exc, url, deadline) from exc


class AsyncDownloader:
    """``Downloader`` for the async client."""

    def __init__(self, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._http = http
        self.timeout = timeout

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._http is not None and not self._http.is_closed:
            yield self._http
        else:
            async with httpx.AsyncClient() as http:
                yield http

    async def aiter_bytes(self, url: str) -> AsyncIterator[bytes]:
        _check_scheme(url)
        deadline = _Deadline(self.timeout, url)
        async with self._client() as http:
            try:
                response = await http.send(
                    _request(http, url, self.timeout), stream=True, follow_redirects=True
                )
                try:
                    if response.status_code >= 400:
                        raise _status_error(response, url)
                    async for chunk in response.aiter_bytes(_CHUNK):
                        deadline.check()
                        yield chunk
                finally:
                    await response.aclose()
            except httpx.HTTPError as exc:
                raise _transport_error(exc, url, deadline) from exc
