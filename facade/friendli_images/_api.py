"""One-call helpers: open a client, generate or edit, optionally save, close."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Unpack

from ._client import AsyncFriendliImages, FriendliImages
from ._exceptions import FriendliImagesError, InvalidRequestError, OutputExistsError
from ._files import check_stem, check_writable, existing_output
from ._params import (
    CONNECTION_OPTIONS,
    AsyncEditImageParams,
    AsyncGenerateImageParams,
    EditImageParams,
    EditInput,
    GenerateImageParams,
)
from ._recipe.embed import check_metadata
from ._results import ImageResult, ImageSaveError

__all__ = ["aedit_image", "agenerate_image", "edit_image", "generate_image"]


def generate_image(
    prompt: str,
    *,
    model: str,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    metadata: bool = False,
    **params: Unpack[GenerateImageParams],
) -> ImageResult:
    """Generate images in one call and, with ``save_to``, save them into that directory.

    ``params`` are those of ``FriendliImages.generate`` (``GenerateParams``) and of the
    client (``token``, ``base_url``, ``team_id``, ``download_timeout``,
    ``max_response_bytes``, ``max_download_bytes``, ``http_client``).

    Before anything is sent (and billed), ``save_to`` is checked: a directory (or a path
    one can be created at) where files can be created, with no file of the planned names
    (``<stem>`` or ``<stem>-<i>`` with any image extension) unless ``overwrite``; else
    ``InvalidRequestError(param="save_to")`` or ``OutputExistsError``. If saving fails
    anyway after the images were generated, ``ImageSaveError`` is raised: its ``result``
    holds every generated image, none saved (``result.save()`` is all or nothing), so
    they can be saved elsewhere. URL results are downloaded while the client is still
    open; without ``save_to`` they are fetched later, on first use, with a short-lived
    connection.

    :param prompt: What to generate (a non-empty string).
    :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
    :param save_to: A directory to save the images into (created if missing);
        ``None`` (the default): nothing is saved.
    :param stem: The file name before the extension: ``<stem>`` for one image,
        ``<stem>-<i>`` for request ``i`` of a batch; default ``"image"``.
    :param overwrite: Replace files of those names instead of refusing to start;
        default ``False``.
    :param metadata: With ``save_to``: write each image's recipe into its file (see
        ``GeneratedImage.save``); default ``False``, since a prompt can be private.
    :param params: The keyword arguments of ``FriendliImages.generate`` and of the client,
        each listed in ``GenerateImageParams``.
    :returns: The images, saved when ``save_to`` is given.
    :raises InvalidRequestError: An argument is invalid or ``save_to`` unusable (nothing
        is sent).
    :raises OutputExistsError: A file of a planned name exists and ``overwrite`` is off.
    :raises ImageSaveError: The images were generated but could not be saved.
    :raises APIError: The request failed, as for ``FriendliImages.generate``.
    """
    _check_output(save_to, stem, params.get("n", 1), overwrite, metadata)
    client_options, call = _split(params)
    with FriendliImages(**client_options) as client:
        result = client.generate(prompt, model=model, **call)
        _save(result, save_to, stem, overwrite, metadata)
    return result


async def agenerate_image(
    prompt: str,
    *,
    model: str,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    metadata: bool = False,
    **params: Unpack[AsyncGenerateImageParams],
) -> ImageResult:
    """The async twin of ``generate_image``, with ``AsyncFriendliImages``.

    :param prompt: What to generate (a non-empty string).
    :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
    :param save_to: A directory to save the images into (created if missing);
        ``None`` (the default): nothing is saved.
    :param stem: The file name before the extension: ``<stem>`` for one image,
        ``<stem>-<i>`` for request ``i`` of a batch; default ``"image"``.
    :param overwrite: Replace files of those names instead of refusing to start;
        default ``False``.
    :param metadata: With ``save_to``: write each image's recipe into its file (see
        ``GeneratedImage.save``); default ``False``, since a prompt can be private.
    :param params: The keyword arguments of ``AsyncFriendliImages.generate`` and of the
        client, each listed in ``AsyncGenerateImageParams``.
    :returns: The images, saved when ``save_to`` is given.
    """
    _check_output(save_to, stem, params.get("n", 1), overwrite, metadata)
    client_options, call = _split(params)
    async with AsyncFriendliImages(**client_options) as client:
        result = await client.generate(prompt, model=model, **call)
        await _asave(result, save_to, stem, overwrite, metadata)
    return result


def edit_image(
    image: EditInput,
    prompt: str,
    *,
    model: str,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    metadata: bool = False,
    **params: Unpack[EditImageParams],
) -> ImageResult:
    """Edit images in one call and, with ``save_to``, save them into that directory.

    ``params`` are those of ``FriendliImages.edit`` (``EditParams``) and of the client,
    as for ``generate_image``; ``save_to`` is checked before sending the same way.

    :param image: The image to edit, or a list of images.
    :param prompt: How to edit it (a non-empty string).
    :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
    :param save_to: A directory to save the images into (created if missing);
        ``None`` (the default): nothing is saved.
    :param stem: The file name before the extension: ``<stem>`` for one image,
        ``<stem>-<i>`` for request ``i`` of a batch; default ``"image"``.
    :param overwrite: Replace files of those names instead of refusing to start;
        default ``False``.
    :param metadata: With ``save_to``: write each image's recipe into its file (see
        ``GeneratedImage.save``); default ``False``, since a prompt can be private.
    :param params: The keyword arguments of ``FriendliImages.edit`` and of the client,
        each listed in ``EditImageParams``.
    :returns: The edited images, saved when ``save_to`` is given.
    :raises InvalidRequestError: An argument is invalid or ``save_to`` unusable (nothing
        is sent).
    :raises OutputExistsError: A file of a planned name exists and ``overwrite`` is off.
    :raises ImageSaveError: The images were edited but could not be saved.
    """
    _check_output(save_to, stem, params.get("n", 1), overwrite, metadata)
    client_options, call = _split(params)
    with FriendliImages(**client_options) as client:
        result = client.edit(image, prompt, model=model, **call)
        _save(result, save_to, stem, overwrite, metadata)
    return result


async def aedit_image(
    image: EditInput,
    prompt: str,
    *,
    model: str,
    save_to: str | os.PathLike[str] | None = None,
    stem: str = "image",
    overwrite: bool = False,
    metadata: bool = False,
    **params: Unpack[AsyncEditImageParams],
) -> ImageResult:
    """The async twin of ``edit_image``, with ``AsyncFriendliImages``.

    :param image: The image to edit, or a list of images.
    :param prompt: How to edit it (a non-empty string).
    :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
    :param save_to: A directory to save the images into (created if missing);
        ``None`` (the default): nothing is saved.
    :param stem: The file name before the extension: ``<stem>`` for one image,
        ``<stem>-<i>`` for request ``i`` of a batch; default ``"image"``.
    :param overwrite: Replace files of those names instead of refusing to start;
        default ``False``.
    :param metadata: With ``save_to``: write each image's recipe into its file (see
        ``GeneratedImage.save``); default ``False``, since a prompt can be private.
    :param params: The keyword arguments of ``AsyncFriendliImages.edit`` and of the
        client, each listed in ``AsyncEditImageParams``.
    :returns: The edited images, saved when ``save_to`` is given.
    """
    _check_output(save_to, stem, params.get("n", 1), overwrite, metadata)
    client_options, call = _split(params)
    async with AsyncFriendliImages(**client_options) as client:
        result = await client.edit(image, prompt, model=model, **call)
        await _asave(result, save_to, stem, overwrite, metadata)
    return result


def _split(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A helper's keyword arguments: (the client's, the call's)."""
    client = {k: v for k, v in params.items() if k in CONNECTION_OPTIONS}
    call = {k: v for k, v in params.items() if k not in CONNECTION_OPTIONS}
    return client, call


def _save(
    result: ImageResult,
    save_to: str | os.PathLike[str] | None,
    stem: str,
    overwrite: bool,
    metadata: bool,
) -> None:
    if save_to is not None:
        try:
            result.save(save_to, stem, overwrite=overwrite, metadata=metadata)
        except (OSError, FriendliImagesError) as error:
            raise _not_saved(result, error) from error


async def _asave(
    result: ImageResult,
    save_to: str | os.PathLike[str] | None,
    stem: str,
    overwrite: bool,
    metadata: bool,
) -> None:
    if save_to is not None:
        try:
            await result.asave(save_to, stem, overwrite=overwrite, metadata=metadata)
        except (OSError, FriendliImagesError) as error:
            raise _not_saved(result, error) from error


def _planned_names(stem: str, n: object) -> Iterator[str]:
    """The file names a result of ``n`` requests is saved under (``ImageResult._names``)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        return  # the client rejects such an n before sending
    if n == 1:
        yield stem
    else:
        yield from (f"{stem}-{index}" for index in range(n))


def _check_output(
    save_to: str | os.PathLike[str] | None, stem: str, n: object, overwrite: bool, metadata: object
) -> None:
    """Fail before generating (and paying for) images that could not be saved."""
    if check_metadata(metadata) and save_to is None:
        raise InvalidRequestError(
            "metadata=True needs save_to (the recipe is written into the saved files); "
            "without save_to, use result.save(..., metadata=True)",
            param="metadata",
        )
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
