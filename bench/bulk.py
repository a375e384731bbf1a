"""The bulk figures of ``bench/run.py`` (issue 13): throughput, memory, connections, adaptivity.

Each runs against ``bench._bulk_server`` in its own process (50 ms per generation, 64x64
PNG results) and is a ratio against a baseline from the same run:

bulk_throughput
    Wall time of ``arun_jobs`` (the asyncio twin of ``run_jobs``, which ``run`` calls) over
    10,000 png jobs saved to disk at concurrency 64, against a raw ``httpx.AsyncClient``
    + semaphore + ``b64decode`` + file write loop doing the same work. Target <= 1.10.
    ``bulk_throughput_ideal``: the same wall time against max(ideal latency bound, raw).
    Target <= 1.15.
bulk_memory
    Peak RSS of a fresh process running 10,000 jobs, against 1,000 jobs: flat in the
    number of jobs. Target <= 1.1. ``bulk_memory_generate``: ``generate(n=4096,
    concurrency=64, png)`` + save against the raw loop's peak. Target <= 1.5.
connections
    TCP connections the server accepted for 4096 requests (``generate(n=4096)``) at
    concurrency 64 and 256, against the concurrency. Target <= 2. Reference rows: raw
    ``httpx.AsyncClient`` with its default limits.
adaptive
    Against a server that answers 429 above 16 requests in flight: the share of
    requests answered 429 after the first 10 seconds of a concurrency-64 run, against
    5%. Target <= 1. ``adaptive_throughput``: that run's wall time against the same
    requests at concurrency 16. Target <= 1.11 (throughput >= 90%).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from friendli_images import AsyncFriendliImages, FriendliImages, arun_jobs, run_jobs

from bench._common import (
    MODEL,
    PROMPT,
    REPO_ROOT,
    TOKEN,
    Figure,
    Settings,
    log,
    median,
    write_jobs,
)

GENERATION_PATH = "/dedicated/v1/images/generations"
LATENCY = 0.05
CONCURRENCY = 64
MIB = 1024 * 1024


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BulkServer:
    """A running ``bench._bulk_server``: its base URL, the CPU it has used, its counts."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def reset(self) -> None:
        reset(self.url)

    def stats(self) -> dict[str, Any]:
        return server_stats(self.url)


@contextmanager
def bulk_server_process(latency: float = LATENCY, cap: int | None = None) -> Iterator[BulkServer]:
    """``bench._bulk_server`` in a child process."""
    command = [sys.executable, "-m", "bench._bulk_server", "--latency", str(latency)]
    if cap is not None:
        command += ["--cap", str(cap)]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield BulkServer(json.loads(process.stdout.readline())["url"], process.pid)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def bulk_server(latency: float = LATENCY, cap: int | None = None) -> Iterator[str]:
    """``bench._bulk_server`` in a child process; yields its base URL."""
    with bulk_server_process(latency, cap) as server:
        yield server.url


def server_stats(base_url: str, after: float = 0.0) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{base_url}/stats", params={"after": after}).json()
    return stats


def reset(base_url: str) -> None:
    httpx.post(f"{base_url}/reset")


async def library_jobs(
    base_url: str, jobs: Path, out: Path, concurrency: int, response_format: str = "png"
) -> None:
    """``arun_jobs`` (the asyncio twin of ``run_jobs``) of the jobs file ``jobs`` into
    ``out`` (no retries); all must be done."""
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        summary = await arun_jobs(
            jobs,
            out,
            client=client,
            defaults={"model": MODEL, "response_format": response_format},
            concurrency=concurrency,
        )
    if summary.done != summary.total:
        raise RuntimeError(f"{response_format} jobs run incomplete: {summary}")


def library_jobs_sync(
    base_url: str, jobs: Path, out: Path, concurrency: int, response_format: str = "png"
) -> None:
    """``run_jobs`` (what ``friendli-images run`` calls) of ``jobs`` into ``out`` (no
    retries); all must be done."""
    with FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        summary = run_jobs(
            jobs,
            out,
            client=client,
            defaults={"model": MODEL, "response_format": response_format},
            concurrency=concurrency,
        )
    if summary.done != summary.total:
        raise RuntimeError(f"{response_format} jobs run incomplete: {summary}")


async def _raw_jobs(base_url: str, count: int, out: Path, concurrency: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    slots = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def one(index: int) -> None:
            async with slots:
                response = await client.post(
                    GENERATION_PATH,
                    json={
                        "model": MODEL,
                        "prompt": PROMPT,
                        "seed": index,
                        "response_format": "png",
                    },
                    headers=headers,
                )
                response.raise_for_status()
                item = response.json()["data"][0]
                (out / f"image-{index}.png").write_bytes(base64.b64decode(item["b64_json"]))

        await asyncio.gather(*(one(index) for index in range(count)))


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def throughput(jobs_count: int, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Library and raw wall times (alternating), in seconds, for ``jobs_count`` png jobs."""
    library: list[float] = []
    raw: list[float] = []
    with bulk_server() as base_url, tempfile.TemporaryDirectory(prefix="bulk-") as tmp:
        workdir = Path(tmp)
        jobs = write_jobs(workdir / "jobs.jsonl", jobs_count)
        log(f"bulk throughput: {reps} round(s) of {jobs_count} png jobs, concurrency {CONCURRENCY}")
        for rep in range(reps):
            library_run = functools.partial(
                _run, library_jobs(base_url, jobs, workdir / f"library-{rep}", CONCURRENCY)
            )
            raw_run = functools.partial(
                _run, _raw_jobs(base_url, jobs_count, workdir / f"raw-{rep}", CONCURRENCY)
            )
            runs = [(library, library_run), (raw, raw_run)]
            for times, run in runs if rep % 2 == 0 else reversed(runs):
                times.append(_timed(run))
    ideal = jobs_count / CONCURRENCY * LATENCY
    return {"library": library, "raw": raw, "ideal": ideal}


def _child(mode: str, base_url: str, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bulk-memory-") as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "bench._bulk_child", mode, base_url, str(count), tmp],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def memory(small: int, large: int, generate_n: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Peak RSS (bytes) of fresh processes: jobs at two sizes, generate(n) and the raw loop."""
    with bulk_server() as base_url:
        log(f"bulk memory: jobs {small} and {large}, generate(n={generate_n}) and raw loop")
        return {
            "jobs_small": _child("jobs", base_url, small)["peak"],
            "jobs_large": _child("jobs", base_url, large)["peak"],
            "generate": _child("generate", base_url, generate_n)["peak"],
            "raw": _child("raw", base_url, generate_n)["peak"],
        }


async def _generate(base_url: str, count: int, concurrency: int) -> None:
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        result = await client.generate(
            PROMPT, model=MODEL, n=count, concurrency=concurrency, response_format="png"
        )
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} failed: {result.errors[0].error}")


async def _raw_generate(base_url: str, count: int, concurrency: int) -> None:
    slots = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def one(index: int) -> None:
            async with slots:
                response = await client.post(
                    GENERATION_PATH,
                    json={
                        "model": MODEL,
                        "prompt": PROMPT,
                        "seed": index,
                        "response_format": "png",
                    },
                    headers=headers,
                )
                response.raise_for_status()

        await asyncio.gather(*(one(index) for index in range(count)))


def connections(count: int, levels: tuple[int, ...], log: Callable[[str], None]) -> dict[str, Any]:
    """TCP connections the server accepted for ``count`` requests at each concurrency."""
    seen: dict[str, Any] = {}
    with bulk_server() as base_url:
        for level in levels:
            log(f"connections: {count} requests at concurrency {level}")
            for name, run in (("library", _generate), ("raw", _raw_generate)):
                reset(base_url)
                asyncio.run(run(base_url, count, level))
                seen[f"{name}_{level}"] = server_stats(base_url)["connections"]
    return seen


async def _adaptive_run(base_url: str, count: int, concurrency: int) -> None:
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url) as client:
        result = await client.generate(
            PROMPT, model=MODEL, n=count, concurrency=concurrency, response_format="png"
        )
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} failed: {result.errors[0].error}")


def adaptive(count: int, cap: int, after: float, log: Callable[[str], None]) -> dict[str, Any]:
    """Concurrency 64 against a server allowing ``cap``, and concurrency ``cap`` as reference."""
    with bulk_server(cap=cap) as base_url:
        log(f"adaptive: {count} requests, server cap {cap}, concurrency 64 then {cap}")
        reset(base_url)
        adaptive_seconds = _timed(lambda: asyncio.run(_adaptive_run(base_url, count, 64)))
        stats = server_stats(base_url, after)
        reset(base_url)
        capped_seconds = _timed(lambda: asyncio.run(_adaptive_run(base_url, count, cap)))
        capped = server_stats(base_url, after)
    return {
        "adaptive_seconds": adaptive_seconds,
        "capped_seconds": capped_seconds,
        "adaptive_stats": stats,
        "capped_stats": capped,
    }


# -- the figures of bench/run.py -------------------------------------------------------------


def bench_bulk(groups: Sequence[str], settings: Settings) -> list[Figure]:
    figures: list[Figure] = []
    if "bulk_throughput" in groups:
        times = throughput(settings.bulk_jobs, settings.bulk_reps, log)
        title = f"{settings.bulk_jobs} png jobs saved, concurrency 64, 50 ms latency"
        library = median(times["library"])
        raw = median(times["raw"])
        figures += [
            Figure(
                "bulk_throughput",
                title,
                "raw httpx.AsyncClient loop",
                raw,
                "arun_jobs",
                library,
                "s",
                1.10,
                samples=len(times["library"]),
                details=times,
            ),
            Figure(
                "bulk_throughput_ideal",
                title,
                "max(ideal, raw loop)",
                max(times["ideal"], raw),
                "arun_jobs",
                library,
                "s",
                1.15,
            ),
        ]
    if "bulk_memory" in groups:
        peaks = memory(*settings.bulk_memory_jobs, settings.bulk_generate_n, log)
        small, large = settings.bulk_memory_jobs
        figures += [
            Figure(
                "bulk_memory",
                "peak RSS of a fresh process running png jobs",
                f"{small} jobs",
                peaks["jobs_small"] / MIB,
                f"{large} jobs",
                peaks["jobs_large"] / MIB,
                "MiB",
                1.1,
                details=peaks,
            ),
            Figure(
                "bulk_memory_generate",
                f"generate(n={settings.bulk_generate_n}, concurrency=64, png) + save",
                "raw httpx.AsyncClient loop",
                peaks["raw"] / MIB,
                "AsyncFriendliImages",
                peaks["generate"] / MIB,
                "MiB",
                1.5,
                details=peaks,
            ),
        ]
    if "connections" in groups:
        seen = connections(settings.connection_requests, settings.connection_levels, log)
        for level in settings.connection_levels:
            title = f"TCP connections for {settings.connection_requests} requests"
            figures += [
                Figure(
                    f"connections_{level}",
                    title,
                    "concurrency",
                    level,
                    "generate(n)",
                    seen[f"library_{level}"],
                    "conn",
                    2.0,
                    details=seen,
                ),
                Figure(
                    f"connections_{level}_httpx",
                    title,
                    "concurrency",
                    level,
                    "raw httpx.AsyncClient (reference)",
                    seen[f"raw_{level}"],
                    "conn",
                    None,
                    required=False,
                ),
            ]
    if "adaptive" in groups:
        run = adaptive(settings.adaptive_requests, 16, settings.adaptive_after, log)
        stats = run["adaptive_stats"]
        share = 100 * stats["rejected_after"] / max(1, stats["requests_after"])
        title = (
            f"{settings.adaptive_requests} requests, server allows 16 in flight (429 above), "
            "concurrency 64"
        )
        figures += [
            Figure(
                "adaptive",
                title,
                "5% of requests",
                5.0,
                f"429s after {settings.adaptive_after:g} s",
                max(share, 0.01),
                "%",
                1.0,
                details=run,
            ),
            Figure(
                "adaptive_throughput",
                title,
                "concurrency 16",
                run["capped_seconds"],
                "concurrency 64, adaptive",
                run["adaptive_seconds"],
                "s",
                1.11,
            ),
        ]
    return figures
