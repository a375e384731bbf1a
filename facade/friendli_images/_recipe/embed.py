"""Saving an image with its recipe: PNG text chunks, JPEG segments, or a sidecar file.

The recipe goes in twice: as the A1111 ``parameters`` text (which AUTOMATIC1111, Forge
and the sites that read their files show) and as our own versioned JSON. PNG: a
``parameters`` chunk and a ``friendli-images`` chunk before ``IEND``. JPEG: an Exif
``UserComment`` with the ``parameters`` text and a ``COM`` segment with the JSON, right
after ``SOI``. Any other type (WebP, GIF, raw bytes): ``NAME.json`` beside the image.
No pixel byte is changed: the image is streamed through, never decoded or re-encoded.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Final

from .._exceptions import InvalidRequestError, OutputExistsError
from .._files import Backups, asave_chunks, remove_written, save_chunks, write_atomic, writing
from .._redaction import redact
from .._sniff import SNIFF_BYTES, sniff_image_type
from . import a1111, jpeg, png
from .model import Recipe
from .origin import Sourced, recipe_of, secrets_of
from .sidecar import sidecar_path, sidecar_text

__all__ = [
    "PARAMETERS_KEY",
    "RECIPE_KEY",
    "Embedder",
    "asave_with_recipe",
    "check_metadata",
    "save_with_recipe",
]

PARAMETERS_KEY: Final = "parameters"
"""The PNG text keyword of the A1111 form (the one those tools read)."""
RECIPE_KEY: Final = "friendli-images"
"""The PNG text keyword of our JSON form."""


def check_metadata(metadata: object) -> bool:
    """The ``metadata`` flag of a save, checked: ``InvalidRequestError`` unless a bool."""
    if not isinstance(metadata, bool):
        raise InvalidRequestError(
            f"metadata must be True or False, got {metadata!r}", param="metadata"
        )
    return metadata


def recipe_json(recipe: Recipe) -> str:
    """Our JSON form as written into files: compact, sorted, non-ASCII kept."""
    return json.dumps(recipe.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Embedder:
    """Streams an image through, adding ``recipe`` in the way its type allows.

    The type is known from the first bytes; ``kind`` is then ``"png"``, ``"jpeg"`` or
    ``"sidecar"`` (nothing added to the bytes: the caller writes the sidecar). Every text
    that goes into the file passes through ``redact`` with ``secrets`` (the client's), even
    though the recipe was built redacted: the chokepoint is the last step before the disk.
    """

    def __init__(self, recipe: Recipe, secrets: tuple[str, ...] = ()) -> None:
        self.recipe = recipe
        self._secrets = secrets
        self.kind: str | None = None
        self._head = b""
        self._inserter: png.PngInserter | jpeg.JpegInserter | None = None

    def _start(self, head: bytes) -> None:
        mime = sniff_image_type(head[:SNIFF_BYTES])
        parameters = self._text(a1111.format_parameters(self.recipe))
        document = self._text(recipe_json(self.recipe))
        if mime == "image/png":
            self.kind = "png"
            self._inserter = png.PngInserter(
                png.text_chunk(PARAMETERS_KEY, parameters) + png.text_chunk(RECIPE_KEY, document)
            )
        elif mime == "image/jpeg":
            self.kind = "jpeg"
            self._inserter = jpeg.JpegInserter(
                jpeg.exif_user_comment_segment(parameters) + jpeg.com_segment(document)
            )
        else:
            self.kind = "sidecar"

    def feed(self, data: bytes) -> bytes:
        if self.kind is None:
            self._head += data
            if len(self._head) < SNIFF_BYTES:
                return b""
            data, self._head = self._head, b""
            self._start(data)
        return data if self._inserter is None else self._inserter.feed(data)

    def finish(self) -> bytes:
        """The bytes held back (an image shorter than a sniff); checks the end."""
        rest = b""
        if self.kind is None:
            rest, self._head = self._head, b""
            self._start(rest)
            if self._inserter is not None:
                rest = self._inserter.feed(rest)
        if self._inserter is not None:
            self._inserter.finish()
        return rest

    def wrap(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            out = self.feed(chunk)
            if out:
                yield out
        rest = self.finish()
        if rest:
            yield rest

    async def awrap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            out = self.feed(chunk)
            if out:
                yield out
        rest = self.finish()
        if rest:
            yield rest

    def _text(self, text: str) -> str:
        return redact(text, self._secrets)

    def sidecar(self) -> bytes:
        return self._text(sidecar_text(self.recipe.to_json())).encode("utf-8")


def _checked_target(
    target_for: Callable[[bytes], Path], overwrite: bool
) -> Callable[[bytes], Path]:
    """The image's name, and (before writing it) a check that its sidecar's name is free."""

    def target(head: bytes) -> Path:
        path = target_for(head)
        if sniff_image_type(head) not in ("image/png", "image/jpeg"):
            beside = sidecar_path(path)
            if not overwrite and os.path.lexists(beside):
                raise OutputExistsError(str(beside))
        return path

    return target


def save_with_recipe(
    image: Sourced,
    chunks: Iterator[bytes],
    target_for: Callable[[bytes], Path],
    *,
    overwrite: bool,
    backups: Backups | None = None,
) -> Path:
    """``save_chunks`` with ``image``'s recipe embedded (or written beside it)."""
    # no recipe: an error before any file is touched
    embedder = Embedder(recipe_of(image), secrets_of(image))
    path = save_chunks(
        embedder.wrap(chunks),
        _checked_target(target_for, overwrite),
        overwrite=overwrite,
        backups=backups,
    )
    _write_sidecar(embedder, path, overwrite, backups)
    return path


async def asave_with_recipe(
    image: Sourced,
    chunks: AsyncIterator[bytes],
    target_for: Callable[[bytes], Path],
    *,
    overwrite: bool,
    backups: Backups | None = None,
) -> Path:
    """``save_with_recipe`` for an async source."""
    import asyncio

    # Hashing the inputs reads files: not on the event loop.
    embedder = Embedder(await asyncio.to_thread(recipe_of, image), secrets_of(image))
    path = await asave_chunks(
        embedder.awrap(chunks),
        _checked_target(target_for, overwrite),
        overwrite=overwrite,
        backups=backups,
    )
    _write_sidecar(embedder, path, overwrite, backups)
    return path


def _write_sidecar(
    embedder: Embedder, path: Path, overwrite: bool, backups: Backups | None
) -> None:
    if embedder.kind != "sidecar":
        return
    try:
        with writing():
            write_atomic(
                sidecar_path(path), [embedder.sidecar()], overwrite=overwrite, backups=backups
            )
    except BaseException:
        remove_written([path])  # the image without its recipe is not what was asked for
        raise
