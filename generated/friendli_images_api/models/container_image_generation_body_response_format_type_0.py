# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from enum import StrEnum


class ContainerImageGenerationBodyResponseFormatType0(StrEnum):
    JPEG = "jpeg"
    RAW = "raw"

    def __str__(self) -> str:
        return str(self.value)
