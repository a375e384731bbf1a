"""Argument checks shared by the clients, as pure functions: each returns the value to use
or raises ``InvalidRequestError`` naming the parameter (before anything is sent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import httpx

from ._exceptions import (
    InvalidRequestError,
)
from ._transport import _rules

if TYPE_CHECKING:
    pass


__all__ = [
    "as_timeout",
    "check_byte_limit",
    "check_flag",
    "check_header_value",
    "is_int",
    "is_number",
    "is_seconds",
]


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_seconds(value: object) -> bool:
    return is_number(value) and _rules.number_problem(cast(float, value)) is None and value > 0  # type: ignore[operator]


def as_timeout(value: float | httpx.Timeout | None, param: str) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        fields = value.as_dict().values()
        if all(field is None or is_seconds(field) for field in fields):
            return value
    elif value is None:
        return httpx.Timeout(None)
    elif is_seconds(value):
        return httpx.Timeout(float(value))
    raise InvalidRequestError(
        f"{param} must be a positive, finite number of seconds or an httpx.Timeout", param=param
    )


def check_flag(value: object, param: str) -> None:
    if not isinstance(value, bool):
        raise InvalidRequestError(
            f"{param} must be True or False, got {type(value).__name__}", param=param
        )


def check_header_value(value: str, param: str) -> str:
    """``value`` without surrounding whitespace, if it can be an HTTP header value."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{param} must be a string", param=param)
    stripped = value.strip()
    problem = _rules.header_value_problem(stripped)
    if problem:
        raise InvalidRequestError(
            f"{param} {problem}, so it cannot be sent in an HTTP header", param=param
        )
    return stripped


def check_byte_limit(value: object, param: str) -> int:
    if not is_int(value) or cast(int, value) < 1:
        raise InvalidRequestError(f"{param} must be an integer number of bytes >= 1", param=param)
    return cast(int, value)
