"""The per-call figures of issue 25: sync and async, url and png, against raw httpx.

    python -m bench.per_call [--calls 600] [--json PATH]

Against ``bench._bulk_server`` (its own process, no latency, one 64x64 PNG per answer, url
results as ``{"url": ...}``), for each path (``FriendliImages`` / ``AsyncFriendliImages``)
and response format: ``generate(prompt, model=..., response_format=...)`` against the same
POST through raw ``httpx.Client`` / ``httpx.AsyncClient`` (``post(..., json=body,
headers=auth).json()``, then ``base64.b64decode`` of each image for png). Calls alternate
(raw, ours, ours, raw, ...) after a warm-up of both connections; each figure is the median
of ours over the median of raw, in wall time and in this thread's CPU time (which other
jobs on a shared machine disturb less), with the interquartile range. Goal <= 1.05.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from friendli_images import AsyncFriendliImages, FriendliImages, ResponseFormat

from bench._common import GENERATION_PATH, MODEL, PROMPT, TOKEN, median
from bench.bulk import bulk_server

CALLS = 600
WARMUP = 50
FORMATS: tuple[ResponseFormat, ...] = ("url", "png")


def _quartiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]


def _time(case: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.thread_time(), time.perf_counter()
    case()
    return time.perf_counter() - wall, time.thread_time() - cpu


def _figure(name: str, raw: Callable[[], object], ours: Callable[[], object], calls: int) -> Any:
    for _ in range(WARMUP):
        raw()
        ours()
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for index in range(calls):
        for side in (0, 1) if index % 2 == 0 else (1, 0):
            wall, cpu = _time(raw if side == 0 else ours)
            walls[side].append(wall)
            cpus[side].append(cpu)
    row: dict[str, Any] = {"figure": f"per_call_{name}", "calls": calls}
    for kind, (raw_times, our_times) in (("wall", walls), ("cpu", cpus)):
        raw_median, our_median = median(raw_times), median(our_times)
        row[kind] = {
            "raw_us": raw_median * 1e6,
            "ours_us": our_median * 1e6,
            "overhead_us": (our_median - raw_median) * 1e6,
            "ratio": our_median / raw_median,
            "raw_iqr_us": [value * 1e6 for value in _quartiles(raw_times)],
            "ours_iqr_us": [value * 1e6 for value in _quartiles(our_times)],
        }
    return row


def measure(calls: int) -> list[dict[str, Any]]:
    """One row per path and format: raw httpx against friendli-images, same server."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    rows: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        with bulk_server(0.0) as base_url:
            url = base_url + GENERATION_PATH
            raw = httpx.Client()
            ours = FriendliImages(token=TOKEN, base_url=base_url, max_retries=0)
            araw = httpx.AsyncClient()
            aours = AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0)

            def raw_sync(response_format: str) -> None:
                body = {"model": MODEL, "prompt": PROMPT, "response_format": response_format}
                answer = raw.post(url, json=body, headers=headers).json()
                if response_format == "png":
                    [base64.b64decode(item["b64_json"]) for item in answer["data"]]

            async def raw_async(response_format: str) -> None:
                body = {"model": MODEL, "prompt": PROMPT, "response_format": response_format}
                answer = (await araw.post(url, json=body, headers=headers)).json()
                if response_format == "png":
                    [base64.b64decode(item["b64_json"]) for item in answer["data"]]

            def ours_sync(response_format: ResponseFormat) -> None:
                ours.generate(PROMPT, model=MODEL, response_format=response_format)

            def run_raw_async(response_format: str) -> None:
                loop.run_until_complete(raw_async(response_format))

            def ours_async(response_format: ResponseFormat) -> None:
                coroutine = aours.generate(PROMPT, model=MODEL, response_format=response_format)
                loop.run_until_complete(coroutine)

            for path, raw_side, our_side in (
                ("sync", raw_sync, ours_sync),
                ("async", run_raw_async, ours_async),
            ):
                for response_format in FORMATS:
                    rows.append(
                        _figure(
                            f"{path}_{response_format}",
                            functools.partial(raw_side, response_format),
                            functools.partial(our_side, response_format),
                            calls,
                        )
                    )
            raw.close()
            ours.close()
            loop.run_until_complete(araw.aclose())
            loop.run_until_complete(aours.aclose())
    finally:
        loop.close()
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'figure':22} {'raw wall':>9} {'ours':>9} {'ratio':>6}   {'raw cpu':>9} {'ours':>9} "
        f"{'ratio':>6}"
    ]
    for row in rows:
        wall, cpu = row["wall"], row["cpu"]
        lines.append(
            f"{row['figure']:22} {wall['raw_us']:7.0f}us {wall['ours_us']:7.0f}us "
            f"{wall['ratio']:5.2f}x   {cpu['raw_us']:7.0f}us {cpu['ours_us']:7.0f}us "
            f"{cpu['ratio']:5.2f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = measure(args.calls)
    print(render(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"rows": rows}, file, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
