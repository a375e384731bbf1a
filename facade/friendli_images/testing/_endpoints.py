"""Dedicated Endpoints with a lifecycle, for the test server.

:class:`SimulatedEndpoint` is an endpoint that sleeps, wakes through Friendli's
initialization phases and runs, and the server answers the endpoint API for it::

    GET /dedicated/beta/endpoint/{endpoint_id}/status
    PUT /dedicated/beta/endpoint/{endpoint_id}/wake
    PUT /dedicated/beta/endpoint/{endpoint_id}/sleep

each with a ``DedicatedEndpointStatus`` body; **404** for an id no endpoint was added
for (unless the server's ``any_endpoint`` is on: then such an id is a RUNNING endpoint,
added on first use), **422** (FastAPI-style ``detail``) for an id that is not a valid endpoint id,
**400** for an ``X-Friendli-Team`` header that is not a valid team id and for waking or
sleeping an endpoint that is FAILED or stopped, **500** for a wake request to an
endpoint added with ``fail_wake_request=True`` (it stays asleep), **405** for another
method. A generation request whose ``model`` is such an endpoint
(``ENDPOINT_ID`` or ``ENDPOINT_ID:ADAPTER_ROUTE``) gets **503** unless it is RUNNING;
models that name no simulated endpoint are always served.

Lifecycle: ``wake`` moves SLEEPING to AWAKING in the first of ``phases``; each phase
lasts ``polls_per_phase`` status reads (the wake answer reports the first phase), or
``seconds_per_phase`` seconds, whichever comes first; after the last phase the endpoint
is RUNNING, or FAILED with ``fail_on_wake`` as its error code. ``sleep`` moves any
state back to SLEEPING. With ``wake_on_request=True`` a generation request wakes a
sleeping endpoint (and still gets its 503), as Friendli documents. Tests may also set
``status``, ``phase``, ``error_code`` and the timestamp strings directly (a status this
client does not know, a naive or malformed date-time).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "ENDPOINT_PATH_PREFIX",
    "WAKE_PHASES",
    "EndpointRegistry",
    "SimulatedEndpoint",
    "is_endpoint_path",
    "is_valid_endpoint_id",
]

ENDPOINT_PATH_PREFIX: Final = "/dedicated/beta/endpoint/"
WAKE_PHASES: Final = ("REQUESTING_VIRTUAL_MACHINE", "DOWNLOADING_MODEL", "ENGINE_INITIALIZING")
"""The phases a waking endpoint goes through, in order (Friendli's ``phase`` values)."""

_PATH = re.compile(r"/dedicated/beta/endpoint/(?P<id>[^/]*)/(?P<action>status|wake|sleep)")
_VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_METHODS: Final = {"status": "GET", "wake": "PUT", "sleep": "PUT"}
_UNCHANGEABLE: Final = frozenset({"FAILED", "STOPPING", "TERMINATING", "TERMINATED"})


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_valid_endpoint_id(endpoint_id: str) -> bool:
    """Whether the simulated API accepts ``endpoint_id`` (letters, digits, ``_``, ``-``)."""
    return _VALID_ID.fullmatch(endpoint_id) is not None


def is_endpoint_path(path: str) -> bool:
    """Whether ``path`` is one of the endpoint API paths the server answers."""
    return _PATH.fullmatch(path) is not None


class SimulatedEndpoint:
    """One Dedicated Endpoint and its lifecycle (see the module docstring).

    The counters ``status_reads``, ``wake_requests`` and ``sleep_requests`` count the
    successful endpoint API calls it answered; ``rejected_generations`` the generation
    requests it refused with 503. ``status``, ``phase``, ``error_code``, ``created_at`` and
    ``updated_at`` are sent as they are: set them to test what a client makes of a status
    it does not know or of a naive or malformed date-time.

    :param endpoint_id: Its id (letters, digits, ``_``, ``-``; at most 64), as the
        endpoint API paths and a generation's ``model`` name it.
    :param status: The status it starts in; default ``"SLEEPING"``.
    :param polls_per_phase: Status reads each waking phase lasts (``>= 1``); default 1;
        ``None``: phases end by time only.
    :param seconds_per_phase: Seconds each waking phase lasts at most (``>= 0``);
        default ``None``: phases end by status reads only.
    :param fail_on_wake: An error code: waking ends FAILED with it instead of RUNNING;
        default ``None``.
    :param phases: The phases a waking endpoint goes through, in order (not empty);
        default ``WAKE_PHASES``.
    :param wake_on_request: A generation request wakes it when it is SLEEPING (and still
        gets its 503); default ``False``.
    :param fail_wake_request: Answer wake requests with 500 and stay asleep; default
        ``False``.
    :raises ValueError: An argument is out of range, or neither ``polls_per_phase`` nor
        ``seconds_per_phase`` is given.
    """

    endpoint_id: str
    status: str
    phase: str | None
    error_code: str | None
    created_at: str
    updated_at: str | None
    polls_per_phase: int | None
    seconds_per_phase: float | None
    fail_on_wake: str | None
    phases: tuple[str, ...]
    wake_on_request: bool
    fail_wake_request: bool
    status_reads: int
    wake_requests: int
    sleep_requests: int
    rejected_generations: int

    def __init__(
        self,
        endpoint_id: str,
        *,
        status: str = "SLEEPING",
        polls_per_phase: int | None = 1,
        seconds_per_phase: float | None = None,
        fail_on_wake: str | None = None,
        phases: Sequence[str] = WAKE_PHASES,
        wake_on_request: bool = False,
        fail_wake_request: bool = False,
    ) -> None:
        if not _VALID_ID.fullmatch(endpoint_id):
            raise ValueError(f"not a valid endpoint id: {endpoint_id!r}")
        if polls_per_phase is not None and (
            isinstance(polls_per_phase, bool) or polls_per_phase < 1
        ):
            raise ValueError(f"polls_per_phase must be >= 1 or None, got {polls_per_phase!r}")
        if seconds_per_phase is not None and seconds_per_phase < 0:
            raise ValueError(f"seconds_per_phase must be >= 0, got {seconds_per_phase!r}")
        if polls_per_phase is None and seconds_per_phase is None:
            raise ValueError("give polls_per_phase or seconds_per_phase (or both)")
        if not phases:
            raise ValueError("phases must not be empty")
        self.endpoint_id: str = endpoint_id
        self.status: str = status
        self.phase: str | None = None
        self.error_code: str | None = None
        self.created_at: str = _timestamp()
        self.updated_at: str | None = self.created_at
        self.polls_per_phase = polls_per_phase
        self.seconds_per_phase = seconds_per_phase
        self.fail_on_wake = fail_on_wake
        self.phases: tuple[str, ...] = tuple(phases)
        self.wake_on_request = wake_on_request
        self.fail_wake_request = fail_wake_request
        self.status_reads: int = 0
        self.wake_requests: int = 0
        self.sleep_requests: int = 0
        self.rejected_generations: int = 0
        self._lock = threading.Lock()
        self._reads_awake = 0
        self._woke_at = 0.0

    def __repr__(self) -> str:
        return f"<SimulatedEndpoint {self.endpoint_id} {self.status} phase={self.phase}>"

    def body(self) -> dict[str, Any]:
        """The ``DedicatedEndpointStatus`` JSON of the current state."""
        return {
            "status": self.status,
            "errorCode": self.error_code,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "phase": self.phase,
        }

    def _set(self, status: str, phase: str | None = None, error_code: str | None = None) -> None:
        self.status, self.phase, self.error_code = status, phase, error_code
        self.updated_at = _timestamp()

    def _start_waking(self) -> None:
        self._reads_awake = 0
        self._woke_at = time.monotonic()
        self._set("AWAKING", self.phases[0])

    def _advance(self) -> None:
        """Move a waking endpoint along its phases (called on each status read)."""
        if self.status != "AWAKING":
            return
        index = 0
        if self.polls_per_phase is not None:
            index = self._reads_awake // self.polls_per_phase
        if self.seconds_per_phase is not None:
            elapsed = time.monotonic() - self._woke_at
            by_time = (
                len(self.phases)
                if self.seconds_per_phase == 0
                else int(elapsed / self.seconds_per_phase)
            )
            index = max(index, by_time)
        if index < len(self.phases):
            if self.phase != self.phases[index]:
                self._set("AWAKING", self.phases[index])
        elif self.fail_on_wake is not None:
            self._set("FAILED", None, self.fail_on_wake)
        else:
            self._set("RUNNING")

    def read_status(self) -> dict[str, Any]:
        """Answer a status request."""
        with self._lock:
            self.status_reads += 1
            if self.status == "AWAKING":
                self._reads_awake += 1
            self._advance()
            return self.body()

    def wake(self) -> tuple[int, dict[str, Any]]:
        """Answer a wake request: a sleeping endpoint starts waking; others are unchanged."""
        with self._lock:
            self.wake_requests += 1
            if self.status in _UNCHANGEABLE:
                return 400, {"detail": f"Endpoint {self.endpoint_id} is {self.status}"}
            if self.fail_wake_request:
                return 500, {"detail": "Failed to wake the endpoint"}
            if self.status == "SLEEPING":
                self._start_waking()
            return 200, self.body()

    def sleep(self) -> tuple[int, dict[str, Any]]:
        """Answer a sleep request: the endpoint is SLEEPING from now on."""
        with self._lock:
            self.sleep_requests += 1
            if self.status in _UNCHANGEABLE:
                return 400, {"detail": f"Endpoint {self.endpoint_id} is {self.status}"}
            self._set("SLEEPING")
            return 200, self.body()

    def refuse_generation(self) -> str | None:
        """``None`` when RUNNING, else the 503 message (waking it if ``wake_on_request``)."""
        with self._lock:
            if self.status == "AWAKING":
                self._advance()
            if self.status == "RUNNING":
                return None
            self.rejected_generations += 1
            state = self.status
            if state == "SLEEPING" and self.wake_on_request:
                self._start_waking()
            return f"Endpoint {self.endpoint_id} is not ready (status {state})"


class EndpointRegistry:
    """The simulated endpoints of one server, and the answers of the endpoint API."""

    def __init__(self) -> None:
        self._endpoints: dict[str, SimulatedEndpoint] = {}
        self._lock = threading.Lock()
        self.any_endpoint = False
        """Answer an id not added as a RUNNING endpoint (added on first use), not a 404."""

    def add(self, endpoint: SimulatedEndpoint) -> SimulatedEndpoint:
        with self._lock:
            self._endpoints[endpoint.endpoint_id] = endpoint
        return endpoint

    def get(self, endpoint_id: str) -> SimulatedEndpoint:
        with self._lock:
            return self._endpoints[endpoint_id]

    def __contains__(self, endpoint_id: object) -> bool:
        with self._lock:
            return endpoint_id in self._endpoints

    def for_model(self, model: object) -> SimulatedEndpoint | None:
        """The simulated endpoint a generation request's ``model`` runs on, if any."""
        if not isinstance(model, str):
            return None
        with self._lock:
            return self._endpoints.get(model.split(":", 1)[0])

    def answer(
        self, method: str, path: str, team: str | None
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        """``(status, JSON body, extra headers)`` for an (authorized) endpoint API request
        with the ``X-Friendli-Team`` header ``team``."""
        match = _PATH.fullmatch(path)
        if match is None:
            return 404, {"detail": "Not Found"}, []
        endpoint_id, action = match["id"], match["action"]
        if method != _METHODS[action]:
            return 405, {"detail": "Method Not Allowed"}, [("Allow", _METHODS[action])]
        if not _VALID_ID.fullmatch(endpoint_id):
            detail = {
                "loc": ["path", "endpoint_id"],
                "msg": "String should match pattern '^[A-Za-z0-9_-]{1,64}$'",
                "type": "string_pattern_mismatch",
            }
            return 422, {"detail": [detail]}, []
        if team is not None and not _VALID_ID.fullmatch(team):
            return 400, {"detail": "X-Friendli-Team is not a valid team ID"}, []
        with self._lock:
            endpoint = self._endpoints.get(endpoint_id)
            if endpoint is None and self.any_endpoint:
                endpoint = SimulatedEndpoint(endpoint_id, status="RUNNING")
                self._endpoints[endpoint_id] = endpoint
        if endpoint is None:
            return 404, {"detail": f"Endpoint {endpoint_id} not found"}, []
        if action == "status":
            return 200, endpoint.read_status(), []
        status, body = endpoint.wake() if action == "wake" else endpoint.sleep()
        return status, body, []
