"""Image edits on Dedicated Endpoints: FriendliImages.edit, AsyncFriendliImages.edit and
the one-call helpers, against the loopback test server."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from friendli_images import (
    APIResponseValidationError,
    AsyncFriendliImages,
    FriendliImages,
    InvalidRequestError,
    RateLimitError,
    ResponseFormat,
    aedit_image,
    edit_image,
)
from friendli_images._config import MAX_CONTROL_IMAGE_BYTES
from friendli_images.testing import ErrorStatus, FriendliTestServer, WrongShape, render_png
from PIL import Image, ImageOps

FORMATS: list[ResponseFormat] = ["url", "raw", "png", "jpeg", "jpg"]
SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
EDIT_PATH = "/dedicated/v1/images/edits"
INPUT = render_png(11, 24, 16)


def flipped(png: bytes) -> bytes:
    """The pixels of ``png`` turned upside down, as the test server edits."""
    with Image.open(io.BytesIO(png)) as image:
        return ImageOps.flip(image.convert("RGB")).tobytes()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


class TestRoundTrip:
    @pytest.mark.parametrize("response_format", FORMATS)
    def test_every_format_sync(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        response_format: ResponseFormat,
    ) -> None:
        """Each format returns a real image, the seed sent and the reported format."""
        result = client.edit(
            INPUT, "add a red car", model="ep", seed=5, response_format=response_format
        )

        (image,) = result.images
        assert (5, response_format) == (image.seed, image.response_format)
        expected = "image/jpeg" if response_format in ("jpeg", "jpg") else "image/png"
        assert expected == image.mime_type
        assert image.content().startswith(SIGNATURES[expected])
        assert [EDIT_PATH] == [r.path for r in friendli_server.generation_requests]

    @pytest.mark.anyio
    @pytest.mark.parametrize("response_format", FORMATS)
    async def test_every_format_async(
        self, aclient: AsyncFriendliImages, response_format: ResponseFormat
    ) -> None:
        """The async client edits the same way."""
        result = await aclient.edit(INPUT, "x", model="ep", response_format=response_format)

        (image,) = result.images
        expected = "image/jpeg" if response_format in ("jpeg", "jpg") else "image/png"
        assert (await image.acontent()).startswith(SIGNATURES[expected])

    @pytest.mark.parametrize("response_format", ["url", "png", "raw"])
    def test_result_derives_from_the_input(
        self, client: FriendliImages, response_format: ResponseFormat
    ) -> None:
        """The server's edit is the input upside down, so the input really was sent."""
        result = client.edit(INPUT, "flip it", model="ep", response_format=response_format)

        assert flipped(INPUT) == pixels(result.images[0].content())

    def test_a_list_of_images(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A list is sent as a list of ImageInput, in order; the first is the one edited."""
        other = render_png(12, 8, 8)
        result = client.edit([INPUT, other], "merge", model="ep", response_format="png")

        sent = friendli_server.generation_requests[0].json["image"]
        assert [{"image": data_uri(INPUT)}, {"image": data_uri(other)}] == sent
        assert flipped(INPUT) == pixels(result.images[0].content())

    @pytest.mark.anyio
    async def test_a_list_async(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client sends a list as a list too."""
        result = await aclient.edit([INPUT, INPUT], "x", model="ep", response_format="raw")

        assert 2 == len(friendli_server.generation_requests[0].json["image"])
        assert flipped(INPUT) == pixels(result.images[0].content())

    def test_single_image_is_one_object(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """One input (here a path) is sent as one ImageInput object, not a list."""
        path = tmp_path / "in.png"
        path.write_bytes(INPUT)

        client.edit(path, "x", model="ep")

        assert {"image": data_uri(INPUT)} == friendli_server.generation_requests[0].json["image"]

    @pytest.mark.parametrize(
        "source",
        [
            pytest.param(lambda p: p, id="path"),
            pytest.param(str, id="str-path"),
            pytest.param(lambda p: p.read_bytes(), id="bytes"),
            pytest.param(lambda p: io.BytesIO(p.read_bytes()), id="file"),
            pytest.param(Image.open, id="pil"),
            pytest.param(lambda p: data_uri(p.read_bytes()), id="data-uri"),
        ],
    )
    def test_every_input_kind(self, client: FriendliImages, tmp_path: Path, source: Any) -> None:
        """Anything a control image takes is an edit input."""
        path = tmp_path / "in.png"
        path.write_bytes(INPUT)

        result = client.edit(source(path), "x", model="ep", response_format="png")

        assert flipped(INPUT) == pixels(result.images[0].content())

    def test_url_input_is_sent_as_is(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """An http(s) URL is passed through for the API to fetch."""
        url = "https://example.com/cat.png"

        client.edit(url, "x", model="ep")

        assert {"image": url} == friendli_server.generation_requests[0].json["image"]

    def test_extra_properties_and_unknown_formats_parse(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A newer response_format value and extra properties do not break parsing."""
        b64 = base64.b64encode(INPUT).decode()
        item = {"seed": 1, "response_format": "webp2", "b64_json": b64, "nsfw": False}
        friendli_server.inject(WrongShape({"data": [item], "usage": {"images": 1}}))

        (image,) = client.edit(INPUT, "x", model="ep").images

        assert ("webp2", INPUT, False) == (
            image.response_format,
            image.content(),
            image.raw["nsfw"],
        )


class TestRequest:
    def test_only_set_fields_are_sent(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Unset parameters are left out, so the endpoint applies its own defaults."""
        client.edit(INPUT, "x", model="ep")

        assert ["image", "prompt", "model"] == list(friendli_server.generation_requests[0].json)

    def test_every_field(self, client: FriendliImages, friendli_server: FriendliTestServer) -> None:
        """Every parameter of the spec is sent under its name, with its value."""
        client.edit(
            INPUT,
            "x",
            model="ep",
            num_inference_steps=12,
            guidance_scale=3.5,
            seed=9,
            response_format="jpeg",
        )

        sent = friendli_server.generation_requests[0].json
        expected = {"num_inference_steps": 12, "guidance_scale": 3.5, "seed": 9}
        assert expected == {k: sent[k] for k in expected}
        assert "jpeg" == sent["response_format"]

    def test_headers(self, friendli_server: FriendliTestServer) -> None:
        """Edits carry the token and the team, as generations do."""
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, team_id="t1"
        ) as client:
            client.edit(INPUT, "x", model="ep")

        headers = friendli_server.generation_requests[0].headers
        assert (f"Bearer {friendli_server.token}", "t1") == (
            headers["authorization"],
            headers["x-friendli-team"],
        )


class TestRejected:
    @pytest.mark.parametrize(
        ("args", "kwargs", "param"),
        [
            pytest.param((INPUT, ""), {}, "prompt", id="empty-prompt"),
            pytest.param((INPUT, "x"), {"model": " "}, "model", id="empty-model"),
            pytest.param((None, "x"), {}, "image", id="missing-image"),
            pytest.param(([], "x"), {}, "image", id="empty-list"),
            pytest.param((b"not an image", "x"), {}, "image", id="not-an-image"),
            pytest.param(([INPUT, b"nope"], "x"), {}, "image[1]", id="bad-list-item"),
            pytest.param((INPUT, "x"), {"response_format": "webp"}, "response_format", id="format"),
            pytest.param(
                (INPUT, "x"), {"num_inference_steps": 51}, "num_inference_steps", id="steps"
            ),
            pytest.param(
                (INPUT, "x"), {"control_images": [INPUT]}, "control_images", id="no-control"
            ),
            pytest.param((INPUT, "x"), {"n": 0}, "n", id="n"),
        ],
    )
    def test_rejected_before_sending(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        param: str,
    ) -> None:
        """Bad input raises InvalidRequestError naming the parameter; nothing is sent."""
        kwargs = {"model": "ep", **kwargs}
        with pytest.raises(InvalidRequestError) as caught:
            client.edit(*args, **kwargs)

        assert param == caught.value.param
        assert [] == friendli_server.requests

    def test_over_50_mib(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """An input of 50 MiB + 1 byte is refused before anything is sent."""
        path = tmp_path / "big.png"
        with path.open("wb") as file:
            file.write(INPUT)
            file.truncate(MAX_CONTROL_IMAGE_BYTES + 1)

        with pytest.raises(InvalidRequestError, match="50 MiB"):
            client.edit(path, "x", model="ep")

        assert [] == friendli_server.requests

    @pytest.mark.anyio
    async def test_async_rejects_too(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client validates the same way."""
        with pytest.raises(InvalidRequestError):
            await aclient.edit(INPUT, "", model="ep")

        assert [] == friendli_server.requests


class TestLikeGenerate:
    def test_batch_seeds(self, client: FriendliImages, friendli_server: FriendliTestServer) -> None:
        """With n and seed, request i uses seed + i, images in request order."""
        result = client.edit(INPUT, "x", model="ep", n=3, seed=10, response_format="png")

        assert [10, 11, 12] == [image.seed for image in result.images]
        assert [0, 1, 2] == [image.request_index for image in result.images]
        assert 3 == len(friendli_server.generation_requests)

    def test_retried_like_generate(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A 429 is retried; the edit succeeds on the next attempt."""
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=0))

        result = client.edit(INPUT, "x", model="ep", response_format="png")

        assert 1 == len(result.images)
        assert 2 == len(friendli_server.generation_requests)

    def test_errors_like_generate(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Typed errors as for generate: status errors and bad 200 bodies."""
        friendli_server.inject(ErrorStatus.rate_limited(), times=3)
        with pytest.raises(RateLimitError):
            client.edit(INPUT, "x", model="ep")
        friendli_server.inject(WrongShape({"data": [{"seed": 1}]}))
        with pytest.raises(APIResponseValidationError):
            client.edit(INPUT, "x", model="ep")


class TestHelpers:
    def test_edit_image_saves(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """edit_image opens a client, edits, and saves into save_to."""
        source = tmp_path / "photo.png"
        source.write_bytes(INPUT)

        result = edit_image(
            source,
            "add a red car",
            model="ep",
            save_to=tmp_path / "out",
            token=friendli_server.token,
            base_url=friendli_server.base_url,
        )

        assert [tmp_path / "out" / "image.png"] == sorted((tmp_path / "out").iterdir())
        assert flipped(INPUT) == pixels((tmp_path / "out" / "image.png").read_bytes())
        assert 1 == len(result)

    @pytest.mark.anyio
    async def test_aedit_image(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """aedit_image is the async twin."""
        await aedit_image(
            INPUT,
            "x",
            model="ep",
            n=2,
            seed=3,
            save_to=tmp_path,
            token=friendli_server.token,
            base_url=friendli_server.base_url,
        )

        assert ["image-0.png", "image-1.png"] == sorted(p.name for p in tmp_path.iterdir())

    def test_helper_rejects_unknown_keyword(self, friendli_server: FriendliTestServer) -> None:
        """A keyword neither the call nor the client takes is an InvalidRequestError."""
        with pytest.raises(InvalidRequestError) as caught:
            edit_image(INPUT, "x", model="ep", token="t", base_url=friendli_server.base_url, sed=1)  # type: ignore[call-arg]

        assert "sed" == caught.value.param
        assert [] == friendli_server.requests
