"""The public API documents itself: what ``help()``, editors and the docs site show.

For every name in the ``__all__`` of ``friendli_images``, ``friendli_images.testing`` and
``friendli_images.pytest_plugin``:

- it has a docstring (for a constant or a type alias: the string literal right after its
  assignment, which mkdocstrings renders and which ``help()`` cannot hold);
- every parameter of every public function and method, ``__init__`` included, has a
  ``:param name:`` field (Sphinx style, as ``mkdocs.yml`` renders), in the function's
  docstring or, for ``__init__``, in the class docstring;
- its signature names no private module (``'_config.ResponseFormat | None'`` in
  ``help()``), neither as written nor once resolved by ``typing.get_type_hints``;

and ``pyright --verifytypes friendli_images --ignoreexternal`` scores 100%.
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import itertools
import json
import os
import re
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import friendli_images
import friendli_images.pytest_plugin
import friendli_images.testing
import pytest

PACKAGES: tuple[ModuleType, ...] = (
    friendli_images,
    friendli_images.testing,
    friendli_images.pytest_plugin,  # the fixture users call by name
)

# Known gaps, each a public name still to document. Empty: every public name is
# documented. An entry that passes fails its test, so the sets can only shrink.
PENDING_DOCSTRINGS: frozenset[str] = frozenset()
PENDING_PARAMETERS: frozenset[str] = frozenset()

_PRIVATE_WRITTEN = re.compile(r"(?<![\w.])_[A-Za-z]\w*\.")
"""A private module as written in a string annotation: ``_config.ResponseFormat``."""

_PRIVATE_RESOLVED = re.compile(r"\bfriendli_images(?:_api)?(?:\.\w+)*\._[A-Za-z]\w*")
"""A private module in a resolved annotation: ``friendli_images._download.Downloader``."""


def _is_data(obj: object) -> bool:
    """A constant or a type alias: documented by the string after its assignment."""
    if typing.get_origin(obj) is not None:  # Literal[...], a union of classes
        return True
    return not (inspect.isclass(obj) or inspect.isroutine(obj))


def _public_names() -> Iterator[tuple[str, object]]:
    for package in PACKAGES:
        for name in package.__all__:
            yield f"{package.__name__}.{name}", getattr(package, name)


def _own(obj: object) -> bool:
    return getattr(obj, "__module__", "").startswith("friendli_images")


def _routines() -> Iterator[tuple[str, Callable[..., object], type | None]]:
    """Every public function and method: (qualified public name, function, its class).

    A public class's methods include those it inherits from the package's own base
    classes (private ones too: ``_BaseClient`` is part of both clients' API), each once,
    under the first public name it is reached by. Of the ``__init__`` methods only the
    first one in the MRO counts: it is the class's signature (``help()``, the docs).
    """
    seen: set[int] = set()
    for qualname, obj in _public_names():
        if _is_data(obj):
            continue
        if not inspect.isclass(obj):
            if id(obj) not in seen:
                seen.add(id(obj))
                yield qualname, typing.cast("Callable[..., object]", obj), None
            continue
        init_found = False
        for owner in obj.__mro__:
            if not _own(owner):
                continue
            for member_name, member in vars(owner).items():
                if member_name == "__init__":
                    if init_found:
                        continue
                    init_found = True
                elif member_name.startswith("_"):
                    continue
                function = member.fget if isinstance(member, property) else member
                function = getattr(function, "__func__", function)  # class/static methods
                if not inspect.isfunction(function) or id(function) in seen:
                    continue
                seen.add(id(function))
                yield f"{qualname}.{member_name}", function, owner


ROUTINES = {name: (function, owner) for name, function, owner in _routines()}


def _param_documented(name: str, docstring: str) -> bool:
    """A Sphinx field ``:param name:`` (optionally with a type: ``:param int name:``)."""
    return re.search(rf":param(?:\s+[^:\n]+)?\s+{re.escape(name)}:", docstring) is not None


def _problems_of(function: Callable[..., object], owner: type | None) -> list[str]:
    problems = []
    docstring = inspect.getdoc(function) or ""
    is_init = function.__name__ == "__init__"
    if is_init and owner is not None:
        docstring = f"{inspect.getdoc(owner) or ''}\n{docstring}"
    elif not docstring:
        problems.append("no docstring")
    signature = inspect.signature(function)
    for parameter in signature.parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        if not _param_documented(parameter.name, docstring):
            problems.append(f"no ':param {parameter.name}:'")
    written = _PRIVATE_WRITTEN.findall(str(signature))
    if written:
        problems.append(f"private modules in the signature as written: {sorted(set(written))}")
    try:
        hints = typing.get_type_hints(function)
    except NameError:
        # A name imported only for type checkers (``PIL.Image`` of the optional extra):
        # the annotations cannot resolve at runtime, so only the written form is checked.
        pass
    else:
        resolved = {
            found
            for hint in hints.values()
            for found in _PRIVATE_RESOLVED.findall(inspect.formatannotation(hint))
        }
        if resolved:
            problems.append(f"private modules in the resolved annotations: {sorted(resolved)}")
    return problems


def _assigns(statement: ast.stmt, name: str) -> bool:
    """Whether a top-level statement assigns ``name`` (``x = ...`` or ``x: T = ...``)."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    else:
        return False
    return any(isinstance(target, ast.Name) and target.id == name for target in targets)


def _attribute_docstring(module: ModuleType, name: str) -> str | None:
    """The string literal that follows the top-level assignment of ``name``, if any."""
    body = ast.parse(inspect.getsource(module)).body
    for statement, following in itertools.pairwise([*body, ast.Pass()]):
        if _assigns(statement, name):
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                value = following.value.value
                return value if isinstance(value, str) else None
            return None
    return None


def _defining_modules(name: str) -> list[ModuleType]:
    """The package's loaded modules that assign ``name`` at top level (not import it)."""
    found = []
    for module_name, module in sorted(sys.modules.items()):
        if module_name != "friendli_images" and not module_name.startswith("friendli_images."):
            continue
        body = ast.parse(inspect.getsource(module)).body
        if any(_assigns(statement, name) for statement in body):
            found.append(module)
    return found


def _check(qualname: str, problems: list[str], pending: frozenset[str]) -> None:
    if qualname in pending:
        assert problems, f"{qualname} is documented now: remove it from its pending set"
    else:
        assert not problems, f"{qualname}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("qualname", "obj"),
    [pytest.param(qualname, obj, id=qualname) for qualname, obj in _public_names()],
)
def test_public_name_has_a_docstring(qualname: str, obj: object) -> None:
    name = qualname.rpartition(".")[2]
    if _is_data(obj):
        modules = _defining_modules(name)
        assert len(modules) == 1, f"{qualname} is assigned in {modules}"
        docstring = _attribute_docstring(modules[0], name)
    else:
        docstring = inspect.getdoc(obj)
    _check(
        qualname, [] if docstring and docstring.strip() else ["no docstring"], PENDING_DOCSTRINGS
    )


@pytest.mark.parametrize("qualname", [pytest.param(qualname, id=qualname) for qualname in ROUTINES])
def test_routine_documents_its_parameters(qualname: str) -> None:
    function, owner = ROUTINES[qualname]
    _check(qualname, _problems_of(function, owner), PENDING_PARAMETERS)


def test_pending_names_exist() -> None:
    """Every pending entry names something the two checks above look at."""
    known_names = {qualname for qualname, _ in _public_names()}
    assert PENDING_DOCSTRINGS <= known_names, sorted(PENDING_DOCSTRINGS - known_names)
    assert PENDING_PARAMETERS <= set(ROUTINES), sorted(PENDING_PARAMETERS - set(ROUTINES))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("(x: '_config.ResponseFormat | None') -> None", ["_config."], id="written"),
        pytest.param("(x: 'ResponseFormat | None') -> None", [], id="public"),
        pytest.param("(x: 'httpx._types.URL')", [], id="dotted-private-elsewhere"),
        pytest.param("(x: '_Call')", [], id="private-class-not-module"),
    ],
)
def test_private_written_pattern(source: str, expected: list[str]) -> None:
    assert expected == _PRIVATE_WRITTEN.findall(source)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "friendli_images._download.Downloader | None",
            ["friendli_images._download"],
            id="facade",
        ),
        pytest.param(
            "friendli_images.testing._faults.Delay",
            ["friendli_images.testing._faults"],
            id="testing",
        ),
        pytest.param("friendli_images.ImageResult", [], id="public"),
        pytest.param("httpx._config.Timeout", [], id="other-package"),
    ],
)
def test_private_resolved_pattern(source: str, expected: list[str]) -> None:
    assert expected == _PRIVATE_RESOLVED.findall(source)


@pytest.mark.parametrize(
    ("docstring", "documented"),
    [
        pytest.param(":param seed: the seed.", True, id="plain"),
        pytest.param(":param int seed: the seed.", True, id="typed"),
        pytest.param("``seed`` is the seed.", False, id="prose"),
        pytest.param(":param seeds: the seeds.", False, id="other-name"),
    ],
)
def test_param_field_pattern(docstring: str, documented: bool) -> None:
    assert documented == _param_documented("seed", docstring)


def _import_roots() -> list[str]:
    """Where the two packages are imported from (a source tree or site-packages)."""
    import friendli_images_api

    return sorted(
        {
            str(Path(package.__file__ or "").resolve().parent.parent)
            for package in (friendli_images, friendli_images_api)
        }
    )


def _distribution_installed(name: str) -> bool:
    # By distribution, not find_spec: tests/ray (a package of this suite) shadows the name.
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


RAY_INSTALLED = _distribution_installed("ray")


def _counts(symbol: str, severity: str, *, ray_installed: bool = RAY_INSTALLED) -> bool:
    """Whether a pyright diagnostic is the facade's to fix.

    Every error counts. A warning (a missing docstring) counts for the facade's own
    symbols only: the generated package's docstrings come from the spec and its
    templates, and it is never edited by hand (``EndpointStatus.raw`` exposes its
    ``DedicatedEndpointStatus``, whose ``to_dict`` has none). Without the ``ray`` extra,
    ``friendli_images.ray`` is left out: its types come from Ray (the ray CI step, with
    the extra, checks it).
    """
    if not ray_installed and symbol.startswith("friendli_images.ray."):
        return False
    return severity == "error" or not symbol.startswith("friendli_images_api.")


@pytest.mark.parametrize(
    ("symbol", "severity", "counts"),
    [
        pytest.param("friendli_images.X.y", "error", True, id="facade-error"),
        pytest.param("friendli_images.X.y", "warning", True, id="facade-docstring"),
        pytest.param("friendli_images_api.types.Unset", "error", True, id="generated-error"),
        pytest.param("friendli_images_api.types.Unset", "warning", False, id="generated-docstring"),
        pytest.param("friendli_images.ray.X", "error", True, id="ray-with-the-extra"),
    ],
)
def test_which_pyright_diagnostics_count(symbol: str, severity: str, counts: bool) -> None:
    assert counts == _counts(symbol, severity, ray_installed=True)


def test_ray_is_left_out_without_its_extra() -> None:
    assert not _counts("friendli_images.ray.X", "error", ray_installed=False)
    assert _counts("friendli_images.X", "error", ray_installed=False)


def test_pyright_verifytypes_is_complete(tmp_path: Path) -> None:
    """Every symbol of the public interface has a known, declared type and a docstring.

    pyright does not run setuptools' editable-install import hook, so the package roots
    go on ``PYTHONPATH`` (the same directories Python imports them from). It runs from an
    empty directory so no project configuration changes what it reports.
    """
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(_import_roots())}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--verifytypes",
            "friendli_images",
            "--ignoreexternal",
            "--outputjson",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright did not report (exit {completed.returncode}): {completed.stderr}")
    completeness = report["typeCompleteness"]
    incomplete = [
        f"{symbol['name']}: {diagnostic['message']}"
        for symbol in completeness["symbols"]
        for diagnostic in symbol["diagnostics"]
        if _counts(symbol["name"], diagnostic["severity"])
    ]
    assert completeness["pyTypedPath"], "pyright did not find the package's py.typed"
    if RAY_INSTALLED:  # else the score counts friendli_images.ray's unknown Ray types
        assert 1.0 == completeness["completenessScore"], "\n".join(incomplete)
    assert [] == incomplete
