"""generate_image() and agenerate_image(): one call, one short-lived client."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from friendli_images import (
    AuthenticationError,
    ImageDownloadError,
    ImageSaveError,
    InvalidRequestError,
    OutputExistsError,
    agenerate_image,
    generate_image,
)
from friendli_images.testing import ErrorStatus, FriendliTestServer, render_png


class TestGenerateImage:
    def test_generate_and_save(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """With save_to, URL results are downloaded and saved before the client closes."""
        result = generate_image(
            "a cat",
            model="ep",
            seed=3,
            save_to=tmp_path,
            stem="cat",
            token=friendli_server.token,
            base_url=friendli_server.base_url,
        )

        assert [3] == [image.seed for image in result.images]
        assert render_png(3, 64, 64) == (tmp_path / "cat.png").read_bytes()

    def test_environment_token(
        self, friendli_server: FriendliTestServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The token and base URL can come from the environment."""
        monkeypatch.setenv("FRIENDLI_TOKEN", friendli_server.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", friendli_server.base_url)

        result = generate_image("a cat", model="ep", response_format="png", n=2, seed=1)

        assert [1, 2] == [image.seed for image in result.images]

    def test_errors_propagate(self, friendli_server: FriendliTestServer) -> None:
        """API errors reach the caller typed."""
        with pytest.raises(AuthenticationError):
            generate_image("a cat", model="ep", token="wrong", base_url=friendli_server.base_url)

    @pytest.mark.anyio
    async def test_async(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """agenerate_image saves with the async client."""
        await agenerate_image(
            "a cat",
            model="ep",
            seed=5,
            response_format="jpg",
            save_to=tmp_path,
            token=friendli_server.token,
            base_url=friendli_server.base_url,
        )

        assert ["image.jpg"] == [p.name for p in tmp_path.iterdir()]


class TestNothingGeneratedThatCannotBeKept:
    """save_to is checked before sending: a rejected call sends zero requests."""

    def test_existing_file(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """A file with a planned name (any image extension) stops the call before sending."""
        (tmp_path / "cat-1.jpg").write_bytes(b"precious")

        with pytest.raises(OutputExistsError, match=r"cat-1\.jpg"):
            generate_image(
                "a cat",
                model="ep",
                n=2,
                save_to=tmp_path,
                stem="cat",
                token=friendli_server.token,
                base_url=friendli_server.base_url,
            )

        assert [] == friendli_server.generation_requests
        assert b"precious" == (tmp_path / "cat-1.jpg").read_bytes()

    @pytest.mark.parametrize(
        ("save_to", "stem"),
        [
            pytest.param("file/sub", "image", id="out-under-a-file"),
            pytest.param("file", "image", id="out-is-a-file"),
            pytest.param("ok", "../x", id="stem-with-directory"),
            pytest.param("/proc/friendli-images-out", "image", id="nothing-can-be-created"),
        ],
    )
    def test_unusable_output(
        self, friendli_server: FriendliTestServer, tmp_path: Path, save_to: str, stem: str
    ) -> None:
        """A save_to that cannot hold files, or a bad stem: InvalidRequestError, no request."""
        (tmp_path / "file").write_bytes(b"")

        with pytest.raises(InvalidRequestError) as info:
            generate_image(
                "a cat",
                model="ep",
                save_to=tmp_path / save_to,
                stem=stem,
                token=friendli_server.token,
                base_url=friendli_server.base_url,
            )

        assert info.value.param in ("save_to", "stem")
        assert [] == friendli_server.generation_requests
        assert ["file"] == sorted(os.listdir(tmp_path))

    @pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
    def test_read_only_directory(self, friendli_server: FriendliTestServer, tmp_path: Path) -> None:
        """A directory the user cannot write into is refused before sending."""
        tmp_path.chmod(0o500)
        try:
            with pytest.raises(InvalidRequestError, match="cannot save"):
                generate_image(
                    "a cat",
                    model="ep",
                    save_to=tmp_path,
                    token=friendli_server.token,
                    base_url=friendli_server.base_url,
                )
        finally:
            tmp_path.chmod(0o700)

        assert [] == friendli_server.generation_requests

    def test_failed_save_keeps_the_result(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """When saving fails after generating, the error carries the generated images."""
        friendli_server.inject(ErrorStatus(500), route="image")

        with pytest.raises(ImageSaveError) as info:
            generate_image(
                "a cat",
                model="ep",
                n=2,
                seed=1,
                save_to=tmp_path,
                token=friendli_server.token,
                base_url=friendli_server.base_url,
            )

        assert isinstance(info.value.__cause__, ImageDownloadError)
        assert info.value.result is not None
        assert [1, 2] == [image.seed for image in info.value.result]
        assert [] == os.listdir(tmp_path)
        assert render_png(1, 64, 64) == info.value.result[0].content()  # still downloadable
        assert "could not be saved" in str(pickle.loads(pickle.dumps(info.value)))

    @pytest.mark.anyio
    async def test_async_failed_save_keeps_the_result(
        self, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """The same for agenerate_image, whose checks also run before sending."""
        (tmp_path / "taken.png").write_bytes(b"precious")
        with pytest.raises(OutputExistsError):
            await agenerate_image(
                "a cat",
                model="ep",
                save_to=tmp_path,
                stem="taken",
                token=friendli_server.token,
                base_url=friendli_server.base_url,
            )
        assert [] == friendli_server.generation_requests
        friendli_server.inject(ErrorStatus(500), route="image")

        with pytest.raises(ImageSaveError) as info:
            await agenerate_image(
                "a cat",
                model="ep",
                seed=4,
                save_to=tmp_path,
                token=friendli_server.token,
                base_url=friendli_server.base_url,
            )

        assert info.value.result is not None
        assert [4] == [image.seed for image in info.value.result]
