"""The processes of a Ray Data stage's actors, found among this process's descendants.

``bench/ray_actor_death.py`` and ``tests/ray/test_stage.py`` kill one of them mid-batch
(SIGKILL) to see what an actor's death costs. Ray titles an actor's process after its
operator (``ray::MapWorker(MapBatches(FriendliImagesStage))``); only this process's
descendants are searched (Linux ``/proc``), so never another cluster's on a shared machine.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["descendants", "stage_pids"]


def descendants(root: int) -> set[int]:
    """The pids of ``root``'s live descendants (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            continue
        parents[int(entry.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def stage_pids(operator: str = "FriendliImagesStage") -> list[int]:
    """The pids of this process's actors of ``operator`` (the stage's, by default), in
    ascending order."""
    pids = []
    for pid in sorted(descendants(os.getpid())):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if operator.encode() in command:
            pids.append(pid)
    return pids
