"""The recipe options of ``generate``/``edit``/``run``: ``--embed-params``, ``--from``,
``--skip-existing``.

    friendli-images generate PROMPT --model ENDPOINT --embed-params
    friendli-images generate --from image.png [--seed 7 ...]   (the same request again)
    friendli-images generate PROMPT -n 8 --out DIR --skip-existing   (resume after Ctrl-C)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from .._exceptions import FriendliImagesError, InvalidRequestError
from .._files import IMAGE_EXTENSIONS
from .._recipe import Recipe, read_recipe, recipe_kwargs
from .._recipe.read import is_complete_image

__all__ = ["add_embed_option", "add_recipe_options", "apply_recipe", "skipped_indices"]


def add_embed_option(group: argparse._ArgumentGroup) -> None:
    """``--embed-params`` (generate, edit, run, sweep)."""
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
