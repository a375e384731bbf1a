"""``friendli-images info FILE...``: the recipe each image carries.

    friendli-images info image.png [more.jpg ...] [--json]

``info`` prints the recipe each image carries (ours, or the A1111 ``parameters`` text);
``--json`` prints one JSON object per file and line. Exit status 0 when every file has a
recipe, 1 when one has none or cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

from .._exceptions import FriendliImagesError
from .._recipe import Recipe, read_recipe

__all__ = ["add_info_parser", "info_command", "info_document"]

_HUMAN_FIELDS: Final = (
    ("prompt", "prompt"),
    ("model", "model"),
    ("seed", "seed"),
    ("num_inference_steps", "steps"),
    ("guidance_scale", "guidance"),
    ("response_format", "format"),
    ("controlnet_weights", "controlnet weights"),
    ("operation", "operation"),
    ("api", "api"),
    ("team_id", "team"),
    ("library_version", "made by friendli-images"),
    ("created", "created"),
)


def add_info_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    info = commands.add_parser(
        "info",
        parents=[common],
        help="print the recipe (prompt, model, seed, ...) an image carries",
        description=(
            "Print the recipe each FILE carries: written by --embed-params (PNG text, JPEG\n"
            "segments or a NAME.json sidecar) or the A1111 'parameters' text other tools write."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    info.add_argument("files", nargs="+", type=Path, metavar="FILE", help="an image file")
    info.add_argument("--json", action="store_true", help="print one JSON object per file and line")
    return info


def _human(path: Path, recipe: Recipe) -> str:
    lines = [f"{path}:"]
    for name, label in _HUMAN_FIELDS:
        value = getattr(recipe, name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = ", ".join(str(item) for item in value)
        text = str(value).replace("\n", "\n    ")
        lines.append(f"  {label}: {text}")
    for what, inputs in (("control image", recipe.control_images), ("input", recipe.images)):
        for item in inputs:
            shown = item.url if item.url is not None else f"sha256 {item.sha256}, {item.size} B"
            lines.append(f"  {what}: {shown}")
    for key, value in recipe.extra.items():
        lines.append(f"  {key}: {value}")
    lines.append(f"  (read from: {recipe.source})")
    return "\n".join(lines)


def info_document(path: Path, recipe: Recipe | None) -> dict[str, Any]:
    """The ``info --json`` object of one file: ``path``, then the recipe's fields."""
    if recipe is None:
        return {"path": str(path), "recipe": None}
    return {"path": str(path), **recipe.to_json(), "source": recipe.source}


def info_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    """``friendli-images info``: see the module docstring."""
    status = 0
    for index, path in enumerate(args.files):
        try:
            recipe = read_recipe(path)
        except FriendliImagesError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
            continue
        if recipe is None:
            status = 1
            print(f"{path}: no recipe", file=sys.stderr)
        if args.json:
            print(json.dumps(info_document(path, recipe), ensure_ascii=False), flush=True)
        elif recipe is not None:
            print(("\n" if index else "") + _human(path, recipe), flush=True)
    return status
