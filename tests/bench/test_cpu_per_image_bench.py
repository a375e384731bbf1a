"""``bench/cpu_per_image.py --quick`` runs end to end and reports every figure (no speed judged)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIDES = ("floor", "raw_threads", "raw_async", "sync", "async", "run")
FIGURES = {
    "cpu_per_image_sync": ("raw_threads", "sync", 1.1),
    "cpu_per_image_async": ("raw_async", "async", 1.1),
    "cpu_per_image_httpx_threads": ("floor", "raw_threads", None),
    "cpu_per_image_httpx_async": ("floor", "raw_async", None),
}


def test_every_figure_is_reported(
    tmp_path: Path, run_bench: Callable[..., tuple[str, dict[str, Any]]]
) -> None:
    stdout, report = run_bench("cpu_per_image.py", tmp_path / "cpu.json", "--quick")
    run, figures = report["run"], report["figures"]
    jobs, reps = run["jobs"], run["reps"]
    assert report["quick"] is True
    for side in SIDES:  # every side ran every repetition, each job one request (floor: none)
        assert len(run["cpu_seconds"][side]) == reps
        assert all(seconds > 0 for seconds in run["cpu_seconds"][side])
        assert all(seconds >= 0 for seconds in run["server_cpu_by_case"][side])
        assert run["requests"][side] == [0 if side == "floor" else jobs] * reps
    cheaper = min(("raw_threads", "raw_async"), key=lambda side: median_ms(run, side))
    expected = {**FIGURES, "cpu_per_image_run": (cheaper, "run", 1.1)}
    assert set(expected) == set(figures)
    for key, (baseline, candidate, target) in expected.items():
        figure = figures[key]
        details = figure["details"]
        assert (baseline, candidate) == (details["baseline_side"], details["candidate_side"])
        assert target == figure["target"]
        assert math.isclose(figure["baseline"], median_ms(run, baseline))
        assert math.isclose(figure["candidate"], median_ms(run, candidate))
        assert math.isclose(figure["ratio"], figure["candidate"] / figure["baseline"])
        assert len(details["ratios"]) == reps
        low, high = details["ratio_range"]
        assert low <= high
        assert set(details["server_cpu_ms_per_image"]) == {baseline, candidate}
        assert key in stdout
    startup = figures["cpu_per_image_run"]["details"]
    assert startup["startup_ms_per_image"] > 0
    assert run["run_startup"]["images"] == 1
    assert "server CPU" in stdout
    assert {"cores", "cpu", "python"} <= set(report["machine"])


def median_ms(run: dict[str, Any], side: str) -> float:
    """The median CPU milliseconds per image of ``side`` over the repetitions."""
    values: list[float] = run["cpu_seconds"][side]
    jobs: int = run["jobs"]
    return statistics.median(seconds / jobs * 1000 for seconds in values)
