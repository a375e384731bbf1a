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
from typing import Any, Protocol

import attrs
from friendli_images_api import AuthenticatedClient
from friendli_images_api.api.container_image import (
    container_images_edit,
    container_images_generate,
)
from friendli_images_api.api.dedicated_image import dedicated_images_edit, dedicated_images_generate
from friendli_images_api.models import (
    ContainerImageEditBody,
    ContainerImageEditBodyResponseFormatType0,
    ContainerImageGenerationBody,
    ContainerImageGenerationBodyResponseFormatType0,
    DedicatedImageEditBody,
    DedicatedImageEditBodyResponseFormatType0,
    DedicatedImageGenerationBody,
    ImageGenerationContainerResult,
    ImageGenerationDedicatedResult,
    ImageResponseFormat,
)
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
    def __call__(self, client: ImageReader, parsed: object, body: Any) -> list[GeneratedImage]: ...


@attrs.frozen
class Operation:
    """One image operation of the API, as the clients use it."""

    operation_id: str
    body_type: type[Any]
    """The generated request model."""
    accepted: frozenset[str]
    """The keyword parameters it takes (its ``TypedDict``'s keys)."""
    formats: type[Enum]
    """The generated enum of its ``response_format``."""
    send: Callable[[AuthenticatedClient, Any, str | Unset], Response[Any]]
    asend: Callable[[AuthenticatedClient, Any, str | Unset], Awaitable[Response[Any]]]
    images: _Images
    """The images of a 200 answer; ``ValueError`` if it does not match the spec."""


def _dedicated_images(client: ImageReader, parsed: object, body: Any) -> list[GeneratedImage]:
    if not isinstance(parsed, ImageGenerationDedicatedResult):
        raise ValueError("the answer is not the documented 200")
    images = client._images(parsed)
    if not images:  # a success must carry an image: "data": [] is no answer
        raise ValueError("'data' holds no image")
    return images


def _container_images(client: ImageReader, parsed: object, body: Any) -> list[GeneratedImage]:
    if not isinstance(parsed, ImageGenerationContainerResult):
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


DEDICATED_GENERATE = Operation(
    operation_id="dedicatedImagesGenerate",
    body_type=DedicatedImageGenerationBody,
    accepted=keys_of(GenerateParams),
    formats=ImageResponseFormat,
    send=lambda client, body, team: dedicated_images_generate.sync_detailed(
        client=client, body=body, x_friendli_team=team
    ),
    asend=lambda client, body, team: dedicated_images_generate.asyncio_detailed(
        client=client, body=body, x_friendli_team=team
    ),
    images=_dedicated_images,
)
DEDICATED_EDIT = Operation(
    operation_id="dedicatedImagesEdit",
    body_type=DedicatedImageEditBody,
    accepted=keys_of(EditParams),
    formats=DedicatedImageEditBodyResponseFormatType0,
    send=lambda client, body, team: dedicated_images_edit.sync_detailed(
        client=client, body=body, x_friendli_team=team
    ),
    asend=lambda client, body, team: dedicated_images_edit.asyncio_detailed(
        client=client, body=body, x_friendli_team=team
    ),
    images=_dedicated_images,
)
# The container operations take no X-Friendli-Team: ``team`` is ignored.
CONTAINER_GENERATE = Operation(
    operation_id="containerImagesGenerate",
    body_type=ContainerImageGenerationBody,
    accepted=keys_of(ContainerGenerateParams),
    formats=ContainerImageGenerationBodyResponseFormatType0,
    send=lambda client, body, team: container_images_generate.sync_detailed(
        client=client, body=body
    ),
    asend=lambda client, body, team: container_images_generate.asyncio_detailed(
        client=client, body=body
    ),
    images=_container_images,
)
CONTAINER_EDIT = Operation(
    operation_id="containerImagesEdit",
    body_type=ContainerImageEditBody,
    accepted=keys_of(ContainerEditParams),
    formats=ContainerImageEditBodyResponseFormatType0,
    send=lambda client, body, team: container_images_edit.sync_detailed(client=client, body=body),
    asend=lambda client, body, team: container_images_edit.asyncio_detailed(
        client=client, body=body
    ),
    images=_container_images,
)
