"""Fixtures shared by the whole suite."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# Tests interrupt the command line with SIGINT. A shell that starts pytest in the background
# (`pytest &` in a script) ignores SIGINT in it, and an ignored signal stays ignored in every
# child: the command would never see the test's Ctrl-C. Python's own handler here is reset
# to the default in the children, as in an interactive shell.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# pytester runs pytest in a subprocess to test the plugin as users get it (entry point).
pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's FRIENDLI_* settings out of every test."""
    for name in (
        "FRIENDLI_TOKEN",
        "FRIENDLI_BASE_URL",
        "FRIENDLI_TEAM",
        "FRIENDLI_CONTAINER_BASE_URL",
        "FRIENDLI_CONTAINER_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
