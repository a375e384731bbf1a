"""The sidecar file: a recipe beside an image whose format has no place for text.

For ``image-0.webp`` (or a raw/unknown format) the recipe goes to ``image-0.webp.json``:
the image's whole file name plus ``.json``, so two images that differ only by extension
never share one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

__all__ = ["SIDECAR_LIMIT", "sidecar_path", "sidecar_text"]

SIDECAR_LIMIT: Final = 1024 * 1024
"""The most bytes of a sidecar read back (a recipe is a few KiB)."""


def sidecar_path(image: Path) -> Path:
    """The sidecar of ``image``: its file name plus ``.json``."""
    return image.with_name(image.name + ".json")


def sidecar_text(document: object) -> str:
    """The sidecar's content: the JSON recipe, indented, with a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
