"""One bulk memory measurement in a fresh process (run by ``bench/bulk.py``).

    python -m bench._bulk_child MODE BASE_URL COUNT WORKDIR

MODE ``jobs``: ``arun_jobs`` of COUNT png jobs into WORKDIR at concurrency 64;
``generate``: ``AsyncFriendliImages.generate(n=COUNT, concurrency=64, png)`` then
``ImageResult.asave(WORKDIR)``; ``raw``: ``httpx.AsyncClient`` + a semaphore of 64 +
``base64.b64decode`` + a file write per image. Prints ``{"peak": bytes, "seconds": s}``:
the process's peak resident set size (everything: interpreter, imports, work).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from pathlib import Path

from bench._common import MODEL, PROMPT, TOKEN, peak_rss_bytes, write_jobs

CONCURRENCY = 64
GENERATION_PATH = "/dedicated/v1/images/generations"


async def run_jobs(base_url: str, count: int, workdir: Path) -> None:
    from friendli_images import AsyncFriendliImages, arun_jobs

    jobs = write_jobs(workdir / "jobs.jsonl", count)
    async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        summary = await arun_jobs(
            jobs,
            workdir / "out",
            client=client,
            defaults={"model": MODEL, "response_format": "png"},
            concurrency=CONCURRENCY,
        )
    if summary.done != count:
        raise RuntimeError(f"{summary}")


async def run_generate(base_url: str, count: int, workdir: Path) -> None:
    from friendli_images import AsyncFriendliImages

    async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        result = await client.generate(
            PROMPT, model=MODEL, n=count, concurrency=CONCURRENCY, response_format="png"
        )
        await result.asave(workdir)
    if len(result) != count:
        raise RuntimeError(f"{len(result)} images, {result.errors[:3]}")


async def run_raw(base_url: str, count: int, workdir: Path) -> None:
    import httpx

    slots = asyncio.Semaphore(CONCURRENCY)
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
                (workdir / f"image-{index}.png").write_bytes(base64.b64decode(item["b64_json"]))

        await asyncio.gather(*(one(index) for index in range(count)))


def main(argv: list[str] | None = None) -> int:
    mode, base_url, count, workdir = argv or sys.argv[1:]
    runner = {"jobs": run_jobs, "generate": run_generate, "raw": run_raw}[mode]
    start = time.perf_counter()
    asyncio.run(runner(base_url, int(count), Path(workdir)))
    seconds = time.perf_counter() - start
    print(json.dumps({"peak": peak_rss_bytes(), "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
