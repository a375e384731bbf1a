"""OpenAPI helpers shared by the spec scripts: JSON pointers, HTTP methods, operations.

``spec_filter.py``, ``spec_fixes.py`` and the change report (``spec_diff.py`` and its
modules) all walk the same documents; what they need in common lives here, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = [
    "HTTP_METHODS",
    "Spec",
    "escape",
    "iter_operations",
    "pointer",
    "ref_name",
    "resolve_pointer",
    "unescape",
]

Spec = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""The operation keys of an OpenAPI path item, in the specification's order."""


def escape(token: str) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """Undo ``escape``: one JSON-pointer reference token back to its text."""
    return token.replace("~1", "/").replace("~0", "~")


def ref_name(ref: str) -> str:
    """The last token of a reference, unescaped: ``#/components/schemas/A~1B`` gives ``A/B``."""
    return unescape(ref.rsplit("/", 1)[-1])


def pointer(*tokens: str | int) -> str:
    """Build a JSON pointer from unescaped tokens: ``pointer("paths", "/a", "post")``."""
    return "".join("/" + escape(str(token)) for token in tokens)


def resolve_pointer(document: Any, ref: str) -> Any:
    """Return the node a local ``#/...`` reference names; ``KeyError`` if there is none."""
    if ref in ("#", "#/"):
        return document
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node = document
    for raw in ref[2:].split("/"):
        token = unescape(raw)
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(ref)
    return node


def iter_operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield ``(path, method, operation)`` for every operation, in document order."""
    paths = spec.get("paths")
    for path, item in (paths if isinstance(paths, dict) else {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield str(path), method, operation
