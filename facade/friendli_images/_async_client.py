"""``AsyncClient``: the I/O of the async clients, ``SyncClient`` with awaitable calls
(``asyncio_detailed``, see ``_operations``)."""

from __future__ import annotations

import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Iterable,
    Mapping,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from . import _waits
from ._endpoints._hooks import (
    await_if_not_ready,
    waits_seen,
)
from ._operations import Operation
from ._redaction import package_logger
from ._results import GeneratedImage, ImageResult
from ._transport._exchange import AsyncExchange

if TYPE_CHECKING:
    from friendli_images_api.models import UrlImageItem
    from friendli_images_api.types import Response

    from ._batch._engine import Outcome
    from ._batch._pool import ClientPool


from ._base_client import PARSE_ERRORS, BaseClient, BatchCollector
from ._calls import _Call, _Failure
from ._checks import check_flag

__all__ = ["AsyncClient"]

logger = package_logger()


def _deadline(seconds: float | None) -> contextlib.AbstractAsyncContextManager[Any]:
    import asyncio  # here, not at the top: sync users never pay for importing it

    return asyncio.timeout(seconds)


class AsyncClient(BaseClient):
    """The I/O of the async clients: ``SyncClient`` with awaitable calls."""

    def __init__(self, *, http_client: httpx.AsyncClient | None, **settings: Any) -> None:
        super().__init__(**settings)
        # With the first client, not the package (bench/import_time.py).
        from ._batch._pool import ClientPool
        from ._transport._tls import shared_ssl_context

        self._owns_http = http_client is None
        self._http = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(timeout=self.timeout, verify=shared_ssl_context())
        )
        self._loop: object = None
        from ._transport._download import AsyncDownloader  # with the first client

        self._downloader = AsyncDownloader(
            self._http, self._download_settings, user_client=not self._owns_http
        )
        self._pool: ClientPool[httpx.AsyncClient] | None = (
            ClientPool(
                lambda limits: httpx.AsyncClient(
                    timeout=self.timeout, limits=limits, verify=shared_ssl_context()
                )
            )
            if http_client is None
            else None
        )
        self._batch_downloader = (
            self._downloader
            if self._pool is None
            else self._downloader.with_lease(self._pool.lease)
        )
        """Downloads of a batch's images go through the batch's pool (see ``_download``)."""
        self._pool_loop: object = None

    def _http_for_this_loop(self) -> httpx.AsyncClient:
        """The connection pool, replaced when the client is used from a new event loop.

        Pooled connections belong to the loop that opened them: after ``asyncio.run()``
        returns they are dead (close the client before that loop ends, ``async with``,
        to release them cleanly). A pool made by this class is opened again for a new
        loop, or after ``aclose()``; your own ``http_client`` is used as is.
        """
        origin = self._origin
        if isinstance(origin, AsyncClient):  # a with_options() copy: the original's pool
            http = origin._http_for_this_loop()
            self._http, self._downloader = http, origin._downloader
            return http
        import asyncio  # here, not at the top: sync users never pay for importing it

        loop = asyncio.get_running_loop()
        moved = self._loop is not None and self._loop is not loop
        if self._owns_http and (moved or self._http.is_closed):
            from ._transport._tls import shared_ssl_context

            self._http = httpx.AsyncClient(timeout=self.timeout, verify=shared_ssl_context())
            from ._transport._download import AsyncDownloader

            self._downloader = AsyncDownloader(self._http, self._download_settings)
            if self._pool is not None:
                self._batch_downloader = self._downloader.with_lease(self._pool.lease)
        self._loop = loop
        return self._http

    async def aclose(self) -> None:
        """Close the connection pools (not a client you passed in).

        A ``with_options()`` copy shares its original's pools and closes nothing: the
        original owns them. Connections opened in an event loop that has ended since are
        dropped, not closed: closing them would need their loop (``Event loop is closed``).
        """
        if self._origin is not None:
            return
        import asyncio  # here, not at the top: sync users never pay for importing it

        if self._owns_http and not self._http.is_closed:
            await self._http_for_this_loop().aclose()
        if self._pool is not None:
            if self._pool_loop is not None and self._pool_loop is not asyncio.get_running_loop():
                self._pool.take_all()  # their loop is gone, and their connections with it
            else:
                from ._batch._pool import aclose_pool

                await aclose_pool(self._pool)
            self._pool_loop = None

    def _connections(
        self, concurrency: int
    ) -> Callable[[], contextlib.AbstractContextManager[httpx.AsyncClient]]:
        """What a batch of ``concurrency`` sends with: a lease from the pool, or your client.

        Pooled connections belong to the event loop that opened them: used from another
        loop (a second ``asyncio.run()``), the batch pool starts afresh.
        """
        origin = self._origin
        if isinstance(origin, AsyncClient):  # the original tracks its pool's event loop
            return origin._connections(concurrency)
        import asyncio  # here, not at the top: sync users never pay for importing it

        pool = self._pool
        if pool is None:
            return lambda: contextlib.nullcontext(self._http_for_this_loop())
        loop = asyncio.get_running_loop()
        if self._pool_loop is not None and self._pool_loop is not loop:
            pool.take_all()  # their connections died with their loop: drop, not close
        self._pool_loop = loop
        pool.reserve(concurrency)
        return pool.lease

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _url_image(self, item: UrlImageItem) -> GeneratedImage:
        return GeneratedImage._downloaded_by(
            seed=item.seed,
            response_format=item.response_format,
            url=item.url,
            raw=item,
            async_downloader=self._downloader,
        )

    async def _run(
        self, operation: Operation, sent: Mapping[str, Any], params: Mapping[str, Any]
    ) -> ImageResult:
        """``SyncClient._run``; cancelling cancels every request."""
        strict = params.get("strict", False)
        check_flag(strict, "strict")
        count, workers = self._batch_size(params.get("n", 1), params.get("concurrency"))
        waiter = self._waiter(sent, params)
        call = self._prepare(operation, sent, params).waiting_with(waiter)
        if count == 1:
            result = await self._send(call)
        else:
            from ._batch._engine import agenerate_each  # here: only batches need the engine

            seed = params.get("seed")
            collector = BatchCollector(seed, strict=strict)
            outcomes = agenerate_each(
                self,
                range(count),
                lambda i: self._batch_call(call, seed, i),
                concurrency=workers,
                stop_on_error=strict,
            )
            async with contextlib.aclosing(outcomes):
                async for outcome in outcomes:
                    collector.add(outcome)
            result = collector.result()
        result.endpoint_events = [] if waiter is None else list(waiter.events)
        return result

    def generate_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        throttle_on_503: bool = False,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> AsyncGenerator[Outcome[Mapping[str, Any]]]:
        """``FriendliImages.generate_many`` for asyncio: ``async for outcome in ...``.

        ``requests`` may also be an async iterable. Use ``contextlib.aclosing`` around the
        loop when you may leave it early: closing the iterator cancels the requests in flight.

        :param requests: The requests (an iterable or an async iterable of mappings of
            ``generate()``'s keyword arguments); read lazily.
        :param concurrency: At most this many requests in flight; default 4.
        :param throttle_on_503: Also send fewer at once on 503, as on 429; default
            ``False``.
        :param wait_for_endpoint: Seconds to wait for an endpoint that is not ready, as
            in ``FriendliImages.generate_many``; default off.
        :param wake: With ``wait_for_endpoint``: at most one wake request per endpoint;
            default ``False``.
        :returns: An async generator of one ``Outcome`` per request, in completion order.
        :raises InvalidRequestError: An option is invalid; nothing is sent then.
        """
        from ._batch._engine import agenerate_each

        workers = self._concurrency(concurrency)
        check_flag(throttle_on_503, "throttle_on_503")
        pool = self._waiter_pool_for(wait_for_endpoint, wake)
        return agenerate_each(
            self,
            requests,
            self._request_preparer(wait_for_endpoint, wake, pool),
            concurrency=workers,
            throttle_on_503=throttle_on_503,
        )

    async def _attempt(
        self, call: _Call, http: httpx.AsyncClient | None = None
    ) -> ImageResult | _Failure:
        """Send ``call`` once (with ``http``, else the client's): result, or failure."""
        exchange = AsyncExchange(
            http or self._http_for_this_loop(), **self._exchange_settings(call)
        )
        response: Response[Any] | None = None
        failure: BaseException | None = None
        try:
            async with _deadline(exchange.remaining()):
                response = await call.operation.asend(
                    self._api_client(exchange), call.body, self._team
                )
        except TimeoutError:
            failure = httpx.ReadTimeout(
                "the attempt ran past its deadline", request=exchange.sent_request
            )
        except (httpx.RequestError, *PARSE_ERRORS) as exc:
            failure = exc
        outcome = self._interpret(exchange, response, failure, call)
        if http is not None and isinstance(outcome, ImageResult):
            for image in outcome.images:  # a batch's images download through its pool
                if image._async_downloader is self._downloader:
                    image._async_downloader = self._batch_downloader
        return outcome

    async def _send(self, call: _Call) -> ImageResult:
        retries_taken = 0
        while True:
            seen = waits_seen(call.endpoint_waiter)
            outcome = await self._attempt(call)
            if isinstance(outcome, ImageResult):
                return outcome
            delay = self._next_delay(outcome, retries_taken, call)
            if delay is None:
                if await await_if_not_ready(call.endpoint_waiter, seen, outcome.error):
                    continue  # it was not ready, nothing was generated, and now it is
                raise outcome.error
            await _waits.asleep(delay)
            retries_taken += 1
