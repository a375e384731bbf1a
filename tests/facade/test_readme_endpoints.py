"""The README's "Sleeping endpoints" example, run offline against ``mock-server``."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from friendli_images._endpoints import _rules as _endpoint_rules

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- --8<-- [start:endpoints] -->")
    return text[start : text.index("<!-- --8<-- [end:endpoints] -->", start)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.DOTALL)


def console_commands() -> list[tuple[list[str], list[str]]]:
    """Each ``$ friendli-images ...`` line of the console block, with the lines it shows."""
    (console,) = blocks("console")
    steps: list[tuple[list[str], list[str]]] = []
    for line in console.splitlines():
        if line.startswith("$ "):
            steps.append((shlex.split(line[2:]), []))
        else:
            steps[-1][1].append(line)
    return steps


@pytest.fixture
def mock_server_env() -> Iterator[dict[str, str]]:
    """The README's mock-server (on a free port), and the environment its exports give."""
    (argv, _), *_ = console_commands()
    assert ["friendli-images", "mock-server"] == argv[:2]
    argv[argv.index("--port") + 1] = "0"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    with subprocess.Popen(
        [sys.executable, "-m", "friendli_images", *argv[1:]],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            for _ in range(2):
                name, value = process.stdout.readline().removeprefix("export ").strip().split("=")
                env[name] = value
            yield env
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=TIMEOUT)
    assert "Traceback" not in stderr


def test_readme_example(
    mock_server_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Python example, then each command of the console session, run as written."""
    monkeypatch.setattr(_endpoint_rules, "INITIAL_POLL_DELAY", 0.05)
    for name in ("FRIENDLI_BASE_URL", "FRIENDLI_TOKEN"):
        monkeypatch.setenv(name, mock_server_env[name])
    (python,) = blocks("python")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(python, "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert ["SLEEPING", "wake AWAKING 0"] == lines[:2]
    assert lines[2].startswith("wait RUNNING ")

    for argv, shown in console_commands()[1:]:
        assert "friendli-images" == argv[0]
        result = subprocess.run(
            [sys.executable, "-m", "friendli_images", *argv[1:]],
            env=mock_server_env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert 0 == result.returncode, result.stderr
        assert set(result.stdout.splitlines()) <= set(shown), (argv, result.stdout)
        assert "Traceback" not in result.stderr
    assert {"image-0.png", "image-1.png"} == {p.name for p in (tmp_path / "out").iterdir()}
