"""Tracking of the edit and container operations: the change report and the spec fixes
cover them as they cover generation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from spec_diff import ChangeClass, Report, compare_specs
from spec_filter import parse_document, select_operations
from spec_fixes import apply_fixes
from update_spec import read_tracked

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT.parent / "shared" / "upstream" / "openapi-2026-07-22.yaml"
BASE = parse_document((ROOT / "openapi.yaml").read_text(encoding="utf-8"), "openapi.yaml")
TRACKED = read_tracked(ROOT / "scripts" / "tracked-operations.txt")
IMAGE_OPERATIONS = [
    "dedicatedImagesGenerate",
    "dedicatedImagesEdit",
    "containerImagesGenerate",
    "containerImagesEdit",
]
SCHEMAS = "/components/schemas"

Spec = dict[str, Any]


def schema(spec: Spec, name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def compare(mutation: Callable[[Spec], None]) -> Report:
    new = copy.deepcopy(BASE)
    mutation(new)
    return compare_specs(BASE, new, TRACKED, source="test")


def add_required(name: str, field: str) -> Callable[[Spec], None]:
    def mutation(spec: Spec) -> None:
        schema(spec, name)["properties"][field] = {"type": "string"}
        schema(spec, name)["required"].append(field)

    return mutation


def add_optional(name: str, field: str) -> Callable[[Spec], None]:
    def mutation(spec: Spec) -> None:
        schema(spec, name)["properties"][field] = {"type": "string"}

    return mutation


def drop_raw(name: str) -> Callable[[Spec], None]:
    def mutation(spec: Spec) -> None:
        schema(spec, name)["properties"]["response_format"]["anyOf"][0]["enum"].remove("raw")

    return mutation


def single_image_only(spec: Spec) -> None:
    schema(spec, "ContainerImageEditBody")["properties"]["image"] = {
        "$ref": "#/components/schemas/ImageInput"
    }


# (mutation, operation it shows under, expected class, pointer)
CASES = {
    "dedicated edit: new required field": (
        add_required("DedicatedImageEditBody", "mask"),
        "dedicatedImagesEdit",
        ChangeClass.BREAKING,
        f"{SCHEMAS}/DedicatedImageEditBody/properties/mask",
    ),
    "container generate: raw no longer accepted": (
        drop_raw("ContainerImageGenerationBody"),
        "containerImagesGenerate",
        ChangeClass.BREAKING,
        f"{SCHEMAS}/ContainerImageGenerationBody/properties/response_format/anyOf/0/enum",
    ),
    "container edit: new optional field": (
        add_optional("ContainerImageEditBody", "negative_prompt"),
        "containerImagesEdit",
        ChangeClass.NON_BREAKING,
        f"{SCHEMAS}/ContainerImageEditBody/properties/negative_prompt",
    ),
    "container edit: a list of images no longer accepted": (
        single_image_only,
        "containerImagesEdit",
        ChangeClass.BREAKING,
        f"{SCHEMAS}/ContainerImageEditBody/properties/image/anyOf/1",
    ),
    "container answer: new property": (
        add_optional("ImageGenerationContainerResult", "seed"),
        "containerImagesGenerate",
        ChangeClass.NON_BREAKING,
        f"{SCHEMAS}/ImageGenerationContainerResult/properties/seed",
    ),
}


class TestTracked:
    def test_all_four_image_operations_are_tracked(self) -> None:
        """tracked-operations.txt lists every image operation."""
        assert set(IMAGE_OPERATIONS) <= set(TRACKED)


class TestChangeReport:
    @pytest.mark.parametrize("case", list(CASES))
    def test_case(self, case: str) -> None:
        """A change to an edit or container schema is classified under its operation."""
        mutation, operation_id, kind, pointer = CASES[case]

        report = compare(mutation)

        by_operation = {
            op.operation_id: [(c.kind, c.pointer) for c in op.changes if c.kind > 1]
            for op in report.operations
        }
        assert (kind, pointer) in by_operation[operation_id], by_operation
        assert kind == max(c.kind for c in report.changes())

    @pytest.mark.skipif(not SNAPSHOT.is_file(), reason="no upstream snapshot beside this checkout")
    def test_snapshot_report_lists_every_operation(self) -> None:
        """The report on the 2026-07-22 snapshot names each of the four image operations."""
        upstream = parse_document(SNAPSHOT.read_text(encoding="utf-8"), str(SNAPSHOT))
        selected = select_operations(upstream, TRACKED).spec

        report = compare_specs(BASE, selected, TRACKED, source="snapshot")

        listed = {op.operation_id: (op.method, op.path) for op in report.operations}
        assert {
            "dedicatedImagesGenerate": ("post", "/dedicated/v1/images/generations"),
            "dedicatedImagesEdit": ("post", "/dedicated/v1/images/edits"),
            "containerImagesGenerate": ("post", "/v1/images/generations"),
            "containerImagesEdit": ("post", "/v1/images/edits"),
        } == {k: v for k, v in listed.items() if k in IMAGE_OPERATIONS}
        for operation_id in IMAGE_OPERATIONS:
            assert operation_id in report.to_markdown()


class TestSpecFixesCoverNewSchemas:
    @pytest.mark.parametrize(
        ("fix", "pointer"),
        [
            pytest.param(
                "base64_strings_in_json",
                f"{SCHEMAS}/ImageGenerationContainerResult/properties/image/format",
                id="container-image-is-base64",
            ),
            pytest.param(
                "omit_request_defaults",
                f"{SCHEMAS}/ContainerImageEditBody/properties/response_format/default",
                id="container-edit-default",
            ),
            pytest.param(
                "omit_request_defaults",
                f"{SCHEMAS}/ContainerImageGenerationBody/properties/guidance_scale/default",
                id="container-generate-default",
            ),
            pytest.param(
                "omit_request_defaults",
                f"{SCHEMAS}/DedicatedImageEditBody/properties/response_format/default",
                id="edit-default",
            ),
            pytest.param(
                "inline_titled_ref_aliases",
                f"{SCHEMAS}/ContainerImageEditSuccess",
                id="container-alias",
            ),
        ],
    )
    def test_applied(self, fix: str, pointer: str) -> None:
        """Each fix rewrites the new schemas with the same defect as the old ones."""
        _, outcomes = apply_fixes(BASE)

        changes = {outcome.name: outcome.changes for outcome in outcomes}
        assert pointer in changes[fix]

    def test_fixed_container_answer_is_a_string(self) -> None:
        """After the fixes, the container's image is plain base64 text, not a file."""
        fixed, _ = apply_fixes(BASE)

        image = schema(fixed, "ImageGenerationContainerResult")["properties"]["image"]
        assert ("string", None) == (image["type"], image.get("format"))
