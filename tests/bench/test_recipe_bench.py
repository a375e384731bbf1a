"""``bench/recipe.py --quick`` runs end to end and reports every figure (no speed is judged)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMED = ("recipe_time_png", "recipe_time_jpeg", "pillow_pnginfo_png")


def test_every_figure_is_reported(
    tmp_path: Path, run_bench: Callable[..., tuple[str, dict[str, Any]]]
) -> None:
    stdout, report = run_bench("recipe.py", tmp_path / "recipe.json", "--quick")
    figures = report["figures"]
    for key in TIMED:
        figure = figures[key]
        assert figure["value_ms"] > 0
        assert figure["baseline_ms"] > 0
        assert math.isclose(figure["ratio"], figure["value_ms"] / figure["baseline_ms"])
        assert key in stdout
    memory = figures["recipe_memory_png"]
    assert memory["value_mib"] >= 0
    assert memory["baseline_mib"] >= 0
    assert memory["file_bytes"] > memory["baseline_file_bytes"]  # the recipe is in the file
    assert {"size", "reps", "machine"} <= set(report)
