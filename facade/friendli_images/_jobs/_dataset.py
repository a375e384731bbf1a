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
* On opening, a torn last line (a crash in the middle of that write, which does not
  parse) is cut off; a last line that parses but lost its final newline is kept.
* A lock file keeps two runs from writing to one directory at once.

File ownership (the rules of ``_files``: only what the library wrote is ever removed):

* A directory becomes a dataset when a run first opens it, empty or new, and gets the
  marker ``DIR/.friendli-images-dataset.json``. A directory without the marker that holds
  ``metadata.jsonl``, ``failures.jsonl`` or files in ``images/`` is refused before anything
  is sent (``NotADatasetError``); one written by a version before the marker (it has the
  run's lock file) is adopted. Other files in ``DIR`` are never touched.
* Before an image is moved into ``images/`` its name is appended to the run's journal
  ``DIR/.friendli-images-written``. On opening, an image that no metadata line names is
  removed only when the journal lists it (its job was in flight when a run died), and the
  library's own temporary files are removed; any other file there refuses the run.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import filelock

from .._exceptions import APIStatusError, FriendliImagesError, ImageDownloadError
from .._files import check_writable, remove_leftovers, remove_written, rewrite_owned, writing
from .._generated import DedicatedImageGenerationBody
from .._redaction import redact_value

__all__ = [
    "FAILURES",
    "IMAGES",
    "MARKER",
    "METADATA",
    "DatasetBusyError",
    "DatasetDir",
    "NotADatasetError",
    "image_stem",
]

METADATA = "metadata.jsonl"
FAILURES = "failures.jsonl"
IMAGES = "images"
MARKER = ".friendli-images-dataset.json"
_LOCK = ".friendli-images.lock"
_JOURNAL = ".friendli-images-written"
_MARKER_BODY = b'{"format": "friendli-images imagefolder dataset", "version": 1}\n'

REQUEST_FIELDS: tuple[str, ...] = tuple(
    field.name
    for field in attrs.fields(DedicatedImageGenerationBody)
    if field.name != "additional_properties"
)
"""The request body's fields, in the generated model's order: a column each."""

_FLOAT_FIELDS = frozenset({"guidance_scale", "controlnet_weights"})


class DatasetBusyError(FriendliImagesError):
    """Another run is writing to the same output directory."""


class NotADatasetError(FriendliImagesError):
    """The output directory holds files that friendli-images did not write; nothing was sent.

    :param message: What was found, and what to do.
    :param path: The output directory.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


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


def _encode(rows: Iterable[Mapping[str, Any]], secrets: Iterable[str] = ()) -> bytes:
    """JSON lines of ``rows``, with ``secrets`` (the client's secret forms) redacted."""
    forms = tuple(secrets)
    return b"".join(
        json.dumps(
            redact_value(row, forms) if forms else row,
            ensure_ascii=False,
            allow_nan=False,
            default=str,
        ).encode()
        + b"\n"
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
            if file.read(1) != b"\n" and not _complete_last_line(file, size):
                _truncate_after_last_newline(file, size)  # a crash in the middle of a write
        file.seek(0)
        for raw in file:
            try:
                row = json.loads(raw)
            except ValueError:
                continue
            if isinstance(row, dict) and isinstance(row.get("id"), str):
                yield row


_LAST_LINE_LIMIT = 16 * 1024 * 1024
"""A last line longer than this is not parsed to decide whether it is complete (torn)."""


def _complete_last_line(file: BinaryIO, size: int) -> bool:
    """A last line without its newline that parses (an editor dropped the newline): give
    it its newline back and return ``True``; ``False`` for a torn line."""
    block = 64 * 1024
    end = size
    tail = b""
    while end > 0 and b"\n" not in tail:
        if len(tail) > _LAST_LINE_LIMIT:
            return False
        start = max(0, end - block)
        file.seek(start)
        tail = file.read(end - start) + tail
        end = start
    line = tail[tail.rfind(b"\n") + 1 :]
    try:
        row = json.loads(line)
    except ValueError:
        return False
    if not isinstance(row, dict):
        return False
    file.seek(size)
    file.write(b"\n")
    return True


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

    def __init__(self, root: Path, secrets: Iterable[str] = ()) -> None:
        self.root = root
        self.images = root / IMAGES
        self._secrets = tuple(secrets)
        """The client's secret forms: no row written here carries them."""
        self.done: set[str] = set()
        """Keys of the jobs whose images and metadata were in the dataset when opened."""
        self.failed: set[str] = set()
        """Keys of the jobs recorded as failed (and not done since) when opened."""
        self._write = threading.Lock()
        self._lock_file: filelock.FileLock | None = None
        self._journal: int | None = None

    def open(self) -> None:
        """Take the directory, repair what a crash left, and learn what is done.

        Raises ``NotADatasetError`` (nothing changed) for a directory with files the
        library did not write, ``DatasetBusyError`` when another run has it, and
        ``FileWriteError`` when ``images/`` cannot be written.
        """
        with writing():
            self.root.mkdir(parents=True, exist_ok=True)
            adopt = self._check_ours()
            self._take_lock()
        try:
            with writing():
                self._repair(adopt)
        except BaseException:
            self.close()
            raise

    def _check_ours(self) -> bool:
        """Refuse a directory the library did not make; ``True`` if it has no marker yet."""
        if (self.root / MARKER).is_file():
            return False
        if os.path.lexists(self.root / _LOCK):  # made by a run before the marker existed
            return True
        found = [name for name in (METADATA, FAILURES) if os.path.lexists(self.root / name)]
        if os.path.lexists(self.images) and (
            not self.images.is_dir() or any(self.images.iterdir())
        ):
            found.append(f"{IMAGES}/")
        if found:
            raise NotADatasetError(
                f"{self.root} is not a friendli-images dataset: it holds {', '.join(found)} "
                f"but no {MARKER}, so a run could overwrite or remove files it did not "
                "write; choose an empty or new output directory (nothing was sent)",
                path=str(self.root),
            )
        return True

    def _repair(self, adopt: bool) -> None:
        if adopt:
            rewrite_owned(self.root / MARKER, _MARKER_BODY)
        self.images.mkdir(exist_ok=True)
        remove_leftovers(self.root)
        remove_leftovers(self.images)
        referenced: set[str] = set()
        for row in _read_rows(self.root / METADATA):
            self.done.add(row["id"])
            if isinstance(row.get("file_name"), str):
                referenced.add(row["file_name"])
        for row in _read_rows(self.root / FAILURES):
            if row["id"] not in self.done:
                self.failed.add(row["id"])
        unreferenced = {
            f"{IMAGES}/{entry.name}": Path(entry.path)
            for entry in os.scandir(self.images)
            if entry.is_file(follow_symlinks=False) and f"{IMAGES}/{entry.name}" not in referenced
        }
        journal = self.root / _JOURNAL
        orphans: list[Path] = []  # their jobs were in flight when a run died
        if unreferenced and journal.exists():
            with journal.open("r", encoding="utf-8", errors="replace") as names:
                for name in names:
                    path = unreferenced.pop(name.rstrip("\n"), None)
                    if path is not None:
                        orphans.append(path)
        foreign = list(unreferenced)
        if foreign:
            shown = ", ".join(sorted(foreign)[:3]) + (" ..." if len(foreign) > 3 else "")
            raise NotADatasetError(
                f"{self.images} holds {len(foreign)} file(s) no run of friendli-images wrote "
                f"({shown}); move them away or choose another output directory "
                "(nothing was sent)",
                path=str(self.root),
            )
        remove_written(orphans)
        rewrite_owned(journal, b"")
        self._journal = os.open(journal, os.O_WRONLY | os.O_APPEND)
        check_writable(self.images)

    def note_written(self, path: Path) -> None:
        """Journal ``path`` (in ``images/``) before it appears: a later run may remove it."""
        line = f"{IMAGES}/{path.name}\n".encode()
        with writing(), self._write:
            if self._journal is not None:
                os.write(self._journal, line)

    def close(self) -> None:
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None
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
        rewrite_owned(path, _encode(kept, self._secrets))
        self.failed -= keys

    def add(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Record a finished job: its metadata lines, in one append.

        ``done`` and ``failed`` describe the directory as it was opened (what a run skips);
        they do not grow with the run, so memory does not either.
        """
        self._append(METADATA, _encode(rows, self._secrets))

    def add_failure(self, row: dict[str, Any]) -> None:
        self._append(FAILURES, _encode([row], self._secrets))

    def _append(self, name: str, data: bytes) -> None:
        with writing(), self._write:
            descriptor = os.open(self.root / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(descriptor, data)
                while written < len(data):  # a short write: finish it (still one job)
                    written += os.write(descriptor, data[written:])
            finally:
                os.close(descriptor)
