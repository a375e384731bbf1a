"""The ``import`` figure: what importing the client costs a fresh interpreter.

The candidate is ``from friendli_images import FriendliImages``: everything a plain
``generate()`` needs to exist (``import friendli_images`` alone loads only the package's
table of names, and is reported in the details). Measured as
``python -c "<statement>"`` minus ``python -c "pass"``, against the same for
``import httpx``: medians of fresh interpreters, interleaved. Bytecode caches are in place
for both (children run with ``PYTHONPYCACHEPREFIX`` set to a temporary directory that a
warm-up run fills, and without ``PYTHONDONTWRITEBYTECODE``), as after ``pip install``.
Target <= 1.15 (issue 25). The details also carry the CPU ratio, ``importtime``: the
cumulative time ``python -X importtime`` reports for everything the statement imports
beyond the interpreter's own start (issue 25's measure, the same target), and ``first_call``: the
same for the client plus what its first ``generate()`` loads on top (the generated
operation, its models and attrs), which a program pays once, with its first request.

Run it in an environment like a user's (``pip install friendli-images``): httpx imports
its command line's packages (click, rich, pygments) when they are installed, as in the
dev environment, which makes ``import httpx`` dearer and every ratio look better.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable

from bench._common import Figure, Settings, alternate, log, median, spread

STATEMENTS = {
    "pass": "pass",
    "httpx": "import httpx",
    "ours": "from friendli_images import FriendliImages",
    "package": "import friendli_images",
    "first_call": (
        "from friendli_images import FriendliImages; "
        "from friendli_images._operations import DEDICATED_GENERATE; "
        "DEDICATED_GENERATE.generated"
    ),
}
"""What each fresh interpreter runs; ``first_call`` loads what a first ``generate()``
adds to the client's import (the request model and the generated endpoint function)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _top_level(stderr: str) -> dict[str, int]:
    """``-X importtime``'s top-level modules and their cumulative microseconds."""
    modules: dict[str, int] = {}
    for line in stderr.splitlines():
        fields = line.split("|")
        if len(fields) != 3 or not fields[0].startswith("import time:"):
            continue
        name = fields[2]
        if not fields[1].strip().isdigit() or name.startswith("  "):  # the header, or nested
            continue
        modules[name.strip()] = int(fields[1])
    return modules


def _importtime(statement: str, env: dict[str, str], startup: set[str]) -> float:
    """Milliseconds ``-X importtime`` reports for what ``statement`` imports, beyond the
    modules the interpreter imports to start (``startup``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = _top_level(done.stderr)
    if not modules:
        raise RuntimeError(f"-X importtime printed nothing for {statement!r}")
    return sum(us for name, us in modules.items() if name not in startup) / 1000


def bench_import(settings: Settings) -> Figure:
    cpu: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    with tempfile.TemporaryDirectory(prefix="friendli-bench-pyc-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache

        def interpreter(name: str) -> Callable[[], object]:
            def run() -> object:
                before = _children_cpu()
                subprocess.run([sys.executable, "-c", STATEMENTS[name]], env=env, check=True)
                cpu[name].append(_children_cpu() - before)
                return None

            return run

        cases = [interpreter(name) for name in STATEMENTS]
        alternate(cases, 2)  # fills the bytecode cache, warms the OS file cache
        for times in cpu.values():
            times.clear()
        log(f"import time: {settings.import_reps} fresh interpreters per statement")
        wall = dict(zip(STATEMENTS, alternate(cases, settings.import_reps), strict=True))
        startup = set(
            _top_level(
                subprocess.run(
                    [sys.executable, "-X", "importtime", "-c", "pass"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stderr
            )
        )
        measured = [name for name in STATEMENTS if name != "pass"]
        cumulative: dict[str, list[float]] = {name: [] for name in measured}
        for round_ in range(settings.import_reps):
            for name in sorted(measured, reverse=round_ % 2 == 1):
                cumulative[name].append(_importtime(STATEMENTS[name], env, startup))
    base = median(wall["pass"])
    cpu_ms = {name: median(times) * 1000 for name, times in cpu.items()}
    httpx_ms = median(cumulative["httpx"])
    rounds = [ours / raw for ours, raw in zip(cumulative["ours"], cumulative["httpx"], strict=True)]
    return Figure(
        key="import",
        title="from friendli_images import FriendliImages, fresh interpreter",
        baseline_label="import httpx",
        baseline=(median(wall["httpx"]) - base) * 1000,
        candidate_label="from friendli_images import FriendliImages",
        candidate=(median(wall["ours"]) - base) * 1000,
        unit="ms",
        target=1.15,
        samples=settings.import_reps,
        details={
            "python_startup_ms": base * 1000,
            "httpx_total_ms": spread(wall["httpx"], 1000),
            "friendli_images_total_ms": spread(wall["ours"], 1000),
            "import_friendli_images_total_ms": spread(wall["package"], 1000),
            "cpu_median_ms": cpu_ms,
            "cpu_ratio": (cpu_ms["ours"] - cpu_ms["pass"]) / (cpu_ms["httpx"] - cpu_ms["pass"]),
            "bytecode_cache": "PYTHONPYCACHEPREFIX, warmed",
            "importtime": {
                "httpx_cumulative_ms": spread(cumulative["httpx"]),
                "client_cumulative_ms": spread(cumulative["ours"]),
                "ratio": median(cumulative["ours"]) / httpx_ms,
                "ratio_range": [min(rounds), max(rounds)],
                "package_cumulative_ms": spread(cumulative["package"]),
                "first_call_cumulative_ms": spread(cumulative["first_call"]),
                "first_call_ratio": median(cumulative["first_call"]) / httpx_ms,
            },
        },
    )
