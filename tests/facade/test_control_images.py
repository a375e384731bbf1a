"""Control images of every accepted kind, encoded and sent; bad ones rejected before sending."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from friendli_images import (
    FriendliImages,
    FriendliImagesError,
    InvalidRequestError,
    encode_control_image,
)
from friendli_images._control_images import prepare_control_image
from friendli_images._transport._payload import Base64Payload
from friendli_images.testing import FriendliTestServer, render_png

LIMIT = 50 * 1024 * 1024
PNG = render_png(5, 16, 16)
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def big_png(size: int) -> bytes:
    """A PNG signature followed by filler: an 'image' of exactly ``size`` bytes."""
    return PNG[:16] + bytes(size - 16)


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "edge.png"
    path.write_bytes(PNG)
    return path


def sent_images(friendli_server: FriendliTestServer) -> list[str]:
    return [
        item["image"] for item in friendli_server.generation_requests[-1].json["control_images"]
    ]


class TestAcceptedKinds:
    @pytest.mark.parametrize(
        "make",
        [
            str,
            lambda p: p,
            lambda p: p.read_bytes(),
            lambda p: bytearray(p.read_bytes()),
            lambda p: memoryview(p.read_bytes()),
            lambda p: io.BytesIO(p.read_bytes()),
            lambda p: p.open("rb"),
        ],
        ids=["str-path", "pathlib", "bytes", "bytearray", "memoryview", "bytesio", "open-file"],
    )
    def test_local_content_is_sent_as_data_uri(
        self, client: FriendliImages, friendli_server: FriendliTestServer, png_file: Path, make: Any
    ) -> None:
        """Paths, bytes-likes and binary files arrive as the PNG's data URI."""
        value = make(png_file)
        try:
            client.generate("x", model="ep", control_images=[value])
        finally:
            if hasattr(value, "close"):
                value.close()

        assert [PNG_URI] == sent_images(friendli_server)

    def test_pil_image(self, client: FriendliImages, friendli_server: FriendliTestServer) -> None:
        """A PIL image is sent as a PNG data URI of the same pixels."""
        image_module = pytest.importorskip("PIL.Image")
        picture = image_module.new("RGB", (8, 4), (200, 10, 10))

        client.generate("x", model="ep", control_images=[picture])

        (sent,) = sent_images(friendli_server)
        assert sent.startswith("data:image/png;base64,")
        decoded = image_module.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1])))
        assert ((8, 4), (200, 10, 10)) == (decoded.size, decoded.getpixel((0, 0)))

    def test_urls_and_data_uris_pass_through(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """http(s) URLs and valid data URIs are sent exactly as given, with their weights."""
        images = ["https://example.com/a.png", "http://example.com/b.jpg", PNG_URI]

        client.generate("x", model="ep", control_images=images, controlnet_weights=[0, 0.5, 1])

        assert images == sent_images(friendli_server)
        assert [0.0, 0.5, 1.0] == friendli_server.generation_requests[0].json["controlnet_weights"]

    def test_jpeg_is_typed_by_content(self, tmp_path: Path) -> None:
        """The data URI's type comes from the bytes, not the file name."""
        path = tmp_path / "looks-like.png"
        path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(20))

        assert encode_control_image(path).startswith("data:image/jpeg;base64,")

    def test_encode_matches_what_is_sent(
        self, client: FriendliImages, friendli_server: FriendliTestServer, png_file: Path
    ) -> None:
        """encode_control_image gives the very string the client streams to the API."""
        client.generate("x", model="ep", control_images=[png_file])

        assert [encode_control_image(png_file)] == sent_images(friendli_server)

    def test_several_images_in_order(
        self, client: FriendliImages, friendli_server: FriendliTestServer, png_file: Path
    ) -> None:
        """Several local images are streamed in the body in their order."""
        other = render_png(6, 8, 8)

        client.generate("x", model="ep", control_images=[png_file, other, "https://x/y.png"])

        assert [PNG_URI, encode_control_image(other), "https://x/y.png"] == sent_images(
            friendli_server
        )


class TestSizeLimit:
    def test_exactly_50_mib_is_sent(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A 50 MiB file is accepted, streamed with an exact Content-Length, and validated."""
        path = tmp_path / "big.png"
        path.write_bytes(big_png(LIMIT))

        result = client.generate("x", model="ep", control_images=[path])

        request = friendli_server.generation_requests[0]
        assert 1 == len(result.images)
        assert int(request.headers["content-length"]) == request.body_length
        (sent,) = sent_images(friendli_server)
        assert LIMIT == len(base64.b64decode(sent.split(",", 1)[1]))

    def test_just_over_50_mib_is_rejected(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """One byte over 50 MiB is refused before anything is sent."""
        path = tmp_path / "big.png"
        path.write_bytes(big_png(LIMIT + 1))

        with pytest.raises(InvalidRequestError, match="at most 52428800 bytes") as info:
            client.generate("x", model="ep", control_images=[path])

        assert "control_images[0]" == info.value.param
        assert [] == friendli_server.requests

    @pytest.mark.parametrize(("size", "ok"), [(LIMIT, True), (LIMIT + 1, False)])
    def test_bytes_and_data_uris_limit(self, size: int, ok: bool) -> None:
        """The limit applies the same way to bytes and to data URIs (decoded size)."""
        data = big_png(size)
        uri = "data:image/png;base64," + base64.b64encode(data).decode()
        for value in (data, uri):
            if ok:
                prepare_control_image(value, "control_images[0]")
            else:
                with pytest.raises(InvalidRequestError, match="50 MiB"):
                    prepare_control_image(value, "control_images[0]")


class TestRejected:
    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("missing.png", "no such file"),
            (b"GIF", "not a PNG, JPEG, WebP or GIF image"),
            (b"hello world, not an image", "not a PNG, JPEG, WebP or GIF image"),
            (12, "unsupported type int"),
            (None, "unsupported type NoneType"),
            ("ftp://example.com/a.png", "only http://, https:// and data:"),
            ("file:///etc/passwd", "only http://, https:// and data:"),
            ("", "empty string"),
            ("data:image/png,rawtext", "base64-encoded"),
            ("data:text/plain;base64,aGVsbG8=", "not an image type"),
            ("data:image/png;base64,abc", "not a multiple of 4"),
            ("data:image/png;base64,ab!=", "invalid base64"),
            ("data:image/png;base64,aGVsbG8gd29ybGQh", "not a PNG"),
            ("data:no-comma", "not a valid data: URI"),
        ],
    )
    def test_clear_errors(self, value: Any, message: str) -> None:
        """Every unusable value gets an error naming the parameter and the problem."""
        with pytest.raises(InvalidRequestError, match=message) as info:
            prepare_control_image(value, "control_images[2]")

        assert "control_images[2]" == info.value.param
        assert str(info.value).startswith("control_images[2]: ")

    def test_directory(self, tmp_path: Path) -> None:
        """A directory is not an image file."""
        with pytest.raises(InvalidRequestError, match="is not a file"):
            encode_control_image(tmp_path)

    def test_text_file(self, png_file: Path) -> None:
        """A file opened in text mode gets a hint to use binary mode."""
        with (
            png_file.open("r", encoding="latin-1") as text,
            pytest.raises(InvalidRequestError, match="binary mode"),
        ):
            encode_control_image(text)  # type: ignore[arg-type]

    def test_bad_image_in_call_sends_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A bad second image stops the call before any request."""
        with pytest.raises(InvalidRequestError) as info:
            client.generate("x", model="ep", control_images=[PNG, b"nope"])

        assert "control_images[1]" == info.value.param
        assert [] == friendli_server.requests


class TestPayload:
    def test_payload_from_memory(self) -> None:
        """A Base64Payload streams exactly the data URI, with a precise length."""
        payload = prepare_control_image(PNG * 1000, "p")

        assert isinstance(payload, Base64Payload)
        text = payload.to_data_uri()
        assert "data:image/png;base64," + base64.b64encode(PNG * 1000).decode() == text
        assert len(text) == payload.encoded_length

    def test_file_payload_is_read_lazily_each_time(self, png_file: Path) -> None:
        """A file payload re-reads the file for every attempt to send."""
        payload = prepare_control_image(png_file, "p")
        assert isinstance(payload, Base64Payload)

        first = payload.to_data_uri()
        second = payload.to_data_uri()

        assert first == second == PNG_URI

    def test_file_shrinking_is_detected(self, png_file: Path) -> None:
        """A file that shrinks between checking and sending fails loudly."""
        payload = prepare_control_image(png_file, "p")
        assert isinstance(payload, Base64Payload)
        png_file.write_bytes(PNG[:20])

        with pytest.raises(FriendliImagesError, match=r"changed \(size or modification time\)"):
            payload.to_data_uri()

    def test_file_vanishing_is_a_friendli_error(self, png_file: Path) -> None:
        """A file deleted between checking and sending is a FriendliImagesError, not OSError."""
        payload = prepare_control_image(png_file, "p")
        assert isinstance(payload, Base64Payload)
        png_file.unlink()

        with pytest.raises(FriendliImagesError, match="could not be read"):
            payload.to_data_uri()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param("http://", "has no host", id="no-host"),
        pytest.param("https://user:pw@cdn.example/a.png", "credentials", id="userinfo"),
        pytest.param("https://cdn.example/a b.png", "whitespace", id="space"),
        pytest.param("https://cdn.example/a.png\r\nX: y", "whitespace", id="crlf"),
        pytest.param("https://cdn.example/a.png\t", "whitespace", id="tab"),
        pytest.param("https://cdn.example:99999/a.png", "not a valid URL", id="bad-port"),
    ],
)
def test_an_unusable_control_url_is_refused_before_sending(
    client: FriendliImages, friendli_server: FriendliTestServer, url: str, problem: str
) -> None:
    with pytest.raises(InvalidRequestError, match=problem) as caught:
        client.generate("x", model="ep", control_images=[url])

    assert "control_images[0]" == caught.value.param
    assert [] == friendli_server.generation_requests


def test_a_usable_control_url_is_sent_as_it_is(
    client: FriendliImages, friendli_server: FriendliTestServer
) -> None:
    url = "https://cdn.example/edges/a.png?sig=abc"
    client.generate("x", model="ep", control_images=[url])

    assert [url] == sent_images(friendli_server)
