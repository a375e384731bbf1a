"""What an import loads (issue 25: import cost). The figures are in bench/import_time.py;
these tests hold the rules that make them: ``import friendli_images`` loads the package's
table of names and nothing else; importing a client loads httpx and the client's own
modules, not attrs, not the generated package, not the batch engine, the jobs runner,
the endpoint waiter, the downloader, the CLI or the test server. Those load on first use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import friendli_images
import pytest

_LOADED = """\
import json, sys
before = set(sys.modules)
{statement}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded(statement: str) -> set[str]:
    """The modules ``statement`` adds to a fresh interpreter's ``sys.modules``."""
    done = subprocess.run(
        [sys.executable, "-c", _LOADED.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout))


@pytest.fixture(scope="module")
def httpx_modules() -> set[str]:
    return _loaded("import httpx")


ON_FIRST_USE = (
    "attr",
    "attrs",
    "friendli_images_api",
    "friendli_images._generated",
    "friendli_images._batch._engine",
    "friendli_images._batch._throttle",
    "friendli_images._jobs",
    "friendli_images._cli",
    "friendli_images._views",
    "friendli_images._endpoints._wait",
    "friendli_images._endpoints._status",
    "friendli_images._transport._download",
    "friendli_images._transport._backend",
    "friendli_images._recipe.model",
    "friendli_images.testing",
    "friendli_images.ray",
)
"""Modules (and packages, with everything under them) that only load when used."""


def _first_use(modules: set[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if any(name == prefix or name.startswith(prefix + ".") for prefix in ON_FIRST_USE)
    )


def test_import_friendli_images_loads_only_the_table_of_names() -> None:
    """The package itself is a table: no httpx, no client, nothing of its own but its
    version."""
    ours = {name for name in _loaded("import friendli_images") if name.startswith("friendli")}

    assert {"friendli_images", "friendli_images._version"} == ours


@pytest.mark.parametrize(
    "names",
    [
        "FriendliImages",
        "AsyncFriendliImages",
        "generate_image",
        "FriendliContainerImages",
        "RateLimitError, BatchFailure, ImageResult",
        "EndpointError, EndpointWaitTimeoutError",
    ],
)
def test_a_client_loads_httpx_and_its_own_modules(names: str, httpx_modules: set[str]) -> None:
    """Beyond what ``import httpx`` loads, a client's import adds only the package's own
    modules and a few of the standard library's: no attrs, no generated model, nothing of
    first use."""
    loaded = _loaded(f"from friendli_images import {names}")
    added = loaded - httpx_modules

    assert [] == sorted(
        name
        for name in added
        if name.partition(".")[0] not in ("friendli_images", *sys.stdlib_module_names)
    )
    assert [] == sorted(name for name in added if name.startswith("platform"))  # attrs's
    assert [] == _first_use(loaded)


def test_the_first_call_loads_the_generated_operation() -> None:
    """What was left out of the import loads with the first call (here: the operation's
    generated parts, as a first ``generate()`` does)."""
    loaded = _loaded(
        "from friendli_images._operations import DEDICATED_GENERATE\n"
        "assert DEDICATED_GENERATE.body_type.__name__ == 'DedicatedImageGenerationBody'"
    )

    assert {"attrs", "friendli_images._generated", "friendli_images_api.models"} <= loaded


def test_the_table_lists_every_public_name() -> None:
    """Every name of ``__all__`` resolves through the table (and ``dir`` shows it) in a
    fresh interpreter; the classes present themselves as ``friendli_images.X``."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import friendli_images as f\n"
            "missing = [n for n in f.__all__ if n not in dir(f)]\n"
            "values = [getattr(f, n) for n in f.__all__]\n"
            "modules = sorted({v.__module__ for v in values if isinstance(v, type)})\n"
            "print(missing, modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "[] ['friendli_images']" == done.stdout.strip()


def test_an_unknown_name_is_an_attribute_error() -> None:
    import friendli_images

    with pytest.raises(AttributeError, match="no attribute 'FriendliImage'"):
        friendli_images.FriendliImage  # noqa: B018 - the attribute access is the test


def _runtime_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """The modules a source file imports when it runs: every ``import``/``from`` statement
    (at any depth, functions included) except those under ``if TYPE_CHECKING:``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for other in node.orelse:
                visit(other)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import friendli_images_api", [(1, "friendli_images_api")]),
        ("if TYPE_CHECKING:\n    import a\nelse:\n    import b", [(4, "b")]),
        ("def f():\n    from x.y import z", [(2, "x.y")]),
        ("from . import sibling", []),
    ],
)
def test_runtime_imports_table(source: str, expected: list[tuple[int, str]]) -> None:
    assert expected == _runtime_imports(ast.parse(source))


def test_only_the_generated_module_imports_the_generated_package() -> None:
    """The facade reaches generated code at run time only through ``_generated.py``: one
    place that loads with the first call and that the sync's facade check reads."""
    facade = Path(friendli_images.__file__).parent
    offenders = [
        f"{path.relative_to(facade)}:{line} imports {module}"
        for path in sorted(facade.rglob("*.py"))
        if path.name != "_generated.py" or path.parent != facade
        for line, module in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")))
        if module.partition(".")[0] == "friendli_images_api"
    ]

    assert [] == offenders
