"""The classifier's rules: how one spec difference affects this client.

Every rule is a small pure function of the values that changed and the direction
(``request``: what the client sends, so accepting more is safe; ``response``: what it
parses, so returning more is not). The traversal (``change_walk.py``) finds the
differences and asks these functions for the class and the message.
"""

from __future__ import annotations

import enum
import json
from typing import Any

__all__ = [
    "BREAKS",
    "DOC",
    "REQUEST",
    "RESPONSE",
    "SAFE",
    "ChangeClass",
    "Direction",
]


class ChangeClass(enum.IntEnum):
    """How a change affects this client; the larger, the worse."""

    DOCUMENTATION = 1
    NON_BREAKING = 2
    BREAKING = 3

    @property
    def label(self) -> str:
        return {1: "documentation", 2: "non-breaking", 3: "breaking"}[self.value]


class Direction(enum.Enum):
    REQUEST = "request"
    RESPONSE = "response"


DOC = ChangeClass.DOCUMENTATION
SAFE = ChangeClass.NON_BREAKING
BREAKS = ChangeClass.BREAKING
REQUEST = Direction.REQUEST
RESPONSE = Direction.RESPONSE

MISSING: Any = object()
DOC_KEYS = frozenset(
    {"title", "description", "summary", "example", "examples", "externalDocs", "$comment"}
)
LOWER_BOUNDS = frozenset({"minimum", "minLength", "minItems", "minProperties", "minContains"})
UPPER_BOUNDS = frozenset({"maximum", "maxLength", "maxItems", "maxProperties", "maxContains"})
# String formats openapi-python-client turns into other Python types than ``str``.
FORMAT_TYPES = {"date": "date", "date-time": "datetime", "uuid": "UUID", "binary": "File"}
SERIALISATION_KEYS = frozenset({"style", "explode", "allowReserved", "allowEmptyValue"})
SUCCESS_CODES = ("2", "default")
REJECTED = "not tolerated: the generated enum rejects unknown values"
TOLERATED = "tolerated: response enums are open in this client (spec fix open_response_enums)"


def is_doc_key(key: str) -> bool:
    return key in DOC_KEYS or key.startswith("x-")


def short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def describe(value: Any) -> str:
    return "(none)" if value is MISSING or value is None else short(value)


def tightened(key: str, old: Any, new: Any) -> bool:
    """Whether changing ``key`` from ``old`` to ``new`` accepts fewer values."""
    if key in ("exclusiveMinimum", "exclusiveMaximum") and (
        isinstance(old, bool) or isinstance(new, bool)
    ):
        return new is True  # OpenAPI 3.0 style flags
    if key == "uniqueItems":
        return new is True
    if key == "additionalProperties":
        return new is False
    if new is MISSING:
        return False
    if old is MISSING:
        return True
    if key in LOWER_BOUNDS or key == "exclusiveMinimum":
        return number(new) > number(old)
    if key in UPPER_BOUNDS or key == "exclusiveMaximum":
        return number(new) < number(old)
    if key == "multipleOf":
        return not (number(old) % number(new) == 0 if number(new) else False)
    return True  # a changed pattern may reject what the old one accepted


def number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
