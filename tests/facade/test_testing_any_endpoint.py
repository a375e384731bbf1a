"""``any_endpoint``: the test server (and ``mock-server``) answers every endpoint id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from friendli_images import FriendliImages, InternalServerError
from friendli_images.testing import FriendliTestServer

_STATUS = "/dedicated/beta/endpoint/{}/status"


def _get(server: FriendliTestServer, endpoint_id: str) -> httpx.Response:
    return httpx.get(
        server.base_url + _STATUS.format(endpoint_id),
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def test_off_by_default(friendli_server: FriendliTestServer) -> None:
    """An id never added is a 404, as on Friendli."""
    assert not friendli_server.any_endpoint
    assert 404 == _get(friendli_server, "never-added").status_code


def test_any_id_is_a_running_endpoint_that_sleeps_and_wakes(
    friendli_server: FriendliTestServer,
) -> None:
    """Status, sleep and wake work for any id; asleep, its generations get 503."""
    friendli_server.any_endpoint = True
    with FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url) as c:
        assert "RUNNING" == c.endpoint_status("whatever-id").status
        assert "SLEEPING" == c.sleep_endpoint("whatever-id").status
        with pytest.raises(InternalServerError) as asleep:
            c.generate("x", model="whatever-id", max_retries=0)
        assert 503 == asleep.value.status_code
        assert "AWAKING" == c.wake_endpoint("whatever-id").status
        assert "RUNNING" == c.wait_until_ready("whatever-id", timeout=30).status
        assert 1 == len(c.generate("x", model="whatever-id").images)
    assert "RUNNING" == friendli_server.endpoint("whatever-id").status


def test_still_checks_token_and_id(friendli_server: FriendliTestServer) -> None:
    """Answering any id does not mean answering anyone, or any path."""
    friendli_server.any_endpoint = True
    assert 422 == _get(friendli_server, "not%20valid").status_code
    unauthorized = httpx.get(friendli_server.base_url + _STATUS.format("dep1"), timeout=10)
    assert 401 == unauthorized.status_code


def test_constructor_argument() -> None:
    with FriendliTestServer(any_endpoint=True) as server:
        assert server.any_endpoint
        assert "RUNNING" == _get(server, "dep9").json()["status"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM stops the command on POSIX")
def test_mock_server_command_answers_any_endpoint() -> None:
    """``friendli-images mock-server``, plain, answers ``endpoint status`` for any id."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    with subprocess.Popen(
        [sys.executable, "-m", "friendli_images", "mock-server", "--port", "0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            for _ in range(3):
                name, value = process.stdout.readline().removeprefix("export ").strip().split("=")
                env[name] = value
            status = subprocess.run(
                [sys.executable, "-m", "friendli_images", "endpoint", "status", "any-id-at-all"],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
    assert (0, "any-id-at-all: RUNNING\n") == (status.returncode, status.stdout), status.stderr
