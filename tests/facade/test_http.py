"""The JSON body writer of the HTTP exchange, and the request id it reads back."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from friendli_images._control_images import prepare_control_image
from friendli_images._exceptions import request_id_of
from friendli_images._transport._exchange import _iter_parts, encode_json_body
from friendli_images.testing import render_png


class TestEncodeJsonBody:
    @pytest.mark.parametrize(
        "value",
        [
            {"model": "m", "prompt": "p"},
            {"prompt": 'ünïcödé "quotes" \\ and \n newlines', "seed": 0, "x": [1.5, None, True]},
            {"nested": {"a": [{"b": "c"}]}},
        ],
    )
    def test_plain_values_match_json(self, value: dict[str, Any]) -> None:
        """Without payloads the body is compact UTF-8 JSON of the value."""
        parts, length = encode_json_body(value)

        body = b"".join(_iter_parts(parts))
        assert value == json.loads(body)
        assert len(body) == length

    def test_payloads_stream_in_place(self) -> None:
        """Payloads are written where they stand, and the length is exact."""
        first = render_png(1, 40, 40)
        second = render_png(2, 8, 8)
        value = {
            "prompt": "p",
            "control_images": [
                {"image": prepare_control_image(first, "a")},
                {"image": "https://x/y.png"},
                {"image": prepare_control_image(second, "b")},
            ],
            "controlnet_weights": [0.5, 1.0, 0.0],
        }

        parts, length = encode_json_body(value)

        body = b"".join(_iter_parts(parts))
        assert len(body) == length
        decoded = json.loads(body)
        images = [item["image"] for item in decoded["control_images"]]
        assert images[1] == "https://x/y.png"
        assert images[0] == prepare_control_image(first, "a").to_data_uri()  # type: ignore[union-attr]
        assert [0.5, 1.0, 0.0] == decoded["controlnet_weights"]

    def test_nan_is_refused(self) -> None:
        """NaN is not JSON: it is never written."""
        with pytest.raises(ValueError, match="JSON"):
            encode_json_body({"guidance_scale": float("nan")})

    def test_other_objects_are_refused(self) -> None:
        """Only JSON values and payloads are written: anything else is a TypeError."""
        with pytest.raises(TypeError, match="not JSON serializable"):
            encode_json_body({"prompt": object()})

    def test_payloads_in_tuples(self) -> None:
        """A payload in a tuple streams as in a list (a tuple is a JSON array)."""
        image = render_png(3, 8, 8)
        payload = prepare_control_image(image, "a")

        parts, length = encode_json_body({"control_images": ({"image": payload},)})

        body = b"".join(_iter_parts(parts))
        assert len(body) == length
        expected = payload.to_data_uri()  # type: ignore[union-attr]
        assert [{"image": expected}] == json.loads(body)["control_images"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("req-1", "req-1"),
        ("  req-2\t", "req-2"),  # surrounding whitespace is not part of it
        ("", None),
        ("a b", None),  # a space inside
        ("caf\u00e9".encode(), None),  # not ASCII (sent as UTF-8 bytes)
        ("a\x7fb", None),  # DEL
        ("x" * 200, "x" * 200),
        ("x" * 201, None),  # too long to be an id
        ("~!#$%&'*+-.^_`|", "~!#$%&'*+-.^_`|"),
    ],
)
def test_request_id_of(header: str | bytes | None, expected: str | None) -> None:
    """The server's X-Request-Id is kept when it is 1-200 visible ASCII characters."""
    raw = header.encode() if isinstance(header, str) else header
    headers = [] if raw is None else [(b"X-Request-Id", raw)]
    response = httpx.Response(200, headers=headers)

    assert expected == request_id_of(response)
