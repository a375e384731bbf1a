"""Results: type sniffing, downloads without the token, safe atomic saving."""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from friendli_images import (
    APIResponseValidationError,
    AsyncFriendliImages,
    FriendliImages,
    GeneratedImage,
    ImageDownloadError,
    ImageResult,
    InvalidRequestError,
    OutputExistsError,
    ResponseFormat,
)
from friendli_images.testing import (
    Delay,
    DropConnection,
    ErrorStatus,
    FriendliTestServer,
    TruncatedBody,
    WrongShape,
    render_png,
)

WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(8)
GIF = b"GIF89a" + bytes(10)


def listing(directory: Path) -> list[str]:
    """Every entry in ``directory``, hidden temporary files included."""
    return sorted(os.listdir(directory))


def b64_item(data: bytes, seed: int = 1, response_format: str = "png") -> dict[str, object]:
    return {
        "seed": seed,
        "response_format": response_format,
        "b64_json": base64.b64encode(data).decode(),
    }


class TestTypes:
    @pytest.mark.parametrize(
        ("data", "response_format", "mime", "extension"),
        [
            (render_png(1, 4, 4), "raw", "image/png", ".png"),
            (b"\xff\xd8\xff\xe0" + bytes(12), "png", "image/jpeg", ".jpg"),
            (WEBP, "png", "image/webp", ".webp"),
            (GIF, "raw", "image/gif", ".gif"),
        ],
    )
    def test_sniffed_from_bytes_then_format(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        data: bytes,
        response_format: str,
        mime: str,
        extension: str,
    ) -> None:
        """The magic number decides the type; the response format is the fallback."""
        friendli_server.inject(
            WrongShape({"data": [b64_item(data, response_format=response_format)]})
        )

        image = client.generate("x", model="ep").images[0]

        assert (mime, extension) == (image.mime_type, image.extension)

    def test_url_image_type_before_download(self, client: FriendliImages) -> None:
        """A URL result's type is guessed from its path until its bytes are known."""
        image = client.generate("x", model="ep", response_format="url").images[0]

        assert "image/png" == image.mime_type
        assert "url=" in repr(image)

    def test_to_pil(self, client: FriendliImages) -> None:
        """to_pil() opens the image with Pillow."""
        pytest.importorskip("PIL")

        picture = client.generate("x", model="ep", response_format="jpeg").images[0].to_pil()

        assert ("JPEG", (64, 64)) == (picture.format, picture.size)


class TestDownload:
    def test_token_is_not_sent_to_image_host(self, friendli_server: FriendliTestServer) -> None:
        """The image download carries neither the token nor the team header."""
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, team_id="t"
        ) as client:
            client.generate("x", model="ep").images[0].content()

        (download,) = friendli_server.image_requests
        assert "authorization" not in download.headers
        assert "x-friendli-team" not in download.headers
        assert download.listener == "images"

    @pytest.mark.anyio
    async def test_async_download_without_token(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async download carries no token either."""
        result = await aclient.generate("x", model="ep")
        await result.images[0].acontent()

        assert "authorization" not in friendli_server.image_requests[0].headers

    def test_content_is_downloaded_once(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """content() downloads on first use and keeps the bytes."""
        image = client.generate("x", model="ep", seed=4).images[0]

        assert image.content() == image.content() == render_png(4, 64, 64)
        assert 1 == len(friendli_server.image_requests)

    def test_download_after_client_closed(self, friendli_server: FriendliTestServer) -> None:
        """A URL result can still be fetched after its client was closed."""
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url
        ) as client:
            image = client.generate("x", model="ep", seed=2).images[0]

        assert render_png(2, 64, 64) == image.content()

    @pytest.mark.parametrize(
        ("fault", "message"),
        [
            (ErrorStatus(404), "404"),
            (ErrorStatus(500), "500"),
            (TruncatedBody(), "failed"),
            (DropConnection(), "failed"),
        ],
    )
    def test_download_failures(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        fault: object,
        message: str,
    ) -> None:
        """A failed download is an ImageDownloadError naming the URL without its query."""
        image = client.generate("x", model="ep").images[0]
        friendli_server.inject(fault, route="image")  # type: ignore[arg-type]

        with pytest.raises(ImageDownloadError, match=message) as info:
            image.content()

        assert image.url == info.value.url
        assert friendli_server.token not in str(info.value)

    def test_download_deadline(self, friendli_server: FriendliTestServer) -> None:
        """A download slower than download_timeout fails with a timeout message."""
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, download_timeout=0.2
        ) as client:
            image = client.generate("x", model="ep").images[0]
            friendli_server.inject(Delay(1.0), route="image")

            with pytest.raises(ImageDownloadError, match=r"took longer than 0\.2 s"):
                image.content()

    @pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.png"])
    def test_only_http_urls(
        self, client: FriendliImages, friendli_server: FriendliTestServer, url: str
    ) -> None:
        """A result URL that is not http(s) is rejected with the response, never fetched."""
        friendli_server.inject(
            WrongShape({"data": [{"seed": 1, "response_format": "url", "url": url}]})
        )

        with pytest.raises(APIResponseValidationError, match=r"url is not an http\(s\) URL"):
            client.generate("x", model="ep")

    def test_signed_url_query_not_in_errors(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Signature query strings of image URLs stay out of error messages."""
        url = f"{friendli_server.image_base_url}/images/missing.png?X-Signature=s3cr3t"
        friendli_server.inject(
            WrongShape({"data": [{"seed": 1, "response_format": "url", "url": url}]})
        )
        image = client.generate("x", model="ep").images[0]

        with pytest.raises(ImageDownloadError) as info:
            image.content()

        assert "s3cr3t" not in str(info.value)
        assert "s3cr3t" not in repr(image)


class TestSaveImage:
    def test_into_directory(self, client: FriendliImages, tmp_path: Path) -> None:
        """Saving into a directory names the file by seed with the right extension."""
        image = client.generate("x", model="ep", seed=9, response_format="jpeg").images[0]

        path = image.save(tmp_path)

        assert tmp_path / "image-9.jpg" == path
        assert image.content() == path.read_bytes()

    @pytest.mark.parametrize("response_format", ["url", "png"])
    def test_name_without_extension_gets_one(
        self, client: FriendliImages, tmp_path: Path, response_format: ResponseFormat
    ) -> None:
        """A file name without suffix gets the sniffed one, for URL and base64 results."""
        image = client.generate("x", model="ep", seed=1, response_format=response_format).images[0]

        path = image.save(tmp_path / "cat")

        assert tmp_path / "cat.png" == path
        assert render_png(1, 64, 64) == path.read_bytes()
        assert ["cat.png"] == listing(tmp_path)

    @pytest.mark.parametrize(
        ("name", "written"), [("v1.2", "v1.2.png"), ("shot-3.5x", "shot-3.5x.png")]
    )
    def test_version_like_names_get_extension(
        self, client: FriendliImages, tmp_path: Path, name: str, written: str
    ) -> None:
        """A dot followed by digits is not an extension."""
        image = client.generate("x", model="ep", response_format="png").images[0]

        assert tmp_path / written == image.save(tmp_path / name)

    def test_name_with_extension_is_kept(self, client: FriendliImages, tmp_path: Path) -> None:
        """An explicit file name is used as given."""
        image = client.generate("x", model="ep", response_format="png").images[0]

        assert tmp_path / "out.image" == image.save(tmp_path / "out.image")

    def test_never_overwrites(self, client: FriendliImages, tmp_path: Path) -> None:
        """An existing file is left alone and OutputExistsError raised, unless overwrite=True."""
        target = tmp_path / "cat.png"
        target.write_bytes(b"precious")
        image = client.generate("x", model="ep", response_format="png").images[0]

        with pytest.raises(OutputExistsError, match="overwrite=True") as info:
            image.save(target)

        assert isinstance(info.value, FileExistsError)
        assert b"precious" == target.read_bytes()
        assert ["cat.png"] == listing(tmp_path)

        image.save(target, overwrite=True)

        assert image.content() == target.read_bytes()

    def test_failed_download_leaves_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A download cut mid-body leaves no file and no temporary file behind."""
        friendli_server.image_size = (256, 256)
        image = client.generate("x", model="ep").images[0]
        friendli_server.inject(TruncatedBody(0.5), route="image")

        with pytest.raises(ImageDownloadError):
            image.save(tmp_path / "cat")

        assert [] == listing(tmp_path)

    def test_interrupted_write_leaves_nothing(
        self, client: FriendliImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Even Ctrl-C in the middle of writing leaves no partial file."""
        image = client.generate("x", model="ep", response_format="png").images[0]

        def interrupt(self: object, data: bytes) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr("friendli_images._files.AtomicWriter.write", interrupt)
        with pytest.raises(KeyboardInterrupt):
            image.save(tmp_path / "cat.png")

        assert [] == listing(tmp_path)

    def test_trailing_slash_means_directory(self, client: FriendliImages, tmp_path: Path) -> None:
        """``save("newdir/")`` creates the directory and saves into it, not ``newdir.png``."""
        image = client.generate("x", model="ep", seed=4, response_format="png").images[0]

        path = image.save(f"{tmp_path / 'newdir'}/")

        assert tmp_path / "newdir" / "image-4.png" == path
        assert ["newdir"] == listing(tmp_path)

    def test_without_hard_links_a_racing_entry_is_kept(
        self, client: FriendliImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No hard links (vfat, exFAT): an exclusive create claims the name, never a replace.

        The entry appearing at the target is a dangling symlink, which ``exists()`` does
        not see: a check-then-rename would replace it.
        """
        image = client.generate("x", model="ep", response_format="png").images[0]

        def no_hard_links(source: object, target: object) -> None:
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_hard_links)
        (tmp_path / "cat.png").symlink_to(tmp_path / "elsewhere.png")

        with pytest.raises(OutputExistsError):
            image.save(tmp_path / "cat.png")

        assert (tmp_path / "cat.png").is_symlink()
        assert ["cat.png"] == listing(tmp_path)
        assert tmp_path / "dog.png" == image.save(tmp_path / "dog.png")  # the fallback saves
        assert image.content() == (tmp_path / "dog.png").read_bytes()
        assert ["cat.png", "dog.png"] == listing(tmp_path)

    @pytest.mark.parametrize(
        ("call", "statuses"),
        [
            pytest.param("image.save(folder)", {-signal.SIGTERM}, id="save"),
            pytest.param("asyncio.run(image.asave(folder))", {-signal.SIGTERM, 143}, id="asave"),
        ],
    )
    def test_sigterm_during_save_leaves_no_temporary_file(
        self, tmp_path: Path, call: str, statuses: set[int]
    ) -> None:
        """SIGTERM while a download streams to disk: the .part file goes, the process ends."""
        with _stalling_image_server() as url:
            script = textwrap.dedent(
                f"""
                import asyncio
                from friendli_images import GeneratedImage
                image = GeneratedImage(seed=1, response_format="url", url={url!r})
                folder = {str(tmp_path)!r}
                {call}
                """
            )
            process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 20
                while not list(tmp_path.glob("*.part")):
                    assert process.poll() is None, "the save ended early"
                    assert time.monotonic() < deadline, "no temporary file appeared"
                    time.sleep(0.02)
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=20) in statuses
                assert process.stderr is not None
                assert b"" == process.stderr.read()  # no traceback
            finally:
                process.kill()
                process.communicate()

        assert [] == listing(tmp_path)

    @pytest.mark.anyio
    async def test_asave(self, aclient: AsyncFriendliImages, tmp_path: Path) -> None:
        """asave streams a URL result to disk with the async client."""
        image = (await aclient.generate("x", model="ep", seed=3)).images[0]

        path = await image.asave(tmp_path)

        assert render_png(3, 64, 64) == path.read_bytes()


class TestSaveResult:
    def test_names(self, client: FriendliImages, tmp_path: Path) -> None:
        """One image is saved as <stem><ext>; several as <stem>-<i><ext>; the folder is created."""
        one = client.generate("x", model="ep", response_format="png")
        several = client.generate("x", model="ep", n=3, seed=1, response_format="jpeg")

        assert [tmp_path / "a" / "cat.png"] == one.save(tmp_path / "a", "cat")
        assert [tmp_path / "b" / f"dog-{i}.jpg" for i in range(3)] == several.save(
            tmp_path / "b", "dog"
        )

    def test_batch_names_follow_requests(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """In a batch with a failed request, files are named by request, not by position."""
        friendli_server.inject(ErrorStatus(400))
        result = client.generate(
            "x", model="ep", n=3, seed=10, concurrency=1, response_format="png"
        )

        paths = result.save(tmp_path)

        assert [tmp_path / "image-1.png", tmp_path / "image-2.png"] == paths
        assert [1, 2] == [image.request_index for image in result.images]
        assert render_png(11, 64, 64) == paths[0].read_bytes()

    @pytest.mark.parametrize("stem", ["v1.2", "photo.final", "a.b.c"])
    def test_dotted_stem_keeps_extension(
        self, client: FriendliImages, tmp_path: Path, stem: str
    ) -> None:
        """A dot in the stem never hides the image's extension."""
        one = client.generate("x", model="ep", response_format="png")
        two = client.generate("x", model="ep", n=2, seed=1, response_format="png")

        assert [tmp_path / f"{stem}.png"] == one.save(tmp_path, stem)
        assert [tmp_path / f"{stem}-{i}.png" for i in range(2)] == two.save(tmp_path, stem)

    def test_existing_file_stops_before_writing(
        self, client: FriendliImages, tmp_path: Path
    ) -> None:
        """If any target exists, nothing at all is written."""
        result = client.generate("x", model="ep", n=3, seed=1, response_format="png")
        (tmp_path / "image-2.png").write_bytes(b"precious")

        with pytest.raises(OutputExistsError):
            result.save(tmp_path)

        assert ["image-2.png"] == listing(tmp_path)
        assert b"precious" == (tmp_path / "image-2.png").read_bytes()

    def test_failure_rolls_back(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A download failing on the third image removes the two already saved."""
        result = client.generate("x", model="ep", n=3, seed=1, concurrency=1)
        result.images[0].content()
        result.images[1].content()
        friendli_server.inject(ErrorStatus(500), route="image")

        with pytest.raises(ImageDownloadError):
            result.save(tmp_path)

        assert [] == listing(tmp_path)

    def test_failed_overwrite_puts_old_files_back(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """overwrite=True is all or nothing too: after a failure the user's files are back."""
        result = client.generate("x", model="ep", n=3, seed=1, concurrency=1)
        result.images[0].content()
        result.images[1].content()
        friendli_server.inject(ErrorStatus(500), route="image")
        for index in range(3):
            (tmp_path / f"image-{index}.png").write_bytes(b"old %d" % index)

        with pytest.raises(ImageDownloadError):
            result.save(tmp_path, overwrite=True)

        assert [f"image-{index}.png" for index in range(3)] == listing(tmp_path)
        for index in range(3):
            assert b"old %d" % index == (tmp_path / f"image-{index}.png").read_bytes()

    @pytest.mark.anyio
    async def test_failed_async_overwrite_puts_old_files_back(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """The same for asave()."""
        result = await aclient.generate("x", model="ep", n=2, seed=1, concurrency=1)
        await result.images[0].acontent()
        friendli_server.inject(ErrorStatus(500), route="image")
        (tmp_path / "image-0.png").write_bytes(b"old")

        with pytest.raises(ImageDownloadError):
            await result.asave(tmp_path, overwrite=True)

        assert ["image-0.png"] == listing(tmp_path)
        assert b"old" == (tmp_path / "image-0.png").read_bytes()

    def test_overwrite_leaves_no_moved_aside_files(
        self, client: FriendliImages, tmp_path: Path
    ) -> None:
        """After a successful overwrite only the new files remain."""
        result = client.generate("x", model="ep", n=2, seed=1, response_format="png")
        (tmp_path / "image-0.png").write_bytes(b"old")

        result.save(tmp_path, overwrite=True)

        assert ["image-0.png", "image-1.png"] == listing(tmp_path)
        assert render_png(1, 64, 64) == (tmp_path / "image-0.png").read_bytes()

    @pytest.mark.parametrize(
        "stem",
        [
            pytest.param("../x", id="parent"),
            pytest.param("/tmp/x", id="absolute"),
            pytest.param("a/b", id="separator"),
            pytest.param("..", id="dotdot"),
            pytest.param("", id="empty"),
            pytest.param("a\0b", id="nul"),
        ],
    )
    def test_stem_is_a_file_name(self, client: FriendliImages, tmp_path: Path, stem: str) -> None:
        """A stem with a directory part is rejected before anything is written."""
        result = client.generate("x", model="ep", response_format="png")
        folder = tmp_path / "out"

        with pytest.raises(InvalidRequestError) as info:
            result.save(folder, stem)

        assert "stem" == info.value.param
        assert [] == listing(tmp_path)

    def test_result_is_a_sequence(self, client: FriendliImages) -> None:
        """An ImageResult iterates, indexes and measures like its images list."""
        result = client.generate("x", model="ep", n=2)

        assert isinstance(result, ImageResult)
        assert 2 == len(result)
        assert list(result) == result.images
        assert isinstance(result[1], GeneratedImage)


@contextlib.contextmanager
def _stalling_image_server() -> Iterator[str]:
    """A raw-socket image host that sends 2 MiB of a 4 MiB PNG, then stalls until closed."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            body = render_png(1, 4, 4)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                b"Content-Length: 4194304\r\n\r\n" + body + bytes(2 * 1024 * 1024 - len(body))
            )
            stop.wait(30)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/image.png"
    finally:
        stop.set()
        thread.join(30)
        listener.close()
