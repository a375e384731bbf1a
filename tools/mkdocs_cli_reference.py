"""mkdocs hook: the CLI reference page generated from the argparse parser at build time.

``docs/reference/cli.md`` holds the marker ``<!-- cli-reference -->``; this hook replaces
it with the ``--help`` of ``friendli-images`` and of every command (and sub-command), as
``friendli_images._cli._main._build_parser`` builds them, at a fixed width of 100 columns.
Nothing is copied by hand, so the page cannot drift from the command.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["MARKER", "on_page_markdown", "render"]

MARKER = "<!-- cli-reference -->"


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*words, name))


def render() -> str:
    """The Markdown of every command's help, a section each."""
    from friendli_images._cli._main import _build_parser

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal; the page has one width
    try:
        parser, _ = _build_parser()
        parts = []
        for words, command in _commands(parser, ("friendli-images",)):
            level = "#" * min(len(words) + 1, 4)
            parts.append(f"{level} `{' '.join(words)}`\n\n```text\n{command.format_help()}```\n")
        return "\n".join(parts)
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace the marker of the CLI reference page by the generated help."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
