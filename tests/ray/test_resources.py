"""A pool of actors the cluster can never hold is refused before anything is sent.

The rules first, as tables (pure functions of what Ray reports); then the session's real
2-CPU cluster: the refusal comes at once and sends nothing, its advice runs, and a
cluster that may grow (said so, or with an autoscaler that Ray reports) is not refused.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

# ray.data, not ray: without the extra, this very directory imports as a namespace "ray".
pytest.importorskip("ray.data", reason="the 'ray' extra is not installed")
import ray
from friendli_images import InvalidRequestError
from friendli_images.ray import generate_images
from friendli_images.ray._resources import (
    actors_that_fit,
    check_actors_fit,
    check_num_cpus,
    cluster_nodes,
    groups_may_grow,
)
from friendli_images.testing import FriendliTestServer

pytestmark = pytest.mark.ray

TWO = [{"CPU": 2.0, "memory": 8e9}]  # the session's cluster: one node of 2 CPUs
TWO_NODES = [{"CPU": 1.0}, {"CPU": 1.0}]
GPU_NODE = [{"CPU": 8.0, "GPU": 2.0}]


@pytest.mark.parametrize(
    ("per_actor", "nodes", "expected"),
    [
        ({"CPU": 0.5}, TWO, 4),
        ({"CPU": 1.0}, TWO, 2),
        ({"CPU": 0.6}, TWO, 3),
        ({"CPU": 0.1}, [{"CPU": 0.3}], 3),  # 0.3 / 0.1 is 2.9999... in floats
        ({"CPU": 0.0001}, [{"CPU": 1.0}], 10_000),  # Ray's least amount
        ({"CPU": 1.5}, TWO_NODES, 0),  # 2 CPUs in all, but each actor on one node
        ({"CPU": 1.0}, TWO_NODES, 2),
        ({"CPU": 1.0, "GPU": 1.0}, GPU_NODE, 2),  # the scarcer resource counts
        ({"CPU": 1.0, "GPU": 1.0}, TWO, 0),  # no GPU at all
        ({"CPU": 1.0}, [], 0),  # no live node
        ({"CPU": 0.0}, TWO, None),  # asks for nothing: no limit
        ({}, TWO, None),
        ({"CPU": 0.00001}, TWO, None),  # below Ray's least amount: nothing
    ],
)
def test_actors_that_fit(
    per_actor: Mapping[str, float], nodes: Sequence[Mapping[str, float]], expected: int | None
) -> None:
    assert expected == actors_that_fit(per_actor, nodes)


@pytest.mark.parametrize(
    ("actors", "per_actor", "nodes", "expected"),
    [
        (4, {"CPU": 0.5}, TWO, None),  # exactly the cluster
        (2, {"CPU": 1.0}, TWO, None),
        (100, {"CPU": 0.0}, TWO, None),
        (2, {"CPU": 1.0}, TWO_NODES, None),
        (
            4,
            {"CPU": 1.0},
            TWO,
            "4 actors of 1 CPU each need 4 CPU at once, but this Ray cluster has 2 CPU "
            "(1 node), so at most 2 of them can ever run: the others would wait forever, "
            "and so may the Dataset (its read tasks need a CPU that the actors leave "
            "free). Pass actors=2 or fewer or num_cpus=0.5 or less per actor (actors=1 "
            "or num_cpus=0.25 to leave 1 CPU to Ray Data's read and write tasks). If the "
            "cluster's autoscaler will add nodes, pass cluster_may_grow=True.",
        ),
        (3, {"CPU": 1.0}, TWO, "num_cpus=0.6666 or less"),  # rounded down: it must fit
        (3, {"CPU": 1.0}, TWO, "(actors=1 or num_cpus=0.3333 to leave 1 CPU"),
        (5, {"CPU": 0.5}, TWO, "Pass actors=4 or fewer or num_cpus=0.4 or less per actor"),
        (
            2,
            {"CPU": 1.5},
            TWO_NODES,
            "so not one of them can ever run (an actor takes its resources on one node): "
            "the Dataset would wait forever. Pass num_cpus=1 or less per actor (num_cpus=0.5 "
            "to leave 1 CPU",
        ),
        (1, {"CPU": 3.0}, TWO, "1 actor of 3 CPU needs 3 CPU at once"),
        (1, {"CPU": 3.0}, TWO, "so it can never run: the Dataset would wait forever."),
        # a CPU kept free on the node where it costs the fewest actors
        (5, {"CPU": 1.0}, [{"CPU": 1.0}, {"CPU": 3.0}], "(actors=3 or num_cpus=0.6 to leave"),
        # no node can keep a whole CPU free: only the numbers that fit
        (
            5,
            {"CPU": 0.3},
            [{"CPU": 0.9}, {"CPU": 0.3}],
            "actors=4 or fewer or num_cpus=0.225 or less per actor. If",
        ),
        # a GPU short: fewer actors help, fewer CPUs do not
        (3, {"CPU": 1.0, "GPU": 1.0}, GPU_NODE, "has 8 CPU, 2 GPU (1 node)"),
        (3, {"CPU": 1.0, "GPU": 1.0}, GPU_NODE, "Pass actors=2 or fewer. If"),
        (1, {"CPU": 1.0, "GPU": 1.0}, TWO, "wait forever. If the cluster's autoscaler"),
        (10**9, {"CPU": 1.0}, [{"CPU": 64.0}] * 100, "has 6400 CPU (100 nodes)"),
        (10**9, {"CPU": 1.0}, [{"CPU": 64.0}] * 100, "(actors=6399 to leave 1 CPU"),
    ],
)
def test_check_actors_fit(
    actors: int,
    per_actor: Mapping[str, float],
    nodes: Sequence[Mapping[str, float]],
    expected: str | None,
) -> None:
    if expected is None:
        check_actors_fit(actors, per_actor, nodes)
        return
    with pytest.raises(InvalidRequestError) as raised:
        check_actors_fit(actors, per_actor, nodes)
    assert "actors" == raised.value.param
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, 0.5), (1, 1.0), (0, 0.0), (0.0001, 0.0001), (16, 16.0), (2.5, 2.5)],
)
def test_num_cpus_ray_can_reserve(value: float, expected: float) -> None:
    assert expected == check_num_cpus(value)


@pytest.mark.parametrize(
    "value", [-1, -0.5, 0.00001, float("nan"), float("inf"), True, "1", None, [1]]
)
def test_num_cpus_ray_cannot_reserve(value: object) -> None:
    with pytest.raises(InvalidRequestError, match=r"num_cpus must be a number of CPUs >= 0"):
        check_num_cpus(value)


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([], False),  # no autoscaler configuration
        ([(True, 1, 1)], False),  # a fixed group (the head)
        ([(True, 1, 1), (True, 2, 2)], False),
        ([(True, 1, 1), (True, 0, 4)], True),  # workers from 0 to 4
        ([(True, 0, -1)], True),  # no maximum
        ([(True, 0, 0)], False),  # a group that may have no node
        ([(False, 0, 10)], False),  # a group of nodes without resources
    ],
)
def test_groups_may_grow(groups: list[tuple[bool, int, int]], expected: bool) -> None:
    assert expected is groups_may_grow(groups)


def _coordinators() -> set[tuple[str, str]]:
    """The stage coordinators alive in the cluster, as ``(name, namespace)``."""
    return {
        (actor["name"], actor["namespace"])
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["name"].startswith("friendli-images-coordinator-")
    }


@pytest.fixture
def kill_new_coordinators(server: FriendliTestServer) -> Iterator[None]:
    """Kill the coordinators the test's Datasets leave (most are never run)."""
    before = _coordinators()
    yield
    for name, namespace in _coordinators() - before:
        ray.kill(ray.get_actor(name, namespace=namespace))


def _guide_message() -> str:
    """The refusal the Ray guide shows (its first ``text`` block after the heading)."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "guide" / "ray.md").read_text("utf-8")
    section = page[page.index("### A pool larger than the cluster is refused") :]
    return section.split("```text\n", 1)[1].split("```", 1)[0]


def test_the_local_cluster_is_one_node_of_two_cpus(server: FriendliTestServer) -> None:
    nodes = cluster_nodes()
    assert nodes is not None
    assert [2.0] == [node["CPU"] for node in nodes]


def test_a_pool_the_cluster_cannot_hold_fails_at_once(
    server: FriendliTestServer, kill_new_coordinators: None
) -> None:
    rows = [{"id": f"r{i}", "prompt": f"fits {i}"} for i in range(4)]
    dataset = ray.data.from_items(rows)
    before = _coordinators()
    started = time.monotonic()
    with pytest.raises(InvalidRequestError) as raised:
        generate_images(dataset, model="test-model", actors=4, num_cpus=1)
    seconds = time.monotonic() - started

    assert seconds < 5  # measured: 76 ms for the first call, 2 ms for the next ones
    assert "actors" == raised.value.param
    message = str(raised.value)
    assert "4 actors of 1 CPU each need 4 CPU at once" in message
    assert "this Ray cluster has 2 CPU (1 node)" in message
    assert "Pass actors=2 or fewer or num_cpus=0.5 or less per actor" in message
    assert " ".join(message.split()) == " ".join(_guide_message().split())  # as the guide says
    assert [] == server.generation_requests  # nothing was sent, no actor was made ...
    assert before == _coordinators()
    # ... and the first fix the message names runs: 2 actors of 1 CPU fill the cluster
    out = generate_images(dataset, model="test-model", actors=2, num_cpus=1).take_all()
    assert {row["id"] for row in rows} == {row["id"] for row in out}
    assert all(row["error"] is None for row in out)
    assert 4 == len(server.generation_requests)


def test_a_cluster_that_may_grow_is_not_refused(
    server: FriendliTestServer, kill_new_coordinators: None
) -> None:
    dataset = ray.data.from_items([{"prompt": "never run"}])
    # said so
    generate_images(dataset, model="m", actors=4, num_cpus=1, cluster_may_grow=True)
    # an autoscaler's node groups, in the GCS where Ray keeps them (as KubeRay's and
    # autoscaler v2 report them; Ray's generated modules have no type information)
    raylet: Any = importlib.import_module("ray._raylet")
    messages: Any = importlib.import_module("ray.core.generated.autoscaler_pb2")
    from ray.experimental import internal_kv

    head = messages.NodeGroupConfig(name="head", resources={"CPU": 2}, min_count=1, max_count=1)
    workers = messages.NodeGroupConfig(name="worker", resources={"CPU": 4}, max_count=4)
    key = raylet.GCS_AUTOSCALER_CLUSTER_CONFIG_KEY
    namespace = raylet.GCS_AUTOSCALER_STATE_NAMESPACE
    try:
        for groups, grows in (([head], False), ([head, workers], True)):
            config = messages.ClusterConfig(node_group_configs=groups).SerializeToString()
            internal_kv._internal_kv_put(key, config, namespace=namespace)
            assert grows is (cluster_nodes() is None)
            if grows:  # workers from 0 to 4: not refused
                generate_images(dataset, model="m", actors=4, num_cpus=1)
            else:  # the head alone, min_count = max_count: still refused
                with pytest.raises(InvalidRequestError, match="at most 2 of them"):
                    generate_images(dataset, model="m", actors=4, num_cpus=1)
    finally:
        internal_kv._internal_kv_del(key, namespace=namespace)
    assert cluster_nodes() is not None  # a fixed cluster again
    with pytest.raises(InvalidRequestError, match="cluster_may_grow"):
        generate_images(dataset, model="m", actors=4, num_cpus=1, cluster_may_grow="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="num_cpus"):
        generate_images(dataset, model="m", num_cpus=-1)
    assert [] == server.generation_requests
