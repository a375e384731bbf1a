"""The url-batch figures (issue 25): ``run --format url`` against raw httpx, and connections.

    python -m bench.url_batches [--jobs 1000] [--reps 3] [--levels 64,256,1024]

Against ``bench._bulk_server`` (its own process, 50 ms per generation, url results
served by the same server): ``arun_jobs`` (the call behind ``friendli-images run``) over
``jobs`` jobs with ``response_format="url"``, each image downloaded and written, against a
raw ``httpx.AsyncClient`` + semaphore doing POST + GET + write. Per concurrency:

url_batch_<c>
    Library wall time over raw wall time, same repetition (medians, range). Goal <= 1.1.
url_connections_<c>
    TCP connections the server accepted during the library run (POSTs and downloads);
    the raw client's count is the baseline column.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from friendli_images import AsyncFriendliImages, arun_jobs

from bench._common import MODEL, PROMPT, TOKEN, median
from bench.bulk import GENERATION_PATH, bulk_server_process, reset, server_stats

LEVELS = (64, 256, 1024)
JOBS = 1000


def _write_jobs(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for index in range(count):
            file.write(json.dumps({"id": f"job-{index}", "prompt": PROMPT, "seed": index}) + "\n")
    return path


async def _library(base_url: str, jobs: Path, out: Path, *, concurrency: int) -> None:
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        summary = await arun_jobs(
            jobs,
            out,
            client=client,
            defaults={"model": MODEL, "response_format": "url"},
            concurrency=concurrency,
        )
    if summary.done != summary.total:
        raise RuntimeError(f"url run incomplete: {summary}")


async def _raw(base_url: str, count: int, out: Path, *, concurrency: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    slots = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def one(index: int) -> None:
            async with slots:
                body = {"model": MODEL, "prompt": PROMPT, "seed": index, "response_format": "url"}
                response = await client.post(GENERATION_PATH, json=body, headers=headers)
                response.raise_for_status()
                image = await client.get(response.json()["data"][0]["url"])
                image.raise_for_status()
                (out / f"image-{index}.png").write_bytes(image.content)

        await asyncio.gather(*(one(index) for index in range(count)))


def measure(
    jobs_count: int, reps: int, levels: Sequence[int], log: Callable[[str], None]
) -> dict[str, Any]:
    seconds: dict[str, list[float]] = {}
    connections: dict[str, list[int]] = {}
    with (
        bulk_server_process() as server,
        tempfile.TemporaryDirectory(prefix="url-batches-") as tmp,
    ):
        workdir = Path(tmp)
        jobs = _write_jobs(workdir / "jobs.jsonl", jobs_count)
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        for rep in range(reps):
            for level in levels:
                cases: list[tuple[str, Callable[[Path], Any]]] = [
                    ("library", functools.partial(_library, server.url, jobs, concurrency=level)),
                    ("raw", functools.partial(_raw, server.url, jobs_count, concurrency=level)),
                ]
                for name, case in cases if rep % 2 == 0 else reversed(cases):
                    key = f"{name}_{level}"
                    reset(server.url)
                    out = workdir / f"{key}-{rep}"
                    start = time.perf_counter()
                    asyncio.run(case(out))
                    seconds.setdefault(key, []).append(time.perf_counter() - start)
                    connections.setdefault(key, []).append(server_stats(server.url)["connections"])
                    log(f"url {key}: {seconds[key][-1]:.2f} s, {connections[key][-1]} connections")
        wall = time.perf_counter() - started
        server_cpu = server.cpu_seconds() - cpu_before
    return {
        "jobs": jobs_count,
        "seconds": seconds,
        "connections": connections,
        "server_cpu_seconds": server_cpu,
        "wall_seconds": wall,
    }


def figures(run: dict[str, Any], levels: Sequence[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for level in levels:
        own, raw = run["seconds"][f"library_{level}"], run["seconds"][f"raw_{level}"]
        ratios = [mine / theirs for mine, theirs in zip(own, raw, strict=True)]
        rows.append(
            {
                "figure": f"url_batch_{level}",
                "baseline": f"raw httpx {median(raw):.2f} s",
                "value": median(ratios),
                "range": (min(ratios), max(ratios)),
                "unit": f"x ({median(own):.2f} s)",
                "goal": "<= 1.1",
                "holds": median(ratios) <= 1.1,
            }
        )
        mine_c = run["connections"][f"library_{level}"]
        raw_c = run["connections"][f"raw_{level}"]
        rows.append(
            {
                "figure": f"url_connections_{level}",
                "baseline": f"raw httpx {median(raw_c):.0f}",
                "value": median(mine_c),
                "range": (min(mine_c), max(mine_c)),
                "unit": "connections",
                "goal": f"<= {2 * level}",
                "holds": median(mine_c) <= 2 * level,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    from bench.throttle import report

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]
    run = measure(args.jobs, args.reps, levels, lambda message: print(message, flush=True))
    rows = figures(run, levels)
    report(run, rows, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
