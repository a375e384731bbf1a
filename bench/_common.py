"""Pieces shared by the benchmark runner and its child processes.

The runner (``run.py``) and the processes it starts (``python -m bench._serve`` for the
loopback test server, ``python -m bench._memory_child`` for one memory measurement, both
from the repository root) share these.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Self

__all__ = [
    "BENCH_DIR",
    "MODEL",
    "PROMPT",
    "REPO_ROOT",
    "TOKEN",
    "ServerProcess",
    "ServerSpec",
    "git_state",
    "machine_info",
    "median",
    "peak_rss_bytes",
    "rss_bytes",
    "start_peak_window",
    "versions",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TOKEN = "bench-token"  # the loopback test server's token, not a secret
MODEL = "bench-endpoint"
PROMPT = "An orange Lamborghini driving down a hill road at night, ocean view"
VERSIONED_DISTRIBUTIONS = (
    "friendli-images",
    "httpx",
    "httpcore",
    "h11",
    "attrs",
    "python-dateutil",
    "openapi-python-client",
)
_SERVE_TIMEOUT = 30.0


def median(values: Iterable[float]) -> float:
    """The median of ``values`` (which must not be empty)."""
    return statistics.median(list(values))


# -- what ran where ------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, object]:
    """CPU model, core count, OS and Python of this machine."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
    }


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries on the measured path (``None``: not installed)."""
    found: dict[str, str | None] = {}
    for name in VERSIONED_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_state() -> dict[str, object]:
    """The commit measured, and whether the work tree had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


# -- resident memory (Linux /proc, with a getrusage fallback) -------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """The current resident set size of this process."""
    kib = _status_kib("VmRSS")
    if kib is None:
        return peak_rss_bytes()
    return kib * 1024


def peak_rss_bytes() -> int:
    """The peak resident set size of this process (since the last ``start_peak_window``)."""
    kib = _status_kib("VmHWM")
    if kib is None:  # not Linux: ru_maxrss is KiB on Linux/BSD, bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    return kib * 1024


def start_peak_window() -> tuple[int, bool]:
    """Start measuring a peak; return the RSS it starts from and whether the peak was reset.

    Linux resets the peak (``VmHWM``) to the current RSS when ``5`` is written to
    ``/proc/self/clear_refs``; the increase is then ``peak - current``. Where that is not
    allowed, the earlier peak is the base, so the increase reads low, never high.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as file:
            file.write("5")
    except OSError:
        return peak_rss_bytes(), False
    return rss_bytes(), True


# -- the loopback test server, in a process of its own -----------------------------------


ServerSpec = tuple[float, tuple[int, int]]
"""``(latency in seconds, (image width, image height))`` of one test server."""


class ServerProcess:
    """``FriendliTestServer``\\s in a child process (``bench._serve``), one per named spec.

    The server runs outside the measuring process so that its work (reading and
    validating a 67 MB body, rendering images) neither competes for this process's GIL
    nor counts in its memory. ``urls[name]`` is each server's base URL.
    """

    def __init__(self, specs: Mapping[str, ServerSpec]) -> None:
        self._specs = dict(specs)
        self._process: subprocess.Popen[str] | None = None
        self.urls: dict[str, str] = {}

    def __enter__(self) -> Self:
        command = [sys.executable, "-m", "bench._serve", "--token", TOKEN]
        for name, (latency, (width, height)) in self._specs.items():
            command += ["--server", f"{name}:{latency}:{width}x{height}"]
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._process = process
        stdout: IO[str] | None = process.stdout
        line = stdout.readline() if stdout is not None else ""
        if not line:
            self._stop()
            raise RuntimeError(f"the benchmark server did not start: {command}")
        self.urls = json.loads(line)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the server stops when its stdin closes
        try:
            process.wait(timeout=_SERVE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
