"""``FriendliContainerImages`` and ``AsyncFriendliContainerImages``: a self-hosted
Friendli Container instead of Friendli's API.

A container serves ``POST /v1/images/generations`` and ``POST /v1/images/edits`` on the
user's own host, without authentication and without teams, and answers
``{"image": "<base64>"}``: one image, without its seed. These clients send through the
same machinery as ``FriendliImages`` (validation, retries, batches, saving); only the
configuration and the two operations differ.
"""

from __future__ import annotations

from typing import Final, Unpack

import httpx

from . import _config
from ._async_client import AsyncClient
from ._base_client import BaseClient
from ._checks import check_header_value
from ._exceptions import InvalidRequestError
from ._operations import CONTAINER_EDIT, CONTAINER_GENERATE
from ._params import (
    ContainerEditParams,
    ContainerGenerateParams,
    EditInput,
    check_text,
    edit_inputs,
)
from ._results import ImageResult
from ._sync_client import SyncClient

__all__ = [
    "CONTAINER_BASE_URL_ENV",
    "CONTAINER_TOKEN_ENV",
    "AsyncFriendliContainerImages",
    "FriendliContainerImages",
]

CONTAINER_BASE_URL_ENV: Final = "FRIENDLI_CONTAINER_BASE_URL"
CONTAINER_TOKEN_ENV: Final = "FRIENDLI_CONTAINER_TOKEN"  # noqa: S105 - a variable name


class ContainerConfig(BaseClient):
    """Where a container differs: its own address and an optional token, no team."""

    _request_required = ("prompt",)
    _generate_operation = CONTAINER_GENERATE
    _edit_operation = CONTAINER_EDIT

    def _resolve_token(self, token: str | None) -> str | None:
        # Never FRIENDLI_TOKEN: a Friendli API key has no business on a self-hosted host.
        resolved = _config.env_or(token, CONTAINER_TOKEN_ENV)
        if isinstance(resolved, str):
            resolved = resolved.strip()
        return check_header_value(resolved, "token") if resolved else None

    def _resolve_base_url(self, base_url: str | None) -> str:
        resolved = _config.env_or(base_url, CONTAINER_BASE_URL_ENV)
        if not resolved:
            raise InvalidRequestError(
                "No container address: pass base_url=... (e.g. http://127.0.0.1:8000) or set "
                f"the {CONTAINER_BASE_URL_ENV} environment variable",
                param="base_url",
            )
        return resolved

    def _resolve_team(self, team_id: str | None) -> str | None:
        return None

    def __repr__(self) -> str:
        token = "'[secure]'" if "Authorization" in self._headers else "None"
        return f"{type(self).__name__}(base_url={self.base_url!r}, token={token})"


def _container(prompt: str) -> dict[str, str]:
    return {"prompt": check_text("prompt", prompt)}


class FriendliContainerImages(ContainerConfig, SyncClient):
    """Client for a self-hosted Friendli Container serving an image model.

    Results are ``ImageResult``\\s as from ``FriendliImages``: each image's ``seed`` is
    the one sent (``seed + i`` for request ``i`` of a batch), ``None`` when unset,
    because a container does not report it. The other arguments work as for
    ``FriendliImages``.

    :param base_url: The container's address, e.g. ``http://127.0.0.1:8000``. Default:
        env ``FRIENDLI_CONTAINER_BASE_URL``; one of the two is required.
    :param token: Sent as ``Authorization: Bearer ...`` only when given (for a container
        behind an authenticating proxy). Default: env ``FRIENDLI_CONTAINER_TOKEN``;
        ``FRIENDLI_TOKEN`` is never used here.
    :param timeout: For the generation call, seconds or an ``httpx.Timeout``; the
        default allows 300 s for the answer, 10 s to connect; ``None``: no timeout.
    :param download_timeout: Deadline in seconds for downloading one image; default 120.
    :param max_retries: Retries of failures that show the image was not generated;
        default 2.
    :param retry_ambiguous: Also retry failures that may have generated; default ``False``.
    :param max_response_bytes: Largest answer accepted, decoded, in bytes; default 320 MiB.
    :param max_download_bytes: Largest image downloaded, in bytes; default 64 MiB.
    :param http_client: Your own ``httpx.Client``, used as is and not closed by
        ``close()``.
    :raises InvalidRequestError: An argument is invalid, or no address is given or set.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = _config.DEFAULT_TIMEOUT,
        download_timeout: float = _config.DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        retry_ambiguous: bool = False,
        max_response_bytes: int = _config.DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = _config.DEFAULT_MAX_DOWNLOAD_BYTES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            team_id=None,
            timeout=timeout,
            download_timeout=download_timeout,
            max_retries=max_retries,
            retry_ambiguous=retry_ambiguous,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            http_client=http_client,
        )

    def generate(self, prompt: str, **params: Unpack[ContainerGenerateParams]) -> ImageResult:
        """Generate images from ``prompt`` on the container.

        Parameters (``ContainerGenerateParams``): ``model`` (an adapter route),
        ``num_inference_steps``, ``guidance_scale``, ``seed``, ``response_format``
        (``"jpeg"``, the container's default, or ``"raw"``), ``control_images``,
        ``controlnet_weights`` and the call options of ``FriendliImages.generate``.

        :param prompt: What to generate (a non-empty string).
        :param params: The optional keyword arguments of ``ContainerGenerateParams``,
            each listed in its documentation.
        :returns: The images in request order (one per request), failures of a batch in
            ``errors``.
        :raises InvalidRequestError: An argument the container would reject (nothing is
            sent).
        :raises APIError: The request failed, as for ``FriendliImages.generate``.
        """
        return self._run(CONTAINER_GENERATE, _container(prompt), params)

    def edit(
        self, image: EditInput, prompt: str, **params: Unpack[ContainerEditParams]
    ) -> ImageResult:
        """Edit ``image`` (one input or a list, as for ``FriendliImages.edit``).

        :param image: The image to edit, or a list of images.
        :param prompt: How to edit it (a non-empty string).
        :param params: The optional keyword arguments of ``ContainerEditParams``.
        :returns: The edited images, as ``generate()`` returns them.
        :raises InvalidRequestError: An argument the container would reject (nothing is
            sent).
        """
        sent = _container(prompt)
        return self._run(CONTAINER_EDIT, {"image": edit_inputs(image), **sent}, params)


class AsyncFriendliContainerImages(ContainerConfig, AsyncClient):
    """The asyncio twin of ``FriendliContainerImages``.

    :param base_url: The container's address, e.g. ``http://127.0.0.1:8000``. Default:
        env ``FRIENDLI_CONTAINER_BASE_URL``; one of the two is required.
    :param token: Sent as ``Authorization: Bearer ...`` only when given (for a container
        behind an authenticating proxy). Default: env ``FRIENDLI_CONTAINER_TOKEN``;
        ``FRIENDLI_TOKEN`` is never used here.
    :param timeout: For the generation call, seconds or an ``httpx.Timeout``; the
        default allows 300 s for the answer, 10 s to connect; ``None``: no timeout.
    :param download_timeout: Deadline in seconds for downloading one image; default 120.
    :param max_retries: Retries of failures that show the image was not generated;
        default 2.
    :param retry_ambiguous: Also retry failures that may have generated; default ``False``.
    :param max_response_bytes: Largest answer accepted, decoded, in bytes; default 320 MiB.
    :param max_download_bytes: Largest image downloaded, in bytes; default 64 MiB.
    :param http_client: Your own ``httpx.AsyncClient``, used as is and not closed by
        ``aclose()``.
    :raises InvalidRequestError: An argument is invalid, or no address is given or set.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = _config.DEFAULT_TIMEOUT,
        download_timeout: float = _config.DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        retry_ambiguous: bool = False,
        max_response_bytes: int = _config.DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = _config.DEFAULT_MAX_DOWNLOAD_BYTES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            team_id=None,
            timeout=timeout,
            download_timeout=download_timeout,
            max_retries=max_retries,
            retry_ambiguous=retry_ambiguous,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            http_client=http_client,
        )

    async def generate(self, prompt: str, **params: Unpack[ContainerGenerateParams]) -> ImageResult:
        """Generate images; see ``FriendliContainerImages.generate``.

        :param prompt: What to generate (a non-empty string).
        :param params: The optional keyword arguments of ``ContainerGenerateParams``.
        :returns: The images, as ``FriendliContainerImages.generate`` returns them.
        """
        return await self._run(CONTAINER_GENERATE, _container(prompt), params)

    async def edit(
        self, image: EditInput, prompt: str, **params: Unpack[ContainerEditParams]
    ) -> ImageResult:
        """Edit images; see ``FriendliContainerImages.edit``.

        :param image: The image to edit, or a list of images.
        :param prompt: How to edit it (a non-empty string).
        :param params: The optional keyword arguments of ``ContainerEditParams``.
        :returns: The edited images, as ``FriendliContainerImages.edit`` returns them.
        """
        sent = _container(prompt)
        return await self._run(CONTAINER_EDIT, {"image": edit_inputs(image), **sent}, params)
