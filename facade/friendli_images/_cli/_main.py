"""The ``friendli-images`` command: generate or edit images from a shell, or run a local
mock API.

    friendli-images generate PROMPT --model ENDPOINT [options]
    friendli-images edit IMAGE [IMAGE ...] PROMPT --model ENDPOINT [options]
    friendli-images generate|edit ... --container URL [--model ADAPTER] [options]
    friendli-images run JOBS.jsonl --out DIR [--model ENDPOINT] [options]   (see _cli_run)
    friendli-images info FILE [FILE ...] [--json]   (see _info; also --from, --embed-params)
    friendli-images endpoint status|wake|sleep ID [options]   (see _cli_endpoint)
    friendli-images mock-server [--port P] [--token T] [--latency S] [--image-size WxH]
    friendli-images completion bash|zsh|tcsh   (see _cli_completion)
    friendli-images --version

``--container URL`` sends to a self-hosted Friendli Container instead: no token needed
(``FRIENDLI_CONTAINER_TOKEN`` or ``--token-file`` if a proxy asks for one), no team.

Exit status of ``generate`` and ``edit``: 0 when every image was saved; 1 for an API,
network or file error (in a batch: any failed request; the other images are still saved
and listed);
2 for a usage error (bad option, an argument the API would reject, no token); 130 after
Ctrl-C and 143 after SIGTERM. Files are written atomically, so an interrupted run leaves
complete images or none, never half a file. ``--out`` is checked (writable, names free)
before anything is generated. With stdout closed (``>&-``) the listing is dropped and the
exit status is that of the images; with stderr closed, errors are dropped, never printed
among the paths.

The API token comes from ``FRIENDLI_TOKEN`` or ``--token-file``, never from an option
value: command lines end up in shell history and in every user's ``ps`` output.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from .. import _config
from .._exceptions import (
    FriendliImagesError,
    InvalidRequestError,
)
from .._version import __version__
from ._endpoint import (
    add_endpoint_command,
    endpoint_command,
)

if TYPE_CHECKING:
    pass

from ._generate import _add_edit, _add_generate, _generate_command
from ._mock_server import _add_mock_server, _mock_server_command
from ._options import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    PROG,
    Parser,
    _add_api_connection_options,
    _describe,
    _resolve_api_connection,
)

__all__ = ["main"]


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,  # given before or after the command, never reset by it
        help="log retries and details (DEBUG), and show tracebacks of errors",
    )
    parser = Parser(
        prog=PROG,
        parents=[common],
        description=(
            "Generate and edit images with Friendli Dedicated Endpoints or a Friendli Container."
        ),
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Each command's parser is a Parser too (argparse makes them of the parent's class).
    commands = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND", required=True),
    )
    from ._completion import add_completion_parser
    from ._info import add_info_parser  # the info command lives in its own module
    from ._run import add_run_parser  # the run command lives in its own module

    return parser, {
        "completion": add_completion_parser(commands),
        "generate": _add_generate(commands, common),
        "edit": _add_edit(commands, common),
        "endpoint": add_endpoint_command(commands, common, _add_api_connection_options),
        "mock-server": _add_mock_server(commands),
        "run": add_run_parser(commands, common),
        "info": add_info_parser(commands, common),
        **_views_parsers(commands, common),
    }


def _endpoint_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    token, base_url, team = _resolve_api_connection(args, parser)
    try:
        return endpoint_command(
            args,
            token=token,
            base_url=base_url,
            team=team,
            describe=lambda error: _describe(error, token),
        )
    except InvalidRequestError as error:
        parser.error(str(error))


# -- entry point -------------------------------------------------------------------------


def _configure_logging(verbose: bool) -> None:
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package_logger = logging.getLogger("friendli_images")
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.DEBUG)


def _run_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    from ._run import run_command  # the run command lives in its own module

    return run_command(args, parser, verbose=verbose)


def _info_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    from ._info import info_command  # the info command lives in its own module

    return info_command(args, parser, verbose=verbose)


def _completion_command(args: argparse.Namespace, root: argparse.ArgumentParser) -> int:
    from ._completion import completion_command  # here: only this command needs shtab

    return completion_command(args, root)


def _views_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> dict[str, argparse.ArgumentParser]:
    from ._gallery import add_gallery_parser  # sweep and gallery live in their own modules
    from ._sweep import add_sweep_parser

    return {
        "sweep": add_sweep_parser(commands, common),
        "gallery": add_gallery_parser(commands, common),
    }


def _views_commands() -> dict[str, Callable[..., int]]:
    from ._gallery import gallery_command
    from ._sweep import sweep_command

    return {"sweep": sweep_command, "gallery": gallery_command}


def _ensure_standard_streams() -> None:
    """Closed standard streams (``>&-``, ``2>&-``) become ``/dev/null``.

    Else ``print`` to a ``None`` stream fails, or, worse, writes errors to stdout, and the
    next file opened takes descriptor 1 or 2. Paths that are not UTF-8 print as the bytes
    they are.
    """
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the process
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the console script exits with it)."""
    _ensure_standard_streams()
    parser, subparsers = _build_parser()
    commands: dict[str, Callable[..., int]] = {
        "completion": lambda args, command, *, verbose: _completion_command(args, parser),
        "generate": _generate_command,
        "edit": _generate_command,  # the same flow; _Job picks the operation
        "endpoint": _endpoint_command,
        "mock-server": _mock_server_command,
        "run": _run_command,
        "info": _info_command,
        **_views_commands(),
    }
    verbose = False
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # said by the command's parser, so the hint names its --help
            subparsers[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
        verbose = bool(getattr(args, "verbose", False))
        _configure_logging(verbose)
        return commands[args.command](args, subparsers[args.command], verbose=verbose)
    except KeyboardInterrupt:  # Ctrl-C outside a run (e.g. while --token-file - waits)
        return EXIT_INTERRUPTED
    except (FriendliImagesError, OSError) as error:
        if verbose:
            traceback.print_exception(error, file=sys.stderr)
        print(
            f"error: {_describe(error, _config.env_or(None, _config.TOKEN_ENV) or '')}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
