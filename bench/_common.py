"""Pieces shared by the benchmarks, their runner and their child processes.

The runner (``run.py``), the benchmark modules it runs (one per figure group: ``overhead``,
``memory``, ``decoding``, ``concurrency``, ``import_time``, ``edit``, ``bulk``) and the
processes they start (``python -m bench._serve`` for the loopback test server,
``python -m bench._memory_child`` for one memory measurement, both from the repository
root) share these: the settings of a run, a figure (one row of the table), timing by
alternation, and the server process.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

__all__ = [
    "BENCH_DIR",
    "GENERATION_PATH",
    "MIB",
    "MODEL",
    "PROMPT",
    "REPO_ROOT",
    "TOKEN",
    "Figure",
    "ServerProcess",
    "ServerSpec",
    "Settings",
    "alternate",
    "auth_headers",
    "git_state",
    "log",
    "machine_info",
    "median",
    "peak_rss_bytes",
    "rss_bytes",
    "spread",
    "start_peak_window",
    "time_call",
    "url_body",
    "versions",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TOKEN = "bench-token"  # the loopback test server's token, not a secret
MODEL = "bench-endpoint"
PROMPT = "An orange Lamborghini driving down a hill road at night, ocean view"
GENERATION_PATH = "/dedicated/v1/images/generations"
MIB = 1024 * 1024
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


# -- a run's settings, its figures, timing by alternation -------------------------------


@dataclass(frozen=True)
class Settings:
    """How many samples and how large the payloads are."""

    import_reps: int
    call_warmup: int
    call_rounds: int
    memory_runs: int
    control_image_side: int
    decode_image_side: int
    decode_reps: int
    batch_reps: int
    edit_rounds: int
    edit_image_side: int
    bulk_jobs: int = 10_000
    bulk_reps: int = 2
    bulk_memory_jobs: tuple[int, int] = (1_000, 10_000)
    bulk_generate_n: int = 4096
    connection_requests: int = 4096
    connection_levels: tuple[int, ...] = (64, 256)
    adaptive_requests: int = 6000
    adaptive_after: float = 10.0

    @classmethod
    def full(cls) -> Settings:
        # 4180x4180 RGB as a stored-deflate PNG is 49.997 MiB: just under the API's limit.
        # 1182x1182 RGB as a stored-deflate PNG is 4.0 MiB.
        return cls(40, 100, 1000, 3, 4180, 1672, 11, 5, 30, 1182)

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            6,
            20,
            100,
            1,
            1670,
            512,
            3,
            1,
            6,
            600,
            bulk_jobs=300,
            bulk_reps=1,
            bulk_memory_jobs=(100, 300),
            bulk_generate_n=256,
            connection_requests=256,
            connection_levels=(64,),
            adaptive_requests=300,
            adaptive_after=0.5,
        )


@dataclass
class Figure:
    """One row of the table: a candidate measurement divided by its baseline."""

    key: str
    title: str
    baseline_label: str
    baseline: float
    candidate_label: str
    candidate: float
    unit: str
    target: float | None
    required: bool = True
    samples: int = 1
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.candidate / self.baseline

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def auth_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def url_body() -> dict[str, Any]:
    return {"model": MODEL, "prompt": PROMPT, "response_format": "url"}


def time_call(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def alternate(cases: Sequence[Callable[[], object]], rounds: int) -> list[list[float]]:
    """Time each case ``rounds`` times, rotating their order every round."""
    times: list[list[float]] = [[] for _ in cases]
    for round_ in range(rounds):
        for offset in range(len(cases)):
            index = (round_ + offset) % len(cases)
            times[index].append(time_call(cases[index]))
    return times


def spread(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "min": ordered[0] * scale,
        "p25": ordered[len(ordered) // 4] * scale,
        "median": median(ordered) * scale,
        "p75": ordered[(3 * len(ordered)) // 4] * scale,
        "max": ordered[-1] * scale,
    }


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
