"""Control images: accept what users have at hand, send what the API wants.

The API takes each control image as a URL or a base64 data URI (at most 50 MiB decoded).
Users have file paths, bytes, open files or PIL images. Local content becomes a
``Base64Payload``: its size and type are checked up front, but the base64 text is only
produced, in chunks, while the request body is being written. A 50 MiB file is thus
never held in memory as a 67 MB string, let alone as several copies of one.
"""

from __future__ import annotations

import binascii
import io
import os
import re
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from . import _config
from ._exceptions import InvalidRequestError
from ._sniff import SNIFF_BYTES, sniff_image_type
from ._transport._payload import Base64Payload
from ._transport._rules import control_url_problem

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["ControlImage", "encode_control_image", "prepare_control_image"]

ControlImage: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | PILImage.Image"
)
"""Everything ``control_images`` accepts."""

_B64_CHUNK = 4 * 1024 * 1024  # a multiple of 4, so every slice decodes on its own
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DATA_URI = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),", re.IGNORECASE)
_LIMIT_TEXT = f"{_config.MAX_CONTROL_IMAGE_BYTES} bytes (50 MiB)"


def _reject(param: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {message}", param=param)


def _check_size(size: int, param: str) -> None:
    if size > _config.MAX_CONTROL_IMAGE_BYTES:
        raise _reject(param, f"is {size} bytes; the API accepts at most {_LIMIT_TEXT}")


def _image_type(head: bytes, param: str) -> str:
    mime_type = sniff_image_type(head)
    if mime_type is None:
        raise _reject(param, "is not a PNG, JPEG, WebP or GIF image")
    return mime_type


def _from_path(path: Path, param: str) -> Base64Payload:
    if "\x00" in str(path):
        raise _reject(param, "is not a valid file path (it contains a NUL character)")
    try:
        stat = path.stat()
        if not path.is_file():
            raise _reject(param, f"{str(path)!r} is not a file")
        _check_size(stat.st_size, param)
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise _reject(
            param, f"no such file: {str(path)!r} (URLs must start with http:// or https://)"
        ) from None
    except OSError as exc:
        raise _reject(param, f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    return Base64Payload(
        _image_type(head, param), stat.st_size, path=path, mtime_ns=stat.st_mtime_ns, param=param
    )


def _from_bytes(data: bytes | bytearray | memoryview, param: str) -> Base64Payload:
    try:
        view = memoryview(data).cast("B")
    except TypeError:
        raise _reject(param, "is a memoryview that is not contiguous; pass bytes(view)") from None
    _check_size(view.nbytes, param)
    return Base64Payload(_image_type(bytes(view[:SNIFF_BYTES]), param), view.nbytes, data=view)


def _check_data_uri(uri: str, param: str) -> str:
    match = _DATA_URI.match(uri)
    if match is None:
        raise _reject(param, "is not a valid data: URI")
    params = [p.strip().lower() for p in match["params"].split(";") if p.strip()]
    if "base64" not in params:
        raise _reject(param, "data: URIs must be base64-encoded (data:<type>;base64,...)")
    if not match["mime"].lower().startswith("image/"):
        raise _reject(param, f"data: URI has type {match['mime']!r}, not an image type")
    start = match.end()
    length = len(uri) - start
    padding = (uri.endswith("=") + uri.endswith("==")) if length else 0
    if length % 4:
        raise _reject(param, "data: URI holds invalid base64 (length is not a multiple of 4)")
    _check_size(length // 4 * 3 - padding, param)
    head = b""
    try:
        for offset in range(start, len(uri), _B64_CHUNK):
            decoded = binascii.a2b_base64(uri[offset : offset + _B64_CHUNK], strict_mode=True)
            head = head or decoded[:SNIFF_BYTES]
    except (binascii.Error, ValueError):
        raise _reject(param, "data: URI holds invalid base64") from None
    _image_type(head, param)
    return uri


def _from_pil(image: Any, param: str) -> Base64Payload:
    buffer = io.BytesIO()
    try:
        image.save(buffer, format="PNG")
    except (OSError, ValueError) as exc:
        raise _reject(param, f"the PIL image cannot be saved as PNG: {exc}") from None
    return _from_bytes(buffer.getbuffer(), param)


def _is_pil_image(value: object) -> bool:
    module = sys.modules.get("PIL.Image")  # never import Pillow just to ask
    return module is not None and isinstance(value, module.Image)


def prepare_control_image(value: object, param: str) -> str | Base64Payload:
    """Check one control image and return a URL / data URI to send, or a lazy payload.

    Raises ``InvalidRequestError`` naming ``param`` for anything the API would reject.
    """
    if isinstance(value, str):
        if value.lower().startswith(("http://", "https://")):
            problem = control_url_problem(value)
            if problem:
                raise _reject(param, f"the URL {problem}")
            return value
        if value[:5].lower() == "data:":
            return _check_data_uri(value, param)
        if _URL_SCHEME.match(value):
            raise _reject(param, "only http://, https:// and data: URIs can be sent as URLs")
        if not value:
            raise _reject(param, "is an empty string")
        return _from_path(Path(value), param)
    if isinstance(value, os.PathLike):
        return _from_path(Path(os.fspath(value)), param)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_bytes(value, param)
    if isinstance(value, io.TextIOBase):
        raise _reject(param, "is a text file; open it in binary mode ('rb')")
    if _is_pil_image(value):
        return _from_pil(value, param)
    read = getattr(value, "read", None)
    if callable(read):
        try:
            content = read(_config.MAX_CONTROL_IMAGE_BYTES + 1)
        except (OSError, ValueError, TypeError) as exc:
            raise _reject(param, f"reading the file object failed: {exc}") from None
        if not isinstance(content, (bytes, bytearray)):
            raise _reject(param, "is a file object that does not return bytes")
        return _from_bytes(content, param)
    raise _reject(
        param,
        f"unsupported type {type(value).__name__}; pass a path, bytes, a binary file, "
        "a PIL image, an http(s) URL or a data: URI",
    )


def encode_control_image(image: ControlImage) -> str:
    """Return ``image`` in the form the API accepts: an http(s) URL or a base64 data URI.

    Accepts a file path (``str`` or ``pathlib.Path``), ``bytes``/``bytearray``/``memoryview``,
    a binary file object, a ``PIL.Image.Image``, an ``http(s)://`` URL (returned as is) or a
    ``data:`` URI (checked, returned as is). Raises ``InvalidRequestError`` for a missing
    file, content that is not an image, more than 50 MiB, or an unsupported type.

    :param image: The control image, in any of the forms above.
    """
    prepared = prepare_control_image(image, "image")
    return prepared if isinstance(prepared, str) else prepared.to_data_uri()
