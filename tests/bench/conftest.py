"""What the benchmark smoke tests share: running one benchmark script and reading its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_bench(
    script: str, json_path: Path, *args: str, timeout: float = 180
) -> tuple[str, dict[str, Any]]:
    """Run ``python bench/<script> ARGS --json JSON_PATH`` from the repository root.

    It must exit 0 (else the test fails with its stderr); returns what it printed and the
    JSON it wrote.
    """
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args, "--json", str(json_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout, json.loads(json_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def run_bench() -> Callable[..., tuple[str, dict[str, Any]]]:
    """``run_bench(script, json_path, *args, timeout=180)``: one benchmark script run in a
    subprocess (``_run_bench``); what it printed and its JSON report."""
    return _run_bench
