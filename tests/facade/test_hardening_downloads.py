"""Issue 9, downloads of ``url`` results: no credentials, only images, bounded in size and
time, across sync/async flavours, and decoding bounded in pixels.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _raw_server import RawConnection, RawServer, answer, response
from friendli_images import (
    AsyncFriendliImages,
    FriendliImages,
    FriendliImagesError,
    GeneratedImage,
    ImageDownloadError,
    _config,
)
from friendli_images._sniff import sniff_image_type, truncation
from friendli_images._transport._download import redirect_target
from friendli_images.testing import FriendliTestServer, WrongShape, render_png

PNG = render_png(3, 16, 16)


def url_body(url: str) -> dict[str, object]:
    return {"data": [{"seed": 1, "response_format": "url", "url": url}]}


def image_from(
    client: FriendliImages, friendli_server: FriendliTestServer, url: str
) -> GeneratedImage:
    friendli_server.inject(WrongShape(url_body(url)))
    return client.generate("x", model="ep").images[0]


def png_response(connection: RawConnection) -> None:
    connection.send(response("200 OK", PNG, [("Content-Type", "image/png")]))


class TestNoCredentials:
    def test_user_client_credentials_never_reach_the_image_host(
        self, friendli_server: FriendliTestServer
    ) -> None:
        """Cookies, params and default headers of the user's client stay with the API."""
        http = httpx.Client(
            cookies={"session": "cookie-secret"},
            params={"api_key": "param-secret"},
            headers={"X-Api-Key": "header-secret", "Proxy-Authorization": "Basic proxy-secret"},
        )
        with RawServer(png_response) as raw, http:
            client = FriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
            )
            image = image_from(client, friendli_server, f"{raw.url}/img.png?X-Amz-Signature=sig")
            assert image.content() == PNG

        [request] = raw.requests
        assert "GET /img.png?X-Amz-Signature=sig HTTP/1.1" == request.request_line
        assert {"host", "user-agent"} == set(request.headers)
        assert "secret" not in request.head.decode()


def redirect_to(location: str) -> bytes:
    return response("302 Found", b"", [("Location", location)])


class TestOnlyImages:
    @pytest.mark.parametrize(
        ("answer_bytes", "message"),
        [
            pytest.param(
                response("302 Found"), "redirect without a Location", id="302-no-location"
            ),
            pytest.param(redirect_to("ftp://x/a.png"), "not an http", id="302-to-ftp"),
            pytest.param(redirect_to("file:///etc/passwd"), "not an http", id="302-to-file"),
            pytest.param(response("204 No Content"), "204", id="204"),
            pytest.param(
                response("200 OK", b"<html>login</html>", [("Content-Type", "text/html")]),
                "did not return a PNG, JPEG, WebP or GIF",
                id="html-200",
            ),
            pytest.param(response("200 OK", b""), "returned no bytes", id="empty-200"),
            pytest.param(
                response("200 OK", PNG[:30], [("Content-Length", "5000")]),
                "failed",
                id="truncated",
            ),
            pytest.param(response("404 Not Found"), "404 Not Found", id="404"),
        ],
    )
    def test_not_an_image_is_an_error_and_saves_nothing(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        tmp_path: Path,
        answer_bytes: bytes,
        message: str,
    ) -> None:
        with RawServer(answer(answer_bytes)) as raw:
            image = image_from(client, friendli_server, f"{raw.url}/x.png")
            with pytest.raises(ImageDownloadError, match=message):
                image.content()
            with pytest.raises(ImageDownloadError):
                image.save(tmp_path / "out.png")
        assert [] == list(tmp_path.iterdir())

    def test_redirects_are_followed_a_few_times(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        def hop(connection: RawConnection) -> None:
            path = connection.request_line.split()[1]
            step = int(path.strip("/") or "0")
            if step < 3:
                connection.send(redirect_to(f"/{step + 1}"))
            else:
                png_response(connection)

        with RawServer(hop) as raw:
            assert PNG == image_from(client, friendli_server, f"{raw.url}/0").content()
        assert 4 == len(raw.requests)

    def test_redirect_loop_stops(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        with RawServer(answer(redirect_to("/again"))) as raw:
            image = image_from(client, friendli_server, f"{raw.url}/start")
            with pytest.raises(ImageDownloadError, match="more than 5 redirects"):
                image.content()
        assert _config.MAX_DOWNLOAD_REDIRECTS + 1 == len(raw.requests)

    @pytest.mark.parametrize(
        ("status", "location", "hops", "expected"),
        [
            (200, None, 0, None),
            (301, "https://cdn/x.png", 0, "https://cdn/x.png"),
            (307, "/y.png", 2, "http://h/y.png"),
            (308, "//other/z.png", 4, "http://other/z.png"),
        ],
    )
    def test_redirect_rule(
        self, status: int, location: str | None, hops: int, expected: str | None
    ) -> None:
        assert expected == redirect_target(status, location, "http://h/a/x.png", hops)


def endless_png(connection: RawConnection) -> None:
    head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    if not connection.send(head.encode() + f"{len(PNG):x}\r\n".encode() + PNG + b"\r\n"):
        return
    chunk = bytes(65536)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while connection.send(frame):
        pass


class TestDownloadLimits:
    def test_image_over_max_download_bytes(self, friendli_server: FriendliTestServer) -> None:
        with RawServer(png_response) as raw:
            client = FriendliImages(
                token=friendli_server.token,
                base_url=friendli_server.base_url,
                max_download_bytes=100,
            )
            with client:
                image = image_from(client, friendli_server, f"{raw.url}/x.png")
                with pytest.raises(ImageDownloadError, match="max_download_bytes"):
                    image.content()

    def test_endless_image_stops_at_the_limit(self, friendli_server: FriendliTestServer) -> None:
        with RawServer(endless_png) as raw:
            client = FriendliImages(
                token=friendli_server.token,
                base_url=friendli_server.base_url,
                max_download_bytes=2_000_000,
            )
            with client:
                image = image_from(client, friendli_server, f"{raw.url}/x.png")
                with pytest.raises(ImageDownloadError, match="max_download_bytes"):
                    image.content()

    @pytest.mark.anyio
    async def test_async_endless_image_stops_at_the_limit(
        self, friendli_server: FriendliTestServer
    ) -> None:
        with RawServer(endless_png) as raw:
            client = AsyncFriendliImages(
                token=friendli_server.token,
                base_url=friendli_server.base_url,
                max_download_bytes=2_000_000,
            )
            async with client:
                friendli_server.inject(WrongShape(url_body(f"{raw.url}/x.png")))
                image = (await client.generate("x", model="ep")).images[0]
                with pytest.raises(ImageDownloadError, match="max_download_bytes"):
                    await image.acontent()


def trickle_png(connection: RawConnection) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(PNG) + 100_000}\r\n\r\n".encode()
    if connection.send(head + PNG):
        connection.trickle(bytes(100_000), every=0.05)


def trickle_png_head(connection: RawConnection) -> None:
    """A status line, then one header byte every 50 ms: each read resets httpx's timer."""
    connection.trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 5000, every=0.05)


class TestDownloadDeadline:
    @pytest.mark.parametrize("handler", [trickle_png, trickle_png_head], ids=["body", "headers"])
    def test_sync_trickle(
        self, friendli_server: FriendliTestServer, handler: Callable[[RawConnection], None]
    ) -> None:
        """A byte at a time (body or headers): the download still ends by download_timeout."""
        with RawServer(handler) as raw:
            client = FriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, download_timeout=0.5
            )
            with client:
                image = image_from(client, friendli_server, f"{raw.url}/x.png")
                start = time.monotonic()
                with pytest.raises(ImageDownloadError, match=r"took longer than 0\.5 s"):
                    image.content()
        assert time.monotonic() - start < 2.5

    @pytest.mark.anyio
    async def test_async_trickle(self, friendli_server: FriendliTestServer) -> None:
        with RawServer(trickle_png) as raw:
            client = AsyncFriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, download_timeout=0.5
            )
            async with client:
                friendli_server.inject(WrongShape(url_body(f"{raw.url}/x.png")))
                image = (await client.generate("x", model="ep")).images[0]
                start = time.monotonic()
                with pytest.raises(ImageDownloadError, match=r"took longer than 0\.5 s"):
                    await image.acontent()
        assert time.monotonic() - start < 2.5


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts what it sends (stands in for a user's custom one)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return super().handle_request(request)


class TestCrossFlavour:
    def test_async_download_of_a_sync_result_uses_the_users_transport(
        self, friendli_server: FriendliTestServer
    ) -> None:
        transport = CountingTransport()
        with (
            httpx.Client(transport=transport) as http,
            FriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
            ) as c,
        ):
            image = c.generate("x", model="ep").images[0]
            assert image.url is not None
            content = asyncio.run(image.acontent())
        assert content.startswith(b"\x89PNG")
        assert image.url == transport.urls[-1]

    def test_async_download_of_a_sync_result_keeps_the_limits(
        self, friendli_server: FriendliTestServer
    ) -> None:
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, max_download_bytes=10
        ) as client:
            image = client.generate("x", model="ep").images[0]
            with pytest.raises(ImageDownloadError, match="max_download_bytes"):
                asyncio.run(image.acontent())

    def test_sync_download_of_an_async_users_client_result_is_refused(
        self, friendli_server: FriendliTestServer
    ) -> None:
        async def generate() -> GeneratedImage:
            async with (
                httpx.AsyncClient() as http,
                AsyncFriendliImages(
                    token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
                ) as client,
            ):
                return (await client.generate("x", model="ep")).images[0]

        image = asyncio.run(generate())
        with pytest.raises(ImageDownloadError, match="await acontent"):
            image.content()

    def test_sync_download_of_an_async_result_keeps_the_limits(
        self, friendli_server: FriendliTestServer
    ) -> None:
        async def generate() -> GeneratedImage:
            async with AsyncFriendliImages(
                token=friendli_server.token,
                base_url=friendli_server.base_url,
                max_download_bytes=10,
            ) as client:
                return (await client.generate("x", model="ep")).images[0]

        image = asyncio.run(generate())
        with pytest.raises(ImageDownloadError, match="max_download_bytes"):
            image.content()


class TestLogging:
    def test_download_logs_carry_no_query_string(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with RawServer(png_response) as raw:
            image_from(client, friendli_server, f"{raw.url}/x.png?X-Amz-Signature=s3cr3t").content()
        assert any("/x.png" in record.getMessage() for record in caplog.records)
        assert not any("s3cr3t" in record.getMessage() for record in caplog.records)


class TestToPil:
    def test_more_pixels_than_max_pixels_is_a_typed_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        pytest.importorskip("PIL")
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("1", (4000, 3000)).save(buffer, format="PNG")
        assert len(buffer.getvalue()) < 100_000  # a small file declaring 12 megapixels
        with RawServer(answer(response("200 OK", buffer.getvalue()))) as raw:
            image = image_from(client, friendli_server, f"{raw.url}/big.png")
            with pytest.raises(FriendliImagesError, match="max_pixels=1000000"):
                image.to_pil(max_pixels=1_000_000)
            assert (4000, 3000) == image.to_pil().size

    def test_undecodable_image_is_a_typed_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        pytest.importorskip("PIL")
        broken = PNG[:40] + PNG[-12:]  # its end intact, its pixel data cut out
        with RawServer(answer(response("200 OK", broken))) as raw:
            image = image_from(client, friendli_server, f"{raw.url}/cut.png")
            with pytest.raises(FriendliImagesError, match="cannot be decoded"):
                image.to_pil()


def _jpeg() -> bytes:
    pytest.importorskip("PIL")
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, format="JPEG")
    return buffer.getvalue()


class TestTruncatedImages:
    """An image cut short in transit is an error, never a saved success."""

    @pytest.mark.parametrize(
        ("make", "cut", "expected"),
        [
            pytest.param(lambda: PNG, 0, None, id="png-whole"),
            pytest.param(lambda: PNG, 1, "IEND", id="png-cut-by-1"),
            pytest.param(lambda: PNG, 30, "IEND", id="png-cut-by-30"),
            pytest.param(_jpeg, 0, None, id="jpeg-whole"),
            pytest.param(_jpeg, 2, "end-of-image", id="jpeg-cut"),
            pytest.param(lambda: _jpeg() + b"\0\0", 0, None, id="jpeg-zero-padding"),
            pytest.param(lambda: b"GIF89a" + b"\0" * 20 + b"\x3b", 0, None, id="gif-whole"),
            pytest.param(lambda: b"GIF89a" + b"\0" * 20, 0, "trailer", id="gif-cut"),
            pytest.param(
                lambda: b"RIFF" + (32).to_bytes(4, "little") + b"WEBP" + b"\0" * 28,
                0,
                None,
                id="webp-whole",
            ),
            pytest.param(
                lambda: b"RIFF" + (32).to_bytes(4, "little") + b"WEBP" + b"\0" * 28,
                5,
                "declares",
                id="webp-cut",
            ),
        ],
    )
    def test_truncation(self, make: Any, cut: int, expected: str | None) -> None:
        data = make()
        data = data[: len(data) - cut]
        problem = truncation(sniff_image_type(data[:12]), data[:12], data[-12:], len(data))

        assert (expected is None) == (problem is None), problem
        if expected is not None:
            assert expected in str(problem)

    @pytest.mark.parametrize(
        "reply",
        [
            pytest.param(
                response("200 OK", PNG[:-20], [("Content-Length", str(len(PNG) - 20))]),
                id="content-length-of-the-cut-image",
            ),
            pytest.param(
                b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n" + PNG[:-20],
                id="http-1.0-close-delimited",
            ),
            pytest.param(
                response(
                    "200 OK",
                    gzip.compress(PNG)[:-30],
                    [("Content-Encoding", "gzip")],
                ),
                id="truncated-gzip",
            ),
        ],
    )
    def test_a_cut_download_is_not_saved(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        tmp_path: Path,
        reply: bytes,
    ) -> None:
        with RawServer(answer(reply)) as raw:
            image = image_from(client, friendli_server, f"{raw.url}/cut.png")
            with pytest.raises(FriendliImagesError):
                image.save(tmp_path / "cut.png")

        assert [] == list(tmp_path.iterdir())
