"""``friendli-images gallery DIR``: write DIR/index.html, a page of a run's images.

    friendli-images gallery data/                 # a run or sweep output
    friendli-images run jobs.jsonl --out data/ --gallery     # the same, after the run

Exit status: 0 when the page was written; 1 for a file error (an index.html this
command did not write is never replaced); 2 when DIR is no run or sweep output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import _config
from .._exceptions import InvalidRequestError, OutputExistsError
from ._options import EXIT_OK, PROG, _positive_int, _usage_message, epilog, note

__all__ = [
    "add_gallery_option",
    "add_gallery_parser",
    "gallery_after",
    "gallery_before",
    "gallery_command",
]


def add_gallery_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """Add the ``gallery`` subcommand to ``commands``."""
    gallery = commands.add_parser(
        "gallery",
        parents=[common],
        help="write DIR/index.html: a self-contained page of a run's images",
        description=(
            "Write DIR/index.html for a run or sweep output: thumbnails (made once into\n"
            "DIR/thumbs/), prompt, seed and parameters per image, a text filter, the\n"
            "failures with their errors and the run's summary. No network needed."
        ),
        epilog=epilog(
            exit_status=(
                ("0", "the page was written"),
                ("1", "file error (an index.html this command did not write is never replaced)"),
                ("2", "usage error, or DIR is no run or sweep output"),
            )
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gallery.add_argument("out", type=Path, metavar="DIR", help="the run or sweep output")
    gallery.add_argument(
        "--thumbnail-size",
        type=_positive_int,
        default=256,
        metavar="PX",
        help="the longest side of a thumbnail (default: 256)",
    )
    return gallery


def add_gallery_option(group: argparse._ArgumentGroup) -> None:
    """``--gallery`` of ``run`` and ``sweep``."""
    group.add_argument(
        "--gallery", action="store_true", help="write DIR/index.html at the end (see 'gallery')"
    )


def _write(out: Path, size: int = 256) -> Path:
    from .._views.gallery import write_gallery

    token = _config.env_or(None, _config.TOKEN_ENV)
    return write_gallery(out, thumbnail_size=size, redact_texts=[token] if token else [])


def gallery_before(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Before ``run``/``sweep`` sends anything: ``--gallery`` can write its page."""
    from .._views.gallery import check_gallery_free

    if getattr(args, "gallery", False):
        try:
            check_gallery_free(args.out)
        except OutputExistsError as error:
            parser.error(f"{error.filename} exists and was not written by {PROG}: move it away")


def gallery_after(args: argparse.Namespace) -> None:
    """After ``run``/``sweep``: write the page if ``--gallery`` asked, and say where."""
    if getattr(args, "gallery", False):
        path = _write(args.out)
        note(args, f"gallery: {path}")


def gallery_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    """``friendli-images gallery``: see the module docstring."""
    if not args.out.is_dir():
        parser.error(f"argument DIR: {str(args.out)!r} is not a directory")
    try:
        path = _write(args.out, args.thumbnail_size)
    except InvalidRequestError as error:
        parser.error(_usage_message(error))
    print(path, flush=True)
    return EXIT_OK
