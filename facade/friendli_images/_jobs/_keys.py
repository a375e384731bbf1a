"""``SeenKeys``: which job keys a jobs file used already, in about 8 bytes per key.

A run over a million lines must not hold a million Python strings to find a repeated
``id``. Keys are kept as their 64-bit ``hash()`` (stable within the process, which is all
a set of one run needs): the latest few in a set, the rest in one sorted ``array`` that
the set is merged into when it fills. A digest seen before means "maybe seen": the
caller confirms by reading the file again (a repeated ``id`` is rare, a false match
rarer still: about one in 10^7 for 10^6 keys).
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from typing import Final

__all__ = ["RECENT_KEYS", "SeenKeys", "digest"]

RECENT_KEYS: Final = 65536
"""Digests kept in the set before it is merged into the sorted array."""


def digest(key: str) -> int:
    """The 64-bit digest a key is remembered by (signed, as ``array("q")`` holds it)."""
    return hash(key)


class SeenKeys:
    """A set of keys that answers "new" exactly and "seen" up to a digest collision."""

    __slots__ = ("_recent", "_sorted")

    def __init__(self) -> None:
        self._sorted = array("q")
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def add(self, key: str) -> bool:
        """Remember ``key``; ``True`` if it is certainly new, ``False`` if maybe seen."""
        value = digest(key)
        if value in self._recent:
            return False
        index = bisect.bisect_left(self._sorted, value)
        if index < len(self._sorted) and self._sorted[index] == value:
            return False
        self._recent.add(value)
        if len(self._recent) >= RECENT_KEYS:
            self._merge()
        return True

    def _merge(self) -> None:
        self._sorted = array("q", heapq.merge(self._sorted, sorted(self._recent)))
        self._recent.clear()
