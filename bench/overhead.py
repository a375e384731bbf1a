"""The ``per_call`` figure: the client's overhead on one small request.

Median wall time of ``FriendliImages.generate(prompt, model=..., response_format="url")``
(zero server latency, small response) over many calls, against
``httpx.Client.post(url, json=<the same body>, headers=<auth>).json()``. Calls alternate
(baseline, client, client, baseline, ...) after a warm-up of both connections. Target
<= 1.15. Reference row ``per_call_in_memory``: the same calls through an in-memory
transport replaying the server's answer, i.e. the client's CPU cost without the network.
"""

from __future__ import annotations

import httpx
from friendli_images import FriendliImages

from bench._common import (
    GENERATION_PATH,
    IN_MEMORY_URL,
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
    url_body,
)


def _time_calls(
    raw: httpx.Client, client: FriendliImages, url: str, settings: Settings
) -> tuple[list[float], list[float]]:
    body = url_body()
    headers = auth_headers()

    def baseline() -> object:
        return raw.post(url + GENERATION_PATH, json=body, headers=headers).json()

    def candidate() -> object:
        return client.generate(PROMPT, model=MODEL, response_format="url")

    alternate([baseline, candidate], settings.call_warmup)
    raw_times, our_times = alternate([baseline, candidate], settings.call_rounds)
    return raw_times, our_times


def bench_per_call(base_url: str, settings: Settings) -> list[Figure]:
    log(f"per-call: {settings.call_rounds} calls each, alternating, loopback and in memory")
    with loopback_clients(base_url) as (raw, client):
        loopback = _time_calls(raw, client, base_url, settings)
        answer = raw.post(base_url + GENERATION_PATH, json=url_body(), headers=auth_headers())
        answer.raise_for_status()
    with replay_clients(answer) as (raw, client):
        in_memory = _time_calls(raw, client, IN_MEMORY_URL, settings)
    rows = [
        ("per_call", "loopback test server, url format", loopback, 1.15, True),
        ("per_call_in_memory", "in-memory transport: client CPU only", in_memory, None, False),
    ]
    return [
        Figure(
            key=key,
            title=f"generate() per call, median; {where}",
            baseline_label="httpx post + json()",
            baseline=median(raw_times) * 1000,
            candidate_label="FriendliImages.generate",
            candidate=median(our_times) * 1000,
            unit="ms",
            target=target,
            required=required,
            samples=settings.call_rounds,
            details={
                "baseline_ms": spread(raw_times, 1000),
                "candidate_ms": spread(our_times, 1000),
                "overhead_us": (median(our_times) - median(raw_times)) * 1e6,
            },
        )
        for key, where, (raw_times, our_times), target, required in rows
    ]
