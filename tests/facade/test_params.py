"""The parameters declared once (friendli_images._params): rules as tables, and the
TypedDicts checked by mypy so a misspelled keyword is a type error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from friendli_images import InvalidRequestError
from friendli_images._operations import (
    CONTAINER_EDIT,
    CONTAINER_GENERATE,
    DEDICATED_EDIT,
    DEDICATED_GENERATE,
    Operation,
)
from friendli_images._params import body_fields, edit_inputs
from friendli_images.testing import render_png
from friendli_images_api.models import ImageInput

ROOT = Path(__file__).resolve().parents[2]
PNG = render_png(1, 4, 4)


def fields(operation: Operation, **params: Any) -> dict[str, Any]:
    return body_fields(params, accepted=operation.accepted, formats=operation.formats)


class TestBodyFields:
    @pytest.mark.parametrize(
        ("operation", "params", "expected"),
        [
            pytest.param(DEDICATED_GENERATE, {}, {}, id="nothing"),
            pytest.param(DEDICATED_GENERATE, {"seed": None, "n": 3}, {}, id="none-and-options"),
            pytest.param(
                DEDICATED_GENERATE,
                {"num_inference_steps": 1, "guidance_scale": 2, "seed": -5},
                {"num_inference_steps": 1, "guidance_scale": 2.0, "seed": -5},
                id="sampling",
            ),
            pytest.param(
                DEDICATED_EDIT,
                {"num_inference_steps": 50},
                {"num_inference_steps": 50},
                id="edit-steps",
            ),
            pytest.param(CONTAINER_GENERATE, {"model": "route"}, {"model": "route"}, id="adapter"),
            pytest.param(
                CONTAINER_GENERATE,
                {"controlnet_weights": [1], "control_images": ["https://h/x.png"]},
                {"control_images": [ImageInput("https://h/x.png")], "controlnet_weights": [1.0]},
                id="control",
            ),
        ],
    )
    def test_sent_fields(
        self, operation: Operation, params: dict[str, Any], expected: dict[str, Any]
    ) -> None:
        """Given parameters become body fields; None and call options are not sent."""
        assert expected == fields(operation, **params)

    @pytest.mark.parametrize(
        ("operation", "response_format"),
        [
            pytest.param(DEDICATED_GENERATE, "jpg", id="generate"),
            pytest.param(DEDICATED_EDIT, "url", id="edit"),
            pytest.param(CONTAINER_GENERATE, "raw", id="container"),
            pytest.param(CONTAINER_EDIT, "jpeg", id="container-edit"),
        ],
    )
    def test_response_format_is_the_operations_enum(
        self, operation: Operation, response_format: str
    ) -> None:
        """The value becomes the generated enum of that operation's body."""
        value = fields(operation, response_format=response_format)["response_format"]

        assert (operation.formats, response_format) == (type(value), value.value)

    @pytest.mark.parametrize(
        ("operation", "params", "param"),
        [
            pytest.param(DEDICATED_GENERATE, {"sed": 1}, "sed", id="unknown"),
            pytest.param(
                DEDICATED_EDIT, {"control_images": []}, "control_images", id="edit-control"
            ),
            pytest.param(DEDICATED_GENERATE, {"model": "m"}, "model", id="model-is-required-arg"),
            pytest.param(CONTAINER_EDIT, {"team_id": "t"}, "team_id", id="container-team"),
            pytest.param(
                DEDICATED_GENERATE,
                {"num_inference_steps": 0},
                "num_inference_steps",
                id="steps-low",
            ),
            pytest.param(
                DEDICATED_GENERATE,
                {"num_inference_steps": 2.0},
                "num_inference_steps",
                id="steps-float",
            ),
            pytest.param(
                DEDICATED_GENERATE, {"guidance_scale": float("nan")}, "guidance_scale", id="nan"
            ),
            pytest.param(DEDICATED_GENERATE, {"guidance_scale": True}, "guidance_scale", id="bool"),
            pytest.param(DEDICATED_GENERATE, {"seed": "1"}, "seed", id="seed-str"),
            pytest.param(CONTAINER_GENERATE, {"model": ""}, "model", id="empty-model"),
            pytest.param(
                CONTAINER_GENERATE,
                {"response_format": "png"},
                "response_format",
                id="container-png",
            ),
            pytest.param(
                DEDICATED_GENERATE, {"response_format": "webp"}, "response_format", id="webp"
            ),
            pytest.param(
                DEDICATED_GENERATE,
                {"control_images": "x.png"},
                "control_images",
                id="images-not-list",
            ),
            pytest.param(
                DEDICATED_GENERATE,
                {"control_images": [PNG], "controlnet_weights": [1.5]},
                "controlnet_weights[0]",
                id="weight-range",
            ),
            pytest.param(
                DEDICATED_GENERATE,
                {"control_images": [PNG], "controlnet_weights": [1, 1]},
                "controlnet_weights",
                id="weight-count",
            ),
        ],
    )
    def test_rejected(self, operation: Operation, params: dict[str, Any], param: str) -> None:
        """Every rule names the parameter it rejects."""
        with pytest.raises(InvalidRequestError) as caught:
            fields(operation, **params)

        assert param == caught.value.param


class TestEditInputs:
    @pytest.mark.parametrize(
        ("image", "is_list"),
        [
            pytest.param(PNG, False, id="bytes"),
            pytest.param("https://h/x.png", False, id="url"),
            pytest.param([PNG], True, id="list"),
            pytest.param((PNG, "https://h/x.png"), True, id="tuple"),
        ],
    )
    def test_one_or_many(self, image: Any, is_list: bool) -> None:
        """A list or tuple is many inputs; anything else is one."""
        assert is_list == isinstance(edit_inputs(image), list)


class TestTypes:
    def test_misspelled_keywords_are_type_errors(self, tmp_path: Path) -> None:
        """mypy rejects unknown keywords and values outside each operation's Literal."""
        snippet = tmp_path / "calls.py"
        snippet.write_text(
            textwrap.dedent(
                """\
                from friendli_images import (
                    FriendliContainerImages, FriendliImages, edit_image, generate_image,
                )
                c = FriendliImages(token="t")
                k = FriendliContainerImages(base_url="http://127.0.0.1:1")
                c.generate("x", model="m", seed=1, n=2, control_images=[b""], timeout=3)
                c.edit([b""], "x", model="m", response_format="jpg", strict=True)
                k.generate("x", model=None, response_format="raw", controlnet_weights=None)
                k.edit(b"", "x", guidance_scale=1.0, max_retries=0)
                edit_image(b"", "x", model="m", token="t", save_to="out")
                c.generate("x", model="m", sed=1)  # line 11
                c.edit(b"", "x", model="m", control_images=[])  # line 12
                k.generate("x", response_format="png")  # line 13
                k.edit(b"", "x", guidance=1.0)  # line 14
                edit_image(b"", "x", model="m", tokn="t")  # line 15
                generate_image("x", model="m", sead=1, save_to="out")  # line 16
                generate_image("x", model="m", n=2, max_retries=0, token="t")
                """
            )
        )
        run = subprocess.run(
            [sys.executable, "-m", "mypy", "--no-error-summary", str(snippet)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

        lines = sorted(
            {int(line.split(":")[1]) for line in run.stdout.splitlines() if ": error:" in line}
        )
        assert [11, 12, 13, 14, 15, 16] == lines, run.stdout + run.stderr
