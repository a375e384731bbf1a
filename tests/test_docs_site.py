"""The docs site: the Configuration table lists exactly the environment variables the code
reads, and the built HTML has an anchor for every public name and every client method.

The site build takes ~15 s; it runs once per session (module fixture) in the normal suite.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import friendli_images
import pytest

ROOT = Path(__file__).resolve().parent.parent
FACADE = ROOT / "facade" / "friendli_images"
CLIENTS = (
    "FriendliImages",
    "AsyncFriendliImages",
    "FriendliContainerImages",
    "AsyncFriendliContainerImages",
)


def _constants() -> dict[str, str]:
    """Every module-level ``NAME = "string"`` of the facade, by name."""
    found: dict[str, str] = {}
    for path in FACADE.rglob("*.py"):
        for node in ast.parse(path.read_text("utf-8")).body:
            target = value = None
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                target, value = node.target.id, node.value
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                target, value = node.targets[0].id, node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found[str(target)] = value.value
    return found


def _variable(node: ast.expr, constants: dict[str, str]) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    assert name in constants, f"an environment variable named by {ast.unparse(node)}"
    return constants[name]


def variables_read() -> set[str]:
    """The environment variables the facade reads: os.environ[...] / .get, os.getenv, env_or."""
    constants = _constants()
    read: set[str] = set()
    for path in FACADE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        # env_or itself reads the variable its caller names (its calls are counted below).
        inside_env_or = {
            id(node)
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef) and function.name == "env_or"
            for node in ast.walk(function)
        }
        for node in ast.walk(tree):
            if id(node) in inside_env_or:
                continue
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                read.add(_variable(node.slice, constants))
            elif isinstance(node, ast.Call):
                function = ast.unparse(node.func)
                if function in ("os.environ.get", "os.getenv", "os.environ.pop"):
                    read.add(_variable(node.args[0], constants))
                elif function in ("env_or", "_config.env_or"):
                    read.add(_variable(node.args[1], constants))
    return read


def test_configuration_lists_every_variable_read() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", page, re.MULTILINE))
    assert {"FRIENDLI_TOKEN", "FRIENDLI_CONTAINER_TOKEN"} <= variables_read()
    assert listed == variables_read()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


def test_reference_has_an_anchor_for_every_public_name(site: Path) -> None:
    html = (site / "reference" / "friendli_images" / "index.html").read_text("utf-8")
    anchors = set(re.findall(r'id="(friendli_images\.[\w.]+)"', html))
    wanted = {f"friendli_images.{name}" for name in friendli_images.__all__}
    for client in CLIENTS:
        methods = _public_methods(getattr(friendli_images, client))
        assert {"generate", "edit", "generate_many"} <= methods
        wanted |= {f"friendli_images.{client}.{method}" for method in methods}
    assert "friendli_images.FriendliImages.wait_until_ready" in wanted
    assert sorted(wanted - anchors) == []
    assert "DEFAULT_TIMEOUT" not in html  # defaults are shown as values
    clients = html.split('id="friendli_images.generate_image"')[0]
    assert 'Bases: <code><span title="friendli_images._' not in clients


def test_cli_reference_is_generated_from_the_parser(site: Path) -> None:
    html = (site / "reference" / "cli" / "index.html").read_text("utf-8")
    for command in ("generate", "edit", "run", "sweep", "gallery", "endpoint", "mock-server"):
        assert f"friendli-images {command}</code>" in html, command
    assert "cli-reference" not in html
