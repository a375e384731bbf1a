"""Writing image files: atomically, and never over an existing file unless asked.

Bytes go to a hidden temporary file beside the target; only a complete file is moved
into place. Without ``overwrite`` the final step is a hard link, which fails if the
target appeared in the meantime, so even a race cannot replace someone's file. Any
failure (including Ctrl-C) removes the temporary file: no partial file is ever left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ._exceptions import OutputExistsError
from ._sniff import SNIFF_BYTES

__all__ = ["AtomicWriter", "asave_chunks", "resolve_target", "save_chunks"]

_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP})


# What counts as a file extension: a dot, a letter, then at most four letters or digits.
# "v1.2" or "shot-3.5x" have none, so they still get the image's own.
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}")


def has_extension(name: str) -> bool:
    return _EXTENSION.fullmatch(os.path.splitext(name)[1]) is not None


def resolve_target(path: Path, default_stem: str, extension: str) -> Path:
    """A directory gets ``default_stem + extension`` inside it; a name without one gets it."""
    if path.is_dir():
        return path / f"{default_stem}{extension}"
    if not has_extension(path.name):
        return path.with_name(path.name + extension)
    return path


class AtomicWriter:
    """A temporary file that becomes ``target`` on ``commit()`` and vanishes otherwise."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._temp = directory / f".friendli-images-{os.urandom(6).hex()}.part"
        self._file: BinaryIO | None = self._temp.open("xb")

    def write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)

    def commit(self, target: Path, *, overwrite: bool) -> Path:
        assert self._file is not None
        self._file.close()
        self._file = None
        if overwrite:
            os.replace(self._temp, target)
            return target
        try:
            os.link(self._temp, target)
        except FileExistsError:
            raise OutputExistsError(str(target)) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if target.exists():  # no hard links here: check, then rename
                raise OutputExistsError(str(target)) from None
            os.rename(self._temp, target)
            return target
        self._temp.unlink()
        return target

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()


def _check_free(target: Path, overwrite: bool) -> None:
    if not overwrite and target.exists():
        raise OutputExistsError(str(target))


def save_chunks(
    chunks: Iterator[bytes], target_for: Callable[[bytes], Path], *, overwrite: bool
) -> Path:
    """Write ``chunks`` to the path ``target_for(first bytes)`` chooses, atomically."""
    head = b""
    for chunk in chunks:  # the name may depend on the image type: read its magic number first
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    target = target_for(head[:SNIFF_BYTES])
    _check_free(target, overwrite)
    writer = AtomicWriter(target.parent)
    try:
        writer.write(head)
        for chunk in chunks:
            writer.write(chunk)
        return writer.commit(target, overwrite=overwrite)
    finally:
        writer.discard()


async def asave_chunks(
    chunks: AsyncIterator[bytes], target_for: Callable[[bytes], Path], *, overwrite: bool
) -> Path:
    """``save_chunks`` for an async source (the file writes themselves are local and short)."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    target = target_for(head[:SNIFF_BYTES])
    _check_free(target, overwrite)
    writer = AtomicWriter(target.parent)
    try:
        writer.write(head)
        async for chunk in chunks:
            writer.write(chunk)
        return writer.commit(target, overwrite=overwrite)
    finally:
        writer.discard()
