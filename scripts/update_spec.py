#!/usr/bin/env python3
"""Update openapi.yaml and generated/ from the upstream Friendli OpenAPI document.

Usage::

    python scripts/update_spec.py                     # fetch upstream, update, regenerate
    python scripts/update_spec.py --dry-run           # only report what would change
    python scripts/update_spec.py --source spec.json --report-md report.md

The upstream document (``--source``: a URL, fetched with httpx, or a local YAML/JSON
file) is cut down to the operations listed in ``scripts/tracked-operations.txt`` and
what they reference (``spec_filter.py``), written in canonical form, and compared with
the current ``openapi.yaml`` from this client's point of view (``spec_diff.py``). The
package is regenerated into a temporary directory first; only when that succeeds is
``openapi.yaml`` replaced (atomically) and ``generated/`` swapped in, and if the swap
fails the old ``openapi.yaml`` is put back. Any error leaves both exactly as they were.

The report also lists what importers of the generated package see change (public names,
the generator's class overrides, whether the facade still imports; ``python_surface.py``)
and the untracked upstream operations beside the tracked ones, marking those that are new
since the last sync (``related_operations.py``). Every upstream operationId is recorded in
``scripts/upstream-operations.txt`` for that, even when ``openapi.yaml`` does not change.

Exit status (see ``--help``): 0 no change, 10 documentation only, 11 non-breaking,
12 breaking; 1 error (nothing written); 2 bad command line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml
from python_surface import facade_imports, python_api_changes
from regenerate import CONFIG_PATH, PACKAGE_NAME, GenerationError, diff_trees, generate, swap_in
from related_operations import (
    read_seen,
    related_operations,
    upstream_operation_ids,
    write_seen,
)
from spec_diff import Report, Verdict, compare_specs
from spec_filter import SpecError, dump_spec, parse_document, select_operations

__all__ = [
    "DEFAULT_SOURCE",
    "EXIT_ERROR",
    "EXIT_STATUS",
    "UpdateError",
    "fetch",
    "main",
    "provenance_mismatch",
    "read_tracked",
]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = "https://github.com/friendliai/friendli-openapi/raw/refs/heads/main/openapi.yaml"
TRACKED_FILE = Path("scripts") / "tracked-operations.txt"
SEEN_FILE = Path("scripts") / "upstream-operations.txt"
TIMEOUT = httpx.Timeout(60.0, connect=15.0)
EXIT_ERROR = 1
EXIT_STATUS = {
    Verdict.NO_CHANGE: 0,
    Verdict.DOCUMENTATION: 10,
    Verdict.NON_BREAKING: 11,
    Verdict.BREAKING: 12,
}
EPILOG = """\
exit status:
  0   no change to the tracked API (openapi.yaml may still be rewritten in canonical form)
  10  documentation only
  11  non-breaking changes
  12  BREAKING changes
  1   error, nothing written: the source is unreachable or not valid YAML/JSON, it is not
      OpenAPI 3.x, a tracked operation is missing upstream (the report is still written,
      verdict BREAKING), a $ref dangles, or regeneration failed
  2   bad command line
With --dry-run the status is the same, but openapi.yaml, generated/ and
scripts/upstream-operations.txt are never written.
"""


class UpdateError(Exception):
    """The update cannot go ahead; the message says why."""


def read_tracked(path: Path) -> list[str]:
    """The operationIds in ``path``: one per line, ``#`` starts a comment."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UpdateError(f"cannot read the tracked operations in {path}: {exc}") from None
    tracked = [line.split("#", 1)[0].strip() for line in lines]
    tracked = [operation_id for operation_id in tracked if operation_id]
    if not tracked:
        raise UpdateError(f"{path} lists no operationId")
    return list(dict.fromkeys(tracked))


def fetch(source: str) -> str:
    """The text of ``source``: an http(s) URL (redirects followed) or a local file."""
    if re.match(r"^https?://", source, re.IGNORECASE):
        try:
            response = httpx.get(
                source,
                follow_redirects=True,
                timeout=TIMEOUT,
                headers={"User-Agent": "friendli-images scripts/update_spec.py"},
            )
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            raise UpdateError(f"cannot fetch {source}: HTTP {status}") from None
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
            raise UpdateError(f"cannot fetch {source}: {kind}: {exc or 'no detail'}") from None
        return response.text
    path = Path(source.removeprefix("file://"))
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UpdateError(f"cannot read {path}: {exc}") from None


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file beside it, then ``os.replace``)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _apply(
    spec_path: Path,
    new_text: str,
    old_bytes: bytes | None,
    tree: Path,
    generated_dir: Path,
    *,
    tree_changed: bool,
) -> None:
    """Replace openapi.yaml, then generated/; if the second step fails, undo the first."""
    _replace_file(spec_path, new_text.encode("utf-8"))
    try:
        if tree_changed:
            swap_in(tree, generated_dir)
    except BaseException:
        if old_bytes is None:
            spec_path.unlink(missing_ok=True)
        else:
            _replace_file(spec_path, old_bytes)
        raise


def _describe_tree_diff(lines: list[str]) -> list[str]:
    described = []
    for line in lines:
        mark, _, rest = line.partition(" ")
        name = rest.split(" (", 1)[0]
        verb = {"+": "added", "-": "removed", "M": "changed"}.get(mark, mark)
        described.append(f"{verb} {name}")
    return described


def provenance_mismatch(generated_dir: Path, spec_bytes: bytes | None, spec_path: Path) -> str:
    """Why ``generated_dir`` does not come from ``spec_bytes`` (empty: it does, or unknown).

    ``regenerate.py`` records the sha256 of the spec it generated from in
    ``provenance.json``; a different hash means the two were not made together.
    """
    provenance_path = generated_dir / "provenance.json"
    if spec_bytes is None or not provenance_path.is_file():
        return ""
    try:
        provenance = json.loads(provenance_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"cannot read {provenance_path}: {exc}"
    recorded = provenance.get("spec_sha256") if isinstance(provenance, dict) else None
    actual = hashlib.sha256(spec_bytes).hexdigest()
    if recorded == actual:
        return ""
    return (
        f"{generated_dir} was not generated from {spec_path}: its provenance.json records "
        f"spec sha256 {str(recorded)[:12]}…, the spec's is {actual[:12]}…; the Python API "
        "and generated/ sections compare against that other spec"
    )


def _class_overrides() -> dict[str, dict[str, str]]:
    """The generator config's ``class_overrides``: generated class name -> new names."""
    try:
        config = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UpdateError(f"cannot read {CONFIG_PATH}: {exc}") from None
    overrides = config.get("class_overrides") or {}
    return {str(name): dict(value) for name, value in overrides.items() if isinstance(value, dict)}


class _Run:
    """One update: the paths it works on and the reports it writes."""

    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.source: str = args.source
        self.dry_run: bool = args.dry_run
        # Absolute: the generator runs in a temporary directory, where a relative path
        # (``--generated-dir generated``) would name nothing.
        self.spec_path: Path = (args.spec_path or root / "openapi.yaml").resolve()
        self.generated_dir: Path = (args.generated_dir or root / "generated").resolve()
        self.tracked_path: Path = (args.tracked or root / TRACKED_FILE).resolve()
        self.facade_dir: Path = root / "facade"
        self.seen_path: Path = root / SEEN_FILE
        self.report_md: Path | None = args.report_md
        self.report_json: Path | None = args.report_json

    def write_reports(self, report: Report | None, error: str | None = None) -> None:
        if report is not None:
            markdown, data = report.to_markdown(), report.to_json()
        else:
            markdown = f"## Upstream OpenAPI sync failed\n\n```\n{error}\n```\n"
            data = {"verdict": None, "source": self.source, "error": error}
        for path, text in (
            (self.report_md, markdown),
            (self.report_json, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"),
        ):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")

    def fail(self, message: str, report: Report | None = None) -> int:
        if report is not None:
            report.error = message
            report.outcome = f"not applied: {message}; openapi.yaml and generated/ left unchanged"
        self.write_reports(report, message)
        print(f"error: {message}", file=sys.stderr)
        print(f"{self.spec_path} and {self.generated_dir} were left unchanged.", file=sys.stderr)
        return EXIT_ERROR

    def finish(self, report: Report) -> int:
        self.write_reports(report)
        for label, count in report.counts().items():
            print(f"{label}: {count}")
        if report.python_api is not None:
            counts = report.python_counts()
            print(
                f"python API: {counts['breaking']} breaking, {counts['non-breaking']} non-breaking"
            )
        if report.facade is not None:
            print(f"facade: {report.facade}")
        new = report.new_related()
        if new:
            names = ", ".join(operation.operation_id for operation in new)
            print(f"new upstream operations beside the tracked ones: {names}")
        print(report.outcome)
        print(f"verdict: {report.verdict.value}")
        return EXIT_STATUS[report.verdict]

    def record(self, report: Report, operation_ids: list[str]) -> None:
        """Remember upstream's operationIds, so the next report can tell which are new."""
        try:
            changed = write_seen(self.seen_path, operation_ids)
        except OSError as exc:
            report.outcome += f"; could not record the upstream operations: {exc}"
            print(f"warning: could not write {self.seen_path}: {exc}", file=sys.stderr)
            return
        if changed:
            report.outcome += f"; {len(operation_ids)} upstream operationIds recorded"

    def check_python_api(self, report: Report, tree: Path) -> None:
        """Compare the new package's public names with today's and import the facade
        against it, in the temporary tree, before anything is swapped in."""
        facade = facade_imports(self.facade_dir, tree) if self.facade_dir.is_dir() else None
        if facade is None:
            report.facade = f"not checked: no facade at {self.facade_dir}"
        elif facade.imports:
            report.facade = "imports with the new generated package"
        else:
            report.facade = f"does NOT import with the new generated package: {facade.detail}"
        try:
            report.python_api = python_api_changes(
                self.generated_dir / PACKAGE_NAME,
                tree / PACKAGE_NAME,
                _class_overrides(),
                facade,
            )
        except (OSError, SyntaxError, ValueError) as exc:
            raise UpdateError(f"cannot read the generated package's Python API: {exc}") from None

    def check_provenance(self, report: Report, old_bytes: bytes | None) -> None:
        """Warn when ``generated/`` was not made from the ``openapi.yaml`` it is compared
        with (its ``provenance.json`` names another spec hash): the Python API changes and
        the ``generated/`` file list would then describe that mismatch, not upstream's."""
        warning = provenance_mismatch(self.generated_dir, old_bytes, self.spec_path)
        if warning:
            report.warnings.append(warning)
            print(f"warning: {warning}", file=sys.stderr)

    def execute(self) -> int:
        try:
            tracked = read_tracked(self.tracked_path)
            old_bytes = self.spec_path.read_bytes() if self.spec_path.exists() else None
            old = (
                parse_document(old_bytes.decode("utf-8"), str(self.spec_path))
                if old_bytes is not None
                else None
            )
            upstream = parse_document(fetch(self.source), self.source)
            selection = select_operations(upstream, tracked)
            new_text = dump_spec(selection.spec)
            report = compare_specs(old, selection.spec, tracked, source=self.source)
            report.related = related_operations(upstream, tracked, read_seen(self.seen_path))
        except (UpdateError, SpecError, UnicodeDecodeError, OSError) as exc:
            return self.fail(str(exc))
        seen = upstream_operation_ids(upstream)
        self.check_provenance(report, old_bytes)

        if selection.missing:
            missing = ", ".join(selection.missing)
            return self.fail(f"tracked operation(s) missing upstream: {missing}", report)
        if old_bytes == new_text.encode("utf-8"):
            report.outcome = "openapi.yaml already matches upstream; nothing to write"
            if not self.dry_run:
                self.record(report, seen)
            return self.finish(report)

        self.generated_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(
            prefix=".regenerate-", dir=self.generated_dir.parent
        ) as work:
            candidate = Path(work) / "openapi.yaml"
            candidate.write_text(new_text, encoding="utf-8")
            try:
                fresh = generate(candidate, Path(work))
            except GenerationError as exc:
                return self.fail(f"regeneration failed: {exc}", report)
            tree_diff = diff_trees(fresh.tree, self.generated_dir)
            report.generated = _describe_tree_diff(tree_diff)
            try:
                self.check_python_api(report, fresh.tree)
            except UpdateError as exc:
                return self.fail(str(exc), report)
            if self.dry_run:
                report.outcome = "dry run: openapi.yaml and generated/ were not written"
                return self.finish(report)
            try:
                _apply(
                    self.spec_path,
                    new_text,
                    old_bytes,
                    fresh.tree,
                    self.generated_dir,
                    tree_changed=bool(tree_diff),
                )
            except OSError as exc:
                return self.fail(f"could not write the update: {exc}", report)
        report.outcome = "applied: openapi.yaml and generated/ updated"
        self.record(report, seen)
        return self.finish(report)


def main(argv: Sequence[str] | None = None, *, root: Path | None = None) -> int:
    """Run the command line; ``root`` is the project folder the default paths live in."""
    parser = argparse.ArgumentParser(
        description="Update openapi.yaml and generated/ from the upstream OpenAPI document.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--source",
        default=DEFAULT_SOURCE,
        metavar="URL_OR_PATH",
        help="upstream document, YAML or JSON (default: %(default)s)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="report only; write neither openapi.yaml nor generated/",
    )
    parser.add_argument("--report-md", type=Path, metavar="PATH", help="write the Markdown report")
    parser.add_argument("--report-json", type=Path, metavar="PATH", help="write the JSON report")
    parser.add_argument("--spec-path", type=Path, metavar="PATH", help="default: openapi.yaml")
    parser.add_argument("--generated-dir", type=Path, metavar="PATH", help="default: generated/")
    parser.add_argument(
        "--tracked",
        type=Path,
        metavar="PATH",
        help=f"operationIds to keep (default: {TRACKED_FILE})",
    )
    args = parser.parse_args(argv)
    return _Run(args, root or ROOT).execute()


if __name__ == "__main__":
    sys.exit(main())
