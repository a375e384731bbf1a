"""The url-batch figures (issue 25): ``run --format url`` against raw httpx, and connections.

    python -m bench.url_batches [--jobs 1000] [--reps 3] [--levels 64,256,1024]

Against ``bench._bulk_server`` (its own process, 50 ms per generation, url results
served by the same server): ``run_jobs`` (the call behind ``friendli-images run``) over
``jobs`` jobs with ``response_format="url"``, each image downloaded and written, against a
raw ``httpx.AsyncClient`` + semaphore doing POST + GET + write (its pool sized to the
concurrency, every connection kept alive, the library's timeouts). Per concurrency:

url_batch_<c>
    Library wall time over raw wall time, same repetition (medians, range). Goal <= 1.1.
url_cpu_<c>
    The same for this process's CPU time (which other jobs on a shared machine disturb
    less than the wall time).
url_connections_<c>
    TCP connections the server accepted during the library run (POSTs and downloads);
    the raw client's count is the baseline column.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench._common import MODEL, PROMPT, TOKEN, Case, median, repeat_cases, write_jobs
from bench.bulk import GENERATION_PATH, bulk_server_process, library_jobs_sync

LEVELS = (64, 256, 1024)
JOBS = 1000
RAW_TIMEOUT = httpx.Timeout(300.0, connect=10.0, pool=30.0)
"""The raw client's timeouts: the library's defaults (``friendli_images._config``)."""


async def _raw(base_url: str, count: int, out: Path, *, concurrency: int) -> None:
    """POST, GET the url, write: ``concurrency`` at once on one client with as many connections.

    httpx's default pool (100 connections, 20 kept alive) would make every request above
    100 in flight wait for a connection (``PoolTimeout`` at 1024) and open a new one for
    most requests above 20; a user running ``concurrency`` requests at once sizes the pool
    to it, every connection kept alive.
    """
    out.mkdir(parents=True, exist_ok=True)
    slots = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=RAW_TIMEOUT, limits=limits) as client:

        async def one(index: int) -> None:
            async with slots:
                body = {"model": MODEL, "prompt": PROMPT, "seed": index, "response_format": "url"}
                response = await client.post(GENERATION_PATH, json=body, headers=headers)
                response.raise_for_status()
                image = await client.get(response.json()["data"][0]["url"])
                image.raise_for_status()
                (out / f"image-{index}.png").write_bytes(image.content)

        await asyncio.gather(*(one(index) for index in range(count)))


def _run(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coroutine())


def measure(
    jobs_count: int, reps: int, levels: Sequence[int], log: Callable[[str], None]
) -> dict[str, Any]:
    """Seconds and connections of the library and raw runs at each level, interleaved."""
    with (
        bulk_server_process() as server,
        tempfile.TemporaryDirectory(prefix="url-batches-") as tmp,
    ):
        workdir = Path(tmp)
        jobs = write_jobs(workdir / "jobs.jsonl", jobs_count)
        cases: list[Case] = []
        for level in levels:
            library, raw = f"library_{level}", f"raw_{level}"
            library_run = functools.partial(
                library_jobs_sync, server.url, jobs, workdir / library, level, "url"
            )
            raw_run = functools.partial(
                _raw, server.url, jobs_count, workdir / raw, concurrency=level
            )
            cases += [(library, library_run), (raw, functools.partial(_run, raw_run))]
        run = repeat_cases(
            server,
            cases,
            reps,
            stat="connections",
            name="url",
            log=log,
            after=lambda key: shutil.rmtree(workdir / key),
        )
    return {"jobs": jobs_count, **run}


def figures(run: dict[str, Any], levels: Sequence[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for level in levels:
        for figure, field in (("url_batch", "seconds"), ("url_cpu", "cpu_seconds")):
            own, raw = run[field][f"library_{level}"], run[field][f"raw_{level}"]
            ratios = [mine / theirs for mine, theirs in zip(own, raw, strict=True)]
            what = "" if field == "seconds" else " CPU"
            rows.append(
                {
                    "figure": f"{figure}_{level}",
                    "baseline": f"raw httpx {median(raw):.2f} s{what}",
                    "value": median(ratios),
                    "range": (min(ratios), max(ratios)),
                    "unit": f"x ({median(own):.2f} s{what})",
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
