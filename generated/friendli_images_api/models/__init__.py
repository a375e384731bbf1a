# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
"""Contains all the data models used in inputs/outputs"""

from .b64_image_item import B64ImageItem
from .dedicated_image_generation_body import DedicatedImageGenerationBody
from .image_generation_dedicated_result import ImageGenerationDedicatedResult
from .image_input import ImageInput
from .image_response_format import ImageResponseFormat
from .url_image_item import UrlImageItem

__all__ = (
    "B64ImageItem",
    "DedicatedImageGenerationBody",
    "ImageGenerationDedicatedResult",
    "ImageInput",
    "ImageResponseFormat",
    "UrlImageItem",
)
