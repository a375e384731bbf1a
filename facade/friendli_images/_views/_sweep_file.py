"""The sweep description a sweep directory holds (``sweep.json``), and its jobs file's
name: what the contact sheet and the gallery read back, below the sweep runner itself."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

__all__ = ["FORMAT", "SWEEP_FILE", "SWEEP_JOBS", "read_sweep"]

SWEEP_JOBS: Final = "sweep.jsonl"
SWEEP_FILE: Final = "sweep.json"
FORMAT: Final = "friendli-images sweep 1"


def read_sweep(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``sweep.json`` of ``directory`` (``None``: not a sweep, or unreadable)."""
    try:
        with (Path(directory) / SWEEP_FILE).open("rb") as file:
            value = json.loads(file.read(16 * 1024 * 1024))
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        return None
    axes = value.get("axes")
    if not isinstance(axes, list) or not all(
        isinstance(a, dict)
        and isinstance(a.get("field"), str)
        and isinstance(a.get("values"), list)
        for a in axes
    ):
        return None
    return value
