"""The Ray side of ``bench/ray_stage.py``, in a fresh process that starts its own cluster.

    python -m bench._ray_child BASE_URL PROMPTS_DIR WORKDIR --rows N --concurrency C \
        --actors 1,2 --reps R

Starts a new local cluster (``ray.init(address="local", num_cpus=2)``, never one already
running on the machine), then:

* start-up: ``ray.init`` alone, then the first batch (one row through a one-actor stage,
  written with ``write_imagefolder``): what a Ray job pays before its first image;
* for each rep and each actor count (alternating the order): ``read_parquet(PROMPTS_DIR)``
  -> ``generate_images(concurrency=C, actors=A)`` -> ``write_imagefolder``, timed from
  the call to the last file written; the actor pool's own start is inside (each Dataset
  execution starts its pool).

CPU is the user + system time of this process and every process under it (the driver,
raylet, GCS, the actors, Ray's agents), read from ``/proc`` (Linux) every 100 ms during
the window (``CpuWindow``), so that actors that exit inside it still count. The server
runs in another process and is not counted.

Prints one JSON object: ``{"startup": {...}, "runs": [{"actors", "seconds",
"cpu_seconds", "images"}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import MODEL, TOKEN

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """``(parent pid, CPU seconds: user + system)`` of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    # fields[0] is field 3 (state): ppid is field 4, utime and stime fields 14 and 15
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def tree_cpu(root: int | None = None) -> dict[int, float]:
    """CPU seconds of ``root`` (default: this process) and each of its live descendants."""
    root = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                parents[int(entry.name)], cpu[int(entry.name)] = found
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    tree: dict[int, float] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        tree[pid] = cpu.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return tree


class CpuWindow:
    """CPU seconds the process tree spends from ``__enter__`` to ``__exit__``.

    A thread reads the tree every ``interval`` seconds and keeps each process's last
    reading, so a process that exits inside the window (an actor pool ends with its
    Dataset) still counts, less at most ``interval`` of its last CPU; a process's time
    before the window does not, nor does the reading thread's own.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.seconds = 0.0
        self._base: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._own = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _read(self) -> None:
        self._last.update(tree_cpu())

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._read()
        self._own = time.thread_time()  # this thread's reading, taken off the total

    def __enter__(self) -> CpuWindow:
        self._base = tree_cpu()
        self._last = dict(self._base)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()
        spent = sum(cpu - self._base.get(pid, 0.0) for pid, cpu in self._last.items())
        self.seconds = spent - self._own


def _images_written(folder: Path) -> tuple[int, int]:
    """``(metadata lines, failure lines)`` of an imagefolder written by the stage."""
    images = sum(
        len(path.read_text(encoding="utf-8").splitlines())
        for path in folder.glob("part-*/metadata.jsonl")
    )
    failures = sum(
        len(path.read_text(encoding="utf-8").splitlines())
        for path in folder.glob("part-*/failures.jsonl")
    )
    return images, failures


def _stage(prompts: Any, out: Path, concurrency: int, actors: int) -> None:
    from friendli_images.ray import generate_images, write_imagefolder

    images = generate_images(
        prompts,
        model=MODEL,
        defaults={"response_format": "png"},
        concurrency=concurrency,
        actors=actors,
        client_options={"max_retries": 0},
    )
    write_imagefolder(images, str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("prompts", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--actors", default="1,2")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["FRIENDLI_TOKEN"] = TOKEN  # what every Ray process reads (the stage's rule)
    os.environ["FRIENDLI_BASE_URL"] = args.base_url
    import warnings

    warnings.filterwarnings("ignore")  # Ray's deprecation and advisory notices
    startup_cpu = CpuWindow().__enter__()
    start = time.perf_counter()
    import ray
    import ray.data

    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    initialised = time.perf_counter()
    first = args.workdir / "first"
    _stage(ray.data.from_items([{"id": "first", "prompt": "first"}]), first, 1, 1)
    startup_cpu.__exit__()
    startup = {
        "init_seconds": initialised - start,
        "first_batch_seconds": time.perf_counter() - initialised,
        "cpu_seconds": startup_cpu.seconds,
        "images": _images_written(first)[0],
    }
    counts = [int(value) for value in args.actors.split(",")]
    runs: list[dict[str, Any]] = []
    for rep in range(args.reps):
        for actors in counts if rep % 2 == 0 else reversed(counts):
            out = args.workdir / f"ray-{actors}-{rep}"
            with CpuWindow() as cpu:
                before = time.perf_counter()
                _stage(ray.data.read_parquet(str(args.prompts)), out, args.concurrency, actors)
                seconds = time.perf_counter() - before
            cpu_seconds = cpu.seconds
            images, failures = _images_written(out)
            if images != args.rows or failures:
                raise RuntimeError(f"{actors} actor(s): {images} images, {failures} failures")
            runs.append(
                {"actors": actors, "seconds": seconds, "cpu_seconds": cpu_seconds, "images": images}
            )
    ray.shutdown()
    print(json.dumps({"startup": startup, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
