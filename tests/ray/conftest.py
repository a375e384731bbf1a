"""A real local Ray cluster (2 CPUs) and the loopback test server, for the whole session.

The workers read ``FRIENDLI_TOKEN`` and ``FRIENDLI_BASE_URL`` from the environment they
inherit when the cluster starts, as a user's would: so the server starts first.
Without the ``ray`` extra every test here is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# ray.data, not ray: without the extra, this very directory imports as a namespace "ray".
pytest.importorskip("ray.data", reason="the 'ray' extra is not installed")
import ray
from friendli_images.testing import FriendliTestServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ray's own deprecation notices about its own settings are not this project's errors."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"))
            item.add_marker(pytest.mark.filterwarnings("ignore::FutureWarning:ray"))


@pytest.fixture(scope="session")
def ray_server() -> Iterator[FriendliTestServer]:
    """The server every actor of the session's cluster sends to (reset per test)."""
    with FriendliTestServer(latency=0.005) as server:
        saved = {name: os.environ.get(name) for name in ("FRIENDLI_TOKEN", "FRIENDLI_BASE_URL")}
        os.environ["FRIENDLI_TOKEN"] = server.token
        os.environ["FRIENDLI_BASE_URL"] = server.base_url
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(scope="session")
def ray_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working directory of the cluster's workers: where the driver was when it
    started the cluster, as for a user's script (relative paths are resolved there)."""
    return tmp_path_factory.mktemp("ray-workdir")


@pytest.fixture(scope="session")
def ray_cluster(ray_server: FriendliTestServer, ray_workdir: Path) -> Iterator[Any]:
    """``ray.init(num_cpus=2)`` once, from ``ray_workdir``; the cluster inherits the
    server's address."""
    with contextlib.chdir(ray_workdir):
        ray.init(
            num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR
        )
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def server(
    ray_cluster: Any, ray_server: FriendliTestServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FriendliTestServer]:
    """The session's server, with no requests, faults or latency left from another test;
    the driver's environment names it too (the root conftest clears FRIENDLI_*)."""
    monkeypatch.setenv("FRIENDLI_TOKEN", ray_server.token)
    monkeypatch.setenv("FRIENDLI_BASE_URL", ray_server.base_url)
    ray_server.reset()
    ray_server.latency = 0.005
    yield ray_server
    assert ray_server.errors == []
