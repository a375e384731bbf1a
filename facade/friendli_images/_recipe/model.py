"""The recipe of an image: how it was made, as a typed object and as versioned JSON.

A :class:`Recipe` holds what is needed to ask for the same image again (prompt, model,
seed, sampling parameters) and what is needed to audit it (operation, library version,
time), but never the token, and never an input image's bytes or a signed URL: inputs are
kept as their SHA-256 and size (``RecipeInput``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

__all__ = [
    "RECIPE_FORMAT",
    "RECIPE_VERSION",
    "Recipe",
    "RecipeInput",
    "recipe_from_json",
]

RECIPE_FORMAT: Final = "friendli-images.recipe"
"""The ``format`` of our JSON form: how a reader knows the object is a recipe of ours."""
RECIPE_VERSION: Final = 1
"""The version of the JSON form this library writes; it reads every version up to it."""

Operation = Literal["generate", "edit"]


@attrs.frozen
class RecipeInput:
    """An input image of a recipe: by content (SHA-256 and size), or by address.

    :param sha256: The SHA-256 of the image's bytes, in hex; ``None`` for a URL input.
    :param size: The image's size in bytes; ``None`` for a URL input.
    :param url: For a URL input: the URL without query, fragment or credentials (a signed
        URL's signature stays out); ``None`` otherwise.
    """

    sha256: str | None = None
    size: int | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The input as a JSON object: ``{"url": ...}`` or ``{"sha256": ..., "size": ...}``."""
        if self.url is not None:
            return {"url": self.url}
        return {"sha256": self.sha256, "size": self.size}

    @classmethod
    def from_json(cls, value: object) -> RecipeInput:
        """Read an input back from its JSON object (the form ``to_json`` writes).

        :param value: The decoded JSON value.
        :returns: The input.
        :raises ValueError: ``value`` is not an input object (no URL, or a SHA-256 that is
            not 64 hex digits, or a size that is not an integer >= 0).
        """
        if not isinstance(value, Mapping):
            raise ValueError("an input is not an object")
        url = value.get("url")
        if url is not None:
            return cls(url=_text(url, "url"))
        sha256 = _text(value.get("sha256"), "sha256").lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("sha256 is not 64 hex digits")
        size = value.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError("size is not an integer >= 0")
        return cls(sha256=sha256, size=size)


@attrs.frozen
class Recipe:
    """How an image was made: the request that generated it, and where and when.

    Read one with ``read_recipe(path)``; ``recipe_kwargs(recipe)`` turns it back into the
    keyword arguments of ``generate()`` (or ``edit()``).

    :param prompt: The prompt.
    :param model: The model as sent: the endpoint ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``
        (a container's adapter route; ``None``: a container's base model).
    :param seed: The seed the image was generated with (``None``: unknown).
    :param num_inference_steps: The steps sent (``None``: not sent, the model's default).
    :param guidance_scale: The guidance scale sent (``None``: the model's default).
    :param response_format: The response format sent (``None``: the endpoint's default).
    :param controlnet_weights: The ControlNet weights sent, one per control image.
    :param control_images: The control images, by SHA-256 and size.
    :param images: The input images of an edit, by SHA-256 and size.
    :param operation: ``"generate"`` or ``"edit"``.
    :param api: ``"dedicated"`` (Dedicated Endpoints) or ``"container"``; ``None``: not
        known (a recipe read from another tool's text).
    :param team_id: The team the request ran as, only when one was set.
    :param library_version: The friendli-images version that made the image.
    :param created: When the recipe was written, UTC, ISO 8601 (``...Z``).
    :param source: Where a read recipe came from: ``"friendli-images"`` (our JSON) or
        ``"a1111"`` (the ``parameters`` text other tools also write).
    :param extra: Fields of an A1111 ``parameters`` text this library has no name for
        (``{"Sampler": "Euler a"}``), as text.
    """

    prompt: str
    model: str | None = None
    seed: int | None = None
    num_inference_steps: int | None = None
    guidance_scale: float | None = None
    response_format: str | None = None
    controlnet_weights: tuple[float, ...] | None = None
    control_images: tuple[RecipeInput, ...] = ()
    images: tuple[RecipeInput, ...] = ()
    operation: Operation = "generate"
    api: str | None = None
    team_id: str | None = None
    library_version: str | None = None
    created: str | None = None
    source: str = "friendli-images"
    extra: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def endpoint_id(self) -> str | None:
        """The endpoint part of ``model`` (for a container: ``None``)."""
        if self.model is None or self.api == "container":
            return None
        return self.model.partition(":")[0]

    @property
    def adapter(self) -> str | None:
        """The adapter route of ``model``, if any."""
        if self.model is None:
            return None
        if self.api == "container":
            return self.model
        _, colon, adapter = self.model.partition(":")
        return adapter if colon else None

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON object written into files (and printed by ``info --json``)."""
        document: dict[str, Any] = {
            "format": RECIPE_FORMAT,
            "version": RECIPE_VERSION,
            "operation": self.operation,
            "api": self.api,
            "prompt": self.prompt,
            "model": self.model,
            "endpoint_id": self.endpoint_id,
            "adapter": self.adapter,
            "seed": self.seed,
            "num_inference_steps": self.num_inference_steps,
            "guidance_scale": self.guidance_scale,
            "response_format": self.response_format,
            "controlnet_weights": (
                None if self.controlnet_weights is None else list(self.controlnet_weights)
            ),
            "control_images": [item.to_json() for item in self.control_images],
            "images": [item.to_json() for item in self.images],
            "library": "friendli-images",
            "library_version": self.library_version,
            "created": self.created,
        }
        if self.team_id is not None:
            document["team_id"] = self.team_id
        if self.extra:
            document["extra"] = dict(self.extra)
        return document


def recipe_from_json(document: object) -> Recipe:
    """The recipe in our JSON form; ``ValueError`` if it is not one this library reads."""
    if not isinstance(document, Mapping) or document.get("format") != RECIPE_FORMAT:
        raise ValueError(f"not a {RECIPE_FORMAT} object")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("version is not an integer >= 1")
    if version > RECIPE_VERSION:
        raise ValueError(f"version {version} is newer than this library reads ({RECIPE_VERSION})")
    operation = document.get("operation", "generate")
    if operation not in ("generate", "edit"):
        raise ValueError(f"operation {operation!r} is neither generate nor edit")
    weights = document.get("controlnet_weights")
    extra = document.get("extra") or {}
    if not isinstance(extra, Mapping):
        raise ValueError("extra is not an object")
    return Recipe(
        prompt=_text(document.get("prompt"), "prompt"),
        model=_optional_text(document.get("model"), "model"),
        seed=_optional_int(document.get("seed"), "seed"),
        num_inference_steps=_optional_int(
            document.get("num_inference_steps"), "num_inference_steps"
        ),
        guidance_scale=_optional_number(document.get("guidance_scale"), "guidance_scale"),
        response_format=_optional_text(document.get("response_format"), "response_format"),
        controlnet_weights=None if weights is None else _numbers(weights, "controlnet_weights"),
        control_images=_inputs(document.get("control_images"), "control_images"),
        images=_inputs(document.get("images"), "images"),
        operation=operation,
        api=_optional_text(document.get("api"), "api"),
        team_id=_optional_text(document.get("team_id"), "team_id"),
        library_version=_optional_text(document.get("library_version"), "library_version"),
        created=_optional_text(document.get("created"), "created"),
        source="friendli-images",
        extra={str(key): str(value) for key, value in extra.items()},
    )


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _optional_text(value: object, name: str) -> str | None:
    return None if value is None else _text(value, name)


def _optional_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} is not an integer")
    return value


def _optional_number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} is not a finite number")
    return float(value)


def _numbers(value: object, name: str) -> tuple[float, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} is not a list")
    numbers = tuple(_optional_number(item, name) for item in value)
    if any(number is None for number in numbers):
        raise ValueError(f"{name} holds a null")
    return tuple(number for number in numbers if number is not None)


def _inputs(value: object, name: str) -> tuple[RecipeInput, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} is not a list")
    return tuple(RecipeInput.from_json(item) for item in value)
