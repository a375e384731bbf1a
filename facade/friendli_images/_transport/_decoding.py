"""Content-Encoding decoding in bounded steps, so that a size limit holds for gzip bombs.

httpx decodes each network read in one call: 64 KiB of gzip can inflate to 64 MiB
before anyone counts it. ``BoundedDecoder`` inflates at most ``STEP`` bytes per call
instead, so the caller's byte count stops a bomb within one step of its limit.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

__all__ = ["ACCEPT_ENCODING", "STEP", "BoundedDecoder"]

STEP = 1024 * 1024
"""Most bytes one decoding step produces."""

ACCEPT_ENCODING = "gzip, deflate"
"""What we ask servers for: the encodings ``BoundedDecoder`` handles."""


class BoundedDecoder:
    """Decode one body's ``Content-Encoding`` (identity, gzip or deflate) step by step."""

    def __init__(self, content_encoding: str | None) -> None:
        encoding = (content_encoding or "identity").strip().lower()
        self._deflate = encoding == "deflate"
        self._zlib: zlib._Decompress | None
        if encoding in ("identity", ""):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._deflate:
            self._zlib = zlib.decompressobj()
        else:
            raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}")
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield the decoded form of ``data`` in pieces of at most ``STEP`` bytes."""
        if self._zlib is None:
            for start in range(0, len(data), STEP):
                yield data[start : start + STEP]
            return
        while data:
            try:
                out = self._zlib.decompress(data, STEP)
            except zlib.error as exc:
                if self._deflate and not self._started:  # raw deflate, without zlib header
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._deflate = False
                    continue
                raise httpx.DecodingError(f"the body does not decode: {exc}") from None
            self._started = True
            data = self._zlib.unconsumed_tail
            if out:
                yield out

    def flush(self) -> bytes:
        """What is left once the body is complete (at most the decoder's window)."""
        if self._zlib is None:
            return b""
        try:
            return self._zlib.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(f"the body does not decode: {exc}") from None
