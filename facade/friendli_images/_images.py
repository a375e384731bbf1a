"""Deterministic test images: PNG written by hand, JPEG through Pillow or a built-in encoder.

The images stand in for generated pictures in :mod:`friendli_images.testing`. Each one is a
function of ``(seed, width, height)`` only: the same arguments give the same bytes in one
environment, different seeds give different pictures (a seed-tinted gradient under noise).

Sizes are predictable so benchmarks can ask for a payload size. The PNG is 8-bit RGB with
*stored* (level 0) deflate blocks, so it is ``height * (1 + 3 * width)`` bytes plus about
``60 + 5 * ceil(size / 65535)`` bytes of framing: a 1670x1670 image is just under 8 MiB.

JPEG comes from Pillow when it is installed: the same RGB picture at quality 90, about a
sixth of the PNG's size for this noisy content. Without Pillow, :func:`render_jpeg` still
returns a valid baseline JPEG (JFIF, SOI ... EOI) from a small built-in encoder, but a
simpler picture: grayscale, each 8x8 block one flat tone (DC coefficients only), so it is
far smaller still. :func:`jpeg_backend` says which encoder is in use.

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


def _pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def _encode_jpeg_pillow(seed: int, width: int, height: int) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (width, height), _rgb_pixels(seed, width, height))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


# Annex K.3 of ITU-T T.81: the typical luminance DC table (code counts per length 1..16).
_DC_CODE_COUNTS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_SYMBOLS = tuple(range(12))


def _canonical_codes(counts: tuple[int, ...], symbols: tuple[int, ...]) -> dict[int, str]:
    """Map each symbol to its canonical Huffman code, as a string of ``0``/``1``."""
    codes: dict[int, str] = {}
    code = 0
    index = 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            codes[symbols[index]] = format(code, f"0{length}b")
            code += 1
            index += 1
        code <<= 1
    return codes


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def _encode_jpeg_builtin(seed: int, width: int, height: int) -> bytes:
    """Encode a baseline grayscale JPEG whose 8x8 blocks each hold one flat tone.

    Only DC coefficients are coded (every block ends with EOB right away), so the encoder
    needs no DCT: with a DC quantizer of 8, a block's quantized DC value is its tone - 128.
    """
    rng = _rng(seed, width, height, "jpeg")
    blocks_x = -(-width // 8)
    blocks_y = -(-height // 8)
    dc_codes = _canonical_codes(_DC_CODE_COUNTS, _DC_SYMBOLS)
    eob = "0"  # the AC table below has a single symbol, EOB (0x00), with the code "0"
    bits: list[str] = []
    previous = 0
    for by in range(blocks_y):
        for bx in range(blocks_x):
            gradient = (bx * 96 // max(blocks_x - 1, 1)) + (by * 96 // max(blocks_y - 1, 1))
            value = min(255, gradient + rng.randrange(64)) - 128
            diff = value - previous
            previous = value
            category = abs(diff).bit_length()
            bits.append(dc_codes[category])
            if category:
                extra = diff if diff > 0 else diff + (1 << category) - 1
                bits.append(format(extra, f"0{category}b"))
            bits.append(eob)
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)  # pad the last byte with 1-bits
    entropy = int(stream, 2).to_bytes(len(stream) // 8, "big").replace(b"\xff", b"\xff\x00")
    jfif = b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0)
    quantization = b"\x00" + bytes([8] * 64)
    frame = struct.pack(">BHHB", 8, height, width, 1) + bytes((1, 0x11, 0))
    dc_table = b"\x00" + bytes(_DC_CODE_COUNTS) + bytes(_DC_SYMBOLS)
    ac_table = b"\x10" + bytes((1,) + (0,) * 15) + b"\x00"
    scan = bytes((1, 1, 0x00, 0, 63, 0))
    return b"".join(
        (
            b"\xff\xd8",
            _jpeg_segment(0xFFE0, jfif),
            _jpeg_segment(0xFFDB, quantization),
            _jpeg_segment(0xFFC0, frame),
            _jpeg_segment(0xFFC4, dc_table),
            _jpeg_segment(0xFFC4, ac_table),
            _jpeg_segment(0xFFDA, scan),
            entropy,
            b"\xff\xd9",
        )
    )


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

    Raises:
        ValueError: If a dimension is outside ``[1, MAX_DIMENSION]``.
    """
    check_dimensions(width, height)
    return _cache.get(("png", seed, width, height), lambda: _encode_png(seed, width, height))


def render_jpeg(seed: int, width: int, height: int) -> bytes:
    """Return a deterministic ``width`` x ``height`` baseline JPEG for ``seed``.

    With Pillow installed this is the same picture as :func:`render_png`, in RGB at quality
    90. Without Pillow it is a grayscale 8x8-block mosaic from the built-in encoder; both
    are real JPEG files (``FF D8`` ... ``FF D9``). :func:`jpeg_backend` tells which.

    Raises:
        ValueError: If a dimension is outside ``[1, MAX_DIMENSION]``.
    """
    check_dimensions(width, height)
    backend = jpeg_backend()
    encode = _encode_jpeg_pillow if backend == "pillow" else _encode_jpeg_builtin
    return _cache.get(("jpeg", backend, seed, width, height), lambda: encode(seed, width, height))


def jpeg_backend() -> Literal["pillow", "builtin"]:
    """Say which encoder :func:`render_jpeg` uses: ``"pillow"`` when Pillow imports."""
    return "pillow" if _pillow_available() else "builtin"
