"""``SyncClient``: the I/O of the sync clients. It runs the operation's generated endpoint
function (``sync_detailed``, see ``_operations``), sleeps between attempts and runs
batches; everything else is ``BaseClient``'s."""

from __future__ import annotations

import contextlib
from collections.abc import (
    Callable,
    Generator,
    Iterable,
    Mapping,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from . import _waits
from ._endpoints._hooks import (
    wait_if_not_ready,
    waits_seen,
)
from ._operations import Operation
from ._redaction import package_logger
from ._results import GeneratedImage, ImageResult
from ._transport._exchange import Exchange, check_open

if TYPE_CHECKING:
    from friendli_images_api.models import UrlImageItem
    from friendli_images_api.types import Response

    from ._batch._engine import Outcome
    from ._batch._pool import ClientPool


from ._base_client import PARSE_ERRORS, BaseClient, BatchCollector
from ._calls import _Call, _Failure
from ._checks import check_flag

__all__ = ["SyncClient"]

logger = package_logger()


class SyncClient(BaseClient):
    """The I/O of the sync clients: the connection pool, sending with retries, batches."""

    def __init__(self, *, http_client: httpx.Client | None, **settings: Any) -> None:
        super().__init__(**settings)
        # With the first client, not the package (bench/import_time.py).
        from ._batch._pool import ClientPool

        self._owns_http = http_client is None
        self._closed = False
        self._http = http_client if http_client is not None else self._new_http()
        from ._transport._download import Downloader  # with the first client, not the package

        self._downloader = Downloader(
            self._http, self._download_settings, user_client=not self._owns_http
        )
        # Batches spread over small pools of kept-alive connections (see _pool); a caller's
        # own http_client is used as it is.
        self._pool: ClientPool[httpx.Client] | None = (
            ClientPool(self._new_http) if http_client is None else None
        )
        self._batch_downloader = (
            self._downloader
            if self._pool is None
            else self._downloader.with_lease(self._pool.lease)
        )
        """Downloads of a batch's images go through the batch's pool (see ``_download``)."""

    def _new_http(self, limits: httpx.Limits | None = None) -> httpx.Client:
        """A client of the package's own: the shared TLS context, and connections whose
        socket operations end by each exchange's deadline (``_transport._backend``)."""
        from ._transport._backend import DEFAULT_LIMITS, deadline_transport  # needs httpcore
        from ._transport._tls import shared_ssl_context

        limits = DEFAULT_LIMITS if limits is None else limits
        return httpx.Client(
            timeout=self.timeout,
            limits=limits,
            verify=shared_ssl_context(),
            transport=deadline_transport(limits),
        )

    def close(self) -> None:
        """Close the connection pool (not a client you passed in).

        The client sends nothing after this (``ClientClosedError``); images of its
        results can still be saved (their downloads use a short-lived connection). A
        ``with_options()`` copy shares its original's pool and closes nothing: the original
        owns it (closing the copy closes the copy only).
        """
        self._closed = True
        if self._origin is not None:
            return
        if self._owns_http:
            self._http.close()
        if self._pool is not None:
            from ._batch._pool import close_pool

            close_pool(self._pool)

    def _connections(
        self, concurrency: int
    ) -> Callable[[], contextlib.AbstractContextManager[httpx.Client]]:
        """What a batch of ``concurrency`` sends with: a lease from the pool, or your client."""
        pool = self._pool
        if pool is None:
            check_open(self._http)
            return lambda: contextlib.nullcontext(self._http)
        if self._closed:
            check_open(self._http)  # closed with it: the typed error, before anything is sent
        pool.reserve(concurrency)
        return pool.lease

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _url_image(self, item: UrlImageItem) -> GeneratedImage:
        return GeneratedImage._downloaded_by(
            seed=item.seed,
            response_format=item.response_format,
            url=item.url,
            raw=item,
            downloader=self._downloader,
        )

    def _run(
        self, operation: Operation, sent: Mapping[str, Any], params: Mapping[str, Any]
    ) -> ImageResult:
        """Validate, then send one request, or ``n`` with at most ``concurrency`` at once."""
        strict = params.get("strict", False)
        check_flag(strict, "strict")
        count, workers = self._batch_size(params.get("n", 1), params.get("concurrency"))
        waiter = self._waiter(sent, params)
        call = self._prepare(operation, sent, params).waiting_with(waiter)
        if count == 1:
            result = self._send(call)
        else:
            from ._batch._engine import generate_each  # here: only batches need the engine

            seed = params.get("seed")
            collector = BatchCollector(seed, strict=strict)
            outcomes = generate_each(
                self,
                range(count),
                lambda i: self._batch_call(call, seed, i),
                concurrency=workers,
                stop_on_error=strict,
            )
            with contextlib.closing(outcomes):
                for outcome in outcomes:
                    collector.add(outcome)
            result = collector.result()
        result.endpoint_events = [] if waiter is None else list(waiter.events)
        return result

    def generate_many(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        throttle_on_503: bool = False,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> Generator[Outcome[Mapping[str, Any]]]:
        """Run many requests, at most ``concurrency`` at once; yield each ``Outcome`` as it ends.

        Each request is a mapping of ``generate()``'s arguments for one request
        (``{"prompt": ..., "model": ..., "seed": 7}``). ``requests`` is read lazily, one
        request per free slot, so it may be a generator of any length; memory stays
        proportional to ``concurrency``. Outcomes come in completion order, each with the
        request's ``index`` and the ``request`` itself, and either its ``result`` or its
        ``error`` (an invalid request included): one failure never stops the others.

        ``concurrency`` (default 4) is a ceiling: on 429 Too Many Requests (and on 503
        with ``throttle_on_503=True``) fewer requests are sent at once, then more again as
        they succeed, and a ``Retry-After`` pauses the whole batch once.

        Leaving the loop (``break``, an exception, Ctrl-C) or calling ``close()`` stops
        the batch: no new request or retry is sent afterwards.

        :param requests: The requests: mappings of ``generate()``'s keyword arguments,
            ``prompt`` included; read lazily.
        :param concurrency: At most this many requests in flight; default 4.
        :param throttle_on_503: Also send fewer at once on 503, as on 429; default
            ``False``.
        :param wait_for_endpoint: Seconds to wait for an endpoint that answers it is not
            ready (asleep or waking), then send again, as in ``generate()``; the requests
            to one endpoint share one wait. Each wake and wait is logged at INFO. Default
            off.
        :param wake: With ``wait_for_endpoint``: wake a SLEEPING endpoint, with at most
            one wake request per endpoint for the whole batch; default ``False``.
        :returns: A generator of one ``Outcome`` per request, in completion order.
        :raises InvalidRequestError: ``concurrency``, ``throttle_on_503``,
            ``wait_for_endpoint`` or ``wake`` is invalid (an invalid request is an
            ``Outcome`` with its ``error`` instead); nothing is sent then.
        """
        from ._batch._engine import generate_each

        workers = self._concurrency(concurrency)
        check_flag(throttle_on_503, "throttle_on_503")
        pool = self._waiter_pool_for(wait_for_endpoint, wake)
        return generate_each(
            self,
            requests,
            self._request_preparer(wait_for_endpoint, wake, pool),
            concurrency=workers,
            throttle_on_503=throttle_on_503,
        )

    def _attempt(self, call: _Call, http: httpx.Client | None = None) -> ImageResult | _Failure:
        """Send ``call`` once (with ``http``, else the client's): result, or failure."""
        exchange = Exchange(http or self._http, **self._exchange_settings(call))
        response: Response[Any] | None = None
        failure: BaseException | None = None
        try:
            response = call.operation.send(self._api_client(exchange), call.body, self._team)
        except (httpx.RequestError, *PARSE_ERRORS) as exc:
            failure = exc
        outcome = self._interpret(exchange, response, failure, call)
        if http is not None and isinstance(outcome, ImageResult):
            for image in outcome.images:  # a batch's images download through its pool
                if image._downloader is self._downloader:
                    image._downloader = self._batch_downloader
        return outcome

    def _send(self, call: _Call) -> ImageResult:
        retries_taken = 0
        while True:
            seen = waits_seen(call.endpoint_waiter)
            outcome = self._attempt(call)
            if isinstance(outcome, ImageResult):
                return outcome
            delay = self._next_delay(outcome, retries_taken, call)
            if delay is None:
                if wait_if_not_ready(call.endpoint_waiter, seen, outcome.error):
                    continue  # it was not ready, nothing was generated, and now it is
                raise outcome.error
            _waits.sleep(delay)
            retries_taken += 1
