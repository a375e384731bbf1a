# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
"""Contains all the data models used in inputs/outputs"""

from .b64_image_item import B64ImageItem
from .container_image_edit_body import ContainerImageEditBody
from .container_image_edit_body_response_format_type_0 import (
    ContainerImageEditBodyResponseFormatType0,
)
from .container_image_generation_body import ContainerImageGenerationBody
from .container_image_generation_body_response_format_type_0 import (
    ContainerImageGenerationBodyResponseFormatType0,
)
from .dedicated_endpoint_status import DedicatedEndpointStatus
from .dedicated_image_edit_body import DedicatedImageEditBody
from .dedicated_image_edit_body_response_format_type_0 import (
    DedicatedImageEditBodyResponseFormatType0,
)
from .dedicated_image_generation_body import DedicatedImageGenerationBody
from .image_generation_container_result import ImageGenerationContainerResult
from .image_generation_dedicated_result import ImageGenerationDedicatedResult
from .image_input import ImageInput
from .image_response_format import ImageResponseFormat
from .url_image_item import UrlImageItem

__all__ = (
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
    "UrlImageItem",
)
