"""One-call helpers: open a client, generate, optionally save, close."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Unpack

import httpx

from ._client import AsyncFriendliImages, FriendliImages
from ._config import ResponseFormat
from ._control_images import ControlImage
from ._params import CONNECTION_OPTIONS, AsyncEditImageParams, EditImageParams, EditInput
from ._results import ImageResult

__all__ = ["aedit_image", "agenerate_image", "edit_image", "generate_image"]


def generate_image(
    prompt: str,
    *,
    model: str,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    seed: int | None = None,
    response_format: ResponseFormat | None = None,
    control_images: Sequence[ControlImage] | None = None,
    controlnet_weights: Sequence[float] | None = None,
    n: int = 1,
    concurrency: int | None = None,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    timeout: float | httpx.Timeout | None = None,
    **client_options: Any,
) -> ImageResult:
    """Generate images in one call and, with ``save_to``, save them into that directory.

    ``client_options`` go to ``FriendliImages`` (``token``, ``base_url``, ``team_id``,
    ``max_retries``, ``retry_ambiguous``, ``download_timeout``, ``http_client``). URL
    results are downloaded while the client is still open; without ``save_to`` they are
    fetched later, on first use, with a short-lived connection.
    """
    with FriendliImages(**client_options) as client:
        result = client.generate(
            prompt,
            model=model,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
            control_images=control_images,
            controlnet_weights=controlnet_weights,
            n=n,
            concurrency=concurrency,
            timeout=timeout,
        )
        if save_to is not None:
            result.save(save_to, stem, overwrite=overwrite)
    return result


async def agenerate_image(
    prompt: str,
    *,
    model: str,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    seed: int | None = None,
    response_format: ResponseFormat | None = None,
    control_images: Sequence[ControlImage] | None = None,
    controlnet_weights: Sequence[float] | None = None,
    n: int = 1,
    concurrency: int | None = None,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    timeout: float | httpx.Timeout | None = None,
    **client_options: Any,
) -> ImageResult:
    """The async twin of ``generate_image``, with ``AsyncFriendliImages``."""
    async with AsyncFriendliImages(**client_options) as client:
        result = await client.generate(
            prompt,
            model=model,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
            control_images=control_images,
            controlnet_weights=controlnet_weights,
            n=n,
            concurrency=concurrency,
            timeout=timeout,
        )
        if save_to is not None:
            await result.asave(save_to, stem, overwrite=overwrite)
    return result


def _split(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The helper's keyword arguments: (the client's, the call's)."""
    client = {k: v for k, v in params.items() if k in CONNECTION_OPTIONS}
    call = {k: v for k, v in params.items() if k not in CONNECTION_OPTIONS}
    return client, call


def edit_image(
    image: EditInput,
    prompt: str,
    *,
    model: str,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    **params: Unpack[EditImageParams],
) -> ImageResult:
    """Edit images in one call and, with ``save_to``, save them into that directory.

    ``params`` are those of ``FriendliImages.edit`` plus the client's ``token``,
    ``base_url``, ``team_id``, ``download_timeout`` and ``http_client``.
    """
    client_options, call = _split(params)
    with FriendliImages(**client_options) as client:
        result = client.edit(image, prompt, model=model, **call)
        if save_to is not None:
            result.save(save_to, stem, overwrite=overwrite)
    return result


async def aedit_image(
    image: EditInput,
    prompt: str,
    *,
    model: str,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    **params: Unpack[AsyncEditImageParams],
) -> ImageResult:
    """The async twin of ``edit_image``, with ``AsyncFriendliImages``."""
    client_options, call = _split(params)
    async with AsyncFriendliImages(**client_options) as client:
        result = await client.edit(image, prompt, model=model, **call)
        if save_to is not None:
            await result.asave(save_to, stem, overwrite=overwrite)
    return result
