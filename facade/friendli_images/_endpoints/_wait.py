"""Waiting for an endpoint, without the client: the algorithm and the shared waiters.

* ``wait_plan`` is the whole waiting algorithm as a generator: it yields the steps to
  perform (an endpoint API call, a pause) and receives their outcomes; ``drive`` and
  ``adrive`` perform the steps with blocking or awaitable I/O (the clients supply it).
* ``EndpointWaiter`` / ``AsyncEndpointWaiter`` serve the opt-in waiting of
  ``generate()``: one per call (or per ``WaiterPool`` key), shared by every request of a
  batch, so however many requests find the endpoint asleep, one of them polls, at most
  one wake request is sent, and the others wait for its outcome.
* ``waits_seen``, ``wait_if_not_ready`` and ``await_if_not_ready`` are the hooks of the
  single-request path: a call carries its waiter, and a not-ready answer goes to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

import attrs

from .._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    FriendliImagesError,
    InternalServerError,
    RateLimitError,
)
from .._redaction import package_logger
from . import _rules as _endpoint_rules
from ._errors import (
    EndpointFailedError,
    EndpointStoppedError,
    EndpointWaitTimeoutError,
)
from ._rules import Action, next_action
from ._status import EndpointEvent, EndpointStatus

if TYPE_CHECKING:
    import asyncio
    import random

__all__ = [
    "ApiCall",
    "AsyncEndpointWaiter",
    "AsyncPlanRunner",
    "EndpointWaiter",
    "Operation",
    "Pause",
    "Plan",
    "PlanRunner",
    "StatusCallback",
    "Step",
    "WaiterPool",
    "WaiterState",
    "adrive",
    "drive",
    "wait_plan",
]

logger = package_logger()

Operation = Literal["status", "wake", "sleep"]
StatusCallback = Callable[[EndpointStatus], object]

# Failures of a status poll that say nothing about the endpoint: poll again.
_TRANSIENT = (APIConnectionError, RateLimitError, InternalServerError)
_MIN_REQUEST_TIMEOUT = 0.1

# -- the waiting algorithm, without I/O --------------------------------------------------


@attrs.frozen
class ApiCall:
    operation: Operation
    timeout: float


@attrs.frozen
class Pause:
    seconds: float


Step = ApiCall | Pause
Plan = Generator[Step, EndpointStatus | None, EndpointStatus]


def _request_timeout(remaining: float) -> float:
    return max(min(_endpoint_rules.ENDPOINT_API_TIMEOUT, remaining), _MIN_REQUEST_TIMEOUT)


def wait_plan(
    endpoint_id: str,
    *,
    deadline: float,
    budget: float,
    wake: bool,
    on_status: StatusCallback | None,
    events: list[EndpointEvent],
    random: Callable[[], float],
    pause: float = 0.0,
) -> Plan:
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
        yield Pause(min(pause, max(deadline - started, 0.0)))
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EndpointWaitTimeoutError(
                endpoint_id=endpoint_id, status=last, timeout=budget
            ) from last_error
        status: EndpointStatus | None = None
        try:
            status = yield ApiCall(operation, _request_timeout(remaining))
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
                asleep = not woken and status.status.strip().upper() == "SLEEPING"
                logger.info(
                    "Endpoint %s is %s: waiting up to %.0f s for it to be ready%s",
                    endpoint_id,
                    status.describe(),
                    max(deadline - time.monotonic(), 0.0),
                    " (this call does not wake it; wake=True would)" if asleep else "",
                )
            waited = True
        yield Pause(_endpoint_rules.poll_delay(polls, deadline - time.monotonic(), random=random))
        polls += 1


def drive(plan: Plan, perform: Callable[[Step], EndpointStatus | None]) -> EndpointStatus:
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


async def adrive(
    plan: Plan, perform: Callable[[Step], Awaitable[EndpointStatus | None]]
) -> EndpointStatus:
    """``drive`` with awaitable I/O."""
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

    def _plan(self, cause: APIError, random: Callable[[], float]) -> Plan:
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
        return wait_plan(
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


class PlanRunner(Protocol):
    """What a sync waiter needs of its client (the endpoint methods have it)."""

    @property
    def _random(self) -> random.Random: ...

    def _run_plan(self, endpoint_id: str, plan: Plan) -> EndpointStatus: ...


class AsyncPlanRunner(Protocol):
    """What an async waiter needs of its client (the endpoint methods have it)."""

    @property
    def _random(self) -> random.Random: ...

    async def _run_plan(self, endpoint_id: str, plan: Plan) -> EndpointStatus: ...


class EndpointWaiter(WaiterState):
    """The waiter of one ``FriendliImages.generate()`` call (thread-safe)."""

    def __init__(self, client: PlanRunner, endpoint_id: str, budget: float, *, wake: bool) -> None:
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
        self, client: AsyncPlanRunner, endpoint_id: str, budget: float, *, wake: bool
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
