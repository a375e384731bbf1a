"""What happens, request by request, when a stage actor dies mid-batch (issue 24).

    python bench/ray_actor_death.py [--rows 200] [--trials 3] [--quick] [--json PATH]

On a local cluster of 2 CPUs that this process starts, against ``FriendliTestServer`` in a
thread (300 ms per generation, so batches are in flight), ``generate_images(rows,
concurrency=4, actors=2)`` runs and, once the server has received ``--kill-after``
requests, one stage actor process is killed (SIGKILL). Ray restarts it and retries its
batch. Each trial reports:

* rows: in the Dataset; out: output rows; images: rows with an image;
* interrupted: ``RequestInterruptedError`` rows (claimed by the dead actor, not resent),
  of which ``sent``: their request reached the server (billed, its image lost) and
  ``unsent``: claimed but never sent;
* requests: generation requests the server counted; twice: prompts it received more
  than once (the money rule says 0 by default).

``--trials`` with the default (``resend_interrupted=False``), then one trial with
``resend_interrupted=True`` to show what the opt-in costs. Nothing is asserted here:
``tests/ray/test_stage.py`` asserts the rule; this reports the numbers.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/ray_actor_death.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BENCH_DIR, machine_info
from bench._ray_procs import stage_pids


def trial(server: Any, rows: int, kill_after: int, *, resend: bool) -> dict[str, Any]:
    """One run with one actor killed once ``kill_after`` requests have arrived."""
    import ray
    from friendli_images.ray import generate_images

    server.reset()
    items = [{"id": f"k{i}", "prompt": f"kill {i}"} for i in range(rows)]
    images = generate_images(
        ray.data.from_items(items),
        model="test-model",
        concurrency=4,
        actors=2,
        resend_interrupted=resend,
    )
    outcome: dict[str, Any] = {}
    consumer = threading.Thread(target=lambda: outcome.update(rows=images.take_all()))
    consumer.start()
    deadline = time.monotonic() + 120
    while len(server.generation_requests) < kill_after and time.monotonic() < deadline:
        time.sleep(0.02)
    pids = stage_pids()
    if not pids:
        raise RuntimeError("no stage actor process found")
    requests_at_kill = len(server.generation_requests)
    os.kill(pids[0], signal.SIGKILL)
    consumer.join(timeout=300)
    if consumer.is_alive():
        raise RuntimeError("the Dataset did not finish after the kill")
    out = outcome["rows"]
    sent = collections.Counter(
        json.loads(request.body)["prompt"] for request in server.generation_requests
    )
    interrupted = [row for row in out if row["error"] == "RequestInterruptedError"]
    return {
        "resend_interrupted": resend,
        "rows": rows,
        "out": len(out),
        "images": sum(row["image"] is not None for row in out),
        "other_failures": sum(row["error"] not in (None, "RequestInterruptedError") for row in out),
        "interrupted": len(interrupted),
        "interrupted_sent": sum(row["prompt"] in sent for row in interrupted),
        "interrupted_unsent": sum(row["prompt"] not in sent for row in interrupted),
        "requests_at_kill": requests_at_kill,
        "requests": sum(sent.values()),
        "prompts_sent": len(sent),
        "sent_twice": sum(1 for count in sent.values() if count > 1),
        "rows_missing": len({f"k{i}" for i in range(rows)} - {row["id"] for row in out}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--kill-after", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="60 rows, 1 trial")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "actor_death.json")
    args = parser.parse_args(argv)
    rows, trials = (60, 1) if args.quick else (args.rows, args.trials)
    warnings.filterwarnings("ignore")  # Ray's deprecation and advisory notices
    import ray
    import ray.data
    from friendli_images.testing import FriendliTestServer

    results = []
    with FriendliTestServer(latency=0.3) as server:
        os.environ["FRIENDLI_TOKEN"] = server.token  # what every Ray process reads
        os.environ["FRIENDLI_BASE_URL"] = server.base_url
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
        )
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            for resend in [False] * trials + [True]:
                results.append(trial(server, rows, args.kill_after, resend=resend))
        finally:
            ray.shutdown()
    report = {"machine": machine_info(), "kill_after": args.kill_after, "trials": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    keys = [key for key in results[0] if key != "resend_interrupted"]
    print("resend " + " ".join(f"{key:>10.10}" for key in keys))
    for result in results:
        print(
            f"{result['resend_interrupted']!s:6} " + " ".join(f"{result[key]:>10}" for key in keys)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
