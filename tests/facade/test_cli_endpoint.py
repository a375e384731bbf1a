"""The command line's endpoint parts: ``endpoint status|wake|sleep``, ``--wait-for-endpoint``,
``--wake``, ``--sleep-after`` and the mock server's sleeping endpoints."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from friendli_images._cli import main
from friendli_images._endpoints import _rules as _endpoint_rules
from friendli_images.testing import FriendliTestServer

TIMEOUT = 30


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
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


def actions(server: FriendliTestServer) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in server.endpoint_requests]


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class TestEndpointCommand:
    def test_status(
        self, cli_server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`endpoint status` prints the status; --json prints every field."""
        endpoint = cli_server.add_endpoint("dep1")
        endpoint.created_at = "2026-07-22T10:00:00"

        assert 0 == main(["endpoint", "status", "dep1"])
        assert 0 == main(["endpoint", "status", "dep1:adapter", "--json"])

        lines = capsys.readouterr().out
        text, document = lines.split("\n", 1)
        assert "dep1: SLEEPING" == text
        assert {
            "endpoint_id": "dep1",
            "status": "SLEEPING",
            "phase": None,
            "error_code": None,
            "created_at": "2026-07-22T10:00:00+00:00",
        }.items() <= json.loads(document).items()

    def test_wake_and_sleep(
        self, cli_server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`endpoint wake` sends one wake request; `endpoint sleep` one sleep request."""
        cli_server.add_endpoint("dep1")

        assert 0 == main(["endpoint", "wake", "dep1"])
        assert 0 == main(["endpoint", "sleep", "dep1"])

        assert "dep1: AWAKING (REQUESTING_VIRTUAL_MACHINE)\ndep1: SLEEPING\n" == (
            capsys.readouterr().out
        )
        assert ["wake", "sleep"] == actions(cli_server)

    def test_wake_wait(
        self, cli_server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`wake --wait` waits to RUNNING, showing each status and phase on stderr."""
        cli_server.add_endpoint("dep1")

        assert 0 == main(["endpoint", "wake", "dep1", "--wait", "20"])

        out, err = capsys.readouterr()
        assert "dep1: RUNNING\n" == out
        assert [
            "dep1: SLEEPING",
            "dep1: AWAKING (REQUESTING_VIRTUAL_MACHINE)",
            "dep1: AWAKING (DOWNLOADING_MODEL)",
            "dep1: AWAKING (ENGINE_INITIALIZING)",
            "dep1: RUNNING",
        ] == err.splitlines()
        assert 1 == actions(cli_server).count("wake")

    def test_wake_wait_failed(
        self, cli_server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An endpoint that fails to wake exits 1 with its error code; --json prints it."""
        cli_server.add_endpoint("dep1", fail_on_wake="WORKLOAD_INIT_DOWNLOAD_ERROR")

        assert 1 == main(["endpoint", "wake", "dep1", "--wait", "--json"])

        out, err = capsys.readouterr()
        assert "WORKLOAD_INIT_DOWNLOAD_ERROR" == json.loads(out)["error_code"]
        assert "error: Endpoint dep1 failed (WORKLOAD_INIT_DOWNLOAD_ERROR)" in err

    def test_wake_wait_times_out(
        self, cli_server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A wake slower than --wait exits 1 naming the last status."""
        cli_server.add_endpoint("dep1", polls_per_phase=None, seconds_per_phase=60)

        assert 1 == main(["endpoint", "wake", "dep1", "--wait", "1"])

        assert "last status AWAKING, phase REQUESTING_VIRTUAL_MACHINE" in capsys.readouterr().err

    def test_unknown_endpoint(
        self, cli_server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A 404 exits 1 with the server's message."""
        assert 1 == main(["endpoint", "status", "nope"])

        assert "error: 404 Not Found: Endpoint nope not found\n" == capsys.readouterr().err

    @pytest.mark.parametrize(
        "argv",
        [
            pytest.param(["endpoint", "status", ":x"], id="no-endpoint-id"),
            pytest.param(["endpoint", "wake", "dep1", "--wait", "0"], id="zero-wait"),
            pytest.param(["endpoint", "frobnicate", "dep1"], id="unknown-action"),
        ],
    )
    def test_usage_errors(self, cli_server: FriendliTestServer, argv: list[str]) -> None:
        """Bad arguments exit 2 and send nothing."""
        with pytest.raises(SystemExit) as caught:
            main(argv)

        assert 2 == caught.value.code
        assert [] == cli_server.requests


class TestGenerateOptions:
    def test_wait_and_wake(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--wait-for-endpoint --wake: every image of the batch is saved after one wake
        request, and stderr says what was done to the endpoint."""
        endpoint = cli_server.add_endpoint("dep1")

        argv = ["generate", "a cat", "--model", "dep1", "-n", "6", "--out", str(tmp_path)]

        status = main([*argv, "--wait-for-endpoint", "30", "--wake"])

        out, err = capsys.readouterr()
        assert 0 == status, err
        assert 6 == len(out.splitlines())
        assert 1 == endpoint.wake_requests
        assert endpoint.status_reads <= 6
        assert "endpoint dep1: one wake request sent" in err
        assert "endpoint dep1: waited" in err

    def test_json_report_lists_endpoint_events(
        self, cli_server: FriendliTestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json lists the wake and the wait with the endpoint's status."""
        cli_server.add_endpoint("dep1")
        argv = ["generate", "a", "--model", "dep1", "--out", str(tmp_path), "--json"]

        assert 0 == main([*argv, "--wait-for-endpoint", "30", "--wake"])

        events = json.loads(capsys.readouterr().out)["endpoint_events"]
        assert [("wake", "AWAKING"), ("wait", "RUNNING")] == [
            (event["kind"], event["status"]["status"]) for event in events
        ]

    def test_no_options_no_endpoint_calls(
        self, cli_server: FriendliTestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without the options a sleeping endpoint fails the batch with 503, as before."""
        cli_server.add_endpoint("dep1")

        assert 1 == main(["generate", "a", "--model", "dep1", "-n", "2", "--out", str(tmp_path)])

        assert "503 Service Unavailable" in capsys.readouterr().err
        assert [] == cli_server.endpoint_requests

    def test_wake_needs_wait(self, cli_server: FriendliTestServer, tmp_path: Path) -> None:
        """--wake alone is a usage error; nothing is sent, nothing put to sleep."""
        cli_server.add_endpoint("dep1")

        with pytest.raises(SystemExit) as caught:
            main(
                [
                    "generate",
                    "a",
                    "--model",
                    "dep1",
                    "--wake",
                    "--sleep-after",
                    "--out",
                    str(tmp_path),
                ]
            )

        assert 2 == caught.value.code
        assert [] == cli_server.requests

    @pytest.mark.parametrize("running", [True, False], ids=["batch-succeeds", "batch-fails"])
    def test_sleep_after(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        running: bool,
    ) -> None:
        """--sleep-after sends exactly one sleep request after the batch, whatever its outcome."""
        endpoint = cli_server.add_endpoint("dep1", status="RUNNING" if running else "SLEEPING")

        status = main(
            ["generate", "a", "--model", "dep1", "-n", "3", "--out", str(tmp_path), "--sleep-after"]
        )

        assert (0 if running else 1) == status
        assert ["sleep"] == actions(cli_server)
        assert "SLEEPING" == endpoint.status
        assert "--sleep-after: sleep request sent to endpoint dep1; now SLEEPING" in (
            capsys.readouterr().err
        )

    @pytest.mark.parametrize(
        ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["int", "term"]
    )
    def test_sleep_after_ctrl_c(
        self,
        cli_server: FriendliTestServer,
        tmp_path: Path,
        signum: signal.Signals,
        status: int,
    ) -> None:
        """Ctrl-C (or SIGTERM) during the batch still sends exactly one sleep request."""
        cli_server.add_endpoint("dep1", status="RUNNING")
        cli_server.latency = 10
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
        env.update(FRIENDLI_TOKEN=cli_server.token, FRIENDLI_BASE_URL=cli_server.base_url)
        argv = ["generate", "a", "--model", "dep1", "-n", "2", "--out", str(tmp_path)]
        with subprocess.Popen(
            [sys.executable, "-m", "friendli_images", *argv, "--sleep-after"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            wait_for(lambda: len(cli_server.generation_requests) == 2)
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=TIMEOUT)

        assert status == process.returncode
        assert ["sleep"] == actions(cli_server)
        assert "--sleep-after: sleep request sent to endpoint dep1; now SLEEPING" in stderr
        assert "Traceback" not in stderr


class TestStatusLine:
    def test_terminal_rewrites_one_line(self, cli_server: FriendliTestServer) -> None:
        """On a terminal the status and phase are redrawn on one line, ended by a newline."""
        from friendli_images import FriendliImages
        from friendli_images._cli._endpoint import _StatusLine

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        cli_server.add_endpoint("dep1")
        stream = Terminal()
        line = _StatusLine(stream, "dep1")
        with FriendliImages(token=cli_server.token, base_url=cli_server.base_url) as client:
            client.wait_until_ready("dep1", timeout=20, wake=True, on_status=line)
        line.close()

        text = stream.getvalue()
        assert text.startswith("\r\x1b[Kdep1: SLEEPING, 0 s")
        assert "\r\x1b[Kdep1: AWAKING (DOWNLOADING_MODEL), " in text
        assert re.search(r"\r\x1b\[Kdep1: RUNNING, \d+ s\n$", text)
        assert 1 == text.count("\n")
