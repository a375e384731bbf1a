"""Defaults, tunables and environment configuration, in one place."""

from __future__ import annotations

import os
from typing import Final, Literal

import httpx

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_DOWNLOAD_TIMEOUT",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_RETRY_DELAY",
    "MAX_CONTROL_IMAGE_BYTES",
    "MAX_DOWNLOAD_REDIRECTS",
    "MAX_INFERENCE_STEPS",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "MIN_INFERENCE_STEPS",
    "RESPONSE_FORMATS",
    "TEAM_ENV",
    "TOKEN_ENV",
    "ResponseFormat",
    "env_or",
]

TOKEN_ENV: Final = "FRIENDLI_TOKEN"  # noqa: S105 - a variable name, not a secret
BASE_URL_ENV: Final = "FRIENDLI_BASE_URL"
TEAM_ENV: Final = "FRIENDLI_TEAM"

DEFAULT_BASE_URL: Final = "https://api.friendli.ai"

DEFAULT_TIMEOUT: Final = httpx.Timeout(300.0, connect=10.0, pool=30.0)
"""For the generation call: a model can take well over a minute to answer."""

DEFAULT_DOWNLOAD_TIMEOUT: Final = 120.0
"""Deadline, in seconds, for downloading one ``url`` result from start to last byte."""

DEFAULT_MAX_RESPONSE_BYTES: Final = 320 * 1024 * 1024
"""Largest generation response body accepted, decoded (320 MiB). Four 50 MiB images in
base64 are 4 x 66.7 MiB = 266.7 MiB, more than 256 MiB, so the limit leaves room for
them plus the JSON around them. Raise it with ``max_response_bytes=``."""

DEFAULT_MAX_DOWNLOAD_BYTES: Final = 64 * 1024 * 1024
"""Largest image downloaded from a ``url`` result (64 MiB). An image the API makes is a
few MiB (a 2048 x 2048 PNG is at most 16 MiB of pixels, compressed); the API's own limit
on an image it accepts is 50 MiB. Raise it with ``max_download_bytes=``."""

MAX_DOWNLOAD_REDIRECTS: Final = 5
"""Redirects followed when downloading an image (http and https only)."""

DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0
"""A server's ``Retry-After`` is honoured up to this many seconds."""

MAX_TEST_SERVER_LATENCY: Final = 3600.0
"""The longest ``latency`` the test server (and ``mock-server --latency``) accepts."""

MIN_INFERENCE_STEPS: Final = 1
MAX_INFERENCE_STEPS: Final = 50
MAX_CONTROL_IMAGE_BYTES: Final = 50 * 1024 * 1024
"""The API's limit on one control image, decoded."""

ResponseFormat = Literal["url", "raw", "png", "jpeg", "jpg"]
"""How the API returns an image: ``"url"`` (a link to download), or base64 data of a
``"png"``, ``"jpeg"``/``"jpg"`` or ``"raw"`` (PNG) image."""
RESPONSE_FORMATS: Final[tuple[ResponseFormat, ...]] = ("url", "raw", "png", "jpeg", "jpg")


def env_or(value: str | None, variable: str) -> str | None:
    """``value`` when given, else the environment variable (empty counts as unset).

    Surrounding whitespace is dropped from the environment variable's value: a secret
    read from a file or an ``.env`` often ends in a newline.
    """
    if value is not None:
        return value
    return os.environ.get(variable, "").strip() or None
