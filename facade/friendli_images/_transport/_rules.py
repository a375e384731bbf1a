"""Input rules as pure functions: each returns what is wrong with a value, or ``None``.

The client turns a problem into ``InvalidRequestError`` (before sending) or
``APIResponseValidationError`` (a result URL in a 200). The messages never quote the
value itself: it may be a secret.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "MAX_RESULT_URL_LENGTH",
    "base_url_problem",
    "display_url",
    "header_value_problem",
    "number_problem",
    "result_url_problem",
    "text_problem",
]

_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
"""Whitespace and control characters: never part of a URL to request."""

MAX_RESULT_URL_LENGTH = 8192
"""Longest ``url`` result accepted (signed URLs are long, but not this long)."""


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value, without quoting it."""
    if not value:
        return "is empty"
    for position, char in enumerate(value):
        code = ord(char)
        if code > 0x7F:
            return f"has a non-ASCII character at position {position}"
        if (code < 0x20 and char != "\t") or code == 0x7F:
            return f"has a control character at position {position}"
    if value != value.strip(" \t"):
        return "starts or ends with whitespace"
    return None


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as JSON text (UTF-8), or ``None``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"has a character that is not valid Unicode text at position {exc.start}"
    return None


def number_problem(value: float | int) -> str | None:
    """Why ``value`` is not a finite number that fits a float, or ``None``."""
    try:
        converted = float(value)
    except OverflowError:
        return "is too large"
    if not math.isfinite(converted):
        return "is not finite"
    return None


def _url_parts_problem(url: str) -> str | None:
    if _URL_UNSAFE.search(url):
        return "contains whitespace or control characters"
    if not url.isascii():
        return "contains non-ASCII characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http(s) URL"
    if not parts.hostname:
        return "has no host"
    del port
    return None


def _has_credentials(url: str) -> bool:
    """Whether a URL that parsed has ``user[:password]@`` before its host."""
    parts = urlsplit(url)
    return parts.username is not None or parts.password is not None


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the API's base URL, or ``None``."""
    problem = _url_parts_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    if _has_credentials(url):
        return "contains credentials before the host (the token is the only credential sent)"
    if parts.query or url.rstrip("/").endswith("?"):
        return "has a ?query"
    if parts.fragment or "#" in url:
        return "has a #fragment"
    return None


def control_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be sent as a control image for the API to fetch, or ``None``:
    the checks of a result URL, and no credentials (they would travel in the body)."""
    problem = result_url_problem(url)
    if problem is None and _has_credentials(url):
        return "contains credentials before the host (user:password@); the API would see them"
    return problem


def result_url_problem(url: str) -> str | None:
    """Why a ``url`` the API returned cannot be downloaded, or ``None``."""
    if len(url) > MAX_RESULT_URL_LENGTH:
        return f"is longer than {MAX_RESULT_URL_LENGTH} characters"
    return _url_parts_problem(url)


def display_url(url: str) -> str:
    """``url`` without credentials, query and fragment (signed URLs carry secrets there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return shown.encode("unicode_escape").decode("ascii")
