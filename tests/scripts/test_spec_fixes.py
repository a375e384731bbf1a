"""Each named spec fix applies to today's spec and notices when it is no longer needed.

The tests on "the current spec" read their facts from the committed ``openapi.yaml``: which
places have each defect is computed here, independently of ``spec_fixes.py`` (a plain walk of
every schema object instead of its keyword-aware one), so they hold for any tracked set.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import spec_fixes
import yaml
from openapi_common import escape, resolve_pointer

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PREFIX = "#/components/schemas/"
ANNOTATIONS = frozenset({"title", "description", "examples", "example", "deprecated"})
"""Keys that only annotate: a component with ``$ref`` and only these beside it is an alias."""
NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
"""Keys whose value maps names to schemas (the mapping itself is no schema)."""
LITERALS = frozenset({"example", "examples", "default", "const", "enum"})
"""Keys whose value is data, not a schema."""


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result = document["components"]["schemas"]
    assert isinstance(result, dict)
    return result


def schema_objects(node: Any, where: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every schema object in ``node`` with its JSON pointer, found by walking all keys."""
    if isinstance(node, list):
        for index, child in enumerate(node):
            yield from schema_objects(child, f"{where}/{index}")
        return
    if not isinstance(node, dict):
        return
    yield node, where
    for key, value in node.items():
        if key in LITERALS:
            continue
        if key in NAMED_SCHEMAS and isinstance(value, dict):
            for name, child in value.items():
                yield from schema_objects(child, f"{where}/{escape(key)}/{escape(name)}")
        else:
            yield from schema_objects(value, f"{where}/{escape(key)}")


def is_json(media_type: str) -> bool:
    base = media_type.split(";", maxsplit=1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def body_schemas(document: dict[str, Any], side: str) -> Iterator[tuple[Any, str]]:
    """The schemas of JSON request bodies (``side="request"``) or JSON responses, inline."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            where = f"/paths/{escape(path)}/{method}"
            if side == "request":
                bodies = {f"{where}/requestBody": operation.get("requestBody") or {}}
            else:
                bodies = {
                    f"{where}/responses/{escape(str(status))}": response
                    for status, response in operation["responses"].items()
                }
            for body_where, body in bodies.items():
                for media_type, media in (body.get("content") or {}).items():
                    if is_json(media_type) and "schema" in media:
                        yield media["schema"], f"{body_where}/content/{escape(media_type)}/schema"


def reachable(document: dict[str, Any], side: str) -> dict[str, dict[str, Any]]:
    """Pointer -> schema object, for every schema a JSON body on ``side`` can hold."""
    found: dict[str, dict[str, Any]] = {}
    pending = list(body_schemas(document, side))
    visited: set[str] = set()
    while pending:
        root, where = pending.pop()
        for node, pointer in schema_objects(root, where):
            found[pointer] = node
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX) and ref not in visited:
                visited.add(ref)
                pending.append((resolve_pointer(document, ref), ref[1:]))
    return found


def is_string(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def without(document: dict[str, Any], pointers: list[str]) -> dict[str, Any]:
    """A copy of ``document`` with the key each pointer names deleted."""
    result = copy.deepcopy(document)
    for pointer in pointers:
        parent, key = pointer.rsplit("/", 1)
        del resolve_pointer(result, "#" + parent)[key.replace("~1", "/").replace("~0", "~")]
    return result


def aliases(document: dict[str, Any]) -> dict[str, str]:
    """Alias component name -> the non-alias schema reference it finally stands for."""
    direct = {
        SCHEMA_PREFIX + escape(name): schema["$ref"]
        for name, schema in schemas(document).items()
        if "$ref" in schema and len(schema) > 1 and set(schema) - {"$ref"} <= ANNOTATIONS
    }
    final = {}
    for alias, first in direct.items():
        target = first
        for _ in direct:  # bounded: a cycle of aliases cannot hang the test
            target = direct.get(target, target)
        final[alias[len(SCHEMA_PREFIX) :]] = target
    return final


def refs(node: Any, where: str = "") -> dict[str, str]:
    """Pointer of every ``$ref`` in ``node`` -> the reference."""
    if isinstance(node, dict):
        found = {f"{where}/$ref": node["$ref"]} if isinstance(node.get("$ref"), str) else {}
        for key, value in node.items():
            found.update(refs(value, f"{where}/{escape(key)}"))
        return found
    if isinstance(node, list):
        return {
            k: v for i, child in enumerate(node) for k, v in refs(child, f"{where}/{i}").items()
        }
    return {}


def inlined(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every alias dropped and every reference to one pointed at its target."""
    final = aliases(document)
    result = copy.deepcopy(document)
    for name in final:
        del schemas(result)[name]
    by_ref = {SCHEMA_PREFIX + escape(name): target for name, target in final.items()}
    for pointer, ref in refs(result).items():
        if ref in by_ref:
            resolve_pointer(result, "#" + pointer.removesuffix("/$ref"))["$ref"] = by_ref[ref]
    return result


def binary_strings(document: dict[str, Any]) -> list[str]:
    """Pointers of ``format: binary`` on strings a JSON body (either direction) can hold."""
    found = {**reachable(document, "request"), **reachable(document, "response")}
    return sorted(
        f"{where}/format"
        for where, node in found.items()
        if is_string(node) and node.get("format") == "binary"
    )


def request_defaults(document: dict[str, Any]) -> list[str]:
    """Pointers of every ``default`` a JSON request body can hold."""
    return sorted(
        f"{where}/default"
        for where, node in reachable(document, "request").items()
        if "default" in node
    )


def response_string_enums(document: dict[str, Any]) -> list[str]:
    """Pointers of every string ``enum`` a JSON response can hold."""
    return sorted(
        f"{where}/enum"
        for where, node in reachable(document, "response").items()
        if "enum" in node and is_string(node)
    )


class TestInlineTitledRefAliases:
    def test_applies_to_current_spec(self, spec: dict[str, Any]) -> None:
        """Every alias is removed and every reference to one points at the real model."""
        fixed = copy.deepcopy(spec)
        expected = sorted(f"/components/schemas/{escape(name)}" for name in aliases(spec))

        changes = spec_fixes.inline_titled_ref_aliases(fixed)

        assert expected, "openapi.yaml has no titled $ref alias: the fix is no longer needed"
        assert expected == changes
        assert inlined(spec) == fixed
        assert {} == aliases(fixed)
        targets = {ref for ref in refs(fixed).values() if ref.startswith(SCHEMA_PREFIX)}
        assert targets <= {SCHEMA_PREFIX + escape(name) for name in schemas(fixed)}

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """A spec whose responses refer to the models directly needs nothing."""
        clean = inlined(spec)

        assert [] == spec_fixes.inline_titled_ref_aliases(clean)

    def test_chained_aliases_resolve_to_the_end(self) -> None:
        """An alias of an alias is pointed at the final target."""
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "paths": {
                "/x": {
                    "get": {
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/A"}
                                    }
                                }
                            }
                        }
                    }
                }
            },
            "components": {
                "schemas": {
                    "A": {"$ref": "#/components/schemas/B", "title": "A"},
                    "B": {"$ref": "#/components/schemas/C", "title": "B"},
                    "C": {"type": "object"},
                }
            },
        }

        spec_fixes.inline_titled_ref_aliases(document)

        assert {"C"} == set(document["components"]["schemas"])
        content = document["paths"]["/x"]["get"]["responses"]["200"]["content"]
        assert "#/components/schemas/C" == content["application/json"]["schema"]["$ref"]

    def test_ref_with_constraints_is_not_an_alias(self) -> None:
        """A $ref beside real schema keywords is left alone."""
        document = {
            "openapi": "3.1.0",
            "components": {
                "schemas": {
                    "A": {"$ref": "#/components/schemas/B", "maxItems": 3},
                    "B": {"type": "array"},
                }
            },
        }

        assert [] == spec_fixes.inline_titled_ref_aliases(document)


class TestBase64StringsInJson:
    def test_applies_to_current_spec(self, spec: dict[str, Any]) -> None:
        """Every binary string inside a JSON body loses its format and becomes a plain string."""
        fixed = copy.deepcopy(spec)
        expected = binary_strings(spec)

        changes = spec_fixes.base64_strings_in_json(fixed)

        assert expected, "openapi.yaml has no binary string in JSON: the fix is no longer needed"
        assert expected == changes
        assert without(spec, expected) == fixed
        assert [] == binary_strings(fixed)

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """Base64 fields declared as plain strings need nothing."""
        clean = without(spec, binary_strings(spec))

        assert [] == spec_fixes.base64_strings_in_json(clean)

    def test_binary_outside_json_is_kept(self) -> None:
        """A binary string in a non-JSON body (a real file upload) is not touched."""
        document = {
            "openapi": "3.1.0",
            "paths": {
                "/u": {
                    "post": {
                        "requestBody": {
                            "content": {
                                "multipart/form-data": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "file": {"type": "string", "format": "binary"}
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            },
        }

        assert [] == spec_fixes.base64_strings_in_json(document)


class TestOmitRequestDefaults:
    def test_applies_to_current_spec(self, spec: dict[str, Any]) -> None:
        """Every default a request body can hold is dropped, and nothing else."""
        fixed = copy.deepcopy(spec)
        expected = request_defaults(spec)

        changes = spec_fixes.omit_request_defaults(fixed)

        assert expected, "openapi.yaml has no request default: the fix is no longer needed"
        assert expected == changes
        assert without(spec, expected) == fixed
        assert [] == request_defaults(fixed)

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """Request schemas without defaults need nothing."""
        clean = without(spec, request_defaults(spec))

        assert [] == spec_fixes.omit_request_defaults(clean)

    def test_response_defaults_are_kept(self, spec: dict[str, Any]) -> None:
        """A default in a response-only schema is not a request default."""
        document = copy.deepcopy(spec)
        requests = reachable(document, "request")
        response_only = [
            node for where, node in reachable(document, "response").items() if where not in requests
        ]
        assert response_only, "openapi.yaml has no response-only schema"
        for node in response_only:
            node["default"] = 0

        spec_fixes.omit_request_defaults(document)

        assert all(0 == node["default"] for node in response_only)


class TestOpenResponseEnums:
    def test_applies_to_current_spec(self, spec: dict[str, Any]) -> None:
        """Every string enum a response can hold becomes a plain string; request enums stay."""
        fixed = copy.deepcopy(spec)
        expected = response_string_enums(spec)
        request_only = {
            where: node["enum"]
            for where, node in reachable(spec, "request").items()
            if "enum" in node and where not in reachable(spec, "response")
        }

        changes = spec_fixes.open_response_enums(fixed)

        assert expected, "openapi.yaml has no response enum: the fix is no longer needed"
        assert request_only, "openapi.yaml has no request enum to keep"
        assert expected == changes
        assert without(spec, expected) == fixed
        assert [] == response_string_enums(fixed)
        assert request_only == {
            where: resolve_pointer(fixed, "#" + where)["enum"] for where in request_only
        }

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """Responses without string enums need nothing."""
        clean = without(spec, response_string_enums(spec))

        assert [] == spec_fixes.open_response_enums(clean)


class TestApplyFixes:
    def test_input_is_not_modified(self, spec: dict[str, Any]) -> None:
        """apply_fixes works on a copy; openapi.yaml's content is never changed."""
        before = copy.deepcopy(spec)

        spec_fixes.apply_fixes(spec)

        assert before == spec

    def test_every_fix_applies_today(self, spec: dict[str, Any]) -> None:
        """On today's spec every fix is needed, in the documented order."""
        _, outcomes = spec_fixes.apply_fixes(spec)

        assert [fix.name for fix in spec_fixes.FIXES] == [o.name for o in outcomes]
        assert all(outcome.applied for outcome in outcomes)

    def test_fixed_spec_needs_no_more_fixes(self, spec: dict[str, Any]) -> None:
        """Applying the fixes to an already fixed spec reports each one as no longer needed."""
        fixed, _ = spec_fixes.apply_fixes(spec)

        _, outcomes = spec_fixes.apply_fixes(fixed)

        assert not any(outcome.applied for outcome in outcomes)
        for outcome in outcomes:
            assert outcome.describe().endswith(
                "no longer needed (the spec no longer has this defect); remove it"
            )
