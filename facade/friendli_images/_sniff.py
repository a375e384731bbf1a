"""Tell an image's type from its first bytes (magic numbers)."""

from __future__ import annotations

__all__ = ["FORMAT_TYPES", "SNIFF_BYTES", "extension_for", "sniff_image_type"]

SNIFF_BYTES = 12
"""How many leading bytes ``sniff_image_type`` needs."""

FORMAT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg"}
"""MIME types implied by the API's ``response_format`` values, for when bytes are unknown."""

_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of an image from its first ``SNIFF_BYTES`` bytes, or ``None``."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def extension_for(mime_type: str) -> str:
    """The usual file extension for an image MIME type (``.bin`` if unknown)."""
    return _EXTENSIONS.get(mime_type, ".bin")
