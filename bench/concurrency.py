"""The ``batch`` figures: ``generate(n=32, concurrency=8)`` against the ideal.

Wall time of ``generate(..., n=32, concurrency=8)`` against a server that takes 200 ms per
generation, against the ideal 4 x 200 ms. Reference rows: the async client, raw httpx on 8
threads, and raw ``httpx.AsyncClient`` with a semaphore of 8. Target <= 1.15.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

import httpx
from friendli_images import AsyncFriendliImages

from bench._common import (
    GENERATION_PATH,
    MODEL,
    PROMPT,
    TOKEN,
    Figure,
    Settings,
    alternate,
    auth_headers,
    log,
    loopback_clients,
    median,
    url_body,
)

BATCH_N = 32
BATCH_CONCURRENCY = 8
BATCH_LATENCY = 0.2


def bench_batch(base_url: str, settings: Settings) -> list[Figure]:
    url = base_url + GENERATION_PATH
    ideal = BATCH_N / BATCH_CONCURRENCY * BATCH_LATENCY
    loop = asyncio.new_event_loop()
    try:
        with (
            loopback_clients(base_url) as (raw, client),
            ThreadPoolExecutor(BATCH_CONCURRENCY) as pool,
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
                    response = raw.post(url, json=url_body(), headers=auth_headers())
                    response.raise_for_status()
                    return response.json()

                list(pool.map(one, range(n)))

            async def araw_batch(n: int) -> None:
                slots = asyncio.Semaphore(BATCH_CONCURRENCY)

                async def one() -> object:
                    async with slots:
                        response = await araw.post(url, json=url_body(), headers=auth_headers())
                    response.raise_for_status()
                    return response.json()

                await asyncio.gather(*(one() for _ in range(n)))

            def run_raw_async(n: int) -> None:
                loop.run_until_complete(araw_batch(n))

            runners = [run_sync, run_async, run_raw, run_raw_async]
            for runner in runners:  # opens BATCH_CONCURRENCY connections in each pool
                runner(BATCH_CONCURRENCY)
            log(f"batch: {settings.batch_reps} round(s) of n={BATCH_N}, {BATCH_LATENCY}s latency")
            sync_t, async_t, raw_t, raw_async_t = alternate(
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
