"""Benchmarks of friendli-images, each a ratio against a baseline measured in the same run.

    python bench/run.py [--quick] [--json PATH] [--only FIGURE ...]

Starts the loopback test server (``friendli_images.testing.FriendliTestServer``) in a
process of its own, measures five figures, prints a table and writes the same as JSON
(default ``bench/results/latest.json``, git-ignored). Each figure is the client's number
divided by a baseline taken on the same machine, in the same run, interleaved with it:

per_call
    Median wall time of ``FriendliImages.generate(prompt, model=..., response_format="url")``
    (zero server latency, small response) over many calls, against
    ``httpx.Client.post(url, json=<the same body>, headers=<auth>).json()``. Calls
    alternate (baseline, client, client, baseline, ...) after a warm-up of both
    connections. Target <= 1.15. Reference row ``per_call_in_memory``: the same calls
    through an in-memory transport replaying the server's answer, i.e. the client's CPU
    cost without the network.
control_image_memory
    Peak RSS increase of sending one request with a 50 MiB control image given as a file
    path, measured in a fresh process per run (``bench/_memory_child.py``), against the file's
    size. Reference rows: the async client, and raw httpx with ``json=`` (the whole file
    read, base64-encoded into a ``data:`` URI, serialised; about 5x). Target <= 2.
decode_save
    Time from sending a request to having four 8 MiB PNG images (base64 in one JSON
    response) as files on disk. The response is the test server's real output (four
    1672x1672 images), captured once and replayed by an in-memory ``httpx.MockTransport``
    so that neither side's timer includes rendering or network transfer. Both timers
    cover: send the request, read the 45 MB body, parse the JSON, decode the base64 and
    write the files. Client: ``generate(..., response_format="png")`` (strict decoding at
    parse time) then ``ImageResult.save(dir)`` (atomic writes). Baseline:
    ``httpx.Client.post(...).json()``, then ``base64.b64decode`` and ``Path.write_bytes``
    for each image. Target <= 1.5. Reference row ``decode_save_memory``: the peak RSS
    increase of the same work, client against raw httpx, each in a fresh process.
batch
    Wall time of ``generate(..., n=32, concurrency=8)`` against a server that takes
    200 ms per generation, against the ideal 4 x 200 ms. Reference rows: the async
    client, raw httpx on 8 threads, and raw ``httpx.AsyncClient`` with a semaphore of 8.
    Target <= 1.15.
import
    ``python -c "import friendli_images"`` minus ``python -c "pass"``, against the same
    for ``import httpx``: medians of fresh interpreters, interleaved. Bytecode caches
    are in place for both (children run with ``PYTHONPYCACHEPREFIX`` set to a temporary
    directory that a warm-up run fills, and without ``PYTHONDONTWRITEBYTECODE``), as
    after ``pip install``. Target <= 1.5.

edit
    ``edit_per_call``: median wall time of ``FriendliImages.edit(<4 MiB PNG as bytes>,
    ..., response_format="url")`` against ``httpx.Client.post(url, json=<the same body,
    the image base64-encoded into a data: URI on each call>).json()``, alternating as for
    ``per_call``. The server's own work (decoding, flipping and storing the image) is in
    both timers. Target <= 1.15. Reference row ``edit_per_call_in_memory``: the same
    calls through an in-memory transport that reads the whole request body and replays
    the server's answer (the client's CPU cost without the server's). ``edit_memory``:
    peak RSS increase of one edit of the 50 MiB file of ``control_image_memory``, given
    as a path, in a fresh process, against the file's size. Target <= 0.2. Reference
    row: raw httpx ``json=`` (about 5x).

``--quick`` keeps every figure but takes fewer samples and smaller payloads (an 8 MiB
control image, four 512x512 images): a smoke run, not a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from friendli_images import AsyncFriendliImages, FriendliImages
from friendli_images.testing import render_png

if not __package__:  # run as `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bulk
from bench._common import (
    BENCH_DIR,
    MODEL,
    PROMPT,
    REPO_ROOT,
    TOKEN,
    ServerProcess,
    git_state,
    machine_info,
    median,
    versions,
)

GENERATION_PATH = "/dedicated/v1/images/generations"
EDIT_PATH = "/dedicated/v1/images/edits"
DEFAULT_JSON = BENCH_DIR / "results" / "latest.json"
MIB = 1024 * 1024
MAX_CONTROL_IMAGE_BYTES = 50 * MIB
BATCH_N = 32
BATCH_CONCURRENCY = 8
BATCH_LATENCY = 0.2
RESULT_IMAGES = 4
SMALL_IMAGE = (64, 64)
FIGURE_GROUPS = (
    "per_call",
    "control_image_memory",
    "decode_save",
    "batch",
    "import",
    "edit",
    "bulk_throughput",
    "bulk_memory",
    "connections",
    "adaptive",
)


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


def _log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def _url_body() -> dict[str, Any]:
    return {"model": MODEL, "prompt": PROMPT, "response_format": "url"}


def _timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _alternate(cases: Sequence[Callable[[], object]], rounds: int) -> list[list[float]]:
    """Time each case ``rounds`` times, rotating their order every round."""
    times: list[list[float]] = [[] for _ in cases]
    for round_ in range(rounds):
        for offset in range(len(cases)):
            index = (round_ + offset) % len(cases)
            times[index].append(_timed(cases[index]))
    return times


def _spread(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "min": ordered[0] * scale,
        "p25": ordered[len(ordered) // 4] * scale,
        "median": median(ordered) * scale,
        "p75": ordered[(3 * len(ordered)) // 4] * scale,
        "max": ordered[-1] * scale,
    }


# -- import time ---------------------------------------------------------------------------


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_import(settings: Settings) -> Figure:
    statements = {"pass": "pass", "httpx": "import httpx", "ours": "import friendli_images"}
    cpu: dict[str, list[float]] = {name: [] for name in statements}
    with tempfile.TemporaryDirectory(prefix="friendli-bench-pyc-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache

        def interpreter(name: str) -> Callable[[], object]:
            def run() -> object:
                before = _children_cpu()
                subprocess.run([sys.executable, "-c", statements[name]], env=env, check=True)
                cpu[name].append(_children_cpu() - before)
                return None

            return run

        cases = [interpreter(name) for name in statements]
        _alternate(cases, 2)  # fills the bytecode cache, warms the OS file cache
        for times in cpu.values():
            times.clear()
        _log(f"import time: {settings.import_reps} fresh interpreters per statement")
        empty, httpx_times, ours = _alternate(cases, settings.import_reps)
    base = median(empty)
    cpu_ms = {name: median(times) * 1000 for name, times in cpu.items()}
    return Figure(
        key="import",
        title="import friendli_images, fresh interpreter",
        baseline_label="import httpx",
        baseline=(median(httpx_times) - base) * 1000,
        candidate_label="import friendli_images",
        candidate=(median(ours) - base) * 1000,
        unit="ms",
        target=1.5,
        samples=settings.import_reps,
        details={
            "python_startup_ms": base * 1000,
            "httpx_total_ms": _spread(httpx_times, 1000),
            "friendli_images_total_ms": _spread(ours, 1000),
            "cpu_median_ms": cpu_ms,
            "cpu_ratio": (cpu_ms["ours"] - cpu_ms["pass"]) / (cpu_ms["httpx"] - cpu_ms["pass"]),
            "bytecode_cache": "PYTHONPYCACHEPREFIX, warmed",
        },
    )


# -- per-call overhead ---------------------------------------------------------------------


def _time_calls(
    raw: httpx.Client, client: FriendliImages, url: str, settings: Settings
) -> tuple[list[float], list[float]]:
    body = _url_body()
    headers = _headers()

    def baseline() -> object:
        return raw.post(url + GENERATION_PATH, json=body, headers=headers).json()

    def candidate() -> object:
        return client.generate(PROMPT, model=MODEL, response_format="url")

    _alternate([baseline, candidate], settings.call_warmup)
    raw_times, our_times = _alternate([baseline, candidate], settings.call_rounds)
    return raw_times, our_times


def bench_per_call(base_url: str, settings: Settings) -> list[Figure]:
    _log(f"per-call: {settings.call_rounds} calls each, alternating, loopback and in memory")
    with (
        httpx.Client() as raw,
        FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client,
    ):
        loopback = _time_calls(raw, client, base_url, settings)
        answer = raw.post(base_url + GENERATION_PATH, json=_url_body(), headers=_headers())
        answer.raise_for_status()

    def replay(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=answer.content, headers=answer.headers)

    fake_url = "http://friendli.bench.invalid"
    with (
        httpx.Client(transport=httpx.MockTransport(replay)) as raw,
        httpx.Client(transport=httpx.MockTransport(replay)) as ours,
        FriendliImages(token=TOKEN, base_url=fake_url, max_retries=0, http_client=ours) as client,
    ):
        in_memory = _time_calls(raw, client, fake_url, settings)
    rows = [
        ("per_call", "loopback test server, url format", loopback, 1.15, True),
        ("per_call_in_memory", "in-memory transport: client CPU only", in_memory, None, False),
    ]
    return [
        Figure(
            key=key,
            title=f"generate() per call, median; {where}",
            baseline_label="httpx post + json()",
            baseline=median(raw_times) * 1000,
            candidate_label="FriendliImages.generate",
            candidate=median(our_times) * 1000,
            unit="ms",
            target=target,
            required=required,
            samples=settings.call_rounds,
            details={
                "baseline_ms": _spread(raw_times, 1000),
                "candidate_ms": _spread(our_times, 1000),
                "overhead_us": (median(our_times) - median(raw_times)) * 1e6,
            },
        )
        for key, where, (raw_times, our_times), target, required in rows
    ]


# -- memory of a 50 MiB control image ------------------------------------------------------


def _control_image(directory: Path, side: int) -> Path:
    data = render_png(1, side, side)
    if len(data) > MAX_CONTROL_IMAGE_BYTES:
        raise RuntimeError(f"a {side}x{side} PNG is {len(data)} bytes, over the API's limit")
    path = directory / f"control-{side}.png"
    path.write_bytes(data)
    return path


def _memory_run(case: str, base_url: str | None, path: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench._memory_child", case, "--file", str(path)]
    if base_url is not None:
        command += ["--base-url", base_url]
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory case {case} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def bench_memory(base_url: str, settings: Settings, workdir: Path) -> list[Figure]:
    path = _control_image(workdir, settings.control_image_side)
    size = path.stat().st_size
    cases = ["facade", "facade-async", "httpx-json"]
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    _log(f"memory: {settings.memory_runs} fresh process(es) per case, {size / MIB:.1f} MiB file")
    for run in range(settings.memory_runs):
        for offset in range(len(cases)):
            case = cases[(run + offset) % len(cases)]
            runs[case].append(_memory_run(case, base_url, path))
    rows = [
        ("control_image_memory", "facade", "FriendliImages.generate", 2.0, True),
        ("control_image_memory_async", "facade-async", "AsyncFriendliImages.generate", 2.0, False),
        (
            "control_image_memory_httpx_json",
            "httpx-json",
            "raw httpx json= (reference)",
            None,
            False,
        ),
    ]
    figures = []
    for key, case, label, target, required in rows:
        increases = [run["increase"] for run in runs[case]]
        figures.append(
            Figure(
                key=key,
                title=f"peak RSS increase, {size / MIB:.0f} MiB control image from a file",
                baseline_label="file size",
                baseline=size / MIB,
                candidate_label=label,
                candidate=median(increases) / MIB,
                unit="MiB",
                target=target,
                required=required,
                samples=len(increases),
                details={
                    "file_bytes": size,
                    "increase_bytes": increases,
                    "peak_reset": all(run["peak_reset"] for run in runs[case]),
                },
            )
        )
    return figures


# -- edits: per call with a 4 MiB image, memory with a 50 MiB one ---------------------------


def bench_edit(base_url: str, settings: Settings, workdir: Path) -> list[Figure]:
    data = render_png(2, settings.edit_image_side, settings.edit_image_side)
    body = {"model": MODEL, "prompt": PROMPT, "response_format": "url"}
    headers = _headers()
    _log(f"edit: {settings.edit_rounds} calls each with a {len(data) / MIB:.1f} MiB image")

    def time_edits(raw: httpx.Client, client: FriendliImages, url: str) -> list[list[float]]:
        def baseline() -> object:
            uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
            return raw.post(url, json={**body, "image": {"image": uri}}, headers=headers).json()

        def candidate() -> object:
            return client.edit(data, PROMPT, model=MODEL, response_format="url")

        _alternate([baseline, candidate], 3)
        return _alternate([baseline, candidate], settings.edit_rounds)

    with (
        httpx.Client() as raw,
        FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client,
    ):
        loopback = time_edits(raw, client, base_url + EDIT_PATH)
        answer = raw.post(
            base_url + EDIT_PATH,
            json={**body, "image": {"image": "https://example.com/x.png"}},
            headers=headers,
        )
        answer.raise_for_status()

    def replay(request: httpx.Request) -> httpx.Response:
        request.read()  # both sides produce the whole body, as they would on the wire
        return httpx.Response(200, content=answer.content, headers=answer.headers)

    fake_url = "http://friendli.bench.invalid"
    with (
        httpx.Client(transport=httpx.MockTransport(replay)) as raw,
        httpx.Client(transport=httpx.MockTransport(replay)) as ours,
        FriendliImages(token=TOKEN, base_url=fake_url, max_retries=0, http_client=ours) as client,
    ):
        in_memory = time_edits(raw, client, fake_url + EDIT_PATH)
    figures = [
        Figure(
            key=key,
            title=f"edit() per call, median; {len(data) / MIB:.1f} MiB image as bytes; {where}",
            baseline_label="httpx post + json()",
            baseline=median(raw_times) * 1000,
            candidate_label="FriendliImages.edit",
            candidate=median(our_times) * 1000,
            unit="ms",
            target=target,
            required=target is not None,
            samples=settings.edit_rounds,
            details={
                "image_bytes": len(data),
                "baseline_ms": _spread(raw_times, 1000),
                "candidate_ms": _spread(our_times, 1000),
                "overhead_us": (median(our_times) - median(raw_times)) * 1e6,
            },
        )
        for key, where, (raw_times, our_times), target in (
            ("edit_per_call", "loopback test server", loopback, 1.15),
            ("edit_per_call_in_memory", "in-memory transport: client CPU only", in_memory, None),
        )
    ]
    path = _control_image(workdir, settings.control_image_side)
    size = path.stat().st_size
    cases = ["edit-facade", "edit-httpx-json"]
    runs: dict[str, list[int]] = {case: [] for case in cases}
    _log(f"edit memory: {settings.memory_runs} fresh process(es) per case, {size / MIB:.1f} MiB")
    for run in range(settings.memory_runs):
        for offset in range(len(cases)):
            case = cases[(run + offset) % len(cases)]
            runs[case].append(_memory_run(case, base_url, path)["increase"])
    for key, case, label, target in (
        ("edit_memory", "edit-facade", "FriendliImages.edit", 0.2),
        ("edit_memory_httpx_json", "edit-httpx-json", "raw httpx json= (reference)", None),
    ):
        figures.append(
            Figure(
                key=key,
                title=f"peak RSS increase, {size / MIB:.0f} MiB image to edit from a file",
                baseline_label="file size",
                baseline=size / MIB,
                candidate_label=label,
                candidate=median(runs[case]) / MIB,
                unit="MiB",
                target=target,
                required=target is not None,
                samples=len(runs[case]),
                details={"file_bytes": size, "increase_bytes": runs[case]},
            )
        )
    return figures


# -- decoding and saving large base64 results ---------------------------------------------


def _capture_b64_response(base_url: str) -> bytes:
    """One JSON response holding four of the server's base64 PNGs (seeds 1 to 4)."""
    items = []
    with httpx.Client(timeout=120) as raw:
        for seed in range(1, RESULT_IMAGES + 1):
            body = {**_url_body(), "response_format": "png", "seed": seed}
            response = raw.post(base_url + GENERATION_PATH, json=body, headers=_headers())
            response.raise_for_status()
            items.extend(response.json()["data"])
    return json.dumps({"data": items}).encode()


def bench_decode_save(base_url: str, settings: Settings, workdir: Path) -> list[Figure]:
    payload = _capture_b64_response(base_url)
    memory = _b64_memory(payload, settings, workdir)
    image_bytes = [len(base64.b64decode(item["b64_json"])) for item in json.loads(payload)["data"]]

    def replay(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload, headers={"Content-Type": "application/json"})

    fake_url = "http://friendli.bench.invalid"
    with (
        httpx.Client(transport=httpx.MockTransport(replay)) as raw,
        httpx.Client(transport=httpx.MockTransport(replay)) as ours,
        FriendliImages(token=TOKEN, base_url=fake_url, max_retries=0, http_client=ours) as client,
    ):

        def baseline(out: Path) -> None:
            out.mkdir()
            data = raw.post(fake_url + GENERATION_PATH, json=_url_body(), headers=_headers())
            for index, item in enumerate(data.json()["data"]):
                (out / f"image-{index}.png").write_bytes(base64.b64decode(item["b64_json"]))

        def candidate(out: Path) -> None:
            client.generate(PROMPT, model=MODEL, response_format="png").save(out)

        sides = [baseline, candidate]
        times: list[list[float]] = [[], []]

        def measure(index: int, out: Path) -> None:
            times[index].append(_timed(functools.partial(sides[index], out)))
            sizes = sorted(path.stat().st_size for path in out.iterdir())
            if sizes != sorted(image_bytes):
                raise RuntimeError(f"{out} holds files of {sizes} bytes, expected {image_bytes}")
            shutil.rmtree(out)

        measure(0, workdir / "warm-up-baseline")
        measure(1, workdir / "warm-up-client")
        times = [[], []]
        _log(f"decode+save: {settings.decode_reps} rounds of {RESULT_IMAGES} images")
        for round_ in range(settings.decode_reps):
            for index in (0, 1) if round_ % 2 == 0 else (1, 0):
                measure(index, workdir / f"round-{round_}-{index}")
    raw_times, our_times = times
    side = settings.decode_image_side
    mean_mib = sum(image_bytes) / len(image_bytes) / MIB
    title = f"decode + save {RESULT_IMAGES} x {mean_mib:.1f} MiB b64 images ({side}x{side})"
    timed = Figure(
        key="decode_save",
        title=title,
        baseline_label="b64decode + write_bytes",
        baseline=median(raw_times) * 1000,
        candidate_label="generate + ImageResult.save",
        candidate=median(our_times) * 1000,
        unit="ms",
        target=1.5,
        samples=settings.decode_reps,
        details={
            "response_bytes": len(payload),
            "image_bytes": image_bytes,
            "baseline_ms": _spread(raw_times, 1000),
            "candidate_ms": _spread(our_times, 1000),
            "timer_covers": "request through an in-memory transport replaying the server's "
            "response, JSON parse, base64 decode, files written and closed",
        },
    )
    raw_peaks, our_peaks = memory["b64-httpx"], memory["b64-facade"]
    peak = Figure(
        key="decode_save_memory",
        title=f"peak RSS increase, {title}",
        baseline_label="raw httpx json() + b64decode",
        baseline=median(raw_peaks) / MIB,
        candidate_label="generate + ImageResult.save",
        candidate=median(our_peaks) / MIB,
        unit="MiB",
        target=None,
        required=False,
        samples=len(our_peaks),
        details={
            "response_bytes": len(payload),
            "baseline_increase_bytes": raw_peaks,
            "candidate_increase_bytes": our_peaks,
        },
    )
    return [timed, peak]


def _b64_memory(payload: bytes, settings: Settings, workdir: Path) -> dict[str, list[int]]:
    """Peak RSS increase of handling ``payload``, per case, each run in a fresh process."""
    path = workdir / "b64-response.json"
    path.write_bytes(payload)
    cases = ["b64-facade", "b64-httpx"]
    peaks: dict[str, list[int]] = {case: [] for case in cases}
    _log(f"decode+save memory: {settings.memory_runs} fresh process(es) per case")
    for run in range(settings.memory_runs):
        for offset in range(len(cases)):
            case = cases[(run + offset) % len(cases)]
            peaks[case].append(_memory_run(case, None, path)["increase"])
    path.unlink()
    return peaks


# -- batches -------------------------------------------------------------------------------


def bench_batch(base_url: str, settings: Settings) -> list[Figure]:
    url = base_url + GENERATION_PATH
    ideal = BATCH_N / BATCH_CONCURRENCY * BATCH_LATENCY
    loop = asyncio.new_event_loop()
    try:
        with (
            httpx.Client() as raw,
            ThreadPoolExecutor(BATCH_CONCURRENCY) as pool,
            FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client,
        ):
            aclient = AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0)
            araw = httpx.AsyncClient()

            def run_sync(n: int) -> None:
                result = client.generate(
                    PROMPT, model=MODEL, response_format="url", n=n, concurrency=BATCH_CONCURRENCY
                )
                if len(result) != n or result.errors:
                    raise RuntimeError(f"batch returned {len(result)} images, {result.errors}")

            def run_async(n: int) -> None:
                coroutine = aclient.generate(
                    PROMPT, model=MODEL, response_format="url", n=n, concurrency=BATCH_CONCURRENCY
                )
                result = loop.run_until_complete(coroutine)
                if len(result) != n or result.errors:
                    raise RuntimeError(f"batch returned {len(result)} images, {result.errors}")

            def run_raw(n: int) -> None:
                def one(_: int) -> object:
                    response = raw.post(url, json=_url_body(), headers=_headers())
                    response.raise_for_status()
                    return response.json()

                list(pool.map(one, range(n)))

            async def araw_batch(n: int) -> None:
                slots = asyncio.Semaphore(BATCH_CONCURRENCY)

                async def one() -> object:
                    async with slots:
                        response = await araw.post(url, json=_url_body(), headers=_headers())
                    response.raise_for_status()
                    return response.json()

                await asyncio.gather(*(one() for _ in range(n)))

            def run_raw_async(n: int) -> None:
                loop.run_until_complete(araw_batch(n))

            runners = [run_sync, run_async, run_raw, run_raw_async]
            for runner in runners:  # opens BATCH_CONCURRENCY connections in each pool
                runner(BATCH_CONCURRENCY)
            _log(f"batch: {settings.batch_reps} round(s) of n={BATCH_N}, {BATCH_LATENCY}s latency")
            sync_t, async_t, raw_t, raw_async_t = _alternate(
                [functools.partial(runner, BATCH_N) for runner in runners], settings.batch_reps
            )
            loop.run_until_complete(aclient.aclose())
            loop.run_until_complete(araw.aclose())
    finally:
        loop.close()
    title = f"n={BATCH_N}, concurrency {BATCH_CONCURRENCY}, {BATCH_LATENCY * 1000:.0f} ms latency"
    rows = [
        ("batch", "FriendliImages.generate", sync_t, 1.15, True),
        ("batch_async", "AsyncFriendliImages.generate", async_t, 1.15, False),
        ("batch_httpx_threads", "raw httpx, 8 threads (reference)", raw_t, None, False),
        ("batch_httpx_async", "raw httpx.AsyncClient (reference)", raw_async_t, None, False),
    ]
    return [
        Figure(
            key=key,
            title=title,
            baseline_label=f"ideal {BATCH_N // BATCH_CONCURRENCY} x {BATCH_LATENCY * 1000:.0f} ms",
            baseline=ideal * 1000,
            candidate_label=label,
            candidate=median(times) * 1000,
            unit="ms",
            target=target,
            required=required,
            samples=len(times),
            details={"wall_ms": [t * 1000 for t in times]},
        )
        for key, label, times, target, required in rows
    ]


# -- bulk jobs (bench/bulk.py) ---------------------------------------------------------------


def bench_bulk(groups: Sequence[str], settings: Settings) -> list[Figure]:
    figures: list[Figure] = []
    if "bulk_throughput" in groups:
        times = bulk.throughput(settings.bulk_jobs, settings.bulk_reps, _log)
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
        peaks = bulk.memory(*settings.bulk_memory_jobs, settings.bulk_generate_n, _log)
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
        seen = bulk.connections(settings.connection_requests, settings.connection_levels, _log)
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
        run = bulk.adaptive(settings.adaptive_requests, 16, settings.adaptive_after, _log)
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


# -- report --------------------------------------------------------------------------------


def _format_value(value: float, unit: str) -> str:
    if unit == "ms" and value < 10:
        return f"{value:.3f} ms"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.1f} {unit}"


def render_table(report: dict[str, Any], figures: Sequence[Figure]) -> str:
    machine = report["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v is not None)
    missing = [k for k, v in report["versions"].items() if v is None]
    lines = [
        f"friendli-images benchmarks ({'quick' if report['quick'] else 'full'} run, "
        f"{report['created']})",
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}",
        f"python:  {machine['python_implementation']} {machine['python']}",
        f"libs:    {libs}" + (f" (not installed: {', '.join(missing)})" if missing else ""),
        f"commit:  {report['git']['commit']}" + (" (dirty)" if report["git"]["dirty"] else ""),
        "",
    ]
    header = ("figure", "candidate", "baseline", "ratio", "target", "")
    rows = [header]
    for figure in figures:
        verdict = {True: "met", False: "MISSED", None: "reference"}[figure.met]
        target = f"<= {figure.target:g}x" if figure.target is not None else "-"
        rows.append(
            (
                figure.key,
                f"{figure.candidate_label}: {_format_value(figure.candidate, figure.unit)}",
                f"{figure.baseline_label}: {_format_value(figure.baseline, figure.unit)}",
                f"{figure.ratio:.2f}x",
                target,
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    width = max(len(figure.key) for figure in figures)
    lines.extend(f"{f.key.ljust(width)}  {f.title} ({f.samples} samples)" for f in figures)
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark friendli-images against raw httpx in the same run."
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples, smaller payloads")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default: {DEFAULT_JSON}")
    parser.add_argument(
        "--only",
        action="append",
        choices=FIGURE_GROUPS,
        help="measure only this figure (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings.full()
    started = time.perf_counter()
    report: dict[str, Any] = {
        "schema": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "machine": machine_info(),
        "versions": versions(),
        "git": git_state(),
        "settings": asdict(settings),
    }
    figures: list[Figure] = []
    groups = args.only or list(FIGURE_GROUPS)
    report["figure_groups"] = groups
    if "import" in groups:  # first, while no server is running
        figures.append(bench_import(settings))
    side = settings.decode_image_side
    specs = {
        "fast": (0.0, SMALL_IMAGE),
        "slow": (BATCH_LATENCY, SMALL_IMAGE),
        "large": (0.0, (side, side)),
    }
    with (
        tempfile.TemporaryDirectory(prefix="friendli-bench-") as tmp,
        ServerProcess(specs) as servers,
    ):
        workdir = Path(tmp)
        if "per_call" in groups:
            figures.extend(bench_per_call(servers.urls["fast"], settings))
        if "control_image_memory" in groups:
            figures.extend(bench_memory(servers.urls["fast"], settings, workdir))
        if "decode_save" in groups:
            figures.extend(bench_decode_save(servers.urls["large"], settings, workdir))
        if "batch" in groups:
            figures.extend(bench_batch(servers.urls["slow"], settings))
        if "edit" in groups:
            figures.extend(bench_edit(servers.urls["fast"], settings, workdir))
    figures.extend(bench_bulk(groups, settings))
    figures.sort(key=lambda f: next(i for i, g in enumerate(FIGURE_GROUPS) if f.key.startswith(g)))
    report["duration_s"] = round(time.perf_counter() - started, 1)
    report["figures"] = [figure.to_json() for figure in figures]
    print(render_table(report, figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.json} ({report['duration_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
