"""The OpenAPI document the server follows, and JSON Schema 2020-12 validators over it.

OpenAPI 3.1 schemas are JSON Schema 2020-12, so :mod:`jsonschema` checks them as they are.
The whole document is registered (with :mod:`referencing`) under the empty URI, so any
schema taken from it resolves its ``#/components/...`` references without copying.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Final

import jsonschema.validators
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["OperationNotInSpec", "Spec", "shipped_spec"]

_HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_CACHED_VALIDATORS: Final = 256
_ORIGINAL_ADDITIONAL = Draft202012Validator.VALIDATORS["additionalProperties"]


class OperationNotInSpec(LookupError):
    """The spec has no operation for this method and path."""


def _is_integer(checker: object, value: object) -> bool:
    # Stricter than JSON Schema: 20.0 is not an integer, as FastAPI (pydantic) rules.
    return isinstance(value, int) and not isinstance(value, bool)


def _required(
    validator: Any, required: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """One error per missing property, located at the property (as FastAPI reports)."""
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            yield ValidationError("Field required", path=[name])


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``additionalProperties: false``: one error per extra property, located at it."""
    if extra is not False:
        yield from _ORIGINAL_ADDITIONAL(validator, extra, instance, schema)
        return
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    for name in instance:
        if name in properties or any(re.search(pattern, name) for pattern in patterns):
            continue
        yield ValidationError("Extra inputs are not permitted", path=[name])


_Validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    validators={"required": _required, "additionalProperties": _additional_properties},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


_BASE_URI: Final = "urn:friendli-images:openapi"


def _absolute_refs(value: Any) -> Any:
    """A copy of ``value`` whose document-local ``$ref`` entries name the registered document.

    Then any schema taken out of the document validates on its own: its references no
    longer depend on which schema a validator started from.
    """
    if isinstance(value, dict):
        return {
            key: _BASE_URI + item
            if key == "$ref" and isinstance(item, str) and item.startswith("#")
            else _absolute_refs(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_absolute_refs(item) for item in value]
    return value


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Spec:
    """An OpenAPI 3.1 document: its operations' schemas and validators for them."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._absolute: Mapping[str, Any] = _absolute_refs(document)
        resource = Resource.from_contents(self._absolute, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_BASE_URI, resource)
        # id(schema) -> (schema, validator); the schema is kept so its id stays unique.
        self._pointers: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._validators: dict[int, tuple[Mapping[str, Any], Any]] = {}

    def operation(self, method: str, path: str) -> Mapping[str, Any]:
        """The operation object of ``method`` ``path``.

        :raises OperationNotInSpec: If the document has no such operation.
        """
        operation = self._absolute.get("paths", {}).get(path, {}).get(method.lower())
        if not isinstance(operation, Mapping):
            raise OperationNotInSpec(f"the spec has no operation {method.upper()} {path}")
        return operation

    def methods(self, path: str) -> list[str]:
        """The methods the spec documents for ``path``, upper case, in the spec's order."""
        item = self.document.get("paths", {}).get(path, {})
        return [method.upper() for method in item if method in _HTTP_METHODS]

    def request_schema(self, method: str, path: str) -> dict[str, Any]:
        """A schema referring to the JSON request body's schema of the operation."""
        key = ("request", method.lower(), path)
        cached = self._pointers.get(key)
        if cached is not None:
            return cached
        self.operation(method, path)
        pointer = "/".join(
            _escape(token)
            for token in (
                "paths",
                path,
                method.lower(),
                "requestBody",
                "content",
                "application/json",
                "schema",
            )
        )
        self._pointers[key] = {"$ref": f"{_BASE_URI}#/{pointer}"}
        return self._pointers[key]

    def response_schema(self, method: str, path: str, status: int | str) -> dict[str, Any] | None:
        """A schema referring to the documented JSON body of a response, if there is one."""
        key = (f"response {status}", method.lower(), path)
        cached = self._pointers.get(key)
        if cached is not None:
            return cached
        response = self.operation(method, path).get("responses", {}).get(str(status), {})
        if "application/json" not in response.get("content", {}):
            return None
        pointer = "/".join(
            _escape(token)
            for token in (
                "paths",
                path,
                method.lower(),
                "responses",
                str(status),
                "content",
                "application/json",
                "schema",
            )
        )
        self._pointers[key] = {"$ref": f"{_BASE_URI}#/{pointer}"}
        return self._pointers[key]

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` chains (inside the document) until a schema without one."""
        seen = 0
        while "$ref" in schema and seen < 64:
            target = self._registry.resolver().lookup(schema["$ref"]).contents
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **siblings} if siblings else target
            seen += 1
        return schema

    def validator(self, schema: Mapping[str, Any]) -> Any:
        """A validator of ``schema`` (a part of this document) with formats checked."""
        cached = self._validators.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        validator = _Validator(
            schema, registry=self._registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        if len(self._validators) >= _MAX_CACHED_VALIDATORS:
            self._validators.clear()
        self._validators[id(schema)] = (schema, validator)
        return validator


@cache
def shipped_spec() -> Spec:
    """The ``openapi.json`` that ships with ``friendli_images_api``, loaded once."""
    resource = importlib.resources.files("friendli_images_api") / "openapi.json"
    return Spec(json.loads(resource.read_text(encoding="utf-8")))
