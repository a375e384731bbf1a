"""One-call helpers: open a client, generate, optionally save, close."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from ._client import AsyncFriendliImages, FriendliImages
from ._config import ResponseFormat
from ._control_images import ControlImage
from ._exceptions import FriendliImagesError, InvalidRequestError, OutputExistsError
from ._files import check_stem, check_writable, existing_output
from ._results import ImageResult, ImageSaveError

__all__ = ["agenerate_image", "generate_image"]


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
    wait_for_endpoint: float | None = None,
    wake: bool = False,
    **client_options: Any,
) -> ImageResult:
    """Generate images in one call and, with ``save_to``, save them into that directory.

    Before anything is sent (and billed), ``save_to`` is checked: a directory (or a path
    one can be created at) where files can be created, with no file of the planned names
    (``<stem>`` or ``<stem>-<i>`` with any image extension) unless ``overwrite``; else
    ``InvalidRequestError(param="save_to")`` or ``OutputExistsError``. If saving fails
    anyway after the images were generated, ``ImageSaveError`` is raised: its ``result``
    holds every generated image, none saved (``result.save()`` is all or nothing), so
    they can be saved elsewhere.

    ``client_options`` go to ``FriendliImages`` (``token``, ``base_url``, ``team_id``,
    ``max_retries``, ``retry_ambiguous``, ``download_timeout``, ``http_client``). URL
    results are downloaded while the client is still open; without ``save_to`` they are
    fetched later, on first use, with a short-lived connection. ``wait_for_endpoint`` and
    ``wake`` wait for (and wake) a sleeping endpoint, as in ``FriendliImages.generate``.
    """
    _check_output(save_to, stem, n, overwrite)
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
            wait_for_endpoint=wait_for_endpoint,
            wake=wake,
        )
        if save_to is not None:
            try:
                result.save(save_to, stem, overwrite=overwrite)
            except (OSError, FriendliImagesError) as error:
                raise _not_saved(result, error) from error
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
    wait_for_endpoint: float | None = None,
    wake: bool = False,
    **client_options: Any,
) -> ImageResult:
    """The async twin of ``generate_image``, with ``AsyncFriendliImages``."""
    _check_output(save_to, stem, n, overwrite)
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
            wait_for_endpoint=wait_for_endpoint,
            wake=wake,
        )
        if save_to is not None:
            try:
                await result.asave(save_to, stem, overwrite=overwrite)
            except (OSError, FriendliImagesError) as error:
                raise _not_saved(result, error) from error
    return result


def _planned_names(stem: str, n: object) -> Iterator[str]:
    """The file names a result of ``n`` requests is saved under (``ImageResult._names``)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        return  # the client rejects such an n before sending
    if n == 1:
        yield stem
    else:
        yield from (f"{stem}-{index}" for index in range(n))


def _check_output(
    save_to: str | os.PathLike[str] | None, stem: str, n: object, overwrite: bool
) -> None:
    """Fail before generating (and paying for) images that could not be saved."""
    if save_to is None:
        return
    check_stem(stem)
    folder = Path(save_to)
    try:
        check_writable(folder)
    except OSError as error:
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename and error.filename != str(folder) else ""
        raise InvalidRequestError(
            f"cannot save into {str(folder)!r}: {reason}{where}", param="save_to"
        ) from None
    if not overwrite:
        existing = existing_output(folder, _planned_names(stem, n))
        if existing is not None:
            raise OutputExistsError(str(existing))


def _not_saved(result: ImageResult, error: BaseException) -> ImageSaveError:
    count = len(result.images)
    return ImageSaveError(
        f"{count} generated image(s) could not be saved ({error}); "
        "they are kept in this error's .result",
        result=result,
    )
