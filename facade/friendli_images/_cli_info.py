"""``friendli-images info FILE...``, and the recipe options of ``generate``/``edit``/``run``.

    friendli-images info image.png [more.jpg ...] [--json]
    friendli-images generate PROMPT --model ENDPOINT --embed-params
    friendli-images generate --from image.png [--seed 7 ...]   (the same request again)
    friendli-images generate PROMPT -n 8 --out DIR --skip-existing   (resume after Ctrl-C)

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

from ._exceptions import FriendliImagesError, InvalidRequestError
from ._files import IMAGE_EXTENSIONS
from ._recipe import Recipe, read_recipe, recipe_kwargs
from ._recipe.read import is_complete_image

__all__ = [
    "add_embed_option",
    "add_info_parser",
    "add_recipe_options",
    "apply_recipe",
    "info_command",
    "skipped_indices",
]

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


def add_embed_option(group: argparse._ArgumentGroup) -> None:
    """``--embed-params`` (generate, edit, run)."""
    group.add_argument(
        "--embed-params",
        action="store_true",
        help=(
            "write the recipe (prompt, model, seed, parameters) into each image file; off by "
            "default, since a prompt can be private and files get shared"
        ),
    )


def add_recipe_options(group: argparse._ArgumentGroup, *, skip_existing: bool) -> None:
    """``--from FILE`` (generate, edit) and ``--skip-existing`` (generate)."""
    group.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="FILE",
        help="take prompt, model, seed and parameters from FILE's recipe; options override",
    )
    if skip_existing:
        group.add_argument(
            "--skip-existing",
            action="store_true",
            help=(
                "keep complete images already in --out and generate only the missing ones "
                "(a truncated one is generated again and replaced)"
            ),
        )


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


_OVERRIDABLE: Final = (
    "model",
    "num_inference_steps",
    "guidance_scale",
    "seed",
    "response_format",
    "controlnet_weights",
)


def apply_recipe(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--from FILE``: fill in what the command line left unset from FILE's recipe.

    An edit recipe's input images (and a recipe's control images) are matched, by
    SHA-256 and size, against the IMAGE arguments (``--control-image`` files): a usage
    error names the one that is missing.
    """
    try:
        recipe = read_recipe(args.from_file)
    except FriendliImagesError as error:
        parser.error(f"argument --from: {error}")
    if recipe is None:
        parser.error(f"argument --from: {str(args.from_file)!r} carries no recipe")
    edit = args.command == "edit"
    if (recipe.operation == "edit") != edit:
        right = "edit --from FILE IMAGE..." if recipe.operation == "edit" else "generate --from"
        article = "an" if recipe.operation == "edit" else "a"
        parser.error(f"argument --from: the recipe is {article} {recipe.operation}; use: {right}")
    given = list(getattr(args, "images", None) or []) + list(
        getattr(args, "control_images", None) or []
    )
    local = [item for item in given if not str(item).lower().startswith(("http:", "https:"))]
    try:
        kwargs = recipe_kwargs(recipe, inputs=local)
    except InvalidRequestError as error:
        if error.param == "model" and args.model is not None:
            kwargs = recipe_kwargs(_with_model(recipe, args.model), inputs=local)
        else:
            option = {"image": "IMAGE", "control_images": "--control-image"}.get(
                error.param, "--from"
            )
            parser.error(f"argument {option}: {error}")
    if args.prompt is None:
        args.prompt = kwargs["prompt"]
    for name in _OVERRIDABLE:
        if getattr(args, name, None) is None and name in kwargs:
            setattr(args, name, kwargs[name])
    if "control_images" in kwargs and not getattr(args, "control_images", None):
        args.control_images = [str(item) for item in kwargs["control_images"]]
    if edit:
        images = kwargs["image"] if isinstance(kwargs["image"], list) else [kwargs["image"]]
        args.images = [str(item) for item in images]


def _with_model(recipe: Recipe, model: str) -> Recipe:
    import attrs

    return attrs.evolve(recipe, model=model)


def skipped_indices(out: Path, names: list[str]) -> tuple[set[int], dict[int, Path]]:
    """``--skip-existing``: the requests whose image is in ``out`` complete, and the
    truncated images to regenerate (by request index)."""
    complete: set[int] = set()
    truncated: dict[int, Path] = {}
    for index, name in enumerate(names):
        for extension in IMAGE_EXTENSIONS:
            candidate = out / f"{name}{extension}"
            if not candidate.is_file():
                continue
            if is_complete_image(candidate):
                complete.add(index)
                truncated.pop(index, None)
                break
            truncated[index] = candidate
    return complete, truncated
