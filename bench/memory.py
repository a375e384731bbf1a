"""The ``control_image_memory`` figure: memory of sending a 50 MiB control image.

Peak RSS increase of sending one request with a 50 MiB control image given as a file path,
measured in a fresh process per run (``bench/_memory_child.py``), against the file's size.
Reference rows: the async client, and raw httpx with ``json=`` (the whole file read,
base64-encoded into a ``data:`` URI, serialised; about 5x). Target <= 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from friendli_images.testing import render_png

from bench._common import MIB, REPO_ROOT, Figure, Settings, log, median

MAX_CONTROL_IMAGE_BYTES = 50 * MIB


def control_image(directory: Path, side: int) -> Path:
    data = render_png(1, side, side)
    if len(data) > MAX_CONTROL_IMAGE_BYTES:
        raise RuntimeError(f"a {side}x{side} PNG is {len(data)} bytes, over the API's limit")
    path = directory / f"control-{side}.png"
    path.write_bytes(data)
    return path


def memory_run(case: str, base_url: str | None, path: Path) -> dict[str, Any]:
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
    path = control_image(workdir, settings.control_image_side)
    size = path.stat().st_size
    cases = ["facade", "facade-async", "httpx-json"]
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    log(f"memory: {settings.memory_runs} fresh process(es) per case, {size / MIB:.1f} MiB file")
    for run in range(settings.memory_runs):
        for offset in range(len(cases)):
            case = cases[(run + offset) % len(cases)]
            runs[case].append(memory_run(case, base_url, path))
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
