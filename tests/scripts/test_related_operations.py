"""scripts/related_operations.py: untracked upstream operations beside the tracked ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from related_operations import (
    read_seen,
    related_operations,
    render_seen,
    upstream_operation_ids,
    write_seen,
)

TRACKED = ["imagesGenerate"]
PREFIX = "/dedicated/v1/images/"


def operation(operation_id: str, *tags: str) -> dict[str, Any]:
    return {"operationId": operation_id, "tags": list(tags), "responses": {}}


UPSTREAM: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/dedicated/v1/images/generations": {"post": operation("imagesGenerate", "Image")},
        "/dedicated/v1/images/edits": {"post": operation("imagesEdit", "Image")},
        "/dedicated/v1/images/variations": {"post": operation("imagesVary")},
        "/v1/images/generations": {"post": operation("containerGenerate", "Image")},
        "/dedicated/v1/chat/completions": {"post": operation("chat", "Chat")},
        "/dedicated/v1/images/generations#stream": {"post": operation("imagesStream")},
    },
}


@pytest.mark.parametrize(
    ("operation_id", "reasons"),
    [
        pytest.param("imagesEdit", ("tag Image", f"path prefix {PREFIX}"), id="tag-and-prefix"),
        pytest.param("imagesVary", (f"path prefix {PREFIX}",), id="prefix-only"),
        pytest.param("containerGenerate", ("tag Image",), id="tag-only"),
        pytest.param("imagesStream", (f"path prefix {PREFIX}",), id="stream-pseudo-path"),
        pytest.param("chat", None, id="unrelated"),
        pytest.param("imagesGenerate", None, id="tracked"),
    ],
)  # fmt: skip
def test_related(operation_id: str, reasons: tuple[str, ...] | None) -> None:
    """An untracked operation is related by a shared tag or the tracked path's parent."""
    found = {op.operation_id: op.reasons for op in related_operations(UPSTREAM, TRACKED, None)}

    assert reasons == found.get(operation_id)


def test_new_since_the_last_sync() -> None:
    """Operations missing from the record are new; without a record none is marked."""
    seen = ["imagesGenerate", "imagesEdit", "containerGenerate", "chat", "imagesStream"]

    marked = {op.operation_id: op.new for op in related_operations(UPSTREAM, TRACKED, seen)}
    unknown = {op.new for op in related_operations(UPSTREAM, TRACKED, None)}

    expected = {"imagesEdit": False, "imagesVary": True, "containerGenerate": False}
    assert {**expected, "imagesStream": False} == marked
    assert {None} == unknown


def test_record_round_trip(tmp_path: Path) -> None:
    """The record lists every upstream operationId; rewriting the same list changes nothing."""
    path = tmp_path / "upstream-operations.txt"
    ids = upstream_operation_ids(UPSTREAM)

    assert None is read_seen(path)
    assert write_seen(path, ids) is True
    assert ids == read_seen(path)
    assert write_seen(path, ids) is False
    assert render_seen(ids) == path.read_text(encoding="utf-8")
    assert [] == [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
