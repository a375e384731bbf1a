"""scripts/spec_filter.py: the tracked operations, everything they reference, nothing else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from spec_filter import (
    SpecError,
    dangling_refs,
    dump_spec,
    load_text,
    parse_document,
    select_operations,
)

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT.parent / "shared" / "upstream" / "openapi-2026-07-22.yaml"
TRACKED = ["dedicatedImagesGenerate"]
IMAGES = "/dedicated/v1/images/generations"
ORIGINAL_SCHEMAS = {
    "DedicatedImageGenerationBody",
    "DedicatedImageGenerateSuccess",
    "ImageInput",
    "ImageGenerationDedicatedResult",
    "UrlImageItem",
    "B64ImageItem",
}


def project_spec() -> dict[str, Any]:
    return parse_document((ROOT / "openapi.yaml").read_text(encoding="utf-8"), "openapi.yaml")


def upstream_like() -> dict[str, Any]:
    """openapi.yaml grown into a small 'full upstream' document with much to leave out."""
    spec = project_spec()
    spec["x-speakeasy-retries"] = {"strategy": "backoff"}
    spec["security"] = []  # a top-level requirement, whether or not openapi.yaml has one
    components = spec["components"]
    schemas = components["schemas"]
    operation = spec["paths"][IMAGES]["post"]
    operation["x-speakeasy-name-override"] = "generate"

    # A chain of references through every component section, starting at the operation.
    schemas["ImageInput"]["properties"]["meta"] = {"$ref": "#/components/schemas/ImageMeta"}
    schemas["ImageMeta"] = {
        "type": "object",
        "properties": {"kind": {"$ref": "#/components/schemas/ImageMetaKind"}},
        "x-internal": True,
    }
    schemas["ImageMetaKind"] = {"type": "string", "enum": ["photo", "sketch"]}
    schemas["Tree"] = {
        "type": "object",
        "properties": {
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}
        },
    }
    schemas["Pet"] = {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}],
        "discriminator": {"propertyName": "kind", "mapping": {"cat": "Cat"}},
    }
    schemas["Cat"] = {"type": "object", "properties": {"kind": {"type": "string"}}}
    schemas["UrlImageItem"]["properties"]["tree"] = {"$ref": "#/components/schemas/Tree"}
    schemas["UrlImageItem"]["properties"]["pet"] = {"$ref": "#/components/schemas/Pet"}
    components["parameters"] = {
        "Trace": {"name": "X-Trace", "in": "header", "schema": {"$ref": "#/components/schemas/Id"}},
        "Unused": {"name": "x", "in": "query", "schema": {"type": "string"}},
    }
    schemas["Id"] = {"type": "string", "pattern": "^[a-z]+$"}
    operation["parameters"].append({"$ref": "#/components/parameters/Trace"})
    components["headers"] = {"RateLimit": {"schema": {"$ref": "#/components/schemas/Limit"}}}
    schemas["Limit"] = {"type": "integer", "minimum": 0}
    components["examples"] = {"Cat": {"value": {"prompt": "a cat"}}, "Unused": {"value": {}}}
    components["responses"] = {
        "Invalid": {
            "description": "Invalid",
            "headers": {"X-RateLimit": {"$ref": "#/components/headers/RateLimit"}},
        },
        "Unused": {"description": "never referenced"},
    }
    operation["responses"]["400"] = {"$ref": "#/components/responses/Invalid"}
    operation["requestBody"]["content"]["application/json"]["examples"] = {
        "cat": {"$ref": "#/components/examples/Cat"}
    }
    components["requestBodies"] = {
        "Generation": operation["requestBody"],
        "Unused": {"content": {}},
    }
    operation["requestBody"] = {"$ref": "#/components/requestBodies/Generation"}
    components["securitySchemes"]["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-Key"}

    # Things the filter must drop: other operations, a #stream pseudo-path, another method.
    schemas["Unused"] = {"type": "object"}
    schemas["Chunk"] = {
        "type": "object",
        "properties": {"delta": {"$ref": "#/components/schemas/Unused"}},
    }
    spec["paths"]["/serverless/v1/other"] = {
        "post": {
            "operationId": "otherOperation",
            "tags": ["Other"],
            "security": [{"apiKey": []}],
            "responses": {"200": {"description": "ok"}},
        }
    }
    spec["paths"][f"{IMAGES}#stream"] = {
        "post": {
            "operationId": "dedicatedImagesGenerateStream",
            "responses": {
                "200": {
                    "description": "chunks",
                    "content": {
                        "text/event-stream": {"schema": {"$ref": "#/components/schemas/Chunk"}}
                    },
                }
            },
        }
    }
    spec["paths"][IMAGES]["get"] = {"operationId": "listImages", "responses": {}}
    spec["paths"][IMAGES]["parameters"] = [{"name": "X-Path-Level", "in": "header"}]
    spec["tags"].append({"name": "Other", "description": "not tracked"})
    return spec


class TestSelect:
    def test_keeps_only_the_tracked_operation(self) -> None:
        """Other operations, other methods and #stream pseudo-paths are dropped."""
        selection = select_operations(upstream_like(), TRACKED)

        assert [IMAGES] == list(selection.spec["paths"])
        assert {"post", "parameters"} == set(selection.spec["paths"][IMAGES])
        assert {"dedicatedImagesGenerate": (IMAGES, "post")} == selection.operations
        assert () == selection.missing

    def test_transitive_closure(self) -> None:
        """Every component reached through any chain of references is kept, in every section."""
        components = select_operations(upstream_like(), TRACKED).spec["components"]

        assert ORIGINAL_SCHEMAS | {
            "ImageMeta",
            "ImageMetaKind",
            "Tree",
            "Pet",
            "Cat",
            "Id",
            "Limit",
        } == set(components["schemas"])
        assert {"Trace"} == set(components["parameters"])
        assert {"RateLimit"} == set(components["headers"])
        assert {"Cat"} == set(components["examples"])
        assert {"Invalid"} == set(components["responses"])
        assert {"Generation"} == set(components["requestBodies"])
        assert {"token"} == set(components["securitySchemes"])

    def test_component_sections_in_specification_order(self) -> None:
        """Sections come in the order the OpenAPI specification lists them."""
        components = select_operations(upstream_like(), TRACKED).spec["components"]

        expected = [
            "schemas",
            "responses",
            "parameters",
            "examples",
            "requestBodies",
            "headers",
            "securitySchemes",
        ]
        assert expected == list(components)

    def test_security_scheme_from_top_level_requirement(self) -> None:
        """An operation without its own security keeps the schemes the top level names."""
        spec = upstream_like()
        del spec["paths"][IMAGES]["post"]["security"]
        spec["security"] = [{"apiKey": []}]

        components = select_operations(spec, TRACKED).spec["components"]

        assert {"apiKey"} == set(components["securitySchemes"])

    def test_extensions_are_kept(self) -> None:
        """x- extensions at the top level, on operations and inside schemas survive."""
        selected = select_operations(upstream_like(), TRACKED).spec

        assert {"strategy": "backoff"} == selected["x-speakeasy-retries"]
        assert "generate" == selected["paths"][IMAGES]["post"]["x-speakeasy-name-override"]
        assert selected["components"]["schemas"]["ImageMeta"]["x-internal"] is True

    def test_only_used_tags(self) -> None:
        """The tags list keeps only the tags of the tracked operations, in upstream order."""
        selected = select_operations(upstream_like(), TRACKED).spec

        assert [{"name": "Dedicated.Image"}] == selected["tags"]

    def test_top_level_kept(self) -> None:
        """openapi, info, servers and the top-level security requirement are kept."""
        spec = upstream_like()

        selected = select_operations(spec, TRACKED).spec

        for key in ("openapi", "info", "servers", "security"):
            assert spec[key] == selected[key]

    def test_missing_operation(self) -> None:
        """A tracked operationId upstream does not have is reported, not invented."""
        selection = select_operations(upstream_like(), [*TRACKED, "noSuchOperation"])

        assert ("noSuchOperation",) == selection.missing

    def test_dangling_ref(self) -> None:
        """A reference to a missing component names the reference and where it is."""
        spec = upstream_like()
        spec["components"]["schemas"]["ImageMeta"]["properties"]["size"] = {
            "$ref": "#/components/schemas/Nowhere"
        }

        with pytest.raises(SpecError) as caught:
            select_operations(spec, TRACKED)

        assert "#/components/schemas/Nowhere" in str(caught.value)
        assert "/components/schemas/ImageMeta/properties/size" in str(caught.value)

    def test_dangling_ref_outside_the_tracked_part_is_harmless(self) -> None:
        """Upstream defects in operations this project does not track do not matter."""
        spec = upstream_like()
        spec["components"]["schemas"]["Unused"]["properties"] = {"x": {"$ref": "#/nowhere"}}

        selected = select_operations(spec, TRACKED).spec

        assert [] == dangling_refs(selected)
        assert 1 == len(dangling_refs(spec))

    def test_undefined_security_scheme(self) -> None:
        """A security requirement naming an undefined scheme is a dangling reference."""
        spec = upstream_like()
        spec["paths"][IMAGES]["post"]["security"] = [{"missing": []}]

        with pytest.raises(SpecError, match="security scheme 'missing' is not defined"):
            select_operations(spec, TRACKED)

    def test_duplicate_operation_id(self) -> None:
        """A tracked operationId that appears twice is an error, not a guess."""
        spec = upstream_like()
        spec["paths"]["/other"] = {"put": copy.deepcopy(spec["paths"][IMAGES]["post"])}

        with pytest.raises(SpecError, match="appears twice"):
            select_operations(spec, TRACKED)

    def test_input_not_modified(self) -> None:
        """Selecting copies: the upstream document is left as it was."""
        spec = upstream_like()
        before = copy.deepcopy(spec)

        selected = select_operations(spec, TRACKED).spec
        selected["components"]["schemas"]["ImageInput"]["title"] = "changed"

        assert before == spec


class TestDump:
    def test_byte_identical_on_rerun(self) -> None:
        """The same upstream document always gives the same bytes, also after a round trip."""
        first = dump_spec(select_operations(upstream_like(), TRACKED).spec)
        second = dump_spec(select_operations(upstream_like(), TRACKED).spec)
        again = dump_spec(select_operations(parse_document(first, "first"), TRACKED).spec)

        assert first == second
        assert first == again

    def test_reads_back_equal(self) -> None:
        """The canonical YAML parses back to the selected document."""
        selected = select_operations(upstream_like(), TRACKED).spec

        assert selected == load_text(dump_spec(selected))

    def test_top_level_order(self) -> None:
        """Top-level keys come in the documented fixed order, extensions last."""
        spec = upstream_like()
        shuffled = {key: spec[key] for key in reversed(list(spec))}

        selected = select_operations(shuffled, TRACKED).spec

        expected = ["openapi", "info", "servers", "security", "tags", "paths", "components"]
        assert [*expected, "x-speakeasy-retries"] == list(selected)

    def test_upstream_order_inside(self) -> None:
        """Properties keep upstream's order (model before prompt), not alphabetical order."""
        text = dump_spec(select_operations(upstream_like(), TRACKED).spec)

        assert text.index("        model:") < text.index("        prompt:")

    def test_multiline_strings_are_literal_blocks(self) -> None:
        """Descriptions with line breaks are written as literal blocks."""
        spec = upstream_like()
        spec["info"]["description"] = "First line.\n\nSecond line."

        text = dump_spec(select_operations(spec, TRACKED).spec)

        assert "  description: |-\n    First line.\n\n    Second line.\n" in text

    def test_dates_stay_strings(self) -> None:
        """An unquoted date in an upstream example stays the string upstream wrote."""
        parsed = parse_document("openapi: 3.1.0\ninfo: {title: t, version: 2024-01-02}\n", "x")

        text = dump_spec(parsed)

        assert "2024-01-02" == parsed["info"]["version"]
        assert "version: '2024-01-02'" in text


class TestParse:
    def test_json(self) -> None:
        """JSON documents parse the same as YAML ones."""
        spec = project_spec()

        assert spec == parse_document(json.dumps(spec), "spec.json")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("openapi: 3.1.0\npaths: [\n", "not valid YAML or JSON"),
            ("- openapi\n", "top level is a list"),
            ("swagger: '2.0'\npaths: {}\n", "swagger: 2.0"),
            ("openapi: 2.0.0\n", "(openapi: 2.0.0)"),
            ("title: no version\n", "no 'openapi' field"),
            ("openapi: 3.0.3\npaths: []\n", "'paths' is not a mapping"),
        ],
    )
    def test_rejects(self, text: str, message: str) -> None:
        """Malformed or non-OpenAPI-3 input is refused with a message saying why."""
        with pytest.raises(SpecError) as caught:
            parse_document(text, "source.yaml")

        assert message in str(caught.value)
        assert "source.yaml" in str(caught.value)


@pytest.fixture(scope="module")
def upstream() -> dict[str, Any]:
    """The full upstream snapshot, parsed once for this module."""
    return parse_document(SNAPSHOT.read_text(encoding="utf-8"), str(SNAPSHOT))


@pytest.mark.skipif(
    not SNAPSHOT.is_file(),
    reason=f"no upstream snapshot at {SNAPSHOT}: ../shared/upstream/ is not beside this checkout "
    "(a fresh clone has none)",
)
class TestUpstreamSnapshot:
    def test_one_operation_six_schemas(self, upstream: dict[str, Any]) -> None:
        """The snapshot's 84 operations shrink to the tracked one and its six schemas."""
        selected = select_operations(upstream, TRACKED).spec

        methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
        assert 84 == sum(len(methods & set(item)) for item in upstream["paths"].values())
        assert [IMAGES] == list(selected["paths"])
        assert ORIGINAL_SCHEMAS == set(selected["components"]["schemas"])
        assert {"token"} == set(selected["components"]["securitySchemes"])
        assert [{"name": "Dedicated.Image"}] == selected["tags"]

    def test_no_stream_pseudo_paths(self, upstream: dict[str, Any]) -> None:
        """Upstream's #stream pseudo-paths exist but are not selected."""
        selected = select_operations(upstream, TRACKED).spec

        assert any("#stream" in path for path in upstream["paths"])
        assert not any("#" in path for path in selected["paths"])

    def test_deterministic(self, upstream: dict[str, Any]) -> None:
        """Filtering the snapshot twice gives byte-identical YAML."""
        first = dump_spec(select_operations(upstream, TRACKED).spec)
        second = dump_spec(select_operations(copy.deepcopy(upstream), TRACKED).spec)

        assert first == second
        assert yaml.safe_load(first) == select_operations(upstream, TRACKED).spec

    def test_extensions_kept(self, upstream: dict[str, Any]) -> None:
        """Speakeasy and Mintlify extensions of the tracked operation are kept."""
        operation = select_operations(upstream, TRACKED).spec["paths"][IMAGES]["post"]

        assert "generate" == operation["x-speakeasy-name-override"]
        assert "x-mint" in operation
