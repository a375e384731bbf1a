"""The promise: no secret of the client leaves the library.

Every text the library lets out (exception messages and attributes, ``repr``, log records,
CLI output, files it writes) and every text a server sends in (error bodies, reason
phrases, endpoint status fields, image URLs) passes through :func:`redact` with the
client's :class:`Secrets`. This module is the only place that knows what a secret looks
like in text: as is, escaped by ``repr``/``ascii``/JSON, as bytes, or percent-encoded.

A logging filter (:func:`install_log_filter`) applies the same rule to every record of
the ``friendli_images`` logger, for the secrets of every client alive in the process.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "REDACTED",
    "Secrets",
    "install_log_filter",
    "package_logger",
    "redact",
    "redact_value",
    "secret_forms",
]

REDACTED = "[secure]"
"""What a secret is replaced with, wherever it appears."""


def secret_forms(secret: str) -> tuple[str, ...]:
    """``secret`` as it may appear in text, longest first (so a form inside another goes too).

    As is, escaped by ``repr`` and ``ascii``, as ``bytes`` repr, JSON-escaped, and
    percent-encoded (``quote`` and ``quote_plus``, as a URL or form body carries it).
    """
    if not secret:
        return ()
    forms = {
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        repr(secret.encode("utf-8", "backslashreplace"))[2:-1],
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


class Secrets:
    """The forms of a client's secrets (token, proxy credentials), ready to redact with.

    Immutable and cheap to share; ``Secrets()`` holds none and redacts nothing. Every
    instance with a secret registers with the package log filter for as long as it lives.
    """

    __slots__ = ("__weakref__", "_forms")

    def __init__(self, *secrets: str | None) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms.update(secret_forms(secret))
        self._forms = tuple(sorted(forms, key=len, reverse=True))
        if self._forms:
            _LIVE.add(self)

    @property
    def forms(self) -> tuple[str, ...]:
        return self._forms

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __add__(self, other: Secrets) -> Secrets:
        merged = Secrets()
        merged._forms = tuple(sorted(set(self._forms) | set(other._forms), key=len, reverse=True))
        if merged._forms:
            _LIVE.add(merged)
        return merged

    def __repr__(self) -> str:
        return f"Secrets({len(self._forms)} forms)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secrets, ())  # a pickle never carries a secret

    def text(self, value: str) -> str:
        return redact(value, self._forms)

    def value(self, value: Any) -> Any:
        return redact_value(value, self._forms)


def redact(text: str, forms: Iterable[str] | Secrets) -> str:
    """``text`` with every form in ``forms`` replaced by :data:`REDACTED`."""
    if isinstance(forms, Secrets):
        forms = forms.forms
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_value(value: Any, forms: Iterable[str] | Secrets) -> Any:
    """``value`` redacted through strings, bytes, dicts, lists and tuples (JSON-like data)."""
    if isinstance(forms, Secrets):
        forms = forms.forms
    forms = tuple(forms)
    if not forms:
        return value
    return _redact_value(value, forms)


def _redact_value(value: Any, forms: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, forms)
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "surrogateescape")
        cleaned = redact(text, forms)
        return value if cleaned == text else cleaned.encode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        return {_redact_value(k, forms): _redact_value(v, forms) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, forms) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item, forms) for item in value)
    return value


_LIVE: weakref.WeakSet[Secrets] = weakref.WeakSet()

MIN_LOGGED_SECRET = 8
"""Shorter forms are left in log records: the filter sees every record of the package,
and a two-letter test token would blot out every word that holds it (real tokens are
dozens of characters). Errors and files redact every form, whatever its length."""
_INSTALL_LOCK = threading.Lock()


class _RedactingFilter(logging.Filter):
    """Redacts every live client's secrets from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        forms = sorted(
            {
                form
                for secrets in list(_LIVE)
                for form in secrets.forms
                if len(form) >= MIN_LOGGED_SECRET
            },
            key=len,
            reverse=True,
        )
        if not forms:
            return True
        message = record.getMessage()
        cleaned = redact(message, forms)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, forms)
        return True


_FILTER = _RedactingFilter()


def install_log_filter(logger: logging.Logger) -> None:
    """Put the redacting filter on ``logger`` (once): its records lose every live secret."""
    with _INSTALL_LOCK:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def package_logger(name: str = "friendli_images") -> logging.Logger:
    """The library's logger ``name`` (``friendli_images`` or a child), with the filter on.

    A filter on a logger applies only to records logged on that logger itself, so every
    logger the library logs on comes from here.
    """
    logger = logging.getLogger(name)
    install_log_filter(logger)
    return logger
