"""The four image operations: the body each takes, the generated function that sends
it, and how its answer becomes ``GeneratedImage``\\s.

* ``dedicatedImagesGenerate``: ``POST /dedicated/v1/images/generations``, ``{"data": [...]}``
* ``dedicatedImagesEdit``: ``POST /dedicated/v1/images/edits``, ``{"data": [...]}``
* ``containerImagesGenerate``: ``POST /v1/images/generations``, ``{"image": "<base64>"}``
* ``containerImagesEdit``: ``POST /v1/images/edits``, ``{"image": "<base64>"}``

The clients hold everything else (validation, retries, batches); an ``Operation`` is
the only place that differs between them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from friendli_images_api import AuthenticatedClient
    from friendli_images_api.models import ImageGenerationDedicatedResult
    from friendli_images_api.types import Response, Unset

from ._params import (
    ContainerEditParams,
    ContainerGenerateParams,
    EditParams,
    GenerateParams,
    keys_of,
)
from ._results import GeneratedImage, decode_base64_image
from ._sniff import image_problem

__all__ = [
    "CONTAINER_DEFAULT_FORMAT",
    "CONTAINER_EDIT",
    "CONTAINER_GENERATE",
    "DEDICATED_EDIT",
    "DEDICATED_GENERATE",
    "Generated",
    "ImageReader",
    "Operation",
]

CONTAINER_DEFAULT_FORMAT = "jpeg"
"""What a container returns when ``response_format`` is not sent (the spec's default)."""


class ImageReader(Protocol):
    """What an operation needs of the client that runs it: reading a Dedicated answer's
    images (the clients satisfy it; this module does not import them)."""

    def _images(self, result: ImageGenerationDedicatedResult) -> list[GeneratedImage]: ...


class _Images(Protocol):
    def __call__(
        self, client: ImageReader, parsed: object, body: Any, result_type: type[Any]
    ) -> list[GeneratedImage]: ...


class Generated(NamedTuple):
    """What an operation takes of the generated package: loaded with its first call, not
    with ``import friendli_images`` (attrs and the generated models are most of the cost
    of an import; ``bench/import_time.py``)."""

    body_type: type[Any]
    """The generated request model."""
    formats: type[Enum]
    """The generated enum of its ``response_format``."""
    send: Callable[[AuthenticatedClient, Any, str | Unset], Response[Any]]
    asend: Callable[[AuthenticatedClient, Any, str | Unset], Awaitable[Response[Any]]]
    result_type: type[Any]
    """The generated model of its 200 answer."""


class Operation:
    """One image operation of the API, as the clients use it.

    ``body_type``, ``formats``, ``send`` and ``asend`` come from the generated package,
    imported on first use (``load``); then they are plain attributes."""

    def __init__(
        self,
        operation_id: str,
        *,
        accepted: frozenset[str],
        images: _Images,
        load: Callable[[], Generated],
    ) -> None:
        self.operation_id = operation_id
        self.accepted = accepted
        """The keyword parameters it takes (its ``TypedDict``'s keys)."""
        self._images = images
        self._load = load

    def __repr__(self) -> str:
        return f"Operation({self.operation_id!r})"

    @cached_property
    def generated(self) -> Generated:
        return self._load()

    def images(self, client: ImageReader, parsed: object, body: Any) -> list[GeneratedImage]:
        """The images of a 200 answer; ``ValueError`` if it does not match the spec."""
        return self._images(client, parsed, body, self.generated.result_type)

    @cached_property
    def body_type(self) -> type[Any]:
        return self.generated.body_type

    @cached_property
    def formats(self) -> type[Enum]:
        return self.generated.formats

    @cached_property
    def send(self) -> Callable[[AuthenticatedClient, Any, str | Unset], Response[Any]]:
        return self.generated.send

    @cached_property
    def asend(
        self,
    ) -> Callable[[AuthenticatedClient, Any, str | Unset], Awaitable[Response[Any]]]:
        return self.generated.asend


def _dedicated_images(
    client: ImageReader, parsed: object, body: Any, result_type: type[Any]
) -> list[GeneratedImage]:
    if not isinstance(parsed, result_type):
        raise ValueError("the answer is not the documented 200")
    images = client._images(parsed)
    if not images:  # a success must carry an image: "data": [] is no answer
        raise ValueError("'data' holds no image")
    return images


def _container_images(
    client: ImageReader, parsed: object, body: Any, result_type: type[Any]
) -> list[GeneratedImage]:
    if not isinstance(parsed, result_type):
        raise ValueError("the answer is not the documented 200")
    if not isinstance(parsed.image, str):
        raise ValueError("'image' is not a string")
    try:
        data = decode_base64_image(parsed.image)
    except ValueError as exc:
        raise ValueError(f"image: {exc}") from None
    problem = image_problem(data)
    if problem:
        raise ValueError(f"'image' {problem}")
    seed = body.seed if isinstance(body.seed, int) else None
    response_format = body.response_format
    requested = (
        response_format.value if isinstance(response_format, Enum) else CONTAINER_DEFAULT_FORMAT
    )
    return [GeneratedImage(seed=seed, response_format=requested, data=data, raw=parsed)]


def _dedicated_generate() -> Generated:
    from . import _generated

    api = _generated.dedicated_images_generate
    return Generated(
        body_type=_generated.DedicatedImageGenerationBody,
        formats=_generated.ImageResponseFormat,
        send=lambda client, body, team: api.sync_detailed(
            client=client, body=body, x_friendli_team=team
        ),
        asend=lambda client, body, team: api.asyncio_detailed(
            client=client, body=body, x_friendli_team=team
        ),
        result_type=_generated.ImageGenerationDedicatedResult,
    )


def _dedicated_edit() -> Generated:
    from . import _generated

    api = _generated.dedicated_images_edit
    return Generated(
        body_type=_generated.DedicatedImageEditBody,
        formats=_generated.DedicatedImageEditBodyResponseFormatType0,
        send=lambda client, body, team: api.sync_detailed(
            client=client, body=body, x_friendli_team=team
        ),
        asend=lambda client, body, team: api.asyncio_detailed(
            client=client, body=body, x_friendli_team=team
        ),
        result_type=_generated.ImageGenerationDedicatedResult,
    )


# The container operations take no X-Friendli-Team: ``team`` is ignored.
def _container_generate() -> Generated:
    from . import _generated

    api = _generated.container_images_generate
    return Generated(
        body_type=_generated.ContainerImageGenerationBody,
        formats=_generated.ContainerImageGenerationBodyResponseFormatType0,
        send=lambda client, body, team: api.sync_detailed(client=client, body=body),
        asend=lambda client, body, team: api.asyncio_detailed(client=client, body=body),
        result_type=_generated.ImageGenerationContainerResult,
    )


def _container_edit() -> Generated:
    from . import _generated

    api = _generated.container_images_edit
    return Generated(
        body_type=_generated.ContainerImageEditBody,
        formats=_generated.ContainerImageEditBodyResponseFormatType0,
        send=lambda client, body, team: api.sync_detailed(client=client, body=body),
        asend=lambda client, body, team: api.asyncio_detailed(client=client, body=body),
        result_type=_generated.ImageGenerationContainerResult,
    )


DEDICATED_GENERATE = Operation(
    "dedicatedImagesGenerate",
    accepted=keys_of(GenerateParams),
    images=_dedicated_images,
    load=_dedicated_generate,
)
DEDICATED_EDIT = Operation(
    "dedicatedImagesEdit",
    accepted=keys_of(EditParams),
    images=_dedicated_images,
    load=_dedicated_edit,
)
CONTAINER_GENERATE = Operation(
    "containerImagesGenerate",
    accepted=keys_of(ContainerGenerateParams),
    images=_container_images,
    load=_container_generate,
)
CONTAINER_EDIT = Operation(
    "containerImagesEdit",
    accepted=keys_of(ContainerEditParams),
    images=_container_images,
    load=_container_edit,
)
