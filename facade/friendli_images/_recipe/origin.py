"""Where an image came from: the request a client sent, kept with the image it returned.

The clients attach a :class:`RecipeSource` to every image they build (one source shared
by the images of a request). Nothing is computed then: the recipe, and the SHA-256 of
the input images it names, are only worked out when a recipe is asked for
(``save(..., metadata=True)``), once per request.
"""

from __future__ import annotations

import binascii
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from .._exceptions import FriendliImagesError
from .._redaction import Secrets, redact_value
from .._transport._payload import Base64Payload
from .._transport._rules import display_url
from .._version import __version__

if TYPE_CHECKING:
    from .model import Recipe, RecipeInput

__all__ = ["RecipeSource", "Sourced", "attach_source", "recipe_of", "secrets_of"]

_OPERATIONS = {
    "dedicatedImagesGenerate": ("dedicated", "generate"),
    "dedicatedImagesEdit": ("dedicated", "edit"),
    "containerImagesGenerate": ("container", "generate"),
    "containerImagesEdit": ("container", "edit"),
}


def _set(value: Any) -> Any:
    """A body field's value, ``None`` when it was not sent."""
    from .. import _generated  # loaded: the body is a generated model

    if isinstance(value, _generated.Unset):
        return None
    return value.value if isinstance(value, Enum) else value


def input_of(image: object) -> RecipeInput:
    """An input image by content: SHA-256 and size (a URL: by its address, unsigned)."""
    from .model import RecipeInput  # the recipe's model loads when a recipe is built

    if isinstance(image, Base64Payload):
        sha256, size = image.digest()
        return RecipeInput(sha256=sha256, size=size)
    if isinstance(image, str) and image[:5].lower() == "data:":
        # checked when the request was prepared (_control_images): valid base64
        data = binascii.a2b_base64(image.partition(",")[2], strict_mode=True)
        return RecipeInput(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    return RecipeInput(url=display_url(str(image)))


def _inputs(value: Any) -> tuple[RecipeInput, ...]:
    value = _set(value)
    if value is None:
        return ()
    items: Sequence[Any] = value if isinstance(value, list) else [value]
    return tuple(input_of(getattr(item, "image", item)) for item in items)


class Sourced(Protocol):
    """What this package needs of an image (``GeneratedImage`` satisfies it): its seed and
    the request it came from. A protocol, so that the recipe sits below the results."""

    @property
    def seed(self) -> int | None: ...

    _recipe_source: RecipeSource | None


class RecipeSource:
    """The request behind some images: its body, operation, team and the client's secrets.

    :param body: The generated request model that was sent.
    :param operation_id: The API operation (``dedicatedImagesGenerate``, ...).
    :param team_id: The team the client was set to run as (``None``: none set).
    :param secrets: The client's secrets (or their text forms): kept out of the recipe.
    """

    def __init__(
        self,
        body: Any,
        operation_id: str,
        *,
        team_id: str | None,
        secrets: Secrets | Iterable[str],
    ) -> None:
        self._body = body
        self._operation_id = operation_id
        self._team_id = team_id
        self._forms = secrets.forms if isinstance(secrets, Secrets) else tuple(secrets)
        self._created_at = time.time()  # formatted when a recipe is built (most never are)
        self._lock = threading.Lock()
        self._base: Recipe | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The forms of the client's secrets (what every text written is redacted of)."""
        return self._forms

    def __repr__(self) -> str:
        return f"RecipeSource({self._operation_id!r})"

    def __reduce__(self) -> Any:
        return (_unpickled, ())  # a pickle carries neither the inputs nor the secrets

    def recipe(self, seed: int | None) -> Recipe:
        """The recipe of the image with ``seed`` (the one it was generated with)."""
        with self._lock:  # the inputs are hashed once per request
            if self._base is None:
                self._base = self._build()
        from .model import recipe_from_json

        document = self._base.to_json()
        document["seed"] = seed if seed is not None else document["seed"]
        return recipe_from_json(redact_value(document, self._forms))

    def _build(self) -> Recipe:
        from .model import Recipe

        body = self._body
        api, operation = _OPERATIONS.get(self._operation_id, ("dedicated", "generate"))
        weights = _set(getattr(body, "controlnet_weights", None))
        return Recipe(
            prompt=str(body.prompt),
            model=_set(getattr(body, "model", None)),
            seed=_set(getattr(body, "seed", None)),
            num_inference_steps=_set(getattr(body, "num_inference_steps", None)),
            guidance_scale=_set(getattr(body, "guidance_scale", None)),
            response_format=_set(getattr(body, "response_format", None)),
            controlnet_weights=None if weights is None else tuple(float(w) for w in weights),
            control_images=_inputs(getattr(body, "control_images", None)),
            images=_inputs(getattr(body, "image", None)) if operation == "edit" else (),
            operation="edit" if operation == "edit" else "generate",
            api=api,
            team_id=self._team_id if api == "dedicated" else None,
            library_version=__version__,
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._created_at)),
        )


def _unpickled() -> None:
    return None


def attach_source(images: Iterable[Sourced], source: RecipeSource) -> None:
    """Give each image the request it came from (what ``recipe_of`` reads)."""
    for image in images:
        image._recipe_source = source


def secrets_of(image: Sourced) -> tuple[str, ...]:
    """The forms of the secrets of the client that made ``image`` (none: not ours)."""
    source = image._recipe_source
    return () if source is None else source.secrets


def recipe_of(image: Sourced) -> Recipe:
    """The recipe of ``image``; ``FriendliImagesError`` if no client of ours made it."""
    source = image._recipe_source
    if source is None:
        raise FriendliImagesError(
            "this image has no recipe: it was not returned by a client of this library, "
            "so metadata=True has nothing to embed"
        )
    try:
        return source.recipe(image.seed)
    except OSError as error:
        raise FriendliImagesError(
            f"the recipe's input image could not be read again to hash it: {error}"
        ) from error
