"""FriendliContainerImages and AsyncFriendliContainerImages against the test server's
container routes (no auth, ``{"image": ...}`` answers)."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from friendli_images import (
    APIResponseValidationError,
    AsyncFriendliContainerImages,
    ContainerResponseFormat,
    FriendliContainerImages,
    InvalidRequestError,
)
from friendli_images._config import MAX_CONTROL_IMAGE_BYTES
from friendli_images.testing import ErrorStatus, FriendliTestServer, WrongShape, render_png
from PIL import Image, ImageOps

GENERATE_PATH = "/v1/images/generations"
EDIT_PATH = "/v1/images/edits"
INPUT = render_png(21, 16, 24)
SIGNATURES = {"raw": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}
MIME = {"raw": "image/png", "jpeg": "image/jpeg"}


@pytest.fixture
def container(friendli_server: FriendliTestServer) -> Iterator[FriendliContainerImages]:
    with FriendliContainerImages(base_url=friendli_server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
async def acontainer(
    friendli_server: FriendliTestServer,
) -> AsyncIterator[AsyncFriendliContainerImages]:
    async with AsyncFriendliContainerImages(
        base_url=friendli_server.base_url, timeout=10
    ) as client:
        yield client


def flipped(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return ImageOps.flip(image.convert("RGB")).tobytes()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


class TestGenerate:
    @pytest.mark.parametrize("response_format", ["raw", "jpeg"])
    def test_every_format_sync(
        self,
        container: FriendliContainerImages,
        friendli_server: FriendliTestServer,
        response_format: ContainerResponseFormat,
    ) -> None:
        """Each format gives a real image; its type comes from the bytes (raw is PNG here)."""
        result = container.generate("a cat", seed=4, response_format=response_format)

        (image,) = result.images
        assert (4, response_format, MIME[response_format]) == (
            image.seed,
            image.response_format,
            image.mime_type,
        )
        assert image.content().startswith(SIGNATURES[response_format])
        assert [GENERATE_PATH] == [r.path for r in friendli_server.generation_requests]

    @pytest.mark.anyio
    @pytest.mark.parametrize("response_format", ["raw", "jpeg"])
    async def test_every_format_async(
        self, acontainer: AsyncFriendliContainerImages, response_format: ContainerResponseFormat
    ) -> None:
        """The async twin returns the same kind of result."""
        result = await acontainer.generate("a cat", response_format=response_format)

        assert (await result.images[0].acontent()).startswith(SIGNATURES[response_format])

    def test_default_format_and_no_seed(
        self, container: FriendliContainerImages, friendli_server: FriendliTestServer
    ) -> None:
        """Unset: nothing sent, the container's default JPEG, and no seed known."""
        (image,) = container.generate("a cat").images

        assert {"prompt": "a cat"} == friendli_server.generation_requests[0].json
        assert (None, "jpeg", "image/jpeg") == (image.seed, image.response_format, image.mime_type)

    def test_every_field_and_control_images(
        self, container: FriendliContainerImages, friendli_server: FriendliTestServer
    ) -> None:
        """Every parameter is sent under its spec name; control images as data URIs."""
        container.generate(
            "x",
            model="adapter-1",
            num_inference_steps=8,
            guidance_scale=2.0,
            seed=1,
            response_format="raw",
            control_images=[INPUT],
            controlnet_weights=[0.5],
        )

        uri = "data:image/png;base64," + base64.b64encode(INPUT).decode()
        assert {
            "prompt": "x",
            "model": "adapter-1",
            "num_inference_steps": 8,
            "guidance_scale": 2.0,
            "seed": 1,
            "response_format": "raw",
            "control_images": [{"image": uri}],
            "controlnet_weights": [0.5],
        } == friendli_server.generation_requests[0].json

    def test_batch_seeds(self, container: FriendliContainerImages) -> None:
        """With n and seed, image i carries seed + i, the seed that request sent."""
        result = container.generate("x", n=3, seed=100, concurrency=2)

        assert [100, 101, 102] == [image.seed for image in result.images]

    def test_batch_without_seed(self, container: FriendliContainerImages, tmp_path: Path) -> None:
        """Without a seed, every image's seed is None, and saving still names them apart."""
        result = container.generate("x", n=2)

        assert [None, None] == [image.seed for image in result.images]
        assert ["image-0.jpg", "image-1.jpg"] == [p.name for p in result.save(tmp_path)]
        (tmp_path / "single").mkdir()
        assert "image.jpg" == result.images[0].save(tmp_path / "single").name


class TestEdit:
    @pytest.mark.parametrize("response_format", ["raw", "jpeg"])
    def test_every_format(
        self,
        container: FriendliContainerImages,
        friendli_server: FriendliTestServer,
        response_format: ContainerResponseFormat,
    ) -> None:
        """An edit answers one image in the format asked for."""
        (image,) = container.edit(INPUT, "x", response_format=response_format).images

        assert image.content().startswith(SIGNATURES[response_format])
        assert [EDIT_PATH] == [r.path for r in friendli_server.generation_requests]

    def test_derives_from_the_input(self, container: FriendliContainerImages) -> None:
        """The server's edit is the input upside down."""
        (image,) = container.edit(INPUT, "x", response_format="raw").images

        assert flipped(INPUT) == pixels(image.content())

    @pytest.mark.anyio
    async def test_list_async(
        self, acontainer: AsyncFriendliContainerImages, friendli_server: FriendliTestServer
    ) -> None:
        """A list of inputs is sent as a list; the async client edits too."""
        result = await acontainer.edit([INPUT, INPUT], "x", model="a", response_format="raw")

        assert 2 == len(friendli_server.generation_requests[0].json["image"])
        assert flipped(INPUT) == pixels(result.images[0].content())


class TestHeaders:
    def test_no_authorization_and_no_team(
        self, monkeypatch: pytest.MonkeyPatch, friendli_server: FriendliTestServer
    ) -> None:
        """Without a token nothing authenticates; FRIENDLI_TOKEN and the team are never used."""
        monkeypatch.setenv("FRIENDLI_TOKEN", "flp_cloud-secret")
        monkeypatch.setenv("FRIENDLI_TEAM", "team-1")
        with FriendliContainerImages(base_url=friendli_server.base_url) as client:
            client.generate("x")
            client.edit(INPUT, "x")

        for request in friendli_server.generation_requests:
            assert "authorization" not in request.headers
            assert "x-friendli-team" not in request.headers

    def test_token_sent_when_given(self, friendli_server: FriendliTestServer) -> None:
        """A token (for a proxy in front of the container) goes in Authorization."""
        with FriendliContainerImages(
            base_url=friendli_server.base_url, token="proxy-key"
        ) as client:
            client.generate("x")

        assert "Bearer proxy-key" == friendli_server.generation_requests[0].headers["authorization"]

    def test_environment(
        self, monkeypatch: pytest.MonkeyPatch, friendli_server: FriendliTestServer
    ) -> None:
        """base_url and token come from their own variables."""
        monkeypatch.setenv("FRIENDLI_CONTAINER_BASE_URL", friendli_server.base_url)
        monkeypatch.setenv("FRIENDLI_CONTAINER_TOKEN", "env-key")
        with FriendliContainerImages() as client:
            client.generate("x")

        assert "Bearer env-key" == friendli_server.generation_requests[0].headers["authorization"]

    def test_base_url_required(self) -> None:
        """Without an address the error names the argument and the variable."""
        with pytest.raises(InvalidRequestError, match="FRIENDLI_CONTAINER_BASE_URL") as caught:
            FriendliContainerImages()

        assert "base_url" == caught.value.param

    def test_repr_hides_token(self) -> None:
        """The token never shows in a repr."""
        with FriendliContainerImages(base_url="http://127.0.0.1:9", token="s3cret") as client:
            assert "s3cret" not in repr(client)
            assert "[secure]" in repr(client)


class TestRejected:
    @pytest.mark.parametrize(
        ("call", "param"),
        [
            pytest.param(lambda c: c.generate(""), "prompt", id="generate-empty-prompt"),
            pytest.param(lambda c: c.edit(INPUT, " "), "prompt", id="edit-empty-prompt"),
            pytest.param(lambda c: c.edit(None, "x"), "image", id="edit-missing-image"),
            pytest.param(
                lambda c: c.generate("x", response_format="png"), "response_format", id="png"
            ),
            pytest.param(
                lambda c: c.edit(INPUT, "x", response_format="url"), "response_format", id="url"
            ),
            pytest.param(lambda c: c.generate("x", model=""), "model", id="empty-model"),
            pytest.param(
                lambda c: c.generate("x", controlnet_weights=[1.0]),
                "controlnet_weights",
                id="weights-without-images",
            ),
            pytest.param(lambda c: c.generate("x", team_id="t"), "team_id", id="team"),
        ],
    )
    def test_rejected_before_sending(
        self,
        container: FriendliContainerImages,
        friendli_server: FriendliTestServer,
        call: Any,
        param: str,
    ) -> None:
        """Bad input raises InvalidRequestError naming the parameter; nothing is sent."""
        with pytest.raises(InvalidRequestError) as caught:
            call(container)

        assert param == caught.value.param
        assert [] == friendli_server.requests

    def test_over_50_mib(
        self, container: FriendliContainerImages, friendli_server: FriendliTestServer
    ) -> None:
        """An edit input of 50 MiB + 1 byte is refused before sending."""
        big = bytearray(MAX_CONTROL_IMAGE_BYTES + 1)
        big[: len(INPUT)] = INPUT

        with pytest.raises(InvalidRequestError, match="50 MiB"):
            container.edit(big, "x")

        assert [] == friendli_server.requests


class TestAnswers:
    def test_extra_properties_parse(
        self, container: FriendliContainerImages, friendli_server: FriendliTestServer
    ) -> None:
        """Properties the spec does not list are kept on raw, not an error."""
        b64 = base64.b64encode(INPUT).decode()
        friendli_server.inject(WrongShape({"image": b64, "seed": 77, "format": "png"}))

        (image,) = container.generate("x", response_format="raw").images

        assert (INPUT, 77) == (image.content(), image.raw["seed"])

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"data": []}, id="no-image"),
            pytest.param({"image": "not base64!"}, id="bad-base64"),
            pytest.param({"image": 5}, id="not-a-string"),
        ],
    )
    def test_bad_200(
        self, container: FriendliContainerImages, friendli_server: FriendliTestServer, body: Any
    ) -> None:
        """A 200 that does not match the spec is an APIResponseValidationError."""
        friendli_server.inject(WrongShape(body))

        with pytest.raises(APIResponseValidationError):
            container.generate("x")

    def test_retried(
        self, container: FriendliContainerImages, friendli_server: FriendliTestServer
    ) -> None:
        """A 503 before generating is retried, as for Dedicated Endpoints."""
        friendli_server.inject(ErrorStatus(503))

        assert 1 == len(container.generate("x"))
        assert 2 == len(friendli_server.generation_requests)
