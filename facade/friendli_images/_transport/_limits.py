"""How a client's image downloads are bounded (``DownloadSettings``): kept apart from the
downloader (``_download``), which loads on a ``url`` result's first read, not with the
package."""

from __future__ import annotations

from typing import NamedTuple

import httpx

from .. import _config
from .._version import __version__

__all__ = ["DownloadSettings"]


class DownloadSettings(NamedTuple):
    """How downloads are bounded; shared by a client's sync and async downloaders."""

    timeout: float = _config.DEFAULT_DOWNLOAD_TIMEOUT
    max_bytes: int = _config.DEFAULT_MAX_DOWNLOAD_BYTES
    user_agent: str = f"friendli-images/{__version__} httpx/{httpx.__version__}"
