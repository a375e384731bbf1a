"""The ``friendli-images`` command, end to end: a subprocess against the loopback test server."""

from __future__ import annotations

import base64
import contextlib
import importlib.metadata
import io
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import pytest
from friendli_images import FriendliImages, __version__
from friendli_images._cli._main import _build_parser, main
from friendli_images._cli._options import api_url_problem, header_value_problem
from friendli_images._cli._progress import progress_for
from friendli_images._redaction import REDACTED, redact, secret_forms
from friendli_images.testing import (
    GENERATION_PATH,
    Delay,
    ErrorStatus,
    FriendliTestServer,
    WrongShape,
    render_jpeg,
    render_png,
)

TIMEOUT = 30


@pytest.fixture
def cli_server() -> Iterator[FriendliTestServer]:
    """A fresh test server for each CLI test (token ``cli-token``), stopped afterwards."""
    with FriendliTestServer(token="cli-token") as running:
        yield running
        assert [] == running.errors


def environment(**variables: str) -> dict[str, str]:
    """The test process's environment without FRIENDLI_*, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    env.update(variables)
    return env


def server_env(cli_server: FriendliTestServer, **variables: str) -> dict[str, str]:
    return environment(
        FRIENDLI_TOKEN=cli_server.token, FRIENDLI_BASE_URL=cli_server.base_url, **variables
    )


def command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "friendli_images", *map(str, args)]


def run_cli(
    *args: str | Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        env=env,
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def call_main(*args: str | Path) -> int:
    """``main()`` in this process: the exit status, whether returned or raised by argparse."""
    try:
        return main([str(arg) for arg in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def bodies(cli_server: FriendliTestServer) -> list[dict[str, object]]:
    return [request.json for request in cli_server.generation_requests]


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the CLI")
        time.sleep(0.02)


def assert_no_temporary_files(directory: Path) -> None:
    assert [] == [p.name for p in directory.rglob("*.part")]


class RawHTTPServer:
    """A loopback HTTP/1.1 server on a raw socket: ``answer(head, body)`` writes each reply.

    For replies the test server will not make (echoed secrets, malformed bodies). One
    request per connection; ``answer`` returns the whole response, bytes as sent.
    """

    def __init__(self, answer: Callable[[bytes, bytes], bytes]) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> str:
        self._accepting.start()
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self._listener.close()
        self._accepting.join(TIMEOUT)
        for thread in self._threads:
            thread.join(TIMEOUT)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed by __exit__
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(TIMEOUT)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            while length and len(body) < int(length.group(1)):
                chunk = connection.recv(65536)
                if not chunk:
                    return
                body += chunk
            connection.sendall(self._answer(head, body))


class TestGenerate:
    def test_single_image_with_defaults(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """One image is saved as ./image.png; only prompt and model are sent."""
        result = run_cli(
            "generate", "a cat", "--model", "ep", env=server_env(cli_server), cwd=tmp_path
        )

        assert (0, "", "image.png\n") == (result.returncode, result.stderr, result.stdout)
        [body] = bodies(cli_server)
        assert {"model": "ep", "prompt": "a cat"} == body
        assert render_png(1, 64, 64) == (tmp_path / "image.png").read_bytes()  # server's seed 1

    def test_every_request_option(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """Each request option lands in the body, the team in its header; --base-url wins."""
        control = tmp_path / "edges.png"
        control.write_bytes(render_png(9, 8, 8))
        url = "http://127.0.0.1:9/pose.png"  # only passed on: nobody fetches it

        result = run_cli(
            "generate",
            "a cat",
            "--model",
            "ep-1",
            "--steps",
            "30",
            "--guidance",
            "7.5",
            "--seed",
            "42",
            "--format",
            "jpeg",
            "--control-image",
            control,
            "--control-image",
            url,
            "--controlnet-weight",
            "0.5",
            "--controlnet-weight",
            "1",
            "--team",
            "team-7",
            "--base-url",
            cli_server.base_url,
            "--out",
            tmp_path / "out",
            "--stem",
            "cat.v2",  # a dot in the stem is not an extension
            env=environment(
                FRIENDLI_TOKEN=cli_server.token, FRIENDLI_BASE_URL="http://127.0.0.1:9"
            ),
            cwd=tmp_path,
        )
        assert 0 == result.returncode, result.stderr

        [request] = cli_server.generation_requests
        expected_control = (
            "data:image/png;base64," + base64.b64encode(control.read_bytes()).decode()
        )
        assert {
            "model": "ep-1",
            "prompt": "a cat",
            "num_inference_steps": 30,
            "guidance_scale": 7.5,
            "seed": 42,
            "response_format": "jpeg",
            "control_images": [{"image": expected_control}, {"image": url}],
            "controlnet_weights": [0.5, 1.0],
        } == request.json
        assert "team-7" == request.headers["x-friendli-team"]
        assert "Bearer cli-token" == request.headers["authorization"]
        assert f"{tmp_path / 'out' / 'cat.v2.jpg'}\n" == result.stdout
        assert render_jpeg(42, 64, 64) == (tmp_path / "out" / "cat.v2.jpg").read_bytes()

    def test_environment_defaults(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """FRIENDLI_BASE_URL and FRIENDLI_TEAM are the defaults of --base-url and --team."""
        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "--format",
            "png",
            env=server_env(cli_server, FRIENDLI_TEAM="team-env"),
            cwd=tmp_path,
        )

        assert 0 == result.returncode, result.stderr
        assert "team-env" == cli_server.generation_requests[0].headers["x-friendli-team"]

    @pytest.mark.parametrize("from_stdin", [False, True])
    def test_token_file(
        self, cli_server: FriendliTestServer, tmp_path: Path, from_stdin: bool
    ) -> None:
        """--token-file reads the token's first line from a file, or from stdin with '-'."""
        token_file = tmp_path / "token"
        token_file.write_text(f"{cli_server.token}\n# ignored\n")
        env = environment(FRIENDLI_TOKEN="not-this-one", FRIENDLI_BASE_URL=cli_server.base_url)

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "--token-file",
            "-" if from_stdin else token_file,
            env=env,
            cwd=tmp_path,
            stdin=token_file.read_text() if from_stdin else None,
        )

        assert 0 == result.returncode, result.stderr
        assert "Bearer cli-token" == cli_server.generation_requests[0].headers["authorization"]

    def test_batch_seeds_and_order(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """-n 4 --seed 10 sends seeds 10..13, saves image-i in request order, silent on a pipe."""
        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "-n",
            "4",
            "--seed",
            "10",
            "--format",
            "png",
            "--out",
            tmp_path,
            env=server_env(cli_server),
        )

        assert (0, "") == (result.returncode, result.stderr)
        paths = [tmp_path / f"image-{i}.png" for i in range(4)]
        assert [str(p) for p in paths] == result.stdout.splitlines()
        assert [10, 11, 12, 13] == sorted(body["seed"] for body in bodies(cli_server))  # type: ignore[type-var]
        assert [render_png(10 + i, 64, 64) for i in range(4)] == [p.read_bytes() for p in paths]

    def test_batch_without_seed(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """Without --seed no request sends one: the server chooses."""
        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "-n",
            "3",
            "--out",
            tmp_path,
            env=server_env(cli_server),
        )

        assert 0 == result.returncode, result.stderr
        assert [{"model": "ep", "prompt": "a"}] * 3 == bodies(cli_server)
        assert 3 == len(result.stdout.splitlines())

    def test_concurrency_limits_requests_in_flight(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """With --concurrency 2, the third request starts only when one of the first two ends."""
        cli_server.latency = 1.0  # long against process start-up on a loaded machine

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "-n",
            "4",
            "--concurrency",
            "2",
            "--format",
            "png",
            "--out",
            tmp_path,
            env=server_env(cli_server),
        )

        assert 0 == result.returncode, result.stderr
        arrivals = sorted(r.received_at for r in cli_server.generation_requests)
        assert arrivals[1] - arrivals[0] < 0.8  # the first two together
        assert arrivals[2] - arrivals[0] >= 0.9  # the third once one of them ended

    def test_json_output(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """--json prints paths, seeds and formats of the images and the failures of a batch."""
        cli_server.inject(ErrorStatus(500, "boom"))

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "-n",
            "2",
            "--concurrency",
            "1",
            "--seed",
            "5",
            "--format",
            "png",
            "--out",
            tmp_path,
            "--json",
            env=server_env(cli_server),
        )

        assert 1 == result.returncode
        assert {
            "images": [
                {
                    "index": 1,
                    "path": str(tmp_path / "image-1.png"),
                    "seed": 6,
                    "response_format": "png",
                    "mime_type": "image/png",
                    "request_id": "req-2",
                }
            ],
            "errors": [
                {
                    "index": 0,
                    "seed": 5,
                    "type": "InternalServerError",
                    "status_code": 500,
                    "message": "500 Internal Server Error: boom",
                    "request_id": "req-1",
                }
            ],
        } == json.loads(result.stdout)

    def test_failed_request_in_batch(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """One failed request exits 1 with its message; the other images are saved and listed."""
        cli_server.inject(Delay(0))  # request 0 goes through
        cli_server.inject(ErrorStatus(500, "GPU on fire"))  # request 1 fails (500: not retried)

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "-n",
            "4",
            "--concurrency",
            "1",
            "--seed",
            "20",
            "--format",
            "png",
            "--out",
            tmp_path,
            env=server_env(cli_server),
        )

        assert 1 == result.returncode
        assert [str(tmp_path / f"image-{i}.png") for i in (0, 2, 3)] == result.stdout.splitlines()
        assert not (tmp_path / "image-1.png").exists()
        assert (
            "error: request 1 (seed 21): 500 Internal Server Error: GPU on fire\n"
            "error: 1 of 4 requests failed\n"
        ) == result.stderr

    def test_api_error(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """An API error exits 1 with the server's message, no traceback and no file."""
        env = environment(FRIENDLI_TOKEN="wrong", FRIENDLI_BASE_URL=cli_server.base_url)

        result = run_cli("generate", "a", "--model", "ep", "--out", tmp_path, env=env)

        assert (1, "", "error: 401 Unauthorized: Invalid token\n") == (
            result.returncode,
            result.stdout,
            result.stderr,
        )
        assert [] == list(tmp_path.iterdir())

    @pytest.mark.parametrize(
        ("fault", "route", "message"),
        [
            (ErrorStatus(404), "image", "failed: 404 Not Found"),
            (WrongShape({"data": []}), "generate", "'data' holds no image"),
        ],
    )
    def test_no_image(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        fault: ErrorStatus | WrongShape,
        route: Literal["generate", "image"],
        message: str,
    ) -> None:
        """A url result that cannot be downloaded, or a success without image, exits 1."""
        cli_server.inject(fault, route=route)

        result = run_cli(
            "generate", "a", "--model", "ep", "--out", tmp_path, env=server_env(cli_server)
        )

        assert (1, "") == (result.returncode, result.stdout)
        assert result.stderr.startswith("error: ")
        assert result.stderr.endswith(f"{message}\n")
        assert [] == list(tmp_path.iterdir())

    def test_verbose(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """--verbose logs retry decisions and shows the traceback of a failure."""
        cli_server.inject(ErrorStatus(503, "asleep", retry_after=0))  # retried at once
        cli_server.inject(ErrorStatus(400, "no such LoRA"))  # not retried

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "--verbose",
            "--out",
            tmp_path,
            env=server_env(cli_server),
        )

        assert 1 == result.returncode
        assert "DEBUG friendli_images: Retrying image generation" in result.stderr
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.endswith("error: 400 Bad Request: no such LoRA\n")

    def test_existing_file_is_kept(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """Without --overwrite an existing output stops the run before any request."""
        (tmp_path / "image-1.png").write_bytes(b"precious")

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "-n",
            "2",
            "--out",
            tmp_path,
            env=server_env(cli_server),
        )

        assert 1 == result.returncode
        assert f"error: {tmp_path / 'image-1.png'} already exists; use --overwrite" in result.stderr
        assert b"precious" == (tmp_path / "image-1.png").read_bytes()
        assert [] == cli_server.generation_requests

    def test_overwrite(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """With --overwrite the existing file is replaced."""
        (tmp_path / "image.png").write_bytes(b"old")

        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "--seed",
            "3",
            "--out",
            tmp_path,
            "--overwrite",
            env=server_env(cli_server),
        )

        assert 0 == result.returncode, result.stderr
        assert render_png(3, 64, 64) == (tmp_path / "image.png").read_bytes()

    def test_missing_token(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """Without a token the command is a usage error naming FRIENDLI_TOKEN; nothing is sent."""
        env = environment(FRIENDLI_BASE_URL=cli_server.base_url)

        result = run_cli("generate", "a", "--model", "ep", env=env, cwd=tmp_path)

        assert 2 == result.returncode
        assert "error: no API token: set FRIENDLI_TOKEN" in result.stderr
        assert "--token-file" in result.stderr
        assert [] == cli_server.requests

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            pytest.param(
                ["--frobnicate"], "unrecognized arguments: --frobnicate", id="unknown-option"
            ),
            pytest.param(["-n", "0"], "argument -n: must be at least 1, got 0", id="n-zero"),
            pytest.param(
                ["--concurrency", "x"],
                "argument --concurrency: invalid integer: 'x'",
                id="concurrency-not-int",
            ),
            pytest.param(
                ["--format", "gif"], "argument --format: invalid choice: 'gif'", id="format"
            ),
            pytest.param(
                ["--steps", "99"],
                "argument --steps: num_inference_steps must be an integer in",
                id="steps-too-many",
            ),
            pytest.param(
                ["--controlnet-weight", "0.5"],
                "argument --controlnet-weight: controlnet_weights",
                id="weight-without-image",
            ),
            pytest.param(
                ["--control-image", "missing.png"],
                "argument --control-image: control_images[0]",
                id="control-image-missing",
            ),
            pytest.param(
                ["--base-url", "ftp://x"],
                "argument --base-url: base_url must be an http(s) URL",
                id="base-url-scheme",
            ),
            pytest.param(
                ["--base-url", "http://[::1"],
                "argument --base-url: base_url is not a URL",
                id="base-url-bad-ipv6",
            ),
            pytest.param(
                ["--base-url", "http://127.0.0.1:1/#x"],
                "argument --base-url: base_url must not have a ?query or #fragment",
                id="base-url-fragment",
            ),
            pytest.param(
                ["--base-url", "http://user:pw@127.0.0.1:1"],
                "argument --base-url: base_url must not hold a user name or password",
                id="base-url-userinfo",
            ),
            pytest.param(
                ["--team", "t\u00e9am"],
                "argument --team: the team ID must be printable ASCII",
                id="team-non-ascii",
            ),
            pytest.param(
                ["--stem", "a/b"], "argument --stem: must be a file name", id="stem-directory"
            ),
            pytest.param(
                ["--token-file", "nowhere"],
                "argument --token-file: cannot read 'nowhere'",
                id="token-file-missing",
            ),
            pytest.param(
                ["--out", "afile"],
                "argument --out: 'afile' exists and is not a directory",
                id="out-is-a-file",
            ),
            pytest.param(
                ["--out", "afile/sub"],
                "argument --out: cannot save into 'afile/sub'",
                id="out-under-a-file",
            ),
            pytest.param(
                ["--out", "/proc/friendli-images-out"],
                "argument --out: cannot save into '/proc/friendli-images-out'",
                id="out-where-nothing-can-be-created",
            ),
        ],
    )
    def test_usage_errors(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
        message: str,
    ) -> None:
        """Bad options, and arguments the facade rejects, exit 2 with argparse's message."""
        (tmp_path / "afile").write_text("")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FRIENDLI_TOKEN", cli_server.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", cli_server.base_url)

        status = call_main("generate", "a", "--model", "ep", *args)

        stderr = capsys.readouterr().err
        assert 2 == status
        assert stderr.startswith("friendli-images generate: error: ")
        assert f"error: {message}" in stderr
        assert stderr.endswith("\nsee 'friendli-images generate --help'\n")
        assert "usage:" not in stderr
        assert [] == cli_server.requests

    def test_environment_token_is_stripped(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """FRIENDLI_TOKEN from a secret file or a Windows .env ends in CR/LF: stripped."""
        env = environment(
            FRIENDLI_TOKEN=f" {cli_server.token}\r\n", FRIENDLI_BASE_URL=cli_server.base_url
        )

        result = run_cli("generate", "a", "--model", "ep", env=env, cwd=tmp_path)

        assert (0, "", "image.png\n") == (result.returncode, result.stderr, result.stdout)
        [request] = cli_server.generation_requests
        assert f"Bearer {cli_server.token}" == request.headers["authorization"]

    def test_unusable_token_is_a_usage_error(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """A token that cannot be a header value: exit 2, nothing sent, the token not shown."""
        env = environment(
            FRIENDLI_TOKEN="s\u00e9cret-t\u00f6ken", FRIENDLI_BASE_URL=cli_server.base_url
        )

        result = run_cli("generate", "a", "--model", "ep", env=env, cwd=tmp_path)

        assert (2, "") == (result.returncode, result.stdout)
        assert "the API token from FRIENDLI_TOKEN must be printable ASCII" in result.stderr
        assert "cret-t" not in result.stderr
        assert [] == cli_server.requests

    def test_endless_token_file(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """--token-file /dev/zero is read with a bound: a usage error, not MemoryError.

        In a subprocess with 512 MiB of address space, so that a regression cannot take
        the machine's memory.
        """
        argv = command("generate", "a", "--model", "ep", "--token-file", "/dev/zero")
        result = subprocess.run(
            ["sh", "-c", 'ulimit -v 524288 && exec "$@"', "sh", *argv],
            env=environment(FRIENDLI_BASE_URL=cli_server.base_url),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

        assert (2, "") == (result.returncode, result.stdout)
        assert (
            "argument --token-file: cannot read '/dev/zero': the first line is longer than 65536"
        ) in result.stderr
        assert [] == cli_server.requests

    def test_prompt_from_stdin(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """``generate -`` reads the prompt from standard input, as CLIs do."""
        result = run_cli(
            "generate",
            "-",
            "--model",
            "ep",
            env=server_env(cli_server),
            cwd=tmp_path,
            stdin="a cat\non two lines\n",
        )

        assert (0, "image.png\n") == (result.returncode, result.stdout)
        assert [{"model": "ep", "prompt": "a cat\non two lines"}] == bodies(cli_server)

    def test_stdin_read_once(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """The prompt and the token cannot both come from standard input."""
        result = run_cli(
            "generate",
            "-",
            "--model",
            "ep",
            "--token-file",
            "-",
            env=server_env(cli_server),
            cwd=tmp_path,
            stdin="tok\n",
        )

        assert 2 == result.returncode
        assert "cannot both be read from standard input" in result.stderr
        assert [] == cli_server.requests

    def test_argv_not_utf8(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """A prompt that is not UTF-8 on the command line is a usage error, not a traceback."""
        result = subprocess.run(
            [*command("generate"), b"caf\xe9", "--model", "ep"],
            env=server_env(cli_server, LC_ALL="C.UTF-8"),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )

        assert (2, b"") == (result.returncode, result.stdout)
        assert b"argument PROMPT: not valid UTF-8 text" in result.stderr
        assert b"Traceback" not in result.stderr
        assert [] == cli_server.requests

    @pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
    def test_read_only_out(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """A read-only --out is refused before anything is generated."""
        out = tmp_path / "out"
        out.mkdir()
        out.chmod(0o500)
        try:
            result = run_cli(
                "generate", "a", "--model", "ep", "--out", out, env=server_env(cli_server)
            )
        finally:
            out.chmod(0o700)

        assert 2 == result.returncode
        assert "argument --out: cannot save into" in result.stderr
        assert [] == cli_server.requests

    def test_stdout_closed(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """With stdout closed (``>&-``) the images are saved and no traceback is printed."""
        result = subprocess.run(
            ["sh", "-c", 'exec "$@" >&-', "sh", *command("generate", "a", "--model", "ep")],
            env=server_env(cli_server),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

        assert (0, "") == (result.returncode, result.stderr)
        assert ["image.png"] == [path.name for path in tmp_path.iterdir()]

    def test_stderr_closed(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """With stderr closed (``2>&-``) errors are lost, but never printed among the paths."""
        cli_server.inject(ErrorStatus(400, "no such LoRA"))

        result = subprocess.run(
            ["sh", "-c", 'exec "$@" 2>&-', "sh", *command("generate", "a", "--model", "ep")],
            env=server_env(cli_server),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

        assert (1, "") == (result.returncode, result.stdout)

    def test_token_in_reason_phrase_is_redacted(self, tmp_path: Path) -> None:
        """A server echoing the Authorization header in its reason phrase: never printed."""
        token = "flp_reason-phrase-secret"

        def answer(head: bytes, body: bytes) -> bytes:
            authorization = re.search(rb"(?im)^authorization: *(.*?)\r$", head)
            echoed = authorization.group(1) if authorization else b"?"
            payload = b'{"detail": "denied"}'
            return (
                b"HTTP/1.1 403 Forbidden for " + echoed + b"\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(payload) + payload
            )

        with RawHTTPServer(answer) as base_url:
            result = run_cli(
                "generate",
                "a",
                "--model",
                "ep",
                "--json",
                "--out",
                tmp_path,
                env=environment(FRIENDLI_TOKEN=token, FRIENDLI_BASE_URL=base_url),
            )

        assert 1 == result.returncode
        assert token not in result.stdout + result.stderr
        assert f"403 Forbidden for Bearer {REDACTED}: denied" in result.stderr
        [error] = json.loads(result.stdout)["errors"]
        assert f"403 Forbidden for Bearer {REDACTED}: denied" == error["message"]

    def test_malformed_response_spares_the_batch(self, tmp_path: Path) -> None:
        """-n 6, one 200 with a malformed body: the other 5 are saved, exit 1, --json printed."""

        def answer(head: bytes, body: bytes) -> bytes:
            seed = json.loads(body)["seed"]
            if seed == 13:  # request 3: JSON nested too deeply for any parser
                payload = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            else:
                png = base64.b64encode(render_png(seed, 8, 8)).decode()
                item = {"seed": seed, "response_format": "png", "b64_json": png}
                payload = json.dumps({"data": [item]}).encode()
            return (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(payload) + payload
            )

        with RawHTTPServer(answer) as base_url:
            result = run_cli(
                "generate",
                "a",
                "--model",
                "ep",
                "-n",
                "6",
                "--seed",
                "10",
                "--format",
                "png",
                "--json",
                "--out",
                tmp_path,
                env=environment(FRIENDLI_TOKEN="tok", FRIENDLI_BASE_URL=base_url),
            )

        assert 1 == result.returncode
        assert "Traceback" not in result.stderr
        document = json.loads(result.stdout)
        assert [0, 1, 2, 4, 5] == [image["index"] for image in document["images"]]
        assert [(3, 13)] == [(error["index"], error["seed"]) for error in document["errors"]]
        saved = sorted(path.name for path in tmp_path.iterdir())
        assert [f"image-{index}.png" for index in (0, 1, 2, 4, 5)] == saved
        assert render_png(15, 8, 8) == (tmp_path / "image-5.png").read_bytes()
        assert_no_temporary_files(tmp_path)

    def test_usage_error_end_to_end(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """A rejected argument exits 2 from a real process too: one line and a hint, no
        usage block, no traceback."""
        result = run_cli(
            "generate",
            "a",
            "--model",
            "ep",
            "--steps",
            "0",
            env=server_env(cli_server),
            cwd=tmp_path,
        )

        assert (2, "") == (result.returncode, result.stdout)
        assert (
            "friendli-images generate: error: argument --steps: "
            "num_inference_steps must be an integer in [1, 50], got 0\n"
            "see 'friendli-images generate --help'\n"
        ) == result.stderr
        assert [] == cli_server.requests

    @pytest.mark.parametrize(
        ("signum", "status", "word"),
        [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    )
    def test_interrupted(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        signum: signal.Signals,
        status: int,
        word: str,
    ) -> None:
        """Ctrl-C (and SIGTERM) cancel the requests in flight: no traceback, no partial file."""
        cli_server.latency = 10
        with subprocess.Popen(
            command("generate", "a", "--model", "ep", "-n", "2", "--out", tmp_path),
            env=server_env(cli_server),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            wait_for(lambda: len(cli_server.generation_requests) == 2)
            process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=TIMEOUT)

        assert (status, "", f"{word}: 0 images saved\n") == (process.returncode, stdout, stderr)
        assert_no_temporary_files(tmp_path)


class TestProgress:
    def test_bar_on_a_terminal(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """On a terminal a batch draws a tqdm bar on stderr; stdout still lists the paths."""
        pty = pytest.importorskip("pty")
        fcntl = pytest.importorskip("fcntl")
        termios = pytest.importorskip("termios")
        main_fd, terminal_fd = pty.openpty()
        fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        output = b""
        try:
            with subprocess.Popen(
                command("generate", "a", "--model", "ep", "-n", "3", "--out", tmp_path),
                env=server_env(cli_server),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=terminal_fd,
            ) as process:
                os.close(terminal_fd)
                terminal_fd = -1
                deadline = time.monotonic() + TIMEOUT
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([main_fd], [], [], 0.5)
                    if not ready:
                        continue
                    try:
                        chunk = os.read(main_fd, 4096)
                    except OSError:  # EIO: the child closed its terminal
                        break
                    if not chunk:
                        break
                    output += chunk
                stdout, _ = process.communicate(timeout=TIMEOUT)
        finally:
            os.close(main_fd)
            if terminal_fd >= 0:
                os.close(terminal_fd)

        assert 0 == process.returncode
        assert 3 == len(stdout.splitlines())
        text = output.decode()
        assert re.search(r"generating: +0%\|.*\| 0/3", text), text
        assert re.search(r"generating: 100%\|.*\| 3/3", text), text

    def test_bar_on_a_terminal_without_size(self) -> None:
        """A terminal that reports 0x0 columns and lines still gets a bar."""
        pty = pytest.importorskip("pty")
        main_fd, terminal_fd = pty.openpty()  # a new pty reports 0x0 until someone sets it
        try:
            with open(terminal_fd, "w", closefd=False) as stream:
                progress = progress_for(2, stream)
                progress.advance("saved a.png")
                progress.advance("saved b.png")
                progress.close()
            output = ""
            deadline = time.monotonic() + 5.0
            # The bar arrives in several writes: read until it is complete (or time is up).
            while "2/2" not in output and time.monotonic() < deadline:
                ready, _, _ = select.select([main_fd], [], [], 0.1)
                if ready:
                    output += os.read(main_fd, 65536).decode(errors="replace")
        finally:
            os.close(main_fd)
            os.close(terminal_fd)

        assert "2/2" in output

    def test_bar_counts_failures(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The bar shows how many requests failed."""
        stream = TerminalStream()

        progress = progress_for(2, stream)
        progress.advance("saved a.png")
        progress.advance("request 1 failed: boom", failed=True)
        progress.close()

        assert "2/2" in stream.getvalue()
        assert "failed=1" in stream.getvalue()

    def test_lines_without_tqdm(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without tqdm a terminal gets one line per finished request."""
        monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
        stream = TerminalStream()

        progress = progress_for(2, stream)
        progress.advance("saved a.png")
        progress.advance("request 1 failed: boom", failed=True)
        progress.close()

        assert "[1/2] saved a.png\n[2/2] request 1 failed: boom\n" == stream.getvalue()

    @pytest.mark.parametrize(("total", "terminal"), [(1, True), (5, False)])
    def test_silent(self, total: int, terminal: bool) -> None:
        """A single request, or a stream that is not a terminal, shows no progress."""
        stream = TerminalStream() if terminal else io.StringIO()

        progress = progress_for(total, stream)
        progress.advance("saved a.png")
        progress.close()

        assert "" == stream.getvalue()


class TerminalStream(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class TestMockServer:
    def test_generate_against_mock_server(self, tmp_path: Path) -> None:
        """The mock server prints export lines that generate uses; SIGTERM stops it cleanly."""
        with subprocess.Popen(
            command("mock-server", "--port", "0", "--token", "t0k", "--image-size", "32x16"),
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            try:
                assert process.stdout is not None
                exports = [process.stdout.readline(), process.stdout.readline()]
                variables = dict(
                    line.removeprefix("export ").strip().split("=", 1) for line in exports
                )
                assert "t0k" == variables["FRIENDLI_TOKEN"]
                assert re.fullmatch(r"http://127\.0\.0\.1:\d+", variables["FRIENDLI_BASE_URL"])

                result = run_cli(
                    "generate",
                    "a",
                    "--model",
                    "anything",
                    "--seed",
                    "4",
                    env=environment(**variables),
                    cwd=tmp_path,
                )
                assert (0, "image.png\n") == (result.returncode, result.stdout), result.stderr
                assert render_png(4, 32, 16) == (tmp_path / "image.png").read_bytes()
            finally:
                process.send_signal(signal.SIGTERM)
                _, stderr = process.communicate(timeout=TIMEOUT)

        assert 0 == process.returncode
        assert f"POST {GENERATION_PATH} (" in stderr
        assert stderr.endswith("mock server stopped\n")
        assert "Traceback" not in stderr

    def test_ctrl_c(self) -> None:
        """Ctrl-C stops the mock server with status 0 and no traceback."""
        with subprocess.Popen(
            command("mock-server"),
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            assert process.stdout is not None
            exports = [process.stdout.readline(), process.stdout.readline()]
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=TIMEOUT)

        assert 0 == process.returncode
        assert exports[0].startswith("export FRIENDLI_BASE_URL=http://127.0.0.1:")
        assert "export FRIENDLI_TOKEN=test-token\n" == exports[1]
        assert stderr.endswith("mock server stopped\n")
        assert "Traceback" not in stderr

    def test_port_in_use(self) -> None:
        """A port that is taken is an error (exit 1) that names it."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]

            result = run_cli("mock-server", "--port", str(port), env=environment())

        assert 1 == result.returncode
        assert result.stderr.startswith(f"error: cannot listen on port {port}: ")


class TestMockServerStaysSmall:
    @pytest.mark.parametrize("latency", ["1e300", "3601", "inf", "nan", "-1"])
    def test_an_unusable_latency_is_a_usage_error(
        self, latency: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Refused by the parser (exit 2, one line), not by the server with a traceback."""
        with pytest.raises(SystemExit) as caught:
            main(["mock-server", "--latency", latency])
        assert 2 == caught.value.code
        err = capsys.readouterr().err
        assert "argument --latency" in err
        assert "Traceback" not in err

    def test_the_log_names_what_the_bounded_record_dropped(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """mock-server keeps MOCK_RECORDS requests without bodies; its log counts every
        request, saying how many it could no longer show."""
        from friendli_images._cli._mock_server import _log_new_requests
        from friendli_images.testing import FriendliTestServer

        with FriendliTestServer(record_bodies=False, max_records=2) as server:
            with FriendliImages(token=server.token, base_url=server.base_url) as client:
                client.generate("a", model="m", n=5, concurrency=1)
                seen = _log_new_requests(server, 0)
                client.generate("b", model="m")
                seen_after = _log_new_requests(server, seen)
            assert all(b"" == request.body for request in server.requests)

        lines = capsys.readouterr().err.splitlines()
        assert (5, 6) == (seen, seen_after)
        assert "(3 requests not shown)" == lines[0]
        assert 1 + 2 + 1 == len(lines)
        assert all(line.startswith(f"POST {GENERATION_PATH} (") for line in lines[1:])


class TestCommand:
    def test_version(self) -> None:
        """--version prints the package version."""
        result = run_cli("--version", env=environment())

        assert (0, f"friendli-images {__version__}\n") == (result.returncode, result.stdout)

    def test_no_command(self) -> None:
        """A command is required (usage error)."""
        result = run_cli(env=environment())

        assert 2 == result.returncode
        assert "the following arguments are required: COMMAND" in result.stderr

    @pytest.mark.parametrize(
        "argv", [["-v", "generate", "a", "--model", "m"], ["generate", "a", "--model", "m", "-v"]]
    )
    def test_verbose_before_or_after_the_command(self, argv: list[str]) -> None:
        """-v/--verbose counts wherever it is given."""
        parser, _ = _build_parser()

        assert parser.parse_args(argv).verbose is True

    def test_console_script(self) -> None:
        """The friendli-images console script runs the same main()."""
        [entry] = importlib.metadata.entry_points(group="console_scripts", name="friendli-images")

        assert "friendli_images._cli:main" == entry.value

    def test_light_import(self) -> None:
        """Importing the CLI loads neither the test server nor tqdm."""
        code = (
            "import sys, friendli_images._cli; "
            "print(sorted(m for m in ('friendli_images.testing', 'tqdm') if m in sys.modules))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=True,
        )

        assert "[]\n" == result.stdout


class TestRules:
    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            pytest.param("https://api.friendli.ai", None, id="default"),
            pytest.param("http://127.0.0.1:8765/v1/", None, id="loopback-with-path"),
            pytest.param("http://[::1]:8080", None, id="ipv6"),
            pytest.param("ftp://x", "must be an http(s) URL with a host", id="scheme"),
            pytest.param("http://", "must be an http(s) URL with a host", id="no-host"),
            pytest.param("http://[::1", "is not a URL", id="unclosed-ipv6"),
            pytest.param("http://h:99999", "is not a URL", id="port-out-of-range"),
            pytest.param("http://h/\n", "must be ASCII", id="trailing-newline"),
            pytest.param("http://h\u00e9st", "must be ASCII", id="non-ascii"),
            pytest.param("http://u:p@h", "must not hold a user name", id="userinfo"),
            pytest.param("http://h/?q=1", "must not have a ?query", id="query"),
            pytest.param("http://h/#top", "must not have a ?query", id="fragment"),
            pytest.param("http://h/#", "must not have a ?query", id="empty-fragment"),
        ],
    )
    def test_api_url_problem(self, url: str, problem: str | None) -> None:
        found = api_url_problem(url)
        if problem is None:
            assert found is None
        else:
            assert found is not None
            assert found.startswith(problem)

    @pytest.mark.parametrize(
        ("value", "ok"),
        [
            pytest.param("team-1", True, id="plain"),
            pytest.param("a b", True, id="inner-space"),
            pytest.param("", False, id="empty"),
            pytest.param("t\r\n", False, id="crlf"),
            pytest.param(" t", False, id="leading-space"),
            pytest.param("t\x00x", False, id="nul"),
            pytest.param("t\u00e9", False, id="non-ascii"),
            pytest.param("t\udcff", False, id="surrogate"),
        ],
    )
    def test_header_value_problem(self, value: str, ok: bool) -> None:
        assert ok == (header_value_problem(value) is None)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param("403 Bearer s\u00e9c", f"403 Bearer {REDACTED}", id="plain"),
            pytest.param("got 's\\xe9c'", f"got '{REDACTED}'", id="repr"),
            pytest.param("got b's\\xc3\\xa9c'", f"got b'{REDACTED}'", id="bytes"),
            pytest.param('got "s\\u00e9c"', f'got "{REDACTED}"', id="json"),
            pytest.param("?token=s%C3%A9c", f"?token={REDACTED}", id="percent-encoded"),
            pytest.param("nothing secret", "nothing secret", id="absent"),
        ],
    )
    def test_redact(self, text: str, expected: str) -> None:
        """The CLI redacts through the library's one rule (``_redaction``)."""
        assert expected == redact(text, secret_forms("s\u00e9c"))


class TestContainerOnlyWhereServed:
    @pytest.mark.parametrize(
        "args",
        [
            pytest.param(("run", "jobs.jsonl", "--out", "out"), id="run"),
            pytest.param(("endpoint", "status", "dep-1"), id="endpoint-status"),
        ],
    )
    def test_container_is_not_an_option(self, args: tuple[str, ...], tmp_path: Path) -> None:
        """Commands that only talk to the Friendli API refuse --container (usage error, exit 2)
        rather than ignore it and send the jobs, and the bills, to the API."""
        result = run_cli(
            *args,
            "--container",
            "http://127.0.0.1:9",
            env=environment(),
            cwd=tmp_path,
        )

        assert 2 == result.returncode
        assert "--container" in result.stderr
