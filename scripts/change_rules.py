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
    "Ruling",
    "annotation_rule",
    "constraint_rule",
    "default_rule",
    "document_field_rule",
    "documentation_rule",
    "enum_dropped_rule",
    "enum_introduced_rule",
    "enum_reordered_rule",
    "enum_values_added_rule",
    "enum_values_removed_rule",
    "format_rule",
    "generated_type",
    "header_added_rule",
    "header_removed_rule",
    "header_required_rule",
    "keyword_rule",
    "media_type_rule",
    "member_label",
    "nullable_rule",
    "openapi_version_rule",
    "operation_added_rule",
    "operation_field_rule",
    "operation_missing_rule",
    "operation_moved_rule",
    "operation_removed_rule",
    "parameter_added_rule",
    "parameter_field_rule",
    "parameter_removed_rule",
    "property_added_rule",
    "property_removed_rule",
    "read_write_only_rule",
    "request_body_added_rule",
    "request_body_removed_rule",
    "required_rule",
    "response_code_rule",
    "schema_renamed_rule",
    "security_added_rule",
    "security_removed_rule",
    "serialisation_rule",
    "server_rule",
    "tags_rule",
    "type_rule",
    "unknown_keyword_rule",
    "variant_added_rule",
    "variant_removed_rule",
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


# --- The rules ---------------------------------------------------------------------------
# Each takes what changed and returns (class, message); the traversal adds where it is.

Ruling = tuple[ChangeClass, str]

CONSTRAINT_KEYS = (
    LOWER_BOUNDS
    | UPPER_BOUNDS
    | {
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "multipleOf",
        "uniqueItems",
        "additionalProperties",
    }
)
"""Assertions the rules understand: ``tightened`` says which way each one moved."""
ANNOTATION_KEYS = frozenset(
    {"deprecated", "discriminator", "xml", "$id", "$schema", "$anchor", "$defs", "$vocabulary"}
)
"""Keywords that describe values without restricting them: a change is never breaking."""
# Integer and number formats, narrowest first: a move to the right accepts more values.
NUMERIC_WIDTHS = {"int32": ("integer", 32), "int64": ("integer", 64)}
NUMERIC_WIDTHS |= {"float": ("number", 32), "double": ("number", 64)}
WIDER_TYPES = {("integer", "number")}
"""(narrower, wider) JSON types: every value of the first is a value of the second."""


def generated_type(value: Any, *, base64: bool) -> str:
    """The Python type openapi-python-client generates for a string ``format`` (``None``:
    none declared); ``base64``: the spec fix base64_strings_in_json keeps this one ``str``."""
    if value == "binary" and base64:
        return "str"
    return FORMAT_TYPES.get(str(value), "str") if value is not None else "str"


def member_label(signature: tuple[str | None, str | None, str | None]) -> str:
    """How a message names a union member: its schema name, else its type
    (``array of X``), else ``any value``; ``signature`` is (schema name, type, item)."""
    ref, kind, item = signature
    if ref:
        return ref
    if kind == "array" and item:
        return f"array of {item}"
    return kind or "any value"


def verb(old: Any, new: Any) -> str:
    """``added``, ``removed`` or ``changed``, for a value that may be ``MISSING``."""
    return "added" if old is MISSING else "removed" if new is MISSING else "changed"


def nullable_rule(now_nullable: bool, direction: Direction) -> Ruling:
    if direction is REQUEST:
        return (SAFE, "now accepts null") if now_nullable else (BREAKS, "no longer accepts null")
    return (BREAKS, "may now be null") if now_nullable else (SAFE, "is no longer null")


def property_added_rule(required: bool, direction: Direction) -> Ruling:
    if direction is RESPONSE:
        return SAFE, "new response property" + (" (always present)" if required else "")
    if required:
        return BREAKS, "new required request property"
    return SAFE, "new optional request property"


def property_removed_rule(direction: Direction) -> Ruling:
    return BREAKS, f"{direction.value} property removed"


def required_rule(now_required: bool, direction: Direction) -> Ruling:
    """A property made required or optional."""
    if direction is REQUEST:
        return (BREAKS, "now required") if now_required else (SAFE, "no longer required")
    if now_required:
        return SAFE, "now always present"
    return BREAKS, "no longer required: may be absent"


def parameter_added_rule(required: bool) -> Ruling:
    return (BREAKS, "new required parameter") if required else (SAFE, "new optional parameter")


def parameter_removed_rule() -> Ruling:
    return BREAKS, "parameter removed"


def request_body_added_rule(required: bool) -> Ruling:
    if required:
        return BREAKS, "request body added (required)"
    return SAFE, "request body added (optional)"


def _values(values: list[Any]) -> str:
    return ", ".join(map(short, values))


def enum_values_removed_rule(removed: list[Any], direction: Direction) -> Ruling:
    if direction is REQUEST:
        return BREAKS, f"enum value(s) removed: {_values(removed)}"
    return SAFE, f"no longer returns enum value(s) {_values(removed)}"


def enum_values_added_rule(added: list[Any], direction: Direction, *, tolerated: bool) -> Ruling:
    """``tolerated``: the ``open_response_enums`` spec fix makes this response enum a string."""
    if direction is REQUEST:
        return SAFE, f"new accepted enum value(s): {_values(added)}"
    if tolerated:
        return SAFE, f"new response enum value(s) {_values(added)}; {TOLERATED}"
    return BREAKS, f"new response enum value(s) {_values(added)}; {REJECTED}"


def enum_introduced_rule(values: list[Any], direction: Direction) -> Ruling:
    if direction is REQUEST:
        return BREAKS, f"now restricted to enum values {_values(values)}"
    return SAFE, f"now limited to enum values {_values(values)}"


def enum_dropped_rule(direction: Direction, *, tolerated: bool) -> Ruling:
    if direction is REQUEST:
        return SAFE, "no longer restricted to enum values"
    if tolerated:
        return SAFE, f"enum dropped from a response field; {TOLERATED}"
    return BREAKS, "enum dropped from a response field: any value may now be returned"


def type_rule(old: str | None, new: str | None, direction: Direction) -> Ruling:
    """A declared JSON type added, dropped or changed (``None``: no type declared)."""
    request = direction is REQUEST
    if old is None:
        return (BREAKS if request else SAFE), f"now restricted to type {new}"
    if new is None:
        return (SAFE if request else BREAKS), f"type {old} no longer declared (any type)"
    if request and (old, new) in WIDER_TYPES:
        return SAFE, f"type widened from {old} to {new}: every value the client sends still fits"
    if not request and (new, old) in WIDER_TYPES:
        return SAFE, f"type narrowed from {old} to {new}: every value returned still fits"
    return BREAKS, f"type changed from {old} to {new}"


def default_rule(direction: Direction) -> Ruling:
    if direction is REQUEST:
        return (
            SAFE,
            "default changed; this client omits unset fields, so the server's new default applies",
        )
    return SAFE, "default changed"


def read_write_only_rule(key: str, old: Any, new: Any, direction: Direction) -> Ruling:
    """``readOnly`` matters for what the client sends, ``writeOnly`` for what it receives."""
    became = new is True and old is not True
    change = f"{key} {verb(old, new)}"
    if became and key == "readOnly" and direction is REQUEST:
        return BREAKS, f"{change}: the server may now ignore what the client sends here"
    if became and key == "writeOnly" and direction is RESPONSE:
        return BREAKS, f"{change}: the server may now omit a field the client reads"
    return SAFE, change


def constraint_rule(key: str, old: Any, new: Any, direction: Direction) -> Ruling:
    """A known assertion moved (``minimum``, ``pattern``, ``additionalProperties``, ...)."""
    narrower = tightened(key, old, new)
    label = f"{key} {describe(old)} → {describe(new)}"
    if direction is REQUEST:
        return (BREAKS if narrower else SAFE), (
            f"constraint {'tightened' if narrower else 'relaxed'}: {label}"
        )
    return SAFE, (
        f"response constraint {'tightened' if narrower else 'relaxed'}: {label}"
        " (this client does not validate response values)"
    )


def unknown_keyword_rule(key: str, old: Any, new: Any, direction: Direction) -> Ruling:
    """A keyword the rules do not know: on the request side it may reject what the client
    sends (``not``, ``dependentRequired``, ``unevaluatedProperties: false``, ...), so it is
    breaking unless it was only removed (fail safe); a response is not validated."""
    change = f"'{key}' {verb(old, new)}"
    if direction is RESPONSE:
        return SAFE, f"{change} (this client does not validate response values)"
    if new is MISSING:
        return SAFE, f"{change}: the request accepts at least what it accepted"
    return BREAKS, f"{change}: unknown request keyword {key}, treated as a new constraint"


def keyword_rule(key: str, old: Any, new: Any, direction: Direction) -> Ruling:
    """Any schema keyword except ``type``, ``enum``, ``const`` and ``format``."""
    if is_doc_key(key):
        return DOC, f"{key} {verb(old, new)}"
    if key == "default":
        return default_rule(direction)
    if key in ("readOnly", "writeOnly"):
        return read_write_only_rule(key, old, new, direction)
    if key in ANNOTATION_KEYS:
        return SAFE, f"{key} {verb(old, new)}"
    if key in CONSTRAINT_KEYS:
        return constraint_rule(key, old, new, direction)
    return unknown_keyword_rule(key, old, new, direction)


def format_rule(
    old: str | None, new: str | None, types: tuple[str, str], direction: Direction
) -> Ruling:
    """``format`` changed; ``types`` are the generated Python types before and after."""
    label = f"format {describe(old)} → {describe(new)}"
    if types[0] != types[1]:
        return BREAKS, f"{label}: the generated type changes from {types[0]} to {types[1]}"
    if direction is RESPONSE:
        return SAFE, f"{label} (same generated type)"
    if new is None:
        return SAFE, f"constraint relaxed: {label}"
    before, after = NUMERIC_WIDTHS.get(str(old)), NUMERIC_WIDTHS.get(str(new))
    if before and after and before[0] == after[0] and after[1] >= before[1]:
        return SAFE, f"constraint relaxed: {label} (same generated type, wider range)"
    return BREAKS, f"constraint tightened: {label}"


def response_code_rule(code: str, *, added: bool) -> Ruling:
    """A response status documented or dropped. Only 2XX codes are parsed as results:
    this client turns every other status, ``default`` included, into an error."""
    success = code.startswith("2")
    if added:
        if success:
            return BREAKS, "new success response: the parsed result may have a new type"
        if code == "default":
            return SAFE, "new default response documented (non-2XX statuses are errors here)"
        return SAFE, "new error response documented"
    return (BREAKS if success else SAFE), "response no longer documented"


def security_removed_rule(names: str, *, anonymous: bool) -> Ruling:
    """A way to authenticate is no longer listed; ``anonymous``: none is needed any more."""
    if anonymous:
        return SAFE, f"authentication no longer required (was {names}); the token is still sent"
    return BREAKS, f"security requirement no longer accepted: {names}"


def security_added_rule(names: str) -> Ruling:
    return SAFE, f"new way to authenticate: {names}"


# --- Schemas met by reference and unions --------------------------------------------------


def schema_renamed_rule(names: str, *, differs: bool, direction: Direction) -> Ruling:
    """Both versions refer to a named schema, under other names (``old → new``);
    ``differs``: the walk found a difference beyond documentation between them."""
    if not differs:
        return DOC, f"schema renamed {names} (same shape; generated class names may change)"
    if direction is RESPONSE:
        return BREAKS, f"response schema replaced: {names}; the client parses it with another model"
    return DOC, f"request schema now refers to {names} (differences listed separately)"


def enum_reordered_rule() -> Ruling:
    return DOC, "enum values reordered"


def variant_removed_rule(label: str, direction: Direction) -> Ruling:
    """A member of a union (``oneOf``/``anyOf``) with no counterpart in the new version."""
    if direction is REQUEST:
        return BREAKS, f"no longer accepts {label}"
    return SAFE, f"no longer returns {label}"


def variant_added_rule(label: str, direction: Direction) -> Ruling:
    if direction is REQUEST:
        return SAFE, f"now also accepts {label}"
    return BREAKS, f"may now be {label}, which the current client does not parse"


# --- Operations, parameters, bodies, headers, media types ---------------------------------


def operation_missing_rule() -> Ruling:
    """A tracked operation id that neither version defines."""
    return BREAKS, "tracked operation not found upstream"


def operation_removed_rule(method: str, path: str) -> Ruling:
    return BREAKS, f"operation removed upstream (was {method.upper()} {path})"


def operation_added_rule(method: str, path: str) -> Ruling:
    return SAFE, f"new tracked operation {method.upper()} {path}"


def operation_moved_rule(old_at: tuple[str, str], new_at: tuple[str, str]) -> Ruling:
    """``(path, method)`` before and after: the generated function calls another URL."""
    (old_path, old_method), (path, method) = old_at, new_at
    return BREAKS, f"moved from {old_method.upper()} {old_path} to {method.upper()} {path}"


def operation_field_rule(key: str, old: Any, new: Any) -> Ruling:
    """An operation field the walk does not follow (not parameters, bodies, responses, ...)."""
    if is_doc_key(key):
        return DOC, f"{key} {verb(old, new)}"
    if key == "tags":
        return SAFE, "tags changed (the generated module api/<tag>/ may move)"
    return SAFE, f"'{key}' {verb(old, new)}"


def annotation_rule(key: str, old: Any, new: Any) -> Ruling:
    """A field of an object whose values the client neither sends nor parses (path item,
    request body, response, media type, server, security scheme): never breaking."""
    return (DOC if is_doc_key(key) else SAFE), f"{key} {verb(old, new)}"


def serialisation_rule(key: str) -> Ruling:
    """``style``, ``explode``, ``allowReserved`` or ``allowEmptyValue`` of a parameter: the
    generated code writes the value to the URL or headers as the old spec said."""
    return BREAKS, f"serialisation changed ({key})"


def parameter_field_rule(key: str) -> Ruling:
    """A parameter field other than its name, place, ``required``, schema and content."""
    if is_doc_key(key):
        return DOC, f"{key} changed"
    if key in SERIALISATION_KEYS:
        return serialisation_rule(key)
    return SAFE, f"'{key}' changed"


def request_body_removed_rule() -> Ruling:
    return BREAKS, "request body removed"


def header_added_rule() -> Ruling:
    return SAFE, "new response header"


def header_removed_rule() -> Ruling:
    return BREAKS, "response header removed"


def header_required_rule(now_required: bool) -> Ruling:
    """A response header made required (always sent) or optional (may be absent)."""
    return (SAFE, "now always present") if now_required else (BREAKS, "no longer required")


def media_type_rule(media: str, *, added: bool) -> Ruling:
    """A media type of a body, response or parameter ``content`` added or removed."""
    return (SAFE, f"new media type {media}") if added else (BREAKS, f"media type {media} removed")


# --- The document: servers, version, tags, top-level fields ---------------------------------


def server_rule(url: str, *, added: bool) -> Ruling:
    """A server (base URL) listed or no longer listed, at the top level or for an operation."""
    if added:
        return SAFE, f"server {url} added"
    return BREAKS, f"server {url} removed; the client's default base URL may need updating"


def openapi_version_rule() -> Ruling:
    return SAFE, "OpenAPI version changed"


def tags_rule(names: list[str], *, added: bool) -> Ruling:
    """Tags listed at the top level; ``added``: ``names`` are new, otherwise dropped."""
    if added:
        return DOC, f"tag(s) added: {', '.join(names)}"
    return DOC, f"{len(names)} tag(s) no longer listed: {', '.join(names)}"


def document_field_rule(key: str, old: Any, new: Any) -> Ruling:
    """A top-level extension, ``externalDocs`` or ``jsonSchemaDialect``: only the dialect
    can change what a schema means."""
    return (SAFE if key == "jsonSchemaDialect" else DOC), f"{key} {verb(old, new)}"


def documentation_rule(field_name: str, old: Any, new: Any) -> Ruling:
    """A leaf of ``info`` or of a tag."""
    return DOC, f"{field_name} {verb(old, new)}"
