"""File ownership: the one module that writes, replaces or deletes files for the library.

The promise: the library deletes or replaces only files it wrote itself, or that the user
named with ``overwrite=True``; a directory is never replaced; every file appears complete
or not at all; and a failure to write is a typed ``FileWriteError`` (an ``OSError`` too).
No other module of the package calls ``unlink``, ``rmtree``, ``os.replace`` or
``os.rename`` (the test server aside): they call ``remove_written``, ``remove_leftovers``,
``rewrite_owned`` and the savers below.

Bytes go to a hidden temporary file beside the target; only a complete file is moved
into place. Without ``overwrite`` the final step is a hard link, which fails if the
target appeared in the meantime, so even a race cannot replace someone's file. Where
the file system has no hard links (vfat, exFAT, some SMB or FUSE mounts) the target
name is first claimed with an exclusive create (``O_CREAT | O_EXCL``, which also refuses
a dangling symlink) and only that placeholder of ours is replaced. Any failure
(including Ctrl-C, and SIGTERM where it has its default handler) removes the temporary file:
no partial file is ever left.

With ``backups`` (a list a caller keeps), a file that ``overwrite`` replaces is first
moved aside to a hidden name in the same directory, so that a multi-file save can put
every old file back when a later one fails (``restore``), or drop them (``discard``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ._exceptions import FileWriteError, FriendliImagesError, InvalidRequestError, OutputExistsError
from ._sniff import SNIFF_BYTES

__all__ = [
    "IMAGE_EXTENSIONS",
    "AtomicWriter",
    "Backups",
    "asave_chunks",
    "check_stem",
    "check_writable",
    "cleanup_on_sigterm",
    "describe_os_error",
    "discard_backups",
    "existing_output",
    "is_leftover",
    "is_owned",
    "remove_leftovers",
    "remove_written",
    "resolve_target",
    "restore_backups",
    "rewrite_owned",
    "save_chunks",
    "write_atomic",
    "writing",
]

_LEFTOVER = re.compile(r"\.friendli-images-[0-9a-f]{12}\.(part|old|probe)")
"""The names of the library's own temporary files (``AtomicWriter``, backups, probes)."""


def is_leftover(name: str) -> bool:
    """Whether ``name`` is one of the library's own temporary file names."""
    return _LEFTOVER.fullmatch(name) is not None


def describe_os_error(error: OSError) -> str:
    """``PermissionError: Permission denied: /path``: an ``OSError`` in one line."""
    where = f": {error.filename}" if error.filename else ""
    return f"{type(error).__name__}: {error.strerror or error}{where}"


def file_write_error(error: OSError) -> FileWriteError:
    """``error`` as the library's typed error (its errno and file name kept)."""
    typed = FileWriteError(
        describe_os_error(error),
        errno=error.errno,
        filename=None if error.filename is None else os.fsdecode(error.filename),
    )
    typed.strerror = error.strerror
    typed.__cause__ = error
    return typed


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Turn an ``OSError`` of the block into a ``FileWriteError`` (typed errors pass)."""
    try:
        yield
    except FriendliImagesError:
        raise
    except OSError as error:
        raise file_write_error(error) from error


def remove_written(paths: Iterable[Path]) -> None:
    """Remove files the library wrote in this process (a failed multi-file save, say)."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def remove_leftovers(directory: Path) -> list[str]:
    """Remove the library's own temporary files in ``directory`` (a crash's leftovers).

    Only names ``is_leftover`` recognises, and only regular files: nothing else in the
    directory is touched. Returns the names removed.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if is_leftover(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def rewrite_owned(path: Path, data: bytes) -> None:
    """Replace ``path``, a file the library owns, with ``data``: all of it or nothing.

    The temporary file has a leftover name, so that a SIGKILL's remains are recognised
    (``remove_leftovers``) and nothing else is ever mistaken for one.
    """
    with writing(), cleanup_on_sigterm():
        writer = AtomicWriter(path.parent)
        try:
            writer.write(data)
            writer.commit(path, overwrite=True)
        finally:
            writer.discard()


Backups = list[tuple[Path, Path]]
"""``(backup, original)`` pairs: a replaced file moved aside, and the name it had."""

_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP})


# What counts as a file extension: a dot, a letter, then at most four letters or digits.
# "v1.2" or "shot-3.5x" have none, so they still get the image's own.
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}")


def has_extension(name: str) -> bool:
    return _EXTENSION.fullmatch(os.path.splitext(name)[1]) is not None


def check_stem(stem: object) -> str:
    """A file-name stem: not empty, no directory part, no ``.``/``..``, no NUL."""
    if not isinstance(stem, str):
        raise InvalidRequestError(f"stem must be a str, got {type(stem).__name__}", param="stem")
    separators = {"/", os.sep, *([os.altsep] if os.altsep else [])}
    if (
        stem in ("", ".", "..")
        or "\0" in stem
        or any(separator in stem for separator in separators)
        or os.path.isabs(stem)
    ):
        raise InvalidRequestError(
            f"stem must be a file name without a directory, got {stem!r}", param="stem"
        )
    return stem


IMAGE_EXTENSIONS = (".png", ".jpg", ".webp", ".gif", ".bin")
"""Every extension a saved image gets (``.bin``: type not recognised)."""


def existing_output(directory: Path, names: Iterable[str]) -> Path | None:
    """An existing entry a save could collide with: a target name with any image extension.

    Any extension, because an image's type is only known once it has arrived.
    """
    for name in names:
        for extension in IMAGE_EXTENSIONS:
            candidate = directory / f"{name}{extension}"
            if os.path.lexists(candidate):
                return candidate
    return None


def check_writable(directory: Path) -> None:
    """Raise ``OSError`` unless files can be created in ``directory`` (or where it would be).

    Nothing is created but a probe file, removed at once, in ``directory`` or, if it does
    not exist yet, in its nearest existing ancestor (which must be a directory).
    """
    existing = directory
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
    probe = existing / f".friendli-images-{os.urandom(6).hex()}.probe"
    descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    os.unlink(probe)


def resolve_target(path: str | os.PathLike[str], default_stem: str, extension: str) -> Path:
    """A directory gets ``default_stem + extension`` inside it; a name without one gets it.

    A path ending in a separator (``"new/"``) names a directory, existing or not.
    """
    text = os.fspath(path)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        return path / f"{default_stem}{extension}"
    if not has_extension(path.name):
        return path.with_name(path.name + extension)
    return path


class AtomicWriter:
    """A temporary file that becomes ``target`` on ``commit()`` and vanishes otherwise."""

    def __init__(self, directory: Path) -> None:
        self._temp = directory / f".friendli-images-{os.urandom(6).hex()}.part"
        try:  # the directory usually exists: one system call, not a mkdir and a stat first
            self._file: BinaryIO | None = self._temp.open("xb")
        except FileNotFoundError:
            directory.mkdir(parents=True, exist_ok=True)
            self._file = self._temp.open("xb")

    def write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)

    def commit(self, target: Path, *, overwrite: bool, backups: Backups | None = None) -> Path:
        assert self._file is not None
        self._file.close()
        self._file = None
        if overwrite:
            _check_free(target, overwrite=True)
            if backups is not None and os.path.lexists(target):
                backup = target.with_name(f".friendli-images-{os.urandom(6).hex()}.old")
                os.rename(target, backup)
                backups.append((backup, target))
            os.replace(self._temp, target)
            return target
        try:
            os.link(self._temp, target)
        except FileExistsError:
            raise OutputExistsError(str(target)) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            self._claim(target)
            os.replace(self._temp, target)  # over our own empty placeholder only
            return target
        self._temp.unlink()
        return target

    @staticmethod
    def _claim(target: Path) -> None:
        """Create ``target`` empty, failing if any entry (even a dangling link) has the name."""
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise OutputExistsError(str(target)) from None
        os.close(descriptor)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()


def restore_backups(backups: Backups) -> None:
    """Put every file moved aside back under its name (after the new ones are removed)."""
    for backup, original in reversed(backups):
        with contextlib.suppress(OSError):
            os.replace(backup, original)
    backups.clear()


def discard_backups(backups: Backups) -> None:
    for backup, _ in backups:
        with contextlib.suppress(OSError):
            backup.unlink()
    backups.clear()


def _check_free(target: Path, overwrite: bool) -> None:
    """``OutputExistsError`` if ``target`` is a directory, or exists and ``overwrite`` is
    off (a dangling link counts); one ``lstat``, not an ``isdir``, ``islink`` and ``lexists``."""
    try:
        mode = os.lstat(target).st_mode
    except OSError:  # nothing there (or unreadable: opening the temp file will say)
        return
    if stat.S_ISDIR(mode):  # a link to a directory is a link: replaced, never followed
        raise OutputExistsError(
            str(target),
            message=f"{target} is a directory; a save replaces files only, never a directory",
        )
    if not overwrite:
        raise OutputExistsError(str(target))


class _Terminated(SystemExit):
    """SIGTERM arrived during a save (raised by the handler below).

    A ``SystemExit`` with status 143 (128 + SIGTERM): if it escapes (from ``asyncio.run``,
    which cancels the save first so that its ``finally`` runs), the process ends quietly
    with the status a shell reports for SIGTERM.
    """

    def __init__(self) -> None:
        import signal

        super().__init__(128 + signal.SIGTERM)


@contextlib.contextmanager
def cleanup_on_sigterm() -> Iterator[None]:
    """During a save, turn SIGTERM into an exception so ``finally`` removes the temp file.

    Only where SIGTERM would otherwise kill the process outright (the default handler,
    in the main thread). Afterwards the process still terminates by SIGTERM, as it
    would have: the default handler is put back and the signal raised again (or, when
    the exception surfaced outside the save, as in an event loop, it exits with 143).
    """
    import signal  # here: its enums cost ~1 ms of every import of the package

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):  # someone handles SIGTERM already (or an outer save does): leave it to them
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
        raise  # pragma: no cover - only where SIGTERM does not end the process
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def save_chunks(
    chunks: Iterator[bytes],
    target_for: Callable[[bytes], Path],
    *,
    overwrite: bool,
    backups: Backups | None = None,
) -> Path:
    """Write ``chunks`` to the path ``target_for(first bytes)`` chooses, atomically.

    A failure to write (a full disk, a permission) raises ``FileWriteError``.
    """
    with writing(), cleanup_on_sigterm():
        head = b""
        for chunk in chunks:  # the name may depend on the image type: read its magic first
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
            return writer.commit(target, overwrite=overwrite, backups=backups)
        finally:
            writer.discard()


async def asave_chunks(
    chunks: AsyncIterator[bytes],
    target_for: Callable[[bytes], Path],
    *,
    overwrite: bool,
    backups: Backups | None = None,
) -> Path:
    """``save_chunks`` for an async source (the file writes themselves are local and short)."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    target = target_for(head[:SNIFF_BYTES])
    _check_free(target, overwrite)
    with writing(), cleanup_on_sigterm():
        writer = AtomicWriter(target.parent)
        try:
            writer.write(head)
            async for chunk in chunks:
                writer.write(chunk)
            return writer.commit(target, overwrite=overwrite, backups=backups)
        finally:
            writer.discard()


OWNED_PROBE = 4096
"""How many leading bytes of a file ``is_owned`` reads to find the library's marker."""


def is_owned(path: Path, marker: bytes) -> bool:
    """Whether ``path`` is a regular file (not a link) whose first bytes hold ``marker``:
    a file this library wrote (a gallery page, a contact sheet), which it may replace."""
    try:
        if not path.is_file() or path.is_symlink():
            return False
        with path.open("rb") as file:
            return marker in file.read(OWNED_PROBE)
    except OSError:
        return False


def write_atomic(
    target: Path,
    chunks: Iterable[bytes],
    *,
    overwrite: bool = False,
    owned: bytes | None = None,
    backups: Backups | None = None,
) -> Path:
    """Write ``chunks`` to ``target`` atomically (temp file beside it, then moved in).

    An existing ``target`` is replaced only with ``overwrite``, or when it is a file this
    library wrote: ``owned`` is the marker such a file carries in its first bytes
    (``is_owned``). Anything else there raises ``OutputExistsError``, before any byte is
    written. With ``backups``, a replaced file is moved aside first (as ``save_chunks``
    does), so that a multi-file save can put it back.
    """
    replace = overwrite or (owned is not None and is_owned(target, owned))
    _check_free(target, replace)
    with cleanup_on_sigterm():
        writer = AtomicWriter(target.parent)
        try:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit(target, overwrite=replace, backups=backups)
        finally:
            writer.discard()
