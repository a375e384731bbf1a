"""Each named spec fix applies to today's spec and notices when it is no longer needed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import spec_fixes
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result = document["components"]["schemas"]
    assert isinstance(result, dict)
    return result


OPERATION = ("paths", "/dedicated/v1/images/generations", "post")


def success_schema(document: dict[str, Any]) -> Any:
    operation = document["paths"]["/dedicated/v1/images/generations"]["post"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


class TestInlineTitledRefAliases:
    def test_applies_to_current_spec(self, spec: dict[str, Any]) -> None:
        """The titled alias is removed and the response points at the real model."""
        fixed = copy.deepcopy(spec)

        changes = spec_fixes.inline_titled_ref_aliases(fixed)

        assert ["/components/schemas/DedicatedImageGenerateSuccess"] == changes
        assert "DedicatedImageGenerateSuccess" not in schemas(fixed)
        assert {"$ref": "#/components/schemas/ImageGenerationDedicatedResult"} == success_schema(
            fixed
        )

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """A spec whose response refers to the model directly needs nothing."""
        clean = copy.deepcopy(spec)
        del schemas(clean)["DedicatedImageGenerateSuccess"]
        operation = clean["paths"]["/dedicated/v1/images/generations"]["post"]
        operation["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/ImageGenerationDedicatedResult"
        }

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
        """b64_json loses its binary format and becomes a plain string."""
        fixed = copy.deepcopy(spec)

        changes = spec_fixes.base64_strings_in_json(fixed)

        assert ["/components/schemas/B64ImageItem/properties/b64_json/format"] == changes
        assert {"type": "string"} == {
            k: v
            for k, v in schemas(fixed)["B64ImageItem"]["properties"]["b64_json"].items()
            if k in ("type", "format")
        }

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """A b64_json declared as a plain string needs nothing."""
        clean = copy.deepcopy(spec)
        del schemas(clean)["B64ImageItem"]["properties"]["b64_json"]["format"]

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
        """The defaults of num_inference_steps and response_format are dropped."""
        fixed = copy.deepcopy(spec)

        changes = spec_fixes.omit_request_defaults(fixed)

        body = "/components/schemas/DedicatedImageGenerationBody/properties"
        assert [
            f"{body}/num_inference_steps/default",
            f"{body}/response_format/default",
        ] == changes
        properties = schemas(fixed)["DedicatedImageGenerationBody"]["properties"]
        assert not any("default" in prop for prop in properties.values())

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """A request schema without defaults needs nothing."""
        clean = copy.deepcopy(spec)
        for prop in schemas(clean)["DedicatedImageGenerationBody"]["properties"].values():
            prop.pop("default", None)

        assert [] == spec_fixes.omit_request_defaults(clean)

    def test_response_defaults_are_kept(self, spec: dict[str, Any]) -> None:
        """A default in a response-only schema is not a request default."""
        document = copy.deepcopy(spec)
        schemas(document)["UrlImageItem"]["properties"]["seed"]["default"] = 0

        spec_fixes.omit_request_defaults(document)

        assert 0 == schemas(document)["UrlImageItem"]["properties"]["seed"]["default"]


class TestOpenResponseEnums:
    def test_applies_to_current_spec(self, spec: dict[str, Any]) -> None:
        """Both response items' response_format become plain strings; the request enum stays."""
        fixed = copy.deepcopy(spec)

        changes = spec_fixes.open_response_enums(fixed)

        assert [
            "/components/schemas/B64ImageItem/properties/response_format/enum",
            "/components/schemas/UrlImageItem/properties/response_format/enum",
        ] == changes
        request_format = schemas(fixed)["DedicatedImageGenerationBody"]["properties"][
            "response_format"
        ]
        assert ["url", "raw", "png", "jpeg", "jpg"] == request_format["anyOf"][0]["enum"]

    def test_no_longer_needed(self, spec: dict[str, Any]) -> None:
        """Response items without enums need nothing."""
        clean = copy.deepcopy(spec)
        for name in ("B64ImageItem", "UrlImageItem"):
            del schemas(clean)[name]["properties"]["response_format"]["enum"]

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
