"""Running the ``friendli-images`` command line from the facade's tests.

The command runs as ``python -m friendli_images`` with this interpreter, in an environment
without the developer's ``FRIENDLI_*`` settings (``environment()``); ``call_main()`` runs
``main()`` in this process instead. ``mock_server()`` starts ``friendli-images
mock-server`` and reads the ``export`` lines it prints. The fixtures that go with these
(``cli_server``, ``environ_server``) are in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from friendli_images._cli import main
from friendli_images.testing import FriendliTestServer

TIMEOUT = 60
"""Seconds a command (or a mock server's shutdown) may take before the test fails."""


def environment(**variables: str) -> dict[str, str]:
    """The test process's environment without FRIENDLI_*, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    env.update(variables)
    return env


def server_env(server: FriendliTestServer, **variables: str) -> dict[str, str]:
    """``environment()`` with FRIENDLI_TOKEN and FRIENDLI_BASE_URL naming ``server``."""
    return environment(FRIENDLI_TOKEN=server.token, FRIENDLI_BASE_URL=server.base_url, **variables)


def command(*args: str | Path) -> list[str]:
    """The argv of ``friendli-images ARGS``: ``python -m friendli_images`` of this interpreter."""
    return [sys.executable, "-m", "friendli_images", *map(str, args)]


def run_cli(
    *args: str | Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``friendli-images ARGS`` to its end, its output captured as text.

    Standard input is ``stdin`` when given, else ``/dev/null``; the exit status is not
    checked (the result's ``returncode``).
    """
    return subprocess.run(
        command(*args),
        env=env,
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(*args: str | Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start ``friendli-images ARGS``: stdin ``/dev/null``, stdout and stderr text pipes.

    The caller waits for it (``communicate()``), typically after sending it a signal.
    """
    return subprocess.Popen(
        command(*args),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def call_main(*args: str | Path) -> int:
    """``main()`` in this process: the exit status, whether returned or raised by argparse."""
    try:
        return main([str(arg) for arg in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)


@dataclass
class MockServer:
    """A ``friendli-images mock-server`` subprocess started by ``mock_server()``."""

    process: subprocess.Popen[str]
    exported: dict[str, str]
    """The variables of the ``export`` lines it printed, unquoted."""
    stderr: str = ""
    """What it printed on stderr, once it has stopped (after the ``with`` block)."""

    @property
    def env(self) -> dict[str, str]:
        """``environment()`` with the exported variables: what its ``export`` lines give."""
        return environment(**self.exported)


@contextlib.contextmanager
def mock_server(*options: str, exports: int = 3, timeout: float = TIMEOUT) -> Iterator[MockServer]:
    """``friendli-images mock-server OPTIONS`` in ``environment()``, for a ``with`` block.

    Yields once the server has printed its first ``exports`` lines, each of which must be
    an ``export NAME=VALUE`` line; at the end of the block it is stopped with SIGTERM and
    waited for (at most ``timeout`` seconds), and its stderr kept in ``MockServer.stderr``.
    """
    with start_cli("mock-server", *options, env=environment()) as process:
        server = MockServer(process, {})
        try:
            assert process.stdout is not None
            for _ in range(exports):
                line = process.stdout.readline()
                assert line.startswith("export "), line or process.stderr.read()  # type: ignore[union-attr]
                name, _, value = line.removeprefix("export ").strip().partition("=")
                server.exported[name] = shlex.split(value)[0]
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            _, server.stderr = process.communicate(timeout=timeout)
