"""Connections of a batch: kept alive and reused at any concurrency, never waited for."""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

import httpx
import pytest
from friendli_images import AsyncFriendliImages, ClientClosedError, FriendliImages
from friendli_images._batch._pool import CONNECTIONS_PER_CLIENT, clients_for
from friendli_images.testing import FriendliTestServer


@pytest.mark.parametrize(
    ("concurrency", "clients"),
    [
        pytest.param(1, 1, id="one"),
        pytest.param(CONNECTIONS_PER_CLIENT, 1, id="one-full-client"),
        pytest.param(CONNECTIONS_PER_CLIENT + 1, 2, id="spills-over"),
        pytest.param(256, 256 // CONNECTIONS_PER_CLIENT, id="many"),
    ],
)
def test_clients_for(concurrency: int, clients: int) -> None:
    """A batch gets enough small clients for every request in flight to have a connection."""
    assert clients == clients_for(concurrency)


def connections(friendli_server: FriendliTestServer) -> int:
    return len({request.connection_id for request in friendli_server.generation_requests})


def test_connections_are_reused_above_httpx_keepalive(friendli_server: FriendliTestServer) -> None:
    """At concurrency 40 (above httpx's 20 kept alive), 160 requests use at most 40 connections."""
    friendli_server.latency = 0.02
    with FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url) as client:
        client.generate("x", model="ep", n=80, concurrency=40)
        client.generate("x", model="ep", n=80, concurrency=40)

    assert 160 == len(friendli_server.generation_requests)
    assert connections(friendli_server) <= 40 + CONNECTIONS_PER_CLIENT


@pytest.mark.anyio
async def test_no_request_waits_for_a_connection(friendli_server: FriendliTestServer) -> None:
    """Above httpx's 100 connections, no request fails with a pool timeout."""
    friendli_server.latency = 0.3
    timeout = httpx.Timeout(10.0, pool=0.05)
    async with AsyncFriendliImages(
        token=friendli_server.token,
        base_url=friendli_server.base_url,
        timeout=timeout,
        max_retries=0,
    ) as client:
        result = await client.generate("x", model="ep", n=130, concurrency=130)

    assert [] == result.errors
    assert 130 == len(result.images)


def test_async_batches_in_two_event_loops(friendli_server: FriendliTestServer) -> None:
    """After aclose(), an async client runs batches again, in a new event loop too."""
    import asyncio

    client = AsyncFriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)

    async def batch() -> int:
        try:
            result = await client.generate("x", model="ep", n=4, concurrency=2)
        finally:
            await client.aclose()  # release the connections before this loop ends
        return len(result.images)

    first = asyncio.run(batch())
    second = asyncio.run(batch())

    assert (4, 4) == (first, second)


def test_clients_are_made_as_attempts_need_them(friendli_server: FriendliTestServer) -> None:
    """Two requests at concurrency 10,000 make one pooled client, not 625 up front."""
    with FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url) as client:
        result = client.generate("x", model="ep", n=2, concurrency=10_000)
        assert client._pool is not None
        made = len(client._pool.clients)

    assert 2 == len(result.images)
    assert 1 == made


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_closing_under_in_flight_workers_is_quiet(
    friendli_server: FriendliTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    """close() while sync workers are mid-request: no IndexError logged or raised; the
    attempts end as errors of their requests, and a lease after close is a typed error."""
    import threading

    friendli_server.latency = 0.3
    client = FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)
    requests = [{"prompt": f"p{i}", "model": "ep", "max_retries": 0} for i in range(4)]
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            outcomes.extend(client.generate_many(requests, concurrency=4))
        except BaseException as error:
            errors.append(error)

    caplog.set_level(logging.DEBUG)
    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.1)
    client.close()
    consumer.join(10)

    assert not consumer.is_alive()
    assert [] == errors
    assert 4 == len(outcomes)
    assert "IndexError" not in caplog.text
    assert client._pool is not None
    with pytest.raises(ClientClosedError), client._pool.lease():
        pass
    gc.collect()  # httpx leaves the in-flight connections to the collector: here, not later
