"""``bench/recipe.py --quick`` runs end to end and reports every figure (no speed is judged)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMED = ("recipe_time_png", "recipe_time_jpeg", "pillow_pnginfo_png")


def test_every_figure_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "recipe.json"
    done = subprocess.run(
        [sys.executable, "bench/recipe.py", "--quick", "--json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    report = json.loads(path.read_text(encoding="utf-8"))
    figures = report["figures"]
    for key in TIMED:
        figure = figures[key]
        assert figure["value_ms"] > 0
        assert figure["baseline_ms"] > 0
        assert math.isclose(figure["ratio"], figure["value_ms"] / figure["baseline_ms"])
        assert key in done.stdout
    memory = figures["recipe_memory_png"]
    assert memory["value_mib"] >= 0
    assert memory["baseline_mib"] >= 0
    assert memory["file_bytes"] > memory["baseline_file_bytes"]  # the recipe is in the file
    assert {"size", "reps", "machine"} <= set(report)
