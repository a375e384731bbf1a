"""generate_image() and agenerate_image(): one call, one short-lived client."""

from __future__ import annotations

from pathlib import Path

import pytest
from friendli_images import AuthenticationError, agenerate_image, generate_image
from friendli_images.testing import FriendliTestServer, render_png


class TestGenerateImage:
    def test_generate_and_save(self, server: FriendliTestServer, tmp_path: Path) -> None:
        """With save_to, URL results are downloaded and saved before the client closes."""
        result = generate_image(
            "a cat",
            model="ep",
            seed=3,
            save_to=tmp_path,
            stem="cat",
            token=server.token,
            base_url=server.base_url,
        )

        assert [3] == [image.seed for image in result.images]
        assert render_png(3, 64, 64) == (tmp_path / "cat.png").read_bytes()

    def test_environment_token(
        self, server: FriendliTestServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The token and base URL can come from the environment."""
        monkeypatch.setenv("FRIENDLI_TOKEN", server.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", server.base_url)

        result = generate_image("a cat", model="ep", response_format="png", n=2, seed=1)

        assert [1, 2] == [image.seed for image in result.images]

    def test_errors_propagate(self, server: FriendliTestServer) -> None:
        """API errors reach the caller typed."""
        with pytest.raises(AuthenticationError):
            generate_image("a cat", model="ep", token="wrong", base_url=server.base_url)

    @pytest.mark.anyio
    async def test_async(self, server: FriendliTestServer, tmp_path: Path) -> None:
        """agenerate_image saves with the async client."""
        await agenerate_image(
            "a cat",
            model="ep",
            seed=5,
            response_format="jpg",
            save_to=tmp_path,
            token=server.token,
            base_url=server.base_url,
        )

        assert ["image.jpg"] == [p.name for p in tmp_path.iterdir()]
