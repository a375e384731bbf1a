"""The recipe's file formats as pure functions: A1111 text, PNG chunks, JPEG segments.

Every writer is checked against an independent reader (Pillow) and against our own
reader, and every insertion against the bytes it must leave alone.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import pytest
from friendli_images import FriendliImagesError, Recipe, RecipeInput
from friendli_images._recipe import a1111, jpeg, png
from friendli_images._recipe.embed import PARAMETERS_KEY, RECIPE_KEY, Embedder
from friendli_images._recipe.model import RECIPE_FORMAT, recipe_from_json
from friendli_images._recipe.read import is_complete_image, read_recipe
from PIL import Image

RECIPE = Recipe(
    prompt="a lighthouse at dawn, oil: thick\nsecond line",
    model="ep-123:my-adapter",
    seed=42,
    num_inference_steps=28,
    guidance_scale=3.5,
    response_format="png",
    controlnet_weights=(0.5, 1.0),
    control_images=(RecipeInput(sha256="ab" * 32, size=10), RecipeInput(url="https://x/y.png")),
    operation="generate",
    api="dedicated",
    team_id="team-1",
    library_version="0.1.0",
    created="2026-01-02T03:04:05Z",
)


def feed_in_pieces(inserter: png.PngInserter | jpeg.JpegInserter, data: bytes, size: int) -> bytes:
    out = b"".join(inserter.feed(data[i : i + size]) for i in range(0, len(data), size))
    inserter.finish()
    return out


def pil_png(width: int, height: int, mode: str = "RGB") -> bytes:
    image = Image.frombytes(mode, (width, height), os.urandom(width * height * len(mode)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def pil_jpeg(width: int, height: int) -> bytes:
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


# -- the A1111 parameters text ------------------------------------------------------------


class TestA1111:
    def test_round_trip_keeps_every_field_the_text_carries(self) -> None:
        text = a1111.format_parameters(RECIPE)
        parsed = a1111.parse_parameters(text)
        assert parsed is not None
        assert parsed.source == "a1111"
        for name in (
            "prompt",
            "model",
            "seed",
            "num_inference_steps",
            "guidance_scale",
            "response_format",
            "controlnet_weights",
            "operation",
            "api",
            "team_id",
            "library_version",
            "created",
        ):
            assert getattr(parsed, name) == getattr(RECIPE, name), name
        assert dict(parsed.extra) == {}

    def test_values_with_commas_and_colons_are_quoted(self) -> None:
        line = a1111.format_parameters(RECIPE).split("\n")[-1]
        assert 'Model: "ep-123:my-adapter"' in line
        assert 'ControlNet weights: "[0.5, 1]"' in line
        assert "Steps: 28, CFG scale: 3.5, Seed: 42" in line

    @pytest.mark.parametrize(
        ("text", "prompt", "fields", "extra"),
        [
            (  # what AUTOMATIC1111 writes
                "a cat\nNegative prompt: blurry, ugly\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                "Seed: 1234, Size: 512x512, Model hash: abc, Model: sd15",
                "a cat",
                {"num_inference_steps": 20, "guidance_scale": 7.0, "seed": 1234, "model": "sd15"},
                {
                    "Negative prompt": "blurry, ugly",
                    "Sampler": "Euler a",
                    "Size": "512x512",
                    "Model hash": "abc",
                },
            ),
            (  # a prompt only: its last line is not a parameters line
                "just a prompt\nwith: two lines",
                "just a prompt\nwith: two lines",
                {"seed": None, "model": None},
                {},
            ),
            (  # a value that does not parse stays as text
                "p\nSteps: many, Seed: 3, Model: m",
                "p",
                {"num_inference_steps": None, "seed": 3},
                {"Steps": "many"},
            ),
            (
                'p\nSeed: 1, Model: "a, b", Foo: "say \\"hi\\""',
                "p",
                {"model": "a, b", "seed": 1},
                {"Foo": 'say "hi"'},
            ),
        ],
    )
    def test_parse(
        self, text: str, prompt: str, fields: dict[str, object], extra: dict[str, str]
    ) -> None:
        recipe = a1111.parse_parameters(text)
        assert recipe is not None
        assert recipe.prompt == prompt
        for name, value in fields.items():
            assert getattr(recipe, name) == value, name
        assert dict(recipe.extra) == extra

    @pytest.mark.parametrize("text", ["", "\n", "   "])
    def test_no_prompt_is_no_recipe(self, text: str) -> None:
        assert a1111.parse_parameters(text) is None

    @pytest.mark.parametrize(
        ("line", "pairs"),
        [
            ("Steps: 1, Seed: 2, Model: m", {"Steps": "1", "Seed": "2", "Model": "m"}),
            ("Steps: 1, Seed: 2", None),  # fewer than three pairs
            ("not, a parameters line", None),
            ('A: "x, y", B: 2, C: 3', {"A": "x, y", "B": "2", "C": "3"}),
        ],
    )
    def test_parse_pairs(self, line: str, pairs: dict[str, str] | None) -> None:
        assert a1111.parse_pairs(line) == pairs


class TestJsonForm:
    def test_round_trip(self) -> None:
        assert recipe_from_json(json.loads(json.dumps(RECIPE.to_json()))) == RECIPE

    def test_carries_its_format_and_version(self) -> None:
        document = RECIPE.to_json()
        assert (document["format"], document["version"]) == (RECIPE_FORMAT, 1)
        assert (document["endpoint_id"], document["adapter"]) == ("ep-123", "my-adapter")

    @pytest.mark.parametrize(
        "change",
        [
            {"format": "other"},
            {"version": 99},
            {"prompt": 3},
            {"seed": "7"},
            {"operation": "upscale"},
            {"controlnet_weights": [None]},
            {"images": [{"sha256": "zz", "size": 1}]},
        ],
    )
    def test_rejects_what_it_does_not_read(self, change: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            recipe_from_json({**RECIPE.to_json(), **change})

    def test_team_only_when_set(self) -> None:
        import attrs

        assert "team_id" not in attrs.evolve(RECIPE, team_id=None).to_json()


# -- PNG ----------------------------------------------------------------------------------


class TestPng:
    def test_chunk_crc_is_that_of_type_and_data(self) -> None:
        made = png.chunk(b"tEXt", b"k\0v")
        assert made[:4] == struct.pack(">I", 3)
        assert struct.unpack(">I", made[-4:])[0] == zlib.crc32(b"tEXtk\0v")

    @pytest.mark.parametrize(
        ("text", "kind"), [("latin é", b"tEXt"), ("snow ☃", b"iTXt"), ("nul\0", b"iTXt")]
    )
    def test_text_chunk_type(self, text: str, kind: bytes) -> None:
        assert png.text_chunk("k", text)[4:8] == kind

    @pytest.mark.parametrize("piece", [1, 7, 8192, 10**9])
    def test_insertion_before_iend_in_any_piece_size(self, piece: int) -> None:
        original = pil_png(32, 16)
        insert = png.text_chunk("parameters", "a ☃ prompt")
        embedded = feed_in_pieces(png.PngInserter(insert), original, piece)
        assert embedded == original[: -len(png.IEND_CHUNK)] + insert + png.IEND_CHUNK
        with Image.open(io.BytesIO(embedded)) as image:
            image.load()
            assert image.info["parameters"] == "a ☃ prompt"

    def test_flux_sized_png_keeps_its_pixels(self, tmp_path: Path) -> None:
        original = pil_png(1024, 1024)
        embedder = Embedder(RECIPE)
        pieces = [original[i : i + 65536] for i in range(0, len(original), 65536)]
        embedded = b"".join(embedder.wrap(iter(pieces)))
        assert embedder.kind == "png"
        path = tmp_path / "flux.png"
        path.write_bytes(embedded)
        with Image.open(path) as image, Image.open(io.BytesIO(original)) as before:
            image.load()
            assert image.size == (1024, 1024)
            assert image.tobytes() == before.tobytes()
            assert image.info[PARAMETERS_KEY] == a1111.format_parameters(RECIPE)
            assert json.loads(image.info[RECIPE_KEY]) == RECIPE.to_json()
        assert read_recipe(path) == RECIPE
        assert is_complete_image(path)

    @pytest.mark.parametrize("cut", [5, 40, -12, -1])
    def test_truncated_png_is_refused(self, cut: int) -> None:
        original = pil_png(8, 8)
        with pytest.raises(FriendliImagesError, match=r"truncated|not a PNG"):
            feed_in_pieces(png.PngInserter(b""), original[:cut], 3)

    def test_reader_skips_bad_crc_and_oversized_chunks(self) -> None:
        original = pil_png(4, 4)
        good = png.text_chunk("a", "one")
        bad = bytearray(png.text_chunk("b", "two"))
        bad[-1] ^= 0xFF
        big = png.text_chunk("c", "x" * 100)
        data = feed_in_pieces(png.PngInserter(good + bytes(bad) + big), original, 1000)
        assert png.read_png_texts(io.BytesIO(data), limit=50) == {"a": "one"}

    def test_reader_inflates_compressed_text_within_the_limit(self) -> None:
        compressed = png.chunk(b"zTXt", b"z\0\0" + zlib.compress(b"y" * 1000))
        data = feed_in_pieces(png.PngInserter(compressed), pil_png(4, 4), 1000)
        assert png.read_png_texts(io.BytesIO(data), limit=2000) == {"z": "y" * 1000}
        assert png.read_png_texts(io.BytesIO(data), limit=100) == {}


# -- JPEG ---------------------------------------------------------------------------------


def strip_segments(data: bytes, count: int, at: int) -> bytes:
    """``data`` without the ``count`` segments starting at offset ``at``."""
    end = at
    for _ in range(count):
        (length,) = struct.unpack(">H", data[end + 2 : end + 4])
        end += 2 + length
    return data[:at] + data[end:]


class TestJpeg:
    @pytest.mark.parametrize("piece", [1, 3, 4096, 10**9])
    def test_segments_go_after_soi_and_app0(self, piece: int) -> None:
        original = pil_jpeg(40, 24)
        assert original[2:4] == b"\xff\xe0"  # Pillow writes JFIF first
        insert = jpeg.exif_user_comment_segment("a ☃ prompt") + jpeg.com_segment('{"x": 1}')
        embedded = feed_in_pieces(jpeg.JpegInserter(insert), original, piece)
        (app0,) = struct.unpack(">H", original[4:6])
        at = 4 + app0
        assert embedded[:at] == original[:at]
        assert strip_segments(embedded, 2, at) == original  # entropy-coded data unchanged
        with Image.open(io.BytesIO(embedded)) as image, Image.open(io.BytesIO(original)) as raw:
            assert image.tobytes() == raw.tobytes()
            assert image.info["comment"] == b'{"x": 1}'
            user_comment = image.getexif().get_ifd(0x8769)[0x9286]
            assert user_comment == b"UNICODE\0" + "a ☃ prompt".encode("utf-16-be")

    def test_without_app0_right_after_soi(self) -> None:
        body = b"\xff\xdb\x00\x04\x00\x00\xff\xd9"
        embedded = feed_in_pieces(jpeg.JpegInserter(b"XY"), b"\xff\xd8" + body, 2)
        assert embedded == b"\xff\xd8XY" + body

    def test_reader_finds_comment_and_user_comment(self) -> None:
        insert = jpeg.exif_user_comment_segment("params") + jpeg.com_segment("json")
        data = feed_in_pieces(jpeg.JpegInserter(insert), pil_jpeg(8, 8), 100)
        assert jpeg.read_jpeg_texts(io.BytesIO(data)) == (["json"], "params")

    @pytest.mark.parametrize(
        ("exif", "comment"),
        [
            (b"Exif\0\0II*\0" + struct.pack("<I", 8) + struct.pack("<H", 0), None),
            (b"Exif\0\0XX", None),
            (b"Exif\0\0MM\0*\0\0\0\x08", None),  # IFD0 cut short
        ],
    )
    def test_user_comment_of_odd_exif(self, exif: bytes, comment: str | None) -> None:
        assert jpeg.parse_user_comment(exif) == comment

    def test_a_recipe_too_long_for_a_segment_is_refused(self) -> None:
        with pytest.raises(FriendliImagesError, match="save as PNG"):
            jpeg.com_segment("x" * 70000)

    def test_not_a_jpeg(self) -> None:
        with pytest.raises(FriendliImagesError, match="not a JPEG"):
            jpeg.JpegInserter(b"").feed(b"GIF89a")


@pytest.mark.parametrize(
    ("data", "complete"),
    [
        (pil_png(4, 4), True),
        (pil_png(4, 4)[:-1], False),
        (pil_png(4, 4)[:-12], False),
        (pil_jpeg(8, 8), True),
        (pil_jpeg(8, 8)[:-2], False),
        (b"", False),
        (b"GIF89a...", True),
    ],
)
def test_is_complete_image(tmp_path: Path, data: bytes, complete: bool) -> None:
    path = tmp_path / "image"
    path.write_bytes(data)
    assert is_complete_image(path) is complete


def test_read_recipe_of_a_foreign_a1111_png(tmp_path: Path) -> None:
    """A PNG as AUTOMATIC1111 writes it (Pillow's PngInfo): read as an a1111 recipe."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "a dog\nSteps: 30, Sampler: DPM++, CFG scale: 6, Seed: 9")
    Image.new("RGB", (4, 4)).save(tmp_path / "a1111.png", pnginfo=info)
    recipe = read_recipe(tmp_path / "a1111.png")
    assert recipe is not None
    assert (recipe.prompt, recipe.seed, recipe.num_inference_steps) == ("a dog", 9, 30)
    assert recipe.source == "a1111"


def test_read_recipe_of_nothing(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert read_recipe(tmp_path / "plain.png") is None
    with pytest.raises(FriendliImagesError, match="cannot read"):
        read_recipe(tmp_path / "missing.png")
