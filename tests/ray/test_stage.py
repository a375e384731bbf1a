"""The Ray Data stage on a real local cluster against the loopback test server."""

from __future__ import annotations

import collections
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

# ray.data, not ray: without the extra, this very directory imports as a namespace "ray".
pytest.importorskip("ray.data", reason="the 'ray' extra is not installed")
import ray
from friendli_images import InvalidRequestError
from friendli_images.ray import OUTPUT_SCHEMA, generate_images, write_imagefolder
from friendli_images.testing import WAKE_PHASES, ErrorStatus, FriendliTestServer

from bench._ray_procs import stage_pids

pytestmark = pytest.mark.ray


def _prompts(server: FriendliTestServer) -> collections.Counter[str]:
    """How many generation requests the server received per prompt."""
    return collections.Counter(
        json.loads(request.body)["prompt"] for request in server.generation_requests
    )


def _coordinators() -> list[Any]:
    return [
        ray.get_actor(actor["name"], namespace=actor["namespace"])
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["name"].startswith("friendli-images-coordinator-")
    ]


def test_rows_through_two_actors_every_row_once(server: FriendliTestServer) -> None:
    server.latency = 0.02  # long enough for the requests of both actors to overlap
    rows = [{"id": f"row-{i}", "prompt": f"prompt {i}", "seed": i} for i in range(300)]
    before = {id(actor) for actor in _coordinators()}
    images = generate_images(ray.data.from_items(rows), model="test-model", concurrency=4, actors=2)
    out = images.take_all()

    assert 300 == len(out)
    assert {row["id"] for row in rows} == {row["id"] for row in out}
    assert all(row["error"] is None for row in out)
    assert all(row["mime_type"] == "image/png" and row["image"][:4] == b"\x89PNG" for row in out)
    assert {row["seed"] for row in rows} == {row["seed"] for row in out}
    # each row was sent exactly once
    assert {f"prompt {i}": 1 for i in range(300)} == dict(_prompts(server))
    recipe = json.loads(next(row for row in out if row["id"] == "row-7")["recipe"])
    assert {"model": "test-model", "prompt": "prompt 7", "seed": 7} == recipe
    # the one knob is the total the endpoint sees, spread over the actors (2 + 2)
    assert 2 < server.max_in_flight <= 4
    # two actors registered with the stage's one named coordinator
    new = [actor for actor in _coordinators() if id(actor) not in before]
    assert 2 in [ray.get(actor.registered.remote()) for actor in new]


def test_failures_are_rows(server: FriendliTestServer) -> None:
    server.inject(ErrorStatus(500, message=f"the GPU caught fire ({server.token})"), times=2)
    rows: list[dict[str, Any]] = [{"id": f"ok-{i}", "prompt": f"ok {i}"} for i in range(10)]
    rows += [
        {"id": "bad.id", "prompt": "an id with a dot"},
        {"id": "steps", "prompt": "too many steps", "num_inference_steps": 9999},
        {"id": "unknown", "prompt": "an unknown field", "colour": "red"},
        {"id": "ambiguous", "prompt": "a run option", "retry_ambiguous": True},
        {"id": "asleep", "prompt": "an endpoint asleep", "model": "asleep-ep"},
    ]
    endpoint = server.add_endpoint("asleep-ep")
    images = generate_images(
        ray.data.from_items(rows, override_num_blocks=1),  # in order: the 500s hit ok 0, 1
        model="test-model",
        concurrency=2,
        actors=1,
        client_options={"max_retries": 0},
    )
    tables = ray.get(images.to_arrow_refs())
    assert all(table.schema.equals(OUTPUT_SCHEMA) for table in tables)  # one fixed schema
    out = {row["id"]: row for table in tables for row in table.to_pylist()}

    assert 15 == len(out)
    failed = [row for row in out.values() if row["error"] is not None]
    server_errors = [row for row in failed if row["status"] == 500]
    assert 2 == len(server_errors)
    assert all("the GPU caught fire" in row["message"] for row in server_errors)
    # the token never reaches a column
    assert all(server.token not in str(value) for row in out.values() for value in row.values())
    assert "InvalidJobLine" == out["ambiguous"]["error"]
    # an endpoint asleep, without wake=True: a 503 row, and no wake
    assert 503 == out["asleep"]["status"]
    assert 0 == endpoint.wake_requests
    assert all(
        row["image"] is None and row["error"] == "InternalServerError" for row in server_errors
    )
    invalid_id = out[None]
    assert "InvalidJobLine" == invalid_id["error"]
    assert "'id'" in invalid_id["message"]
    assert "InvalidRequestError" == out["steps"]["error"]
    assert "InvalidRequestError" == out["unknown"]["error"]
    # an invalid row sends nothing: the server saw the ten valid rows only
    assert sorted([*(f"ok {i}" for i in range(10)), "an endpoint asleep"]) == sorted(
        _prompts(server)
    )


def test_one_wake_for_a_sleeping_endpoint(server: FriendliTestServer) -> None:
    # one waking phase, one status read: the waiters' polls start at 1 s (in other processes)
    endpoint = server.add_endpoint("sleepy-ep", polls_per_phase=1, phases=WAKE_PHASES[:1])
    rows = [{"id": f"r{i}", "prompt": f"wake {i}"} for i in range(40)]
    images = generate_images(
        ray.data.from_items(rows),
        model="sleepy-ep",
        concurrency=8,
        actors=2,
        wait_for_endpoint=60,
        wake=True,
    )
    out = images.take_all()

    assert 40 == len(out)
    assert [] == [row for row in out if row["error"] is not None]
    assert 1 == endpoint.wake_requests
    assert "RUNNING" == endpoint.status


def test_a_killed_actor_sends_no_request_again(server: FriendliTestServer) -> None:
    server.latency = 0.3
    rows = [{"id": f"k{i}", "prompt": f"kill {i}"} for i in range(60)]
    images = generate_images(ray.data.from_items(rows), model="test-model", concurrency=4, actors=2)
    outcome: dict[str, Any] = {}

    def consume() -> None:
        outcome["rows"] = images.take_all()

    consumer = threading.Thread(target=consume)
    consumer.start()
    deadline = time.monotonic() + 60
    while len(server.generation_requests) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    pids = stage_pids()
    assert pids, "no stage actor process found"
    os.kill(pids[0], signal.SIGKILL)
    consumer.join(timeout=120)
    assert not consumer.is_alive()

    out = {row["id"]: row for row in outcome["rows"]}
    sent = _prompts(server)
    # Ray restarted the actor and retried its batch: every row has its output row ...
    assert {row["id"] for row in rows} == set(out)
    # ... no request was sent twice ...
    assert [] == [prompt for prompt, count in sent.items() if count > 1]
    # ... and the rows the dead actor may have sent are failure rows, not sent again
    interrupted = [row for row in out.values() if row["error"] == "RequestInterruptedError"]
    # at most the dead actor's batch (16 rows: 8 per request slot); its finished rows too
    assert 1 <= len(interrupted) <= 16
    assert all(row["image"] is not None for row in out.values() if row["error"] is None)
    assert len(out) == len(interrupted) + sum(row["error"] is None for row in out.values())
    images_sent = {row["prompt"] for row in out.values() if row["error"] is None}
    assert images_sent <= set(sent)


def test_bad_options_are_rejected_before_anything_runs(server: FriendliTestServer) -> None:
    dataset = ray.data.from_items([{"prompt": "never sent"}])
    with pytest.raises(InvalidRequestError, match="token"):
        generate_images(dataset, model="m", client_options={"token": "flp_secret"})
    with pytest.raises(InvalidRequestError, match="actors"):
        generate_images(dataset, model="m", actors=0)
    with pytest.raises(InvalidRequestError, match="concurrency"):
        generate_images(dataset, model="m", concurrency=0)
    with pytest.raises(InvalidRequestError):
        generate_images(dataset, model="m", defaults={"num_inference_steps": 9999})
    with pytest.raises(InvalidRequestError, match="max_restarts"):
        generate_images(dataset, model="m", max_restarts=-2)
    with pytest.raises(InvalidRequestError, match="resend_interrupted"):
        generate_images(dataset, model="m", resend_interrupted="yes")  # type: ignore[arg-type]
    assert [] == server.generation_requests  # a rejected call sends nothing


def test_imagefolder_loads_with_datasets(server: FriendliTestServer, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    server.inject(ErrorStatus(400, message="no"), times=1)
    rows = [{"id": f"img-{i}", "prompt": f"picture {i}", "seed": 100 + i} for i in range(12)]
    images = generate_images(
        ray.data.from_items(rows, override_num_blocks=3), model="m", concurrency=2, actors=1
    ).materialize()
    target = tmp_path / "folder"
    write_imagefolder(images, str(target))

    loaded = datasets.load_dataset("imagefolder", data_dir=str(target), split="train")
    assert 11 == len(loaded)
    assert {f"img-{i}" for i in range(12)} - {None} > set(loaded["id"])
    assert {"image", "id", "prompt", "seed", "model", "mime_type"} <= set(loaded.column_names)
    failures = [
        json.loads(line)
        for path in target.glob("part-*/failures.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert 1 == len(failures)
    assert 400 == failures[0]["status"]
    # a second write adds parts; it changes no file of the first
    first = {path: path.read_bytes() for path in target.rglob("*") if path.is_file()}
    write_imagefolder(images, str(target))
    assert all(path.read_bytes() == data for path, data in first.items())
    assert 2 * len(list(target.glob("*/metadata.jsonl"))) >= 2


def test_the_ledger_adopts_a_dead_incarnations_attempt(server: FriendliTestServer) -> None:
    from friendli_images.ray import Coordinator

    coordinator = Coordinator({})
    assert 0 == coordinator.register("actor-a", "first")
    assert 1 == coordinator.register("actor-b", "only")
    number, claimed = coordinator.begin("batch", "actor-a", "first")
    assert [] == claimed
    coordinator.claim("batch", number, [0, 1, 2])
    # a live actor running an identical batch starts its own attempt
    other, claimed = coordinator.begin("batch", "actor-b", "only")
    assert (number, []) != (other, claimed)
    assert [] == claimed
    # actor-a restarts (same id, new incarnation, same index) and its batch is retried
    assert 0 == coordinator.register("actor-a", "second")
    assert (number, [0, 1, 2]) == coordinator.begin("batch", "actor-a", "second")
    coordinator.finish("batch", number)
    coordinator.finish("batch", other)
    assert (2, []) == coordinator.begin("batch", "actor-a", "second")
