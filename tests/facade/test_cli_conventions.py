"""The command line as users of other CLIs expect it: short usage errors, the same help
sections in every command, ``--quiet``, ``--container`` from the environment, shell
completion, and error texts that match the library's."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from friendli_images import FriendliImages, RateLimitError
from friendli_images._cli._main import _build_parser, main
from friendli_images.testing import ErrorStatus, FriendliTestServer

TIMEOUT = 30
COMMANDS = ["generate", "edit", "run", "sweep", "gallery", "mock-server", "endpoint status"]


@pytest.fixture
def cli_server() -> Iterator[FriendliTestServer]:
    with FriendliTestServer(token="cli-token") as running:
        yield running
        assert [] == running.errors


def environment(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    env.update(variables)
    return env


def server_env(server: FriendliTestServer, **variables: str) -> dict[str, str]:
    return environment(FRIENDLI_TOKEN=server.token, FRIENDLI_BASE_URL=server.base_url, **variables)


def run_cli(
    *args: str | Path, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "friendli_images", *map(str, args)],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def call_main(*args: str | Path) -> int:
    try:
        return main([str(arg) for arg in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


def help_of(command: str) -> str:
    _, subparsers = _build_parser()
    words = command.split()
    target = subparsers[words[0]]
    if len(words) > 1:
        target = next(
            action.choices[words[1]]
            for action in target._actions
            if isinstance(action.choices, dict) and words[1] in action.choices
        )
    return target.format_help()


class TestUsageErrors:
    def test_one_line_and_a_hint(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A usage error is the line that says what is wrong, then where help is."""
        status = call_main("generate", "a", "--model", "ep", "--frobnicate")

        assert 2 == status
        assert (
            "friendli-images generate: error: unrecognized arguments: --frobnicate\n"
            "see 'friendli-images generate --help'\n"
        ) == capsys.readouterr().err

    def test_nested_command_hint(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert 2 == call_main("endpoint", "wake")
        err = capsys.readouterr().err
        assert err.endswith("see 'friendli-images endpoint wake --help'\n")
        assert "usage:" not in err

    def test_model_is_shown_required(self) -> None:
        """--model is required (unless --container): the usage line shows it unbracketed."""
        usage = help_of("generate").split("\n\n", 1)[0]

        assert " --model ENDPOINT " in usage
        assert "[--model ENDPOINT]" not in usage
        assert "[--model ENDPOINT]" not in help_of("edit").split("\n\n", 1)[0]

    @pytest.mark.parametrize("command", COMMANDS)
    def test_help_ends_with_the_same_sections(self, command: str) -> None:
        """Every command's --help ends with "exit status:" (and "environment:" where it
        reads variables), laid out alike; run has both."""
        text = help_of(command)

        assert "\nexit status:\n" in text
        exit_lines = text.split("\nexit status:\n", 1)[1].splitlines()
        assert all(line.startswith("  ") and line.split()[0].isdigit() for line in exit_lines)
        assert any(line.split()[0] == "2" for line in exit_lines)
        if command not in ("gallery", "mock-server"):
            assert "\nenvironment:\n  FRIENDLI_TOKEN " in text
            assert text.index("\nenvironment:\n") < text.index("\nexit status:\n")

    def test_generate_help_names_the_container_variable(self) -> None:
        assert "FRIENDLI_CONTAINER_BASE_URL" in help_of("generate")


class TestContainerFromEnvironment:
    def test_container_without_url_reads_the_variable(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """`--container` alone sends to FRIENDLI_CONTAINER_BASE_URL, as mock-server exports."""
        env = environment(FRIENDLI_CONTAINER_BASE_URL=cli_server.base_url)

        result = run_cli("generate", "a cat", "--out", tmp_path, "--container", env=env)

        assert 0 == result.returncode, result.stderr
        assert [str(tmp_path / "image.jpg")] == result.stdout.splitlines()
        assert ["/v1/images/generations"] == [r.path for r in cli_server.generation_requests]

    def test_container_without_url_or_variable_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("FRIENDLI_CONTAINER_BASE_URL", raising=False)

        assert 2 == call_main("generate", "a", "--container")
        assert "FRIENDLI_CONTAINER_BASE_URL is not set" in capsys.readouterr().err

    def test_a_bad_variable_is_named(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FRIENDLI_CONTAINER_BASE_URL", "ftp://x")

        assert 2 == call_main("generate", "a", "--container")
        assert "error: FRIENDLI_CONTAINER_BASE_URL: the URL must be" in capsys.readouterr().err


class TestQuiet:
    def test_generate_quiet_prints_only_the_paths(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """--quiet: nothing on stderr for a good run, the paths on stdout."""
        result = run_cli(
            "generate", "a", "--model", "ep", "-n", "2", "--out", tmp_path, "--quiet",
            "--format", "png", env=server_env(cli_server),
        )  # fmt: skip

        assert (0, "") == (result.returncode, result.stderr)
        assert 2 == len(result.stdout.splitlines())

    def test_generate_quiet_still_prints_errors(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        cli_server.inject(ErrorStatus(500, "boom"))

        result = run_cli(
            "generate", "a", "--model", "ep", "--out", tmp_path, "-q",
            env=server_env(cli_server),
        )  # fmt: skip

        assert 1 == result.returncode
        assert "error: 500 Internal Server Error: boom\n" == result.stderr

    def test_run_quiet_has_no_summary_line(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text('{"prompt": "a"}\n{"prompt": "b"}\n')

        loud = run_cli("run", jobs, "--out", tmp_path / "a", "--model", "ep",
                       env=server_env(cli_server))  # fmt: skip
        quiet = run_cli("run", jobs, "--out", tmp_path / "b", "--model", "ep", "--quiet",
                        "--json", env=server_env(cli_server))  # fmt: skip

        assert "2 done" in loud.stderr
        assert (0, "") == (quiet.returncode, quiet.stderr)
        assert 2 == json.loads(quiet.stdout)["done"]

    def test_sweep_quiet(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        pytest.importorskip("PIL")
        result = run_cli(
            "sweep", "a", "--model", "ep", "--out", tmp_path / "s", "--seed", "1..2", "-q",
            env=server_env(cli_server),
        )  # fmt: skip

        assert (0, "", "") == (result.returncode, result.stderr, result.stdout)
        assert (tmp_path / "s" / "grid.png").is_file()


class TestOutputDetails:
    def test_json_durations_are_milliseconds(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text('{"prompt": "a"}\n')

        result = run_cli("run", jobs, "--out", tmp_path / "o", "--model", "ep", "--json",
                         env=server_env(cli_server))  # fmt: skip

        seconds = json.loads(result.stdout)["seconds"]
        assert seconds == round(seconds, 3)

    def test_error_text_is_the_librarys(
        self, cli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """The library's str(error) and the command's error line read the same."""
        cli_server.inject(ErrorStatus(429, "slow down"), times=50)  # more than any retrying
        with (
            FriendliImages(token=cli_server.token, base_url=cli_server.base_url) as client,
            pytest.raises(RateLimitError) as info,
        ):
            client.generate("a", model="ep", max_retries=0)

        result = run_cli(
            "generate", "a", "--model", "ep", "--out", tmp_path, env=server_env(cli_server)
        )

        assert "429 Too Many Requests: slow down" == str(info.value)
        assert result.stderr.endswith("error: 429 Too Many Requests: slow down\n")

    def test_connection_error_names_the_address(self, tmp_path: Path) -> None:
        """A refused connection says where it tried, so a wrong --base-url is obvious."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"

        result = run_cli(
            "generate", "a", "--model", "ep", "--out", tmp_path,
            env=environment(FRIENDLI_TOKEN="t0ken-secret", FRIENDLI_BASE_URL=base_url),
        )  # fmt: skip

        assert 1 == result.returncode
        assert f"to {base_url}/dedicated/v1/images/generations" in result.stderr
        assert "t0ken-secret" not in result.stderr + result.stdout


class TestCompletion:
    @pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
    def test_completion_script_from_the_parser(
        self, shell: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`completion SHELL` prints a script made from the parser: it knows the commands
        and their options."""
        if importlib.util.find_spec("shtab") is None:
            pytest.skip("shtab (of the cli extra) is not installed")

        assert 0 == call_main("completion", shell)

        script = capsys.readouterr().out
        assert "friendli-images" in script
        words = ["generate", "mock-server", "completion"]
        if shell != "tcsh":  # shtab's tcsh script completes the commands only
            words += ["--model", "--quiet"]
        for word in words:
            assert word in script

    def test_completion_without_shtab_says_what_to_install(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "shtab", None)

        assert 1 == call_main("completion", "bash")
        assert "friendli-images[cli]" in capsys.readouterr().err
