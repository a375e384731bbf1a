"""The public Python surface of a generated package, read with ``ast`` (nothing imported).

Importers of ``friendli_images_api`` (the facade first) see modules, classes, their
attributes and methods, and functions. A spec change that is harmless on the wire can
still remove or change one of these: a component renamed upstream renames its class,
``additionalProperties: false`` drops ``additional_properties`` and ``__getitem__``.
``surface`` lists every public name with a description of its shape (a signature, an
annotation), and ``compare_surfaces`` says what was removed, changed or added, and whether
that breaks code written against the old version: by variance, not by text
(``python_rules.py``: a parameter may accept more, a result may promise less, a changed
default changes what calls send).

``facade_imports`` imports the hand-written facade against a freshly generated package in a
subprocess, so ``update_spec.py`` can say whether the facade survives before anything is
swapped in.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from change_model import Change
from change_rules import BREAKS
from python_rules import PyRuling, Role, added_rule, member_rule, model_roles, removed_rule

__all__ = [
    "FacadeCheck",
    "SurfaceChange",
    "compare_surfaces",
    "facade_imports",
    "python_api_changes",
    "surface",
    "void_class_overrides",
]

Surface = dict[str, str]
"""``{"friendli_images_api.models.UrlImageItem.url": "attribute: str", ...}``; an attribute
with a value says it: ``attribute: int | Unset = UNSET``."""

FACADE_TIMEOUT = 120.0
_SMOKE = """\
import importlib, pkgutil, sys
import friendli_images_api
expected = sys.argv[1]
if not friendli_images_api.__file__.startswith(expected):
    raise SystemExit(f"friendli_images_api came from {friendli_images_api.__file__}")
import friendli_images
for module in pkgutil.walk_packages(friendli_images.__path__, "friendli_images."):
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("friendli_images"):
            raise
        # an optional extra (pytest, tqdm, Pillow) is not installed: not the spec's doing
    except friendli_images.MissingDependencyError:
        pass  # a module of an extra that is not installed (friendli_images.ray): the same
print("facade imports")
"""


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    arguments = ast.unparse(node.args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {node.name}({arguments}){returns}"


def _class_members(node: ast.ClassDef, prefix: str, found: Surface) -> None:
    bases = ", ".join(ast.unparse(base) for base in node.bases)
    found[prefix] = f"class({bases})" if bases else "class"
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            if _public(name):
                shape = f"attribute: {ast.unparse(statement.annotation)}"
                if statement.value is not None:
                    shape += f" = {ast.unparse(statement.value)}"
                found[f"{prefix}.{name}"] = shape
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name) and _public(target.id):
                    found[f"{prefix}.{target.id}"] = f"= {ast.unparse(statement.value)}"
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and _public(
            statement.name
        ):
            found[f"{prefix}.{statement.name}"] = _signature(statement)


def _module_members(tree: ast.Module, module: str, found: Surface) -> None:
    exported: list[str] | None = None
    for statement in tree.body:
        if isinstance(statement, ast.ClassDef) and _public(statement.name):
            _class_members(statement, f"{module}.{statement.name}", found)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and _public(
            statement.name
        ):
            found[f"{module}.{statement.name}"] = _signature(statement)
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name) and target.id == "__all__":
                    value = ast.literal_eval(statement.value)
                    exported = [str(name) for name in value]
    for name in exported or []:
        found.setdefault(f"{module}.{name}", "exported")


def surface(package: Path) -> Surface:
    """Every public name of the package at ``package`` (a folder with ``__init__.py``)."""
    found: Surface = {}
    if not package.is_dir():
        return found
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        if not all(_public(part) for part in parts):
            continue
        module = ".".join(parts)
        found[module] = "module"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        _module_members(tree, module, found)
    return found


@dataclass(frozen=True)
class SurfaceChange:
    """One public name removed, changed or added, with the rules' verdict on it."""

    name: str
    status: str
    """``removed``, ``changed`` or ``added``."""
    old: str | None
    new: str | None
    ruling: PyRuling

    @property
    def breaking(self) -> bool:
        return self.ruling.breaking

    def to_change(self) -> Change:
        """As a report line: the class and the message come from ``python_rules``."""
        kind = self.ruling.impact.change_class
        return Change(kind, self.name, self.name, self.ruling.message, self.old, self.new)


def compare_surfaces(old: Surface, new: Surface) -> list[SurfaceChange]:
    """What importers lose (removed), see change and gain (added), each judged by
    ``python_rules`` (a widened parameter is not breaking, a widened result is); a removed
    parent hides its members, so a renamed class is one line, not one per attribute."""
    roles = model_roles(old, new)
    changes: list[SurfaceChange] = []
    for name in sorted(old.keys() | new.keys()):
        parent = name.rsplit(".", 1)[0]
        role = roles.get(parent, Role.UNKNOWN)
        if name not in new:
            if parent in old and parent not in new:
                continue
            changes.append(SurfaceChange(name, "removed", old[name], None, removed_rule()))
        elif name not in old:
            if parent in new and parent not in old:
                continue
            ruling = added_rule(new[name], role)
            changes.append(SurfaceChange(name, "added", None, new[name], ruling))
        elif old[name] != new[name]:
            ruling = member_rule(old[name], new[name], role)
            changes.append(SurfaceChange(name, "changed", old[name], new[name], ruling))
    return changes


def void_class_overrides(overrides: dict[str, dict[str, str]], package: Path) -> list[str]:
    """The ``class_overrides`` entries of the generator config that no longer produce their
    module: the spec no longer yields the class name they rename."""
    void = []
    for original, override in overrides.items():
        module = override.get("module_name")
        if module and not (package / "models" / f"{module}.py").is_file():
            void.append(f"{original} → {override.get('class_name', module)}")
    return void


@dataclass(frozen=True)
class FacadeCheck:
    """Whether the facade imports against a generated tree, and what went wrong if not."""

    imports: bool
    detail: str


def facade_imports(facade: Path, generated_tree: Path) -> FacadeCheck:
    """Import every facade module with ``generated_tree``'s package, in a subprocess."""
    facade, generated_tree = facade.resolve(), generated_tree.resolve()
    if not (facade / "friendli_images").is_dir():
        return FacadeCheck(False, f"no facade at {facade}")
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(facade), str(generated_tree)]),
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", _SMOKE, str(generated_tree)],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=FACADE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return FacadeCheck(False, f"could not run the import check: {exc}")
    if result.returncode == 0:
        return FacadeCheck(True, "the facade imports with the new generated package")
    lines = (result.stderr or result.stdout).strip().splitlines()
    return FacadeCheck(False, lines[-1] if lines else f"exit status {result.returncode}")


def python_api_changes(
    old_package: Path,
    new_package: Path,
    overrides: dict[str, dict[str, str]],
    facade: FacadeCheck | None,
) -> list[Change]:
    """Every change importers see, as report lines: public names, class overrides the new
    spec voids, and a facade that no longer imports."""
    changes = [
        change.to_change()
        for change in compare_surfaces(surface(old_package), surface(new_package))
    ]
    before = set(void_class_overrides(overrides, old_package)) if old_package.is_dir() else set()
    for entry in void_class_overrides(overrides, new_package):
        if entry not in before:
            message = (
                "class_overrides entry no longer applies (scripts/generator-config.yaml):"
                " the generator no longer makes the class it renames"
            )
            changes.append(Change(BREAKS, "class_overrides", entry, message, entry, None))
    if facade is not None and not facade.imports:
        message = f"the facade no longer imports: {facade.detail}"
        changes.append(Change(BREAKS, "facade/friendli_images", "facade", message))
    return changes
