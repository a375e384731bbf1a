"""The ``decode_save`` figures: from a request to four 8 MiB PNGs on disk.

The response is the test server's real output (four 1672x1672 images, base64 in one JSON
response), captured once and replayed by an in-memory ``httpx.MockTransport`` so that
neither side's timer includes rendering or network transfer. Both timers cover: send the
request, read the 45 MB body, parse the JSON, decode the base64 and write the files.
Client: ``generate(..., response_format="png")`` (strict decoding at parse time) then
``ImageResult.save(dir)`` (atomic writes). Baseline: ``httpx.Client.post(...).json()``,
then ``base64.b64decode`` and ``Path.write_bytes`` for each image. Target <= 1.5.
Reference row ``decode_save_memory``: the peak RSS increase of the same work, client
against raw httpx, each in a fresh process.
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
from pathlib import Path

import httpx
from friendli_images import FriendliImages

from bench._common import (
    GENERATION_PATH,
    MIB,
    MODEL,
    PROMPT,
    TOKEN,
    Figure,
    Settings,
    auth_headers,
    log,
    median,
    spread,
    time_call,
    url_body,
)
from bench.memory import memory_run

RESULT_IMAGES = 4


def _capture_b64_response(base_url: str) -> bytes:
    """One JSON response holding four of the server's base64 PNGs (seeds 1 to 4)."""
    items = []
    with httpx.Client(timeout=120) as raw:
        for seed in range(1, RESULT_IMAGES + 1):
            body = {**url_body(), "response_format": "png", "seed": seed}
            response = raw.post(base_url + GENERATION_PATH, json=body, headers=auth_headers())
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
            data = raw.post(fake_url + GENERATION_PATH, json=url_body(), headers=auth_headers())
            for index, item in enumerate(data.json()["data"]):
                (out / f"image-{index}.png").write_bytes(base64.b64decode(item["b64_json"]))

        def candidate(out: Path) -> None:
            client.generate(PROMPT, model=MODEL, response_format="png").save(out)

        sides = [baseline, candidate]
        times: list[list[float]] = [[], []]

        def measure(index: int, out: Path) -> None:
            times[index].append(time_call(functools.partial(sides[index], out)))
            sizes = sorted(path.stat().st_size for path in out.iterdir())
            if sizes != sorted(image_bytes):
                raise RuntimeError(f"{out} holds files of {sizes} bytes, expected {image_bytes}")
            shutil.rmtree(out)

        measure(0, workdir / "warm-up-baseline")
        measure(1, workdir / "warm-up-client")
        times = [[], []]
        log(f"decode+save: {settings.decode_reps} rounds of {RESULT_IMAGES} images")
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
            "baseline_ms": spread(raw_times, 1000),
            "candidate_ms": spread(our_times, 1000),
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
    log(f"decode+save memory: {settings.memory_runs} fresh process(es) per case")
    for run in range(settings.memory_runs):
        for offset in range(len(cases)):
            case = cases[(run + offset) % len(cases)]
            peaks[case].append(memory_run(case, None, path)["increase"])
    path.unlink()
    return peaks
