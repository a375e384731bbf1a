"""The Ray Data stage against ``friendli-images run`` on the same jobs (issue 24).

    python bench/ray_stage.py [--rows 4000] [--concurrency 64] [--reps 2] [--quick]
                              [--json PATH]

Both sides send the same png jobs (``id``, ``prompt``, ``seed``; ``bench.bulk``'s jobs)
to ``bench._bulk_server`` in its own process (50 ms per generation, 64x64 PNGs) at the
same total concurrency, and write every image to disk as an imagefolder:

run
    ``python -m friendli_images run JOBS.jsonl --out DIR --format png --concurrency C``
    in a fresh process (its interpreter start is inside its time); CPU: the process's
    user + system time (``RUSAGE_CHILDREN``).
ray_1, ray_2
    ``read_parquet`` of the same rows (16 files) -> ``generate_images(concurrency=C,
    actors=A)`` -> ``write_imagefolder``, on a local cluster of 2 CPUs that
    ``bench._ray_child`` starts once; the actor pool's start is inside each run. CPU:
    the child and every process under it (driver, raylet, GCS, actors, agents).
startup
    Ray's start-up, stated separately: ``ray.init`` and then the first batch (one row
    through a one-actor stage, written); against it, ``run`` of one job (a process
    start, imports, one request, one file).

Figures are medians over ``reps``; ``run`` alternates before and after the Ray child.
Reported per side: rows/s, CPU milliseconds per image, and the ratio to ``run``; then
the crossover: how many rows Ray's higher throughput needs to repay its start-up (none
when it is not higher). Nothing is asserted: ``tests/bench/test_ray_stage_bench.py``
only checks that every figure is reported. JSON in ``bench/results/ray_stage.json``
(git-ignored) unless ``--json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/ray_stage.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BENCH_DIR, PROMPT, REPO_ROOT, machine_info, median, run_cli
from bench.bulk import LATENCY, bulk_server

PARTS = 16
"""Parquet files the Ray side reads (a Dataset's blocks: the actors' units of work)."""


def write_inputs(workdir: Path, rows: int) -> tuple[Path, Path]:
    """The same jobs as ``JOBS.jsonl`` (for ``run``) and a Parquet directory (for Ray)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [{"id": f"job-{index}", "prompt": PROMPT, "seed": index} for index in range(rows)]
    jobs = workdir / "jobs.jsonl"
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    prompts = workdir / "prompts"
    prompts.mkdir()
    size = -(-rows // PARTS)
    for part, start in enumerate(range(0, rows, size)):
        table = pa.Table.from_pylist(lines[start : start + size])
        pq.write_table(table, prompts / f"{part}.parquet")
    return jobs, prompts


def run_ray(
    base_url: str, prompts: Path, workdir: Path, *, rows: int, concurrency: int, reps: int
) -> dict[str, Any]:
    """``bench._ray_child``'s report: start-up and the timed runs of 1 and 2 actors."""
    command = [sys.executable, "-m", "bench._ray_child", base_url, str(prompts), str(workdir)]
    command += ["--rows", str(rows), "--concurrency", str(concurrency), "--reps", str(reps)]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Ray child failed:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _side(runs: list[dict[str, float]], rows: int) -> dict[str, Any]:
    seconds = median(run["seconds"] for run in runs)
    cpu = median(run["cpu_seconds"] for run in runs)
    return {
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "cpu_ms_per_image": cpu / rows * 1000,
        "samples": runs,
    }


def crossover(startup_extra: float, run_rate: float, ray_rate: float) -> float | None:
    """Rows after which the faster side repays ``startup_extra`` seconds (None: never)."""
    gain = 1 / run_rate - 1 / ray_rate  # seconds saved per row
    if gain <= 0:
        return None
    return max(0.0, startup_extra) / gain


def measure(rows: int, concurrency: int, reps: int, latency: float) -> dict[str, Any]:
    """Every figure of this benchmark (see the module)."""
    with bulk_server(latency) as base_url, tempfile.TemporaryDirectory(prefix="ray-bench-") as tmp:
        workdir = Path(tmp)
        jobs, prompts = write_inputs(workdir, rows)
        one_job = workdir / "one.jsonl"
        one_job.write_text(json.dumps({"id": "first", "prompt": "first"}) + "\n", "utf-8")
        run_startup = run_cli(base_url, one_job, workdir / "run-first", 1)
        cli_runs = [run_cli(base_url, jobs, workdir / "run-0", concurrency)]
        ray_report = run_ray(
            base_url, prompts, workdir, rows=rows, concurrency=concurrency, reps=reps
        )
        cli_runs += [
            run_cli(base_url, jobs, workdir / f"run-{rep}", concurrency) for rep in range(1, reps)
        ]
    for run in cli_runs:
        if run["images"] != rows:
            raise RuntimeError(f"run wrote {run['images']} of {rows} images")
    figures: dict[str, Any] = {"run": _side(cli_runs, rows)}
    for actors in (1, 2):
        side = _side([r for r in ray_report["runs"] if r["actors"] == actors], rows)
        side["ratio_rows_per_second"] = side["rows_per_second"] / figures["run"]["rows_per_second"]
        side["ratio_cpu_per_image"] = side["cpu_ms_per_image"] / figures["run"]["cpu_ms_per_image"]
        figures[f"ray_{actors}"] = side
    startup = dict(ray_report["startup"])
    startup["seconds"] = startup["init_seconds"] + startup["first_batch_seconds"]
    startup["run_seconds"] = run_startup["seconds"]
    startup["run_cpu_seconds"] = run_startup["cpu_seconds"]
    figures["startup"] = startup
    extra = startup["seconds"] - startup["run_seconds"]
    figures["crossover_rows"] = {
        f"ray_{actors}": crossover(
            extra, figures["run"]["rows_per_second"], figures[f"ray_{actors}"]["rows_per_second"]
        )
        for actors in (1, 2)
    }
    figures["ideal_seconds"] = rows / concurrency * latency
    return figures


def report_lines(report: dict[str, Any]) -> list[str]:
    """The printed table of ``report``."""
    figures = report["figures"]
    lines = [
        f"{report['rows']} png jobs, concurrency {report['concurrency']} in total, "
        f"{report['latency'] * 1000:.0f} ms per generation (ideal {figures['ideal_seconds']:.2f} s)"
    ]
    lines.append(f"{'side':8} {'seconds':>8} {'rows/s':>8} {'CPU ms/img':>11} {'vs run':>15}")
    for key in ("run", "ray_1", "ray_2"):
        side = figures[key]
        versus = (
            f"{side['ratio_rows_per_second']:.2f}x / {side['ratio_cpu_per_image']:.2f}x"
            if key != "run"
            else ""
        )
        lines.append(
            f"{key:8} {side['seconds']:8.2f} {side['rows_per_second']:8.1f} "
            f"{side['cpu_ms_per_image']:11.2f} {versus:>15}"
        )
    startup = figures["startup"]
    lines.append(
        f"startup  ray.init {startup['init_seconds']:.2f} s + first batch "
        f"{startup['first_batch_seconds']:.2f} s = {startup['seconds']:.2f} s "
        f"({startup['cpu_seconds']:.2f} s CPU); run of one job {startup['run_seconds']:.2f} s"
    )
    for key, rows in figures["crossover_rows"].items():
        shown = "never (not faster here)" if rows is None else f"{rows:.0f} rows"
        lines.append(f"crossover {key}: {shown}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 48 rows, 1 rep")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "ray_stage.json")
    args = parser.parse_args(argv)
    rows, reps, concurrency = (48, 1, 8) if args.quick else (args.rows, args.reps, args.concurrency)
    figures = measure(rows, concurrency, reps, args.latency)
    report = {
        "rows": rows,
        "concurrency": concurrency,
        "reps": reps,
        "latency": args.latency,
        "quick": args.quick,
        "machine": machine_info(),
        "figures": figures,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\n".join(report_lines(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
