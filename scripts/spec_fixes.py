"""Named fixes applied to a copy of the OpenAPI spec before code generation.

``openapi.yaml`` stays exactly as upstream publishes it. Where openapi-python-client
(0.29.1) reads that document in a way that breaks the client, one function below
rewrites a *copy* of it. Every fix reports what it changed, as JSON pointers, or
that it is no longer needed: when upstream corrects the defect the fix says so
instead of silently doing nothing, and ``regenerate.py`` prints it.

The fixes, in the order they run:

``inline_titled_ref_aliases``
    A component schema that is only a ``$ref`` plus annotations (``title``) makes
    the generator emit the target model twice and warn "Attempted to generate
    duplicate models". Every reference to the alias is pointed at its target and
    the alias is dropped.
``base64_strings_in_json``
    ``type: string, format: binary`` inside a JSON body is base64 text, but the
    generator types it as ``File`` and ``from_dict`` fails with ``TypeError`` on
    every base64 image. The ``format`` is dropped, so the field is a ``str``.
``omit_request_defaults``
    A ``default`` on a request property makes the generated model send it even
    when the caller set nothing, overriding the endpoint's model-specific
    defaults. Defaults in request schemas are dropped, so unset fields are omitted.
``open_response_enums``
    Generated enums raise ``ValueError`` on a value the spec does not list, so a
    response carrying a new ``response_format`` would fail to parse. String enums
    in response schemas become plain strings; the facade interprets the values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from openapi_common import escape, iter_operations, pointer

__all__ = [
    "FIXES",
    "FixOutcome",
    "SpecFix",
    "apply_fixes",
    "base64_strings_in_json",
    "inline_titled_ref_aliases",
    "omit_request_defaults",
    "open_response_enums",
]

Spec = dict[str, Any]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMA_PREFIX = "#/components/schemas/"
# Keys that only annotate a schema: a $ref with nothing else beside it is an alias.
_ANNOTATION_KEYS = frozenset({"title", "description", "examples", "example", "deprecated"})


@dataclass(frozen=True)
class FixOutcome:
    """What one fix did to one spec."""

    name: str
    changes: tuple[str, ...]
    """JSON pointers of the places the fix rewrote; empty when it was not needed."""

    @property
    def applied(self) -> bool:
        return bool(self.changes)

    def describe(self) -> str:
        if self.applied:
            return f"{self.name}: applied at {', '.join(self.changes)}"
        return f"{self.name}: no longer needed (the spec no longer has this defect); remove it"


@dataclass(frozen=True)
class SpecFix:
    """A named rewrite of the spec; ``apply`` edits in place and returns the pointers."""

    name: str
    apply: Callable[[Spec], list[str]]


def _subschemas(schema: Any, where: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield ``schema`` and every schema nested in it (without following ``$ref``)."""
    if not isinstance(schema, dict):
        return
    yield schema, where
    for key in ("properties", "patternProperties", "$defs"):
        children = schema.get(key)
        if isinstance(children, dict):
            for name, child in children.items():
                yield from _subschemas(child, f"{where}/{key}/{escape(name)}")
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        children = schema.get(key)
        if isinstance(children, list):
            for index, child in enumerate(children):
                yield from _subschemas(child, f"{where}/{key}/{index}")
    for key in ("items", "additionalProperties", "not", "contains"):
        yield from _subschemas(schema.get(key), f"{where}/{key}")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _is_json(media_type: str) -> bool:
    base = media_type.split(";", maxsplit=1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _json_body_schemas(spec: Spec, side: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Inline schemas of JSON request bodies (``side="request"``) or responses."""
    for path, method, operation in iter_operations(spec):
        op_pointer = pointer("paths", path, method)
        if side == "request":
            bodies = [(f"{op_pointer}/requestBody", operation.get("requestBody"))]
        else:
            responses = operation.get("responses") or {}
            bodies = [
                (f"{op_pointer}/responses/{escape(str(status))}", response)
                for status, response in responses.items()
            ]
        for body_pointer, body in bodies:
            if not isinstance(body, dict):
                continue
            for media_type, media in (body.get("content") or {}).items():
                if _is_json(media_type) and isinstance(media, dict):
                    schema = media.get("schema")
                    if isinstance(schema, dict):
                        yield schema, f"{body_pointer}/content/{escape(media_type)}/schema"


def _component_schemas(spec: Spec) -> dict[str, Any]:
    schemas = (spec.get("components") or {}).get("schemas")
    return schemas if isinstance(schemas, dict) else {}


def _reachable_schemas(spec: Spec, side: str) -> list[tuple[dict[str, Any], str]]:
    """Every schema, inline or component, that a JSON body on ``side`` can contain."""
    components = _component_schemas(spec)
    found: list[tuple[dict[str, Any], str]] = []
    pending = list(_json_body_schemas(spec, side))
    seen: set[str] = set()
    while pending:
        root, where = pending.pop(0)
        found.append((root, where))
        for ref in _refs(root):
            if not ref.startswith(_SCHEMA_PREFIX):
                continue
            name = ref[len(_SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~")
            if name in seen or not isinstance(components.get(name), dict):
                continue
            seen.add(name)
            pending.append((components[name], pointer("components", "schemas", name)))
    return found


def _each_reachable_subschema(spec: Spec, side: str) -> Iterator[tuple[dict[str, Any], str]]:
    for root, where in _reachable_schemas(spec, side):
        yield from _subschemas(root, where)


def _is_string_schema(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def inline_titled_ref_aliases(spec: Spec) -> list[str]:
    """Point references to ``$ref``-plus-annotation aliases at their targets; drop the aliases."""
    components = _component_schemas(spec)
    aliases: dict[str, str] = {}
    for name, schema in components.items():
        if (
            isinstance(schema, dict)
            and isinstance(schema.get("$ref"), str)
            and len(schema) > 1
            and set(schema) - {"$ref"} <= _ANNOTATION_KEYS
        ):
            aliases[_SCHEMA_PREFIX + escape(name)] = schema["$ref"]
    if not aliases:
        return []

    def resolve(ref: str) -> str:
        hops = 0
        while ref in aliases and hops <= len(aliases):
            ref, hops = aliases[ref], hops + 1
        return ref

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in aliases:
                node["$ref"] = resolve(ref)
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    changes = []
    for alias in sorted(aliases):
        name = alias[len(_SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~")
        del components[name]
        changes.append(pointer("components", "schemas", name))
    rewrite(spec)
    return changes


def base64_strings_in_json(spec: Spec) -> list[str]:
    """Drop ``format: binary`` from strings carried inside JSON bodies (they hold base64 text)."""
    changes: list[str] = []
    seen: set[int] = set()
    for side in ("request", "response"):
        for schema, where in _each_reachable_subschema(spec, side):
            if id(schema) in seen:
                continue
            seen.add(id(schema))
            if schema.get("format") == "binary" and _is_string_schema(schema):
                del schema["format"]
                changes.append(where + "/format")
    return sorted(changes)


def omit_request_defaults(spec: Spec) -> list[str]:
    """Drop ``default`` from request schemas so fields the caller did not set are omitted."""
    changes = []
    for schema, where in _each_reachable_subschema(spec, "request"):
        if "default" in schema:
            del schema["default"]
            changes.append(where + "/default")
    return sorted(set(changes))


def open_response_enums(spec: Spec) -> list[str]:
    """Turn string enums in response schemas into plain strings so new values still parse."""
    changes = []
    for schema, where in _each_reachable_subschema(spec, "response"):
        if "enum" in schema and _is_string_schema(schema):
            del schema["enum"]
            changes.append(where + "/enum")
    return sorted(set(changes))


FIXES: tuple[SpecFix, ...] = (
    SpecFix("inline_titled_ref_aliases", inline_titled_ref_aliases),
    SpecFix("base64_strings_in_json", base64_strings_in_json),
    SpecFix("omit_request_defaults", omit_request_defaults),
    SpecFix("open_response_enums", open_response_enums),
)


def apply_fixes(spec: Spec) -> tuple[Spec, list[FixOutcome]]:
    """Return a fixed deep copy of ``spec`` and what each fix did; ``spec`` is not modified."""
    fixed = copy.deepcopy(spec)
    outcomes = [FixOutcome(fix.name, tuple(fix.apply(fixed))) for fix in FIXES]
    return fixed, outcomes
