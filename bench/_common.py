"""Pieces shared by the benchmarks, their runner and their child processes.

The runner (``run.py``), the benchmark modules it runs (one per figure group: ``overhead``,
``memory``, ``decoding``, ``concurrency``, ``import_time``, ``edit``, ``bulk``,
``cpu_per_image``), the modules run on their own (``throttle``, ``url_batches``, ...) and
the processes they start (``python -m bench._serve`` for the loopback test server,
``python -m bench._memory_child`` for one memory measurement, both from the repository
root) share these: the settings of a run, a figure (one row of the table), timing by
alternation, repetitions of cases against a counting server, the raw and library clients
of the per-call figures, a jobs file and ``friendli-images run`` in a process of its own,
and the server process.

Nothing here imports ``friendli_images`` or ``httpx`` at module level: the memory and
import children import this module, and must load only what they measure.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    import httpx
    from friendli_images import FriendliImages

__all__ = [
    "BENCH_DIR",
    "GENERATION_PATH",
    "IN_MEMORY_URL",
    "MIB",
    "MODEL",
    "PROMPT",
    "REPO_ROOT",
    "TOKEN",
    "Case",
    "CountingServer",
    "Figure",
    "ServerProcess",
    "ServerSpec",
    "Settings",
    "alternate",
    "auth_headers",
    "children_cpu_seconds",
    "git_state",
    "log",
    "loopback_clients",
    "machine_info",
    "median",
    "own_cpu_seconds",
    "peak_rss_bytes",
    "repeat_cases",
    "replay_clients",
    "rss_bytes",
    "run_cli",
    "spread",
    "start_peak_window",
    "time_call",
    "url_body",
    "versions",
    "write_jobs",
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
    cpu_jobs: int = 10_000
    cpu_reps: int = 3

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
            cpu_jobs=100,
            cpu_reps=1,
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


# -- CPU time, and repetitions of cases against a counting server ---------------------------


def children_cpu_seconds() -> float:
    """User plus system CPU of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    """CPU of this process (every thread, those that ended included) and its ended children.

    A server still running in a child process is not in it: its CPU is read apart.
    """
    return time.process_time() + children_cpu_seconds()


class CountingServer(Protocol):
    """A loopback server in a process of its own that counts what it receives."""

    url: str

    def cpu_seconds(self) -> float:
        """User plus system CPU seconds the server's process has used so far."""
        ...

    def reset(self) -> None:
        """Forget the counts."""
        ...

    def stats(self) -> dict[str, Any]:
        """The counts since the last ``reset()``."""
        ...


Case = tuple[str, Callable[[], object]]
"""``(key, run)``: one side of a comparison, ``run()`` doing its work once."""


def repeat_cases(
    server: CountingServer,
    cases: Sequence[Case],
    reps: int,
    *,
    stat: str,
    name: str,
    log: Callable[[str], None],
    after: Callable[[str], object] | None = None,
) -> dict[str, Any]:
    """Run every case ``reps`` times, in order, then in reverse order, and so on.

    Before each run the server's counts are reset and garbage collected; after it, the
    run's wall seconds, this process's CPU seconds (``own_cpu_seconds``: threads and
    ended children included), the server's CPU seconds and the server's count ``stat``
    are recorded under the case's key, then ``after(key)`` runs (untimed: cleaning up).
    The server's CPU over the whole run and the wall time are reported too, to show
    whether the server was the bottleneck.
    """
    seconds: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    server_cpu: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    for rep in range(reps):
        for key, run in cases if rep % 2 == 0 else list(reversed(cases)):
            server.reset()
            gc.collect()
            own, theirs, start = own_cpu_seconds(), server.cpu_seconds(), time.perf_counter()
            run()
            seconds.setdefault(key, []).append(time.perf_counter() - start)
            cpu.setdefault(key, []).append(own_cpu_seconds() - own)
            server_cpu.setdefault(key, []).append(server.cpu_seconds() - theirs)
            counts.setdefault(key, []).append(server.stats()[stat])
            log(
                f"{name} {key}: {seconds[key][-1]:.2f} s, {cpu[key][-1]:.2f} s CPU "
                f"(server {server_cpu[key][-1]:.2f} s), {counts[key][-1]} {stat}"
            )
            if after is not None:
                after(key)
    wall = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "server_cpu_by_case": server_cpu,
        stat: counts,
        "server_cpu_seconds": server.cpu_seconds() - cpu_before,
        "wall_seconds": wall,
    }


# -- the clients of the per-call figures: on loopback, and on an in-memory transport -------

IN_MEMORY_URL = "http://friendli.bench.invalid"
"""The base URL of ``replay_clients`` (nothing listens there)."""


@contextmanager
def loopback_clients(base_url: str) -> Iterator[tuple[httpx.Client, FriendliImages]]:
    """A raw ``httpx.Client`` and a ``FriendliImages`` (no retries) for the same server."""
    import httpx
    from friendli_images import FriendliImages

    with (
        httpx.Client() as raw,
        FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client,
    ):
        yield raw, client


@contextmanager
def replay_clients(
    answer: httpx.Response, *, read_body: bool = False
) -> Iterator[tuple[httpx.Client, FriendliImages]]:
    """``loopback_clients`` on in-memory transports that answer every request with ``answer``.

    Their base URL is ``IN_MEMORY_URL``; the timings are then the clients' CPU without the
    network and the server. With ``read_body`` each transport first reads the whole request
    body, as it would be produced on the wire.
    """
    import httpx
    from friendli_images import FriendliImages

    def replay(request: httpx.Request) -> httpx.Response:
        if read_body:
            request.read()
        return httpx.Response(200, content=answer.content, headers=answer.headers)

    with (
        httpx.Client(transport=httpx.MockTransport(replay)) as raw,
        httpx.Client(transport=httpx.MockTransport(replay)) as ours,
        FriendliImages(
            token=TOKEN, base_url=IN_MEMORY_URL, max_retries=0, http_client=ours
        ) as client,
    ):
        yield raw, client


# -- jobs files, and ``friendli-images run`` in a process of its own -----------------------


def write_jobs(path: Path, count: int) -> Path:
    """A jobs file of ``count`` lines ``{"id": "job-I", "prompt": PROMPT, "seed": I}``."""
    with path.open("w", encoding="utf-8") as file:
        for index in range(count):
            file.write(json.dumps({"id": f"job-{index}", "prompt": PROMPT, "seed": index}) + "\n")
    return path


def run_cli(
    base_url: str, jobs: Path, out: Path, concurrency: int, response_format: str = "png"
) -> dict[str, float]:
    """``python -m friendli_images run JOBS`` in a fresh process: wall and CPU seconds, images.

    The process's CPU (``RUSAGE_CHILDREN``) includes its start (interpreter, imports);
    ``images`` counts the rows of the dataset's ``metadata.jsonl``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    env |= {"FRIENDLI_TOKEN": TOKEN, "FRIENDLI_BASE_URL": base_url}
    command = [sys.executable, "-m", "friendli_images", "run", str(jobs), "--out", str(out)]
    command += ["--model", MODEL, "--format", response_format]
    command += ["--concurrency", str(concurrency), "-q"]
    before_cpu, before = children_cpu_seconds(), time.perf_counter()
    subprocess.run(
        command, cwd=REPO_ROOT, env=env, check=True, timeout=1200, stdout=subprocess.DEVNULL
    )
    seconds, cpu = time.perf_counter() - before, children_cpu_seconds() - before_cpu
    images = len((out / "metadata.jsonl").read_text(encoding="utf-8").splitlines())
    return {"seconds": seconds, "cpu_seconds": cpu, "images": images}


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
