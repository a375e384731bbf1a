#!/usr/bin/env python3
"""Regenerate ``generated/`` from ``openapi.yaml`` with openapi-python-client.

Usage::

    python scripts/regenerate.py            # rewrite generated/ (only if it changed)
    python scripts/regenerate.py --check    # exit 1 when generated/ drifted from openapi.yaml

The spec is read, the named fixes of ``spec_fixes.py`` are applied to a copy, and the
pinned generator (``--meta none --fail-on-warning``, config ``generator-config.yaml``)
writes the package into a temporary directory beside the target. The output is then
formatted with the pinned ruff (``--isolated``, so the project's own settings do not
leak in), every module gets a one-line "generated" header, and ``py.typed``, the
spec as JSON and a provenance record are added. Only when all of that succeeds is
the new tree swapped in for the old one: a failing generator or any warning leaves
the target untouched and exits non-zero with the generator's message.

Exit status: 0 success (or no drift), 1 drift found (``--check``), 2 generation failed.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spec_fixes import FixOutcome, apply_fixes

__all__ = [
    "Generated",
    "GenerationError",
    "check",
    "diff_trees",
    "generate",
    "load_spec",
    "main",
    "regenerate",
    "swap_in",
]

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi.yaml"
OUTPUT_DIR = ROOT / "generated"
CONFIG_PATH = Path(__file__).resolve().parent / "generator-config.yaml"
PACKAGE_NAME = "friendli_images_api"
HEADER = (
    "# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).\n"
)
GENERATED_README = """\
# generated/

Everything in this folder is written by `scripts/regenerate.py` from `openapi.yaml`
(openapi-python-client, with the spec fixes of `scripts/spec_fixes.py` applied to a copy
of the spec). Do not edit it by hand: CI runs `python scripts/regenerate.py --check` and
fails when this folder differs from what the spec produces. `provenance.json` records the
spec, config, tool versions and fixes it came from.
"""
_IGNORED = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


class GenerationError(Exception):
    """The spec could not be turned into a package; the message says why."""


@dataclass(frozen=True)
class Generated:
    """A freshly generated tree in a temporary directory, not yet swapped in."""

    tree: Path
    fixes: list[FixOutcome]


def load_spec(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON OpenAPI document; ``GenerationError`` if it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GenerationError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GenerationError(f"{path} is not valid YAML/JSON: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise GenerationError(f"{path} is not an OpenAPI 3.x document")
    return document


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _run(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _generator_failed(result: subprocess.CompletedProcess[str]) -> bool:
    output = result.stdout + result.stderr
    return result.returncode != 0 or "Warning" in output or "Unable to " in output


def generate(spec_path: Path, workdir: Path) -> Generated:
    """Generate the package for ``spec_path`` into ``workdir/generated``, touching nothing else."""
    # Absolute: the generator runs with ``cwd=workdir``, where relative paths name nothing.
    spec_path, workdir = spec_path.resolve(), workdir.resolve()
    spec = load_spec(spec_path)
    spec_bytes = spec_path.read_bytes()
    fixed, outcomes = apply_fixes(spec)
    fixed_path = workdir / "openapi.fixed.json"
    fixed_path.write_text(json.dumps(fixed, indent=1), encoding="utf-8")

    tree = workdir / "generated"
    package = tree / PACKAGE_NAME
    tree.mkdir()
    result = _run(
        [
            sys.executable,
            "-P",  # keep the working directory off sys.path
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(fixed_path),
            "--meta",
            "none",
            "--config",
            str(CONFIG_PATH),
            "--output-path",
            str(package),
            "--fail-on-warning",
        ],
        cwd=workdir,
    )
    if _generator_failed(result):
        message = (result.stdout + result.stderr).strip()
        raise GenerationError(f"openapi-python-client failed on {spec_path}:\n{message}")

    for command in (
        ["check", "--isolated", "--no-cache", "--fix-only", "--extend-select=I", "--quiet", "."],
        ["format", "--isolated", "--no-cache", "--quiet", "."],
    ):
        formatted = _run([sys.executable, "-P", "-m", "ruff", *command], cwd=package)
        if formatted.returncode != 0:
            raise GenerationError(f"ruff {command[0]} failed:\n{formatted.stderr.strip()}")

    for module in sorted(package.rglob("*.py")):
        module.write_text(HEADER + module.read_text(encoding="utf-8"), encoding="utf-8")
    (package / "py.typed").write_text("", encoding="utf-8")
    (package / "openapi.json").write_text(
        json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (tree / "README.md").write_text(GENERATED_README, encoding="utf-8")
    provenance = {
        "spec": "openapi.yaml",
        "spec_sha256": _sha256(spec_bytes),
        "config_sha256": _sha256(CONFIG_PATH.read_bytes()),
        "generator": f"openapi-python-client {importlib.metadata.version('openapi-python-client')}",
        "formatter": f"ruff {importlib.metadata.version('ruff')}",
        "spec_fixes": {
            outcome.name: list(outcome.changes) or "no longer needed" for outcome in outcomes
        },
    }
    (tree / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return Generated(tree=tree, fixes=outcomes)


def _files(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not _IGNORED.intersection(path.relative_to(root).parts)
    }


def diff_trees(expected: Path, actual: Path) -> list[str]:
    """List the files that differ: ``+`` missing, ``-`` extra, ``M`` changed."""
    want, have = _files(expected), _files(actual)
    lines = []
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            lines.append(f"+ {name} (missing)")
        elif name not in want:
            lines.append(f"- {name} (not produced by the spec)")
        elif not filecmp.cmp(want[name], have[name], shallow=False):
            lines.append(f"M {name}")
    return lines


def swap_in(new_tree: Path, target: Path) -> None:
    """Replace ``target`` with ``new_tree`` (same filesystem), restoring ``target`` on failure."""
    backup = target.with_name(f".{target.name}.previous")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        target.rename(backup)
    try:
        new_tree.rename(target)
    except BaseException:
        if backup.exists() and not target.exists():
            backup.rename(target)
        raise
    if backup.exists():
        shutil.rmtree(backup)


def _workdir(target: Path) -> tempfile.TemporaryDirectory[str]:
    # Beside the target, so the final rename stays on one filesystem.
    target.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".regenerate-", dir=target.parent)


def regenerate(
    spec_path: Path = SPEC_PATH, target: Path = OUTPUT_DIR
) -> tuple[bool, list[FixOutcome]]:
    """Rewrite ``target`` from ``spec_path``; returns (whether anything changed, fix outcomes)."""
    with _workdir(target) as workdir:
        generated = generate(spec_path, Path(workdir))
        changed = bool(diff_trees(generated.tree, target))
        if changed:
            swap_in(generated.tree, target)
        return changed, generated.fixes


def check(spec_path: Path = SPEC_PATH, target: Path = OUTPUT_DIR) -> list[str]:
    """Return the drift between ``target`` and what ``spec_path`` produces (empty: none)."""
    with _workdir(target) as workdir:
        generated = generate(spec_path, Path(workdir))
        return diff_trees(generated.tree, target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate generated/ from openapi.yaml.",
        epilog="Exit status: 0 done / no drift, 1 drift found (--check), 2 generation failed.",
    )
    parser.add_argument("--check", action="store_true", help="only report drift; change nothing")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="default: openapi.yaml")
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR, help="default: generated/")
    args = parser.parse_args(argv)

    try:
        if args.check:
            drift = check(args.spec, args.output)
            if drift:
                print(f"{args.output} is out of date with {args.spec}:", file=sys.stderr)
                for line in drift:
                    print(f"  {line}", file=sys.stderr)
                print("Run: python scripts/regenerate.py", file=sys.stderr)
                return 1
            print(f"{args.output} matches {args.spec}")
            return 0
        changed, fixes = regenerate(args.spec, args.output)
    except GenerationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"{args.output} was left untouched.", file=sys.stderr)
        return 2
    for outcome in fixes:
        print(f"spec fix {outcome.describe()}")
    print(f"{args.output} {'regenerated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
