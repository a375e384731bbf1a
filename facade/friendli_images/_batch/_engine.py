"""The batching engine: many requests, a bounded number in flight, outcomes as they complete.

Every batch of the package runs here: ``generate(n=...)``, ``generate_many()``, the jobs
runner behind ``friendli-images run`` and the command's ``generate -n``.

* Requests are taken from an iterable (or async iterable) only when a slot is free, so
  memory is O(concurrency): ``n=10**6`` creates no million tasks before the first request.
* At most ``concurrency`` requests are in flight, fewer while the endpoint says it is
  overloaded (``_throttle``).
* Each request ends as one ``Outcome`` (its image result, or its error), yielded in
  completion order with its index and request. One failed request never costs the others
  their images: whatever goes wrong with a request becomes that request's error.
* Once the batch stops (the consumer closed the iterator, raised, or pressed Ctrl-C) no new
  attempt starts, retries included: a successful late attempt would bill an image nobody
  receives. Async batches cancel their in-flight requests; sync ones cannot abort a
  request already on the wire, but never send another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Generator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from .. import _waits
from .._endpoints._hooks import await_if_not_ready, wait_if_not_ready, waits_seen
from .._exceptions import APIStatusError, FriendliImagesError
from .._redaction import Secrets, package_logger, redact
from .._results import ImageResult
from ._throttle import AsyncThrottle, BatchStopped, Limit, Throttle

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Sequence
    from contextlib import AbstractContextManager

    import httpx

    from .._calls import _Call, _Failure
    from ._attempts import AsyncAttempts as _AsyncClient
    from ._attempts import SyncAttempts as _SyncClient

__all__ = ["Outcome", "agenerate_each", "generate_each"]

logger = package_logger()

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

OVERLOAD_STATUS = 429
UNAVAILABLE_STATUS = 503


@attrs.frozen
class Outcome(Generic[R_co]):
    """How one request of a batch ended: ``result`` or ``error``, never both.

    For type checkers, test the field itself: ``if outcome.result is not None:`` makes
    ``outcome.result`` an ``ImageResult`` in the block, and ``outcome.error`` after
    ``if outcome.error is not None:`` (``ok`` is a plain ``bool`` and narrows nothing);
    or take ``outcome.unwrap()``, the result or its error raised::

        for outcome in client.generate_many(requests):
            if outcome.result is not None:
                outcome.result.save("out", stem=f"image-{outcome.index}")
            else:
                print(outcome.index, outcome.error)

    ``generate_many()`` and the jobs runner build these; the parameters are its fields.

    :param index: Position of the request in the batch (0-based).
    :param request: The request as it was given.
    :param result: The request's images when it succeeded; ``None`` when it failed.
    :param error: Why the request failed; ``None`` when it succeeded.
    :param paths: Files written for this request (jobs runner); default none.
    :param seconds: Wall time of the request, retries and saving included; default 0.
    """

    index: int
    """Position of the request in the batch (0-based, in the order requests were given)."""
    request: R_co
    """The request as it was given."""
    result: ImageResult | None = None
    error: FriendliImagesError | None = None
    paths: tuple[Path, ...] = ()
    """Files written for this request, when the batch saves as it goes (jobs runner)."""
    seconds: float = 0.0
    """Wall time from the request's first attempt to its end, retries and saving included."""

    @property
    def ok(self) -> bool:
        """Whether the request succeeded (``error`` is ``None``); to narrow the types of
        ``result``/``error``, test them against ``None`` instead (see the class)."""
        return self.error is None

    def unwrap(self) -> ImageResult:
        """The request's result, typed as an ``ImageResult``; its error raised if it failed.

        :returns: ``result``.
        :raises FriendliImagesError: ``error``, when the request failed.
        """
        if self.error is not None:
            raise self.error
        assert self.result is not None  # one of the two is always set
        return self.result


Finish = Callable[[int, R, ImageResult], "Sequence[Path]"]
"""Runs in the request's slot after its success (saving, say); may raise to fail it."""


def _load_signal(
    outcome: ImageResult | _Failure | None, overload_statuses: frozenset[int]
) -> tuple[bool | None, float | None]:
    """What an attempt says about the endpoint's load: (overloaded?, Retry-After)."""
    if isinstance(outcome, ImageResult):
        return False, None
    if outcome is None:
        return None, None
    error = outcome.error
    if isinstance(error, APIStatusError) and error.status_code in overload_statuses:
        return True, outcome.retry_after
    return None, None


def overload_statuses(throttle_on_503: bool) -> frozenset[int]:
    """The statuses that make a batch send less: 429, and 503 when asked."""
    if throttle_on_503:
        return frozenset({OVERLOAD_STATUS, UNAVAILABLE_STATUS})
    return frozenset({OVERLOAD_STATUS})


def _as_error(exc: BaseException, secrets: Secrets | tuple[str, ...]) -> FriendliImagesError:
    """An error to record for a request whatever went wrong (the batch goes on).

    Anything but a ``FriendliImagesError`` becomes one whose message names the original
    type, with ``secrets`` (the token's forms) redacted, and without the original
    chained: its text (an illegal header value, say) may hold the token.
    """
    if isinstance(exc, FriendliImagesError):
        return exc
    if isinstance(exc, OSError):  # saving failed: a full disk, a permission
        where = f": {exc.filename}" if exc.filename else ""
        message = f"{type(exc).__name__}: {exc.strerror or exc}{where}"
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    message = redact(message, secrets)
    if not isinstance(exc, OSError):
        logger.warning("A request of the batch failed: %s", message)
    error = FriendliImagesError(message)
    error.__suppress_context__ = True
    return error


def _free_retry(overloaded: bool | None, taken_under: Limit, others: int) -> bool:
    """An overload answer while the batch could still send less costs no retry: it was
    sent under a limit of more than one slot, or beside ``others`` attempts in flight (a
    limit cut to one slot by the refusals of a burst, while the burst is still out)."""
    return bool(overloaded) and (taken_under.slots > 1 or others > 0)


# -- threads -----------------------------------------------------------------------------


class _End:
    """Put on the outcome queue by the last worker to finish."""


class _Crash:
    """The request iterable itself raised: re-raise it in the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _send(
    client: _SyncClient,
    call: _Call,
    throttle: Throttle,
    statuses: frozenset[int],
    connections: Callable[[], AbstractContextManager[httpx.Client]],
) -> ImageResult:
    retries_taken = 0
    while True:
        seen = waits_seen(call.endpoint_waiter)
        taken_under = throttle.acquire()
        others = throttle.in_flight - 1
        outcome: ImageResult | _Failure | None = None
        try:
            if call.on_send is not None:
                call.on_send()
            with connections() as http:
                outcome = client._attempt(call, http)
        finally:
            overloaded, retry_after = _load_signal(outcome, statuses)
            throttle.release(taken_under.epoch, overloaded=overloaded, retry_after=retry_after)
        if isinstance(outcome, ImageResult):
            return outcome
        if _free_retry(overloaded, taken_under, others):
            continue
        delay = client._next_delay(outcome, retries_taken, call)
        if delay is None:
            if wait_if_not_ready(call.endpoint_waiter, seen, outcome.error):
                continue  # it was not ready, nothing was generated, and now it is
            raise outcome.error
        throttle.sleep(delay)
        retries_taken += 1


def generate_each(
    client: _SyncClient,
    requests: Iterable[R],
    prepare: Callable[[R], _Call],
    *,
    concurrency: int,
    throttle_on_503: bool = False,
    finish: Finish[R] | None = None,
    stop_on_error: bool = False,
) -> Generator[Outcome[R]]:
    """Run ``requests`` on ``concurrency`` worker threads; yield outcomes as they complete.

    Closing the iterator (or leaving a ``for`` loop over it by an exception) stops the batch:
    no attempt starts afterwards, and no ``finish`` runs after the iterator is closed (one
    already running is waited for), so nothing is written once the caller has moved on.
    ``stop_on_error`` stops the batch at the first failed request, before its outcome is
    even delivered (``strict`` batches: nothing is sent after the first failure).
    """
    import queue  # here, not at the top: only batches need it

    throttle = Throttle(concurrency)
    statuses = overload_statuses(throttle_on_503)
    connections = client._connections(concurrency)
    source = enumerate(requests)
    outcomes: queue.Queue[Outcome[R] | _End | _Crash] = queue.Queue(maxsize=concurrency)
    lock = threading.Lock()
    state = {"active": 0, "started": 0, "exhausted": False, "closed": False}
    finishing = threading.Condition()
    busy = {"finishes": 0}

    def deliver(item: Outcome[R] | _End | _Crash) -> None:
        while not state["closed"]:  # until the consumer has gone
            try:
                outcomes.put(item, timeout=0.1)
            except queue.Full:
                continue
            return

    def finished(index: int, request: R, result: ImageResult) -> tuple[Path, ...]:
        """``finish`` unless the batch has stopped (then ``BatchStopped``)."""
        if finish is None:
            return ()
        with finishing:
            if throttle.stopped:
                raise BatchStopped("the batch was stopped")
            busy["finishes"] += 1
        try:
            return tuple(finish(index, request, result))
        finally:
            with finishing:
                busy["finishes"] -= 1
                finishing.notify_all()

    def process(index: int, request: R) -> Outcome[R] | None:
        start = time.monotonic()
        try:
            result = _send(client, prepare(request), throttle, statuses, connections)
            paths = finished(index, request, result)
        except BatchStopped:
            return None
        except Exception as exc:  # one request's failure, whatever it is, is that request's
            if stop_on_error:
                throttle.stop()
            seconds = time.monotonic() - start
            return Outcome(index, request, error=_as_error(exc, client._secrets), seconds=seconds)
        return Outcome(index, request, result=result, paths=paths, seconds=time.monotonic() - start)

    def worker() -> None:
        try:
            while not throttle.stopped:
                with lock:
                    if state["exhausted"]:
                        return
                    try:
                        index, request = next(source)
                    except StopIteration:
                        state["exhausted"] = True
                        return
                    except BaseException as exc:  # the caller's iterable failed
                        state["exhausted"] = True
                        deliver(_Crash(exc))
                        return
                    if state["started"] < concurrency:  # a request taken: one more worker
                        start_worker()
                outcome = process(index, request)
                if outcome is not None:
                    deliver(outcome)
        finally:
            with lock:
                state["active"] -= 1
                last = state["active"] == 0
            if last:
                deliver(_End())

    def start_worker() -> None:
        """Called with ``lock`` held. Threads start as requests come: at most one idle."""
        state["started"] += 1
        state["active"] += 1
        name = f"friendli-images-{state['started']}"
        threading.Thread(target=worker, name=name, daemon=True).start()

    with lock:
        start_worker()
    try:
        while True:
            try:
                item = outcomes.get(timeout=0.1)  # a short wait keeps Ctrl-C responsive
            except queue.Empty:
                continue
            if isinstance(item, _End):
                return
            if isinstance(item, _Crash):
                raise item.error
            yield item
    finally:
        state["closed"] = True
        with finishing:
            throttle.stop()
            while busy["finishes"]:
                _waits.wait_condition(finishing, None)


# -- asyncio -----------------------------------------------------------------------------


async def _asend(
    client: _AsyncClient,
    call: _Call,
    throttle: AsyncThrottle,
    statuses: frozenset[int],
    connections: Callable[[], AbstractContextManager[httpx.AsyncClient]],
) -> ImageResult:
    retries_taken = 0
    while True:
        seen = waits_seen(call.endpoint_waiter)
        taken_under = await throttle.acquire()
        others = throttle.in_flight - 1
        outcome: ImageResult | _Failure | None = None
        try:
            if call.on_send is not None:
                call.on_send()
            with connections() as http:
                outcome = await client._attempt(call, http)
        finally:
            overloaded, retry_after = _load_signal(outcome, statuses)
            throttle.release(taken_under.epoch, overloaded=overloaded, retry_after=retry_after)
        if isinstance(outcome, ImageResult):
            return outcome
        if _free_retry(overloaded, taken_under, others):
            continue
        delay = client._next_delay(outcome, retries_taken, call)
        if delay is None:
            if await await_if_not_ready(call.endpoint_waiter, seen, outcome.error):
                continue  # it was not ready, nothing was generated, and now it is
            raise outcome.error
        await _waits.asleep(delay)
        retries_taken += 1


AsyncFinish = Callable[[int, R, ImageResult], "Awaitable[Sequence[Path]]"]


async def agenerate_each(
    client: _AsyncClient,
    requests: Iterable[R] | AsyncIterable[R],
    prepare: Callable[[R], _Call],
    *,
    concurrency: int,
    throttle_on_503: bool = False,
    finish: AsyncFinish[R] | None = None,
    stop_on_error: bool = False,
) -> AsyncGenerator[Outcome[R]]:
    """``generate_each`` with asyncio tasks: at most ``concurrency`` exist at any time.

    Closing the iterator (``aclose()``, or ``contextlib.aclosing`` around the loop) or
    cancelling its consumer cancels the requests in flight. ``stop_on_error``: no attempt
    starts after the first failed request.
    """
    import asyncio

    throttle = AsyncThrottle(concurrency)
    statuses = overload_statuses(throttle_on_503)
    connections = client._connections(concurrency)

    async def process(index: int, request: R) -> Outcome[R] | None:
        start = time.monotonic()
        try:
            result = await _asend(client, prepare(request), throttle, statuses, connections)
            paths = tuple(await finish(index, request, result)) if finish is not None else ()
        except BatchStopped:  # a strict batch stopped at another request's failure
            return None
        except Exception as exc:  # one request's failure, whatever it is, is that request's
            if stop_on_error:
                throttle.stop()
            seconds = time.monotonic() - start
            return Outcome(index, request, error=_as_error(exc, client._secrets), seconds=seconds)
        return Outcome(index, request, result=result, paths=paths, seconds=time.monotonic() - start)

    next_request = _next_from(requests)
    pending: set[asyncio.Task[Outcome[R] | None]] = set()
    index = 0
    exhausted = False
    try:
        while True:
            while not exhausted and not throttle.stopped and len(pending) < concurrency:
                try:
                    request = await next_request()
                except StopAsyncIteration:
                    exhausted = True
                    break
                pending.add(asyncio.ensure_future(process(index, request)))
                index += 1
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            ended = [outcome for task in done if (outcome := task.result()) is not None]
            for outcome in sorted(ended, key=lambda outcome: outcome.index):
                yield outcome
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _next_from(requests: Iterable[R] | AsyncIterable[R]) -> Callable[[], Awaitable[R]]:
    """One awaitable "next request" for both kinds of iterable (StopAsyncIteration at the end)."""
    if isinstance(requests, AsyncIterable):
        iterator = aiter(requests)
        return lambda: anext(iterator)
    sync_iterator = iter(requests)

    async def next_sync() -> R:
        try:
            return next(sync_iterator)
        except StopIteration:
            raise StopAsyncIteration from None

    return next_sync
