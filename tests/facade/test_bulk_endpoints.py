"""Sleeping endpoints in bulk: ``generate_many``, ``run_jobs``/``arun_jobs`` and
``friendli-images run`` with ``wait_for_endpoint``/``wake`` and ``--sleep-after``, against
the loopback test server's simulated endpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from friendli_images import (
    AsyncFriendliImages,
    FriendliContainerImages,
    FriendliImages,
    InternalServerError,
    InvalidRequestError,
    arun_jobs,
    run_jobs,
)
from friendli_images._cli import main
from friendli_images._endpoints import _rules as _endpoint_rules
from friendli_images.testing import FriendliTestServer

TIMEOUT = 30


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep status polls close together; the deadlines under test are still real."""
    monkeypatch.setattr(_endpoint_rules, "INITIAL_POLL_DELAY", 0.01)
    monkeypatch.setattr(_endpoint_rules, "MAX_POLL_DELAY", 0.05)


@pytest.fixture
def cli_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FriendliTestServer]:
    """A test server the in-process command line talks to through FRIENDLI_* variables."""
    with FriendliTestServer(token="cli-token") as server:
        monkeypatch.setenv("FRIENDLI_TOKEN", server.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", server.base_url)
        yield server
        assert [] == server.errors


def actions(server: FriendliTestServer) -> list[tuple[str, str]]:
    """``(endpoint, action)`` of each endpoint API request, in order."""
    return [tuple(r.path.rsplit("/", 2)[-2:]) for r in server.endpoint_requests]  # type: ignore[misc]


def write_jobs(path: Path, models: list[str]) -> Path:
    lines = [
        json.dumps({"id": f"j{i}", "prompt": f"cat {i}", "model": m}) for i, m in enumerate(models)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def requests_for(models: list[str]) -> list[dict[str, Any]]:
    return [
        {"prompt": f"cat {i}", "model": m, "response_format": "png"} for i, m in enumerate(models)
    ]


class TestGenerateMany:
    def test_one_wake_per_endpoint(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """8 requests to two sleeping endpoints (one through an adapter): every request
        gets its image, and each endpoint gets exactly one wake request."""
        first = friendli_server.add_endpoint("dep1")
        second = friendli_server.add_endpoint("dep2")
        models = ["dep1", "dep2:adapter"] * 4

        outcomes = list(
            client.generate_many(
                requests_for(models), concurrency=8, wait_for_endpoint=30, wake=True
            )
        )

        assert [None] * 8 == [outcome.error for outcome in outcomes]
        assert 8 == sum(len(outcome.result.images) for outcome in outcomes if outcome.result)
        assert (1, 1) == (first.wake_requests, second.wake_requests)
        assert first.status_reads <= 8
        assert second.status_reads <= 8

    @pytest.mark.anyio
    async def test_async_one_wake(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async batch of 8 shares one wait and one wake request too."""
        endpoint = friendli_server.add_endpoint("dep1")

        outcomes = [
            outcome
            async for outcome in aclient.generate_many(
                requests_for(["dep1"] * 8), concurrency=8, wait_for_endpoint=30, wake=True
            )
        ]

        assert [None] * 8 == [outcome.error for outcome in outcomes]
        assert 1 == endpoint.wake_requests
        assert endpoint.status_reads <= 8

    def test_without_options_nothing_changes(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Without the options a sleeping endpoint fails each request with 503, and no
        status or wake request is sent."""
        friendli_server.add_endpoint("dep1")

        outcomes = list(client.generate_many(requests_for(["dep1"] * 3)))

        assert [503] * 3 == [
            outcome.error.status_code
            for outcome in outcomes
            if isinstance(outcome.error, InternalServerError)
        ]
        assert [] == friendli_server.endpoint_requests

    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"wake": True}, id="wake-without-wait"),
            pytest.param({"wait_for_endpoint": -1}, id="negative-wait"),
            pytest.param({"wait_for_endpoint": "60"}, id="wait-not-a-number"),
            pytest.param({"wait_for_endpoint": 60, "wake": "yes"}, id="wake-not-a-bool"),
        ],
    )
    def test_invalid_options_send_nothing(
        self, client: FriendliImages, friendli_server: FriendliTestServer, options: dict[str, Any]
    ) -> None:
        """Bad waiting options raise before the batch starts: zero requests."""
        friendli_server.add_endpoint("dep1")

        with pytest.raises(InvalidRequestError):
            client.generate_many(requests_for(["dep1"]), **options)

        assert [] == friendli_server.requests

    @pytest.mark.anyio
    async def test_async_invalid_options_send_nothing(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        with pytest.raises(InvalidRequestError, match="wake=True needs wait_for_endpoint"):
            aclient.generate_many(requests_for(["dep1"]), wake=True)

        assert [] == friendli_server.requests

    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"wait_for_endpoint": 60}, id="wait"),
            pytest.param({"wait_for_endpoint": 60, "wake": True}, id="wait-and-wake"),
            pytest.param({"wake": True}, id="wake"),
        ],
    )
    def test_container_refuses_the_options(
        self, friendli_server: FriendliTestServer, options: dict[str, Any]
    ) -> None:
        """A Friendli Container has no endpoint to wait for: the options are refused, not
        ignored, and nothing is sent."""
        with (
            FriendliContainerImages(base_url=friendli_server.base_url) as container,
            pytest.raises(InvalidRequestError, match="Dedicated Endpoints"),
        ):
            container.generate_many([{"prompt": "a cat"}], **options)

        assert [] == friendli_server.requests


class TestRunJobs:
    def test_summary_lists_endpoints_and_events(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        """run_jobs wakes once and reports the wake, the wait and the endpoint used."""
        endpoint = friendli_server.add_endpoint("dep1")
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1:adapter"] * 8)

        summary = run_jobs(
            jobs, tmp_path / "out", client=client, concurrency=8, wait_for_endpoint=30, wake=True
        )

        assert (8, 0, 8) == (summary.done, summary.failed, summary.images)
        assert 1 == endpoint.wake_requests
        assert ("dep1",) == summary.endpoints
        assert ["wake", "wait"] == [event.kind for event in summary.endpoint_events]
        document = summary.to_json()
        assert ["dep1"] == document["endpoints"]
        assert "RUNNING" == document["endpoint_events"][-1]["status"]["status"]
        json.dumps(document)

    @pytest.mark.anyio
    async def test_async(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        endpoint = friendli_server.add_endpoint("dep1")
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1"] * 8)

        summary = await arun_jobs(
            jobs, tmp_path / "out", client=aclient, concurrency=8, wait_for_endpoint=30, wake=True
        )

        assert (8, 0) == (summary.done, summary.failed)
        assert 1 == endpoint.wake_requests
        assert ["wake", "wait"] == [event.kind for event in summary.endpoint_events]

    def test_wake_without_wait_is_refused(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1"])

        with pytest.raises(InvalidRequestError):
            run_jobs(jobs, tmp_path / "out", client=client, wake=True)

        assert [] == friendli_server.requests


class TestRunCommand:
    def test_wait_and_wake(
        self, cli_server: FriendliTestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """8 jobs against a sleeping endpoint: 8 images, exactly one wake request, and the
        wake and the wait said on stderr and listed in --json."""
        endpoint = cli_server.add_endpoint("dep1")
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1"] * 8)
        argv = ["run", str(jobs), "--out", str(tmp_path / "out"), "--concurrency", "8"]

        status = main([*argv, "--wait-for-endpoint", "60", "--wake", "--json"])

        out, err = capsys.readouterr()
        assert 0 == status, err
        assert 8 == len(list((tmp_path / "out" / "images").iterdir()))
        assert 1 == endpoint.wake_requests
        assert "endpoint dep1: one wake request sent" in err
        document = json.loads(out)
        assert (8, ["dep1"]) == (document["images"], document["endpoints"])
        assert ["wake", "wait"] == [event["kind"] for event in document["endpoint_events"]]
        assert "slept_endpoints" not in document

    def test_without_options_nothing_changes(
        self, cli_server: FriendliTestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without the options every job fails with 503 and no endpoint request is sent."""
        cli_server.add_endpoint("dep1")
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1"] * 3)

        status = main(["run", str(jobs), "--out", str(tmp_path / "out")])

        assert 1 == status
        failures = (tmp_path / "out" / "failures.jsonl").read_text().splitlines()
        assert 3 == len(failures)
        assert all("503" in line for line in failures)
        assert [] == cli_server.endpoint_requests
        capsys.readouterr()

    def test_wake_needs_wait(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """--wake alone is a usage error: nothing is sent, nothing put to sleep."""
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1"])

        with pytest.raises(SystemExit) as caught:
            main(["run", str(jobs), "--out", str(tmp_path / "out"), "--wake", "--sleep-after"])

        assert 2 == caught.value.code
        assert [] == cli_server.requests

    @pytest.mark.parametrize("running", [True, False], ids=["run-succeeds", "run-fails"])
    def test_sleep_after_each_endpoint(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        running: bool,
    ) -> None:
        """--sleep-after: exactly one sleep request per endpoint the jobs used (an adapter
        maps to its endpoint), whatever the run's outcome; said on stderr and in --json."""
        state = "RUNNING" if running else "SLEEPING"
        cli_server.add_endpoint("dep1", status=state)
        cli_server.add_endpoint("dep2", status=state)
        cli_server.add_endpoint("idle", status="RUNNING")  # no job uses it
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1", "dep2:adapter", "dep1", "dep2"])

        status = main(["run", str(jobs), "--out", str(tmp_path / "out"), "--sleep-after", "--json"])

        out, err = capsys.readouterr()
        assert (0 if running else 1) == status
        assert [("dep1", "sleep"), ("dep2", "sleep")] == sorted(actions(cli_server))
        for endpoint_id in ("dep1", "dep2"):
            assert f"--sleep-after: sleep request sent to endpoint {endpoint_id}" in err
        assert ["dep1", "dep2"] == sorted(json.loads(out)["slept_endpoints"])

    @pytest.mark.parametrize(
        ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["int", "term"]
    )
    def test_sleep_after_ctrl_c(
        self, cli_server: FriendliTestServer, tmp_path: Path, signum: signal.Signals, status: int
    ) -> None:
        """Ctrl-C (or SIGTERM) while the jobs are in flight still sends one sleep request
        per endpoint."""
        cli_server.add_endpoint("dep1", status="RUNNING")
        cli_server.add_endpoint("dep2", status="RUNNING")
        cli_server.latency = 10
        jobs = write_jobs(tmp_path / "jobs.jsonl", ["dep1", "dep2", "dep1", "dep2"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
        env.update(FRIENDLI_TOKEN=cli_server.token, FRIENDLI_BASE_URL=cli_server.base_url)
        argv = ["run", str(jobs), "--out", str(tmp_path / "out"), "--sleep-after"]
        with subprocess.Popen(
            [sys.executable, "-m", "friendli_images", *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            wait_for(lambda: len(cli_server.generation_requests) == 4)
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=TIMEOUT)

        assert status == process.returncode, stderr
        assert [("dep1", "sleep"), ("dep2", "sleep")] == sorted(actions(cli_server))
        assert "--sleep-after: sleep request sent to endpoint dep2" in stderr
        assert "Traceback" not in stderr
