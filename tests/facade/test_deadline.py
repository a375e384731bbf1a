"""Sync deadlines inside httpx: the rule that clips each socket operation, the thread's
deadline, and the transport the package's sync clients are built with."""

from __future__ import annotations

import threading
import time

import httpcore
import httpx
import pytest
from friendli_images import FriendliImages
from friendli_images._transport import _backend, _deadline
from friendli_images._transport._backend import DeadlineBackend, deadline_transport
from friendli_images._transport._deadline import clip, within
from friendli_images.testing import FriendliTestServer

NOW = time.monotonic


@pytest.mark.parametrize(
    ("left", "timeout", "expected"),
    [
        (None, 5.0, 5.0),  # no deadline: httpx's own timeout
        (None, None, None),
        (10.0, 5.0, 5.0),  # the timeout ends first
        (2.0, 5.0, 2.0),  # the deadline ends first
        (2.0, None, 2.0),  # no timeout: the deadline still holds
    ],
)
def test_clip(left: float | None, timeout: float | None, expected: float | None) -> None:
    """One socket operation gets the smaller of its timeout and what is left."""
    deadline = None if left is None else NOW() + left
    with within(deadline):
        clipped = clip(timeout, httpcore.ReadTimeout)
    if expected is None or left is None:
        assert expected == clipped
    else:
        assert clipped is not None
        assert expected - 0.5 < clipped <= expected


@pytest.mark.parametrize("expired", [httpcore.ReadTimeout, httpcore.ConnectTimeout])
def test_a_passed_deadline_raises_the_operations_timeout(expired: type[Exception]) -> None:
    with within(NOW() - 1), pytest.raises(expired, match="deadline passed"):
        clip(30.0, expired)


def test_within_nests_and_restores() -> None:
    outer, inner = NOW() + 100, NOW() + 1
    with within(outer):
        with within(inner):
            assert clip(None, httpcore.ReadTimeout) <= 1  # type: ignore[operator]
        assert clip(None, httpcore.ReadTimeout) > 50  # type: ignore[operator]
    assert clip(None, httpcore.ReadTimeout) is None


def test_a_deadline_belongs_to_its_thread() -> None:
    """Another thread's socket operations keep their own (no) deadline."""
    seen: list[float | None] = []
    with within(NOW() + 1):
        worker = threading.Thread(target=lambda: seen.append(clip(7.0, httpcore.ReadTimeout)))
        worker.start()
        worker.join()
    assert [7.0] == seen


def test_the_transport_connects_through_the_deadline_backend() -> None:
    """httpx builds its pool itself: the replaced pool must be the one it sends with."""
    transport = deadline_transport()
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool)
    assert isinstance(pool._network_backend, DeadlineBackend)


def test_the_transport_keeps_the_limits(friendli_server: FriendliTestServer) -> None:
    """A pool of 2 connections sends at most 2 requests at once, as httpx's own would."""
    friendli_server.latency = 0.2
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    url = friendli_server.base_url + "/dedicated/v1/images/generations"
    headers = {"Authorization": f"Bearer {friendli_server.token}"}
    body = {"model": "ep", "prompt": "x", "response_format": "png"}
    with httpx.Client(transport=deadline_transport(limits), timeout=10) as http:
        threads = [
            threading.Thread(target=lambda: http.post(url, json=body, headers=headers))
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert 6 == friendli_server.received
    assert 2 == friendli_server.max_in_flight


def test_the_clients_send_through_it(friendli_server: FriendliTestServer) -> None:
    """The client's own connections and a batch's pooled ones both use the transport."""
    client = FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)
    backends: list[object] = []
    original = _backend._Stream.read

    def read(self: _backend._Stream, max_bytes: int, timeout: float | None = None) -> bytes:
        backends.append(_deadline._local.deadline)
        return original(self, max_bytes, timeout)

    with client, pytest.MonkeyPatch.context() as patch:
        patch.setattr(_backend._Stream, "read", read)
        client.generate("x", model="ep")
        single = len(backends)
        client.generate("x", model="ep", n=2, concurrency=2)
    assert single >= 1
    assert len(backends) > single
    assert all(isinstance(deadline, float) for deadline in backends)
