"""CPU per png image saved (issue 25): the library's engines and ``run`` against raw httpx.

    python -m bench.cpu_per_image [--jobs 10000] [--concurrency 64] [--reps 3] [--quick]

Against ``bench._bulk_server`` (its own process, no latency, one 64x64 PNG per answer),
``jobs`` png requests, each image decoded and written to its own file, by six sides:

floor
    No httpx, no server: ``base64.b64decode`` of the server's image (the same bytes) and
    ``Path.write_bytes``, ``jobs`` times. What saving costs at the least.
raw_threads
    Raw httpx on threads: a ``ThreadPoolExecutor`` of ``concurrency`` workers sharing one
    ``httpx.Client`` whose pool holds (and keeps alive) ``concurrency`` connections; each
    job POSTs, parses the JSON, decodes the base64 and writes the file.
raw_async
    Raw ``httpx.AsyncClient`` (the same pool) and a semaphore of ``concurrency``: the same.
sync
    ``FriendliImages.generate_many(requests, concurrency=...)``, each outcome's
    ``result.save(out, stem)`` in the loop over the outcomes.
async
    ``AsyncFriendliImages.generate_many``, each ``await result.asave(out, stem)``.
run
    ``python -m friendli_images run JOBS --format png --concurrency C`` in a process of its
    own (its start, interpreter and imports, is inside; ``run_startup`` reports a run of
    one job apart).

CPU is user + system time of this process (every thread) and of the ended children (the
``run`` process), read around each run; the server's CPU is read apart from ``/proc``.
Every side runs once per repetition, the order reversed on every other repetition.

cpu_per_image_sync, _async
    CPU ms per image of the engine against raw httpx on the same path (threads, async).
    Goal <= 1.1.
cpu_per_image_run
    ``run`` against the cheaper raw path (by median). Goal <= 1.1.
cpu_per_image_httpx_threads, _httpx_async
    References: each raw path against the floor.

Each figure's ratio is the median of ours over the median of raw; the details carry the
ratio of every repetition (its range), and the server's CPU per image on both sides.
Nothing is asserted: ``tests/bench/test_cpu_per_image_bench.py`` only checks that every
figure is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/cpu_per_image.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from friendli_images import AsyncFriendliImages, FriendliImages

from bench._common import (
    GENERATION_PATH,
    MODEL,
    PROMPT,
    TOKEN,
    Case,
    Figure,
    Settings,
    auth_headers,
    log,
    machine_info,
    median,
    repeat_cases,
    run_cli,
    write_jobs,
)
from bench.bulk import bulk_server_process

JOBS = 10_000
CONCURRENCY = 64
REPS = 3
QUICK = (40, 8, 1)
"""``--quick``: jobs, concurrency, repetitions."""
GOAL = 1.1
RAW_TIMEOUT = httpx.Timeout(300.0, connect=10.0, pool=30.0)
"""The raw clients' timeouts: the library's defaults (``friendli_images._config``)."""
SIDES = ("floor", "raw_threads", "raw_async", "sync", "async", "run")


def _body(index: int) -> dict[str, Any]:
    return {"model": MODEL, "prompt": PROMPT, "seed": index, "response_format": "png"}


def _requests(count: int) -> Iterator[Mapping[str, Any]]:
    """``generate_many``'s requests: the same bodies as the raw sides send."""
    for index in range(count):
        yield {"prompt": PROMPT, "model": MODEL, "seed": index, "response_format": "png"}


def _limits(concurrency: int) -> httpx.Limits:
    return httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)


def floor(b64: str, out: Path, count: int, _concurrency: int) -> None:
    out.mkdir(parents=True)
    for index in range(count):
        (out / f"image-{index}.png").write_bytes(base64.b64decode(b64))


def raw_threads(base_url: str, out: Path, count: int, concurrency: int) -> None:
    out.mkdir(parents=True)
    with (
        httpx.Client(
            base_url=base_url,
            headers=auth_headers(),
            timeout=RAW_TIMEOUT,
            limits=_limits(concurrency),
        ) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):

        def one(index: int) -> None:
            response = client.post(GENERATION_PATH, json=_body(index))
            response.raise_for_status()
            data = base64.b64decode(response.json()["data"][0]["b64_json"])
            (out / f"image-{index}.png").write_bytes(data)

        for _ in pool.map(one, range(count)):
            pass


async def _raw_async(base_url: str, out: Path, count: int, concurrency: int) -> None:
    out.mkdir(parents=True)
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, headers=auth_headers(), timeout=RAW_TIMEOUT, limits=_limits(concurrency)
    ) as client:

        async def one(index: int) -> None:
            async with slots:
                response = await client.post(GENERATION_PATH, json=_body(index))
                response.raise_for_status()
                data = base64.b64decode(response.json()["data"][0]["b64_json"])
                (out / f"image-{index}.png").write_bytes(data)

        await asyncio.gather(*(one(index) for index in range(count)))


def raw_async(base_url: str, out: Path, count: int, concurrency: int) -> None:
    asyncio.run(_raw_async(base_url, out, count, concurrency))


def sync_engine(base_url: str, out: Path, count: int, concurrency: int) -> None:
    with FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        for outcome in client.generate_many(_requests(count), concurrency=concurrency):
            outcome.unwrap().save(out, f"image-{outcome.index}")


async def _async_engine(base_url: str, out: Path, count: int, concurrency: int) -> None:
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        async for outcome in client.generate_many(_requests(count), concurrency=concurrency):
            await outcome.unwrap().asave(out, f"image-{outcome.index}")


def async_engine(base_url: str, out: Path, count: int, concurrency: int) -> None:
    asyncio.run(_async_engine(base_url, out, count, concurrency))


def _run_side(base_url: str, jobs: Path, out: Path, count: int, concurrency: int) -> None:
    done = run_cli(base_url, jobs, out, concurrency)
    if done["images"] != count:
        raise RuntimeError(f"run wrote {done['images']} of {count} images")


def _check_written(out: Path, count: int) -> None:
    images = out / "images" if (out / "images").is_dir() else out
    written = sum(1 for _ in images.iterdir())
    if written != count:
        raise RuntimeError(f"{written} of {count} images written in {out}")


def measure(
    jobs: int, concurrency: int, reps: int, log: Callable[[str], None] = log
) -> dict[str, Any]:
    """CPU seconds of every side, ``reps`` interleaved repetitions (``repeat_cases``)."""
    with (
        bulk_server_process(latency=0.0) as server,
        tempfile.TemporaryDirectory(prefix="cpu-per-image-") as tmp,
    ):
        workdir = Path(tmp)
        jobs_file = write_jobs(workdir / "jobs.jsonl", jobs)
        answer = httpx.post(server.url + GENERATION_PATH, json=_body(0), headers=auth_headers())
        answer.raise_for_status()
        b64: str = answer.json()["data"][0]["b64_json"]
        runs: dict[str, Callable[[Path, int, int], None]] = {
            "floor": functools.partial(floor, b64),
            "raw_threads": functools.partial(raw_threads, server.url),
            "raw_async": functools.partial(raw_async, server.url),
            "sync": functools.partial(sync_engine, server.url),
            "async": functools.partial(async_engine, server.url),
        }
        warm = workdir / "warm-up"
        for name, run in runs.items():  # lazy imports, first connections: not measured
            run(warm / name, concurrency, concurrency)
        shutil.rmtree(warm)
        cases: list[Case] = [
            (name, functools.partial(run, workdir / name, jobs, concurrency))
            for name, run in runs.items()
        ]
        cases.append(
            (
                "run",
                functools.partial(
                    _run_side, server.url, jobs_file, workdir / "run", jobs, concurrency
                ),
            )
        )

        def after(key: str) -> None:
            _check_written(workdir / key, jobs)
            shutil.rmtree(workdir / key)

        one_job = write_jobs(workdir / "one.jsonl", 1)
        startup = run_cli(server.url, one_job, workdir / "run-one", 1)
        result = repeat_cases(
            server,
            cases,
            reps,
            stat="requests",
            name="cpu",
            log=log,
            after=after,
        )
    return {
        "jobs": jobs,
        "concurrency": concurrency,
        "reps": reps,
        "image_bytes": len(base64.b64decode(b64)),
        "run_startup": startup,
        **result,
    }


def _per_image_ms(run: dict[str, Any], side: str, field: str = "cpu_seconds") -> list[float]:
    return [seconds / run["jobs"] * 1000 for seconds in run[field][side]]


def _figure(
    run: dict[str, Any],
    key: str,
    raw: str,
    ours: str,
    target: float | None,
) -> Figure:
    raw_ms, our_ms = _per_image_ms(run, raw), _per_image_ms(run, ours)
    ratios = [mine / theirs for mine, theirs in zip(our_ms, raw_ms, strict=True)]
    return Figure(
        key=key,
        title=(
            f"CPU per png image saved, {run['jobs']} jobs, concurrency {run['concurrency']}, "
            "no latency"
        ),
        baseline_label=LABELS[raw],
        baseline=median(raw_ms),
        candidate_label=LABELS[ours] + ("" if target is not None else " (reference)"),
        candidate=median(our_ms),
        unit="ms",
        target=target,
        required=target is not None,
        samples=len(ratios),
        details={
            "baseline_side": raw,
            "candidate_side": ours,
            "baseline_ms": raw_ms,
            "candidate_ms": our_ms,
            "ratios": ratios,
            "ratio_range": [min(ratios), max(ratios)],
            "server_cpu_ms_per_image": {
                side: median(_per_image_ms(run, side, "server_cpu_by_case")) for side in (raw, ours)
            },
            "requests": {side: run["requests"][side] for side in (raw, ours)},
        },
    )


LABELS = {
    "floor": "floor (decode + write)",
    "raw_threads": "raw httpx threads",
    "raw_async": "raw httpx async",
    "sync": "generate_many + save",
    "async": "async generate_many + asave",
    "run": "friendli-images run",
}


def figures(run: dict[str, Any]) -> list[Figure]:
    """The rows: each engine against raw httpx on its path, ``run`` against the cheaper one."""
    threads = median(_per_image_ms(run, "raw_threads"))
    cheaper = "raw_threads" if threads <= median(_per_image_ms(run, "raw_async")) else "raw_async"
    rows = [
        ("cpu_per_image_sync", "raw_threads", "sync", GOAL),
        ("cpu_per_image_async", "raw_async", "async", GOAL),
        ("cpu_per_image_run", cheaper, "run", GOAL),
        ("cpu_per_image_httpx_threads", "floor", "raw_threads", None),
        ("cpu_per_image_httpx_async", "floor", "raw_async", None),
    ]
    made = [_figure(run, key, raw, ours, target) for key, raw, ours, target in rows]
    startup_ms = run["run_startup"]["cpu_seconds"] / run["jobs"] * 1000
    for row in made:
        if row.details["candidate_side"] == "run":  # what its start costs, spread over the jobs
            row.details["startup_ms_per_image"] = startup_ms
            row.details["candidate_ms_without_startup"] = row.candidate - startup_ms
    return made


def bench_cpu_per_image(settings: Settings) -> list[Figure]:
    """The figures of ``bench/run.py``'s ``cpu_per_image`` group."""
    log(f"cpu per image: {settings.cpu_reps} round(s) of {settings.cpu_jobs} png jobs, 6 sides")
    return figures(measure(settings.cpu_jobs, CONCURRENCY, settings.cpu_reps))


def render(run: dict[str, Any], rows: list[Figure]) -> str:
    lines = [
        "| figure | raw | ours | ratio | range | server CPU (raw / ours) | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        low, high = row.details["ratio_range"]
        server = row.details["server_cpu_ms_per_image"]
        goal = (
            "-" if row.target is None else f"<= {row.target:g}" + ("" if row.met else " (missed)")
        )
        lines.append(
            f"| {row.key} | {row.baseline_label} {row.baseline:.3f} ms "
            f"| {row.candidate_label} {row.candidate:.3f} ms | {row.ratio:.2f}x "
            f"| {low:.2f}-{high:.2f} | {server[row.details['baseline_side']]:.3f} / "
            f"{server[row.details['candidate_side']]:.3f} ms | {goal} |"
        )
    startup = run["run_startup"]
    [cli] = [row for row in rows if row.details["candidate_side"] == "run"]
    without = cli.details["candidate_ms_without_startup"]
    lines += [
        "",
        f"run start-up (a run of one job): {startup['cpu_seconds'] * 1000:.0f} ms CPU, "
        f"{cli.details['startup_ms_per_image']:.3f} ms per image at {run['jobs']} jobs; "
        f"run without it: {without:.3f} ms per image, {without / cli.baseline:.2f}x",
        f"server CPU: {run['server_cpu_seconds']:.2f} s over {run['wall_seconds']:.1f} s "
        f"({run['server_cpu_seconds'] / run['wall_seconds']:.2f} of a core)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--reps", type=int, default=REPS)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 jobs, c=8, 1 rep")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    jobs, concurrency, reps = QUICK if args.quick else (args.jobs, args.concurrency, args.reps)
    run = measure(jobs, concurrency, reps)
    rows = figures(run)
    print(render(run, rows))
    if args.json:
        report = {
            "quick": args.quick,
            "machine": machine_info(),
            "run": run,
            "figures": {row.key: row.to_json() for row in rows},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
