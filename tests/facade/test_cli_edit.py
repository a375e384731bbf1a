"""The ``friendli-images edit`` command and ``--container``, against the loopback test
server (in-process ``main()``; one end-to-end run against ``friendli-images mock-server``)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from friendli_images import edit_image
from friendli_images._cli import main
from friendli_images.testing import (
    CONTAINER_EDIT_PATH,
    CONTAINER_GENERATION_PATH,
    EDIT_PATH,
    FriendliTestServer,
    render_png,
)
from PIL import Image, ImageOps

TIMEOUT = 30
INPUT = render_png(31, 12, 8)


@pytest.fixture
def edit_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FriendliTestServer]:
    """A test server, with FRIENDLI_TOKEN and FRIENDLI_BASE_URL pointing at it."""
    with FriendliTestServer(token="cli-token") as running:
        monkeypatch.setenv("FRIENDLI_TOKEN", running.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", running.base_url)
        yield running
        assert [] == running.errors


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(INPUT)
    return path


def call_main(*args: str | Path) -> int:
    try:
        return main([str(arg) for arg in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def flipped(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return ImageOps.flip(image.convert("RGB")).tobytes()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


class TestEdit:
    def test_one_image(
        self,
        edit_server: FriendliTestServer,
        photo: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """edit IMAGE PROMPT saves the edited image and prints its path."""
        out = tmp_path / "out"

        status = call_main(
            "edit", photo, "add a red car", "--model", "ep", "--format", "png", "--out", out
        )

        assert (0, f"{out / 'image.png'}\n") == (status, capsys.readouterr().out)
        assert flipped(INPUT) == pixels((out / "image.png").read_bytes())
        assert [EDIT_PATH] == [r.path for r in edit_server.generation_requests]
        assert {
            "image": {"image": edit_server.generation_requests[0].json["image"]["image"]},
            "prompt": "add a red car",
            "model": "ep",
            "response_format": "png",
        } == (edit_server.generation_requests[0].json)

    def test_several_images_batch_json(
        self,
        edit_server: FriendliTestServer,
        photo: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Several IMAGEs go as a list; -n, --seed and --json work as for generate."""
        status = call_main(
            "edit",
            photo,
            photo,
            "x",
            "--model",
            "ep",
            "-n",
            "2",
            "--seed",
            "5",
            "--json",
            "--out",
            tmp_path / "out",
        )

        document = json.loads(capsys.readouterr().out)
        assert 0 == status
        assert [5, 6] == [image["seed"] for image in document["images"]]
        assert [2, 2] == [len(r.json["image"]) for r in edit_server.generation_requests]

    @pytest.mark.parametrize(
        ("args", "words"),
        [
            pytest.param(["x", "--model", "ep"], "IMAGE [IMAGE ...] PROMPT", id="no-image"),
            pytest.param(["missing.png", "x", "--model", "ep"], "IMAGE", id="missing-file"),
            pytest.param(["{photo}", "", "--model", "ep"], "PROMPT", id="empty-prompt"),
            pytest.param(["{photo}", "x"], "--model", id="no-model"),
            pytest.param(
                ["{photo}", "x", "--model", "ep", "--control-image", "{photo}"],
                "--control-image",
                id="no-control-images",
            ),
        ],
    )
    def test_usage_errors(
        self,
        edit_server: FriendliTestServer,
        photo: Path,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
        words: str,
    ) -> None:
        """Bad input is a usage error (2) that names the argument; nothing is sent."""
        status = call_main("edit", *[arg.format(photo=photo) for arg in args])

        assert 2 == status
        assert words in capsys.readouterr().err
        assert [] == edit_server.requests


class TestContainer:
    def test_generate(
        self,
        edit_server: FriendliTestServer,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--container URL targets a container: no token needed, none sent, no team."""
        monkeypatch.setenv("FRIENDLI_TEAM", "team-1")

        status = call_main(
            "generate",
            "a cat",
            "--container",
            edit_server.base_url,
            "--seed",
            "3",
            "--format",
            "raw",
            "--out",
            tmp_path,
        )

        assert (0, f"{tmp_path / 'image.png'}\n") == (status, capsys.readouterr().out)
        (request,) = edit_server.generation_requests
        assert CONTAINER_GENERATION_PATH == request.path
        assert {"prompt": "a cat", "seed": 3, "response_format": "raw"} == request.json
        assert "authorization" not in request.headers
        assert "x-friendli-team" not in request.headers

    def test_edit_with_adapter_and_token(
        self,
        edit_server: FriendliTestServer,
        photo: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """edit --container: --model is the adapter route; FRIENDLI_CONTAINER_TOKEN is sent."""
        monkeypatch.setenv("FRIENDLI_CONTAINER_TOKEN", "proxy-key")

        status = call_main(
            "edit",
            photo,
            "x",
            "--container",
            edit_server.base_url,
            "--model",
            "adapter",
            "--json",
            "--out",
            tmp_path / "out",
        )

        document = json.loads(capsys.readouterr().out)
        assert 0 == status
        assert [(None, "jpeg", "image/jpeg")] == [
            (image["seed"], image["response_format"], image["mime_type"])
            for image in document["images"]
        ]
        (request,) = edit_server.generation_requests
        assert (CONTAINER_EDIT_PATH, "adapter", "Bearer proxy-key") == (
            request.path,
            request.json["model"],
            request.headers["authorization"],
        )

    @pytest.mark.parametrize(
        ("args", "words"),
        [
            pytest.param(["--format", "png"], "--format", id="png"),
            pytest.param(["--format", "url"], "--format", id="url"),
            pytest.param(["--team", "t"], "--team", id="team"),
            pytest.param(["--container", "ftp://host"], "--container", id="bad-url"),
        ],
    )
    def test_usage_errors(
        self,
        edit_server: FriendliTestServer,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
        words: str,
    ) -> None:
        """What a container cannot take is a usage error before anything is sent."""
        status = call_main(
            "generate", "x", "--container", edit_server.base_url, *args, "--out", tmp_path
        )

        assert 2 == status
        assert words in capsys.readouterr().err
        assert [] == edit_server.requests


class TestMockServer:
    def test_edit_and_container_end_to_end(self, photo: Path, tmp_path: Path) -> None:
        """edit_image, `edit` and the container client work against mock-server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
        with subprocess.Popen(
            [sys.executable, "-m", "friendli_images", "mock-server", "--image-size", "16x16"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            try:
                assert process.stdout is not None
                exports = [process.stdout.readline() for _ in range(3)]
                variables = dict(
                    line.removeprefix("export ").strip().split("=", 1) for line in exports
                )
                assert re.fullmatch(
                    r"http://127\.0\.0\.1:\d+", variables["FRIENDLI_CONTAINER_BASE_URL"]
                )
                edit_image(
                    photo,
                    "add a red car",
                    model="m",
                    save_to=tmp_path / "py",
                    token=variables["FRIENDLI_TOKEN"],
                    base_url=variables["FRIENDLI_BASE_URL"],
                )
                cli = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "friendli_images",
                        "edit",
                        photo,
                        "night",
                        "--container",
                        variables["FRIENDLI_CONTAINER_BASE_URL"],
                        "--out",
                        tmp_path / "cli",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT,
                    check=False,
                )
            finally:
                process.send_signal(signal.SIGTERM)
                _, stderr = process.communicate(timeout=TIMEOUT)

        assert (0, f"{tmp_path / 'cli' / 'image.jpg'}\n") == (cli.returncode, cli.stdout), (
            cli.stderr
        )
        assert flipped(INPUT) == pixels((tmp_path / "py" / "image.png").read_bytes())
        assert f"POST {EDIT_PATH} (" in stderr
        assert f"POST {CONTAINER_EDIT_PATH} (" in stderr
