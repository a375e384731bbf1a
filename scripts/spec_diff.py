"""Compare two versions of the tracked spec from this client's point of view.

``compare_specs(old, new, operation_ids)`` walks each tracked operation in both
documents and returns a ``Report``: every change with its JSON pointer (in the new
document, or in the old one for what was removed), a readable location and a class.

Classes (``ChangeClass``):

``breaking``
    Code written against the current client, or the requests it sends, may stop
    working: an operation, path or method removed; a request property or parameter
    added as required, made required or removed; a type changed; an enum value
    removed from a request field; a request constraint tightened (``minimum``,
    ``maxLength``, ``pattern``, ``format``, ...); a response property removed or no
    longer required; a response that may now be ``null`` or take a new shape; a
    response schema replaced by another component; a new response enum value the
    client does not tolerate; a request keyword the rules do not know (``not``,
    ``dependentRequired``, ``unevaluatedProperties``, ...: fail safe, the keyword is
    named); ``readOnly`` added to a request field, ``writeOnly`` to a response field;
    a security requirement dropped (operation or top level) while one is still needed.
``non-breaking``
    New capabilities the current client simply does not use: a new optional request
    property or parameter, a new response property, a new tracked operation, a
    relaxed request constraint, a new request enum value, a response enum value
    removed, changed defaults, deprecations, a request ``integer`` widened to
    ``number``, a request ``format`` widened without changing the generated type
    (``int32`` -> ``int64``), security relaxed to ``[]``, a new ``default`` (error)
    response. A new *response* enum value is
    non-breaking only where the ``open_response_enums`` spec fix turns that enum
    into a plain string (the report says "tolerated: response enums are open in this
    client"); elsewhere the generated enum would reject it, so it is breaking.
``documentation``
    Descriptions, summaries, titles, examples, ``x-`` extensions and tags lists, and
    a component renamed without changing its shape.

Schemas are compared semantically: ``$ref``s are resolved on both sides (with cycle
protection, each pair of schemas is compared once per direction), ``anyOf``/``oneOf``
with a ``null`` member, ``type: [X, "null"]`` and ``nullable: true`` all read as
"nullable X", single-member ``allOf``/``anyOf`` wrappers are looked through, and
multi-member ``allOf`` is merged. Direction matters: *request* schemas are what the
client sends (so accepting more is safe), *response* schemas are what it parses (so
returning more is not).

The modules: ``change_rules.py`` (the rules, pure functions), ``schema_view.py``
(normalisation), ``change_walk.py`` (traversal), ``change_model.py`` (report and JSON),
``change_markdown.py`` (Markdown), ``openapi_common.py`` (pointers, methods, operations).
What importers of the generated package see is compared by ``python_surface.py`` and
the untracked upstream operations are listed by ``related_operations.py``; both are
filled in by ``update_spec.py``, which has the generated trees.
"""

from __future__ import annotations

from collections.abc import Sequence

from change_markdown import render_markdown
from change_model import Change, FixStatus, OperationChanges, Report, Verdict
from change_rules import ChangeClass, Direction
from change_walk import Walker
from openapi_common import Spec
from spec_filter import find_operations
from spec_fixes import FixOutcome, apply_fixes

__all__ = [
    "Change",
    "ChangeClass",
    "Direction",
    "FixStatus",
    "OperationChanges",
    "Report",
    "Verdict",
    "compare_specs",
    "render_markdown",
]


def _fix_pointers(outcomes: Sequence[FixOutcome] | None, name: str) -> frozenset[str] | None:
    if outcomes is None:
        return None
    for outcome in outcomes:
        if outcome.name == name:
            return frozenset(outcome.changes)
    return None


def compare_specs(
    old: Spec | None,
    new: Spec,
    operation_ids: Sequence[str],
    *,
    source: str = "",
) -> Report:
    """Compare the tracked operations of ``old`` (``None``: no previous spec) and ``new``."""
    previous: Spec = old if old is not None else {"openapi": new.get("openapi"), "paths": {}}
    _, new_outcomes = apply_fixes(new)
    old_outcomes = apply_fixes(old)[1] if old is not None else None
    walker = Walker(
        previous,
        new,
        _fix_pointers(new_outcomes, "open_response_enums"),
        _fix_pointers(old_outcomes, "open_response_enums"),
        (
            _fix_pointers(old_outcomes, "base64_strings_in_json") or frozenset(),
            _fix_pointers(new_outcomes, "base64_strings_in_json") or frozenset(),
        ),
    )
    old_found = find_operations(previous, operation_ids)
    new_found = find_operations(new, operation_ids)
    operations = [
        walker.operation(operation_id, old_found.get(operation_id), new_found.get(operation_id))
        for operation_id in operation_ids
    ]
    document = walker.document() if old is not None else []
    before = {outcome.name: outcome.applied for outcome in old_outcomes or []}
    fixes = [
        FixStatus(outcome.name, outcome.changes, before.get(outcome.name))
        for outcome in new_outcomes
    ]
    return Report(operations=operations, document=document, fixes=fixes, source=source)
