"""Rows in, rows out: the pure rules of the Ray Data stage (no Ray, no network here).

* A row is a jobs line: ``prompt`` and any other ``generate()``/``edit()`` argument under
  the same names, plus an optional ``id`` (the same rule as a jobs file's, ``_jobs``).
  A null cell means the row does not set that argument (Parquet has no "absent").
* Each request ends as output rows of one fixed schema (``OUTPUT_SCHEMA``): one per image,
  or one for a failed request with its error class, status and message.
* The endpoint should see one total of requests in flight: ``spread`` shares it out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._exceptions import FriendliImagesError
from .._jobs._dataset import _column, failure_row
from .._jobs._lines import line_option_problem, split_id
from .._redaction import redact

__all__ = [
    "COLUMNS",
    "RowRequest",
    "failure_columns",
    "image_columns",
    "recipe_text",
    "row_request",
    "spread",
]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("prompt", "string"),
    ("recipe", "string"),
    ("image", "binary"),
    ("mime_type", "string"),
    ("seed", "int64"),
    ("image_index", "int64"),
    ("seconds", "float64"),
    ("error", "string"),
    ("status", "int64"),
    ("message", "string"),
)
"""The output columns and their Arrow types, in order (``_stage`` builds the schema)."""


@attrs.frozen
class RowRequest:
    """One input row read as a job: its ``id`` (or ``None``), its request, or why it is none."""

    id: str | None
    request: dict[str, Any]
    problem: str | None = None


def row_request(row: Mapping[str, Any], defaults: Mapping[str, Any]) -> RowRequest:
    """Read ``row`` as a jobs line with ``defaults`` for what it omits (nulls omit).

    Whether the fields make a valid request is the client's check, as for a jobs line;
    an unusable ``id`` is this function's ``problem``.
    """
    fields = {name: value for name, value in row.items() if value is not None}
    job_id, problem = split_id(fields)
    problem = line_option_problem(fields) or problem
    return RowRequest(job_id, {**defaults, **fields}, problem)


def recipe_text(request: Mapping[str, Any]) -> str:
    """The request as JSON text, as ``metadata.jsonl`` writes its fields (no raw bytes)."""
    fields = {name: _column(name, value) for name, value in request.items()}
    return json.dumps(fields, ensure_ascii=False, allow_nan=False, default=str, sort_keys=True)


def _prompt(request: Mapping[str, Any]) -> str | None:
    prompt = request.get("prompt")
    return prompt if isinstance(prompt, str) else None


def image_columns(
    job_id: str | None,
    request: Mapping[str, Any],
    images: Sequence[tuple[bytes, str, int | None]],
    seconds: float,
) -> list[dict[str, Any]]:
    """The output rows of a request that succeeded: one per ``(bytes, mime type, seed)``."""
    recipe = recipe_text(request)
    return [
        {
            "id": job_id,
            "prompt": _prompt(request),
            "recipe": recipe,
            "image": data,
            "mime_type": mime_type,
            "seed": seed,
            "image_index": position,
            "seconds": round(seconds, 3),
            "error": None,
            "status": None,
            "message": None,
        }
        for position, (data, mime_type, seed) in enumerate(images)
    ]


def failure_columns(
    job_id: str | None,
    request: Mapping[str, Any],
    error: FriendliImagesError | str,
    seconds: float,
    secrets: Sequence[str],
) -> dict[str, Any]:
    """The output row of a request that failed (``error`` text: the row is no job)."""
    failure = failure_row(job_id or "", 0, error)
    return {
        "id": job_id,
        "prompt": _prompt(request),
        "recipe": recipe_text(request),
        "image": None,
        "mime_type": None,
        "seed": None,
        "image_index": None,
        "seconds": round(seconds, 3),
        "error": failure["error"],
        "status": failure["status"],
        "message": redact(failure["message"], secrets),
    }


def spread(total: int, actors: int, index: int) -> int:
    """Actor ``index``'s share of ``total`` requests in flight over ``actors`` actors.

    The shares add up to ``total``, differ by at most one, and are never below one
    (``total`` < ``actors`` gives each actor one: the endpoint then sees ``actors``).
    """
    share, extra = divmod(total, actors)
    return max(1, share + (1 if index % actors < extra else 0))
