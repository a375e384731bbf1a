"""Issue 9, generation responses: one bad 200 costs one request, bodies are bounded in size
and time, retries never resend a changed control image, an async client survives its loop.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import math
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _raw_server import RawConnection, RawServer, answer, response
from friendli_images import (
    APIResponseValidationError,
    APITimeoutError,
    AsyncFriendliImages,
    EndpointWaitTimeoutError,
    FriendliContainerImages,
    FriendliImages,
    InvalidRequestError,
    _config,
)
from friendli_images._transport._decoding import STEP, BoundedDecoder
from friendli_images._transport._rules import display_url, result_url_problem
from friendli_images.testing import FriendliTestServer, InvalidJson, WrongShape, render_png

TOKEN = "flp_test"

BAD_URLS = [
    pytest.param("http://[::1/x.png", id="bad-ipv6"),
    pytest.param("http://host/a\nb.png", id="newline"),
    pytest.param("http://host/a\x00b.png", id="nul"),
    pytest.param("http://host/" + "a" * 9000 + ".png", id="absurdly-long"),
    pytest.param("file:///etc/passwd", id="file-scheme"),
    pytest.param("javascript:alert(1)", id="js-scheme"),
    pytest.param("http:///x.png", id="no-host"),
]


def url_body(url: str) -> dict[str, object]:
    return {"data": [{"seed": 1, "response_format": "url", "url": url}]}


class TestMalformedSuccess:
    @pytest.mark.parametrize("url", BAD_URLS)
    def test_bad_result_url_is_a_validation_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer, url: str
    ) -> None:
        """The URL is checked while parsing, so repr/mime_type/save never meet it."""
        friendli_server.inject(WrongShape(url_body(url)))
        with pytest.raises(APIResponseValidationError, match=r"data\[0\]\.url"):
            client.generate("x", model="ep")

    def test_deeply_nested_json_is_a_validation_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """json's RecursionError no longer escapes."""
        friendli_server.inject(InvalidJson(body=b"[" * 100_000 + b"]" * 100_000))
        with pytest.raises(APIResponseValidationError) as info:
            client.generate("x", model="ep")
        assert info.value.body is not None
        assert len(info.value.body) <= 2000

    @pytest.mark.parametrize(
        "b64",
        [pytest.param("", id="empty"), pytest.param("aGVsbG8gd29ybGQh", id="not-an-image")],
    )
    def test_b64_that_is_no_image_is_a_validation_error(
        self, client: FriendliImages, friendli_server: FriendliTestServer, b64: str
    ) -> None:
        friendli_server.inject(
            WrongShape({"data": [{"seed": 1, "response_format": "png", "b64_json": b64}]})
        )
        with pytest.raises(APIResponseValidationError, match=r"b64_json"):
            client.generate("x", model="ep")

    @pytest.mark.parametrize("url", BAD_URLS[:3])
    def test_one_bad_response_keeps_the_batch(
        self, client: FriendliImages, friendli_server: FriendliTestServer, url: str
    ) -> None:
        """n=4: the malformed request lands in errors, the three good images are kept."""
        friendli_server.inject(WrongShape(url_body(url)))
        result = client.generate("x", model="ep", n=4, concurrency=1)

        assert 3 == len(result.images)
        assert [0] == [failure.index for failure in result.errors]
        assert isinstance(result.errors[0].error, APIResponseValidationError)
        assert "ImageResult" in repr(result)
        assert all(image.content().startswith(b"\x89PNG") for image in result)

    @pytest.mark.anyio
    async def test_one_bad_response_keeps_the_async_batch(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        friendli_server.inject(InvalidJson(body=b"[" * 100_000))
        result = await aclient.generate("x", model="ep", n=3, concurrency=1)

        assert (2, [0]) == (len(result.images), [failure.index for failure in result.errors])


def endless_chunked(connection: RawConnection) -> None:
    """A 200 whose chunked body never ends (until the client hangs up)."""
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    if not connection.send(head.encode()):
        return
    chunk = b"[" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while connection.send(frame):
        pass


class TestResponseSizeLimit:
    def test_default_fits_four_50_mib_images(self) -> None:
        """Four 50 MiB images in base64 plus their JSON fit the default limit."""
        image_b64 = 4 * math.ceil(_config.MAX_CONTROL_IMAGE_BYTES / 3)
        json_overhead = 4 * 100
        assert 4 * image_b64 + json_overhead < _config.DEFAULT_MAX_RESPONSE_BYTES

    def test_large_body_is_refused_at_the_limit(self, friendli_server: FriendliTestServer) -> None:
        friendli_server.inject(InvalidJson(body=b" " * 200_000 + b"{}"))
        with (
            FriendliImages(
                token=friendli_server.token,
                base_url=friendli_server.base_url,
                max_response_bytes=100_000,
            ) as client,
            pytest.raises(APIResponseValidationError, match="max_response_bytes"),
        ):
            client.generate("x", model="ep")
        assert 1 == len(friendli_server.generation_requests)  # never retried: it may have generated

    def test_endless_chunked_body_stops_at_the_limit(self) -> None:
        with RawServer(endless_chunked) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url, max_response_bytes=1_000_000)
            with client, pytest.raises(APIResponseValidationError, match="max_response_bytes"):
                client.generate("x", model="ep")

    def test_gzip_bomb_stops_at_the_decoded_limit(self) -> None:
        """A 100 kB gzip body that inflates to 100 MB is stopped at 1 MB decoded."""
        bomb = gzip.compress(b" " * 100_000_000, compresslevel=9)
        assert len(bomb) < 200_000
        headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
        with RawServer(answer(response("200 OK", bomb, headers))) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url, max_response_bytes=1_000_000)
            with client, pytest.raises(APIResponseValidationError, match="max_response_bytes"):
                client.generate("x", model="ep")

    @pytest.mark.anyio
    async def test_async_limit(self) -> None:
        with RawServer(endless_chunked) as raw:
            client = AsyncFriendliImages(token=TOKEN, base_url=raw.url, max_response_bytes=500_000)
            async with client:
                with pytest.raises(APIResponseValidationError, match="max_response_bytes"):
                    await client.generate("x", model="ep")

    def test_deflate_body_under_the_limit_is_read(
        self, friendli_server: FriendliTestServer
    ) -> None:
        """Bodies are still decoded normally below the limit (sanity check of the stream)."""
        image = base64.b64encode(render_png(1, 8, 8)).decode()
        body = json.dumps(
            {"data": [{"b64_json": image, "seed": 1, "response_format": "png"}]}
        ).encode()
        headers = [("Content-Type", "application/json"), ("Content-Encoding", "deflate")]
        with RawServer(answer(response("200 OK", zlib.compress(body), headers))) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url)
            with client:
                assert 1 == len(client.generate("x", model="ep"))


class TestAnImageOrAnError:
    """A 200 is a success only when it carries an image."""

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            pytest.param({"data": []}, "holds no image", id="no-image"),
            pytest.param(
                {"data": [{"b64_json": "aGVsbG8=", "seed": 1, "response_format": "png"}]},
                "not a PNG",
                id="base64-of-text",
            ),
        ],
    )
    def test_dedicated(
        self, friendli_server: FriendliTestServer, body: dict[str, object], problem: str
    ) -> None:
        reply = response(
            "200 OK", json.dumps(body).encode(), [("Content-Type", "application/json")]
        )
        with (
            RawServer(answer(reply)) as raw,
            FriendliImages(token=TOKEN, base_url=raw.url) as client,
        ):
            with pytest.raises(APIResponseValidationError, match=problem):
                client.generate("x", model="ep", max_retries=0)

    @pytest.mark.parametrize(
        ("image", "problem"),
        [
            pytest.param(base64.b64encode(b"hello, not an image").decode(), "not a PNG", id="text"),
            pytest.param(
                base64.b64encode(render_png(1, 8, 8)[:-12]).decode(), "cut short", id="cut-png"
            ),
        ],
    )
    def test_container(self, image: str, problem: str) -> None:
        reply = response(
            "200 OK", json.dumps({"image": image}).encode(), [("Content-Type", "application/json")]
        )
        with RawServer(answer(reply)) as raw:
            with FriendliContainerImages(base_url=raw.url) as client:
                with pytest.raises(APIResponseValidationError, match=problem):
                    client.generate("x", max_retries=0)


def trickle_body(connection: RawConnection) -> None:
    """Headers at once, then a JSON body one byte every 50 ms (each read resets httpx's timer)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    if connection.send(head):
        connection.trickle(b" " * 100_000, every=0.05)


def trickle_head(connection: RawConnection) -> None:
    """A status line, then one header byte every 50 ms: each read resets httpx's timer."""
    connection.trickle(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 5000, every=0.05)


class TestAttemptDeadline:
    @pytest.mark.parametrize("handler", [trickle_body, trickle_head], ids=["body", "headers"])
    def test_sync_trickling_is_bounded(self, handler: Callable[[RawConnection], None]) -> None:
        """Each byte within the read timeout: the attempt still ends by its deadline."""
        with RawServer(handler) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url, timeout=0.6, max_retries=0)
            start = time.monotonic()
            with client, pytest.raises(APITimeoutError) as info:
                client.generate("x", model="ep")
            elapsed = time.monotonic() - start
        assert elapsed < 3
        assert info.value.sent

    @pytest.mark.anyio
    async def test_async_trickling_body_is_bounded(self) -> None:
        with RawServer(trickle_body) as raw:
            client = AsyncFriendliImages(token=TOKEN, base_url=raw.url, timeout=0.6, max_retries=0)
            start = time.monotonic()
            async with client:
                with pytest.raises(APITimeoutError):
                    await client.generate("x", model="ep")
            elapsed = time.monotonic() - start
        assert elapsed < 3

    def test_sync_batch_with_trickling_headers_is_bounded(self) -> None:
        """A batch's pooled connections end by the deadline too: each request fails alone."""
        with RawServer(trickle_head) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url, timeout=0.6, max_retries=0)
            start = time.monotonic()
            with client:
                outcomes = list(client.generate_many([{"prompt": "x", "model": "ep"}] * 3))
            elapsed = time.monotonic() - start
        assert elapsed < 4
        assert [APITimeoutError] * 3 == [type(outcome.error) for outcome in outcomes]

    @pytest.mark.anyio
    async def test_async_trickling_headers_are_bounded(self) -> None:
        with RawServer(trickle_head) as raw:
            client = AsyncFriendliImages(token=TOKEN, base_url=raw.url, timeout=0.6, max_retries=0)
            start = time.monotonic()
            async with client:
                with pytest.raises(APITimeoutError):
                    await client.generate("x", model="ep")
        assert time.monotonic() - start < 3


class TestWaitDeadlineWithTricklingHeaders:
    """wait_until_ready(timeout=...) ends by its deadline whatever the status answer does."""

    def test_sync_wait_until_ready(self) -> None:
        with RawServer(trickle_head) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url)
            start = time.monotonic()
            with client, pytest.raises((EndpointWaitTimeoutError, APITimeoutError)):
                client.wait_until_ready("ep", timeout=1.5)
            elapsed = time.monotonic() - start
        assert elapsed < 3
        assert 1 <= len(raw.requests)

    @pytest.mark.anyio
    async def test_async_wait_until_ready(self) -> None:
        with RawServer(trickle_head) as raw:
            client = AsyncFriendliImages(token=TOKEN, base_url=raw.url)
            start = time.monotonic()
            async with client:
                with pytest.raises((EndpointWaitTimeoutError, APITimeoutError)):
                    await client.wait_until_ready("ep", timeout=1.5)
        assert time.monotonic() - start < 3


class TestControlImageChangedBeforeRetry:
    def test_changed_file_is_never_sent(self, tmp_path: Path) -> None:
        """503 first; the file changes before the retry: typed error, one request only."""
        path = tmp_path / "control.png"
        path.write_bytes(render_png(1, 16, 16))

        def change_then_503(connection: RawConnection) -> None:
            path.write_bytes(render_png(2, 8, 8))  # another size, another mtime
            connection.send(response("503 Service Unavailable", b"{}", [("Retry-After", "0")]))

        with RawServer(change_then_503) as raw:
            client = FriendliImages(token=TOKEN, base_url=raw.url, max_retries=2)
            with client, pytest.raises(InvalidRequestError, match="changed") as info:
                client.generate("x", model="ep", control_images=[path])
            assert 1 == len(raw.requests)
        assert "control_images[0]" == info.value.param


class TestAsyncClientAcrossLoops:
    def test_one_client_two_asyncio_runs(self, friendli_server: FriendliTestServer) -> None:
        client = AsyncFriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)

        async def once() -> int:
            async with client:  # closed at the end of each loop, opened again by the next
                result = await client.generate("x", model="ep")
                await result.images[0].acontent()
                return len(result)

        assert 1 == asyncio.run(once())
        assert 1 == asyncio.run(once())


class TestUrlRules:
    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            pytest.param("https://cdn.example/a.png?X-Amz-Signature=abc", None, id="signed"),
            pytest.param("http://[::1]:8080/a.png", None, id="ipv6"),
            pytest.param("http://[::1/x.png", "is not a valid URL", id="bad-ipv6"),
            pytest.param("http://h/a b.png", "contains whitespace or control characters", id="sp"),
            pytest.param("http://h/\u00e9.png", "contains non-ASCII characters", id="non-ascii"),
            pytest.param("ftp://h/a.png", "is not an http(s) URL", id="ftp"),
            pytest.param("http://h:99999/a.png", "is not a valid URL", id="bad-port"),
            pytest.param("http:///a.png", "has no host", id="no-host"),
            pytest.param("http://h/" + "a" * 8200, "is longer than 8192 characters", id="long"),
        ],
    )
    def test_result_url_rule(self, url: str, problem: str | None) -> None:
        assert problem == result_url_problem(url)

    @pytest.mark.parametrize(
        ("url", "shown"),
        [
            ("https://u:p@cdn/a.png?sig=s#f", "https://cdn/a.png"),
            ("http://[::1]:80/x", "http://[::1]:80/x"),
            ("http://h/a\nb", "http://h/ab"),  # urlsplit drops tabs and newlines
            ("http://[::1/x", "<invalid URL>"),
        ],
    )
    def test_display_url_drops_secrets(self, url: str, shown: str) -> None:
        assert shown == display_url(url)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class TestBoundedDecoder:
    @pytest.mark.parametrize(
        ("encoding", "encode"),
        [
            pytest.param(None, lambda data: data, id="none"),
            pytest.param("identity", lambda data: data, id="identity"),
            pytest.param("gzip", gzip.compress, id="gzip"),
            pytest.param("deflate", zlib.compress, id="deflate-zlib"),
            pytest.param("deflate", _raw_deflate, id="deflate-raw"),
        ],
    )
    def test_decodes_in_steps(self, encoding: str | None, encode: Callable[[bytes], bytes]) -> None:
        data = b"0123456789" * 500_000  # 5 MB: several steps
        encoded = encode(data)
        decoder = BoundedDecoder(encoding)
        pieces = [
            piece
            for start in range(0, len(encoded), 65536)
            for piece in decoder.feed(encoded[start : start + 65536])
        ]
        pieces.append(decoder.flush())
        assert data == b"".join(pieces)
        assert max(len(piece) for piece in pieces) <= STEP

    @pytest.mark.parametrize(
        ("encoding", "body"),
        [
            pytest.param("br", b"x", id="unsupported"),
            pytest.param("gzip", b"not gzip at all", id="corrupt-gzip"),
            pytest.param("deflate", b"\xff\xff\xff\xff", id="corrupt-deflate"),
        ],
    )
    def test_undecodable_is_a_decoding_error(self, encoding: str, body: bytes) -> None:
        def decode() -> bytes:
            decoder = BoundedDecoder(encoding)
            return b"".join(decoder.feed(body)) + decoder.flush()

        with pytest.raises(httpx.DecodingError):
            decode()
