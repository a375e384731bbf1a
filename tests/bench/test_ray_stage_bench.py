"""``bench/ray_stage.py --quick`` runs end to end and reports every figure (no speed is judged).

Marked ``ray``: it needs the ``ray`` extra and starts a Ray cluster of its own, so it runs
in the ray step (``.ci/steps/ray.sh``), and skips without the extra.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray.data", reason="the 'ray' extra is not installed")

pytestmark = pytest.mark.ray

SIDES = ("run", "ray_1", "ray_2")


def test_every_figure_is_reported(
    tmp_path: Path, run_bench: Callable[..., tuple[str, dict[str, Any]]]
) -> None:
    stdout, report = run_bench("ray_stage.py", tmp_path / "ray_stage.json", "--quick", timeout=300)
    figures = report["figures"]
    rows = report["rows"]
    for key in SIDES:
        side = figures[key]
        assert side["seconds"] > 0
        assert math.isclose(side["rows_per_second"], rows / side["seconds"])
        assert side["cpu_ms_per_image"] > 0
        assert all(sample["images"] == rows for sample in side["samples"])
        assert key in stdout
    for key in SIDES[1:]:
        side = figures[key]
        run = figures["run"]
        assert math.isclose(
            side["ratio_rows_per_second"], side["rows_per_second"] / run["rows_per_second"]
        )
        assert math.isclose(
            side["ratio_cpu_per_image"], side["cpu_ms_per_image"] / run["cpu_ms_per_image"]
        )
        assert key in figures["crossover_rows"]
        crossover = figures["crossover_rows"][key]
        assert crossover is None or crossover >= 0
    startup = figures["startup"]
    assert startup["init_seconds"] > 0
    assert startup["first_batch_seconds"] > 0
    started = startup["init_seconds"] + startup["first_batch_seconds"]
    assert math.isclose(startup["seconds"], started)
    assert startup["cpu_seconds"] > 0
    assert startup["run_seconds"] > 0
    assert 1 == startup["images"]
    assert "ray.init" in stdout
    assert "crossover" in stdout
    assert {"cores", "cpu", "python"} <= set(report["machine"])
