"""Deterministic test images: PNG written by hand, JPEG encoded by Pillow.

The images stand in for generated pictures in :mod:`friendli_images.testing`. Each one is a
function of ``(seed, width, height)`` only: the same arguments give the same bytes in one
environment, different seeds give different pictures (a seed-tinted gradient under noise).

Sizes are predictable so benchmarks can ask for a payload size. The PNG is 8-bit RGB with
*stored* (level 0) deflate blocks, so it is ``height * (1 + 3 * width)`` bytes plus about
``60 + 5 * ceil(size / 65535)`` bytes of framing: a 1670x1670 image is just under 8 MiB.

JPEG comes from Pillow (part of the ``testing`` extra): the same RGB picture at quality 90,
about a sixth of the PNG's size for this noisy content, and the same bytes everywhere the
same Pillow version runs.

Rendered images are cached by ``(format, seed, width, height)`` under a byte budget, and
concurrent requests for the same image wait for one render instead of repeating it.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

from PIL import Image

__all__ = [
    "MAX_DIMENSION",
    "check_dimensions",
    "jpeg_backend",
    "render_jpeg",
    "render_png",
]

MAX_DIMENSION = 16384
"""Largest width or height the renderers accept."""

_CACHE_BUDGET_BYTES = 256 * 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Noise keeps the low six bits of a random byte; the gradient below stays at or under 192,
# so a channel never exceeds 255 and the big-integer addition never carries between bytes.
_LOW_SIX_BITS = bytes(value & 0x3F for value in range(256))
_GRADIENT_MAX = 192


def check_dimensions(width: int, height: int) -> None:
    """Raise ``TypeError``/``ValueError`` unless both are ints in ``[1, MAX_DIMENSION]``."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if not 1 <= value <= MAX_DIMENSION:
            raise ValueError(f"{name} must be in [1, {MAX_DIMENSION}], got {value}")


def _rng(seed: int, width: int, height: int, purpose: str) -> random.Random:
    # Hashing keeps negative seeds distinct from positive ones (Random(-n) == Random(n)).
    digest = hashlib.sha256(f"friendli-images:{purpose}:{seed}:{width}x{height}".encode())
    return random.Random(int.from_bytes(digest.digest(), "big"))  # noqa: S311


def _rgb_pixels(seed: int, width: int, height: int) -> bytes:
    """Return ``height * width * 3`` bytes of RGB: a seed-tinted gradient plus noise.

    Everything runs as whole-buffer C operations (``randbytes``, ``translate``, big-integer
    arithmetic), so an 8 MiB image takes tens of milliseconds, not seconds.
    """
    rng = _rng(seed, width, height, "rgb")
    size = width * height * 3
    noise = rng.randbytes(size).translate(_LOW_SIX_BITS)
    blue = rng.randrange(_GRADIENT_MAX + 1)
    # Red follows x and green follows y; the channels are disjoint, so OR combines them.
    red_row = b"".join(
        bytes((x * _GRADIENT_MAX // max(width - 1, 1), 0, blue)) for x in range(width)
    )
    green_rows = b"".join(
        bytes((0, y * _GRADIENT_MAX // max(height - 1, 1), 0)) * width for y in range(height)
    )
    base = int.from_bytes(red_row * height, "big") | int.from_bytes(green_rows, "big")
    return (base + int.from_bytes(noise, "big")).to_bytes(size, "big")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _encode_png(seed: int, width: int, height: int) -> bytes:
    rgb = _rgb_pixels(seed, width, height)
    row = width * 3
    stride = row + 1
    scanlines = bytearray(height * stride)  # filter byte 0 ("None") starts every scanline
    for y in range(height):
        scanlines[y * stride + 1 : (y + 1) * stride] = rgb[y * row : (y + 1) * row]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(scanlines, 0)),
            _png_chunk(b"IEND", b""),
        )
    )


def _encode_jpeg(seed: int, width: int, height: int) -> bytes:
    image = Image.frombytes("RGB", (width, height), _rgb_pixels(seed, width, height))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


class _RenderCache:
    """A thread-safe LRU of rendered images, bounded by total bytes.

    A key being rendered is marked in flight; other threads asking for it wait for that
    render rather than burning the GIL on an identical one.
    """

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._size = 0
        self._items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._in_flight: dict[tuple[object, ...], threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], render: Callable[[], bytes]) -> bytes:
        while True:
            with self._lock:
                cached = self._items.get(key)
                if cached is not None:
                    self._items.move_to_end(key)
                    return cached
                pending = self._in_flight.get(key)
                if pending is None:
                    done = self._in_flight[key] = threading.Event()
                    break
            pending.wait()
        try:
            data = render()
            with self._lock:
                if len(data) <= self._budget:
                    self._items[key] = data
                    self._size += len(data)
                    while self._size > self._budget:
                        _, evicted = self._items.popitem(last=False)
                        self._size -= len(evicted)
            return data
        finally:
            with self._lock:
                del self._in_flight[key]
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


_cache = _RenderCache(_CACHE_BUDGET_BYTES)


def render_png(seed: int, width: int, height: int) -> bytes:
    """Return a deterministic ``width`` x ``height`` 8-bit RGB PNG for ``seed``.

    The file has the PNG signature and IHDR, IDAT and IEND chunks with valid CRCs; its
    size is about ``3 * width * height`` bytes (see the module docstring).

    :param seed: Chooses the picture; equal seeds give equal bytes.
    :param width: The width in pixels.
    :param height: The height in pixels.
    :raises ValueError: If a dimension is outside ``[1, MAX_DIMENSION]``.
    """
    check_dimensions(width, height)
    return _cache.get(("png", seed, width, height), lambda: _encode_png(seed, width, height))


def render_jpeg(seed: int, width: int, height: int) -> bytes:
    """Return a deterministic ``width`` x ``height`` baseline JPEG for ``seed``.

    The same picture as :func:`render_png`, in RGB at quality 90, encoded by Pillow.

    :param seed: Chooses the picture; equal seeds give equal bytes.
    :param width: The width in pixels.
    :param height: The height in pixels.
    :raises ValueError: If a dimension is outside ``[1, MAX_DIMENSION]``.
    """
    check_dimensions(width, height)
    return _cache.get(("jpeg", seed, width, height), lambda: _encode_jpeg(seed, width, height))


def jpeg_backend() -> Literal["pillow"]:
    """Say which encoder :func:`render_jpeg` uses: always Pillow (the ``testing`` extra).

    Kept so code written when a built-in fallback existed still runs.
    """
    return "pillow"
