"""A griffe extension for the docs site: defaults shown as values, not constant names.

The clients' signatures read ``timeout: float = _config.DEFAULT_TIMEOUT``; the reader of
the API reference wants ``timeout: float = 60.0``. griffe reads the package statically, so
this extension replaces, in every function and method signature, a default that names a
module-level constant (a literal, or arithmetic on literals, possibly through other such
constants, or a call such as ``httpx.Timeout(300.0, connect=10.0)``) by that constant's
value. Anything else (a sentinel object, an enum member) is left as written.
``mkdocs.yml`` loads it for mkdocstrings.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterator
from typing import Any

import griffe

__all__ = ["ConstantDefaults", "literal_value"]

_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def literal_value(source: str) -> str | None:
    """``source`` evaluated when it is a literal or arithmetic on numbers, as ``repr``.

    ``"50 * 1024 * 1024"`` gives ``"52428800"``; ``"(1, 2)"`` gives ``"(1, 2)"``; a name or a
    call gives ``None``.
    """

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        return ast.literal_eval(node)

    try:
        return repr(value(ast.parse(source, mode="eval").body))
    except (ValueError, TypeError, SyntaxError, ZeroDivisionError):
        return None


def _functions(obj: griffe.Object) -> Iterator[griffe.Function]:
    for member in obj.members.values():
        if member.is_alias:
            continue
        if isinstance(member, griffe.Function):
            yield member
        elif isinstance(member, (griffe.Class, griffe.Module)):
            yield from _functions(member)


class ConstantDefaults(griffe.Extension):
    """Replace defaults that name a constant by the constant's value."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the defaults once the whole package is loaded (names resolve then).

        :param pkg: The package griffe has just loaded.
        :param kwargs: What else griffe passes (unused).
        """
        for function in _functions(pkg):
            for parameter in function.parameters:
                shown = self._value(function, parameter.default)
                if shown is not None:
                    parameter.default = shown

    def _value(self, where: griffe.Object, default: object, depth: int = 0) -> str | None:
        if not isinstance(default, (griffe.ExprName, griffe.ExprAttribute)) or depth > 5:
            return None
        try:
            target = where.modules_collection.get_member(default.canonical_path)
        except (KeyError, ValueError, griffe.AliasResolutionError):
            return None
        if target.is_alias:
            try:
                target = target.final_target
            except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                return None
        if not isinstance(target, griffe.Attribute) or target.value is None:
            return None
        if isinstance(target.value, (griffe.ExprName, griffe.ExprAttribute)):
            return self._value(target, target.value, depth + 1)
        shown = literal_value(str(target.value))
        if shown is None and isinstance(target.value, griffe.ExprCall):
            return str(target.value)  # httpx.Timeout(300.0, connect=10.0): a value, as written
        return shown
