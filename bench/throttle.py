"""The throttle figures (issue 25): a batch against a server allowing 16 requests in flight.

    python -m bench.throttle [--images 300] [--reps 3] [--ceilings 64,256,1024]

``bench._bulk_server --cap 16 --latency 0.2`` (its own process) answers 429 to any request
arriving while 16 others are being answered. For each path (sync ``FriendliImages``, async
``AsyncFriendliImages``) and ceiling, ``generate(n=images, concurrency=ceiling)``:

throttle_requests_<path>_<ceiling>
    Requests the server received per image (429s included). Goal <= 1.2.
throttle_throughput_<path>_<ceiling>
    Wall time of the same batch at ``concurrency=16`` divided by this batch's wall time
    (throughput relative to a caller who knew the server's capacity). Goal >= 0.95.

Runs of every ceiling alternate within a repetition; figures are medians with ranges.
The server's CPU over the whole run is reported, to show it was not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from friendli_images import AsyncFriendliImages, FriendliImages

from bench._common import MODEL, PROMPT, TOKEN, Case, median, repeat_cases
from bench.bulk import bulk_server_process

CAP = 16
LATENCY = 0.2
IMAGES = 300
CEILINGS = (64, 256, 1024)


def _sync_run(base_url: str, images: int, concurrency: int) -> None:
    with FriendliImages(token=TOKEN, base_url=base_url) as client:
        result = client.generate(
            PROMPT, model=MODEL, n=images, concurrency=concurrency, response_format="png"
        )
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} failed: {result.errors[0].error}")


async def _async_batch(base_url: str, images: int, concurrency: int) -> None:
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url) as client:
        result = await client.generate(
            PROMPT, model=MODEL, n=images, concurrency=concurrency, response_format="png"
        )
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} failed: {result.errors[0].error}")


def _async_run(base_url: str, images: int, concurrency: int) -> None:
    asyncio.run(_async_batch(base_url, images, concurrency))


RUNS: dict[str, Callable[[str, int, int], None]] = {"sync": _sync_run, "async": _async_run}


def measure(
    images: int, reps: int, ceilings: Sequence[int], log: Callable[[str], None]
) -> dict[str, Any]:
    """Seconds and requests of every (path, concurrency) run, ``reps`` interleaved rounds."""
    levels = (CAP, *ceilings)
    with bulk_server_process(latency=LATENCY, cap=CAP) as server:
        cases: list[Case] = [
            (f"{path}_{level}", functools.partial(RUNS[path], server.url, images, level))
            for path in RUNS
            for level in levels
        ]
        run = repeat_cases(server, cases, reps, stat="requests", name="throttle", log=log)
    return {"images": images, **run}


def figures(run: dict[str, Any], ceilings: Sequence[int]) -> list[dict[str, Any]]:
    """Rows of the table: requests per image and throughput against concurrency 16."""
    rows: list[dict[str, Any]] = []
    images = run["images"]
    for path in RUNS:
        reference = run["seconds"][f"{path}_{CAP}"]
        for level in ceilings:
            key = f"{path}_{level}"
            per_image = [count / images for count in run["requests"][key]]
            ratios = [ref / own for ref, own in zip(reference, run["seconds"][key], strict=True)]
            rows.append(
                {
                    "figure": f"throttle_requests_{key}",
                    "baseline": f"1 request per image (c={CAP}: "
                    f"{median(run['requests'][f'{path}_{CAP}']) / images:.2f})",
                    "value": median(per_image),
                    "range": (min(per_image), max(per_image)),
                    "unit": "requests/image",
                    "goal": "<= 1.2",
                    "holds": median(per_image) <= 1.2,
                }
            )
            rows.append(
                {
                    "figure": f"throttle_throughput_{key}",
                    "baseline": f"c={CAP}: {median(reference):.2f} s",
                    "value": median(ratios),
                    "range": (min(ratios), max(ratios)),
                    "unit": f"of c={CAP} ({median(run['seconds'][key]):.2f} s)",
                    "goal": ">= 0.95",
                    "holds": median(ratios) >= 0.95,
                }
            )
    return rows


def render(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| figure | baseline | friendli-images | range | goal |", "|---|---|---|---|---|"]
    for row in rows:
        low, high = row["range"]
        mark = "" if row["holds"] else " (missed)"
        lines.append(
            f"| {row['figure']} | {row['baseline']} | {row['value']:.3f} {row['unit']} "
            f"| {low:.3f}-{high:.3f} | {row['goal']}{mark} |"
        )
    return "\n".join(lines)


def report(run: dict[str, Any], rows: list[dict[str, Any]], json_path: str | None) -> None:
    """Print the table and the server's CPU share; write the run and rows to ``json_path``."""
    print(render(rows))
    print(
        f"server CPU: {run['server_cpu_seconds']:.2f} s over {run['wall_seconds']:.1f} s "
        f"({run['server_cpu_seconds'] / run['wall_seconds']:.2f} of a core)"
    )
    if json_path:
        with open(json_path, "w", encoding="utf-8") as file:
            json.dump({"run": run, "rows": rows}, file, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--ceilings", default=",".join(map(str, CEILINGS)))
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    ceilings = [int(level) for level in args.ceilings.split(",")]
    run = measure(args.images, args.reps, ceilings, lambda message: print(message, flush=True))
    rows = figures(run, ceilings)
    report(run, rows, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
