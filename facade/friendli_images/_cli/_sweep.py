"""``friendli-images sweep PROMPT --model EP --out DIR``: a grid of variations, resumable.

    friendli-images sweep "a lighthouse" --model EP --out s/ --seed 1..3 --guidance 3,7
    friendli-images sweep --prompts prompts.txt --seed 1..4 --model EP --out s/ --gallery
    friendli-images sweep "a cat" --steps 10,20,30 --seed 7 --model EP --out s/ --check

Each VALUES is A..B (integers, both included) or a comma list. The axes go in the order
given: the first is the grid's columns, the second its rows, any further one makes a
grid per value (DIR/grid-1.png ...). An option given one value is the same for every
image. The sweep runs on the engine of ``run`` (same dataset layout, resumable: rerun
the command to go on) and ends with DIR/grid.png (and DIR/index.html with --gallery).
It says how many images it will generate before it sends anything, and refuses more
than --max-images (default 100) unless that is raised.

Exit status: as for ``run``; 2 also when the sweep is larger than --max-images.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from .. import _config
from .._base_client import DEFAULT_CONCURRENCY
from .._client import FriendliImages
from .._exceptions import InvalidRequestError, OutputExistsError
from ._endpoint import add_wait_options
from ._gallery import add_gallery_option
from ._options import (
    API_ENVIRONMENT,
    EXIT_FAILURE,
    EXIT_OK,
    PROG,
    RUN_EXIT_STATUS,
    _add_api_connection_options,
    _positive_int,
    _usage_message,
    add_quiet_option,
    epilog,
    note,
    plural,
)
from ._recipe_options import add_embed_option
from ._run import run_command

__all__ = ["add_sweep_parser", "sweep_command"]

PROMPTS_LIMIT: Final = 16 * 1024 * 1024
"""The most bytes read from ``--prompts FILE``."""


class _AxisAction(argparse.Action):
    """Append ``(field, values)`` to ``args.axes``, in command-line order, parsed."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from .._views.axes import parse_values

        assert isinstance(values, str)
        field = str(self.const)
        axes: list[tuple[str, list[Any]]] = list(getattr(namespace, "axes", None) or [])
        if any(name == field for name, _ in axes):
            raise argparse.ArgumentError(self, "given twice: list every value in one option")
        try:
            parsed = parse_values(field, values)
        except InvalidRequestError as error:
            raise argparse.ArgumentError(self, str(error)) from None
        axes.append((field, parsed))  # type: ignore[arg-type]
        namespace.axes = axes


class _PromptAction(argparse.Action):
    """``--prompt TEXT`` (repeated) and ``--prompts FILE``: values of the prompt axis."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        assert isinstance(values, str)
        if self.const == "file":
            try:
                with open(values, "rb") as file:
                    data = file.read(PROMPTS_LIMIT + 1)
            except OSError as error:
                raise argparse.ArgumentError(self, f"cannot read {values!r}: {error}") from None
            if len(data) > PROMPTS_LIMIT:
                raise argparse.ArgumentError(self, f"{values!r} is larger than 16 MiB")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise argparse.ArgumentError(self, f"{values!r} is not UTF-8 text") from None
            prompts = [line.strip() for line in text.splitlines() if line.strip()]
            if not prompts:
                raise argparse.ArgumentError(self, f"{values!r} holds no prompt")
        else:
            prompts = [values]
        axes: list[tuple[str, list[Any]]] = list(getattr(namespace, "axes", None) or [])
        for position, (name, existing) in enumerate(axes):
            if name == "prompt":
                axes[position] = (name, [*existing, *prompts])
                break
        else:
            axes.append(("prompt", prompts))
        namespace.axes = axes


def add_sweep_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to ``commands``."""
    sweep = commands.add_parser(
        "sweep",
        parents=[common],
        help="generate a grid of variations (seed, steps, guidance, prompts) and a contact sheet",
        description=(
            "Generate every combination of the axes' values as a dataset under DIR (the\n"
            "layout of 'run', resumable) and draw DIR/grid.png, labeled with the axes."
        ),
        epilog=epilog(
            notes=__doc__.split("\n\n")[2] if __doc__ else "",
            environment=API_ENVIRONMENT,
            exit_status=(
                *RUN_EXIT_STATUS[:2],
                ("2", "usage error, or a sweep larger than --max-images"),
                *RUN_EXIT_STATUS[3:],
            ),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.set_defaults(axes=[])
    sweep.add_argument("prompt", nargs="?", metavar="PROMPT", help="the prompt of every image")
    sweep.add_argument("--out", type=Path, required=True, metavar="DIR", help="the sweep directory")
    sweep.add_argument("--model", required=True, metavar="ENDPOINT", help="the endpoint ID")
    sweep.add_argument(
        "--format", choices=_config.RESPONSE_FORMATS, help="response format (default: url)"
    )
    axes = sweep.add_argument_group("axes (VALUES: A..B or a comma list; first = columns)")
    for option, field, help_text in (
        ("--seed", "seed", "seeds, e.g. 1..4"),
        ("--steps", "num_inference_steps", "inference steps, e.g. 10,20,30"),
        ("--guidance", "guidance_scale", "guidance scales, e.g. 3,5,7.5"),
    ):
        axes.add_argument(
            option,
            action=_AxisAction,
            const=field,
            metavar="VALUES",
            help=help_text,
            dest=f"axis_{field}",
        )
    axes.add_argument(
        "--prompt",
        action=_PromptAction,
        const="text",
        metavar="TEXT",
        dest="axis_prompt",
        help="a prompt of the prompt axis (repeat it)",
    )
    axes.add_argument(
        "--prompts",
        action=_PromptAction,
        const="file",
        metavar="FILE",
        dest="axis_prompts",
        help="the prompt axis from a file, one prompt per line",
    )
    batch = sweep.add_argument_group("sweep")
    batch.add_argument(
        "--max-images",
        type=_positive_int,
        default=100,
        metavar="N",
        help="refuse a sweep of more than N images (default: 100; each one is billed)",
    )
    batch.add_argument("--no-grid", action="store_true", help="do not draw DIR/grid.png")
    add_gallery_option(batch)
    batch.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="C",
        help=f"most requests in flight (default: {DEFAULT_CONCURRENCY})",
    )
    batch.add_argument(
        "--throttle-on-503", action="store_true", help="send fewer requests at once on 503"
    )
    batch.add_argument("--check", action="store_true", help="validate every cell, send nothing")
    batch.add_argument("--retry-failed", action="store_true", help="run failed cells again")
    batch.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    add_embed_option(batch)
    add_quiet_option(batch)
    add_wait_options(sweep.add_argument_group("endpoint"))
    _add_api_connection_options(sweep.add_argument_group("connection"))
    return sweep


def _build(args: argparse.Namespace) -> Any:
    from .._views.sweep import build_sweep

    fixed: dict[str, Any] = {"model": args.model}
    if args.format is not None:
        fixed["response_format"] = args.format
    axes: dict[str, Any] = {}
    for field, values in args.axes:
        if len(values) == 1:  # one value: the same for every image, not an axis
            fixed[field] = values[0]
        else:
            axes[field] = values
    prompt = args.prompt
    if prompt is None and "prompt" in fixed:
        prompt = fixed.pop("prompt")
    return build_sweep(prompt, axes=axes, **fixed)


def sweep_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    """``friendli-images sweep``: see the module docstring."""
    from .._views.sheet import write_sweep_sheets
    from .._views.sweep import check_sweep, check_views_free, write_sweep

    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {str(args.out)!r} exists and is not a directory")
    try:
        sweep = _build(args)
    except InvalidRequestError as error:
        parser.error(_usage_message(error))
    note(args, f"sweep: {sweep.describe()} into {args.out}")
    if len(sweep) > args.max_images:
        parser.error(
            f"the sweep would generate {len(sweep)} images, more than --max-images "
            f"{args.max_images}: pass --max-images {len(sweep)} to confirm"
        )
    with FriendliImages(token="check-only") as client:  # noqa: S106 - never sent
        problems = check_sweep(sweep, client)
    for problem in problems:
        print(f"error: cell {problem['id']}: {problem['message']}", file=sys.stderr)
    if args.check:
        print(
            f"check: {plural(len(sweep) - len(problems), 'valid cell')}, "
            f"{plural(len(problems), 'problem')}",
            file=sys.stderr,
        )
        return EXIT_FAILURE if problems else EXIT_OK
    if problems:
        parser.error(f"{len(problems)} of {len(sweep)} cells invalid; nothing was sent")
    try:
        check_views_free(sweep, args.out, grid=not args.no_grid, gallery=args.gallery)
    except OutputExistsError as error:
        parser.error(f"{error.filename} exists and was not written by {PROG}: move it away")
    args.jobs = write_sweep(sweep, args.out)
    args.steps = args.guidance = args.shard = None
    args.check = False

    def grid(summary: object) -> None:
        if not args.no_grid:
            for path in write_sweep_sheets(args.out):
                note(args, f"grid: {path}")

    return run_command(args, parser, verbose=verbose, after=grid)
