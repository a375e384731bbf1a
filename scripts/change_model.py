"""The change report's data: changes, operations, spec fixes, verdict and JSON."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from change_rules import BREAKS, DOC, SAFE, ChangeClass
from related_operations import RelatedOperation

__all__ = ["Change", "FixStatus", "OperationChanges", "Report", "Verdict"]


class Verdict(enum.Enum):
    """The one-line summary of a report: its worst change."""

    NO_CHANGE = "no change"
    DOCUMENTATION = "documentation only"
    NON_BREAKING = "non-breaking"
    BREAKING = "BREAKING"


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new spec."""

    kind: ChangeClass
    pointer: str
    """JSON pointer in the new document, or in the old one for what was removed."""
    location: str
    """Where a client meets it: ``request body.control_images[].image``."""
    message: str
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.kind.label,
            "pointer": self.pointer,
            "location": self.location,
            "message": self.message,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class OperationChanges:
    """The changes of one tracked operation."""

    operation_id: str
    method: str | None
    path: str | None
    status: str
    """``changed``, ``unchanged``, ``added`` (new upstream) or ``removed`` (gone upstream)."""
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class FixStatus:
    """What a spec fix does to the new spec, and what it did to the old one."""

    name: str
    changes: tuple[str, ...]
    previously_applied: bool | None = None

    @property
    def applied(self) -> bool:
        return bool(self.changes)


@dataclass
class Report:
    """Everything the change report says; ``update_spec.py`` fills in the outcome."""

    operations: list[OperationChanges]
    document: list[Change]
    fixes: list[FixStatus]
    source: str = ""
    outcome: str = ""
    """What became of the update: applied, dry run, or not applied and why."""
    generated: list[str] | None = None
    """How generated/ changes (``added``/``removed``/``changed`` lines); None if not generated."""
    error: str | None = None
    python_api: list[Change] | None = None
    """What importers of the generated package see change (modules, classes, attributes,
    signatures, the generator's class overrides, the facade's imports); None if the
    package was not generated. Kept apart from the wire changes, but in the verdict."""
    facade: str | None = None
    """Whether the facade imports against the new generated package; None if not checked."""
    related: list[RelatedOperation] | None = None
    """Upstream operations sharing a tag or path prefix with a tracked one, not tracked."""
    warnings: list[str] = field(default_factory=list)
    """What makes the report less trustworthy (``generated/`` not made from ``openapi.yaml``)."""

    def new_related(self) -> list[RelatedOperation]:
        """The related upstream operations that were not upstream at the previous sync."""
        return [operation for operation in self.related or [] if operation.new]

    def changes(self) -> Iterator[Change]:
        """The wire changes: operations and the document."""
        for operation in self.operations:
            yield from operation.changes
        yield from self.document

    def counts(self) -> dict[str, int]:
        """Wire changes per class."""
        return _counts(self.changes())

    def python_counts(self) -> dict[str, int]:
        """Python API changes per class (importers of the generated package)."""
        return _counts(self.python_api or [])

    @property
    def verdict(self) -> Verdict:
        every = [*self.changes(), *(self.python_api or [])]
        worst = max((change.kind for change in every), default=None)
        if worst is None:
            return Verdict.NO_CHANGE
        return {
            DOC: Verdict.DOCUMENTATION,
            SAFE: Verdict.NON_BREAKING,
            BREAKS: Verdict.BREAKING,
        }[worst]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "source": self.source,
            "outcome": self.outcome,
            "error": self.error,
            "warnings": list(self.warnings),
            "counts": self.counts(),
            "operations": [
                {
                    "operationId": operation.operation_id,
                    "method": operation.method,
                    "path": operation.path,
                    "status": operation.status,
                    "changes": [change.to_json() for change in operation.changes],
                }
                for operation in self.operations
            ],
            "document": [change.to_json() for change in self.document],
            "spec_fixes": [
                {
                    "name": fix.name,
                    "status": "applied" if fix.applied else "no longer needed",
                    "pointers": list(fix.changes),
                    "previously": None
                    if fix.previously_applied is None
                    else ("applied" if fix.previously_applied else "no longer needed"),
                }
                for fix in self.fixes
            ],
            "generated": self.generated,
            "python_api": None
            if self.python_api is None
            else {
                "counts": self.python_counts(),
                "changes": [change.to_json() for change in self.python_api],
            },
            "facade": self.facade,
            "related_upstream_operations": None
            if self.related is None
            else [operation.to_json() for operation in self.related],
        }

    def to_markdown(self, limit: int = 60_000) -> str:
        from change_markdown import render_markdown

        return render_markdown(self, limit=limit)


def _counts(changes: Iterable[Change]) -> dict[str, int]:
    counts = {kind.label: 0 for kind in sorted(ChangeClass, reverse=True)}
    for change in changes:
        counts[change.kind.label] += 1
    return counts
