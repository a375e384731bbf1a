"""Every code block of README.md and docs/**/*.md runs, as written, against ``mock-server``.

The blocks are found and run with Sybil (https://sybil.readthedocs.io): it parses Markdown
fenced code blocks, runs the Python ones in one namespace per page (so a page's blocks run
in reading order and later ones see the earlier ones' imports and files), has a skip
directive that is an HTML comment (invisible on GitHub and on the docs site), and lets a
project give its own evaluator per language, which the shell blocks need. pytest-examples
runs Python blocks only, and mktestdocs has no skip directive nor shared namespace.

Each page runs in a new empty working directory, with a plain ``friendli-images
mock-server`` (one per test session, on a free port) in the environment as its ``export``
lines say: ``FRIENDLI_BASE_URL``, ``FRIENDLI_TOKEN``, ``FRIENDLI_CONTAINER_BASE_URL``.

- ``python``: run in the page's namespace; ``>>>`` blocks are doctests.
- ``console``: each ``$ command`` (with its ``\\`` continuation lines) runs in bash. It
  must exit 0 and print on stdout only lines the block shows after it (``...`` in a shown
  line stands for any text); when the block
  shows ``error: ...`` after it, it must fail and print that line on stderr. ``export
  NAME=VALUE`` sets a variable for the block's next commands. ``friendli-images
  mock-server`` with nothing but ``--port`` stands for the session's server; with other
  options it starts a server of its own (on a free port) for the rest of the block.
- ``bash``/``sh``: the block runs as one bash script (``set -euo pipefail``).
- Addresses: ``127.0.0.1:8765`` (the port the docs run ``mock-server`` on) and
  ``127.0.0.1:8000`` (a Friendli Container's usual port) are the mock server's address.
- Other languages (``json``, ``yaml``, ``text``, ...) are data, not run; a language this
  test does not know fails, so that a new kind of block is not silently skipped.

A block that cannot run here (it needs a real token, Docker, the network, or rewrites the
repository) is marked in the Markdown just above it, with the reason::

    <!-- skip: next "needs a real Friendli token" -->

Use it sparingly: prefer an example that runs against the mock server.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import SkipTest

import pytest
from sybil import Example, Sybil
from sybil.evaluators.skip import Skipper
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent.parent


def _pages() -> list[Path]:
    """README.md, docs/**/*.md, and the files the docs include (``--8<-- "FILE[:part]"``)."""
    pages = {ROOT / "README.md", *(ROOT / "docs").rglob("*.md")}
    for page in list(pages):
        for included in re.findall(r'^--8<-- "([^":]+)', page.read_text("utf-8"), re.MULTILINE):
            pages.add(ROOT / included)
    return sorted(pages)


PAGES = _pages()
TIMEOUT = 120

RUN = frozenset({"python", "console", "bash", "sh"})
DATA = frozenset({"", "json", "jsonl", "yaml", "toml", "text", "ini", "diff", "csv", "markdown"})
ADDRESSES = ("127.0.0.1:8765", "127.0.0.1:8000")
"""The addresses a block may use for the mock server (see the module docstring)."""


# -- the mock server -------------------------------------------------------------------------


@contextlib.contextmanager
def mock_server(*options: str) -> Iterator[dict[str, str]]:
    """``friendli-images mock-server OPTIONS --port 0``; yields the variables it exports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRIENDLI_")}
    with subprocess.Popen(
        [sys.executable, "-m", "friendli_images", "mock-server", *options, "--port", "0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            exported = {}
            for _ in range(3):
                line = process.stdout.readline()
                assert line.startswith("export "), line or process.stderr.read()  # type: ignore[union-attr]
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exported[name] = shlex.split(value)[0]
            yield exported
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=TIMEOUT)
    assert "Traceback" not in stderr, stderr


def substitute(text: str, env: dict[str, str]) -> str:
    """``text`` with the placeholder addresses replaced by the server's in ``env``."""
    address = env["FRIENDLI_BASE_URL"].removeprefix("http://")
    for placeholder in ADDRESSES:
        text = text.replace(placeholder, address)
    return text


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    with mock_server() as exported:
        yield exported


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose ``friendli-images`` is this interpreter's ``-m friendli_images``."""
    directory = tmp_path_factory.mktemp("bin")
    script = directory / "friendli-images"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m friendli_images "$@"\n')
    script.chmod(0o755)
    return directory


# -- the evaluators --------------------------------------------------------------------------


class Page:
    """What the blocks of one page run with: a working directory and an environment."""

    def __init__(self, cwd: Path, env: dict[str, str], shim: Path) -> None:
        self.cwd = cwd
        self.env = {**env, "PATH": f"{shim}{os.pathsep}{env.get('PATH', '')}"}

    def bash(self, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )


def page_of(example: Example) -> Page:
    page: Page = example.namespace["__page__"]
    return page


def without_port(options: list[str]) -> list[str]:
    """``mock-server`` options less ``--port P`` (the tests pick a free port)."""
    if "--port" in options:
        at = options.index("--port")
        return options[:at] + options[at + 2 :]
    return [o for o in options if not o.startswith("--port=")]


def commands(block: str) -> list[tuple[str, list[str]]]:
    """The ``$ `` commands of a console block, joined over ``\\`` lines, with their output."""
    steps: list[tuple[str, list[str]]] = []
    lines = iter(block.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines).strip()
            steps.append((command, []))
        elif steps:
            steps[-1][1].append(line)
    return steps


# "error: ..." or argparse's "friendli-images sweep: error: ...": the command fails
ERROR_LINE = re.compile(r"^(friendli-images( [a-z-]+)?: )?error: ")


def evaluate_console(example: Example) -> None:
    page = page_of(example)
    with contextlib.ExitStack() as stack:
        env = dict(page.env)
        for command, shown in commands(str(example.parsed)):
            words = shlex.split(command)
            if words[:2] == ["friendli-images", "mock-server"]:
                options = without_port(words[2:])
                if options:  # a server of its own, for the rest of the block
                    env.update(stack.enter_context(mock_server(*options)))
                continue
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                env[name] = value
                continue
            result = page.bash(substitute(command, env), env)
            where = f"{example.path}:{example.line}: $ {command}"
            errors = [line for line in shown if ERROR_LINE.match(line)]
            if errors:
                assert result.returncode != 0, f"{where}: expected to fail\n{result.stdout}"
                assert errors[0] in result.stderr, f"{where}\n{result.stderr}"
                continue
            assert 0 == result.returncode, f"{where}: exit {result.returncode}\n{result.stderr}"
            printed = [line for line in result.stdout.splitlines() if line.strip()]
            unshown = [line for line in printed if not any(shows(s, line) for s in shown)]
            assert not unshown, f"{where}: printed lines the block does not show: {unshown}"
            assert "Traceback" not in result.stderr, f"{where}\n{result.stderr}"


def shows(shown: str, printed: str) -> bool:
    """Whether a line of a block stands for a printed line: the same text, where each
    ``...`` of the block stands for any text (a time, the rest of a long JSON object)."""
    if "..." not in shown:
        return shown == printed
    pattern = ".*".join(re.escape(part) for part in shown.split("..."))
    return re.fullmatch(pattern, printed) is not None


def evaluate_script(example: Example) -> None:
    page = page_of(example)
    script = "set -euo pipefail\n" + substitute(str(example.parsed), page.env)
    result = page.bash(script, page.env)
    where = f"{example.path}:{example.line}"
    assert 0 == result.returncode, f"{where}: exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"{where}\n{result.stderr}"


class _Refuse:
    """A block in a language this test does not know: fail rather than skip it silently."""

    def __call__(self, example: Example) -> str | None:
        language = example.region.lexemes.get("arguments", "")
        return f"{example.path}:{example.line}: a ```{language} block: run it or call it data"


def _unknown_blocks(document: Any) -> Iterator[Any]:
    for region in FencedCodeBlockLexer(language=r"[^\n]*")(document):
        language = region.lexemes["language"].strip()
        if language not in RUN | DATA:
            region.evaluator = _Refuse()
            region.parsed = region.lexemes["source"]
            yield region


SYBIL = Sybil(
    parsers=[
        PythonCodeBlockParser(),
        CodeBlockParser("console", evaluate_console),
        CodeBlockParser("bash", evaluate_script),
        CodeBlockParser("sh", evaluate_script),
        _unknown_blocks,
        SkipParser(),
    ],
    path=str(ROOT),
)


# -- the test --------------------------------------------------------------------------------


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.skipif(sys.platform == "win32", reason="the shell blocks need a POSIX shell")
@pytest.mark.parametrize("path", PAGES, ids=_id)
def test_code_blocks_run(
    path: Path,
    server: dict[str, str],
    shim: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each block of the page runs as written, in order; a marked block is skipped."""
    for name in list(os.environ):
        if name.startswith("FRIENDLI_"):
            monkeypatch.delenv(name)
    for name, value in server.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    document = SYBIL.parse(path)
    document.namespace["__page__"] = Page(tmp_path, dict(os.environ), shim)
    ran = skipped = 0
    for example in document:
        try:
            example.evaluate()
        except SkipTest:
            skipped += 1
        else:
            # A skip comment is an example too; only a code block that ran counts.
            ran += not isinstance(example.region.evaluator, Skipper)
    if not ran and not skipped:
        pytest.skip("no code block")
    assert ran or not skipped or _all_skipped_is_fine(path), f"{_id(path)}: every block skipped"


ALL_SKIPPED = {
    "CONTRIBUTING.md": "installs the project and runs the whole suite",
    "docs/install.md": "installs packages",
    "docs/guide/ray.md": "runs on a local Ray cluster in tests/ray/test_guide.py",
    "docs/tracking.md": "maintainer commands that sync the spec",
}
"""Pages whose every block is skipped, and why (any other such page fails the test)."""


def _all_skipped_is_fine(path: Path) -> bool:
    """Pages of maintainer commands (regenerating, syncing the spec, benchmarks), and the
    pages of ``ALL_SKIPPED``."""
    return "development" in path.parts or _id(path) in ALL_SKIPPED


def test_pages_allowed_to_skip_everything_exist() -> None:
    """ALL_SKIPPED names real pages (a renamed page must not keep its pass)."""
    assert set(ALL_SKIPPED) <= {_id(path) for path in PAGES}


def test_every_page_is_found() -> None:
    """The pages include README.md, the guides and the files the docs include (a glob that
    matched nothing would pass)."""
    names = {_id(path) for path in PAGES}
    assert {"README.md", "docs/index.md", "docs/guide/library.md", "CONTRIBUTING.md"} <= names


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        pytest.param("$ a\nout\n", [("a", ["out"])], id="one"),
        pytest.param("$ a \\\n   --b\n$ c\n", [("a  --b", []), ("c", [])], id="continued"),
        pytest.param("text\n$ a\n", [("a", [])], id="text-before"),
    ],
)
def test_commands(block: str, expected: list[tuple[str, list[str]]]) -> None:
    assert expected == commands(block)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(["--port", "8765"], [], id="port"),
        pytest.param(["--port", "1", "--wake-seconds", "2"], ["--wake-seconds", "2"], id="more"),
        pytest.param(["--port=1", "--latency", "1"], ["--latency", "1"], id="equals"),
    ],
)
def test_without_port(options: list[str], expected: list[str]) -> None:
    assert expected == without_port(options)


@pytest.mark.parametrize(
    ("shown", "printed", "expected"),
    [
        pytest.param("image.png", "image.png", True, id="same"),
        pytest.param("image.png", "image.jpg", False, id="other"),
        pytest.param("  created: 2026-...Z", "  created: 2026-12-07T11:56:47Z", True, id="time"),
        pytest.param('{"a": 1, ..., "c": 3}', '{"a": 1, "b": 2, "c": 3}', True, id="json"),
        pytest.param('{"a": 1, ...}', '{"b": 1}', False, id="prefix-differs"),
        pytest.param("a.b", "axb", False, id="dot-is-literal"),
    ],
)
def test_shows(shown: str, printed: str, expected: bool) -> None:
    assert expected == shows(shown, printed)
