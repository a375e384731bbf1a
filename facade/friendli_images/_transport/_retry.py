"""Retry decisions, as pure functions.

Image generation costs GPU time and money and the POST is not idempotent, so a retry
must never generate twice behind the caller's back. Failures are split in two:

* **safe**: the generation certainly did not happen. The connection could not be made
  (connect error or timeout, no free connection in the pool) or the API answered 408,
  429, 502 or 503 (a Dedicated Endpoint that is asleep or scaling answers 503). These
  are retried by default.
* **ambiguous**: the request was sent and the image may have been generated: a read
  timeout, a connection dropped mid-response, 500 or 504. These are retried only when
  the caller opts in with ``retry_ambiguous=True``.

Nothing else (other 4xx, a 200 that does not parse) is ever retried.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re
import time
from collections.abc import Callable

import httpx

from .. import _config, _waits

__all__ = [
    "AMBIGUOUS_STATUSES",
    "SAFE_STATUSES",
    "is_retryable",
    "parse_retry_after",
    "retry_delay",
    "was_sent",
]

_ASCTIME = re.compile(r"^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
"""``Sun Nov  6 08:49:37 1994``: the obsolete date form RFC 9110 still asks to accept."""

SAFE_STATUSES = frozenset({408, 429, 502, 503})
AMBIGUOUS_STATUSES = frozenset({500, 504})

# Raised before a single byte of the request left this machine.
_UNSENT_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
    # h11 refuses to write an illegal request (a header value with CR/LF/NUL, a body
    # longer than its Content-Length) before the bytes that would make it complete go out.
    httpx.LocalProtocolError,
)


def was_sent(error: httpx.HTTPError) -> bool:
    """Whether the request may have reached the server before ``error`` happened."""
    return not isinstance(error, _UNSENT_ERRORS)


def is_retryable(*, status_code: int | None, sent: bool, retry_ambiguous: bool) -> bool:
    """Decide whether a failed attempt may be repeated.

    ``status_code`` is the response status, or ``None`` when no response arrived (then
    ``sent`` says whether the request may have reached the server).
    """
    if status_code is None:
        return not sent or retry_ambiguous
    if status_code in SAFE_STATUSES:
        return True
    return status_code in AMBIGUOUS_STATUSES and retry_ambiguous


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP-date).

    HTTP-dates are read in all three forms RFC 9110 allows (IMF-fixdate, RFC 850, asctime).

    Returns ``None`` for a missing or unreadable header; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            if not _ASCTIME.match(value):
                return None
            when = when.replace(tzinfo=datetime.UTC)  # asctime has no zone; RFC 9110: GMT
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


def retry_delay(
    retries_taken: int, retry_after: float | None, *, random: Callable[[], float]
) -> float:
    """Seconds to sleep before retry number ``retries_taken + 1``.

    A server's ``Retry-After`` wins, bounded by ``_waits`` (at most ``MAX_RETRY_AFTER``,
    60 s; never negative or non-finite); otherwise exponential
    backoff from ``INITIAL_RETRY_DELAY``, capped at ``MAX_RETRY_DELAY``, minus up to 25%
    jitter (``random()`` returns a float in [0, 1)).
    """
    if retry_after is not None:
        return _waits.bounded(retry_after)
    backoff = min(_config.INITIAL_RETRY_DELAY * 2.0**retries_taken, _config.MAX_RETRY_DELAY)
    return backoff * (1.0 - 0.25 * random())
