"""Bytes on the wire shared by the faults and the HTTP handler: compact JSON, reason phrases."""

from __future__ import annotations

import http
import json
from typing import Any

__all__ = ["json_bytes", "reason_phrase"]


def json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON (no spaces), the way the API sends it."""
    return json.dumps(value, separators=(",", ":")).encode()


def reason_phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``"Error"`` for codes without one)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"
