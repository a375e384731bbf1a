"""Contact sheets: a labeled grid of images as one ``PIL.Image`` (the ``pillow`` extra).

    contact_sheet(["a.png", "b.png", error], columns=2, captions=["seed=1", ...])
    sweep_sheets("s/")          # one sheet per value of a third axis, labeled by the axes

A cell is an image (a path or a ``PIL.Image``), a failure (an exception, or a
:class:`FailedCell` naming its error class) or ``None`` (not generated yet). Failed and
missing cells are drawn as such, with the error's class: never silently left out.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from .._exceptions import InvalidRequestError, MissingDependencyError, OutputExistsError
from .._files import is_owned, write_atomic
from ._dataset_view import failure_rows, inside, metadata_rows
from ._sweep_file import read_sweep
from .axes import Axis, cell_count, cell_key
from .axes import cell as cell_at

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

__all__ = [
    "SHEET_MARKER",
    "FailedCell",
    "check_sheets_free",
    "contact_sheet",
    "require_pillow",
    "sweep_sheets",
    "write_sweep_sheets",
]

SHEET_MARKER: Final = "friendli-images contact sheet"
"""The PNG text (``Software``) of a sheet this library wrote: only such a file is replaced."""
MAX_SHEET_PIXELS: Final = 100_000_000
"""The largest sheet drawn (about 400 MB as RGBA): bigger grids are refused."""

_BACKGROUND: Final = (255, 255, 255)
_TEXT: Final = (20, 20, 20)
_FAILED: Final = (253, 226, 226)
_FAILED_TEXT: Final = (160, 20, 20)
_MISSING: Final = (235, 235, 235)
_PAD: Final = 8


@attrs.frozen
class FailedCell:
    """A cell whose image could not be made: its error class, and a message (optional).

    :param error: The error's class name, as ``failures.jsonl`` records it.
    :param message: What went wrong; not drawn (only the class is), kept for callers.
    """

    error: str
    message: str = ""


_Cell: TypeAlias = "str | os.PathLike[str] | PILImage.Image | BaseException | FailedCell | None"


def require_pillow() -> None:
    """Raise ``MissingDependencyError`` unless Pillow can be imported."""
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            'contact sheets need Pillow: pip install "friendli-images[pillow]"'
        ) from None


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _text_size(draw: ImageDraw.ImageDraw, text: str, font: Any) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return int(right - left), int(bottom - top)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    """``text`` cut (with an ellipsis) to at most ``width`` pixels."""
    if _text_size(draw, text, font)[0] <= width:
        return text
    while text and _text_size(draw, text + "…", font)[0] > width:
        text = text[:-1]
    return text + "…"


def _load(cell: _Cell, size: int) -> PILImage.Image | FailedCell | None:
    """The cell as a thumbnail of at most ``size`` pixels, or what to draw instead."""
    from PIL import Image, UnidentifiedImageError

    if cell is None or isinstance(cell, FailedCell):
        return cell
    if isinstance(cell, BaseException):
        return FailedCell(type(cell).__name__, str(cell))
    if isinstance(cell, Image.Image):
        image = cell.copy()
    elif isinstance(cell, (str, os.PathLike)):
        try:
            with Image.open(cell) as opened:
                opened.draft("RGB", (size, size))
                opened.thumbnail((size, size))
                image = opened.convert("RGB")
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
            return FailedCell("UnreadableImage", os.fspath(cell))
    else:
        raise InvalidRequestError(
            f"a cell must be an image path, a PIL image, an exception or None, "
            f"got {type(cell).__name__}",
            param="images",
        )
    from PIL import ImageOps

    return ImageOps.contain(image.convert("RGB"), (size, size))  # small images scale up


def _draw_cell(
    sheet: PILImage.Image,
    draw: ImageDraw.ImageDraw,
    content: Any,
    box: tuple[int, int, int],
    font: Any,
) -> None:
    x, y, size = box
    if content is None or isinstance(content, FailedCell):
        failed = content is not None
        draw.rectangle((x, y, x + size - 1, y + size - 1), fill=_FAILED if failed else _MISSING)
        lines = ["FAILED", content.error] if content is not None else ["not generated"]
        color = _FAILED_TEXT if failed else _TEXT
        top = y + size // 2 - len(lines) * 10
        for line in lines:
            text = _fit(draw, line, font, size - 2 * _PAD)
            width, _ = _text_size(draw, text, font)
            draw.text((x + (size - width) // 2, top), text, fill=color, font=font)
            top += 20
        return
    sheet.paste(content, (x + (size - content.width) // 2, y + (size - content.height) // 2))


def _grid(
    cells: Sequence[_Cell],
    columns: int,
    *,
    column_labels: Sequence[str] | None,
    row_labels: Sequence[str] | None,
    captions: Sequence[str] | None,
    title: str | None,
    cell_size: int,
) -> PILImage.Image:
    require_pillow()
    from PIL import Image, ImageDraw

    if isinstance(cell_size, bool) or not isinstance(cell_size, int) or not 16 <= cell_size <= 4096:
        raise InvalidRequestError("cell_size must be an integer from 16 to 4096", param="cell_size")
    rows = max(1, math.ceil(len(cells) / columns))
    font = _font(max(10, min(18, cell_size // 14)))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line = _text_size(probe, "Ag", font)[1] + _PAD
    left = 0
    if row_labels:
        widest = max(_text_size(probe, label, font)[0] for label in row_labels)
        left = min(widest, cell_size) + 2 * _PAD
    top = (line + _PAD if title else 0) + (line + _PAD if column_labels else 0)
    caption_height = line if captions else 0
    width = left + columns * (cell_size + _PAD) + _PAD
    height = top + rows * (cell_size + caption_height + _PAD) + _PAD
    if width * height > MAX_SHEET_PIXELS:
        raise InvalidRequestError(
            f"a {columns}x{rows} sheet of {cell_size}-pixel cells is too large: pass a smaller "
            "cell_size or fewer images",
            param="cell_size",
        )
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = _PAD
    if title:
        draw.text((_PAD, y), _fit(draw, title, font, width - 2 * _PAD), fill=_TEXT, font=font)
        y += line + _PAD
    if column_labels:
        for column, label in enumerate(column_labels[:columns]):
            text = _fit(draw, label, font, cell_size)
            text_width, _ = _text_size(draw, text, font)
            x = left + _PAD + column * (cell_size + _PAD) + (cell_size - text_width) // 2
            draw.text((x, y), text, fill=_TEXT, font=font)
    for index, cell in enumerate(cells):
        row, column = divmod(index, columns)
        x = left + _PAD + column * (cell_size + _PAD)
        y = top + _PAD + row * (cell_size + caption_height + _PAD)
        _draw_cell(sheet, draw, _load(cell, cell_size), (x, y, cell_size), font)
        if captions and index < len(captions):
            text = _fit(draw, captions[index], font, cell_size)
            draw.text((x, y + cell_size + 2), text, fill=_TEXT, font=font)
        if row_labels and column == 0 and row < len(row_labels):
            text = _fit(draw, row_labels[row], font, left - 2 * _PAD)
            _, text_height = _text_size(draw, text, font)
            draw.text((_PAD, y + (cell_size - text_height) // 2), text, fill=_TEXT, font=font)
    return sheet


def contact_sheet(
    images: Sequence[str | os.PathLike[str] | PILImage.Image | BaseException | FailedCell | None],
    *,
    columns: int | None = None,
    captions: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    cell_size: int = 256,
) -> PILImage.Image:
    """A grid of ``images``, row by row, as one RGB ``PIL.Image``.

    :param images: The cells: image paths, ``PIL.Image`` objects, exceptions or
        :class:`FailedCell` (drawn as FAILED with the error's class), ``None`` (drawn as
        not generated).
    :param columns: Cells per row; default the square root of the count, rounded up.
    :param captions: A caption under each cell, in order; default none.
    :param column_labels: A label above each column; default none.
    :param row_labels: A label left of each row; default none.
    :param title: A line above the grid; default none.
    :param cell_size: The side of a cell in pixels (images are scaled to fit); default 256.
    :returns: The sheet.
    :raises MissingDependencyError: Pillow is not installed.
    :raises InvalidRequestError: No images, a cell of another type, or a sheet over
        100 megapixels.
    """
    images = list(images)
    if not images:
        raise InvalidRequestError("a contact sheet needs at least one image", param="images")
    if columns is None:
        columns = math.ceil(math.sqrt(len(images)))
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise InvalidRequestError("columns must be an integer >= 1", param="columns")
    return _grid(
        images,
        min(columns, len(images)),
        column_labels=column_labels,
        row_labels=row_labels,
        captions=captions,
        title=title,
        cell_size=cell_size,
    )


def _cells_of(root: Path) -> dict[str, _Cell]:
    """Each job id of the dataset ``root``: its first image, or its failure."""
    found: dict[str, _Cell] = {}
    for row in failure_rows(root):
        error = row.get("error")
        found[row["id"]] = FailedCell(error if isinstance(error, str) else "Error")
    for row in metadata_rows(root):
        if row["id"] in found and not isinstance(found[row["id"]], FailedCell):
            continue  # the first image of a request stands for it
        path = inside(root, row.get("file_name"))
        found[row["id"]] = path if path is not None else FailedCell("ImageOutsideDirectory")
    return found


def _axes(record: dict[str, Any]) -> list[Axis]:
    try:
        return [Axis(axis["field"], axis["values"]) for axis in record["axes"]]
    except (InvalidRequestError, TypeError, KeyError) as error:
        raise InvalidRequestError(
            f"sweep.json is not a valid sweep ({error})", param="directory"
        ) from None


def sweep_sheets(
    directory: str | os.PathLike[str], *, cell_size: int = 256
) -> list[PILImage.Image]:
    """The contact sheets of the sweep in ``directory``: the first axis on the columns, the
    second on the rows, one sheet per combination of any further axes (titled with it).

    :param directory: A ``sweep`` output directory (with ``sweep.json``).
    :param cell_size: The side of a cell in pixels; default 256.
    :returns: The sheets, in the order of the further axes' values (one without them).
    :raises InvalidRequestError: ``directory`` holds no sweep.
    :raises MissingDependencyError: Pillow is not installed.
    """
    require_pillow()
    root = Path(directory)
    record = read_sweep(root)
    if record is None:
        raise InvalidRequestError(f"{root} holds no sweep (no valid sweep.json)", param="directory")
    axes = _axes(record)
    found = _cells_of(root)
    columns_axis = axes[0] if axes else None
    rows_axis = axes[1] if len(axes) > 1 else None
    further = axes[2:]
    column_count = len(columns_axis.values) if columns_axis else 1
    row_count = len(rows_axis.values) if rows_axis else 1
    sheets = []
    for page in range(cell_count(further)):
        outer = cell_at(further, page)
        cells: list[_Cell] = []
        for row in range(row_count):
            for column in range(column_count):
                indexes = ([column] if columns_axis else []) + ([row] if rows_axis else [])
                cells.append(found.get(cell_key(axes, [*indexes, *outer])))
        title = ", ".join(axis.label(i) for axis, i in zip(further, outer, strict=True))
        sheets.append(
            _grid(
                cells,
                column_count,
                column_labels=[columns_axis.label(i) for i in range(column_count)]
                if columns_axis
                else None,
                row_labels=[rows_axis.label(i) for i in range(row_count)] if rows_axis else None,
                captions=None,
                title=title or None,
                cell_size=cell_size,
            )
        )
    return sheets


def sheet_names(count: int) -> list[str]:
    """The file names of ``count`` sheets: ``grid.png``, or ``grid-1.png`` ... ``grid-N.png``."""
    return ["grid.png"] if count == 1 else [f"grid-{n}.png" for n in range(1, count + 1)]


def check_sheets_free(directory: str | os.PathLike[str], count: int) -> None:
    """Raise ``OutputExistsError`` if a sheet's name (``grid.png``...) is taken by a file
    this library did not write (checked before a sweep sends anything)."""
    for name in sheet_names(count):
        path = Path(directory) / name
        if os.path.lexists(path) and not is_owned(path, SHEET_MARKER.encode()):
            raise OutputExistsError(str(path))


def write_sweep_sheets(directory: str | os.PathLike[str], *, cell_size: int = 256) -> list[Path]:
    """Draw the sweep's sheets (``sweep_sheets``) into ``directory/grid.png`` (or
    ``grid-1.png``...), atomically; a file of that name is replaced only if this library
    wrote it.

    :param directory: A ``sweep`` output directory.
    :param cell_size: The side of a cell in pixels; default 256.
    :returns: The paths written.
    :raises OutputExistsError: A file of that name that this library did not write.
    """
    import io

    from PIL.PngImagePlugin import PngInfo

    root = Path(directory)
    sheets = sweep_sheets(root, cell_size=cell_size)
    written = []
    for name, sheet in zip(sheet_names(len(sheets)), sheets, strict=True):
        info = PngInfo()
        info.add_text("Software", SHEET_MARKER)
        buffer = io.BytesIO()
        sheet.save(buffer, format="PNG", pnginfo=info)
        written.append(write_atomic(root / name, [buffer.getvalue()], owned=SHEET_MARKER.encode()))
    return written
