"""Response bodies that conform to the response schemas the server ships.

The server knows the fields it means (``seed``, ``url``, ...); :func:`complete` adds every
other property a response schema requires, from the schema's own ``const``, ``examples``,
``example``, ``default`` or ``enum``, else a value of its type. So when a regenerated spec
requires a new response property, the server's answers still validate against it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from ._spec import Spec

__all__ = ["complete", "placeholder"]

_EMPTY_OF_TYPE: Final[dict[str, Any]] = {
    "string": "",
    "integer": 0,
    "number": 0.0,
    "boolean": False,
    "array": [],
    "null": None,
}
_MAX_DEPTH: Final = 32


def placeholder(spec: Spec, schema: Mapping[str, Any], depth: int = 0) -> Any:
    """A value valid for ``schema`` as far as it can tell: its stated values first."""
    schema = spec.resolve(schema)
    if "const" in schema:
        return schema["const"]
    candidates: list[Any] = list(schema.get("examples", ()))
    for keyword in ("example", "default"):
        if keyword in schema:
            candidates.append(schema[keyword])
    candidates.extend(schema.get("enum", ())[:1])
    validator = spec.validator(schema)
    for candidate in candidates:
        if validator.is_valid(candidate):
            return copy.deepcopy(candidate)
    for keyword in ("anyOf", "oneOf"):
        branches = [spec.resolve(branch) for branch in schema.get(keyword, ())]
        useful = [branch for branch in branches if branch.get("type") != "null"] or branches
        if useful:
            return placeholder(spec, useful[0], depth + 1)
    declared = schema.get("type", "object")
    kind = declared if isinstance(declared, str) else next(iter(declared), "null")
    if kind == "object" or "properties" in schema:
        return _complete(spec, {}, schema, depth + 1)[0]
    return copy.deepcopy(_EMPTY_OF_TYPE.get(kind))


def complete(spec: Spec, value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with the properties ``schema`` requires added where they are missing.

    Walks ``allOf``, ``anyOf``/``oneOf`` (of the branches the completed value satisfies,
    the one needing the fewest additions: a base64 item stays a base64 item), object
    properties and array items. Never removes or changes what ``value`` holds.
    """
    completed, _ = _complete(spec, value, schema, 0)
    return completed


def _complete(spec: Spec, value: Any, schema: Mapping[str, Any], depth: int) -> tuple[Any, int]:
    """The completed value and how many properties were added."""
    if depth > _MAX_DEPTH:
        return value, 0
    schema = spec.resolve(schema)
    added = 0
    for sub in schema.get("allOf", ()):
        value, more = _complete(spec, value, sub, depth + 1)
        added += more
    for keyword in ("anyOf", "oneOf"):
        best: tuple[Any, int] | None = None
        for branch in schema.get(keyword, ()):
            candidate, more = _complete(spec, copy.deepcopy(value), branch, depth + 1)
            if (best is None or more < best[1]) and spec.validator(branch).is_valid(candidate):
                best = (candidate, more)
        if best is not None:
            value, more = best
            added += more
    if isinstance(value, dict):
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                value[name] = placeholder(spec, properties.get(name, {}), depth + 1)
                added += 1
        for name, sub in properties.items():
            if name in value:
                value[name], more = _complete(spec, value[name], sub, depth + 1)
                added += more
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        items = [_complete(spec, item, schema["items"], depth + 1) for item in value]
        value = [item for item, _ in items]
        added += sum(more for _, more in items)
    return value, added
