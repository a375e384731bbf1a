"""A griffe extension for the docs site: the ``__init__`` of ``attrs`` classes.

griffe reads the package without importing it, so it does not see the ``__init__`` that
``@attrs.frozen`` / ``@attrs.define`` write at run time (it does for dataclasses). Their
``:param name:`` fields (which ``tests/test_api_docs.py`` requires) then name parameters
of no signature, and ``mkdocs build --strict`` fails. This extension gives each such
class the signature attrs gives it: one parameter per annotated field, in order, with
its default, keyword-only where attrs makes it so, without ``init=False`` fields and
``ClassVar`` attributes, a private field's leading underscore dropped. ``mkdocs.yml``
loads it for mkdocstrings.
"""

from __future__ import annotations

from typing import Any

import griffe

__all__ = ["ATTRS_DECORATORS", "AttrsInit", "attrs_parameters"]

ATTRS_DECORATORS = frozenset(
    {
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attr.mutable",
    }
)
"""The class decorators that write an ``__init__`` from the annotated fields."""

_FIELD_FUNCTIONS = frozenset({"attrs.field", "attr.ib", "attr.attrib", "attr.field"})


def _call_arguments(expression: object) -> dict[str, Any]:
    """The keyword arguments of a call expression (``attrs.field(default=0)``), as written."""
    if not isinstance(expression, griffe.ExprCall):
        return {}
    return {
        argument.name: argument.value
        for argument in expression.arguments
        if isinstance(argument, griffe.ExprKeyword)
    }


def _canonical(expression: object) -> str | None:
    """What a decorator or a call names (``attrs.frozen`` for ``@attrs.frozen(...)``)."""
    if isinstance(expression, griffe.ExprCall):
        expression = expression.function
    path = getattr(expression, "canonical_path", None)
    return path if isinstance(path, str) else None


def _attrs_decorator(cls: griffe.Class) -> object | None:
    for decorator in cls.decorators:
        if _canonical(decorator.value) in ATTRS_DECORATORS:
            return decorator.value
    return None


def attrs_parameters(cls: griffe.Class) -> list[griffe.Parameter] | None:
    """The ``__init__`` parameters attrs writes for ``cls`` (``self`` first), or ``None``
    when ``cls`` is not an attrs class or asks for no ``__init__`` (``init=False``)."""
    decorator = _attrs_decorator(cls)
    if decorator is None:
        return None
    options = _call_arguments(decorator)
    if str(options.get("init", "True")) == "False":
        return None
    all_keyword_only = str(options.get("kw_only", "False")) == "True"
    positional: list[griffe.Parameter] = []
    keyword_only: list[griffe.Parameter] = []
    for member in cls.members.values():
        if not isinstance(member, griffe.Attribute) or member.annotation is None:
            continue
        if "class-attribute" in member.labels and "instance-attribute" not in member.labels:
            continue  # a ClassVar, not a field
        default: str | griffe.Expr | None = member.value
        field: dict[str, Any] = {}
        if _canonical(member.value) in _FIELD_FUNCTIONS:  # x: T = attrs.field(...)
            field = _call_arguments(member.value)
            if str(field.get("init", "True")) == "False":
                continue
            default = field.get("default")
            if "factory" in field:
                default = griffe.ExprCall(function=field["factory"], arguments=[])
        keyword = all_keyword_only or str(field.get("kw_only", "False")) == "True"
        parameter = griffe.Parameter(
            str(field.get("alias", "")).strip("'\"") or member.name.lstrip("_"),
            annotation=member.annotation,
            kind=griffe.ParameterKind.keyword_only
            if keyword
            else griffe.ParameterKind.positional_or_keyword,
            default=default,
            docstring=member.docstring,
        )
        (keyword_only if keyword else positional).append(parameter)
    self_parameter = griffe.Parameter(
        "self", annotation=None, kind=griffe.ParameterKind.positional_or_keyword
    )
    return [self_parameter, *positional, *keyword_only]


class AttrsInit(griffe.Extension):
    """Give every attrs class without a written ``__init__`` the one attrs generates."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        """Add the ``__init__`` once the class's fields are known.

        :param cls: The class griffe has just read.
        :param kwargs: The hook's other arguments (unused).
        """
        if "__init__" in cls.members:
            return
        parameters = attrs_parameters(cls)
        if parameters is None:
            return
        init = griffe.Function(
            "__init__",
            lineno=cls.lineno,
            endlineno=cls.lineno,
            parent=cls,
            parameters=griffe.Parameters(*parameters),
            returns="None",
        )
        cls.set_member("__init__", init)
