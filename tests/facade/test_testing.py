"""Tests for friendli_images.testing: the loopback test server, driven with raw httpx."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import httpx
import pytest
from friendli_images.testing import (
    DEFAULT_TOKEN,
    GENERATION_PATH,
    MAX_CONTROL_IMAGE_BYTES,
    Delay,
    DropConnection,
    ErrorStatus,
    Fault,
    FriendliTestServer,
    InvalidJson,
    TruncatedBody,
    WrongShape,
    jpeg_backend,
    render_jpeg,
    render_png,
    validate_request_body,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
BODY: dict[str, Any] = {"model": "endpoint-id", "prompt": "an orange car at night"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mock_server() -> Iterator[FriendliTestServer]:
    """A FriendliTestServer of this module's own, checked for internal errors afterwards."""
    with FriendliTestServer() as running:
        yield running
    assert [] == running.errors


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # trust_env=False: no proxy from the environment may come between us and 127.0.0.1.
    with httpx.Client(trust_env=False, timeout=30) as http:
        yield http


def generate(
    http: httpx.Client, mock_server: FriendliTestServer, body: Any = None, **kwargs: Any
) -> httpx.Response:
    headers = kwargs.pop("headers", AUTH)
    return http.post(
        mock_server.generation_url, json=BODY if body is None else body, headers=headers, **kwargs
    )


def only_item(response: httpx.Response) -> dict[str, Any]:
    assert 200 == response.status_code, response.text
    data = response.json()["data"]
    assert 1 == len(data)
    item: dict[str, Any] = data[0]
    return item


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, payload) chunks, checking the signature and every CRC."""
    assert PNG_SIGNATURE == data[:8]
    chunks = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + payload) == crc
        chunks.append((kind, payload))
        offset += 12 + length
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    chunks = png_chunks(data)
    assert b"IHDR" == chunks[0][0]
    assert b"IEND" == chunks[-1][0]
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (8, 2) == (depth, color)
    return width, height


def decode_with_pillow(data: bytes) -> tuple[str, tuple[int, int], str]:
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(io.BytesIO(data)) as image:
        image.load()
        return str(image.format), image.size, image.mode


def data_uri_body(decoded_size: int) -> bytes:
    """A request body whose one control image decodes to ``decoded_size`` zero bytes."""
    full, rest = divmod(decoded_size, 3)
    payload = b"AAAA" * full + (b"", b"AA==", b"AAA=")[rest]
    return (
        b'{"model":"m","prompt":"p","control_images":[{"image":"data:image/png;base64,'
        + payload
        + b'"}]}'
    )


def detail(response: httpx.Response) -> list[dict[str, Any]]:
    assert 422 == response.status_code, response.text
    errors: list[dict[str, Any]] = response.json()["detail"]
    return errors


class TestRendering:
    def test_png_is_well_formed(self) -> None:
        """render_png returns a PNG with signature, IHDR, IDAT and IEND and valid CRCs."""
        data = render_png(7, 33, 17)

        assert [b"IHDR", b"IDAT", b"IEND"] == [kind for kind, _ in png_chunks(data)]
        assert (33, 17) == png_size(data)
        idat = b"".join(payload for kind, payload in png_chunks(data) if kind == b"IDAT")
        assert 17 * (1 + 3 * 33) == len(zlib.decompress(idat))

    def test_png_decodes_with_pillow(self) -> None:
        """Pillow reads the hand-written PNG as an RGB image of the requested size."""
        assert ("PNG", (40, 30), "RGB") == decode_with_pillow(render_png(3, 40, 30))

    def test_same_seed_same_bytes(self) -> None:
        """The same seed and size give identical bytes; another seed gives other bytes."""
        assert render_png(11, 64, 48) == render_png(11, 64, 48)
        assert render_png(11, 64, 48) != render_png(12, 64, 48)
        assert render_png(-11, 64, 48) != render_png(11, 64, 48)

    def test_size_scales_with_dimensions(self) -> None:
        """A 1670x1670 PNG is about 8 MiB (3 bytes a pixel) and renders quickly."""
        start = time.perf_counter()
        data = render_png(424242, 1670, 1670)
        elapsed = time.perf_counter() - start

        assert abs(len(data) - 1670 * (1 + 3 * 1670)) < 2048
        assert (1670, 1670) == png_size(data)
        assert elapsed < 5

    def test_jpeg_is_a_jpeg(self) -> None:
        """render_jpeg returns SOI ... EOI bytes that decode to the requested size."""
        data = render_jpeg(5, 50, 20)

        assert data.startswith(b"\xff\xd8")
        assert data.endswith(b"\xff\xd9")
        assert ("JPEG", (50, 20)) == decode_with_pillow(data)[:2]
        assert render_jpeg(5, 50, 20) == data

    def test_jpeg_is_pillow_always(self) -> None:
        """JPEG comes from Pillow: the same RGB picture as the PNG, not a grayscale stand-in."""
        assert "pillow" == jpeg_backend()
        assert ("JPEG", (45, 13), "RGB") == decode_with_pillow(render_jpeg(9, 45, 13))
        assert render_jpeg(10, 45, 13) != render_jpeg(9, 45, 13)

    @pytest.mark.parametrize(("width", "height"), [(0, 5), (5, 0), (16385, 1)])
    def test_rejects_bad_dimensions(self, width: int, height: int) -> None:
        """Dimensions outside [1, 16384] raise ValueError."""
        with pytest.raises(ValueError, match="must be in"):
            render_png(1, width, height)


class TestLifecycle:
    def test_context_manager_serves_and_stops(self, http: httpx.Client) -> None:
        """Inside the with-block both listeners answer; afterwards the ports are closed."""
        with FriendliTestServer() as mock_server:
            base_url = mock_server.base_url
            assert mock_server.port != mock_server.image_port
            assert base_url.startswith("http://127.0.0.1:")
            assert 404 == http.get(base_url + "/nowhere").status_code

        with pytest.raises(httpx.ConnectError):
            http.get(base_url + "/nowhere")

    def test_start_and_stop(self, http: httpx.Client) -> None:
        """start() returns the server, stop() is idempotent, and addresses need a running server."""
        mock_server = FriendliTestServer(token="other")
        with pytest.raises(RuntimeError, match="not running"):
            _ = mock_server.base_url

        assert mock_server is mock_server.start()
        try:
            with pytest.raises(RuntimeError, match="already running"):
                mock_server.start()
            assert (
                200
                == generate(
                    http, mock_server, headers={"Authorization": "Bearer other"}
                ).status_code
            )
        finally:
            mock_server.stop()
        mock_server.stop()

        with mock_server:
            assert (
                200
                == generate(
                    http, mock_server, headers={"Authorization": "Bearer other"}
                ).status_code
            )

    def test_stop_closes_idle_keep_alive_connections(self, http: httpx.Client) -> None:
        """stop() returns promptly although the client holds an idle keep-alive connection."""
        mock_server = FriendliTestServer().start()
        assert 200 == generate(http, mock_server).status_code

        start = time.perf_counter()
        mock_server.stop()

        assert time.perf_counter() - start < 2

    def test_stop_interrupts_a_sleeping_request(self) -> None:
        """stop() wakes a request that waits out its latency and drops its connection."""
        mock_server = FriendliTestServer(latency=60).start()
        outcome: list[BaseException] = []

        def call() -> None:
            with httpx.Client(trust_env=False, timeout=30) as http:
                try:
                    generate(http, mock_server)
                except httpx.HTTPError as exc:
                    outcome.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        deadline = time.monotonic() + 5
        while not mock_server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.perf_counter()
        mock_server.stop()
        thread.join(5)

        assert time.perf_counter() - start < 3
        assert 1 == len(outcome)
        assert isinstance(outcome[0], httpx.TransportError)

    def test_repr_hides_token(self, mock_server: FriendliTestServer) -> None:
        """The repr shows both origins but never the token."""
        text = repr(mock_server)

        assert mock_server.base_url in text
        assert mock_server.image_base_url in text
        assert DEFAULT_TOKEN not in text

    def test_rejects_bad_configuration(self) -> None:
        """A negative latency or an impossible image size fails at construction."""
        with pytest.raises(ValueError, match="latency"):
            FriendliTestServer(latency=-1)
        with pytest.raises(ValueError, match="width"):
            FriendliTestServer(image_size=(0, 10))


class TestAuth:
    def test_missing_token(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """A request without Authorization is a 401 with a JSON detail."""
        response = generate(http, mock_server, headers={})

        assert 401 == response.status_code
        assert "Missing Authorization header" == response.json()["detail"]
        assert "Bearer" == response.headers["www-authenticate"]

    @pytest.mark.parametrize(
        "authorization", ["Bearer wrong", "Basic dGVzdC10b2tlbg==", "Bearer", "test-token"]
    )
    def test_wrong_token(
        self, mock_server: FriendliTestServer, http: httpx.Client, authorization: str
    ) -> None:
        """A wrong token or another scheme is a 401."""
        response = generate(http, mock_server, headers={"Authorization": authorization})

        assert 401 == response.status_code
        assert isinstance(response.json()["detail"], str)

    def test_scheme_is_case_insensitive(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """'bearer' in lower case is accepted, as RFC 7235 says."""
        response = generate(http, mock_server, headers={"Authorization": f"bearer {DEFAULT_TOKEN}"})

        assert 200 == response.status_code

    def test_custom_token(self, http: httpx.Client) -> None:
        """The token passed to the constructor is the one accepted."""
        with FriendliTestServer(token="s3cret") as mock_server:
            assert "s3cret" == mock_server.token
            assert 401 == generate(http, mock_server).status_code
            ok = generate(http, mock_server, headers={"Authorization": "Bearer s3cret"})
            assert 200 == ok.status_code


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "loc", "type_"),
        [
            pytest.param({"prompt": "p"}, ["body", "model"], "missing", id="model-missing"),
            pytest.param({"model": "m"}, ["body", "prompt"], "missing", id="prompt-missing"),
            pytest.param(
                {"model": 1, "prompt": "p"}, ["body", "model"], "string_type", id="model-not-string"
            ),
            pytest.param(
                {**BODY, "prompt": None}, ["body", "prompt"], "string_type", id="prompt-null"
            ),
            pytest.param(
                {**BODY, "num_inference_steps": "20"},
                ["body", "num_inference_steps"],
                "int_type",
                id="steps-string",
            ),
            pytest.param(
                {**BODY, "num_inference_steps": 20.0},
                ["body", "num_inference_steps"],
                "int_type",
                id="steps-float",
            ),
            pytest.param(
                {**BODY, "num_inference_steps": True},
                ["body", "num_inference_steps"],
                "int_type",
                id="steps-bool",
            ),
            pytest.param(
                {**BODY, "num_inference_steps": None},
                ["body", "num_inference_steps"],
                "int_type",
                id="steps-null",
            ),
            pytest.param(
                {**BODY, "guidance_scale": "7"},
                ["body", "guidance_scale"],
                "float_type",
                id="guidance-string",
            ),
            pytest.param(
                {**BODY, "guidance_scale": False},
                ["body", "guidance_scale"],
                "float_type",
                id="guidance-bool",
            ),
            pytest.param({**BODY, "seed": 1.5}, ["body", "seed"], "int_type", id="seed-float"),
            pytest.param({**BODY, "seed": "42"}, ["body", "seed"], "int_type", id="seed-string"),
            pytest.param(
                {**BODY, "response_format": "gif"},
                ["body", "response_format"],
                "enum",
                id="format-unknown",
            ),
            pytest.param(
                {**BODY, "response_format": "PNG"},
                ["body", "response_format"],
                "enum",
                id="format-case",
            ),
            pytest.param(
                {**BODY, "control_images": "x"},
                ["body", "control_images"],
                "list_type",
                id="images-not-list",
            ),
            pytest.param(
                {**BODY, "control_images": ["x"]},
                ["body", "control_images", 0],
                "dict_type",
                id="image-not-object",
            ),
            pytest.param(
                {**BODY, "control_images": [{}]},
                ["body", "control_images", 0, "image"],
                "missing",
                id="image-field-missing",
            ),
            pytest.param(
                {**BODY, "control_images": [{"image": 5}]},
                ["body", "control_images", 0, "image"],
                "string_type",
                id="image-not-string",
            ),
            pytest.param(
                {**BODY, "controlnet_weights": 0.5},
                ["body", "controlnet_weights"],
                "list_type",
                id="weights-not-list",
            ),
            pytest.param(
                {
                    **BODY,
                    "control_images": [{"image": "https://x/a.png"}],
                    "controlnet_weights": ["1"],
                },
                ["body", "controlnet_weights", 0],
                "float_type",
                id="weight-not-number",
            ),
        ],
    )
    def test_schema_violations(
        self,
        mock_server: FriendliTestServer,
        http: httpx.Client,
        body: dict[str, Any],
        loc: list[str | int],
        type_: str,
    ) -> None:
        """Each schema violation is a 422 naming the field's location and the error type."""
        errors = detail(generate(http, mock_server, body))

        assert [(loc, type_)] == [(error["loc"], error["type"]) for error in errors]
        assert all(isinstance(error["msg"], str) and error["msg"] for error in errors)

    def test_enum_message_lists_the_spec_values(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """The enum error lists the values of the spec's enum."""
        errors = detail(generate(http, mock_server, {**BODY, "response_format": "gif"}))

        assert "Input should be 'url', 'raw', 'png', 'jpeg' or 'jpg'" == errors[0]["msg"]

    def test_every_spec_enum_value_is_accepted(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """Every response_format the shipped spec lists is accepted."""
        spec_file = resources.files("friendli_images_api") / "openapi.json"
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        prop = spec["components"]["schemas"]["DedicatedImageGenerationBody"]["properties"]
        values = [v for branch in prop["response_format"]["anyOf"] for v in branch.get("enum", [])]

        assert values
        for value in values:
            assert (
                200 == generate(http, mock_server, {**BODY, "response_format": value}).status_code
            )

    def test_several_errors_at_once(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """All problems are reported together, in the schema's field order."""
        body = {"model": 1, "num_inference_steps": 0, "seed": "x"}
        errors = detail(generate(http, mock_server, body))

        assert [
            ["body", "model"],
            ["body", "prompt"],
            ["body", "seed"],
            ["body", "num_inference_steps"],
        ] == [error["loc"] for error in errors]

    def test_nulls_and_extra_fields_are_accepted(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """Nullable fields may be null, and unknown fields are ignored like FastAPI does."""
        body = {
            **BODY,
            "guidance_scale": None,
            "seed": None,
            "response_format": None,
            "control_images": None,
            "controlnet_weights": None,
            "unknown_field": [1, 2],
        }

        assert "url" == only_item(generate(http, mock_server, body))["response_format"]

    @pytest.mark.parametrize(("steps", "status"), [(0, 422), (1, 200), (50, 200), (51, 422)])
    def test_steps_range(
        self, mock_server: FriendliTestServer, http: httpx.Client, steps: int, status: int
    ) -> None:
        """num_inference_steps must lie in [1, 50]."""
        response = generate(http, mock_server, {**BODY, "num_inference_steps": steps})

        assert status == response.status_code
        if status == 422:
            expected = "greater_than_equal" if steps < 1 else "less_than_equal"
            assert [(["body", "num_inference_steps"], expected)] == [
                (e["loc"], e["type"]) for e in detail(response)
            ]

    @pytest.mark.parametrize(
        ("weight", "type_"),
        [(-0.01, "greater_than_equal"), (1.01, "less_than_equal"), (2, "less_than_equal")],
    )
    def test_weight_range(
        self, mock_server: FriendliTestServer, http: httpx.Client, weight: float, type_: str
    ) -> None:
        """Each ControlNet weight must lie in [0, 1]."""
        body = {
            **BODY,
            "control_images": [{"image": "https://a/1.png"}, {"image": "https://a/2.png"}],
            "controlnet_weights": [0.5, weight],
        }

        errors = detail(generate(http, mock_server, body))

        assert [(["body", "controlnet_weights", 1], type_)] == [
            (e["loc"], e["type"]) for e in errors
        ]

    def test_weight_bounds_are_inclusive(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """Weights of exactly 0 and 1 are accepted."""
        body = {
            **BODY,
            "control_images": [{"image": "https://a/1.png"}, {"image": "http://a/2.png"}],
            "controlnet_weights": [0, 1.0],
        }

        assert 200 == generate(http, mock_server, body).status_code

    def test_weight_count_must_match_images(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """There must be exactly one weight per control image."""
        body = {
            **BODY,
            "control_images": [{"image": "https://a/1.png"}],
            "controlnet_weights": [1, 1],
        }

        errors = detail(generate(http, mock_server, body))

        assert [(["body", "controlnet_weights"], "value_error")] == [
            (e["loc"], e["type"]) for e in errors
        ]
        assert "2 values" in errors[0]["msg"]

    @pytest.mark.parametrize("images", ["absent", None])
    def test_weights_need_control_images(
        self, mock_server: FriendliTestServer, http: httpx.Client, images: str | None
    ) -> None:
        """Weights without control images are rejected."""
        body: dict[str, Any] = {**BODY, "controlnet_weights": [0.5]}
        if images != "absent":
            body["control_images"] = images

        errors = detail(generate(http, mock_server, body))

        assert [(["body", "controlnet_weights"], "value_error")] == [
            (e["loc"], e["type"]) for e in errors
        ]

    @pytest.mark.parametrize(
        "image",
        [
            pytest.param("ftp://example.com/a.png", id="ftp-url"),
            pytest.param("example.com/a.png", id="no-scheme"),
            pytest.param("http://", id="url-without-host"),
            pytest.param("iVBORw0KGgo=", id="bare-base64"),
            pytest.param("data:image/png,iVBORw0KGgo=", id="data-uri-not-base64"),
            pytest.param("data:;base64,iVBORw0KGgo=", id="data-uri-no-type"),
            pytest.param("data:image/png;base64,not base64!", id="bad-base64"),
            pytest.param("data:image/png;base64,AAA", id="base64-bad-length"),
            pytest.param("data:image/png;base64,", id="empty-data"),
        ],
    )
    def test_bad_control_images(
        self, mock_server: FriendliTestServer, http: httpx.Client, image: str
    ) -> None:
        """A control image must be an http(s) URL or a decodable base64 data URI."""
        body = {**BODY, "control_images": [{"image": image}]}

        errors = detail(generate(http, mock_server, body))

        assert [(["body", "control_images", 0, "image"], "value_error")] == [
            (e["loc"], e["type"]) for e in errors
        ]

    @pytest.mark.parametrize(
        "image",
        [
            pytest.param("https://example.com/cat.png", id="https-url"),
            pytest.param("http://127.0.0.1:9/x.png?sig=1", id="http-url-with-query"),
            pytest.param(
                "data:image/png;base64," + base64.b64encode(render_png(1, 4, 4)).decode(),
                id="png-data-uri",
            ),
            pytest.param(
                "data:image/jpeg;name=x.jpg;base64,"
                + base64.b64encode(b"\xff\xd8\xff\xd9").decode(),
                id="data-uri-with-parameter",
            ),
        ],
    )
    def test_good_control_images(
        self, mock_server: FriendliTestServer, http: httpx.Client, image: str
    ) -> None:
        """URLs and base64 data URIs (with parameters) are accepted, and never fetched."""
        response = generate(http, mock_server, {**BODY, "control_images": [{"image": image}]})

        assert 200 == response.status_code
        assert 1 == len(mock_server.requests)

    def test_fifty_mib_exactly_is_accepted(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """A control image of exactly 50 MiB decoded is accepted."""
        body = data_uri_body(MAX_CONTROL_IMAGE_BYTES)

        response = http.post(
            mock_server.generation_url,
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )

        assert 200 == response.status_code, response.text[:300]
        assert len(body) == mock_server.requests[0].body_length

    def test_one_byte_over_fifty_mib_is_rejected(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """A control image one byte over 50 MiB decoded is a 422 naming the limit."""
        body = data_uri_body(MAX_CONTROL_IMAGE_BYTES + 1)

        response = http.post(
            mock_server.generation_url,
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )

        errors = detail(response)
        assert [["body", "control_images", 0, "image"]] == [e["loc"] for e in errors]
        assert str(MAX_CONTROL_IMAGE_BYTES) in errors[0]["msg"]

    @pytest.mark.parametrize(
        ("content", "loc"), [(b"{bad json", ["body", 1]), (b'{"model": NaN}', ["body", 0])]
    )
    def test_malformed_json(
        self,
        mock_server: FriendliTestServer,
        http: httpx.Client,
        content: bytes,
        loc: list[str | int],
    ) -> None:
        """A body that is not JSON is a 422 json_invalid, as FastAPI answers."""
        headers = {**AUTH, "Content-Type": "application/json"}
        errors = detail(http.post(mock_server.generation_url, content=content, headers=headers))

        assert [(loc, "json_invalid")] == [(e["loc"], e["type"]) for e in errors]

    def test_empty_body(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """An empty body is a 422 'missing' at the body itself."""
        errors = detail(http.post(mock_server.generation_url, headers=AUTH))

        assert [(["body"], "missing")] == [(e["loc"], e["type"]) for e in errors]

    @pytest.mark.parametrize("payload", [[], "text", 3, None, [BODY]])
    def test_body_must_be_an_object(
        self, mock_server: FriendliTestServer, http: httpx.Client, payload: object
    ) -> None:
        """A JSON body that is not an object is a 422 at the body."""
        headers = {**AUTH, "Content-Type": "application/json"}
        response = http.post(
            mock_server.generation_url, content=json.dumps(payload), headers=headers
        )

        assert [(["body"], "dict_type")] == [(e["loc"], e["type"]) for e in detail(response)]

    def test_non_json_content_type(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """A body declared as text/plain is a 422, as FastAPI answers."""
        headers = {**AUTH, "Content-Type": "text/plain"}
        response = http.post(mock_server.generation_url, content=json.dumps(BODY), headers=headers)

        assert [(["body"], "model_attributes_type")] == [
            (e["loc"], e["type"]) for e in detail(response)
        ]

    def test_validate_request_body_directly(self) -> None:
        """validate_request_body gives the server's verdict without a request."""
        assert [] == validate_request_body(BODY)
        assert [["body", "prompt"]] == [e["loc"] for e in validate_request_body({"model": "m"})]


class TestResponses:
    def test_url_is_the_default(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Without response_format the result is a URL on the image host's origin."""
        item = only_item(generate(http, mock_server))

        assert "url" == item["response_format"]
        assert isinstance(item["seed"], int)
        assert item["url"].startswith(mock_server.image_base_url + "/images/")
        assert not item["url"].startswith(mock_server.base_url)

    def test_url_image_downloads_without_token(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """The URL serves the seed's PNG with its type and length, and asks for no token."""
        item = only_item(generate(http, mock_server, {**BODY, "seed": 77}))

        response = http.get(item["url"])

        assert 200 == response.status_code
        assert "image/png" == response.headers["content-type"]
        assert str(len(response.content)) == response.headers["content-length"]
        assert render_png(77, 64, 64) == response.content
        assert "authorization" not in mock_server.image_requests[0].headers

    def test_head_on_image(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """HEAD on an image gives its headers and no body."""
        url = only_item(generate(http, mock_server, {**BODY, "seed": 5}))["url"]

        response = http.head(url)

        assert 200 == response.status_code
        assert str(len(render_png(5, 64, 64))) == response.headers["content-length"]
        assert b"" == response.content

    @pytest.mark.parametrize("response_format", ["png", "raw"])
    def test_png_formats(
        self, mock_server: FriendliTestServer, http: httpx.Client, response_format: str
    ) -> None:
        """png and raw return a base64 PNG of image_size."""
        item = only_item(generate(http, mock_server, {**BODY, "response_format": response_format}))

        assert response_format == item["response_format"]
        image = base64.b64decode(item["b64_json"], validate=True)
        assert (64, 64) == png_size(image)
        assert ("PNG", (64, 64), "RGB") == decode_with_pillow(image)

    @pytest.mark.parametrize("response_format", ["jpeg", "jpg"])
    def test_jpeg_formats(
        self, mock_server: FriendliTestServer, http: httpx.Client, response_format: str
    ) -> None:
        """jpeg and jpg return a base64 JPEG of image_size."""
        item = only_item(generate(http, mock_server, {**BODY, "response_format": response_format}))

        assert response_format == item["response_format"]
        image = base64.b64decode(item["b64_json"], validate=True)
        assert image.startswith(b"\xff\xd8")
        assert ("JPEG", (64, 64)) == decode_with_pillow(image)[:2]

    def test_deterministic_by_seed(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """The same seed gives the same image and echoes the seed; another seed differs."""
        first = only_item(
            generate(http, mock_server, {**BODY, "seed": 1234, "response_format": "png"})
        )
        second = only_item(
            generate(http, mock_server, {**BODY, "seed": 1234, "response_format": "png"})
        )
        other = only_item(
            generate(http, mock_server, {**BODY, "seed": 1235, "response_format": "png"})
        )

        assert 1234 == first["seed"]
        assert first == second
        assert first["b64_json"] != other["b64_json"]
        assert render_png(1234, 64, 64) == base64.b64decode(first["b64_json"])

    def test_server_picks_seeds(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Without a seed the server reports the one it picked, a counter from 1."""
        seeds = [only_item(generate(http, mock_server))["seed"] for _ in range(3)]

        assert [1, 2, 3] == seeds

    def test_image_size(self, http: httpx.Client) -> None:
        """image_size sets the generated images' dimensions, also while running."""
        with FriendliTestServer(image_size=(20, 10)) as mock_server:
            item = only_item(generate(http, mock_server, {**BODY, "response_format": "png"}))
            assert (20, 10) == png_size(base64.b64decode(item["b64_json"]))

            mock_server.image_size = (8, 9)
            url = only_item(generate(http, mock_server))["url"]
            assert (8, 9) == png_size(http.get(url).content)

    def test_unknown_image(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """An unknown image id is a JSON 404 on the image host."""
        response = http.get(mock_server.image_base_url + "/images/0123456789abcdef.png")

        assert 404 == response.status_code
        assert "Image not found" == response.json()["detail"]

    def test_unknown_paths(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Unknown paths are JSON 404s on both listeners."""
        for url in (
            mock_server.base_url + "/v1/chat/completions",
            mock_server.image_base_url + "/",
        ):
            response = http.get(url)
            assert 404 == response.status_code
            assert "Not Found" == response.json()["detail"]

    def test_wrong_methods(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Wrong methods are JSON 405s that name the allowed ones."""
        api = http.get(mock_server.generation_url, headers=AUTH)
        url = only_item(generate(http, mock_server))["url"]
        image = http.post(url, content=b"x")

        assert (405, "POST") == (api.status_code, api.headers["allow"])
        assert (405, "GET, HEAD") == (image.status_code, image.headers["allow"])
        assert "Method Not Allowed" == api.json()["detail"]

    @pytest.mark.parametrize(
        "method",
        [pytest.param("TRACE", id="trace"), pytest.param("QUERY", id="query")],
    )
    def test_other_methods(
        self, mock_server: FriendliTestServer, http: httpx.Client, method: str
    ) -> None:
        """Methods without a handler are 405 with Allow on a known path (not 501), 404 elsewhere."""
        known = http.request(method, mock_server.generation_url, headers=AUTH)
        unknown = http.request(method, mock_server.base_url + "/nowhere", headers=AUTH)

        assert (405, "POST") == (known.status_code, known.headers["allow"])
        assert 404 == unknown.status_code


class TestRequestBodies:
    def test_chunked_body(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """A body sent with Transfer-Encoding: chunked is reassembled and accepted."""
        raw = json.dumps({**BODY, "seed": 8}).encode()

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(raw), 7):
                yield raw[start : start + 7]

        response = http.post(mock_server.generation_url, content=pieces(), headers=AUTH)

        assert 8 == only_item(response)["seed"]
        recorded = mock_server.generation_requests[0]
        assert "chunked" == recorded.headers["transfer-encoding"]
        assert raw == recorded.body

    def test_large_chunked_body(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """A 70 MB chunked body (a 50 MiB image as base64) is read in linear time."""
        body = data_uri_body(MAX_CONTROL_IMAGE_BYTES)
        piece = 1 << 20

        def pieces() -> Iterator[bytes]:
            view = memoryview(body)
            for start in range(0, len(body), piece):
                yield bytes(view[start : start + piece])

        start = time.perf_counter()
        response = http.post(
            mock_server.generation_url,
            content=pieces(),
            headers={**AUTH, "Content-Type": "application/json"},
        )

        assert 200 == response.status_code, response.text[:300]
        assert time.perf_counter() - start < 15
        assert len(body) == mock_server.requests[0].body_length

    def test_keep_alive(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Consecutive requests from one client reuse one connection."""
        generate(http, mock_server)
        generate(http, mock_server, {"model": "m"})
        generate(http, mock_server, headers={})

        ids = {request.connection_id for request in mock_server.requests}
        assert 1 == len(ids)

    def test_body_too_large(self, http: httpx.Client) -> None:
        """A body over max_body_bytes is a 413 and the connection is closed."""
        with FriendliTestServer(max_body_bytes=100) as mock_server:
            response = generate(http, mock_server, {**BODY, "prompt": "x" * 200})

            assert 413 == response.status_code
            assert "close" == response.headers["connection"]
            (request,) = mock_server.requests
            assert (b"", None) == (request.body, request.fault)

    def test_expect_100_continue(self, mock_server: FriendliTestServer) -> None:
        """A client that sends Expect: 100-continue gets the interim response, then the answer."""
        body = json.dumps(BODY).encode()
        head = (
            f"POST {GENERATION_PATH} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {DEFAULT_TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", mock_server.port), timeout=5) as sock:
            sock.sendall(head)
            interim = sock.recv(65536)
            sock.sendall(body)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk

        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param(b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk-size"),
            pytest.param(
                b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", id="chunk-longer-than-size"
            ),
            pytest.param(b"Transfer-Encoding: gzip\r\n\r\n", id="unsupported-encoding"),
            pytest.param(b"Content-Length: abc\r\n\r\n", id="bad-content-length"),
        ],
    )
    def test_broken_framing(self, mock_server: FriendliTestServer, raw: bytes) -> None:
        """Broken Content-Length or chunked framing is answered 4xx/5xx and closed."""
        request = f"POST {GENERATION_PATH} HTTP/1.1\r\nHost: x\r\n".encode() + raw
        with socket.create_connection(("127.0.0.1", mock_server.port), timeout=5) as sock:
            sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk

        status = int(received.split(b" ", 2)[1])
        assert status in (400, 501)
        assert b"connection: close" in received.lower()


class TestFaults:
    def test_delay(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Delay waits, then the request is answered normally."""
        mock_server.inject(Delay(0.3))
        start = time.perf_counter()

        response = generate(http, mock_server)

        assert time.perf_counter() - start >= 0.29  # timer granularity
        assert 200 == response.status_code

    @pytest.mark.parametrize("status", [400, 403, 404, 500, 502, 503, 504])
    def test_error_status(
        self, mock_server: FriendliTestServer, http: httpx.Client, status: int
    ) -> None:
        """ErrorStatus answers its status with a JSON detail naming it."""
        mock_server.inject(ErrorStatus(status))

        response = generate(http, mock_server)

        assert status == response.status_code
        assert str(status) in response.json()["detail"]
        assert "retry-after" not in response.headers

    def test_error_status_after_a_delay(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """ErrorStatus(delay=...) refuses only after that long, as a queue timeout does."""
        mock_server.inject(ErrorStatus(503, delay=0.3))
        start = time.perf_counter()

        response = generate(http, mock_server)

        assert time.perf_counter() - start >= 0.29  # timer granularity
        assert 503 == response.status_code

    @pytest.mark.parametrize(
        ("retry_after", "header"),
        [
            (2, "2"),
            (0.5, "0.5"),
            (datetime(2030, 1, 1, 12, 0, tzinfo=UTC), "Tue, 01 Jan 2030 12:00:00 GMT"),
            (datetime(2030, 1, 1, 12, 0), "Tue, 01 Jan 2030 12:00:00 GMT"),
            ("soon", "soon"),
        ],
    )
    def test_rate_limited_retry_after(
        self,
        mock_server: FriendliTestServer,
        http: httpx.Client,
        retry_after: float | datetime | str,
        header: str,
    ) -> None:
        """A 429 carries Retry-After as seconds, an HTTP-date or any given string."""
        mock_server.inject(ErrorStatus.rate_limited(retry_after=retry_after, message="slow down"))

        response = generate(http, mock_server)

        assert 429 == response.status_code
        assert header == response.headers["retry-after"]
        assert {"detail": "slow down"} == response.json()

    def test_custom_error_body_and_headers(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """ErrorStatus sends a custom JSON body, raw bytes, and extra headers."""
        mock_server.inject(
            ErrorStatus(500, body={"error": {"message": "boom"}}, headers={"X-Req": "1"})
        )
        mock_server.inject(
            ErrorStatus(502, body=b"<html>bad gateway</html>", content_type="text/html")
        )

        first = generate(http, mock_server)
        second = generate(http, mock_server)

        assert {"error": {"message": "boom"}} == first.json()
        assert "1" == first.headers["x-req"]
        assert (502, b"<html>bad gateway</html>") == (second.status_code, second.content)
        assert "text/html" == second.headers["content-type"]

    def test_drop_connection(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """DropConnection closes without a response: httpx raises RemoteProtocolError."""
        mock_server.inject(DropConnection())

        with pytest.raises(httpx.RemoteProtocolError):
            generate(http, mock_server)

        assert [DropConnection()] == [request.fault for request in mock_server.requests]
        assert BODY == mock_server.requests[0].json
        assert 200 == generate(http, mock_server).status_code

    def test_truncated_body(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """TruncatedBody promises more bytes than it sends: httpx raises RemoteProtocolError."""
        mock_server.inject(TruncatedBody())

        with pytest.raises(httpx.RemoteProtocolError, match="expected"):
            generate(http, mock_server, {**BODY, "response_format": "png"})

        assert 200 == generate(http, mock_server).status_code

    def test_invalid_json(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """InvalidJson is a 200 whose body does not parse."""
        mock_server.inject(InvalidJson())

        response = generate(http, mock_server)

        assert 200 == response.status_code
        assert "application/json" == response.headers["content-type"]
        with pytest.raises(json.JSONDecodeError):
            response.json()

    def test_wrong_shape(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """WrongShape is a 200 with JSON that breaks the schema, by default without data."""
        bad_b64 = {"data": [{"seed": 1, "response_format": "png", "b64_json": "not base64!"}]}
        mock_server.inject(WrongShape())
        mock_server.inject(WrongShape(bad_b64))

        first = generate(http, mock_server)
        second = generate(http, mock_server)

        assert 200 == first.status_code
        assert "data" not in first.json()
        assert bad_b64 == second.json()

    def test_faults_preempt_auth(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """An injected fault answers even a request that has no token."""
        mock_server.inject(ErrorStatus(503))

        assert 503 == generate(http, mock_server, headers={}).status_code
        assert 401 == generate(http, mock_server, headers={}).status_code

    def test_times_and_fifo(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Faults are consumed first in, first out; times=N repeats one N times."""
        mock_server.inject(ErrorStatus(500), times=2)
        mock_server.inject(ErrorStatus(429))

        assert [
            ErrorStatus(500),
            ErrorStatus(500),
            ErrorStatus(429),
        ] == mock_server.pending_faults()
        statuses = [generate(http, mock_server).status_code for _ in range(4)]

        assert [500, 500, 429, 200] == statuses
        assert [] == mock_server.pending_faults()

    def test_routes_are_separate(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """A fault for the image route leaves generation alone, and the other way round."""
        mock_server.inject(ErrorStatus(500), route="image")

        url = only_item(generate(http, mock_server))["url"]

        assert 500 == http.get(url).status_code
        assert 200 == http.get(url).status_code

    @pytest.mark.parametrize("status", [404, 500])
    def test_image_error_status(
        self, mock_server: FriendliTestServer, http: httpx.Client, status: int
    ) -> None:
        """Image downloads can fail with an injected status."""
        url = only_item(generate(http, mock_server))["url"]
        mock_server.inject(ErrorStatus(status), route="image")

        assert status == http.get(url).status_code

    def test_image_delay(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """Image downloads can be delayed."""
        url = only_item(generate(http, mock_server))["url"]
        mock_server.inject(Delay(0.3), route="image")
        start = time.perf_counter()

        response = http.get(url)

        assert time.perf_counter() - start >= 0.29  # timer granularity
        assert 200 == response.status_code

    @pytest.mark.parametrize("fault", [DropConnection(), TruncatedBody(0.9)])
    def test_image_broken_connection(
        self, mock_server: FriendliTestServer, http: httpx.Client, fault: Fault
    ) -> None:
        """Image downloads can be cut off: httpx raises RemoteProtocolError."""
        url = only_item(generate(http, mock_server))["url"]
        mock_server.inject(fault, route="image")

        with pytest.raises(httpx.RemoteProtocolError):
            http.get(url)

        assert [fault] == [request.fault for request in mock_server.image_requests]
        assert 200 == http.get(url).status_code

    def test_bad_injections(self, mock_server: FriendliTestServer) -> None:
        """inject rejects non-faults, times < 1 and unknown routes."""
        with pytest.raises(TypeError):
            mock_server.inject("500")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="times"):
            mock_server.inject(DropConnection(), times=0)
        with pytest.raises(ValueError, match="route"):
            mock_server.inject(DropConnection(), route="other")  # type: ignore[arg-type]

    def test_bad_fault_values(self) -> None:
        """Fault constructors reject impossible values."""
        with pytest.raises(ValueError, match="seconds"):
            Delay(-1)
        with pytest.raises(ValueError, match="status"):
            ErrorStatus(99)
        for delay in (-1.0, float("inf"), float("nan")):
            with pytest.raises(ValueError, match="delay"):
                ErrorStatus(503, delay=delay)
        with pytest.raises(ValueError, match="fraction"):
            TruncatedBody(1.0)


class TestRecording:
    def test_records_generation_requests(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """A generation request is recorded with method, path, headers, body and JSON."""
        generate(http, mock_server, headers={**AUTH, "X-Friendli-Team": "team-1"})

        (request,) = mock_server.requests
        assert ("POST", GENERATION_PATH, "") == (request.method, request.path, request.query)
        assert f"Bearer {DEFAULT_TOKEN}" == request.headers["AUTHORIZATION"]
        assert "team-1" == request.headers["x-friendli-team"]
        assert BODY == json.loads(request.body)
        assert BODY == request.json
        assert ("generate", "api", None) == (request.route, request.listener, request.fault)
        assert [request] == mock_server.generation_requests

    def test_records_image_and_other_requests(
        self, mock_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """Image downloads and stray requests are recorded with their route and listener."""
        url = only_item(generate(http, mock_server))["url"]
        http.get(url + "?download=1")
        http.get(mock_server.base_url + "/health")

        image, other = mock_server.requests[1:]
        assert ("image", "images", "download=1") == (image.route, image.listener, image.query)
        assert ("other", "api", "/health") == (other.route, other.listener, other.path)
        assert [image] == mock_server.image_requests
        assert other.json is None

    def test_requests_is_a_copy(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """The requests list is a snapshot the caller may modify."""
        generate(http, mock_server)
        snapshot = mock_server.requests
        snapshot.clear()

        assert 1 == len(mock_server.requests)

    def test_reset(self, mock_server: FriendliTestServer, http: httpx.Client) -> None:
        """reset() forgets requests and faults and restarts seeds, but keeps images."""
        url = only_item(generate(http, mock_server))["url"]
        mock_server.inject(ErrorStatus(500))

        mock_server.reset()

        assert [] == mock_server.requests
        assert [] == mock_server.pending_faults()
        assert 1 == only_item(generate(http, mock_server))["seed"]
        assert 200 == http.get(url).status_code

    def test_without_bodies(self, http: httpx.Client) -> None:
        """record_bodies=False keeps lengths but not bodies."""
        with FriendliTestServer(record_bodies=False) as mock_server:
            assert 200 == generate(http, mock_server).status_code

            (request,) = mock_server.requests
            assert (b"", None) == (request.body, request.json)
            assert len(httpx.Request("POST", "/", json=BODY).content) == request.body_length


class TestConcurrency:
    def test_async_requests_run_in_parallel(self) -> None:
        """16 concurrent async requests with 0.2 s latency take far less than 16 x 0.2 s."""

        async def main(mock_server: FriendliTestServer) -> list[int]:
            async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
                responses = await asyncio.gather(
                    *(
                        http.post(
                            mock_server.generation_url, json={**BODY, "seed": i}, headers=AUTH
                        )
                        for i in range(16)
                    )
                )
                return [r.json()["data"][0]["seed"] for r in responses]

        with FriendliTestServer(latency=0.2) as mock_server:
            start = time.perf_counter()
            seeds = asyncio.run(main(mock_server))
            elapsed = time.perf_counter() - start

        assert list(range(16)) == seeds
        assert elapsed < 2

    def test_threaded_requests_run_in_parallel(self) -> None:
        """16 concurrent sync requests from threads are not serialized by the server."""
        with FriendliTestServer(latency=0.2) as mock_server, httpx.Client(trust_env=False) as http:

            def call(seed: int) -> int:
                response = http.post(
                    mock_server.generation_url, json={**BODY, "seed": seed}, headers=AUTH
                )
                return int(response.json()["data"][0]["seed"])

            start = time.perf_counter()
            with ThreadPoolExecutor(16) as pool:
                seeds = list(pool.map(call, range(16)))
            elapsed = time.perf_counter() - start

        assert list(range(16)) == seeds
        assert elapsed < 2


class TestPytestPlugin:
    def test_fixture_and_marker(
        self, pytester: pytest.Pytester, run_user_pytest: Callable[..., pytest.RunResult]
    ) -> None:
        """The installed plugin (its pytest11 entry point) gives the fixture and the marker.

        In a subprocess, so the entry point is what loads the plugin (as in a user's run),
        and assertion rewriting under ``python -m pytest`` cannot interfere.
        """
        pytester.makepyfile(
            """
            import httpx
            import pytest

            def test_default(friendli_server):
                assert friendli_server.base_url.startswith("http://127.0.0.1:")
                assert "test-token" == friendli_server.token

            @pytest.mark.friendli_server(token="abc", image_size=(8, 8))
            def test_marker(friendli_server):
                assert "abc" == friendli_server.token
                assert (8, 8) == friendli_server.image_size
                with httpx.Client(trust_env=False) as http:
                    response = http.post(
                        friendli_server.generation_url,
                        json={"model": "m", "prompt": "p"},
                        headers={"Authorization": "Bearer abc"},
                    )
                assert 200 == response.status_code
            """
        )

        result = run_user_pytest("--strict-markers", "-W", "error", "-p", "no:cacheprovider")

        result.assert_outcomes(passed=2)


@pytest.mark.parametrize("latency", [-1.0, float("nan"), float("inf"), 1e300, 3601.0])
def test_an_unusable_latency_is_refused(latency: float) -> None:
    with pytest.raises(ValueError, match="latency must be between 0 and 3600"):
        FriendliTestServer(latency=latency)


def test_max_records_keeps_the_last_requests() -> None:
    """A long-running server keeps a bounded record: the last ``max_records`` requests."""
    from friendli_images import FriendliImages

    with FriendliTestServer(max_records=3, record_bodies=False) as server:
        with FriendliImages(token=server.token, base_url=server.base_url) as client:
            for index in range(5):
                client.generate(f"p{index}", model="ep", response_format="png")

        assert 3 == len(server.requests)
        assert [b""] * 3 == [request.body for request in server.requests]
