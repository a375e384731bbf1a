"""Endpoint status, wake, sleep and waiting, for both clients.

``SyncEndpointMethods`` and ``AsyncEndpointMethods`` are mixed into ``FriendliImages``
and ``AsyncFriendliImages``. Everything but I/O is shared:

* ``_wait_plan`` is the whole waiting algorithm as a generator: it yields the steps to
  perform (an endpoint API call, a pause) and receives their outcomes; ``_drive`` and
  ``_adrive`` perform the steps, with blocking or awaitable I/O.
* ``EndpointWaiter`` / ``AsyncEndpointWaiter`` serve the opt-in waiting of
  ``generate()``: one per call, shared by every request of a batch, so however many
  requests find the endpoint asleep, one of them polls, at most one wake request is
  sent, and the others wait for its outcome.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import attrs
import httpx
from friendli_images_api.types import Response

from . import _endpoint_rules
from ._endpoint_errors import (
    EndpointFailedError,
    EndpointStoppedError,
    EndpointWaitTimeoutError,
)
from ._endpoint_rules import Action, check_wait_timeout, endpoint_id_for_model, next_action
from ._endpoint_status import EndpointEvent, EndpointStatus, parse_endpoint_status
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    FriendliImagesError,
    InternalServerError,
    InvalidRequestError,
    RateLimitError,
)
from ._http import AsyncExchange, Exchange
from ._retry import was_sent

if TYPE_CHECKING:
    import asyncio

    from ._client import _BaseClient

    _Base = _BaseClient
else:
    _Base = object

__all__ = [
    "AsyncEndpointMethods",
    "AsyncEndpointWaiter",
    "EndpointWaiter",
    "SyncEndpointMethods",
    "WaiterPool",
    "WaiterState",
    "await_if_not_ready",
    "wait_if_not_ready",
    "waits_seen",
]

logger = logging.getLogger("friendli_images")

Operation = Literal["status", "wake", "sleep"]
StatusCallback = Callable[[EndpointStatus], object]


def _operation_module(operation: Operation) -> ModuleType:
    """The generated module of ``operation``, imported on first use (import time is
    measured in bench/, and most programs never call the endpoint API)."""
    from friendli_images_api.api.dedicated_endpoint import (
        dedicated_get_endpoint_status,
        dedicated_sleep_endpoint,
        dedicated_wake_endpoint,
    )

    modules = {
        "status": dedicated_get_endpoint_status,
        "wake": dedicated_wake_endpoint,
        "sleep": dedicated_sleep_endpoint,
    }
    return modules[operation]


_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)
# Failures of a status poll that say nothing about the endpoint: poll again.
_TRANSIENT = (APIConnectionError, RateLimitError, InternalServerError)
_MIN_REQUEST_TIMEOUT = 0.1


# -- the waiting algorithm, without I/O --------------------------------------------------


@attrs.frozen
class _ApiCall:
    operation: Operation
    timeout: float


@attrs.frozen
class _Pause:
    seconds: float


_Step = _ApiCall | _Pause
_Plan = Generator[_Step, EndpointStatus | None, EndpointStatus]


def _request_timeout(remaining: float) -> float:
    return max(min(_endpoint_rules.ENDPOINT_API_TIMEOUT, remaining), _MIN_REQUEST_TIMEOUT)


def _wait_plan(
    endpoint_id: str,
    *,
    deadline: float,
    budget: float,
    wake: bool,
    on_status: StatusCallback | None,
    events: list[EndpointEvent],
    random: Callable[[], float],
    pause: float = 0.0,
) -> _Plan:
    """Poll until the endpoint is ready; wake it once if allowed; stop at ``deadline``.

    ``deadline`` is a ``time.monotonic()`` value; ``budget`` the seconds it stands for
    (for messages). FAILED and the stopped statuses raise at once; a poll that fails
    in a transient way (network, 429, 5xx) is repeated until the deadline. A wake
    request is never repeated. Appends a ``"wake"`` event per wake request and a
    ``"wait"`` event when the endpoint was not ready at the first look.
    """
    started = time.monotonic()
    woken = False
    waited = False
    last: EndpointStatus | None = None
    last_error: FriendliImagesError | None = None
    polls = 0
    operation: Operation = "status"
    if pause > 0:
        yield _Pause(min(pause, max(deadline - started, 0.0)))
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EndpointWaitTimeoutError(
                endpoint_id=endpoint_id, status=last, timeout=budget
            ) from last_error
        status: EndpointStatus | None = None
        try:
            status = yield _ApiCall(operation, _request_timeout(remaining))
        except _TRANSIENT as error:
            if operation == "wake":
                raise
            logger.debug("Endpoint %s: status poll failed, polling again: %s", endpoint_id, error)
            last_error = error
        if operation == "wake" and status is not None:
            logger.info("Endpoint %s: wake request sent; now %s", endpoint_id, status.describe())
            events.append(EndpointEvent("wake", endpoint_id, status, 0.0))
        operation = "status"
        if status is not None:
            last = status
            if on_status is not None:
                on_status(status)
            action = next_action(status.status, wake=wake, woken=woken)
            if action is Action.READY:
                seconds = time.monotonic() - started
                if waited or woken:
                    logger.info(
                        "Endpoint %s is ready (%s) after waiting %.1f s",
                        endpoint_id,
                        status.status,
                        seconds,
                    )
                    events.append(EndpointEvent("wait", endpoint_id, status, seconds))
                return status
            if action is Action.FAILED:
                raise EndpointFailedError(endpoint_id=endpoint_id, status=status)
            if action is Action.STOPPED:
                raise EndpointStoppedError(endpoint_id=endpoint_id, status=status)
            if action is Action.WAKE:
                logger.info("Endpoint %s is %s: waking it", endpoint_id, status.describe())
                woken = True
                operation = "wake"
                continue
            if not waited:
                logger.info(
                    "Endpoint %s is %s: waiting up to %.0f s for it to be ready",
                    endpoint_id,
                    status.describe(),
                    max(deadline - time.monotonic(), 0.0),
                )
            waited = True
        yield _Pause(_endpoint_rules.poll_delay(polls, deadline - time.monotonic(), random=random))
        polls += 1


def _drive(plan: _Plan, perform: Callable[[_Step], EndpointStatus | None]) -> EndpointStatus:
    """Run ``plan`` with blocking I/O: perform each step, send back its outcome."""
    outcome: EndpointStatus | None = None
    error: FriendliImagesError | None = None
    while True:
        try:
            step = plan.send(outcome) if error is None else plan.throw(error)
        except StopIteration as stop:
            result: EndpointStatus = stop.value
            return result
        outcome, error = None, None
        try:
            outcome = perform(step)
        except FriendliImagesError as exc:
            error = exc


async def _adrive(
    plan: _Plan, perform: Callable[[_Step], Awaitable[EndpointStatus | None]]
) -> EndpointStatus:
    """``_drive`` with awaitable I/O."""
    outcome: EndpointStatus | None = None
    error: FriendliImagesError | None = None
    while True:
        try:
            step = plan.send(outcome) if error is None else plan.throw(error)
        except StopIteration as stop:
            result: EndpointStatus = stop.value
            return result
        outcome, error = None, None
        try:
            outcome = await perform(step)
        except FriendliImagesError as exc:
            error = exc


# -- the client methods --------------------------------------------------------------------


def _check_callback(on_status: object) -> StatusCallback | None:
    if on_status is not None and not callable(on_status):
        raise InvalidRequestError("on_status must be a callable or None", param="on_status")
    return on_status


def _check_flag(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{param} must be True or False, got {value!r}", param=param)
    return value


class _EndpointCommon(_Base):
    """Request settings and response interpretation shared by both clients."""

    def _endpoint_settings(self, timeout: float) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "headers": self._headers,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            "max_body_bytes": _endpoint_rules.ENDPOINT_MAX_BODY_BYTES,
        }

    def _endpoint_outcome(
        self,
        endpoint_id: str,
        operation: Operation,
        exchange: Exchange | AsyncExchange,
        response: Response[Any] | None,
        failure: BaseException | None,
    ) -> EndpointStatus:
        """The status an endpoint API call returned, or the typed error it raises."""
        if isinstance(failure, httpx.RequestError):
            sent = was_sent(failure)
            what = f"The endpoint {operation} request for {endpoint_id}"
            if isinstance(failure, httpx.TimeoutException):
                raise APITimeoutError(
                    f"{what} timed out ({type(failure).__name__})",
                    request=exchange.sent_request,
                    sent=sent,
                ) from None
            raise APIConnectionError(
                f"{what} failed: {type(failure).__name__}: {failure}",
                request=exchange.sent_request,
                sent=sent,
            ) from None
        http_response = exchange.response
        if http_response is None:  # failed before anything was sent: not an API problem
            assert failure is not None
            raise failure
        if 200 <= http_response.status_code < 300:
            try:
                if failure is not None:
                    raise failure
                return parse_endpoint_status(
                    endpoint_id, response.parsed if response is not None else None
                )
            except _PARSE_ERRORS as exc:
                raise self._validation_error(http_response, exc) from None
        raise self._status_error(http_response)

    def _wait_args(
        self, endpoint_id: str, timeout: object, wake: object, on_status: object
    ) -> tuple[str, float, bool, StatusCallback | None]:
        return (
            endpoint_id_for_model(endpoint_id, param="endpoint_id"),
            check_wait_timeout(timeout, "timeout"),
            _check_flag(wake, "wake"),
            _check_callback(on_status),
        )

    def _waiter_args(
        self, model: str, wait_for_endpoint: float | None, wake: bool
    ) -> tuple[str, float] | None:
        """Validate ``generate``'s waiting options: ``(endpoint_id, budget)`` or ``None``."""
        _check_flag(wake, "wake")
        if wait_for_endpoint is None:
            if wake:
                raise InvalidRequestError(
                    "wake=True needs wait_for_endpoint (how many seconds waking may take)",
                    param="wake",
                )
            return None
        budget = check_wait_timeout(wait_for_endpoint, "wait_for_endpoint")
        return endpoint_id_for_model(model), budget


class SyncEndpointMethods(_EndpointCommon):
    """The endpoint methods of ``FriendliImages``."""

    _http: httpx.Client

    def endpoint_status(self, endpoint_id: str) -> EndpointStatus:
        """Read the status of the Dedicated Endpoint ``endpoint_id`` (one GET request).

        ``ENDPOINT_ID:ADAPTER_ROUTE`` is accepted and reads ``ENDPOINT_ID``.

        Raises:
            InvalidRequestError: ``endpoint_id`` names no endpoint (nothing is sent).
            NotFoundError: no such endpoint; other ``APIError`` subclasses as usual.
        """
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        return self._endpoint_call("status", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    def wake_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Ask Friendli to wake a sleeping endpoint (one PUT request); returns its status.

        Waking takes minutes and is billed from then on; ``wait_until_ready`` waits for it.
        """
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        logger.info("Endpoint %s: sending a wake request", endpoint_id)
        return self._endpoint_call("wake", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    def sleep_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Put an endpoint to sleep now (one PUT request), freeing its GPUs; returns its status."""
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        logger.info("Endpoint %s: sending a sleep request", endpoint_id)
        return self._endpoint_call("sleep", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    def wait_until_ready(
        self,
        endpoint_id: str,
        *,
        timeout: float = _endpoint_rules.DEFAULT_WAIT_TIMEOUT,
        wake: bool = False,
        on_status: StatusCallback | None = None,
    ) -> EndpointStatus:
        """Poll the endpoint's status until it is RUNNING; return that status.

        Polls back off (1 s growing to 15 s, with jitter) and the whole wait ends by
        ``timeout`` seconds. With ``wake=True`` a SLEEPING endpoint gets exactly one
        wake request; with ``wake=False`` this method never sends one. ``on_status``
        is called with every status read (for progress output).

        Raises:
            EndpointFailedError: the endpoint reports FAILED (``error_code`` says why).
            EndpointStoppedError: it is STOPPING, TERMINATING or TERMINATED.
            EndpointWaitTimeoutError: not ready by the deadline (``status``: the last one).
            APIStatusError: a status request was refused (404: no such endpoint).
        """
        endpoint_id, budget, wake, on_status = self._wait_args(
            endpoint_id, timeout, wake, on_status
        )
        plan = _wait_plan(
            endpoint_id,
            deadline=time.monotonic() + budget,
            budget=budget,
            wake=wake,
            on_status=on_status,
            events=[],
            random=self._random.random,
        )
        return self._run_plan(endpoint_id, plan)

    def _run_plan(self, endpoint_id: str, plan: _Plan) -> EndpointStatus:
        def perform(step: _Step) -> EndpointStatus | None:
            if isinstance(step, _Pause):
                time.sleep(step.seconds)
                return None
            return self._endpoint_call(step.operation, endpoint_id, step.timeout)

        return _drive(plan, perform)

    def _endpoint_call(
        self, operation: Operation, endpoint_id: str, timeout: float
    ) -> EndpointStatus:
        exchange = Exchange(self._http, **self._endpoint_settings(timeout))
        response: Response[Any] | None = None
        failure: BaseException | None = None
        try:
            send = _operation_module(operation).sync_detailed
            response = send(
                endpoint_id, client=self._api_client(exchange), x_friendli_team=self._team
            )
        except (httpx.RequestError, *_PARSE_ERRORS) as exc:
            failure = exc
        return self._endpoint_outcome(endpoint_id, operation, exchange, response, failure)

    _waiter_pool: WaiterPool[EndpointWaiter] | None = None
    """Set for a whole command-line run: its calls then share their waiters."""

    def _endpoint_waiter(
        self,
        model: str,
        wait_for_endpoint: float | None,
        wake: bool,
        pool: WaiterPool[EndpointWaiter] | None = None,
    ) -> EndpointWaiter | None:
        """The waiter of a call with these options (``None``: waiting is off); from
        ``pool`` (else the client's) when there is one, so that a batch shares it."""
        args = self._waiter_args(model, wait_for_endpoint, wake)
        if args is None:
            return None
        pool = pool if pool is not None else self._waiter_pool
        if pool is None:
            return EndpointWaiter(self, *args, wake=wake)
        return pool.get(*args, wake=wake)

    def _new_waiter_pool(self) -> WaiterPool[EndpointWaiter]:
        return WaiterPool(
            lambda endpoint_id, budget, wake: EndpointWaiter(self, endpoint_id, budget, wake=wake)
        )


class AsyncEndpointMethods(_EndpointCommon):
    """The endpoint methods of ``AsyncFriendliImages``; see ``SyncEndpointMethods``."""

    _http: httpx.AsyncClient

    if TYPE_CHECKING:

        def _http_for_this_loop(self) -> httpx.AsyncClient: ...

    async def endpoint_status(self, endpoint_id: str) -> EndpointStatus:
        """Read the endpoint's status; see ``FriendliImages.endpoint_status``."""
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        return await self._endpoint_call(
            "status", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT
        )

    async def wake_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Wake a sleeping endpoint; see ``FriendliImages.wake_endpoint``."""
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        logger.info("Endpoint %s: sending a wake request", endpoint_id)
        return await self._endpoint_call("wake", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    async def sleep_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Put an endpoint to sleep; see ``FriendliImages.sleep_endpoint``."""
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        logger.info("Endpoint %s: sending a sleep request", endpoint_id)
        return await self._endpoint_call("sleep", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    async def wait_until_ready(
        self,
        endpoint_id: str,
        *,
        timeout: float = _endpoint_rules.DEFAULT_WAIT_TIMEOUT,
        wake: bool = False,
        on_status: StatusCallback | None = None,
    ) -> EndpointStatus:
        """Wait until the endpoint is RUNNING; see ``FriendliImages.wait_until_ready``."""
        endpoint_id, budget, wake, on_status = self._wait_args(
            endpoint_id, timeout, wake, on_status
        )
        plan = _wait_plan(
            endpoint_id,
            deadline=time.monotonic() + budget,
            budget=budget,
            wake=wake,
            on_status=on_status,
            events=[],
            random=self._random.random,
        )
        return await self._run_plan(endpoint_id, plan)

    async def _run_plan(self, endpoint_id: str, plan: _Plan) -> EndpointStatus:
        import asyncio  # here, not at the top: sync users never pay for importing it

        async def perform(step: _Step) -> EndpointStatus | None:
            if isinstance(step, _Pause):
                await asyncio.sleep(step.seconds)
                return None
            return await self._endpoint_call(step.operation, endpoint_id, step.timeout)

        return await _adrive(plan, perform)

    async def _endpoint_call(
        self, operation: Operation, endpoint_id: str, timeout: float
    ) -> EndpointStatus:
        import asyncio  # here, not at the top: sync users never pay for importing it

        exchange = AsyncExchange(self._http_for_this_loop(), **self._endpoint_settings(timeout))
        response: Response[Any] | None = None
        failure: BaseException | None = None
        try:
            send = _operation_module(operation).asyncio_detailed
            async with asyncio.timeout(exchange.remaining()):
                response = await send(
                    endpoint_id, client=self._api_client(exchange), x_friendli_team=self._team
                )
        except TimeoutError:
            failure = httpx.ReadTimeout("the request ran past its deadline")
        except (httpx.RequestError, *_PARSE_ERRORS) as exc:
            failure = exc
        return self._endpoint_outcome(endpoint_id, operation, exchange, response, failure)

    _waiter_pool: WaiterPool[AsyncEndpointWaiter] | None = None
    """Set for a whole command-line run: its calls then share their waiters."""

    def _endpoint_waiter(
        self,
        model: str,
        wait_for_endpoint: float | None,
        wake: bool,
        pool: WaiterPool[AsyncEndpointWaiter] | None = None,
    ) -> AsyncEndpointWaiter | None:
        """The waiter of a call with these options (``None``: waiting is off); from
        ``pool`` (else the client's) when there is one, so that a batch shares it."""
        args = self._waiter_args(model, wait_for_endpoint, wake)
        if args is None:
            return None
        pool = pool if pool is not None else self._waiter_pool
        if pool is None:
            return AsyncEndpointWaiter(self, *args, wake=wake)
        return pool.get(*args, wake=wake)

    def _new_waiter_pool(self) -> WaiterPool[AsyncEndpointWaiter]:
        return WaiterPool(
            lambda endpoint_id, budget, wake: AsyncEndpointWaiter(
                self, endpoint_id, budget, wake=wake
            )
        )


# -- the shared waiter of one generate() call ---------------------------------------------


W = TypeVar("W", bound="WaiterState")


class WaiterPool(Generic[W]):
    """The waiters of one batch or command-line run: the requests for one endpoint with
    the same options share one waiter, so the batch waits once and wakes at most once."""

    def __init__(self, make: Callable[[str, float, bool], W]) -> None:
        self._make = make
        self._waiters: dict[tuple[str, float, bool], W] = {}
        self._lock = threading.Lock()

    def get(self, endpoint_id: str, budget: float, *, wake: bool) -> W:
        key = (endpoint_id, budget, wake)
        with self._lock:
            waiter = self._waiters.get(key)
            if waiter is None:
                waiter = self._waiters[key] = self._make(endpoint_id, budget, wake)
            return waiter

    @property
    def events(self) -> list[EndpointEvent]:
        """Every wake and wait of the pool's waiters."""
        with self._lock:
            waiters = list(self._waiters.values())
        return [event for waiter in waiters for event in waiter.events]


class WaiterState:
    """What the requests of one ``generate()`` call share about waiting.

    ``round`` counts completed waits. A request notes it before sending; when it then
    finds the endpoint not ready, it waits only if no other request completed a wait
    since (otherwise it just sends again). The deadline starts at the first not-ready
    answer and covers every wait of the call; a failed wait fails every later request
    at once, without polling again.
    """

    def __init__(self, endpoint_id: str, budget: float, *, wake: bool) -> None:
        self.endpoint_id = endpoint_id
        self.budget = budget
        self.wake = wake
        self.round = 0
        self.events: list[EndpointEvent] = []
        self._deadline: float | None = None
        self._failure: FriendliImagesError | None = None

    def handles(self, error: APIError) -> bool:
        """Whether ``error`` says the endpoint is not ready (so nothing was generated)."""
        return isinstance(error, APIStatusError) and _endpoint_rules.is_not_ready(
            error.status_code, error.message
        )

    def _plan(self, cause: APIError, random: Callable[[], float]) -> _Plan:
        """The wait to perform now (raises the failure of an earlier wait of the call)."""
        if self._failure is not None:
            raise self._failure
        now = time.monotonic()
        if self._deadline is None:
            logger.info(
                "Endpoint %s is not ready (%s); waiting up to %.0f s for it",
                self.endpoint_id,
                cause,
                self.budget,
            )
            self._deadline = now + self.budget
        if now >= self._deadline:
            self._failure = EndpointWaitTimeoutError(
                endpoint_id=self.endpoint_id, status=None, timeout=self.budget
            )
            self._failure.__cause__ = cause
            raise self._failure
        woken = any(event.kind == "wake" for event in self.events)
        pause = 0.0
        if self.round:  # it looked ready, yet still answers not ready: do not hammer it
            pause = _endpoint_rules.poll_delay(self.round - 1, self._deadline - now, random=random)
        return _wait_plan(
            self.endpoint_id,
            deadline=self._deadline,
            budget=self.budget,
            wake=self.wake and not woken,
            on_status=None,
            events=self.events,
            random=random,
            pause=pause,
        )

    def _failed(self, error: FriendliImagesError) -> None:
        self._failure = error


class EndpointWaiter(WaiterState):
    """The waiter of one ``FriendliImages.generate()`` call (thread-safe)."""

    def __init__(
        self, client: SyncEndpointMethods, endpoint_id: str, budget: float, *, wake: bool
    ) -> None:
        super().__init__(endpoint_id, budget, wake=wake)
        self._client = client
        self._lock = threading.Lock()

    def wait(self, seen_round: int, cause: APIError) -> None:
        """Wait for the endpoint, unless another request waited since ``seen_round``."""
        with self._lock:
            if self.round != seen_round:
                return
            plan = self._plan(cause, self._client._random.random)
            try:
                self._client._run_plan(self.endpoint_id, plan)
            except FriendliImagesError as error:
                self._failed(error)
                raise
            self.round += 1


class AsyncEndpointWaiter(WaiterState):
    """The waiter of one ``AsyncFriendliImages.generate()`` call (task-safe)."""

    def __init__(
        self, client: AsyncEndpointMethods, endpoint_id: str, budget: float, *, wake: bool
    ) -> None:
        super().__init__(endpoint_id, budget, wake=wake)
        self._client = client
        self._lock: asyncio.Lock | None = None

    async def wait(self, seen_round: int, cause: APIError) -> None:
        """Wait for the endpoint, unless another request waited since ``seen_round``."""
        import asyncio

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.round != seen_round:
                return
            plan = self._plan(cause, self._client._random.random)
            try:
                await self._client._run_plan(self.endpoint_id, plan)
            except FriendliImagesError as error:
                self._failed(error)
                raise
            self.round += 1


# -- the hooks of the single-request path ------------------------------------------------


def waits_seen(waiter: WaiterState | None) -> int:
    """Noted before each attempt: how many waits ``waiter`` had completed."""
    return 0 if waiter is None else waiter.round


def wait_if_not_ready(waiter: WaiterState | None, seen: int, error: APIError) -> bool:
    """With a waiter and a not-ready ``error``: wait until the endpoint is ready and
    return ``True`` (send again: nothing was generated). ``False`` otherwise; raises
    the ``EndpointError`` (or API error) of a wait that failed."""
    if waiter is None or not waiter.handles(error):
        return False
    assert isinstance(waiter, EndpointWaiter)
    waiter.wait(seen, error)
    return True


async def await_if_not_ready(waiter: WaiterState | None, seen: int, error: APIError) -> bool:
    """``wait_if_not_ready`` for the async clients."""
    if waiter is None or not waiter.handles(error):
        return False
    assert isinstance(waiter, AsyncEndpointWaiter)
    await waiter.wait(seen, error)
    return True
