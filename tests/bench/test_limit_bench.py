"""``bench/limit.py --quick`` runs every section and reports each figure once, consistently.

No speed is judged: the rows' ratios, verdicts and ranges must agree with their own
numbers, and the printed table with the JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

# Each section's figures in a quick run (ceiling and level 64 only), with goal and direction.
EXPECTED: dict[str, dict[str, tuple[float | None, str | None]]] = {
    "per_call": {
        f"per_call_{path}_{fmt}{cpu}": (1.05, "<=")
        for path in ("sync", "async")
        for fmt in ("url", "png")
        for cpu in ("", "_cpu")
    },
    "throttle": {
        **{f"throttle_requests_{path}_64": (1.2, "<=") for path in ("sync", "async")},
        **{f"throttle_throughput_{path}_64": (0.95, ">=") for path in ("sync", "async")},
    },
    "url_batches": {
        "url_batch_64": (1.1, "<="),
        "url_cpu_64": (1.1, "<="),
        "url_connections_64": (128, "<="),
    },
    "cpu_per_image": {
        "cpu_per_image_sync": (1.1, "<="),
        "cpu_per_image_async": (1.1, "<="),
        "cpu_per_image_run": (1.1, "<="),
        "cpu_per_image_httpx_threads": (None, None),
        "cpu_per_image_httpx_async": (None, None),
    },
    "import": {
        "import": (1.15, "<="),
        "import_cpu": (1.15, "<="),
        "import_importtime": (1.15, "<="),
    },
}
SERVER_SECTIONS = ("throttle", "url_batches", "cpu_per_image")


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory, run_bench: Callable[..., tuple[str, dict[str, Any]]]
) -> tuple[str, dict[str, Any]]:
    """The quick run of every section, once: what it printed and its JSON."""
    return run_bench("limit.py", tmp_path_factory.mktemp("limit") / "limit.json", "--quick")


def test_every_section_reports_its_figures(quick_run: tuple[str, dict[str, Any]]) -> None:
    _, report = quick_run
    assert report["quick"] is True
    assert list(EXPECTED) == report["sections"]
    for section, figures in EXPECTED.items():
        rows = {row["figure"]: row for row in report["rows"] if row["section"] == section}
        assert set(figures) == set(rows), section
        for name, (goal, direction) in figures.items():
            assert goal == rows[name]["goal"], name
            assert direction == rows[name]["direction"], name
    assert len(report["rows"]) == sum(len(figures) for figures in EXPECTED.values())


def test_ratio_is_ours_over_raw(quick_run: tuple[str, dict[str, Any]]) -> None:
    """Where both sides exist the ratio is theirs; only the throttle rows have no raw side."""
    _, report = quick_run
    for row in report["rows"]:
        assert math.isfinite(row["ratio"]), row["figure"]
        assert row["ratio"] > 0, row["figure"]
        assert row["ours"] > 0, row["figure"]
        if row["raw"] is None:
            assert "throttle" == row["section"], row["figure"]
        else:
            assert row["raw"] > 0
            assert math.isclose(row["ratio"], row["ours"] / row["raw"]), row["figure"]


def test_met_follows_goal_and_direction(quick_run: tuple[str, dict[str, Any]]) -> None:
    _, report = quick_run
    for row in report["rows"]:
        if row["goal"] is None:
            assert row["met"] is None, row["figure"]
            continue
        value = row[row["judged"]]
        expected = value <= row["goal"] if row["direction"] == "<=" else value >= row["goal"]
        assert expected is row["met"], row["figure"]
    judged_on_ours = {row["figure"] for row in report["rows"] if row["judged"] == "ours"}
    assert {"url_connections_64"} == judged_on_ours


def test_ranges_bound_and_one_repetition(quick_run: tuple[str, dict[str, Any]]) -> None:
    """Every range is ordered; a ratio range over one repetition is that repetition's ratio."""
    _, report = quick_run
    for row in report["rows"]:
        for low, high in row["range"].values():
            assert low <= high, row["figure"]
        if row["range_kind"] == "1 rep" and "ratio" in row["range"]:
            low, high = row["range"]["ratio"]
            assert math.isclose(low, row["ratio"]), row["figure"]
            assert math.isclose(high, row["ratio"]), row["figure"]
    kinds = {row["section"]: row["range_kind"] for row in report["rows"]}
    assert all("1 rep" == kinds[section] for section in SERVER_SECTIONS)


def test_table_has_one_line_per_row(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header, rule, *body = lines
    assert header.split("|")[1:-1] == [
        " figure ",
        " raw httpx ",
        " friendli-images ",
        " ratio ",
        " range ",
        " goal ",
        " met ",
    ]
    assert set(rule) <= {"|", "-"}
    assert len(report["rows"]) == len(body)
    for line, row in zip(body, report["rows"], strict=True):
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        assert 7 == len(cells)
        assert row["figure"] == cells[0]
        assert (cells[1] == "—") is (row["raw"] is None)
        assert cells[3].startswith(f"{row['ratio']:.3f}")
        assert {True: "yes", False: "no", None: "—"}[row["met"]] == cells[6]


def test_server_cpu_and_provenance(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert set(SERVER_SECTIONS) == set(report["servers"])
    for section, server in report["servers"].items():
        assert server["cpu_seconds"] >= 0
        assert server["wall_seconds"] > 0
        assert f"server CPU ({section}): " in stdout
    assert report["machine"]["cores"] >= 1
    assert report["versions"]["httpx"]
    assert report["versions"]["friendli-images"]
    assert "commit" in report["git"]
    assert set(EXPECTED) == set(report["section_seconds"])
