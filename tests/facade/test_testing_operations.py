"""The test server's edit and container operations, driven with raw httpx."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from friendli_images.testing import (
    DEFAULT_TOKEN,
    GENERATION_PATH,
    DropConnection,
    ErrorStatus,
    FriendliTestServer,
    render_png,
    validate_request_body,
)
from friendli_images.testing._operations import (
    CONTAINER_EDIT_PATH,
    CONTAINER_GENERATION_PATH,
    EDIT_PATH,
    StoredImages,
    edited_image,
    input_images,
)
from PIL import Image, ImageOps

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
INPUT = render_png(3, 10, 6)
URI = "data:image/png;base64," + base64.b64encode(INPUT).decode()
EDIT: dict[str, Any] = {"model": "ep", "prompt": "x", "image": {"image": URI}}
CONTAINER_EDIT: dict[str, Any] = {"prompt": "x", "image": [{"image": URI}]}


@pytest.fixture
def operations_server() -> Iterator[FriendliTestServer]:
    with FriendliTestServer() as running:
        yield running
    assert [] == running.errors


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=30) as http:
        yield http


def flipped_pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return ImageOps.flip(image.convert("RGB")).tobytes()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


class TestRoutes:
    def test_dedicated_edit_needs_the_token(
        self, operations_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """Dedicated edits authenticate like generations."""
        response = http.post(operations_server.base_url + EDIT_PATH, json=EDIT)

        assert 401 == response.status_code

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer anything"}])
    def test_container_routes_need_no_token(
        self, operations_server: FriendliTestServer, http: httpx.Client, headers: dict[str, str]
    ) -> None:
        """A container authenticates nothing; a header sent anyway is ignored."""
        generated = http.post(
            operations_server.base_url + CONTAINER_GENERATION_PATH,
            json={"prompt": "x"},
            headers=headers,
        )
        edited = http.post(operations_server.base_url + CONTAINER_EDIT_PATH, json=CONTAINER_EDIT)

        assert (200, 200) == (generated.status_code, edited.status_code)
        assert ["image"] == list(generated.json())
        assert base64.b64decode(generated.json()["image"]).startswith(b"\xff\xd8\xff")

    def test_container_raw_is_png(
        self, operations_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """The container's raw format is answered as PNG bytes in base64."""
        body = {**CONTAINER_EDIT, "response_format": "raw"}
        response = http.post(operations_server.base_url + CONTAINER_EDIT_PATH, json=body)

        data = base64.b64decode(response.json()["image"])
        assert flipped_pixels(INPUT) == pixels(data)

    def test_edit_url_result_is_served(
        self, operations_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """A url edit result is downloadable from the image host, without a token."""
        response = http.post(operations_server.base_url + EDIT_PATH, json=EDIT, headers=AUTH)

        (item,) = response.json()["data"]
        image = http.get(item["url"])
        assert (200, "url") == (image.status_code, item["response_format"])
        assert flipped_pixels(INPUT) == pixels(image.content)

    @pytest.mark.parametrize("path", [EDIT_PATH, CONTAINER_GENERATION_PATH, CONTAINER_EDIT_PATH])
    def test_faults_apply(
        self, operations_server: FriendliTestServer, http: httpx.Client, path: str
    ) -> None:
        """Faults queued for the "generate" route hit every image operation."""
        operations_server.inject(ErrorStatus(503))
        operations_server.inject(DropConnection())
        body = {CONTAINER_GENERATION_PATH: {"prompt": "x"}, EDIT_PATH: EDIT}.get(
            path, CONTAINER_EDIT
        )

        assert (
            503 == http.post(operations_server.base_url + path, json=body, headers=AUTH).status_code
        )
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(operations_server.base_url + path, json=body, headers=AUTH)
        assert [path, path] == [r.path for r in operations_server.generation_requests]


class TestValidation:
    @pytest.mark.parametrize(
        ("path", "body", "loc"),
        [
            pytest.param(
                EDIT_PATH, {"model": "m", "prompt": "x"}, ["body", "image"], id="no-image"
            ),
            pytest.param(
                EDIT_PATH,
                {"prompt": "x", "image": {"image": URI}},
                ["body", "model"],
                id="no-model",
            ),
            pytest.param(
                EDIT_PATH,
                {**EDIT, "image": {"image": "file.png"}},
                ["body", "image", "image"],
                id="not-uri",
            ),
            pytest.param(
                CONTAINER_EDIT_PATH,
                {"prompt": "x", "image": [{"image": URI}, {"image": "data:image/png;base64,!!"}]},
                ["body", "image", 1, "image"],
                id="bad-list-item",
            ),
            pytest.param(
                CONTAINER_GENERATION_PATH,
                {"prompt": "x", "response_format": "png"},
                ["body", "response_format"],
                id="container-png",
            ),
            pytest.param(
                CONTAINER_GENERATION_PATH,
                {"prompt": "x", "num_inference_steps": 0},
                ["body", "num_inference_steps"],
                id="steps",
            ),
            pytest.param(
                CONTAINER_GENERATION_PATH,
                {"prompt": "x", "controlnet_weights": [0.5]},
                ["body", "controlnet_weights"],
                id="weights-without-images",
            ),
            pytest.param(
                GENERATION_PATH,
                {"model": "m", "prompt": "x", "image": "ignored"},
                None,
                id="generation-unchanged",
            ),
        ],
    )
    def test_bodies(self, path: str, body: dict[str, Any], loc: list[Any] | None) -> None:
        """Each path is validated against its own request schema and the prose rules."""
        errors = validate_request_body(body, path)

        assert ([] if loc is None else [loc]) == [error["loc"] for error in errors]

    def test_server_answers_422(
        self, operations_server: FriendliTestServer, http: httpx.Client
    ) -> None:
        """The server applies the same validation: a FastAPI-style 422."""
        response = http.post(
            operations_server.base_url + CONTAINER_GENERATION_PATH,
            json={"prompt": "x", "response_format": "url"},
        )

        assert 422 == response.status_code
        assert ["body", "response_format"] == response.json()["detail"][0]["loc"]


class TestEditedImage:
    def test_flips_a_data_uri(self) -> None:
        """A readable input comes back upside down, as PNG or JPEG."""
        assert flipped_pixels(INPUT) == pixels(edited_image(URI, "png", (8, 8)))
        assert edited_image(URI, "jpeg", (8, 8)).startswith(b"\xff\xd8\xff")

    def test_url_input_gets_a_picture_of_its_own(self) -> None:
        """An input the server cannot read still decides the picture."""
        one = edited_image("https://example.com/a.png", "png", (8, 8))
        two = edited_image("https://example.com/b.png", "png", (8, 8))

        assert one != two
        assert one.startswith(b"\x89PNG")

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            pytest.param({"image": {"image": "a"}}, ["a"], id="one"),
            pytest.param({"image": [{"image": "a"}, {"image": "b"}]}, ["a", "b"], id="list"),
            pytest.param({}, [], id="none"),
        ],
    )
    def test_input_images(self, body: dict[str, Any], expected: list[str]) -> None:
        """The image strings of an edit body, one or many."""
        assert expected == input_images(body)


class TestStoredImages:
    def test_bounded_by_bytes(self) -> None:
        """The oldest url results are dropped once the budget is exceeded; the newest stays."""
        stored = StoredImages(budget=10)
        stored.put("a", b"12345")
        stored.put("b", b"12345")
        stored.put("c", b"123")
        stored.put("d", b"x" * 20)

        assert [None, None, None, b"x" * 20] == [stored.get(k) for k in "abcd"]
