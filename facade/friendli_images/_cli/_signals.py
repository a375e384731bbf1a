"""SIGTERM for the commands that run a batch (``generate``, ``edit``, ``run``): it stops the
batch as Ctrl-C does, in the main thread, so the saves under way end, no temporary file
is left behind and the command exits 143 (a ``run`` directory stays resumable)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

__all__ = ["Terminated", "sigterm_stops_the_batch"]


class Terminated(BaseException):
    """SIGTERM arrived during the batch (raised in the main thread, as Ctrl-C is)."""


@contextlib.contextmanager
def sigterm_stops_the_batch() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` in the main thread."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
