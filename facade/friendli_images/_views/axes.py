"""Sweep axes: the values one request field takes, and the names of the sweep's cells.

    parse_values("seed", "1..4")        -> range(1, 5)       (inclusive, lazy)
    parse_values("guidance_scale", "3,5,7.5") -> (3.0, 5.0, 7.5)

Rules are pure functions (table-tested). A range is kept as a ``range``: ``1..10**9``
costs nothing until a sweep of that size is confirmed, and the product of the axes is
walked by index (``cell``), never materialised.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from .._exceptions import InvalidRequestError

__all__ = ["Axis", "cell", "cell_count", "cell_key", "parse_values", "value_token"]

INT_FIELDS: Final = frozenset({"seed", "num_inference_steps"})
FLOAT_FIELDS: Final = frozenset({"guidance_scale"})
SHORT_NAMES: Final = {
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "response_format": "format",
}
"""How a field is spelled in cell names and labels (the command-line option's name)."""

_RANGE: Final = re.compile(r"\s*(-?[0-9]+)\s*\.\.\s*(-?[0-9]+)\s*")
_FIELD: Final = re.compile(r"[a-z_][a-z0-9_]{0,63}")
KEY_LIMIT: Final = 100
"""The longest job id (``_jobs``): longer cell names fall back to value indexes."""


def short_name(field: str) -> str:
    """The field as labels and cell names spell it (``guidance_scale`` -> ``guidance``)."""
    return SHORT_NAMES.get(field, field)


def _number(field: str, text: str) -> int | float:
    text = text.strip()
    if field in INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise InvalidRequestError(
                f"{short_name(field)}: {text!r} is not an integer", param=field
            ) from None
    try:
        value = float(text)
    except ValueError:
        raise InvalidRequestError(
            f"{short_name(field)}: {text!r} is not a number", param=field
        ) from None
    if not math.isfinite(value):
        raise InvalidRequestError(f"{short_name(field)}: {text!r} is not finite", param=field)
    return value


def parse_values(field: str, text: str) -> Sequence[Any]:
    """The values ``text`` gives ``field``: ``A..B`` (integers, both ends included) or a
    comma list (``10,20,30``); integers for seed and steps, floats for guidance, text as
    it is for any other field.

    :raises InvalidRequestError: Empty, repeated, malformed or reversed values.
    """
    if not isinstance(text, str):
        raise InvalidRequestError("axis values must be text such as '1..4' or '3,5'", param=field)
    numeric = field in INT_FIELDS or field in FLOAT_FIELDS
    match = _RANGE.fullmatch(text) if numeric else None
    if match is not None:
        start, stop = int(match[1]), int(match[2])
        if stop < start:
            raise InvalidRequestError(
                f"{short_name(field)}: range {text.strip()!r} ends before it starts", param=field
            )
        values: Sequence[Any] = range(start, stop + 1)
        return values if field in INT_FIELDS else tuple(float(v) for v in values)
    parts = text.split(",")
    if any(not part.strip() for part in parts):
        raise InvalidRequestError(
            f"{short_name(field)}: {text!r} has an empty value (write 1..4 or 10,20,30)",
            param=field,
        )
    items = tuple(_number(field, part) if numeric else part.strip() for part in parts)
    return check_values(field, items)


def check_values(field: str, values: Sequence[Any]) -> Sequence[Any]:
    """``values`` if it is a usable axis: at least one value, none repeated."""
    if not _FIELD.fullmatch(field):
        raise InvalidRequestError(f"{field!r} is not a request field", param="axes")
    if len(values) == 0:
        raise InvalidRequestError(f"{short_name(field)}: an axis needs a value", param=field)
    if isinstance(values, range):
        return values
    seen: set[str] = set()
    for value in values:
        marker = repr(value)
        if marker in seen:
            raise InvalidRequestError(
                f"{short_name(field)}: the value {value!r} is given twice", param=field
            )
        seen.add(marker)
    return values


def _as_values(values: Any) -> Sequence[Any]:
    """An axis's values as a tuple (a ``range`` stays as it is: lazy)."""
    if isinstance(values, range):
        return values
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidRequestError(
            "an axis's values must be a list (or text such as '1..4' given to build_sweep)",
            param="axes",
        )
    return tuple(values)


class Axis:
    """One request field and the values a sweep gives it, in order (immutable).

    :param field: A ``generate()`` argument: ``"seed"``, ``"guidance_scale"``, ``"prompt"``...
    :param values: Its values, at least one, none repeated (a ``range`` stays lazy).
    :raises InvalidRequestError: No value, a repeated one, or a ``field`` that is no name.
    """

    __slots__ = ("field", "values")

    field: str
    """The request field."""
    values: Sequence[Any]
    """Its values: a tuple, or a ``range``."""

    def __init__(self, field: str, values: Iterable[Any]) -> None:
        if not isinstance(field, str):
            raise InvalidRequestError("an axis's field must be a str", param="axes")
        checked = check_values(field, _as_values(values))
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "values", checked)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Axis is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Axis):
            return NotImplemented
        if self.field != other.field or len(self.values) != len(other.values):
            return False  # (and two long ranges are never walked)
        if isinstance(self.values, range) and isinstance(other.values, range):
            return self.values == other.values
        return tuple(self.values) == tuple(other.values)

    def __hash__(self) -> int:
        return hash((self.field, len(self.values)))

    def __repr__(self) -> str:
        return f"Axis({self.field!r}, {self.values!r})"

    @property
    def name(self) -> str:
        """The field as labels spell it (``guidance`` for ``guidance_scale``)."""
        return short_name(self.field)

    def label(self, index: int) -> str:
        """``"seed=3"``: the label of value ``index`` (text values shortened).

        :param index: The value's position in ``values``.
        :returns: ``name=value``.
        """
        return f"{self.name}={value_label(self.values[index])}"


def value_label(value: Any) -> str:
    """A value as a grid label shows it: numbers as written, text cut to 40 characters."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = format(value, "g")
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def cell_count(axes: Sequence[Axis]) -> int:
    """How many cells (requests) the product of ``axes`` has (1 for no axis)."""
    return math.prod(len(axis.values) for axis in axes)


def cell(axes: Sequence[Axis], index: int) -> tuple[int, ...]:
    """The value indexes of cell ``index``: the first axis varies fastest."""
    indexes = []
    for axis in axes:
        index, position = divmod(index, len(axis.values))
        indexes.append(position)
    return tuple(indexes)


def cells(axes: Sequence[Axis]) -> Iterator[tuple[int, ...]]:
    """Every cell of the product, in order, one at a time."""
    for index in range(cell_count(axes)):
        yield cell(axes, index)


def value_token(value: Any, index: int) -> str:
    """A value as a job id may spell it: ``7.5`` -> ``7p5``, ``-2`` -> ``m2``; text values
    (prompts, models) by their index."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(index)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # 3.0 is spelled as written: 3
    text = repr(value)
    return text.replace("-", "m").replace("+", "").replace(".", "p")


def cell_key(axes: Sequence[Axis], indexes: Sequence[int]) -> str:
    """The job id of a cell: ``seed1-guidance7p5``; ``sweep`` alone for no axis; value
    indexes (``c0-2``) when the names would be longer than a job id may be."""
    if not axes:
        return "sweep"
    key = "-".join(
        f"{axis.name.replace('_', '')}{value_token(axis.values[i], i)}"
        for axis, i in zip(axes, indexes, strict=True)
    )
    if len(key) <= KEY_LIMIT:
        return key
    return ("c" + "-".join(str(i) for i in indexes))[:KEY_LIMIT]
