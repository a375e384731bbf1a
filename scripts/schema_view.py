"""Schemas normalised for comparison: ``$ref``s followed, nullable forms and wrappers unified.

``anyOf``/``oneOf`` with a ``null`` member, ``type: [X, "null"]`` and ``nullable: true`` all
read as "nullable X"; single-member ``allOf``/``anyOf`` wrappers are looked through and
multi-member ``allOf`` is merged. Every keyword remembers the pointer of the schema object
that holds it, so a change is reported where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from change_rules import DOC_KEYS, short
from openapi_common import Spec, escape, resolve_pointer

__all__ = ["STRUCTURE", "WRAPPER_KEYS", "SchemaView", "build_view", "json_type"]

# Keys that annotate a schema rather than constrain its values.
WRAPPER_KEYS = DOC_KEYS | {"default", "deprecated", "readOnly", "writeOnly", "discriminator"}
STRUCTURE = frozenset(
    {
        "$ref",
        "type",
        "nullable",
        "enum",
        "const",
        "anyOf",
        "oneOf",
        "allOf",
        "properties",
        "required",
        "items",
        "additionalProperties",
    }
)


@dataclass
class SchemaView:
    """A schema with ``$ref``s followed and nullable/single-member wrappers looked through.

    Every keyword remembers the pointer of the schema object that holds it, so a change
    is reported where it is written (and ``enum`` pointers match the spec fixes').
    """

    ptr: str
    node: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None
    nullable: bool = False
    keys: dict[str, tuple[Any, str]] = field(default_factory=dict)
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)
    required: dict[str, str] = field(default_factory=dict)
    variants: list[tuple[Any, str]] | None = None
    items: tuple[Any, str] | None = None
    additional: tuple[Any, str] | None = None

    def signature(self) -> str:
        wrapped = {key: value for key, (value, holder) in self.keys.items() if holder != self.ptr}
        return short([wrapped, self.nullable])

    def type(self) -> str | None:
        declared = self.keys.get("type", (None, ""))[0]
        if declared is not None:
            return str(declared)
        if self.variants is not None:
            return "union"
        if self.properties or self.required:
            return "object"
        if self.items is not None:
            return "array"
        values = self.enum()
        if values:
            kinds = {json_type(value) for value in values}
            return kinds.pop() if len(kinds) == 1 else None
        return None

    def enum(self) -> list[Any] | None:
        if "enum" in self.keys and isinstance(self.keys["enum"][0], list):
            return [value for value in self.keys["enum"][0] if value is not None]
        if "const" in self.keys:
            return [self.keys["const"][0]]
        return None

    def enum_holder(self) -> str:
        for key in ("enum", "const"):
            if key in self.keys:
                return self.keys[key][1]
        return self.ptr


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def is_null_schema(node: Any) -> bool:
    return isinstance(node, dict) and (
        node.get("type") == "null" or ("enum" in node and node["enum"] == [None])
    )


def build_view(document: Spec, node: Any, ptr: str) -> SchemaView:
    view = SchemaView(ptr=ptr)
    _fill(view, document, node, ptr, set())
    return view


def _wrap(view: SchemaView, node: dict[str, Any], ptr: str, skip: str) -> None:
    for key, value in node.items():
        if key != skip:
            view.keys.setdefault(key, (value, ptr))


def _fill(view: SchemaView, document: Spec, node: Any, ptr: str, seen: set[str]) -> None:
    while True:
        if not isinstance(node, dict):
            node = {}
        view.ptr, view.node = ptr, node
        ref = node.get("$ref")
        if isinstance(ref, str):
            _wrap(view, node, ptr, "$ref")
            if ref in seen:
                node = {}
                continue
            seen.add(ref)
            try:
                node, ptr, view.ref = resolve_pointer(document, ref), ref[1:], ref
            except KeyError:
                node = {}
            continue
        if node.get("nullable") is True:
            view.nullable = True
        unwrapped = False
        for combinator in ("anyOf", "oneOf"):
            members = node.get(combinator)
            if not isinstance(members, list):
                continue
            others = [
                (member, f"{ptr}/{combinator}/{index}")
                for index, member in enumerate(members)
                if not is_null_schema(member)
            ]
            if len(others) < len(members):
                view.nullable = True
            if len(others) == 1 and not (set(node) & (STRUCTURE - {combinator, "nullable"})):
                _wrap(view, node, ptr, combinator)
                node, ptr = others[0]
                unwrapped = True
                break
            if others:
                view.variants = others
        if unwrapped:
            continue
        members = node.get("allOf")
        if (
            isinstance(members, list)
            and len(members) == 1
            and not (set(node) & STRUCTURE - {"allOf"})
        ):
            _wrap(view, node, ptr, "allOf")
            node, ptr = members[0], f"{ptr}/allOf/0"
            continue
        break

    declared = node.get("type")
    if isinstance(declared, list):
        kinds = [kind for kind in declared if kind != "null"]
        view.nullable = view.nullable or len(kinds) < len(declared)
        declared = kinds[0] if len(kinds) == 1 else sorted(map(str, kinds))
    for key, value in node.items():
        if key in ("$ref", "anyOf", "oneOf", "allOf", "properties", "required", "items"):
            continue
        if key == "nullable":
            continue
        if key == "type":
            view.keys.setdefault("type", (declared, ptr))
        elif key == "additionalProperties" and isinstance(value, dict):
            view.additional = (value, f"{ptr}/additionalProperties")
        else:
            view.keys.setdefault(key, (value, ptr))
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, schema in properties.items():
            view.properties.setdefault(str(name), (schema, f"{ptr}/properties/{escape(str(name))}"))
    for name in node.get("required") or []:
        view.required.setdefault(str(name), f"{ptr}/required")
    if "items" in node:
        view.items = (node["items"], f"{ptr}/items")
    members = node.get("allOf")
    if isinstance(members, list):
        for index, member in enumerate(members):
            part = SchemaView(ptr=f"{ptr}/allOf/{index}")
            _fill(part, document, member, f"{ptr}/allOf/{index}", set(seen))
            view.nullable = view.nullable or part.nullable
            for key, entry in part.keys.items():
                view.keys.setdefault(key, entry)
            for name, prop in part.properties.items():
                view.properties.setdefault(name, prop)
            for name, holder in part.required.items():
                view.required.setdefault(name, holder)
            view.items = view.items or part.items
            view.additional = view.additional or part.additional
            if view.variants is None:
                view.variants = part.variants
