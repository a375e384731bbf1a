"""The generated package (``friendli_images_api``) as the facade uses it at run time.

Every generated model, endpoint function and sentinel the facade calls is imported here
and taken from here, in one module that loads with a client's first call, not with
``import friendli_images``: the generated models and attrs are most of what an import
would cost (``bench/import_time.py``). Type annotations import the generated names
themselves under ``TYPE_CHECKING``. The sync's facade check (``scripts/python_surface.py``)
imports every facade module, this one too: a regeneration that renames or drops a name
the facade uses fails there, before any request is sent.
"""

from __future__ import annotations

from friendli_images_api.api.container_image import (
    container_images_edit,
    container_images_generate,
)
from friendli_images_api.api.dedicated_endpoint import (
    dedicated_get_endpoint_status,
    dedicated_sleep_endpoint,
    dedicated_wake_endpoint,
)
from friendli_images_api.api.dedicated_image import dedicated_images_edit, dedicated_images_generate
from friendli_images_api.models import (
    B64ImageItem,
    ContainerImageEditBody,
    ContainerImageEditBodyResponseFormatType0,
    ContainerImageGenerationBody,
    ContainerImageGenerationBodyResponseFormatType0,
    DedicatedEndpointStatus,
    DedicatedImageEditBody,
    DedicatedImageEditBodyResponseFormatType0,
    DedicatedImageGenerationBody,
    ImageGenerationContainerResult,
    ImageGenerationDedicatedResult,
    ImageInput,
    ImageResponseFormat,
    UrlImageItem,
)
from friendli_images_api.types import UNSET, Unset

__all__ = [
    "UNSET",
    "B64ImageItem",
    "ContainerImageEditBody",
    "ContainerImageEditBodyResponseFormatType0",
    "ContainerImageGenerationBody",
    "ContainerImageGenerationBodyResponseFormatType0",
    "DedicatedEndpointStatus",
    "DedicatedImageEditBody",
    "DedicatedImageEditBodyResponseFormatType0",
    "DedicatedImageGenerationBody",
    "ImageGenerationContainerResult",
    "ImageGenerationDedicatedResult",
    "ImageInput",
    "ImageResponseFormat",
    "Unset",
    "UrlImageItem",
    "container_images_edit",
    "container_images_generate",
    "dedicated_get_endpoint_status",
    "dedicated_images_edit",
    "dedicated_images_generate",
    "dedicated_sleep_endpoint",
    "dedicated_wake_endpoint",
]
