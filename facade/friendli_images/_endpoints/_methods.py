"""Endpoint status, wake, sleep and waiting: the methods of both clients.

``SyncEndpointMethods`` and ``AsyncEndpointMethods`` are mixed into ``FriendliImages``
and ``AsyncFriendliImages``. They build and interpret the endpoint API calls (through the
generated ``dedicated_endpoint`` operations) and perform the steps of the waiting
algorithm in ``_endpoint_wait``, with blocking or awaitable I/O.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from .. import _waits
from .._exceptions import APIConnectionError, APITimeoutError, InvalidRequestError
from .._redaction import package_logger
from .._transport._exchange import AsyncExchange, BodyTooLargeError, Exchange
from .._transport._retry import was_sent
from . import _rules as _endpoint_rules
from ._rules import check_wait_timeout, endpoint_id_for_model

if TYPE_CHECKING:
    from friendli_images_api.types import Response

    from ._host import EndpointHost as _BaseClient
    from ._status import EndpointStatus
    from ._wait import (
        AsyncEndpointWaiter,
        EndpointWaiter,
        Operation,
        Plan,
        StatusCallback,
        Step,
        WaiterPool,
    )

    _Base = _BaseClient
else:
    _Base = object

__all__ = ["AsyncEndpointMethods", "SyncEndpointMethods"]

logger = package_logger()


def _operation_module(operation: Operation) -> ModuleType:
    """The generated module of ``operation``, imported on first use (import time is
    measured in bench/, and most programs never call the endpoint API)."""
    from .. import _generated

    modules = {
        "status": _generated.dedicated_get_endpoint_status,
        "wake": _generated.dedicated_wake_endpoint,
        "sleep": _generated.dedicated_sleep_endpoint,
    }
    return modules[operation]


_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)


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
        if isinstance(failure, BodyTooLargeError):  # its body was not read: never parse it
            raise self._too_large_error(http_response, failure) from None
        if 200 <= http_response.status_code < 300:
            # The status model (attrs, the generated model) loads on the first endpoint call.
            from ._status import parse_endpoint_status

            try:
                if failure is not None:
                    raise failure
                return parse_endpoint_status(
                    endpoint_id, response.parsed if response is not None else None, self._secrets
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

    def _check_waiting(self, wait_for_endpoint: object, wake: object) -> float | None:
        """Validate the waiting options: the budget in seconds, or ``None`` (off)."""
        _check_flag(wake, "wake")
        if wait_for_endpoint is None:
            if wake:
                raise InvalidRequestError(
                    "wake=True needs wait_for_endpoint (how many seconds waking may take)",
                    param="wake",
                )
            return None
        return check_wait_timeout(wait_for_endpoint, "wait_for_endpoint")

    def _waiter_args(
        self, model: str, wait_for_endpoint: float | None, wake: bool
    ) -> tuple[str, float] | None:
        """Validate ``generate``'s waiting options: ``(endpoint_id, budget)`` or ``None``."""
        budget = self._check_waiting(wait_for_endpoint, wake)
        if budget is None:
            return None
        return endpoint_id_for_model(model), budget

    def _new_waiter_pool(self) -> WaiterPool[Any]:
        raise NotImplementedError  # pragma: no cover - both clients define it

    def _waiter_pool_for(self, wait_for_endpoint: object, wake: object) -> WaiterPool[Any] | None:
        """Validate a batch's waiting options: a new pool for its waiters (``None``: off)."""
        if self._check_waiting(wait_for_endpoint, wake) is None:
            return None
        return self._new_waiter_pool()


class SyncEndpointMethods(_EndpointCommon):
    """The endpoint methods of ``FriendliImages``."""

    _http: httpx.Client

    def endpoint_status(self, endpoint_id: str) -> EndpointStatus:
        """Read the status of the Dedicated Endpoint ``endpoint_id`` (one GET request).

        :param endpoint_id: The endpoint's ID, as passed to ``model``;
            ``ENDPOINT_ID:ADAPTER_ROUTE`` is accepted and reads ``ENDPOINT_ID``.
        :returns: The endpoint's status as Friendli reports it now.
        :raises InvalidRequestError: ``endpoint_id`` names no endpoint (nothing is sent).
        :raises NotFoundError: No such endpoint; other ``APIError`` subclasses as usual.
        """
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        return self._endpoint_call("status", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    def wake_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Ask Friendli to wake a sleeping endpoint (one PUT request).

        Waking takes minutes and is billed from then on; ``wait_until_ready`` waits for it.

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` wakes
            ``ENDPOINT_ID``).
        :returns: The status Friendli answers the wake request with.
        :raises InvalidRequestError: ``endpoint_id`` names no endpoint (nothing is sent).
        """
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        logger.info("Endpoint %s: sending a wake request", endpoint_id)
        return self._endpoint_call("wake", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    def sleep_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Put an endpoint to sleep now (one PUT request), freeing its GPUs; returns its status.

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` puts
            ``ENDPOINT_ID`` to sleep).
        :returns: The status Friendli answers the sleep request with.
        :raises InvalidRequestError: ``endpoint_id`` names no endpoint (nothing is sent).
        """
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

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` waits for
            ``ENDPOINT_ID``).
        :param timeout: Seconds the whole wait may take, polls and the wake request
            included; default 600.
        :param wake: Send one wake request if the endpoint is SLEEPING; default
            ``False``, which never sends one.
        :param on_status: Called with each ``EndpointStatus`` read; ``None``: nothing.
        :returns: The RUNNING status.
        :raises EndpointFailedError: The endpoint reports FAILED (``error_code`` says why).
        :raises EndpointStoppedError: It is STOPPING, TERMINATING or TERMINATED.
        :raises EndpointWaitTimeoutError: Not ready by the deadline (``status``: the last one).
        :raises APIStatusError: A status request was refused (404: no such endpoint).
        """
        endpoint_id, budget, wake, on_status = self._wait_args(
            endpoint_id, timeout, wake, on_status
        )
        from ._wait import wait_plan  # the waiter: loaded when waiting is asked for

        plan = wait_plan(
            endpoint_id,
            deadline=time.monotonic() + budget,
            budget=budget,
            wake=wake,
            on_status=on_status,
            events=[],
            random=self._random.random,
        )
        return self._run_plan(endpoint_id, plan)

    def _run_plan(self, endpoint_id: str, plan: Plan) -> EndpointStatus:
        from ._wait import Pause, drive  # the waiter: loaded when waiting is asked for

        def perform(step: Step) -> EndpointStatus | None:
            if isinstance(step, Pause):
                _waits.sleep(step.seconds)
                return None
            return self._endpoint_call(step.operation, endpoint_id, step.timeout)

        return drive(plan, perform)

    def _endpoint_call(
        self, operation: Operation, endpoint_id: str, timeout: float
    ) -> EndpointStatus:
        exchange = Exchange(self._http, **self._endpoint_settings(timeout))
        response: Response[Any] | None = None
        failure: BaseException | None = None
        send = _operation_module(operation).sync_detailed
        client = self._api_client(exchange)
        try:
            # Bounded by the exchange's deadline, even against trickled headers (_deadline).
            response = send(endpoint_id, client=client, x_friendli_team=self._team)
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
            from ._wait import EndpointWaiter  # the waiter: loaded when waiting is asked for

            return EndpointWaiter(self, *args, wake=wake)
        return pool.get(*args, wake=wake)

    def _waiter(self, sent: Mapping[str, Any], params: Mapping[str, Any]) -> EndpointWaiter | None:
        """The waiter of ``generate()``/``edit()`` with these arguments (``None``: off)."""
        wait_for_endpoint, wake = params.get("wait_for_endpoint"), params.get("wake", False)
        if wait_for_endpoint is None and wake is False:  # the defaults: nothing to check
            return None
        return self._endpoint_waiter(sent["model"], wait_for_endpoint, wake)

    def _new_waiter_pool(self) -> WaiterPool[EndpointWaiter]:
        from ._wait import EndpointWaiter, WaiterPool  # loaded when waiting is asked for

        return WaiterPool(
            lambda endpoint_id, budget, wake: EndpointWaiter(self, endpoint_id, budget, wake=wake)
        )


class AsyncEndpointMethods(_EndpointCommon):
    """The endpoint methods of ``AsyncFriendliImages``; see ``SyncEndpointMethods``."""

    _http: httpx.AsyncClient

    if TYPE_CHECKING:

        def _http_for_this_loop(self) -> httpx.AsyncClient: ...

    async def endpoint_status(self, endpoint_id: str) -> EndpointStatus:
        """Read the endpoint's status; see ``FriendliImages.endpoint_status``.

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` reads
            ``ENDPOINT_ID``).
        :returns: The endpoint's status as Friendli reports it now.
        """
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        return await self._endpoint_call(
            "status", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT
        )

    async def wake_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Wake a sleeping endpoint; see ``FriendliImages.wake_endpoint``.

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` wakes
            ``ENDPOINT_ID``).
        :returns: The status Friendli answers the wake request with.
        """
        endpoint_id = endpoint_id_for_model(endpoint_id, param="endpoint_id")
        logger.info("Endpoint %s: sending a wake request", endpoint_id)
        return await self._endpoint_call("wake", endpoint_id, _endpoint_rules.ENDPOINT_API_TIMEOUT)

    async def sleep_endpoint(self, endpoint_id: str) -> EndpointStatus:
        """Put an endpoint to sleep; see ``FriendliImages.sleep_endpoint``.

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` puts
            ``ENDPOINT_ID`` to sleep).
        :returns: The status Friendli answers the sleep request with.
        """
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
        """Wait until the endpoint is RUNNING; see ``FriendliImages.wait_until_ready``.

        :param endpoint_id: The endpoint's ID (``ENDPOINT_ID:ADAPTER_ROUTE`` waits for
            ``ENDPOINT_ID``).
        :param timeout: Seconds the whole wait may take; default 600.
        :param wake: Send one wake request if the endpoint is SLEEPING; default ``False``.
        :param on_status: Called with each ``EndpointStatus`` read; ``None``: nothing.
        :returns: The RUNNING status.
        """
        endpoint_id, budget, wake, on_status = self._wait_args(
            endpoint_id, timeout, wake, on_status
        )
        from ._wait import wait_plan  # the waiter: loaded when waiting is asked for

        plan = wait_plan(
            endpoint_id,
            deadline=time.monotonic() + budget,
            budget=budget,
            wake=wake,
            on_status=on_status,
            events=[],
            random=self._random.random,
        )
        return await self._run_plan(endpoint_id, plan)

    async def _run_plan(self, endpoint_id: str, plan: Plan) -> EndpointStatus:

        from ._wait import Pause, adrive  # the waiter: loaded when waiting is asked for

        async def perform(step: Step) -> EndpointStatus | None:
            if isinstance(step, Pause):
                await _waits.asleep(step.seconds)
                return None
            return await self._endpoint_call(step.operation, endpoint_id, step.timeout)

        return await adrive(plan, perform)

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
            from ._wait import AsyncEndpointWaiter  # loaded when waiting is asked for

            return AsyncEndpointWaiter(self, *args, wake=wake)
        return pool.get(*args, wake=wake)

    def _waiter(
        self, sent: Mapping[str, Any], params: Mapping[str, Any]
    ) -> AsyncEndpointWaiter | None:
        """The waiter of ``generate()``/``edit()`` with these arguments (``None``: off)."""
        wait_for_endpoint, wake = params.get("wait_for_endpoint"), params.get("wake", False)
        if wait_for_endpoint is None and wake is False:  # the defaults: nothing to check
            return None
        return self._endpoint_waiter(sent["model"], wait_for_endpoint, wake)

    def _new_waiter_pool(self) -> WaiterPool[AsyncEndpointWaiter]:
        from ._wait import AsyncEndpointWaiter, WaiterPool  # loaded when waiting is asked for

        return WaiterPool(
            lambda endpoint_id, budget, wake: AsyncEndpointWaiter(
                self, endpoint_id, budget, wake=wake
            )
        )
