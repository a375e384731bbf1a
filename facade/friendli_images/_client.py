"""``FriendliImages`` and ``AsyncFriendliImages``: the Dedicated Endpoints clients.

Each is its I/O class (``SyncClient``, ``AsyncClient``) with the endpoint methods
(``_endpoints``) and one method per operation (generate, edit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Unpack

import httpx

from . import _config
from ._endpoints._methods import AsyncEndpointMethods, SyncEndpointMethods
from ._operations import DEDICATED_EDIT, DEDICATED_GENERATE
from ._params import EditInput, EditParams, GenerateParams, check_text, edit_inputs
from ._results import ImageResult

if TYPE_CHECKING:
    pass

from ._async_client import AsyncClient
from ._sync_client import SyncClient

__all__ = ["AsyncFriendliImages", "FriendliImages"]


def _dedicated(prompt: str, model: str) -> dict[str, Any]:
    return {"prompt": check_text("prompt", prompt), "model": check_text("model", model)}


class FriendliImages(SyncEndpointMethods, SyncClient):
    """Client for Friendli Dedicated Endpoints image generation and editing.

    The token is only ever sent to ``base_url``: image URLs are downloaded without it.
    Every argument is checked here: a bad one raises ``InvalidRequestError``.

    :param token: Personal API key (``flp_...``). Default: env ``FRIENDLI_TOKEN``.
    :param base_url: API address. Default: env ``FRIENDLI_BASE_URL``, else
        ``https://api.friendli.ai``.
    :param team_id: Team to run requests as, sent as ``X-Friendli-Team``. Default: env
        ``FRIENDLI_TEAM``; omitted when unset.
    :param timeout: For the generation call, seconds or an ``httpx.Timeout``. The
        default allows 300 s for the answer (generation can take over a minute), 10 s
        to connect; ``None``: no timeout.
    :param download_timeout: Deadline in seconds for downloading one ``url`` result,
        first byte to last; default 120.
    :param max_retries: Retries of failures that show the image was not generated (see
        README "Retries"); default 2.
    :param retry_ambiguous: Also retry failures after the request was sent (read
        timeout, dropped connection, 500, 504), which may generate, and bill, twice;
        default ``False``.
    :param max_response_bytes: Largest API answer accepted, decoded, in bytes; default
        320 MiB.
    :param max_download_bytes: Largest ``url`` image downloaded, in bytes; default 64 MiB.
    :param http_client: Your own ``httpx.Client`` (proxies, transports, limits). It is
        used as is, never modified, and not closed by ``close()``; its transport keeps
        httpx's per-read timeouts (the package's own connections also end each attempt
        by its deadline while the headers arrive).
    :raises InvalidRequestError: An argument is invalid, or no token is given or set.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        team_id: str | None = None,
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
            team_id=team_id,
            timeout=timeout,
            download_timeout=download_timeout,
            max_retries=max_retries,
            retry_ambiguous=retry_ambiguous,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            http_client=http_client,
        )

    def generate(self, prompt: str, *, model: str, **params: Unpack[GenerateParams]) -> ImageResult:
        """Generate images from ``prompt`` with the endpoint ``model``.

        Parameters (``GenerateParams``): ``num_inference_steps``, ``guidance_scale``,
        ``seed``, ``response_format``, ``control_images``, ``controlnet_weights``, and
        the call options ``n``, ``concurrency``, ``strict``, ``max_retries``,
        ``timeout``, ``retry_ambiguous``.

        Arguments left as ``None`` are not sent, so the endpoint applies its model's
        own defaults; ``max_retries``, ``timeout`` and ``retry_ambiguous`` default to
        the client's settings. Everything the spec constrains is checked first: a
        rejected call raises ``InvalidRequestError`` and sends nothing.

        With ``n > 1``, ``n`` requests run with at most ``concurrency`` (default 4) in
        flight; with a ``seed``, request ``i`` uses ``seed + i``. Images keep request
        order; failed requests are listed in ``result.errors`` unless ``strict=True``,
        which raises the first failure instead.

        ``wait_for_endpoint`` (seconds, default off) opts in to waiting for an endpoint
        that answers "not ready" (asleep or waking): its status is polled until it is
        RUNNING, within that many seconds in all, then the request is sent again (a
        not-ready answer generated nothing). With ``wake=True`` a SLEEPING endpoint gets
        one wake request. A batch shares one wait and at most one wake request. Each
        wake and wait is logged at INFO and listed in ``result.endpoint_events``.

        :param prompt: What to generate (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE`` for
            one of its adapters.
        :param params: The optional keyword arguments of ``GenerateParams``, each listed
            in its documentation.
        :returns: The images in request order, the failed requests of a batch in
            ``errors``, and the endpoint's wakes and waits in ``endpoint_events``.
        :raises InvalidRequestError: An argument the API would reject (nothing is sent).
        :raises APIStatusError: The API answered an error status (a subclass per status).
        :raises APIConnectionError: The network failed (``APITimeoutError``: timed out).
        :raises APIResponseValidationError: A 200 whose body does not match the spec.
        :raises EndpointError: With ``wait_for_endpoint``: the endpoint failed, stopped
            or was not ready in time.
        """
        return self._run(DEDICATED_GENERATE, _dedicated(prompt, model), params)

    def edit(
        self, image: EditInput, prompt: str, *, model: str, **params: Unpack[EditParams]
    ) -> ImageResult:
        """Edit ``image`` as ``prompt`` describes, with the endpoint ``model``.

        ``image`` is one input or a list of them, each anything ``control_images``
        takes (a path, bytes, a binary file, a ``PIL.Image``, an http(s) URL or a data
        URI; at most 50 MiB). Local images are streamed into the request body, never
        held as one base64 string. Parameters (``EditParams``): ``num_inference_steps``,
        ``guidance_scale``, ``seed``, ``response_format`` and the call options; ``n``,
        seeds, errors and retries work as in ``generate()``.

        :param image: The image to edit, or a list of images.
        :param prompt: How to edit it (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
        :param params: The optional keyword arguments of ``EditParams``, each listed in
            its documentation.
        :returns: The edited images, as ``generate()`` returns them.
        :raises InvalidRequestError: An argument the API would reject (nothing is sent).
        :raises APIError: The request failed, as for ``generate()``.
        """
        sent = _dedicated(prompt, model)
        return self._run(DEDICATED_EDIT, {"image": edit_inputs(image), **sent}, params)


class AsyncFriendliImages(AsyncEndpointMethods, AsyncClient):
    """The asyncio twin of ``FriendliImages``: the same arguments, awaitable calls.

    Close with ``await client.aclose()`` or ``async with``.

    :param token: Personal API key (``flp_...``). Default: env ``FRIENDLI_TOKEN``.
    :param base_url: API address. Default: env ``FRIENDLI_BASE_URL``, else
        ``https://api.friendli.ai``.
    :param team_id: Team to run requests as, sent as ``X-Friendli-Team``. Default: env
        ``FRIENDLI_TEAM``; omitted when unset.
    :param timeout: For the generation call, seconds or an ``httpx.Timeout``; the
        default allows 300 s for the answer, 10 s to connect; ``None``: no timeout.
    :param download_timeout: Deadline in seconds for downloading one ``url`` result;
        default 120.
    :param max_retries: Retries of failures that show the image was not generated;
        default 2.
    :param retry_ambiguous: Also retry failures that may have generated (and billed);
        default ``False``.
    :param max_response_bytes: Largest API answer accepted, decoded, in bytes; default
        320 MiB.
    :param max_download_bytes: Largest ``url`` image downloaded, in bytes; default 64 MiB.
    :param http_client: Your own ``httpx.AsyncClient``, used as is and not closed by
        ``aclose()``.
    :raises InvalidRequestError: An argument is invalid, or no token is given or set.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        team_id: str | None = None,
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
            team_id=team_id,
            timeout=timeout,
            download_timeout=download_timeout,
            max_retries=max_retries,
            retry_ambiguous=retry_ambiguous,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            http_client=http_client,
        )

    async def generate(
        self, prompt: str, *, model: str, **params: Unpack[GenerateParams]
    ) -> ImageResult:
        """Generate images; see ``FriendliImages.generate``. Cancelling cancels every request.

        :param prompt: What to generate (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
        :param params: The optional keyword arguments of ``GenerateParams``.
        :returns: The images, as ``FriendliImages.generate`` returns them.
        """
        return await self._run(DEDICATED_GENERATE, _dedicated(prompt, model), params)

    async def edit(
        self, image: EditInput, prompt: str, *, model: str, **params: Unpack[EditParams]
    ) -> ImageResult:
        """Edit images; see ``FriendliImages.edit``.

        :param image: The image to edit, or a list of images.
        :param prompt: How to edit it (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
        :param params: The optional keyword arguments of ``EditParams``.
        :returns: The edited images, as ``FriendliImages.edit`` returns them.
        """
        sent = _dedicated(prompt, model)
        return await self._run(DEDICATED_EDIT, {"image": edit_inputs(image), **sent}, params)
