"""PNG text chunks: written before ``IEND`` without touching any other byte, and read back.

A PNG is an 8-byte signature, then chunks: a 4-byte big-endian length, a 4-byte type,
the data, and a CRC-32 of type and data. Text goes in ``tEXt`` (Latin-1) or ``iTXt``
(UTF-8) chunks, which may come anywhere after ``IHDR``; inserting them just before the
final ``IEND`` leaves every pixel byte (the ``IDAT`` chunks) as it was. The inserter
works on a stream of byte chunks, so a downloaded image is never held whole.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO, Final

from .._exceptions import FriendliImagesError

__all__ = [
    "IEND_CHUNK",
    "PNG_SIGNATURE",
    "PngInserter",
    "chunk",
    "is_complete_png",
    "read_png_texts",
    "text_chunk",
]

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
IEND_CHUNK: Final = b"\x00\x00\x00\x00IEND\xaeB`\x82"
"""The last 12 bytes of every complete PNG."""
_MAX_LENGTH: Final = 2**31 - 1
_TEXT_TYPES: Final = frozenset({b"tEXt", b"iTXt", b"zTXt"})


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type and data."""
    if len(kind) != 4 or len(data) > _MAX_LENGTH:
        raise ValueError("a chunk type has 4 bytes and its data at most 2**31 - 1")
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _keyword(keyword: str) -> bytes:
    encoded = keyword.encode("latin-1")
    if not 1 <= len(encoded) <= 79 or b"\0" in encoded or keyword != keyword.strip():
        raise ValueError(f"invalid PNG text keyword {keyword!r}")
    return encoded


def text_chunk(keyword: str, text: str) -> bytes:
    """A ``tEXt`` chunk when ``text`` is Latin-1 without NUL, else an uncompressed ``iTXt``."""
    key = _keyword(keyword)
    try:
        latin = text.encode("latin-1")
    except UnicodeEncodeError:
        latin = None
    if latin is not None and b"\0" not in latin:
        return chunk(b"tEXt", key + b"\0" + latin)
    # keyword NUL, compression flag 0, method 0, empty language NUL, empty translation NUL
    return chunk(b"iTXt", key + b"\0\0\0\0\0" + text.encode("utf-8"))


class PngInserter:
    """Passes a PNG through, adding ``insert`` (whole chunks) just before its ``IEND``.

    ``feed`` returns the bytes to write for each piece of input; ``finish`` checks that an
    ``IEND`` was seen (else the image is truncated, and ``FriendliImagesError`` says so).
    """

    def __init__(self, insert: bytes) -> None:
        self._insert = insert
        self._signature = bytearray()
        self._header = bytearray()
        self._skip = 0
        self._ended = False

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        view = memoryview(data)
        position = 0
        while position < len(view):
            if self._skip:
                step = min(self._skip, len(view) - position)
                out += view[position : position + step]
                self._skip -= step
                position += step
            elif self._ended:  # bytes after IEND: kept as they were
                out += view[position:]
                break
            elif len(self._signature) < len(PNG_SIGNATURE):
                step = min(len(PNG_SIGNATURE) - len(self._signature), len(view) - position)
                self._signature += view[position : position + step]
                position += step
                if len(self._signature) == len(PNG_SIGNATURE):
                    if bytes(self._signature) != PNG_SIGNATURE:
                        raise FriendliImagesError("the image is not a PNG (bad signature)")
                    out += self._signature
            else:
                step = min(8 - len(self._header), len(view) - position)
                self._header += view[position : position + step]
                position += step
                if len(self._header) == 8:
                    (length,) = struct.unpack(">I", self._header[:4])
                    if length > _MAX_LENGTH:
                        raise FriendliImagesError("the PNG has a chunk longer than 2**31 - 1")
                    if bytes(self._header[4:]) == b"IEND":
                        out += self._insert
                        self._ended = True
                    out += self._header
                    self._header.clear()
                    self._skip = length + 4  # the data and the CRC
        return bytes(out)

    def finish(self) -> None:
        if not self._ended or self._skip:
            raise FriendliImagesError(
                "the PNG ends before its IEND chunk (truncated); no recipe was embedded"
            )


def is_complete_png(file: BinaryIO) -> bool:
    """Whether ``file`` starts with the PNG signature and ends with the ``IEND`` chunk."""
    head = file.read(len(PNG_SIGNATURE))
    if head != PNG_SIGNATURE:
        return False
    file.seek(0, 2)
    if file.tell() < len(PNG_SIGNATURE) + len(IEND_CHUNK):
        return False
    file.seek(-len(IEND_CHUNK), 2)
    return file.read() == IEND_CHUNK


def _decode_text(kind: bytes, data: bytes, limit: int) -> tuple[str, str] | None:
    keyword, sep, rest = data.partition(b"\0")
    if not sep:
        return None
    key = keyword.decode("latin-1")
    if kind == b"tEXt":
        return key, rest.decode("latin-1")
    if kind == b"zTXt":
        return (key, _inflate(rest[1:], limit).decode("latin-1")) if rest[:1] == b"\0" else None
    if len(rest) < 2:
        return None
    compressed, method = rest[0], rest[1]
    language_end = rest.find(b"\0", 2)
    if language_end < 0:
        return None
    translated_end = rest.find(b"\0", language_end + 1)
    if translated_end < 0:
        return None
    body = rest[translated_end + 1 :]
    if compressed:
        if method != 0:
            return None
        body = _inflate(body, limit)
    return key, body.decode("utf-8", "replace")


def _inflate(data: bytes, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes (a small chunk can inflate to gigabytes)."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, limit)
    if inflater.unconsumed_tail:
        raise ValueError("the text is larger than the limit")
    return out


def read_png_texts(file: BinaryIO, *, limit: int) -> dict[str, str]:
    """The text chunks of the PNG ``file`` (keyword to text; the first of a keyword wins).

    Only chunk headers are read, other chunks are skipped over; a text chunk larger than
    ``limit`` bytes (data, or decompressed text) or with a wrong CRC is ignored.
    """
    if file.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
        return {}
    texts: dict[str, str] = {}
    while True:
        header = file.read(8)
        if len(header) < 8:
            return texts
        (length,) = struct.unpack(">I", header[:4])
        kind = header[4:]
        if kind == b"IEND":
            return texts
        if kind not in _TEXT_TYPES or length > limit:
            file.seek(length + 4, 1)
            continue
        data = file.read(length)
        crc = file.read(4)
        if len(data) < length or len(crc) < 4:
            return texts
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + data) & 0xFFFFFFFF:
            continue
        try:
            decoded = _decode_text(kind, data, limit)
        except (ValueError, zlib.error):
            continue
        if decoded is not None:
            texts.setdefault(*decoded)
