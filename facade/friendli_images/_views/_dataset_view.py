"""Reading a dataset directory for a view, without changing it (a run may be writing it).

Rows are read one line at a time, with a cap on a line's length (a corrupt or hostile
file cannot make a view hold more than ``LINE_LIMIT`` bytes of it); a line that is not
a JSON object with a text ``id`` is skipped. Image paths named by a row are kept only
if they resolve inside the directory (``inside``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from .._jobs._dataset import FAILURES, METADATA

__all__ = ["LINE_LIMIT", "failure_rows", "inside", "metadata_rows", "read_rows"]

LINE_LIMIT: Final = 1024 * 1024


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON-object lines of ``path`` that have a text ``id``; nothing if it is missing."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return
    with file:
        while True:
            raw = file.readline(LINE_LIMIT)
            if not raw:
                return
            if not raw.endswith(b"\n") and len(raw) == LINE_LIMIT:
                while True:  # too long: skip the rest of the line, unread
                    rest = file.readline(LINE_LIMIT)
                    if not rest or rest.endswith(b"\n"):
                        break
                continue
            try:
                row = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                yield row


def metadata_rows(root: Path) -> Iterator[dict[str, Any]]:
    """The image rows of the dataset ``root`` (``metadata.jsonl``)."""
    return read_rows(root / METADATA)


def failure_rows(root: Path) -> Iterator[dict[str, Any]]:
    """The failed jobs of the dataset ``root`` (``failures.jsonl``)."""
    return read_rows(root / FAILURES)


def inside(root: Path, name: object) -> Path | None:
    """``root / name`` if ``name`` is a relative path to a regular file inside ``root``
    (after resolving links); ``None`` for anything else (absolute, ``..``, a link out)."""
    if not isinstance(name, str) or not name or "\0" in name or os.path.isabs(name):
        return None
    base = root.resolve()
    try:
        target = (base / name).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or target == base or not target.is_file():
        return None
    return target
