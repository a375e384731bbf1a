"""Fetching ``url`` results: http(s) only, without any credential, bounded in time and size.

A download goes straight to the transport the client would use for the URL (so a user's
proxy, CA bundle or custom transport still applies) but not through ``Client.send``: the
client's ``auth``, ``cookies``, ``params`` and default headers (``Authorization``,
``X-Api-Key``, ``Proxy-Authorization`` ...) are never added. The request carries a
User-Agent and nothing else of ours.

Redirects are followed here, over http(s) only and at most ``MAX_DOWNLOAD_REDIRECTS``
hops. The body must start with an image magic number (PNG, JPEG, WebP, GIF), may not be
empty, and may not exceed ``max_download_bytes``; the whole download, redirects
included, must end within ``download_timeout`` seconds.

An image of a batch is downloaded through the batch's pooled connections (``lease``: the
batch pool's least busy client, see ``_batch._pool``), not through the client's single
default pool: at 1024 in flight, that pool opened a new TCP connection for nearly every
download. Once the batch pool is closed, the client's own connections are used.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import httpx

from .. import _config
from .._exceptions import ClientClosedError, ImageDownloadError
from .._redaction import package_logger
from .._sniff import SNIFF_BYTES, TAIL_BYTES, sniff_image_type, truncation
from ._deadline import within
from ._decoding import BoundedDecoder
from ._limits import DownloadSettings
from ._rules import display_url, result_url_problem
from ._tls import shared_ssl_context

__all__ = ["AsyncDownloader", "DownloadSettings", "Downloader", "display_url", "redirect_target"]

logger = package_logger()

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def check_url(url: str) -> None:
    """``ImageDownloadError`` unless ``url`` is an http(s) URL that can be requested."""
    problem = result_url_problem(url)
    if problem:
        raise ImageDownloadError(
            f"refusing to download {display_url(url)!r}: the URL {problem}", url=url
        )


def redirect_target(
    status_code: int, location: str | None, url: str, hops: int, reason: str = ""
) -> str | None:
    """The URL to follow after a response, or ``None`` when it is the image (a 200).

    Raises ``ImageDownloadError`` for any other status, a redirect without a usable
    ``Location``, to a non-http(s) URL, or past ``MAX_DOWNLOAD_REDIRECTS`` hops.
    """
    if status_code == 200:
        return None
    shown = display_url(url)
    if status_code not in _REDIRECTS:
        raise ImageDownloadError(
            f"downloading {shown} failed: {status_code} {reason}".rstrip(),
            url=url,
            status_code=status_code,
        )
    if not location:
        raise ImageDownloadError(
            f"downloading {shown} failed: {status_code} redirect without a Location",
            url=url,
            status_code=status_code,
        )
    if hops >= _config.MAX_DOWNLOAD_REDIRECTS:
        raise ImageDownloadError(
            f"downloading {shown} failed: more than {_config.MAX_DOWNLOAD_REDIRECTS} redirects",
            url=url,
            status_code=status_code,
        )
    try:
        target = str(httpx.URL(url).join(location))
    except (httpx.InvalidURL, ValueError, UnicodeError):
        target = location
    problem = result_url_problem(target)
    if problem:
        raise ImageDownloadError(
            f"downloading {shown} failed: it redirects to a URL that {problem}",
            url=url,
            status_code=status_code,
        )
    return target


class _Progress:
    """One download's deadline, byte count and image check."""

    def __init__(self, settings: DownloadSettings, url: str) -> None:
        self._settings = settings
        self._url = url
        self.end = time.monotonic() + settings.timeout
        """The deadline (``time.monotonic()``) of the whole download, redirects included."""
        self._head = b""
        self._tail = b""
        self._size = 0

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> ImageDownloadError:
        return ImageDownloadError(
            f"downloading {display_url(self._url)} took longer than {self._settings.timeout:g} s",
            url=self._url,
        )

    def request(self, url: str) -> httpx.Request:
        timeout = httpx.Timeout(self.remaining())
        logger.debug("Downloading %s", display_url(url))
        return httpx.Request(
            "GET",
            url,
            headers={"User-Agent": self._settings.user_agent},
            extensions={"timeout": timeout.as_dict()},
        )

    def feed(self, chunk: bytes) -> bytes:
        """Count ``chunk``; return what may be passed on (held back until the type is known)."""
        self._size += len(chunk)
        if chunk:
            self._tail = (self._tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]
        if self._size > self._settings.max_bytes:
            raise ImageDownloadError(
                f"the image at {display_url(self._url)} is larger than max_download_bytes "
                f"({self._settings.max_bytes} bytes)",
                url=self._url,
            )
        self.remaining()
        if len(self._head) >= SNIFF_BYTES:
            return chunk
        self._head += chunk
        if len(self._head) < SNIFF_BYTES:
            return b""
        self._check_type()
        return self._head

    def finish(self, declared: str | None) -> bytes:
        """What is still held back, once the body is complete."""
        if self._size == 0:
            raise ImageDownloadError(f"{display_url(self._url)} returned no bytes", url=self._url)
        if declared is not None and declared.isdigit() and int(declared) != self._size:
            raise ImageDownloadError(
                f"{display_url(self._url)} sent {self._size} of {declared} bytes", url=self._url
            )
        rest = b""
        if len(self._head) < SNIFF_BYTES:
            self._check_type()
            rest = self._head
        head = self._head[:SNIFF_BYTES]
        problem = truncation(sniff_image_type(head), head, self._tail, self._size)
        if problem:
            raise ImageDownloadError(
                f"{display_url(self._url)} sent {problem} ({self._size} bytes): cut short",
                url=self._url,
            )
        return rest

    def _check_type(self) -> None:
        if sniff_image_type(self._head[:SNIFF_BYTES]) is None:
            raise ImageDownloadError(
                f"{display_url(self._url)} did not return a PNG, JPEG, WebP or GIF image",
                url=self._url,
            )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _follow(response: httpx.Response, url: str, hops: int) -> str | None:
    reason = response.reason_phrase.encode("unicode_escape").decode("ascii")
    return redirect_target(
        response.status_code, response.headers.get("Location"), url, hops, reason
    )


def _declared_length(response: httpx.Response) -> str | None:
    """The Content-Length to hold the body to, unless the body is encoded (gzip ...)."""
    if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        return None
    declared: str | None = response.headers.get("Content-Length")
    return declared


def _transport_error(exc: Exception, url: str, progress: _Progress) -> ImageDownloadError:
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return progress.expired()
    return ImageDownloadError(f"downloading {display_url(url)} failed: {exc}", url=url)


def _transport(http: httpx.Client | httpx.AsyncClient, url: httpx.URL) -> Any:
    # The transport (or proxy mount) the client would send to ``url`` through; the
    # client itself is bypassed so that none of its credentials are added.
    return http._transport_for_url(url)


H = TypeVar("H", httpx.Client, httpx.AsyncClient)


@contextlib.contextmanager
def _leased(lease: Callable[[], AbstractContextManager[H]]) -> Iterator[H | None]:
    """A client leased from a batch pool, or None once that pool is closed."""
    try:
        leased = lease()
        client = leased.__enter__()
    except ClientClosedError:
        yield None
        return
    try:
        yield client
    finally:
        leased.__exit__(None, None, None)


class Downloader:
    """Streams images through a client's transports, or a short-lived client's once closed."""

    def __init__(
        self,
        http: httpx.Client | None,
        settings: DownloadSettings,
        *,
        user_client: bool = False,
        lease: Callable[[], AbstractContextManager[httpx.Client]] | None = None,
    ) -> None:
        self._http = http
        self.settings = settings
        self.user_client = user_client
        """Whether ``http`` is the user's own client (whose transport cannot go async)."""
        self._lease = lease
        """A batch pool's lease: download with its connections while it is open."""

    def with_lease(self, lease: Callable[[], AbstractContextManager[httpx.Client]]) -> Downloader:
        """This downloader, sending through ``lease`` (a batch pool's) while it is open."""
        return Downloader(self._http, self.settings, user_client=self.user_client, lease=lease)

    @contextlib.contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        if self._lease is not None:
            with _leased(self._lease) as pooled:
                if pooled is not None and not pooled.is_closed:
                    yield pooled
                    return
        if self._http is not None and not self._http.is_closed:
            yield self._http
        else:
            from ._backend import deadline_transport  # needs httpcore: on first use

            transport = deadline_transport()
            with httpx.Client(verify=shared_ssl_context(), transport=transport) as http:
                yield http

    def iter_bytes(self, url: str) -> Iterator[bytes]:
        """Yield the image at ``url`` in chunks; ``ImageDownloadError`` on any failure."""
        check_url(url)
        progress = _Progress(self.settings, url)
        with self._client() as http:
            current = url
            for hops in range(_config.MAX_DOWNLOAD_REDIRECTS + 1):
                try:
                    request = progress.request(current)
                    with within(progress.end):  # each socket operation ends by the deadline
                        response: httpx.Response = _transport(http, request.url).handle_request(
                            request
                        )
                except httpx.HTTPError as exc:
                    raise _transport_error(exc, url, progress) from exc
                try:
                    target = _follow(response, current, hops)
                    if target is not None:
                        current = target
                        continue
                    decoder = BoundedDecoder(response.headers.get("Content-Encoding"))
                    if response.is_stream_consumed:  # a transport that answered with a read body
                        decoder = BoundedDecoder(None)
                        raws: Iterator[bytes] = iter([response.content])
                    else:
                        raws = _reads_within(response.iter_raw(), progress.end)
                    for raw in raws:
                        for piece in decoder.feed(raw):
                            if passed := progress.feed(piece):
                                yield passed
                    if passed := progress.feed(decoder.flush()):
                        yield passed
                    if rest := progress.finish(_declared_length(response)):
                        yield rest
                    return
                except httpx.HTTPError as exc:
                    raise _transport_error(exc, url, progress) from exc
                finally:
                    response.close()


def _reads_within(raws: Iterator[bytes], deadline: float) -> Iterator[bytes]:
    """``raws``, each read under ``deadline`` (set for the read only: between reads the
    consumer runs, in this thread, with its own deadlines)."""
    while True:
        with within(deadline):
            raw = next(raws, None)
        if raw is None:
            return
        yield raw


class AsyncDownloader:
    """``Downloader`` for the async client; every network wait is bounded by the deadline."""

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        settings: DownloadSettings,
        *,
        user_client: bool = False,
        lease: Callable[[], AbstractContextManager[httpx.AsyncClient]] | None = None,
    ) -> None:
        self._http = http
        self.settings = settings
        self.user_client = user_client
        """Whether ``http`` is the user's own client (whose transport cannot go sync)."""
        self._lease = lease
        """A batch pool's lease: download with its connections while it is open."""

    def with_lease(
        self, lease: Callable[[], AbstractContextManager[httpx.AsyncClient]]
    ) -> AsyncDownloader:
        """This downloader, sending through ``lease`` (a batch pool's) while it is open."""
        return AsyncDownloader(self._http, self.settings, user_client=self.user_client, lease=lease)

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._lease is not None:
            with _leased(self._lease) as pooled:
                if pooled is not None and not pooled.is_closed:
                    yield pooled
                    return
        if self._http is not None and not self._http.is_closed:
            yield self._http
        else:
            async with httpx.AsyncClient(verify=shared_ssl_context()) as http:
                yield http

    async def aiter_bytes(self, url: str) -> AsyncIterator[bytes]:
        """Yield the image at ``url`` in chunks; ``ImageDownloadError`` on any failure."""
        import asyncio  # here, not at the top: sync users never pay for importing it

        check_url(url)
        progress = _Progress(self.settings, url)
        async with self._client() as http:
            current = url
            for hops in range(_config.MAX_DOWNLOAD_REDIRECTS + 1):
                try:
                    request = progress.request(current)
                    async with asyncio.timeout(progress.remaining()):
                        response: httpx.Response = await _transport(
                            http, request.url
                        ).handle_async_request(request)
                except (httpx.HTTPError, TimeoutError) as exc:
                    raise _transport_error(exc, url, progress) from exc
                try:
                    target = _follow(response, current, hops)
                    if target is not None:
                        current = target
                        continue
                    decoder = BoundedDecoder(response.headers.get("Content-Encoding"))
                    if response.is_stream_consumed:  # a transport that answered with a read body
                        decoder = BoundedDecoder(None)
                        raws: AsyncIterator[bytes] = _once(response.content)
                    else:
                        raws = response.aiter_raw()
                    while True:
                        try:
                            async with asyncio.timeout(progress.remaining()):
                                raw = await anext(raws)
                        except StopAsyncIteration:
                            break
                        for piece in decoder.feed(raw):
                            if passed := progress.feed(piece):
                                yield passed
                    if passed := progress.feed(decoder.flush()):
                        yield passed
                    if rest := progress.finish(_declared_length(response)):
                        yield rest
                    return
                except (httpx.HTTPError, TimeoutError) as exc:
                    raise _transport_error(exc, url, progress) from exc
                finally:
                    await response.aclose()
