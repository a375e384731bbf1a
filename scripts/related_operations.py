"""Upstream operations beside the tracked ones, so a new one does not go unnoticed.

The change report only compares the tracked operations. ``related_operations`` lists the
upstream operations that share a tag or a path prefix (the tracked path's parent,
``/dedicated/v1/images/``) with a tracked one but are not tracked themselves, and marks
those whose operationId was not upstream at the previous sync. ``scripts/upstream-operations.txt``
(written by ``update_spec.py``) remembers every operationId upstream had then.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openapi_common import Spec, iter_operations

__all__ = [
    "RelatedOperation",
    "read_seen",
    "related_operations",
    "render_seen",
    "upstream_operation_ids",
    "write_seen",
]

SEEN_HEADER = """\
# Every operationId in the upstream OpenAPI document at the last sync, written by
# scripts/update_spec.py (do not edit). The change report marks related upstream
# operations that are not in this list as new.
"""


@dataclass(frozen=True)
class RelatedOperation:
    """An upstream operation near a tracked one that this client does not track."""

    operation_id: str
    method: str
    path: str
    reasons: tuple[str, ...]
    """``tag Dedicated.Image``, ``path prefix /dedicated/v1/images/``."""
    new: bool | None
    """Not upstream at the previous sync; None when there is no record of it."""

    def to_json(self) -> dict[str, object]:
        return {
            "operationId": self.operation_id,
            "method": self.method,
            "path": self.path,
            "reasons": list(self.reasons),
            "new": self.new,
        }


def _prefix(path: str) -> str:
    """The parent of a path, with its trailing slash: ``/a/b/c`` gives ``/a/b/``."""
    return path.split("#", 1)[0].rsplit("/", 1)[0] + "/"


def upstream_operation_ids(spec: Spec) -> list[str]:
    """Every operationId in ``spec``, in document order, once each."""
    found = [str(operation.get("operationId")) for _, _, operation in iter_operations(spec)]
    return list(dict.fromkeys(name for name in found if name and name != "None"))


def related_operations(
    upstream: Spec, tracked: Sequence[str], seen: Iterable[str] | None
) -> list[RelatedOperation]:
    """Untracked upstream operations sharing a tag or a path prefix with a tracked one."""
    wanted = set(tracked)
    tags: set[str] = set()
    prefixes: set[str] = set()
    for path, _, operation in iter_operations(upstream):
        if operation.get("operationId") in wanted:
            tags.update(str(tag) for tag in operation.get("tags") or [])
            if _prefix(path) != "/":
                prefixes.add(_prefix(path))
    known = None if seen is None else set(seen)
    related = []
    for path, method, operation in iter_operations(upstream):
        operation_id = str(operation.get("operationId") or "")
        if not operation_id or operation_id in wanted:
            continue
        reasons = [f"tag {tag}" for tag in operation.get("tags") or [] if str(tag) in tags]
        reasons += [
            f"path prefix {prefix}" for prefix in sorted(prefixes) if path.startswith(prefix)
        ]
        if reasons:
            new = None if known is None else operation_id not in known
            related.append(RelatedOperation(operation_id, method, path, tuple(reasons), new))
    return related


def read_seen(path: Path) -> list[str] | None:
    """The operationIds recorded at the previous sync; None if there is no record."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    names = (line.split("#", 1)[0].strip() for line in lines)
    return [name for name in names if name]


def render_seen(operation_ids: Iterable[str]) -> str:
    return SEEN_HEADER + "".join(f"{name}\n" for name in operation_ids)


def write_seen(path: Path, operation_ids: Iterable[str]) -> bool:
    """Record ``operation_ids`` atomically; False when the file already says exactly that."""
    text = render_seen(operation_ids)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
