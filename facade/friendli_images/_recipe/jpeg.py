"""JPEG metadata segments: inserted after the start of the image, and read back.

A JPEG is a sequence of marker segments (``FF xx``, then for most a 2-byte big-endian
length that counts itself) up to the start of scan (``FF DA``), after which come the
entropy-coded pixels and the end of image (``FF D9``). New segments go right after the
``SOI`` marker (after the ``APP0`` JFIF segment when that comes first, which JFIF wants
first), so every other byte, the entropy-coded data included, is left as it was.

The recipe is written as two segments:

* ``APP1`` Exif with only a ``UserComment`` (prefix ``UNICODE``, UTF-16 big-endian):
  where AUTOMATIC1111 and the tools that read it keep the ``parameters`` text;
* ``COM`` (comment) holding our JSON, UTF-8.

A segment holds at most 65533 bytes; a longer recipe is refused (``FriendliImagesError``).
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Final

from .._exceptions import FriendliImagesError

__all__ = [
    "JpegInserter",
    "com_segment",
    "exif_user_comment_segment",
    "is_complete_jpeg",
    "parse_user_comment",
    "read_jpeg_texts",
]

SOI: Final = b"\xff\xd8"
EOI: Final = b"\xff\xd9"
_MAX_SEGMENT: Final = 65533
"""The most data one segment holds (its length field counts itself: 65535)."""
_UNICODE: Final = b"UNICODE\0"
_ASCII: Final = b"ASCII\0\0\0"
_EXIF: Final = b"Exif\0\0"
_EXIF_IFD_TAG: Final = 0x8769
_USER_COMMENT_TAG: Final = 0x9286
_NO_LENGTH: Final = frozenset({0x01, *range(0xD0, 0xD8)})
"""Markers without a length: TEM and the restart markers."""


def _segment(marker: int, data: bytes, what: str) -> bytes:
    if len(data) > _MAX_SEGMENT:
        raise FriendliImagesError(
            f"the {what} is {len(data)} bytes, more than a JPEG segment holds "
            f"({_MAX_SEGMENT}); save as PNG to keep a recipe this long"
        )
    return bytes((0xFF, marker)) + struct.pack(">H", len(data) + 2) + data


def com_segment(text: str) -> bytes:
    """A ``COM`` segment holding ``text`` in UTF-8."""
    return _segment(0xFE, text.encode("utf-8"), "recipe")


def exif_user_comment_segment(text: str) -> bytes:
    """An ``APP1`` Exif segment whose only field is ``UserComment`` = ``text``.

    Big-endian TIFF: IFD0 holds one entry, the pointer to the Exif IFD, which holds one
    entry, the comment (type UNDEFINED, ``UNICODE\\0`` then UTF-16-BE, as piexif and
    AUTOMATIC1111 write it).
    """
    comment = _UNICODE + text.encode("utf-16-be")
    exif_ifd = 8 + 2 + 12 + 4  # after the header and IFD0 (one entry, next-IFD offset)
    comment_at = exif_ifd + 2 + 12 + 4
    tiff = (
        b"MM\x00\x2a"
        + struct.pack(">I", 8)
        + struct.pack(">H", 1)
        + struct.pack(">HHII", _EXIF_IFD_TAG, 4, 1, exif_ifd)
        + struct.pack(">I", 0)
        + struct.pack(">H", 1)
        + struct.pack(">HHII", _USER_COMMENT_TAG, 7, len(comment), comment_at)
        + struct.pack(">I", 0)
        + comment
    )
    return _segment(0xE1, _EXIF + tiff, "A1111 parameters text (UTF-16)")


class JpegInserter:
    """Passes a JPEG through, adding ``insert`` (whole segments) after ``SOI`` (and a
    leading ``APP0``); ``finish`` says when the stream was too short to hold one."""

    def __init__(self, insert: bytes) -> None:
        self._insert = insert
        self._head = bytearray()
        self._done = False

    def _cut(self) -> int | None:
        """Where to insert in the head read so far; ``None``: more bytes are needed."""
        head = self._head
        if len(head) < 4:
            return None
        if head[:2] != SOI:
            raise FriendliImagesError("the image is not a JPEG (no SOI marker)")
        if head[2:4] != b"\xff\xe0":
            return 2
        if len(head) < 6:
            return None
        (length,) = struct.unpack(">H", head[4:6])
        end = 4 + length
        return end if len(head) >= end else None

    def feed(self, data: bytes) -> bytes:
        if self._done:
            return data
        self._head += data
        cut = self._cut()
        if cut is None:
            return b""
        self._done = True
        head, self._head = self._head, bytearray()
        return bytes(head[:cut]) + self._insert + bytes(head[cut:])

    def finish(self) -> None:
        if not self._done:
            raise FriendliImagesError("the JPEG ends before its first segment; no recipe embedded")


def is_complete_jpeg(file: BinaryIO) -> bool:
    """Whether ``file`` starts with ``SOI`` and ends with ``EOI``."""
    if file.read(2) != SOI:
        return False
    file.seek(0, 2)
    if file.tell() < 4:
        return False
    file.seek(-2, 2)
    return file.read() == EOI


def parse_user_comment(exif: bytes) -> str | None:
    """The ``UserComment`` of an Exif block (``Exif\\0\\0`` + TIFF), or ``None``."""
    if exif.startswith(_EXIF):
        exif = exif[len(_EXIF) :]
    if exif[:4] == b"MM\x00\x2a":
        order = ">"
    elif exif[:4] == b"II\x2a\x00":
        order = "<"
    else:
        return None
    try:
        (ifd0,) = struct.unpack_from(order + "I", exif, 4)
        exif_ifd = _find_entry(exif, order, ifd0, _EXIF_IFD_TAG)
        if exif_ifd is None:
            return None
        entry = _find_entry(exif, order, exif_ifd[1], _USER_COMMENT_TAG)
        if entry is None:
            return None
        count, offset = entry
        raw = exif[offset : offset + count] if count > 4 else b""
    except struct.error:
        return None
    if len(raw) < 8:
        return None
    prefix, body = raw[:8], raw[8:]
    if prefix == _UNICODE:
        return body.decode("utf-16-be", "replace")
    if prefix == _ASCII:
        return body.decode("ascii", "replace")
    return body.decode("utf-8", "replace")


def _find_entry(tiff: bytes, order: str, offset: int, tag: int) -> tuple[int, int] | None:
    """``(count, value)`` of ``tag`` in the IFD at ``offset``; ``None`` if absent."""
    (entries,) = struct.unpack_from(order + "H", tiff, offset)
    for index in range(entries):
        entry_tag, _kind, count, value = struct.unpack_from(
            order + "HHII", tiff, offset + 2 + 12 * index
        )
        if entry_tag == tag:
            return count, value
    return None


def read_jpeg_texts(file: BinaryIO) -> tuple[list[str], str | None]:
    """The ``COM`` texts and the Exif ``UserComment`` of the JPEG ``file``.

    Only the segments before the start of scan are read (each at most 64 KiB).
    """
    comments: list[str] = []
    user_comment: str | None = None
    if file.read(2) != SOI:
        return comments, None
    while True:
        byte = file.read(1)
        if byte != b"\xff":
            return comments, user_comment
        marker = file.read(1)
        while marker == b"\xff":  # fill bytes
            marker = file.read(1)
        if not marker or marker[0] in (0xDA, 0xD9):  # start of scan, end of image
            return comments, user_comment
        if marker[0] in _NO_LENGTH or marker[0] == 0xD8:
            continue
        length_bytes = file.read(2)
        if len(length_bytes) < 2:
            return comments, user_comment
        (length,) = struct.unpack(">H", length_bytes)
        data = file.read(max(length - 2, 0))
        if marker[0] == 0xFE:
            comments.append(data.decode("utf-8", "replace"))
        elif marker[0] == 0xE1 and data.startswith(_EXIF) and user_comment is None:
            user_comment = parse_user_comment(data)
