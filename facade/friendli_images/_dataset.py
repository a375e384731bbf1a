"""The output directory of a jobs run: a Hugging Face ``imagefolder`` dataset.

    DIR/images/<id>.png        the images (``<id>.1.png`` ... when a request gave several)
    DIR/metadata.jsonl         one line per image: file_name (relative to DIR), the job's
                               id and line, the request's fields, the seed used, timing
    DIR/failures.jsonl         one line per failed job: error class, status, message

``datasets.load_dataset("imagefolder", data_dir=DIR)`` loads it as it is.

Crash safety, which makes a run resumable after anything, SIGKILL included:

* An image is written to a temporary file and renamed into place complete.
* Only then are its metadata lines appended, all lines of a job in one ``write`` to a
  file opened for appending: a job is in ``metadata.jsonl`` entirely or not at all.
* On opening, a torn last line (a crash in the middle of that write) is cut off, and any
  file in ``DIR/images/`` that no metadata line names (an image whose job was in flight,
  a temporary file) is removed: ``DIR/images/`` belongs to the run.
* A lock file keeps two runs from writing to one directory at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import filelock
from friendli_images_api.models import DedicatedImageGenerationBody

from ._exceptions import APIStatusError, FriendliImagesError, ImageDownloadError

__all__ = ["FAILURES", "IMAGES", "METADATA", "DatasetDir", "image_stem"]

METADATA = "metadata.jsonl"
FAILURES = "failures.jsonl"
IMAGES = "images"
_LOCK = ".friendli-images.lock"

REQUEST_FIELDS: tuple[str, ...] = tuple(
    field.name
    for field in attrs.fields(DedicatedImageGenerationBody)
    if field.name != "additional_properties"
)
"""The request body's fields, in the generated model's order: a column each."""

_FLOAT_FIELDS = frozenset({"guidance_scale", "controlnet_weights"})


class DatasetBusyError(FriendliImagesError):
    """Another run is writing to the same output directory."""


def image_stem(key: str, position: int) -> str:
    """The file name (without extension) of image ``position`` of job ``key``."""
    return key if position == 0 else f"{key}.{position}"


def _as_float(value: Any) -> Any:
    """Numbers as floats, so that a column has one type whether a line wrote 7 or 7.5."""
    if isinstance(value, list):
        return [_as_float(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _column(name: str, value: Any) -> Any:
    if name in _FLOAT_FIELDS:
        return _as_float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None  # raw control-image bytes have no place in a metadata line
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def metadata_rows(
    key: str,
    line: int,
    request: Mapping[str, Any],
    images: Iterable[tuple[str, int | None, str]],
    seconds: float,
) -> list[dict[str, Any]]:
    """The metadata lines of one job: one per ``(file_name, seed, response_format)``."""
    rows = []
    for file_name, seed, response_format in images:
        row: dict[str, Any] = {"file_name": file_name, "id": key, "line": line}
        row.update((name, _column(name, request.get(name))) for name in REQUEST_FIELDS)
        row["seed"] = seed
        row["response_format"] = response_format
        row["seconds"] = round(seconds, 3)
        rows.append(row)
    return rows


def failure_row(key: str, line: int, error: BaseException | str) -> dict[str, Any]:
    """The ``failures.jsonl`` line of a job that failed (or a line that is no job)."""
    if isinstance(error, str):
        return {
            "id": key,
            "line": line,
            "error": "InvalidJobLine",
            "status": None,
            "message": error,
        }
    status = error.status_code if isinstance(error, (APIStatusError, ImageDownloadError)) else None
    return {
        "id": key,
        "line": line,
        "error": type(error).__name__,
        "status": status,
        "message": str(error),
    }


def _encode(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(row, ensure_ascii=False, allow_nan=False, default=str).encode() + b"\n"
        for row in rows
    )


def _read_rows(path: Path) -> Iterable[dict[str, Any]]:
    """The complete lines of a JSON-lines file, after cutting off a torn last line."""
    if not path.exists():
        return
    with path.open("r+b") as file:
        size = file.seek(0, os.SEEK_END)
        if size:
            file.seek(size - 1)
            if file.read(1) != b"\n":  # a crash in the middle of the last write
                _truncate_after_last_newline(file, size)
        file.seek(0)
        for raw in file:
            try:
                row = json.loads(raw)
            except ValueError:
                continue
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                yield row


def _truncate_after_last_newline(file: BinaryIO, size: int) -> None:
    block = 64 * 1024
    end = size
    while end > 0:
        start = max(0, end - block)
        file.seek(start)
        chunk = file.read(end - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            file.truncate(start + newline + 1)
            return
        end = start
    file.truncate(0)


class DatasetDir:
    """An output directory being written by one run (``open()`` it first)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images = root / IMAGES
        self.done: set[str] = set()
        """Keys of the jobs whose images and metadata were in the dataset when opened."""
        self.failed: set[str] = set()
        """Keys of the jobs recorded as failed (and not done since) when opened."""
        self._write = threading.Lock()
        self._lock_file: filelock.FileLock | None = None

    def open(self) -> None:
        """Take the directory, repair what a crash left, and learn what is done."""
        self.images.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        referenced: set[str] = set()
        for row in _read_rows(self.root / METADATA):
            self.done.add(row["id"])
            if isinstance(row.get("file_name"), str):
                referenced.add(row["file_name"])
        for row in _read_rows(self.root / FAILURES):
            if row["id"] not in self.done:
                self.failed.add(row["id"])
        for entry in self.images.iterdir():
            name = f"{IMAGES}/{entry.name}"
            if name not in referenced and entry.is_file():
                entry.unlink()  # an image whose job was in flight, or a temporary file

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.release()
            self._lock_file = None

    def _take_lock(self) -> None:
        # filelock: flock on POSIX, msvcrt on Windows; held by this object, not the thread.
        lock = filelock.FileLock(self.root / _LOCK, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise DatasetBusyError(
                f"another run is writing to {self.root}; wait for it, or choose another --out"
            ) from None
        self._lock_file = lock

    def forget_failures(self, keys: set[str]) -> None:
        """Drop ``keys`` from ``failures.jsonl`` (they are about to be retried)."""
        path = self.root / FAILURES
        if not keys or not path.exists():
            return
        kept = [row for row in _read_rows(path) if row["id"] not in keys]
        temporary = path.with_name(f".{FAILURES}.{os.urandom(4).hex()}.part")
        try:
            temporary.write_bytes(_encode(kept))
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        self.failed -= keys

    def add(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Record a finished job: its metadata lines, in one append.

        ``done`` and ``failed`` describe the directory as it was opened (what a run skips);
        they do not grow with the run, so memory does not either.
        """
        self._append(METADATA, _encode(rows))

    def add_failure(self, row: dict[str, Any]) -> None:
        self._append(FAILURES, _encode([row]))

    def _append(self, name: str, data: bytes) -> None:
        with self._write:
            descriptor = os.open(self.root / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(descriptor, data)
                while written < len(data):  # a short write: finish it (still one job)
                    written += os.write(descriptor, data[written:])
            finally:
                os.close(descriptor)
