"""``bench/run.py --quick`` runs end to end and reports every figure (no speed is judged)."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import pytest

REQUIRED = (
    "per_call",
    "control_image_memory",
    "decode_save",
    "batch",
    "import",
    "edit_per_call",
    "edit_memory",
    "cpu_per_image_sync",
    "cpu_per_image_async",
    "cpu_per_image_run",
)
TARGETS = {
    "per_call": 1.15,
    "control_image_memory": 2.0,
    "decode_save": 1.5,
    "batch": 1.15,
    "import": 1.15,
    "edit_per_call": 1.15,
    "edit_memory": 0.2,
    "cpu_per_image_sync": 1.1,
    "cpu_per_image_async": 1.1,
    "cpu_per_image_run": 1.1,
}


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory, run_bench: Callable[..., tuple[str, dict[str, Any]]]
) -> tuple[str, dict[str, Any]]:
    """Run the quick benchmark once; return its printed table and its JSON report."""
    return run_bench("run.py", tmp_path_factory.mktemp("bench") / "quick.json", "--quick")


class TestQuickRun:
    def test_every_required_figure_has_a_ratio_and_its_target(
        self, quick_run: tuple[str, dict[str, Any]]
    ) -> None:
        """Each required figure is reported once, as a finite ratio with its target."""
        _, report = quick_run
        figures = {figure["key"]: figure for figure in report["figures"]}

        for key in REQUIRED:
            figure = figures[key]
            assert figure["required"] is True
            assert TARGETS[key] == figure["target"]
            assert figure["baseline"] > 0
            assert figure["candidate"] > 0
            assert math.isfinite(figure["ratio"])
            assert math.isclose(figure["ratio"], figure["candidate"] / figure["baseline"])
            assert isinstance(figure["met"], bool)

    def test_reference_rows_have_no_verdict(self, quick_run: tuple[str, dict[str, Any]]) -> None:
        """Rows without a target (raw httpx references) carry a ratio but no pass/fail."""
        _, report = quick_run
        references = [figure for figure in report["figures"] if figure["target"] is None]

        assert {
            "control_image_memory_httpx_json",
            "batch_httpx_threads",
            "cpu_per_image_httpx_threads",
            "cpu_per_image_httpx_async",
        } <= {figure["key"] for figure in references}
        assert all(figure["met"] is None for figure in references)

    def test_machine_and_versions_are_recorded(self, quick_run: tuple[str, dict[str, Any]]) -> None:
        """The report names the machine, Python and the libraries on the measured path."""
        _, report = quick_run

        assert report["quick"] is True
        assert report["machine"]["cores"] >= 1
        assert report["machine"]["cpu"]
        assert report["machine"]["python"].startswith("{}.{}.".format(*sys.version_info))
        for name in ("friendli-images", "httpx", "attrs"):
            assert report["versions"][name]
        assert "openapi-python-client" in report["versions"]

    def test_table_lists_every_figure(self, quick_run: tuple[str, dict[str, Any]]) -> None:
        """The printed table has a row per figure in the JSON, with the same ratio."""
        table, report = quick_run

        rows: dict[str, str] = {}
        for line in table.splitlines():
            if line.strip():
                rows.setdefault(line.split()[0], line)  # the table row comes before the legend
        for figure in report["figures"]:
            assert f"{figure['ratio']:.2f}x" in rows[figure["key"]]
