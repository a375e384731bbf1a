"""pytest plugin: a :class:`~friendli_images.testing.FriendliTestServer` per test.

Installed with the package (a ``pytest11`` entry point), so the fixture needs no import::

    def test_generate(friendli_server):
        client = FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)
        ...

    @pytest.mark.friendli_server(latency=0.2, image_size=(256, 256))
    def test_slow_endpoint(friendli_server): ...

The ``friendli_server`` marker passes its keyword arguments to the server's constructor.
Each test gets a fresh, started server that is stopped afterwards; a test fails at
teardown if the server hit an internal error (a bug in the test server, not the client).

The server (and its ``testing`` extra: jsonschema, Pillow) is imported only when a test
asks for the fixture, so projects that merely have this package installed pay nothing at
pytest start-up; without the extra, such a test fails with the ``pip install`` to run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import FriendliTestServer

__all__ = ["friendli_server", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``friendli_server`` marker, so ``--strict-markers`` accepts it.

    :param config: pytest's configuration, given by pytest.
    """
    config.addinivalue_line(
        "markers",
        "friendli_server(**kwargs): keyword arguments for the FriendliTestServer that the "
        "friendli_server fixture starts (token, latency, image_size, ...)",
    )


def _server_class() -> type[FriendliTestServer]:
    """Import the server now; without the ``testing`` extra, fail the test saying so."""
    try:
        from .testing import FriendliTestServer
    except ImportError as exc:  # its message names the extra to install
        problem = str(exc)
    else:
        return FriendliTestServer
    pytest.fail(problem, pytrace=False)


@pytest.fixture
def friendli_server(request: pytest.FixtureRequest) -> Iterator[FriendliTestServer]:
    """A started :class:`~friendli_images.testing.FriendliTestServer` on 127.0.0.1.

    :param request: The requesting test, given by pytest; its ``friendli_server`` marker's
        keyword arguments go to the server's constructor.
    """
    server_class = _server_class()
    marker = request.node.get_closest_marker("friendli_server")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    with server_class(**kwargs) as server:
        yield server
        errors = server.errors
    if errors:
        pytest.fail(f"the Friendli test server failed internally: {errors!r}", pytrace=False)
