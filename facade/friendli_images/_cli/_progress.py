"""Progress of a batch on stderr, for the command line.

On a terminal a batch (two requests or more) gets a ``tqdm`` bar when the ``cli`` extra
is installed, and one short line per finished request when it is not. Anywhere else (a
pipe, a file, CI logs) nothing is printed. ``tqdm`` is imported only when a bar is
actually drawn, so the command starts as fast without it.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Protocol, TextIO

__all__ = ["Progress", "progress_for"]


class Progress(Protocol):
    """What the command reports while a batch runs."""

    def advance(self, label: str, *, failed: bool = False) -> None:
        """One request finished: its image was saved, or it ``failed``."""

    def close(self) -> None:
        """The batch is over (or interrupted): leave the terminal tidy."""


class _Silent:
    """Not a terminal, or a single request: say nothing."""

    def advance(self, label: str, *, failed: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


class _Lines:
    """A terminal without tqdm (or with log lines on it): one line per finished request."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._done = 0

    def advance(self, label: str, *, failed: bool = False) -> None:
        self._done += 1
        print(f"[{self._done}/{self._total}] {label}", file=self._stream, flush=True)

    def close(self) -> None:
        pass


class _Bar:
    """A tqdm bar counting finished requests, with the number of failures beside it."""

    def __init__(self, tqdm_class: Any, total: int, stream: TextIO) -> None:
        self._failed = 0
        columns, lines = _terminal_size(stream)
        size: dict[str, Any] = {"dynamic_ncols": True}
        if not (columns and lines):
            # Some terminals report 0x0 (``script``, ``docker run -t``, editor shells):
            # tqdm would then hide its bar (row 0 is not < 0 rows), so give it a size.
            size = {"ncols": columns or 80, "nrows": lines or 24}
        self._bar = tqdm_class(total=total, file=stream, desc="generating", unit="image", **size)

    def advance(self, label: str, *, failed: bool = False) -> None:
        if failed:
            self._failed += 1
            self._bar.set_postfix(failed=self._failed, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _terminal_size(stream: TextIO) -> tuple[int, int]:
    """``(columns, lines)`` of the terminal behind ``stream``; ``(0, 0)`` if unknown."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):  # no file descriptor, or not a terminal
        return 0, 0
    return size.columns, size.lines


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


def progress_for(
    total: int, stream: TextIO, *, lines: bool = False, quiet: bool = False
) -> Progress:
    """The progress display for a batch of ``total`` requests reported on ``stream``.

    ``lines`` asks for one line per request even when tqdm is available (``--verbose``
    writes log lines to the same terminal, which would tear a bar apart); ``quiet``
    (``--quiet``) for none at all.
    """
    if quiet or total < 2 or not _is_terminal(stream):
        return _Silent()
    if not lines:
        try:
            module = importlib.import_module("tqdm")
        except ImportError:
            pass
        else:
            return _Bar(module.tqdm, total, stream)
    return _Lines(total, stream)
