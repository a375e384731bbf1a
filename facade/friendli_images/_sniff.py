"""Tell an image's type from its first bytes (magic numbers)."""

from __future__ import annotations

__all__ = [
    "FORMAT_TYPES",
    "SNIFF_BYTES",
    "TAIL_BYTES",
    "extension_for",
    "image_problem",
    "sniff_image_type",
    "truncation",
]

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


TAIL_BYTES = 12
"""How many trailing bytes ``truncation`` needs."""

_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
"""A PNG's last chunk: IEND, empty, with its CRC."""


def truncation(mime_type: str | None, head: bytes, tail: bytes, size: int) -> str | None:
    """Why an image of ``size`` bytes looks cut short, from bytes already in hand (its
    first ``SNIFF_BYTES`` and last ``TAIL_BYTES``), or ``None`` when its end is intact.

    A PNG ends with its IEND chunk, a JPEG with the EOI marker (zero padding after it is
    tolerated), a GIF with its trailer byte, and a WebP is as long as its RIFF header says.
    """
    if mime_type == "image/png":
        return None if tail.endswith(_PNG_END) else "a PNG image without its IEND chunk"
    if mime_type == "image/jpeg":
        ok = tail.rstrip(b"\x00").endswith(b"\xff\xd9")
        return None if ok else "a JPEG image without its end-of-image marker"
    if mime_type == "image/gif":
        return None if tail.endswith(b"\x3b") else "a GIF image without its trailer"
    if mime_type == "image/webp" and len(head) >= 8:
        declared = int.from_bytes(head[4:8], "little") + 8
        if declared > size:
            return f"a WebP image of {size} of the {declared} bytes its header declares"
    return None


def image_problem(data: bytes) -> str | None:
    """Why ``data`` (a whole image in hand) is not a usable image, or ``None``."""
    if not data:
        return "is empty"
    head = data[:SNIFF_BYTES]
    mime_type = sniff_image_type(head)
    if mime_type is None:
        return "is not a PNG, JPEG, WebP or GIF image"
    cut = truncation(mime_type, head, data[-TAIL_BYTES:], len(data))
    return None if cut is None else f"is {cut} (cut short)"
