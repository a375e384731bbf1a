"""The change report as Markdown, for the sync pull request's body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from change_model import Change, Report
from change_rules import ChangeClass, short

__all__ = ["render_markdown"]

_CLIP = 100
_CODE_WIDTH = 200
_MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|~"})


def _clip(text: str, width: int = _CLIP) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _differing(old: str, new: str, width: int = _CODE_WIDTH) -> tuple[str, str]:
    """``old`` and ``new`` cut to the part where they differ, when either is too long.

    A long signature clipped at its start would hide the change (a parameter at its end);
    this keeps the common prefix and suffix short (``…``) and the differing middle whole
    as far as ``width`` allows.
    """
    old, new = " ".join(old.split()), " ".join(new.split())
    if max(len(old), len(new)) <= width:
        return old, new
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    context = 20

    def window(text: str) -> str:
        start = max(0, prefix - context)
        end = min(len(text), max(len(text) - suffix + context, start))
        middle = text[start:end]
        if len(middle) > width - 2:
            middle = middle[: width - 3] + "…"
        return ("…" if start > 0 else "") + middle + ("…" if end < len(text) else "")

    return window(old), window(new)


def _code(text: str) -> str:
    """``text`` as one inline code span (no markdown, no @mentions), whatever it contains."""
    text = _clip(text, _CODE_WIDTH)
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain(text: str) -> str:
    """Upstream text outside code spans: markdown escaped, @mentions defused."""
    return _clip(text, 300).translate(_MARKDOWN_SPECIALS).replace("@", "&#64;")


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    return _code(value if isinstance(value, str) else short(value))


def _change_lines(changes: Sequence[Change]) -> list[str]:
    lines: list[str] = []
    for kind in sorted(ChangeClass, reverse=True):
        chosen = [change for change in changes if change.kind is kind]
        if not chosen:
            continue
        lines += [f"**{kind.label.capitalize()}** ({len(chosen)})", ""]
        for change in chosen:
            scalars = all(
                value is None or isinstance(value, str | int | float | bool)
                for value in (change.old, change.new)
            )
            both_none = change.old is None and change.new is None
            shown = scalars and not both_none and "→" not in change.message
            old_value, new_value = change.old, change.new
            if isinstance(old_value, str) and isinstance(new_value, str):
                old_value, new_value = _differing(old_value, new_value)
            detail = f": {_value(old_value)} → {_value(new_value)}" if shown else ""
            where = f" ({_code(change.pointer)})" if change.pointer != change.location else ""
            lines.append(f"- {_code(change.location)}: {_plain(change.message)}{detail}{where}")
        lines.append("")
    return lines


def _related_lines(report: Report, limit: int = 40) -> list[str]:
    """Untracked upstream operations beside the tracked ones, the new ones first."""
    if not report.related:
        return []
    new = report.new_related()
    lines = ["### Upstream operations beside the tracked ones (not tracked)", ""]
    if new:
        names = ", ".join(_code(operation.operation_id) for operation in new)
        lines += [f"**{len(new)} new since the last sync**: {names}", ""]
    elif any(operation.new is None for operation in report.related):
        lines += ["No record of the previous sync's operations yet: none is marked new.", ""]
    ordered = new + [operation for operation in report.related if not operation.new]
    for operation in ordered[:limit]:
        mark = " **new**" if operation.new else ""
        where = _plain(f"{operation.method.upper()} {operation.path}")
        reasons = _plain("; ".join(operation.reasons))
        lines.append(f"- {_code(operation.operation_id)} ({where}): {reasons}{mark}")
    if len(ordered) > limit:
        lines.append(f"- … and {len(ordered) - limit} more (see the JSON report)")
    lines.append("")
    return lines


def _where(report: Report) -> str:
    """Where the verdict's worst change is, when not in the spec's counts alone."""
    worst = max(
        (change.kind for change in [*report.changes(), *(report.python_api or [])]), default=None
    )
    if worst is None or report.python_api is None:
        return ""
    in_spec = any(change.kind is worst for change in report.changes())
    in_python = any(change.kind is worst for change in report.python_api)
    if in_python and not in_spec:
        return " (in the Python API of the generated package)"
    if in_python:
        return " (in the spec and in the Python API)"
    return ""


def render_markdown(report: Report, *, limit: int = 60_000) -> str:
    """The report as Markdown for a pull-request body, ending with the one-line verdict."""
    verdict = report.verdict.value
    lines = [f"## Upstream OpenAPI changes: {verdict}{_where(report)}", ""]
    for warning in report.warnings:
        lines += ["> [!WARNING]", f"> {_plain(warning)}", ""]
    if report.source:
        lines += [
            f"`openapi.yaml` compared with {_code(report.source)},"
            " filtered to the tracked operations.",
            "",
        ]
    wire, python = report.counts(), report.python_counts()
    if report.python_api is not None:
        lines += ["| class | spec | Python API | total |", "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {label} | {count} | {python[label]} | {count + python[label]} |"
            for label, count in wire.items()
        ]
    else:
        lines += ["| class | changes |", "| --- | ---: |"]
        lines += [f"| {label} | {count} |" for label, count in wire.items()]
    lines.append("")
    unchanged = []
    for operation in report.operations:
        if not operation.changes and operation.status == "unchanged":
            unchanged.append(operation)
            continue
        where = (
            f"{operation.method.upper()} {operation.path}"
            if operation.method and operation.path
            else "not found"
        )
        lines += [f"### {_code(operation.operation_id)} ({_plain(where)}): {operation.status}", ""]
        lines += _change_lines(operation.changes) or ["No change.", ""]
    if unchanged:
        names = ", ".join(_code(operation.operation_id) for operation in unchanged)
        lines += [f"Unchanged ({len(unchanged)}): {names}", ""]
    if report.document:
        lines += ["### Document (info, servers, tags, extensions)", ""]
        lines += _change_lines(report.document)
    lines += _related_lines(report)
    lines += ["### Spec fixes (`scripts/spec_fixes.py`)", ""]
    for fix in report.fixes:
        if fix.applied:
            text = f"still applies ({len(fix.changes)} place(s))"
            if fix.previously_applied is False:
                text += "; newly needed"
        else:
            text = "**no longer needed**: upstream no longer has this defect; remove the fix"
        lines.append(f"- {_code(fix.name)}: {text}")
    lines.append("")
    if report.python_api is not None or report.facade is not None:
        lines += ["### Python API of `friendli_images_api` (importers)", ""]
        if report.facade is not None:
            lines += [f"- Facade: {_plain(report.facade)}", ""]
        if report.python_api:
            counts = ", ".join(f"{n} {label}" for label, n in report.python_counts().items() if n)
            lines += [f"{len(report.python_api)} public name(s) change: {counts}.", ""]
            lines += _change_lines(report.python_api)
        elif report.python_api is not None:
            lines += ["No public name changes.", ""]
    if report.outcome or report.generated is not None:
        lines += ["### Result", ""]
        if report.outcome:
            lines.append(f"- {_plain(report.outcome)}")
        if report.generated is not None:
            lines.append(f"- `generated/`: {len(report.generated)} file(s) change")
            lines += [f"  - {_code(line)}" for line in report.generated[:50]]
            if len(report.generated) > 50:
                lines.append(f"  - … and {len(report.generated) - 50} more")
        lines.append("")
    body = "\n".join(lines)
    if len(body) > limit:
        body = body[: body.rfind("\n", 0, limit)] + "\n\n… (truncated; see the JSON report)\n"
    return f"{body.rstrip()}\n\nVerdict: {verdict}\n"
