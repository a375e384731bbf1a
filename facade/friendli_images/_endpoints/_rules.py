"""The decisions of sleeping, waking and waiting, as pure functions.

* ``endpoint_id_for_model``: the endpoint a ``model`` argument runs on
  (``ENDPOINT_ID:ADAPTER_ROUTE`` runs on ``ENDPOINT_ID``).
* ``next_action``: what a status means for a caller that waits (ready, wait, wake,
  failed, stopped). A status this client does not know is waited on, never an error.
* ``poll_delay``: how long to wait before the next status poll (backoff with jitter,
  never past the deadline).
* ``is_not_ready``: whether an error answer to a generation request says that the
  endpoint is not ready (asleep, waking, initializing), so that nothing was generated.

Friendli's documentation says a sleeping endpoint wakes "manually or by sending a
request", but not which status a request gets while it sleeps or wakes; 503 is the
usual answer of a service that is not up, and the wording below catches other
statuses that say so in their message.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Final

from .._exceptions import InvalidRequestError

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "ENDPOINT_API_TIMEOUT",
    "ENDPOINT_MAX_BODY_BYTES",
    "INITIAL_POLL_DELAY",
    "MAX_POLL_DELAY",
    "Action",
    "check_wait_timeout",
    "endpoint_id_for_model",
    "is_not_ready",
    "next_action",
    "poll_delay",
]

DEFAULT_WAIT_TIMEOUT: Final = 600.0
"""``wait_until_ready``'s default deadline in seconds (waking can take minutes)."""
ENDPOINT_API_TIMEOUT: Final = 30.0
"""Timeout of one status, wake or sleep request (shortened to the deadline's remainder)."""
ENDPOINT_MAX_BODY_BYTES: Final = 1024 * 1024
"""Largest endpoint API response read (a status is a few hundred bytes)."""
INITIAL_POLL_DELAY = 1.0
MAX_POLL_DELAY = 15.0
POLL_BACKOFF: Final = 1.5

READY_STATUSES: Final = frozenset({"RUNNING", "READY"})
STOPPED_STATUSES: Final = frozenset({"STOPPING", "TERMINATING", "TERMINATED"})

_ENDPOINT_ID = re.compile(r"(?!\.{1,2}$)[^\s/\\:?#%]+")
"""No separator, no dot segment: the id becomes one path segment of the endpoint API."""
_NOT_READY_WORDS = (
    r"\b(asleep|sleeping|awaking|waking|wake[ -]?up|not (yet )?ready|not running|"
    r"initiali[sz]ing|cold start|scaling (up|from zero))\b"
)
"""Compiled on first use (``re`` caches it): only a refusal's text is ever searched."""


_NOT_READY_WITH_WORDS: Final = frozenset({429, 502})
"""Statuses that say nothing was generated, and "not ready" when their text says so."""


class Action(enum.Enum):
    """What to do after reading a status."""

    READY = "ready"
    WAIT = "wait"
    WAKE = "wake"
    FAILED = "failed"
    STOPPED = "stopped"


def endpoint_id_for_model(model: object, *, param: str = "model") -> str:
    """The endpoint id of ``model``: ``ENDPOINT_ID:ADAPTER_ROUTE`` gives ``ENDPOINT_ID``.

    Raises:
        InvalidRequestError: ``model`` is not a string naming an endpoint.
    """
    if not isinstance(model, str):
        raise InvalidRequestError(f"{param} must be a string, got {model!r}", param=param)
    endpoint_id = model.split(":", 1)[0].strip()
    if not _ENDPOINT_ID.fullmatch(endpoint_id):
        raise InvalidRequestError(
            f"{param} must name an endpoint (ENDPOINT_ID or ENDPOINT_ID:ADAPTER_ROUTE), "
            f"got {model!r}",
            param=param,
        )
    return endpoint_id


def next_action(status: str, *, wake: bool, woken: bool) -> Action:
    """What a waiting caller does on reading ``status``.

    ``wake`` says the caller may wake the endpoint, ``woken`` that it already did (one
    wake request per wait, however long the status keeps saying SLEEPING).
    """
    normalized = status.strip().upper()
    if normalized in READY_STATUSES:
        return Action.READY
    if normalized == "FAILED":
        return Action.FAILED
    if normalized in STOPPED_STATUSES:
        return Action.STOPPED
    if normalized == "SLEEPING" and wake and not woken:
        return Action.WAKE
    return Action.WAIT


def poll_delay(polls_taken: int, remaining: float, *, random: Callable[[], float]) -> float:
    """Seconds before status poll number ``polls_taken + 1``.

    Grows from ``INITIAL_POLL_DELAY`` by 1.5x per poll up to ``MAX_POLL_DELAY``, minus up
    to 25% jitter (``random()`` is in [0, 1)), and never beyond the ``remaining`` seconds
    of the deadline (0 once it has passed).
    """
    backoff = min(INITIAL_POLL_DELAY * POLL_BACKOFF ** max(polls_taken, 0), MAX_POLL_DELAY)
    return max(0.0, min(backoff * (1.0 - 0.25 * random()), remaining))


def is_not_ready(status_code: int, message: str | None) -> bool:
    """Whether an error answer says the endpoint is not ready, so nothing was generated.

    A 503 always does; a 429 or 502 does when its message says so (asleep, waking, not
    ready, initializing, ...). A 500 or 504 never does, whatever its text: the request
    may have generated (and been billed) before it failed, so sending it again is the
    caller's choice (``retry_ambiguous``), never the waiter's.
    """
    if status_code == 503:
        return True
    if status_code in _NOT_READY_WITH_WORDS:
        return bool(message and re.search(_NOT_READY_WORDS, message, re.IGNORECASE))
    return False


def check_wait_timeout(value: object, param: str) -> float:
    """A wait deadline in seconds: a positive, finite number.

    Raises:
        InvalidRequestError: anything else (``None`` included: a wait always ends).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value < float("inf")
    ):
        raise InvalidRequestError(
            f"{param} must be a positive number of seconds, got {value!r}", param=param
        )
    return float(value)
