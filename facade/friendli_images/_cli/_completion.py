"""``friendli-images completion bash|zsh|tcsh``: a shell completion script, generated
from the command's own parser by shtab (the ``cli`` extra), so it never lags behind the
options.

    friendli-images completion bash > ~/.local/share/bash-completion/completions/friendli-images
    friendli-images completion zsh > "${fpath[1]}/_friendli-images"
"""

from __future__ import annotations

import argparse
import sys
from typing import Final

from ._options import EXIT_FAILURE, EXIT_OK, epilog

__all__ = ["SHELLS", "add_completion_parser", "completion_command"]

SHELLS: Final = ("bash", "zsh", "tcsh")
"""The shells shtab writes scripts for."""


def add_completion_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``completion`` subcommand to ``commands``."""
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh)",
        description=(
            "Print the completion script of SHELL on stdout, made from this command's\n"
            "parser (needs shtab: pip install 'friendli-images[cli]'). For example:\n"
            "  friendli-images completion bash > "
            "~/.local/share/bash-completion/completions/friendli-images"
        ),
        epilog=epilog(
            exit_status=(
                ("0", "the script was printed"),
                ("1", "shtab is not installed"),
                ("2", "usage error"),
            )
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or tcsh")
    return completion


def completion_command(args: argparse.Namespace, root: argparse.ArgumentParser) -> int:
    """Print the completion script of ``args.shell`` for the parser ``root``."""
    try:
        import shtab
    except ImportError:
        print(
            "error: shell completion needs shtab: pip install 'friendli-images[cli]'",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    sys.stdout.write(shtab.complete(root, shell=args.shell))
    sys.stdout.flush()
    return EXIT_OK
