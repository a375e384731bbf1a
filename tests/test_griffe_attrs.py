"""The docs site's griffe extension gives attrs classes the ``__init__`` attrs writes."""

from __future__ import annotations

import griffe
import pytest
from griffe_attrs import AttrsInit


def _signature(source: str) -> list[tuple[str, str, str | None]] | None:
    """(name, kind, default) of each parameter of ``Example.__init__`` as griffe reads it."""
    extensions = griffe.load_extensions(AttrsInit)
    with griffe.temporary_visited_package(
        "package", {"__init__.py": source}, extensions=extensions
    ) as package:
        example = package["Example"]
        if "__init__" not in example.members:
            return None
        return [
            (
                parameter.name,
                parameter.kind.value,
                None if parameter.default is None else str(parameter.default),
            )
            for parameter in example["__init__"].parameters
        ]


SELF = ("self", "positional or keyword", None)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "import attrs\n@attrs.frozen\nclass Example:\n    a: int\n    b: str = 'x'\n",
            [SELF, ("a", "positional or keyword", None), ("b", "positional or keyword", "'x'")],
            id="frozen-fields-in-order",
        ),
        pytest.param(
            "import attrs\n@attrs.define(kw_only=True)\nclass Example:\n    a: int\n",
            [SELF, ("a", "keyword-only", None)],
            id="define-kw-only",
        ),
        pytest.param(
            "import attrs\n@attrs.frozen\nclass Example:\n"
            "    a: int = attrs.field(eq=False)\n"
            "    b: int = attrs.field(default=3)\n"
            "    c: list[int] = attrs.field(factory=list)\n"
            "    d: int = attrs.field(init=False)\n"
            "    e: int = attrs.field(default=0, kw_only=True)\n"
            "    _f: int = 1\n",
            [
                SELF,
                ("a", "positional or keyword", None),
                ("b", "positional or keyword", "3"),
                ("c", "positional or keyword", "list()"),
                ("f", "positional or keyword", "1"),
                ("e", "keyword-only", "0"),
            ],
            id="fields",
        ),
        pytest.param(
            "import attrs\nfrom typing import ClassVar\n@attrs.frozen\nclass Example:\n"
            "    a: int\n    LIMIT: ClassVar[int] = 3\n",
            [SELF, ("a", "positional or keyword", None)],
            id="classvar-is-no-field",
        ),
        pytest.param(
            "import attrs\n@attrs.frozen\nclass Example:\n    a: int\n"
            "    def __init__(self, b: int) -> None: ...\n",
            [SELF, ("b", "positional or keyword", None)],
            id="written-init-kept",
        ),
        pytest.param(
            "import attrs\n@attrs.define(init=False)\nclass Example:\n    a: int\n",
            None,
            id="init-false",
        ),
        pytest.param("class Example:\n    a: int\n", None, id="plain-class"),
    ],
)
def test_attrs_init(source: str, expected: list[tuple[str, str, str | None]] | None) -> None:
    assert expected == _signature(source)
