"""The ``edit`` figures: one edit with a 4 MiB image, and the memory of one with 50 MiB.

``edit_per_call``: median wall time of ``FriendliImages.edit(<4 MiB PNG as bytes>, ...,
response_format="url")`` against ``httpx.Client.post(url, json=<the same body, the image
base64-encoded into a data: URI on each call>).json()``, alternating as for ``per_call``.
The server's own work (decoding, flipping and storing the image) is in both timers.
Target <= 1.15. Reference row ``edit_per_call_in_memory``: the same calls through an
in-memory transport that reads the whole request body and replays the server's answer
(the client's CPU cost without the server's). ``edit_memory``: peak RSS increase of one
edit of the 50 MiB file of ``control_image_memory``, given as a path, in a fresh process,
against the file's size. Target <= 0.2. Reference row: raw httpx ``json=`` (about 5x).
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
from friendli_images import FriendliImages
from friendli_images.testing import render_png

from bench._common import (
    IN_MEMORY_URL,
    MIB,
    MODEL,
    PROMPT,
    Figure,
    Settings,
    alternate,
    auth_headers,
    log,
    loopback_clients,
    median,
    replay_clients,
    spread,
)
from bench.memory import control_image, memory_run

EDIT_PATH = "/dedicated/v1/images/edits"


def bench_edit(base_url: str, settings: Settings, workdir: Path) -> list[Figure]:
    data = render_png(2, settings.edit_image_side, settings.edit_image_side)
    body = {"model": MODEL, "prompt": PROMPT, "response_format": "url"}
    headers = auth_headers()
    log(f"edit: {settings.edit_rounds} calls each with a {len(data) / MIB:.1f} MiB image")

    def time_edits(raw: httpx.Client, client: FriendliImages, url: str) -> list[list[float]]:
        def baseline() -> object:
            uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
            return raw.post(url, json={**body, "image": {"image": uri}}, headers=headers).json()

        def candidate() -> object:
            return client.edit(data, PROMPT, model=MODEL, response_format="url")

        alternate([baseline, candidate], 3)
        return alternate([baseline, candidate], settings.edit_rounds)

    with loopback_clients(base_url) as (raw, client):
        loopback = time_edits(raw, client, base_url + EDIT_PATH)
        answer = raw.post(
            base_url + EDIT_PATH,
            json={**body, "image": {"image": "https://example.com/x.png"}},
            headers=headers,
        )
        answer.raise_for_status()
    # read_body: both sides produce the whole body, as they would on the wire.
    with replay_clients(answer, read_body=True) as (raw, client):
        in_memory = time_edits(raw, client, IN_MEMORY_URL + EDIT_PATH)
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
                "baseline_ms": spread(raw_times, 1000),
                "candidate_ms": spread(our_times, 1000),
                "overhead_us": (median(our_times) - median(raw_times)) * 1e6,
            },
        )
        for key, where, (raw_times, our_times), target in (
            ("edit_per_call", "loopback test server", loopback, 1.15),
            ("edit_per_call_in_memory", "in-memory transport: client CPU only", in_memory, None),
        )
    ]
    path = control_image(workdir, settings.control_image_side)
    size = path.stat().st_size
    cases = ["edit-facade", "edit-httpx-json"]
    runs: dict[str, list[int]] = {case: [] for case in cases}
    log(f"edit memory: {settings.memory_runs} fresh process(es) per case, {size / MIB:.1f} MiB")
    for run in range(settings.memory_runs):
        for offset in range(len(cases)):
            case = cases[(run + offset) % len(cases)]
            runs[case].append(memory_run(case, base_url, path)["increase"])
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
