# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from enum import StrEnum


class DedicatedImageEditBodyResponseFormatType0(StrEnum):
    JPEG = "jpeg"
    JPG = "jpg"
    PNG = "png"
    RAW = "raw"
    URL = "url"

    def __str__(self) -> str:
        return str(self.value)
