"""Benchmarks of friendli-images, each a ratio against a baseline measured in the same run.

    python bench/run.py [--quick] [--json PATH] [--only FIGURE ...]

Starts the loopback test server (``friendli_images.testing.FriendliTestServer``) in a
process of its own, measures the figures, prints a table and writes the same as JSON
(default ``bench/results/latest.json``, git-ignored). Each figure is the client's number
divided by a baseline taken on the same machine, in the same run, interleaved with it.
One module per benchmark (``--only`` group, module, figures) says what its figures compare:

import          bench/import_time.py   import
per_call        bench/overhead.py      per_call, per_call_in_memory
control_image_memory
                bench/memory.py        control_image_memory and its reference rows
decode_save     bench/decoding.py      decode_save, decode_save_memory
batch           bench/concurrency.py   batch and its reference rows
edit            bench/edit.py          edit_per_call, edit_memory and their references
bulk_throughput, bulk_memory, connections, adaptive
                bench/bulk.py          bulk_*, connections_<c>, adaptive*
cpu_per_image   bench/cpu_per_image.py cpu_per_image_sync, _async, _run and references

Shared pieces (settings, the figure row, timing by alternation, the server process) are
in ``bench/_common.py``.

``--quick`` keeps every figure but takes fewer samples and smaller payloads (an 8 MiB
control image, four 512x512 images): a smoke run, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    BENCH_DIR,
    Figure,
    ServerProcess,
    Settings,
    git_state,
    machine_info,
    versions,
)
from bench.bulk import bench_bulk
from bench.concurrency import BATCH_LATENCY, bench_batch
from bench.cpu_per_image import bench_cpu_per_image
from bench.decoding import bench_decode_save
from bench.edit import bench_edit
from bench.import_time import bench_import
from bench.memory import bench_memory
from bench.overhead import bench_per_call

DEFAULT_JSON = BENCH_DIR / "results" / "latest.json"
SMALL_IMAGE = (64, 64)
FIGURE_GROUPS = (
    "per_call",
    "control_image_memory",
    "decode_save",
    "batch",
    "import",
    "edit",
    "bulk_throughput",
    "bulk_memory",
    "connections",
    "adaptive",
    "cpu_per_image",
)


# -- report --------------------------------------------------------------------------------


def _format_value(value: float, unit: str) -> str:
    if unit == "ms" and value < 10:
        return f"{value:.3f} ms"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.1f} {unit}"


def render_table(report: dict[str, Any], figures: Sequence[Figure]) -> str:
    machine = report["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v is not None)
    missing = [k for k, v in report["versions"].items() if v is None]
    lines = [
        f"friendli-images benchmarks ({'quick' if report['quick'] else 'full'} run, "
        f"{report['created']})",
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}",
        f"python:  {machine['python_implementation']} {machine['python']}",
        f"libs:    {libs}" + (f" (not installed: {', '.join(missing)})" if missing else ""),
        f"commit:  {report['git']['commit']}" + (" (dirty)" if report["git"]["dirty"] else ""),
        "",
    ]
    header = ("figure", "candidate", "baseline", "ratio", "target", "")
    rows = [header]
    for figure in figures:
        verdict = {True: "met", False: "MISSED", None: "reference"}[figure.met]
        target = f"<= {figure.target:g}x" if figure.target is not None else "-"
        rows.append(
            (
                figure.key,
                f"{figure.candidate_label}: {_format_value(figure.candidate, figure.unit)}",
                f"{figure.baseline_label}: {_format_value(figure.baseline, figure.unit)}",
                f"{figure.ratio:.2f}x",
                target,
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    width = max(len(figure.key) for figure in figures)
    lines.extend(f"{f.key.ljust(width)}  {f.title} ({f.samples} samples)" for f in figures)
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark friendli-images against raw httpx in the same run."
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples, smaller payloads")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default: {DEFAULT_JSON}")
    parser.add_argument(
        "--only",
        action="append",
        choices=FIGURE_GROUPS,
        help="measure only this figure (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings.full()
    started = time.perf_counter()
    report: dict[str, Any] = {
        "schema": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "machine": machine_info(),
        "versions": versions(),
        "git": git_state(),
        "settings": asdict(settings),
    }
    figures: list[Figure] = []
    groups = args.only or list(FIGURE_GROUPS)
    report["figure_groups"] = groups
    if "import" in groups:  # first, while no server is running
        figures.append(bench_import(settings))
    side = settings.decode_image_side
    specs = {
        "fast": (0.0, SMALL_IMAGE),
        "slow": (BATCH_LATENCY, SMALL_IMAGE),
        "large": (0.0, (side, side)),
    }
    with (
        tempfile.TemporaryDirectory(prefix="friendli-bench-") as tmp,
        ServerProcess(specs) as servers,
    ):
        workdir = Path(tmp)
        if "per_call" in groups:
            figures.extend(bench_per_call(servers.urls["fast"], settings))
        if "control_image_memory" in groups:
            figures.extend(bench_memory(servers.urls["fast"], settings, workdir))
        if "decode_save" in groups:
            figures.extend(bench_decode_save(servers.urls["large"], settings, workdir))
        if "batch" in groups:
            figures.extend(bench_batch(servers.urls["slow"], settings))
        if "edit" in groups:
            figures.extend(bench_edit(servers.urls["fast"], settings, workdir))
    figures.extend(bench_bulk(groups, settings))
    if "cpu_per_image" in groups:
        figures.extend(bench_cpu_per_image(settings))
    figures.sort(key=lambda f: next(i for i, g in enumerate(FIGURE_GROUPS) if f.key.startswith(g)))
    report["duration_s"] = round(time.perf_counter() - started, 1)
    report["figures"] = [figure.to_json() for figure in figures]
    print(render_table(report, figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.json} ({report['duration_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
