"""The gallery: one self-contained ``DIR/index.html`` for a dataset directory.

    write_gallery("data/")      # a ``run`` or ``sweep`` output

The page works from ``file://`` with no network: its style and script are inline (and
the only ones its Content-Security-Policy lets run: a hash of each), images are
relative links inside DIR. Each card shows a thumbnail (made once into
``DIR/thumbs/``, lazy-loaded), the prompt, seed and parameters; a text filter narrows
the cards; the failures are listed with their errors; a summary of the run heads the
page, and a sweep's page shows its grid and axes.

Every text on the page is escaped with ``html.escape`` (a prompt is user text:
``<script>`` in it shows as text) and passes :func:`~friendli_images._redaction.redact`.
A path a metadata line names is used only if it resolves to a file inside DIR. Rows
are streamed: memory does not grow with the number of images; ``index.html`` is
written atomically, and replaced only if this library wrote it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import attrs

from .._exceptions import InvalidRequestError, OutputExistsError
from .._files import is_owned, write_atomic
from .._redaction import Secrets, redact
from ._dataset_view import failure_rows, inside, metadata_rows
from ._sweep_file import read_sweep
from .axes import short_name, value_label
from .sheet import sheet_names

__all__ = ["GALLERY_MARKER", "INDEX", "THUMBS", "check_gallery_free", "write_gallery"]

INDEX: Final = "index.html"
THUMBS: Final = "thumbs"
GALLERY_MARKER: Final = "friendli-images gallery"
"""The page's ``generator`` meta tag: only a page carrying it is replaced."""
THUMB_MARKER: Final = b"friendli-images thumbnail"
CHUNK: Final = 64
"""Rows whose cards are made at once (on the thumbnail threads)."""
TEXT_LIMIT: Final = 4000
"""The most characters of one value shown (a longer prompt is cut, with an ellipsis)."""

_SHOWN_FIELDS: Final = (
    "id",
    "seed",
    "model",
    "num_inference_steps",
    "guidance_scale",
    "response_format",
    "controlnet_weights",
    "seconds",
)

_STYLE: Final = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f6f6;color:#111}
header{background:#fff;padding:12px 16px;border-bottom:1px solid #ddd}
h1{font-size:18px;margin:0 0 4px}h2{font-size:16px;margin:16px}
#filter{width:min(480px,90%);padding:6px;font:inherit}
.summary,.axes{margin:4px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px;
padding:0 16px 16px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;margin:0;padding:8px;
overflow-wrap:anywhere}
.card img{display:block;max-width:100%;height:auto;margin:0 auto}
.prompt{font-weight:600;margin:6px 0;white-space:pre-wrap}
dl{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:0;font-size:12px}
dt{color:#666}dd{margin:0}
.failure{border-color:#d33;background:#fff0f0}.failure .error{color:#a00;font-weight:600}
.noimage{color:#a00;padding:24px 0;text-align:center}
.grid{padding:0 16px 16px}.grid img{max-width:100%;height:auto;display:block}
[hidden]{display:none!important}
""".strip()

_SCRIPT: Final = """
(function(){
var input=document.getElementById("filter"),shown=document.getElementById("shown");
var cards=Array.prototype.slice.call(document.querySelectorAll(".card"));
function apply(){
var words=input.value.toLowerCase().split(/\\s+/).filter(Boolean),count=0;
cards.forEach(function(card){
var text=card.textContent.toLowerCase();
var keep=words.every(function(word){return text.indexOf(word)>=0;});
card.hidden=!keep;if(keep){count++;}
});
shown.textContent=count+" of "+cards.length+" shown";
}
input.addEventListener("input",apply);apply();
})();
""".strip()


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


_POLICY: Final = (
    "default-src 'none'; img-src 'self' file: data:; "
    f"style-src {_hash(_STYLE)}; script-src {_hash(_SCRIPT)}; "
    "base-uri 'none'; form-action 'none'"
)


@attrs.define
class _Summary:
    images: int = 0
    jobs: int = 0
    failures: int = 0
    seconds: float = 0.0
    models: dict[str, None] = attrs.Factory(dict)
    last_id: str | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.images += 1
        if row["id"] != self.last_id:  # a job's rows are written together
            self.jobs += 1
            self.last_id = row["id"]
            seconds = row.get("seconds")
            if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
                self.seconds += float(seconds)
        model = row.get("model")
        if isinstance(model, str) and len(self.models) < 10:
            self.models.setdefault(model, None)


class _Page:
    """Escapes and redacts every text that goes on the page."""

    def __init__(self, secrets: Secrets) -> None:
        self._secrets = secrets

    def text(self, value: Any) -> str:
        if value is None:
            text = "—"
        elif isinstance(value, float):
            text = format(value, "g")
        elif isinstance(value, list):
            text = ", ".join(value_label(item) for item in value)
        else:
            text = str(value)
        if len(text) > TEXT_LIMIT:
            text = text[: TEXT_LIMIT - 1] + "…"
        return html.escape(redact(text, self._secrets), quote=True)

    @staticmethod
    def url(path: str) -> str:
        """A relative URL for the DIR-relative ``path``, percent-encoded, then escaped."""
        return html.escape(quote(path, safe="/"), quote=True)


def _thumbnail(root: Path, image: Path, size: int) -> str | None:
    """The DIR-relative path of ``image``'s thumbnail, made if missing (or stale and ours)."""
    relative = image.relative_to(root.resolve()).as_posix()
    thumb = root / THUMBS / f"{relative}.jpg"
    try:
        if thumb.is_file() and (
            thumb.stat().st_mtime >= image.stat().st_mtime or not is_owned(thumb, THUMB_MARKER)
        ):
            return thumb.relative_to(root).as_posix()
        if os.path.lexists(thumb) and not is_owned(thumb, THUMB_MARKER):
            return None  # something else has the name: leave it, show no thumbnail
        data = _thumbnail_bytes(image, size)
        if data is None:
            return None
        thumb.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(thumb, [data], owned=THUMB_MARKER)
    except OSError:
        return None
    return thumb.relative_to(root).as_posix()


def _thumbnail_bytes(image: Path, size: int) -> bytes | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as opened:
            opened.draft("RGB", (size, size))
            opened.thumbnail((size, size))
            picture = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=82, comment=THUMB_MARKER)
    return buffer.getvalue()


def _card(page: _Page, root: Path, row: dict[str, Any], thumbs: bool, size: int) -> str:
    image = inside(root, row.get("file_name"))
    if image is None:
        picture = '<p class="noimage">image missing or outside the directory</p>'
    else:
        href = page.url(image.relative_to(root.resolve()).as_posix())
        thumb = _thumbnail(root, image, size) if thumbs else None
        source = page.url(thumb) if thumb is not None else href
        picture = (
            f'<a href="{href}"><img src="{source}" loading="lazy" decoding="async" '
            f'alt="{page.text(row.get("prompt"))}"></a>'
        )
    details = "".join(
        f"<dt>{page.text(short_name(name))}</dt><dd>{page.text(row.get(name))}</dd>"
        for name in _SHOWN_FIELDS
        if row.get(name) is not None
    )
    return (
        f'<figure class="card">{picture}<figcaption>'
        f'<p class="prompt">{page.text(row.get("prompt"))}</p><dl>{details}</dl>'
        "</figcaption></figure>\n"
    )


def _cards(page: _Page, root: Path, thumbs: bool, size: int) -> Iterator[str]:
    """The image cards in file order; thumbnails are made on a few threads (Pillow
    decodes without the GIL), ``CHUNK`` rows at a time: memory stays O(``CHUNK``)."""
    rows = metadata_rows(root)
    workers = min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gallery") as pool:
        while chunk := list(itertools.islice(rows, CHUNK)):
            yield from pool.map(lambda row: _card(page, root, row, thumbs, size), chunk)


def _failure(page: _Page, row: dict[str, Any]) -> str:
    details = "".join(
        f"<dt>{name}</dt><dd>{page.text(row.get(name))}</dd>"
        for name in ("id", "line", "status")
        if row.get(name) is not None
    )
    return (
        f'<div class="card failure"><p class="error">{page.text(row.get("error"))}</p>'
        f'<p class="message">{page.text(row.get("message"))}</p><dl>{details}</dl></div>\n'
    )


def _sweep_section(page: _Page, root: Path) -> Iterator[str]:
    record = read_sweep(root)
    if record is None:
        return
    yield '<section id="sweep"><h2>Sweep</h2><ul class="axes">'
    for axis in record["axes"]:
        values = ", ".join(value_label(value) for value in axis["values"][:200])
        more = " …" if len(axis["values"]) > 200 else ""
        yield (
            f"<li><b>{page.text(short_name(axis['field']))}</b> "
            f"({len(axis['values'])}): {page.text(values)}{more}</li>"
        )
    yield '</ul><div class="grid">'
    count = 1
    for axis in record["axes"][2:]:
        count *= max(1, len(axis["values"]))
    for name in sheet_names(count):
        if inside(root, name) is not None:
            yield f'<a href="{page.url(name)}"><img src="{page.url(name)}" alt="sweep grid"></a>'
    yield "</div></section>\n"


def _page(root: Path, summary: _Summary, page: _Page, thumbs: bool, size: int) -> Iterator[str]:
    title = page.text(root.resolve().name or str(root))
    models = ", ".join(summary.models) or "—"
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta name="generator" content="{GALLERY_MARKER}">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style></head>\n<body>\n"
        f"<header><h1>{title}</h1>\n"
        f'<p class="summary" id="summary">{summary.images} images from {summary.jobs} jobs, '
        f"{summary.failures} failed; {summary.seconds:.1f} s of generation; "
        f"models: {page.text(models)}</p>\n"
        '<input id="filter" type="search" placeholder="filter by prompt, seed, parameter…" '
        'aria-label="filter">\n<span id="shown"></span></header>\n'
    )
    yield from _sweep_section(page, root)
    if summary.failures:
        yield f'<section id="failures"><h2>Failures ({summary.failures})</h2><div class="cards">\n'
        for row in failure_rows(root):
            yield _failure(page, row)
        yield "</div></section>\n"
    yield f'<section id="images"><h2>Images ({summary.images})</h2><div class="cards">\n'
    yield from _cards(page, root, thumbs, size)
    yield f"</div></section>\n<script>{_SCRIPT}</script>\n</body></html>\n"


def _encoded(parts: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    length = 0
    for part in parts:
        buffer.append(part)
        length += len(part)
        if length >= 64 * 1024:
            yield "".join(buffer).encode("utf-8", "surrogateescape")
            buffer.clear()
            length = 0
    yield "".join(buffer).encode("utf-8", "surrogateescape")


def check_gallery_free(directory: str | os.PathLike[str]) -> Path:
    """``directory/index.html``, unless a file this library did not write has that name.

    :raises OutputExistsError: There is such a file (it is never replaced).
    """
    target = Path(directory) / INDEX
    if os.path.lexists(target) and not is_owned(target, GALLERY_MARKER.encode()):
        raise OutputExistsError(str(target))
    return target


def write_gallery(
    directory: str | os.PathLike[str],
    *,
    thumbnail_size: int = 256,
    redact_texts: Iterable[str] = (),
) -> Path:
    """Write ``directory/index.html``: a page of the dataset's images, failures and summary.

    Thumbnails go to ``directory/thumbs/`` (with Pillow installed; without it the cards
    show the images themselves), each made once. Files there that this library did not
    write are never replaced.

    :param directory: A ``run`` or ``sweep`` output (``metadata.jsonl``, ``failures.jsonl``).
    :param thumbnail_size: The longest side of a thumbnail in pixels; default 256.
    :param redact_texts: Secrets (a token) to replace wherever they appear on the page.
    :returns: The page's path.
    :raises InvalidRequestError: ``directory`` is not a dataset directory.
    :raises OutputExistsError: ``index.html`` exists and this library did not write it.
    """
    root = Path(directory)
    if not (root / "metadata.jsonl").is_file() and not (root / "failures.jsonl").is_file():
        raise InvalidRequestError(
            f"{root} is not a run or sweep output (no metadata.jsonl or failures.jsonl)",
            param="directory",
        )
    if (
        isinstance(thumbnail_size, bool)
        or not isinstance(thumbnail_size, int)
        or not 16 <= thumbnail_size <= 2048
    ):
        raise InvalidRequestError(
            "thumbnail_size must be an integer from 16 to 2048", param="thumbnail_size"
        )
    if isinstance(redact_texts, str):
        raise InvalidRequestError("redact_texts must be a list of strings", param="redact_texts")
    target = check_gallery_free(root)
    try:
        import PIL.Image  # noqa: F401

        thumbs = True
    except ImportError:  # pragma: no cover - the pillow extra is missing
        thumbs = False
    summary = _Summary()
    for row in metadata_rows(root):
        summary.add(row)
    summary.failures = sum(1 for _ in failure_rows(root))
    page = _Page(Secrets(*redact_texts))
    return write_atomic(
        target,
        _encoded(_page(root, summary, page, thumbs, thumbnail_size)),
        owned=GALLERY_MARKER.encode(),
    )
