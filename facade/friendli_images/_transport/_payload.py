"""``Base64Payload``: image bytes that travel as a base64 data URI inside the JSON body,
encoded chunk by chunk while the body is written (``_exchange``), never as one string.

``_control_images`` builds them from what users pass (paths, bytes, files, PIL images);
this module only knows how to stream one and to notice that its file changed.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
from collections.abc import Iterator
from pathlib import Path

from .._exceptions import FriendliImagesError, InvalidRequestError

__all__ = ["Base64Payload"]

_RAW_CHUNK = 3 * 256 * 1024  # a multiple of 3, so every chunk encodes without padding


class Base64Payload:
    """Image bytes that are sent as ``data:<mime>;base64,...`` without building the string.

    The bytes come from memory (kept by reference, not copied) or from a file (read
    again, chunk by chunk, for every attempt to send).
    """

    __slots__ = ("_data", "_mtime_ns", "_param", "_path", "mime_type", "size")

    def __init__(
        self,
        mime_type: str,
        size: int,
        *,
        data: memoryview | None = None,
        path: Path | None = None,
        mtime_ns: int | None = None,
        param: str = "image",
    ) -> None:
        self.mime_type = mime_type
        self.size = size
        self._data = data
        self._path = path
        self._mtime_ns = mtime_ns
        self._param = param

    def __repr__(self) -> str:
        source = str(self._path) if self._path is not None else "<memory>"
        return f"Base64Payload({self.mime_type!r}, size={self.size}, source={source!r})"

    @property
    def prefix(self) -> bytes:
        return f"data:{self.mime_type};base64,".encode("ascii")

    @property
    def encoded_length(self) -> int:
        """Length of the whole data URI in bytes."""
        return len(self.prefix) + 4 * math.ceil(self.size / 3)

    def iter_encoded(self) -> Iterator[bytes]:
        """Yield the data URI in pieces of about 1 MiB."""
        yield self.prefix
        if self._data is not None:
            for start in range(0, self.size, _RAW_CHUNK):
                yield base64.b64encode(self._data[start : start + _RAW_CHUNK])
            return
        assert self._path is not None
        sent = 0
        try:
            with self._path.open("rb") as file:
                self._check_stat(os.fstat(file.fileno()))
                while sent < self.size:
                    chunk = file.read(min(_RAW_CHUNK, self.size - sent))
                    if not chunk:
                        break
                    sent += len(chunk)
                    yield base64.b64encode(chunk)
        except OSError as exc:
            raise FriendliImagesError(
                f"{self._param}: {self._path} could not be read while sending: "
                f"{exc.strerror or exc}"
            ) from exc
        if sent != self.size:
            raise FriendliImagesError(
                f"{self._param}: {self._path} changed size while it was being sent"
            )

    def check_unchanged(self) -> None:
        """``InvalidRequestError`` if the file changed since it was checked (before a retry)."""
        if self._path is None:
            return
        try:
            stat = self._path.stat()
        except OSError as exc:
            raise InvalidRequestError(
                f"{self._param}: {str(self._path)!r} can no longer be read: {exc.strerror or exc}",
                param=self._param,
            ) from None
        self._check_stat(stat)

    def _check_stat(self, stat: os.stat_result) -> None:
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self._mtime_ns):
            raise InvalidRequestError(
                f"{self._param}: {str(self._path)!r} changed (size or modification time) after "
                "it was checked; it was not sent",
                param=self._param,
            )

    def digest(self) -> tuple[str, int]:
        """The SHA-256 (hex) and size of the raw bytes (a file is read again, in chunks)."""
        sha = hashlib.sha256()
        if self._data is not None:
            sha.update(self._data)
            return sha.hexdigest(), self.size
        assert self._path is not None
        with self._path.open("rb") as file:
            for block in iter(lambda: file.read(_RAW_CHUNK), b""):
                sha.update(block)
        return sha.hexdigest(), self.size

    def to_data_uri(self) -> str:
        return b"".join(self.iter_encoded()).decode("ascii")
