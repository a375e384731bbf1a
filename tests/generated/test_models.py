"""The generated models read and write the bodies the facade relies on."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from friendli_images_api.models import (
    B64ImageItem,
    DedicatedImageGenerationBody,
    ImageGenerationDedicatedResult,
    ImageInput,
    ImageResponseFormat,
    UrlImageItem,
)

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
B64 = base64.b64encode(PNG_BYTES).decode("ascii")


class TestResultParsing:
    def test_url_response(self) -> None:
        """A url result parses into UrlImageItem with seed, format and URL kept."""
        body = {"data": [{"url": "https://cdn.example/a.png", "seed": 123, "response_format": "url"}]}

        result = ImageGenerationDedicatedResult.from_dict(body)

        assert len(result.data) == 1
        item = result.data[0]
        assert isinstance(item, UrlImageItem)
        assert (123, "url", "https://cdn.example/a.png") == (item.seed, item.response_format, item.url)

    @pytest.mark.parametrize("response_format", ["raw", "png", "jpeg", "jpg"])
    def test_base64_response(self, response_format: str) -> None:
        """Every base64 format parses into B64ImageItem holding the base64 text unchanged."""
        body = {"data": [{"b64_json": B64, "seed": 7, "response_format": response_format}]}

        result = ImageGenerationDedicatedResult.from_dict(body)

        item = result.data[0]
        assert isinstance(item, B64ImageItem)
        assert B64 == item.b64_json
        assert PNG_BYTES == base64.b64decode(item.b64_json)
        assert (7, response_format) == (item.seed, item.response_format)

    def test_several_images(self) -> None:
        """Several items keep their order and their own seeds."""
        body = {
            "data": [
                {"b64_json": B64, "seed": seed, "response_format": "png"} for seed in (3, 1, 2)
            ]
        }

        result = ImageGenerationDedicatedResult.from_dict(body)

        assert [3, 1, 2] == [item.seed for item in result.data]

    @pytest.mark.parametrize(
        "body",
        [
            {"data": [{"url": "https://x/y.png", "seed": 1, "response_format": "url"}]},
            {"data": [{"b64_json": B64, "seed": 2, "response_format": "png"}]},
            {"data": [{"b64_json": B64, "seed": 2, "response_format": "webp", "nsfw": False}]},
        ],
    )
    def test_round_trip(self, body: dict[str, Any]) -> None:
        """from_dict followed by to_dict gives back the original body."""
        assert body == ImageGenerationDedicatedResult.from_dict(body).to_dict()


class TestForwardCompatibility:
    def test_unknown_response_format_and_extra_properties(self) -> None:
        """An unlisted response_format and unknown properties parse and are kept."""
        body = {
            "data": [
                {"b64_json": B64, "seed": 9, "response_format": "webp", "width": 1024},
            ],
            "usage": {"gpu_seconds": 1.5},
        }

        result = ImageGenerationDedicatedResult.from_dict(body)

        item = result.data[0]
        assert "webp" == item.response_format
        assert 1024 == item["width"]
        assert {"gpu_seconds": 1.5} == result["usage"]

    def test_unknown_format_on_url_item(self) -> None:
        """A url item with a new format value still parses."""
        body = {"data": [{"url": "https://x/y", "seed": 1, "response_format": "avif"}]}

        item = ImageGenerationDedicatedResult.from_dict(body).data[0]

        assert isinstance(item, UrlImageItem)
        assert "avif" == item.response_format


class TestRequestBody:
    def test_only_required_fields(self) -> None:
        """A body with only model and prompt sends nothing else: no default steps or format."""
        body = DedicatedImageGenerationBody(model="ep-1", prompt="a cat")

        assert {"model": "ep-1", "prompt": "a cat"} == body.to_dict()

    def test_every_field(self) -> None:
        """Every field the caller sets is serialised, control images and weights included."""
        body = DedicatedImageGenerationBody(
            model="ep-1",
            prompt="a cat",
            num_inference_steps=30,
            guidance_scale=7.5,
            seed=42,
            response_format=ImageResponseFormat.PNG,
            control_images=[
                ImageInput(image="https://example.com/edge.png"),
                ImageInput(image="data:image/png;base64," + B64),
            ],
            controlnet_weights=[0.5, 1.0],
        )

        assert {
            "model": "ep-1",
            "prompt": "a cat",
            "num_inference_steps": 30,
            "guidance_scale": 7.5,
            "seed": 42,
            "response_format": "png",
            "control_images": [
                {"image": "https://example.com/edge.png"},
                {"image": "data:image/png;base64," + B64},
            ],
            "controlnet_weights": [0.5, 1.0],
        } == body.to_dict()

    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [
            ("num_inference_steps", 5, 5),
            ("guidance_scale", 3.0, 3.0),
            ("seed", 0, 0),
            ("response_format", ImageResponseFormat.JPEG, "jpeg"),
            ("controlnet_weights", [0.0], [0.0]),
        ],
    )
    def test_single_field(self, field: str, value: Any, expected: Any) -> None:
        """Setting one optional field adds exactly that field."""
        body = DedicatedImageGenerationBody(model="m", prompt="p", **{field: value})

        assert {"model": "m", "prompt": "p", field: expected} == body.to_dict()

    def test_request_formats(self) -> None:
        """The request enum lists exactly the formats the spec documents."""
        assert {"url", "raw", "png", "jpeg", "jpg"} == {f.value for f in ImageResponseFormat}
