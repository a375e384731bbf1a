"""Writing the stage's output as a Hugging Face ``imagefolder`` dataset, with Ray's writers.

Ray writes the Dataset block by block, on the workers, to any file system Ray resolves
from the path (local, ``s3://``, ``gs://``, any fsspec ``filesystem``); each block becomes
one part directory of its own::

    PATH/part-<unique>/images/<id>.png     the block's images (``<id>.1.png`` for a 2nd)
    PATH/part-<unique>/metadata.jsonl      one line per image: file_name, id, recipe, seed
    PATH/part-<unique>/failures.jsonl      one line per failed row: error, status, message

``datasets.load_dataset("imagefolder", data_dir=PATH)`` reads every part's metadata.
Part directories have new, unique names, and a name already present is never written
over: local files go through ``_files`` (atomic, no overwrite), so a crashed write
leaves no partial image.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.data.datasource import BlockBasedFileDatasink

from .._files import write_atomic, writing
from .._jobs._dataset import FAILURES, IMAGES, METADATA, image_stem
from .._sniff import extension_for

if TYPE_CHECKING:
    import pyarrow.fs
    from ray.data import Dataset
    from ray.data._internal.execution.interfaces import TaskContext
    from ray.data.block import BlockAccessor

__all__ = ["ImageFolderDatasink", "folder_files", "write_imagefolder"]


def _json_lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(row, ensure_ascii=False, allow_nan=False, default=str).encode() + b"\n"
        for row in rows
    )


def folder_files(
    rows: Iterable[Mapping[str, Any]],
) -> tuple[list[tuple[str, bytes]], list[dict[str, Any]], list[dict[str, Any]]]:
    """One part's files from output rows: ``(images as (relative name, bytes), metadata
    lines, failure lines)``. Rows without ``id`` are named ``row-<n>`` in the part; a
    repeated name gets the row's number too, so no two images of a part share a name."""
    images: list[tuple[str, bytes]] = []
    metadata: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    used: set[str] = set()
    for number, row in enumerate(rows):
        key = row.get("id") or f"row-{number}"
        if row.get("image") is None:
            failures.append({name: row.get(name) for name in ("id", "error", "status", "message")})
            continue
        stem = image_stem(key, row.get("image_index") or 0)
        if stem in used:
            stem = f"{stem}.row-{number}"
        used.add(stem)
        name = f"{IMAGES}/{stem}{extension_for(row.get('mime_type') or '')}"
        images.append((name, row["image"]))
        recipe = json.loads(row["recipe"]) if row.get("recipe") else {}
        metadata.append(
            {
                "file_name": name,
                "id": row.get("id"),
                **recipe,
                "seed": row.get("seed"),
                "mime_type": row.get("mime_type"),
                "seconds": row.get("seconds"),
            }
        )
    return images, metadata, failures


class ImageFolderDatasink(BlockBasedFileDatasink):
    """A Ray ``Datasink`` that writes each block as one ``imagefolder`` part directory.

    :param path: The dataset's directory or URI (created if missing; parts are added).
    :param filesystem: A ``pyarrow.fs.FileSystem`` (wrap an fsspec one in
        ``pyarrow.fs.PyFileSystem(pyarrow.fs.FSSpecHandler(fs))``); default: from ``path``.
    """

    def __init__(self, path: str, *, filesystem: pyarrow.fs.FileSystem | None = None) -> None:
        super().__init__(path, filesystem=filesystem)

    def _is_local(self) -> bool:
        import pyarrow.fs

        filesystem = self.filesystem
        unwrap = getattr(filesystem, "unwrap", None)
        if callable(unwrap):
            filesystem = unwrap()
        return isinstance(filesystem, pyarrow.fs.LocalFileSystem)

    def _put(self, path: str, data: bytes) -> None:
        if self._is_local():
            with writing():
                write_atomic(Path(path), (data,), overwrite=False)
            return
        with self.open_output_stream(path) as file:
            file.write(data)

    def write_block(self, block: BlockAccessor, block_index: int, ctx: TaskContext) -> None:
        """Write ``block``'s images, then its metadata (an image a line names exists)."""
        images, metadata, failures = folder_files(block.iter_rows(public_row_format=True))
        part = posixpath.join(self.path, f"part-{uuid.uuid4().hex[:16]}")
        self.filesystem.create_dir(posixpath.join(part, IMAGES), recursive=True)
        for name, data in images:
            self._put(posixpath.join(part, name), data)
        if failures:
            self._put(posixpath.join(part, FAILURES), _json_lines(failures))
        if metadata:
            self._put(posixpath.join(part, METADATA), _json_lines(metadata))


def write_imagefolder(
    dataset: Dataset, path: str, *, filesystem: pyarrow.fs.FileSystem | None = None
) -> None:
    """Write the output of ``generate_images`` to ``path`` as an ``imagefolder`` dataset.

    Each block becomes a new part directory (``PATH/part-<unique>/``: ``images/``,
    ``metadata.jsonl``, ``failures.jsonl``); nothing already at ``path`` is changed.
    Writing executes the Dataset: write it once (or ``materialize()`` it first), since
    each execution generates, and bills, every image again.

    :param dataset: A Dataset with the stage's output columns.
    :param path: A local directory or any URI Ray writes to (``s3://bucket/images``).
    :param filesystem: A ``pyarrow.fs.FileSystem``; default: resolved from ``path``.
    """
    dataset.write_datasink(ImageFolderDatasink(path, filesystem=filesystem))
