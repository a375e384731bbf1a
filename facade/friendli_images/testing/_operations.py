"""The image operations besides generation: dedicated edits and the container's API.

:class:`~friendli_images.testing.FriendliTestServer` serves four operations, all
validated against its spec (by default the one shipped in ``friendli_images_api``):

==========================================  ======  =====================================
path                                        auth    answer
==========================================  ======  =====================================
``POST /dedicated/v1/images/generations``   bearer  ``{"data": [item]}``
``POST /dedicated/v1/images/edits``         bearer  ``{"data": [item]}``, the input edited
``POST /v1/images/generations``             none    ``{"image": "<base64>"}``
``POST /v1/images/edits``                   none    ``{"image": "<base64>"}``, edited
==========================================  ======  =====================================

The container paths take no token, as a Friendli Container does (an ``Authorization``
header is ignored). Its ``response_format`` is ``jpeg`` (the default) or ``raw``, sent
as PNG.

An edit really derives from its input: the first input image (a ``data:`` URI), turned
upside down, in the format asked for. That needs Pillow; without it, or for an input
given as a URL or in a format Pillow cannot read, the answer is the server's usual
picture for a seed taken from the SHA-256 of the input text, so it still differs per
input. Faults injected for the ``"generate"`` route apply to all four operations.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._images import render_jpeg, render_png

if TYPE_CHECKING:
    from ._server import FriendliTestServer

__all__ = [
    "CONTAINER_EDIT_PATH",
    "CONTAINER_GENERATION_PATH",
    "EDIT_PATH",
    "GENERATION_PATH",
    "IMAGE_OPERATIONS",
    "ImageOperation",
    "StoredImages",
    "answer",
    "edited_image",
    "input_images",
]

GENERATION_PATH: Final = "/dedicated/v1/images/generations"
"""The path of Dedicated Endpoints image generation (``POST``)."""
EDIT_PATH: Final = "/dedicated/v1/images/edits"
"""The path of Dedicated Endpoints image editing (``POST``)."""
CONTAINER_GENERATION_PATH: Final = "/v1/images/generations"
"""The path of a Friendli Container's image generation (``POST``)."""
CONTAINER_EDIT_PATH: Final = "/v1/images/edits"
"""The path of a Friendli Container's image editing (``POST``)."""


@dataclass(frozen=True)
class ImageOperation:
    """How the server treats one operation's path."""

    operation_id: str
    authenticated: bool
    """Dedicated Endpoints ask for the bearer token; a container asks for nothing."""
    container: bool
    """Answers ``{"image": ...}`` instead of ``{"data": [...]}``."""
    edit: bool
    """Derives its answer from the request's ``image``."""


IMAGE_OPERATIONS: Final[dict[str, ImageOperation]] = {
    GENERATION_PATH: ImageOperation(
        "dedicatedImagesGenerate", authenticated=True, container=False, edit=False
    ),
    EDIT_PATH: ImageOperation(
        "dedicatedImagesEdit", authenticated=True, container=False, edit=True
    ),
    CONTAINER_GENERATION_PATH: ImageOperation(
        "containerImagesGenerate", authenticated=False, container=True, edit=False
    ),
    CONTAINER_EDIT_PATH: ImageOperation(
        "containerImagesEdit", authenticated=False, container=True, edit=True
    ),
}
"""Every image operation the server implements, by path."""


class StoredImages:
    """Edited images answered as a ``url``, kept for download up to a byte budget.

    The oldest go first once the budget is exceeded (their URLs then answer 404), so a
    server that edits large images many times, as a benchmark does, stays bounded.
    Not thread-safe: the server calls it under its lock.
    """

    def __init__(self, budget: int = 128 * 1024 * 1024) -> None:
        self._budget = budget
        self._size = 0
        self._items: dict[str, bytes] = {}

    def put(self, image_id: str, data: bytes) -> None:
        self._items[image_id] = data
        self._size += len(data)
        while self._size > self._budget and len(self._items) > 1:
            oldest = next(iter(self._items))
            self._size -= len(self._items.pop(oldest))

    def get(self, image_id: str) -> bytes | None:
        return self._items.get(image_id)


def input_images(body: dict[str, Any]) -> list[str]:
    """The ``image`` strings of an edit body (one ``ImageInput`` or a list of them)."""
    value = body.get("image")
    items = value if isinstance(value, list) else [value]
    return [item["image"] for item in items if isinstance(item, dict) and "image" in item]


def _data_uri_bytes(image: str) -> bytes | None:
    if not image.startswith("data:"):
        return None
    comma = image.find(",")
    try:
        return binascii.a2b_base64(image[comma + 1 :], strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _flipped(data: bytes, kind: str) -> bytes | None:
    """``data`` upside down as PNG or JPEG, or ``None`` without Pillow or a readable image."""
    try:
        from PIL import Image, ImageOps
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = ImageOps.flip(opened.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    out = io.BytesIO()
    if kind == "png":
        picture.save(out, format="PNG", compress_level=1)
    else:
        picture.save(out, format="JPEG", quality=90)
    return out.getvalue()


def edited_image(image: str, kind: str, size: tuple[int, int]) -> bytes:
    """The server's edit of ``image`` (a URL or data URI) as ``kind`` (``png``/``jpeg``)."""
    data = _data_uri_bytes(image)
    if data is not None:
        flipped = _flipped(data, kind)
        if flipped is not None:
            return flipped
    seed = int.from_bytes(hashlib.sha256(image.encode()).digest()[:4], "big")
    render: Callable[[int, int, int], bytes] = render_png if kind == "png" else render_jpeg
    return render(seed, *size)


def _picture(
    operation: ImageOperation, body: dict[str, Any], seed: int, kind: str, size: tuple[int, int]
) -> bytes:
    if operation.edit:
        return edited_image(input_images(body)[0], kind, size)
    render = render_png if kind == "png" else render_jpeg
    return render(seed, *size)


def answer(
    server: FriendliTestServer, operation: ImageOperation, body: dict[str, Any], seed: int
) -> dict[str, Any]:
    """The 200 body for a valid request to an edit or container operation."""
    response_format = body.get("response_format")
    size = server.image_size
    if operation.container:
        kind = "png" if response_format == "raw" else "jpeg"
        data = _picture(operation, body, seed, kind, size)
        return {"image": base64.b64encode(data).decode("ascii")}
    response_format = response_format or "url"
    kind = "jpeg" if response_format in ("jpeg", "jpg") else "png"
    data = _picture(operation, body, seed, kind, size)
    item: dict[str, Any] = {"seed": seed, "response_format": response_format}
    if response_format == "url":
        item["url"] = server._store_image(data)
    else:
        item["b64_json"] = base64.b64encode(data).decode("ascii")
    return {"data": [item]}
