"""Running ``n`` requests with at most ``concurrency`` in flight, results in request order."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._exceptions import FriendliImagesError

__all__ = ["arun_batch", "run_batch"]

T = TypeVar("T")


def run_batch(
    count: int, concurrency: int, attempt: Callable[[int], T], *, strict: bool
) -> list[T | FriendliImagesError]:
    """Call ``attempt(i)`` for i in range(count) on worker threads.

    A ``FriendliImagesError`` becomes that request's outcome (or, with ``strict``, stops
    the batch and is raised). Workers are daemon threads that take no new request once
    the batch is stopped, so Ctrl-C returns at once and pending requests are never sent.
    """
    outcomes: list[T | FriendliImagesError | None] = [None] * count
    unexpected: list[BaseException] = []
    failures: list[FriendliImagesError] = []  # in the order they happened
    lock = threading.Lock()
    next_index = iter(range(count))
    stop = threading.Event()
    done = threading.Semaphore(0)

    def worker() -> None:
        while not stop.is_set():
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            try:
                outcomes[index] = attempt(index)
            except FriendliImagesError as error:
                outcomes[index] = error
                if strict:
                    with lock:
                        failures.append(error)
                    stop.set()
            except BaseException as error:  # a bug: surface it in the caller's thread
                unexpected.append(error)
                stop.set()
            finally:
                done.release()

    threads = [
        threading.Thread(target=worker, name=f"friendli-images-{i}", daemon=True)
        for i in range(min(concurrency, count))
    ]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        while finished < count and not stop.is_set():
            if done.acquire(timeout=0.1):  # a short wait keeps Ctrl-C responsive
                finished += 1
    finally:
        stop.set()
    if unexpected:
        raise unexpected[0]
    if failures:
        raise failures[0]
    return [outcome for outcome in outcomes if outcome is not None]


async def arun_batch(
    count: int, concurrency: int, attempt: Callable[[int], Awaitable[T]], *, strict: bool
) -> list[T | FriendliImagesError]:
    """``run_batch`` for coroutines; cancelling the caller cancels every request."""
    import asyncio  # here, not at the top: sync users never pay for importing it

    semaphore = asyncio.Semaphore(concurrency)

    async def limited(index: int) -> T | FriendliImagesError:
        async with semaphore:
            try:
                return await attempt(index)
            except FriendliImagesError as error:
                if strict:
                    raise
                return error

    tasks = [asyncio.ensure_future(limited(index)) for index in range(count)]
    try:
        outcomes: list[T | FriendliImagesError] = list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return outcomes
