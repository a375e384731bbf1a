"""The test server's request validation as pure functions: jsonschema errors as FastAPI details.

The shipped spec uses few JSON Schema keywords; upstream may tighten it with others. Each
row adds one constrained property to a copy of the spec and checks the 422 entry it gives.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest
from friendli_images.testing import GENERATION_PATH
from friendli_images.testing._spec import OperationNotInSpec, Spec
from friendli_images.testing._validation import validate_operation_body

BODY: dict[str, Any] = {"model": "endpoint-id", "prompt": "an orange car at night"}


def shipped() -> dict[str, Any]:
    spec_file = resources.files("friendli_images_api") / "openapi.json"
    spec: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
    return spec


def with_property(schema: dict[str, Any]) -> Spec:
    """The shipped spec whose generation body has one more property, ``extra``."""
    document = copy.deepcopy(shipped())
    document["components"]["schemas"]["DedicatedImageGenerationBody"]["properties"]["extra"] = (
        schema
    )
    return Spec(document)


@pytest.mark.parametrize(
    ("schema", "value", "loc", "type_"),
    [
        pytest.param(
            {"type": "string", "maxLength": 3}, "abcd", ["extra"], "string_too_long", id="maxLength"
        ),
        pytest.param(
            {"type": "string", "minLength": 2}, "a", ["extra"], "string_too_short", id="minLength"
        ),
        pytest.param(
            {"type": "string", "pattern": "^[a-z]+$"},
            "A1",
            ["extra"],
            "string_pattern_mismatch",
            id="pattern",
        ),
        pytest.param(
            {"type": "number", "exclusiveMinimum": 0}, 0, ["extra"], "greater_than", id="exclMin"
        ),
        pytest.param(
            {"type": "number", "exclusiveMaximum": 1}, 1, ["extra"], "less_than", id="exclMax"
        ),
        pytest.param(
            {"type": "integer", "multipleOf": 8}, 12, ["extra"], "multiple_of", id="multipleOf"
        ),
        pytest.param(
            {"type": "integer", "minimum": 1}, 0, ["extra"], "greater_than_equal", id="minimum"
        ),
        pytest.param(
            {"type": "integer"}, 20.0, ["extra"], "int_type", id="integer-not-twenty-point-oh"
        ),
        pytest.param(
            {"type": "string", "format": "ipv4"}, "999.1.1.1", ["extra"], "format", id="format"
        ),
        pytest.param({"const": "x"}, "y", ["extra"], "literal_error", id="const"),
        pytest.param(
            {"type": "array", "maxItems": 1}, [1, 2], ["extra"], "too_long", id="maxItems"
        ),
        pytest.param(
            {"type": "object", "properties": {}, "additionalProperties": False},
            {"a": 1},
            ["extra", "a"],
            "extra_forbidden",
            id="additionalProperties-false",
        ),
        pytest.param(
            {"type": "object", "required": ["a", "b"]},
            {"a": 1},
            ["extra", "b"],
            "missing",
            id="required-nested",
        ),
        pytest.param(
            {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            1,
            ["extra"],
            "one_of_multiple",
            id="oneOf-several",
        ),
        pytest.param(
            {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            ["ok", 2],
            ["extra", 1],
            "string_type",
            id="anyOf-the-branch-meant",
        ),
        pytest.param({"not": {"type": "string"}}, "s", ["extra"], "not", id="other-keyword"),
    ],
)
def test_keyword_errors(schema: dict[str, Any], value: object, loc: list[Any], type_: str) -> None:
    """Each JSON Schema keyword's violation is one entry at the value, with its type."""
    spec = with_property(schema)

    errors = validate_operation_body(spec, "POST", GENERATION_PATH, {**BODY, "extra": value})

    assert [(["body", *loc], type_)] == [(error["loc"], error["type"]) for error in errors]
    assert all(error["msg"] for error in errors)
    assert [] == validate_operation_body(spec, "POST", GENERATION_PATH, BODY)


def test_any_operation_of_the_spec() -> None:
    """A new operation validates by its path and method alone (no code for it)."""
    document = copy.deepcopy(shipped())
    document["paths"]["/v1/images/edits"] = {
        "post": {
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["image"],
                            "properties": {"image": {"$ref": "#/components/schemas/ImageInput"}},
                        }
                    }
                }
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    spec = Spec(document)

    assert [] == validate_operation_body(
        spec, "POST", "/v1/images/edits", {"image": {"image": "x"}}
    )
    errors = validate_operation_body(spec, "post", "/v1/images/edits", {"image": {}})
    assert [["body", "image", "image"]] == [error["loc"] for error in errors]
    with pytest.raises(OperationNotInSpec, match="GET /v1/images/edits"):
        validate_operation_body(spec, "GET", "/v1/images/edits", {})
