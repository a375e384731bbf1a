"""Reading an API error body, whatever its shape: its text, its JSON, the server's own
words, and what made a 200 body fail the spec. The caller redacts what it keeps."""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = ["decode_error_body", "error_message", "parse_problem", "safe_text"]


def safe_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (LookupError, ValueError):  # an unknown or broken charset
        return response.content.decode("utf-8", "replace")


def decode_error_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        return safe_text(response)


def error_message(body: Any) -> str | None:
    """The server's own words from an error body, whatever its shape."""
    if isinstance(body, str):
        return body.strip()[:1000] or None
    if not isinstance(body, dict):
        return None
    for key in ("message", "detail", "error", "msg"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            nested = error_message(value)
            if nested:
                return nested
        if isinstance(value, list) and value:
            return "; ".join(_validation_item(item) for item in value)
    return None


def _validation_item(item: Any) -> str:
    if isinstance(item, dict) and "msg" in item:
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        return f"{location}: {item['msg']}" if location else str(item["msg"])
    return str(item)


def parse_problem(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"the body is not valid JSON ({exc.msg} at position {exc.pos})"
    if isinstance(exc, KeyError):
        return f"the required property {exc.args[0]!r} is missing"
    return str(exc) or type(exc).__name__
