"""Fixtures for the facade's tests: a client bound to the loopback test server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from friendli_images import AsyncFriendliImages, FriendliImages, _config
from friendli_images.testing import FriendliTestServer


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep exponential backoff short; Retry-After is still honoured as sent."""
    monkeypatch.setattr(_config, "INITIAL_RETRY_DELAY", 0.01)
    monkeypatch.setattr(_config, "MAX_RETRY_DELAY", 0.05)


@pytest.fixture
def client(friendli_server: FriendliTestServer) -> Iterator[FriendliImages]:
    with FriendliImages(
        token=friendli_server.token, base_url=friendli_server.base_url, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def aclient(friendli_server: FriendliTestServer) -> AsyncIterator[AsyncFriendliImages]:
    async with AsyncFriendliImages(
        token=friendli_server.token, base_url=friendli_server.base_url, timeout=10
    ) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    """The async client is asyncio-based."""
    return "asyncio"


@pytest.fixture
def run_user_pytest(pytester: pytest.Pytester) -> Callable[..., pytest.RunResult]:
    """Run pytest in a subprocess as a user's project would: plugins from entry points.

    Schemathesis and Hypothesis (our own dev tools, also entry-point plugins) stay out:
    they take seconds to load and the user's project has nothing to do with them.
    """

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:cacheprovider", *args
        )

    return run


@pytest.fixture
def cli_server() -> Iterator[FriendliTestServer]:
    """A fresh test server for each CLI test (token ``cli-token``), stopped afterwards.

    The test fails if the server recorded an error (a request it could not answer).
    """
    with FriendliTestServer(token="cli-token") as running:
        yield running
        assert [] == running.errors


@pytest.fixture
def environ_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FriendliTestServer]:
    """A test server like ``cli_server``, with FRIENDLI_TOKEN and FRIENDLI_BASE_URL of this
    process pointing at it: the in-process command line (``call_main()``) talks to it."""
    with FriendliTestServer(token="cli-token") as running:
        monkeypatch.setenv("FRIENDLI_TOKEN", running.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", running.base_url)
        yield running
        assert [] == running.errors
