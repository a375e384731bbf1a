"""Whether the cluster can ever hold the stage's actors, checked before anything is sent.

Ray waits, without a word, for the resources of an actor it cannot place. A pool larger
than the cluster then runs on the actors that fit, at a fraction of the concurrency
asked, or not at all: with none placed, or when the placed ones leave no CPU for the
Dataset's read tasks. ``generate_images`` asks the cluster first. The rules are pure
functions of what Ray reports (the nodes' total resources, the autoscaler's node
groups); ``cluster_nodes`` is the one call to Ray.

The totals are what counts, not what is free now: resources another job holds come back
when it ends, so only a pool that no empty cluster of these nodes could hold is refused.
Each actor takes its resources on one node, so the count is per node. A cluster that may
add nodes (an autoscaler that can still scale up) is never refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from .._checks import is_number
from .._exceptions import InvalidRequestError

__all__ = [
    "actors_that_fit",
    "check_actors_fit",
    "check_num_cpus",
    "cluster_nodes",
    "groups_may_grow",
]

UNITS = 10_000
"""Ray counts a resource in ten-thousandths (its fixed point): 0.0001 CPU is the least."""


def _units(quantity: float) -> int:
    return round(quantity * UNITS)


def _amount(units: int) -> str:
    """``units`` as a quantity: ``2``, ``0.5``, ``0.6666``."""
    whole, part = divmod(units, UNITS)
    return f"{whole}.{part:04d}".rstrip("0") if part else str(whole)


def check_num_cpus(value: object) -> float:
    """``value`` as the CPUs per actor, if Ray can reserve it (a number >= 0, to 0.0001)."""
    if is_number(value):
        cpus = float(cast(float, value))
        if math.isfinite(cpus) and cpus >= 0 and (cpus == 0 or _units(cpus) > 0):
            return cpus
    raise InvalidRequestError(
        f"num_cpus must be a number of CPUs >= 0 (to 0.0001), got {value!r}", param="num_cpus"
    )


def actors_that_fit(
    per_actor: Mapping[str, float], nodes: Iterable[Mapping[str, float]]
) -> int | None:
    """How many actors, each asking ``per_actor``, the ``nodes`` (their total resources)
    can run at once; ``None`` when an actor asks for nothing (no limit)."""
    wanted = {name: _units(amount) for name, amount in per_actor.items() if _units(amount) > 0}
    if not wanted:
        return None
    return sum(
        min(_units(node.get(name, 0.0)) // need for name, need in wanted.items()) for node in nodes
    )


def _largest_cpus(
    actors: int, per_actor: Mapping[str, float], nodes: Sequence[Mapping[str, float]]
) -> int | None:
    """The most CPU units per actor with which ``actors`` fit (the other resources as
    asked), or ``None`` if no amount of CPU makes them fit."""

    def fits(units: int) -> bool:
        count = actors_that_fit({**per_actor, "CPU": units / UNITS}, nodes)
        return count is None or count >= actors

    # fewer CPUs per actor never fit fewer actors: bisect for the last amount that fits
    low, high = 0, max((_units(node.get("CPU", 0.0)) for node in nodes), default=0)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low or None


def _most(
    actors: int, per_actor: Mapping[str, float], nodes: Sequence[Mapping[str, float]]
) -> tuple[int, int | None]:
    """The most actors that fit, and the most CPU units per actor with which ``actors``
    fit (``None``: no amount does, or the actors ask for no CPU)."""
    asks_cpu = _units(per_actor.get("CPU", 0.0)) > 0
    cpus = _largest_cpus(actors, per_actor, nodes) if asks_cpu else None
    return actors_that_fit(per_actor, nodes) or 0, cpus


def _fixes(fit: int, cpus: int | None, *, bounds: bool) -> str:
    """``actors=2 or fewer or num_cpus=0.5 or less per actor`` (empty: nothing fits)."""
    fixes = [f"actors={fit}" + (" or fewer" if bounds else "")] if fit else []
    if cpus is not None:
        fixes.append(f"num_cpus={_amount(cpus)}" + (" or less per actor" if bounds else ""))
    return " or ".join(fixes)


def _keeping_a_cpu(nodes: Sequence[Mapping[str, float]]) -> list[list[Mapping[str, float]]]:
    """``nodes`` with one CPU kept free on one of them, each way it can be (once per kind
    of node: keeping it on one or another of the same kind comes to the same)."""
    kinds = {tuple(sorted(node.items())): index for index, node in enumerate(nodes)}
    return [
        [
            {**node, "CPU": node["CPU"] - 1} if index == kept else node
            for index, node in enumerate(nodes)
        ]
        for kept in sorted(kinds.values())
        if nodes[kept].get("CPU", 0.0) >= 1
    ]


def check_actors_fit(
    actors: int, per_actor: Mapping[str, float], nodes: Sequence[Mapping[str, float]]
) -> None:
    """Refuse ``actors`` actors that the ``nodes`` can never run at once.

    The message names the numbers, the arguments with which the actors fit, and the
    ones that also leave a CPU free for Ray Data's read and write tasks (which take one
    each: a pool that leaves none stalls a Dataset that reads files).

    :param actors: The size of the actor pool.
    :param per_actor: The resources each actor asks for (``{"CPU": 0.5}``).
    :param nodes: The total resources of each node of the cluster (``ray.nodes()``).
    :raises InvalidRequestError: They cannot all run (``param="actors"``).
    """
    fit = actors_that_fit(per_actor, nodes)
    if fit is None or fit >= actors:
        return
    wanted = {name: _units(amount) for name, amount in per_actor.items() if _units(amount) > 0}
    totals = {name: sum(_units(node.get(name, 0.0)) for node in nodes) for name in wanted}

    def listed(amounts: Mapping[str, int], times: int = 1) -> str:
        return ", ".join(f"{_amount(units * times)} {name}" for name, units in amounts.items())

    one = actors == 1
    message = (
        f"{actors} actor{'' if one else 's'} of {listed(wanted)}{'' if one else ' each'} "
        f"need{'s' if one else ''} {listed(wanted, actors)} at once, but this Ray cluster "
        f"has {listed(totals)} ({len(nodes)} node{'' if len(nodes) == 1 else 's'}), so "
    )
    if fit:
        message += f"at most {fit} of them can ever run"
    else:
        message += "it can never run" if one else "not one of them can ever run"
    if min(totals[name] // units for name, units in wanted.items()) > fit:
        message += " (an actor takes its resources on one node)"
    if fit:
        message += (
            ": the others would wait forever, and so may the Dataset (its read tasks "
            "need a CPU that the actors leave free)."
        )
    else:
        message += ": the Dataset would wait forever."
    most = _most(actors, per_actor, nodes)
    fixes = _fixes(*most, bounds=True)
    if fixes:
        # the same with one CPU kept free, on whichever node keeps the most actors
        keeping = [_most(actors, per_actor, kept) for kept in _keeping_a_cpu(nodes)]
        most_fit = max((count for count, _cpus in keeping), default=0)
        most_cpus = max((cpus for _fit, cpus in keeping if cpus is not None), default=None)
        spare = "" if (most_fit, most_cpus) == most else _fixes(most_fit, most_cpus, bounds=False)
        message += f" Pass {fixes}" + (
            f" ({spare} to leave 1 CPU to Ray Data's read and write tasks)." if spare else "."
        )
    message += " If the cluster's autoscaler will add nodes, pass cluster_may_grow=True."
    raise InvalidRequestError(message, param="actors")


def groups_may_grow(groups: Iterable[tuple[bool, int, int]]) -> bool:
    """Whether an autoscaler's node groups, each ``(has resources, min_count,
    max_count)``, can add a node: one of them has no maximum (-1) or a maximum above its
    minimum (the rule Ray Data applies to the same configuration)."""
    return any(
        has_resources and (maximum == -1 or maximum > minimum)
        for has_resources, minimum, maximum in groups
        if maximum != 0
    )


def cluster_nodes() -> list[dict[str, float]] | None:
    """The total resources of each live node of the connected Ray cluster, or ``None``
    if it may grow or Ray cannot tell: not connected, a Ray Client connection, the
    autoscaler's configuration unreadable (then nothing is refused)."""
    import ray

    if not ray.is_initialized():
        return None
    try:
        from ray._private import state  # the autoscaler's configuration, as Ray Data reads it

        config: Any = state.state.get_cluster_config()
        groups = [
            (bool(group.resources), group.min_count, group.max_count)
            for group in (config.node_group_configs if config is not None else [])
        ]
        if groups_may_grow(groups):
            return None
        listing: Callable[[], list[dict[str, Any]]] = ray.nodes  # untyped in Ray
        nodes = listing()
    except Exception:  # Ray's private state API moved, or a Ray Client connection
        return None
    return [
        {str(name): float(amount) for name, amount in node.get("Resources", {}).items()}
        for node in nodes
        if node.get("Alive")
    ]
