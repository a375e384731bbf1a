"""Reading a recipe back from a file, and turning it into a call's keyword arguments.

``read_recipe`` looks, in this order, at our JSON (PNG ``friendli-images`` chunk, JPEG
``COM`` segment, sidecar ``NAME.json``) and at the A1111 ``parameters`` text (PNG
``parameters`` chunk, JPEG Exif ``UserComment``), so images from other tools that write
that text are read too. Only headers and metadata are read, never the pixels, and every
text read is bounded in size.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Final

from .._exceptions import FriendliImagesError, InvalidRequestError
from . import a1111, jpeg, png
from .embed import PARAMETERS_KEY, RECIPE_KEY
from .model import Recipe, RecipeInput, recipe_from_json
from .sidecar import SIDECAR_LIMIT, sidecar_path

__all__ = ["is_complete_image", "read_recipe", "recipe_kwargs"]

TEXT_LIMIT: Final = 1024 * 1024
"""The largest metadata text read from an image (a recipe is a few KiB)."""


def _from_json_text(text: str | None) -> Recipe | None:
    if not text:
        return None
    try:
        return recipe_from_json(json.loads(text))
    except (ValueError, RecursionError):
        return None


def _from_parameters(text: str | None) -> Recipe | None:
    return a1111.parse_parameters(text) if text else None


def _read_png(file: BinaryIO) -> Recipe | None:
    texts = png.read_png_texts(file, limit=TEXT_LIMIT)
    return _from_json_text(texts.get(RECIPE_KEY)) or _from_parameters(texts.get(PARAMETERS_KEY))


def _read_jpeg(file: BinaryIO) -> Recipe | None:
    comments, user_comment = jpeg.read_jpeg_texts(file)
    for comment in comments:
        recipe = _from_json_text(comment)
        if recipe is not None:
            return recipe
    return _from_parameters(user_comment)


def _read_sidecar(path: Path) -> Recipe | None:
    beside = sidecar_path(path)
    try:
        with beside.open("rb") as file:
            data = file.read(SIDECAR_LIMIT + 1)
    except FileNotFoundError:
        return None
    if len(data) > SIDECAR_LIMIT:
        return None
    return _from_json_text(data.decode("utf-8", "replace"))


def read_recipe(path: str | os.PathLike[str]) -> Recipe | None:
    """The recipe of the image at ``path``; ``None`` if it carries none.

    Reads our JSON (written by ``save(..., metadata=True)``: in a PNG text chunk, a JPEG
    comment, or the sidecar ``NAME.json``) and else the A1111 ``parameters`` text that
    AUTOMATIC1111, Forge and other tools write (``recipe.source == "a1111"``). A recipe
    file itself (``NAME.json``) may be given too.

    :param path: An image file (or a sidecar ``.json``).
    :returns: The recipe, or ``None``.
    :raises FriendliImagesError: The file cannot be read.
    """
    target = Path(path)
    try:
        with target.open("rb") as file:
            head = file.read(8)
            file.seek(0)
            if head.startswith(png.PNG_SIGNATURE):
                recipe = _read_png(file)
            elif head.startswith(jpeg.SOI):
                recipe = _read_jpeg(file)
            elif head[:1] == b"{":
                data = file.read(SIDECAR_LIMIT + 1)
                return None if len(data) > SIDECAR_LIMIT else _from_json_text(data.decode())
            else:
                recipe = None
        return recipe or _read_sidecar(target)
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise FriendliImagesError(f"cannot read {str(target)!r}: {reason}") from error


def is_complete_image(path: Path) -> bool:
    """Whether ``path`` is a whole PNG (ends with ``IEND``) or JPEG (ends with ``EOI``).

    Any other type counts as complete when it is not empty (its end cannot be checked).
    """
    try:
        with path.open("rb") as file:
            head = file.read(8)
            file.seek(0)
            if head.startswith(png.PNG_SIGNATURE):
                return png.is_complete_png(file)
            if head.startswith(jpeg.SOI):
                return jpeg.is_complete_jpeg(file)
            return bool(head)
    except OSError:
        return False


def _digest(path: Path) -> RecipeInput:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            sha.update(block)
            size += len(block)
    return RecipeInput(sha256=sha.hexdigest(), size=size)


def _match(
    wanted: Sequence[RecipeInput], candidates: Mapping[RecipeInput, Path], param: str
) -> list[str | Path]:
    """The candidate file of each wanted input (a URL input is its URL again)."""
    matched: list[str | Path] = []
    for index, item in enumerate(wanted):
        if item.url is not None:
            matched.append(item.url)
            continue
        found = candidates.get(RecipeInput(sha256=item.sha256, size=item.size))
        if found is None:
            raise InvalidRequestError(
                f"the recipe's {param}[{index}] (sha256 {item.sha256}, {item.size} bytes) is "
                "not among the files given; pass the original image",
                param=param,
            )
        matched.append(found)
    return matched


def recipe_kwargs(
    recipe: Recipe, *, inputs: Iterable[str | os.PathLike[str]] = ()
) -> dict[str, Any]:
    """The keyword arguments that ask for ``recipe``'s image again.

    For a generation: ``client.generate(**recipe_kwargs(recipe))``; for an edit
    (``recipe.operation == "edit"``): ``client.edit(**recipe_kwargs(recipe, inputs=[...]))``.
    Prompt, model, seed and the parameters that were sent are included (unset ones are
    left out, so the endpoint's defaults apply again). Input images (an edit's images,
    control images) are found among ``inputs`` by SHA-256 and size; a URL input is its
    address again (without the query a signed URL had, so it may no longer work).

    :param recipe: A recipe, as ``read_recipe`` returns it.
    :param inputs: Files that may be the recipe's input images, in any order.
    :returns: A dict for ``generate()`` or ``edit()``.
    :raises InvalidRequestError: An input image of the recipe is not among ``inputs``
        (``param`` is ``image`` or ``control_images``), or the recipe has no model.
    """
    candidates: dict[RecipeInput, Path] = {}
    for given in inputs:
        path = Path(given)
        try:
            candidates.setdefault(_digest(path), path)
        except OSError as error:
            raise InvalidRequestError(
                f"cannot read the input image {str(path)!r}: {error.strerror or error}",
                param="inputs",
            ) from None
    kwargs: dict[str, Any] = {"prompt": recipe.prompt}
    if recipe.model is not None:
        kwargs["model"] = recipe.model
    elif recipe.api != "container":
        raise InvalidRequestError("the recipe names no model; pass model=...", param="model")
    for name in ("seed", "num_inference_steps", "guidance_scale", "response_format"):
        value = getattr(recipe, name)
        if value is not None:
            kwargs[name] = value
    if recipe.control_images:
        kwargs["control_images"] = _match(recipe.control_images, candidates, "control_images")
    if recipe.controlnet_weights is not None:
        kwargs["controlnet_weights"] = list(recipe.controlnet_weights)
    if recipe.operation == "edit":
        if not recipe.images:
            raise InvalidRequestError(
                "the edit recipe names no input image; pass image=...", param="image"
            )
        images = _match(recipe.images, candidates, "image")
        kwargs["image"] = images[0] if len(images) == 1 else images
    return kwargs
