"""The Python-API rules: whether one change of a public name breaks code that imports it.

``python_surface.py`` describes every public name of the generated package as text (a
signature, ``attribute: int | Unset = UNSET``, ``class(Base)``). A changed text is not
necessarily a break: these pure functions read both descriptions and decide by variance,
the way ``mypy --strict`` would judge user code written against the old version:

- a parameter may accept more (widened) and a result may promise less (narrowed);
- a new parameter is harmless if it has a default, a new required one is not;
- positional parameters are matched by position, so reordering them is breaking;
- a changed parameter default changes what every call that names none sends: breaking
  (behaviour), whatever the annotation says;
- a model attribute is read and passed to the constructor: widening it breaks only code
  that reads it back, which for a request model is said as such.

Annotations are compared as sets of union members (``X | Y``, ``Union[...]``,
``Optional[...]``, ``None``, ``Unset``); generic arguments (``list[X]``) must be
equivalent unless the container is known to be covariant. When unsure: breaking.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from change_rules import BREAKS, SAFE, ChangeClass

__all__ = [
    "Impact",
    "Parameter",
    "PyRuling",
    "Relation",
    "Role",
    "Signature",
    "added_rule",
    "annotation_relation",
    "assignable",
    "attribute_rule",
    "class_rule",
    "member_rule",
    "model_roles",
    "parse_signature",
    "removed_rule",
    "signature_rule",
    "union_members",
    "value_rule",
]


class Impact(enum.IntEnum):
    """What a change does to user code; the larger, the worse."""

    COMPATIBLE = 1
    """Code written against the old API still type-checks and runs as before."""
    BREAKS_READERS = 2
    """Only code that reads the value back (and relies on its old type) breaks."""
    BREAKS_BEHAVIOUR = 3
    """Code still type-checks but does something else (a default the client now sends)."""
    BREAKS_IMPORTERS = 4
    """Code written against the old API may no longer import, type-check or run."""

    @property
    def wording(self) -> str:
        return {
            1: "not breaking",
            2: "breaking for code that reads it back",
            3: "breaking (behaviour)",
            4: "breaking for importers",
        }[self.value]

    @property
    def change_class(self) -> ChangeClass:
        """The report's class: only a compatible change keeps the verdict non-breaking."""
        return SAFE if self is Impact.COMPATIBLE else BREAKS


@dataclass(frozen=True)
class PyRuling:
    impact: Impact
    message: str

    @property
    def breaking(self) -> bool:
        return self.impact is not Impact.COMPATIBLE


def _ruling(findings: Iterable[tuple[Impact, str]], fallback: str) -> PyRuling:
    """The worst finding decides; the message names every impact found, the worst first
    (``breaking for importers: ...; breaking (behaviour): ...``)."""
    groups: dict[Impact, list[str]] = {}
    for impact, text in findings:
        groups.setdefault(impact, []).append(text)
    if not groups:
        return PyRuling(Impact.COMPATIBLE, f"not breaking: {fallback}")
    ordered = sorted(groups, reverse=True)
    message = "; ".join(f"{impact.wording}: {'; '.join(groups[impact])}" for impact in ordered)
    return PyRuling(ordered[0], message)


# --- Annotations as sets of union members --------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One member of a union: a name and, for a generic, one union per argument."""

    name: str
    args: tuple[frozenset[Member], ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        inner = ", ".join(" | ".join(sorted(map(str, arg))) for arg in self.args)
        return f"{self.name}[{inner}]"


TOP = frozenset({"object"})
"""Members every value is assignable to. ``Any`` is not one of them: it is compared as an
opaque member, as mypy does for a union (a model added beside ``Any`` in a return union
still breaks code that handled the old members), and ``X → Any`` counts as a change."""
PROMOTIONS = frozenset(
    {
        ("bool", "int"),
        ("bool", "float"),
        ("bool", "complex"),
        ("int", "float"),
        ("int", "complex"),
        ("float", "complex"),
    }
)
"""(narrower, wider): mypy accepts the first where the second is declared."""
COVARIANT = frozenset(
    {"Sequence", "Iterable", "Iterator", "Collection", "AbstractSet", "frozenset", "tuple", "type"}
)
"""Generic containers whose arguments may be narrower; every other generic (``list``,
``dict``, ``Response``) is treated as invariant: its arguments must be equivalent."""
_PREFIXES = ("typing.", "typing_extensions.", "collections.abc.", "types.", "builtins.")
_UNION = frozenset({"Union", "Optional"})


def _name(node: ast.expr) -> str:
    text = ast.unparse(node)
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return "None" if text == "NoneType" else text


def _members(node: ast.expr) -> Iterator[Member]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _members(node.left)
        yield from _members(node.right)
    elif isinstance(node, ast.Constant) and node.value is None:
        yield Member("None")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield from _members(ast.parse(node.value, mode="eval").body)  # a forward reference
    elif isinstance(node, ast.Subscript):
        base = _name(node.value)
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base in _UNION:
            for element in elements:
                yield from _members(element)
            if base == "Optional":
                yield Member("None")
        elif base == "Literal":
            for element in elements:
                yield Member(f"Literal[{ast.unparse(element)}]")
        else:
            yield Member(base, tuple(frozenset(_members(element)) for element in elements))
    else:
        yield Member(_name(node))


def union_members(annotation: str) -> frozenset[Member]:
    """``"None | str | Unset"`` → {None, str, Unset}; raises ``SyntaxError`` if unparsable."""
    return frozenset(_members(ast.parse(annotation, mode="eval").body))


def _literal_type(member: Member) -> str | None:
    if not member.name.startswith("Literal["):
        return None
    try:
        value = ast.literal_eval(member.name[len("Literal[") : -1])
    except (ValueError, SyntaxError):
        return None
    return type(value).__name__


def _member_fits(member: Member, union: frozenset[Member]) -> bool:
    names = {other.name for other in union}
    if names & TOP or member in union:
        return True
    if not member.args and (any((member.name, name) in PROMOTIONS for name in names)):
        return True
    if _literal_type(member) in names:
        return True
    for other in union:
        if other.name != member.name or len(other.args) != len(member.args) or not member.args:
            continue
        if member.name in COVARIANT:
            if all(_fits(a, b) for a, b in zip(member.args, other.args, strict=True)):
                return True
        elif all(_fits(a, b) and _fits(b, a) for a, b in zip(member.args, other.args, strict=True)):
            return True
    return False


def _fits(narrow: frozenset[Member], wide: frozenset[Member]) -> bool:
    return all(_member_fits(member, wide) for member in narrow)


def assignable(source: str, target: str) -> bool:
    """Whether every value of annotation ``source`` is accepted where ``target`` is declared."""
    return _fits(union_members(source), union_members(target))


class Relation(enum.Enum):
    SAME = "same"
    """The same type (perhaps written differently: ``str | None`` and ``Optional[str]``)."""
    WIDER = "wider"
    NARROWER = "narrower"
    DIFFERENT = "different"
    """Neither includes the other, or the rules cannot tell."""


def invariant_note(old: str | None, new: str | None) -> str:
    """``"; Response is invariant: its argument must not change"`` where both annotations
    are the same invariant generic, to say why a narrower argument is still a change."""
    try:
        before, after = union_members(old or ""), union_members(new or "")
    except SyntaxError:
        return ""
    names = {member.name for member in before if member.args}
    names &= {member.name for member in after if member.args}
    names -= COVARIANT
    if not names:
        return ""
    return f"; {', '.join(sorted(names))}: invariant, the arguments must not change"


def annotation_relation(old: str | None, new: str | None) -> Relation:
    """How annotation ``new`` relates to ``old``; a missing annotation matches only itself."""
    if old == new:
        return Relation.SAME
    if old is None or new is None:
        return Relation.DIFFERENT
    try:
        before, after = union_members(old), union_members(new)
    except SyntaxError:
        return Relation.DIFFERENT
    wider, narrower = _fits(before, after), _fits(after, before)
    if wider and narrower:
        return Relation.SAME
    if wider:
        return Relation.WIDER
    return Relation.NARROWER if narrower else Relation.DIFFERENT


# --- Signatures -----------------------------------------------------------------------------


class Kind(enum.Enum):
    POSITIONAL_ONLY = "positional-only"
    POSITIONAL = "positional"
    VAR_POSITIONAL = "*args"
    KEYWORD_ONLY = "keyword-only"
    VAR_KEYWORD = "**kwargs"


POSITIONAL = (Kind.POSITIONAL_ONLY, Kind.POSITIONAL)
BY_NAME = (Kind.POSITIONAL, Kind.KEYWORD_ONLY)
UNSENT = frozenset({"UNSET", "None"})
"""Defaults that send nothing (the generated functions skip ``UNSET``)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: Kind
    annotation: str | None
    default: str | None
    """The default's source text; None for a required parameter."""


@dataclass(frozen=True)
class Signature:
    parameters: tuple[Parameter, ...]
    returns: str | None
    is_async: bool

    def named(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name and parameter.kind in BY_NAME:
                return parameter
        return None

    def positional(self) -> list[Parameter]:
        return [parameter for parameter in self.parameters if parameter.kind in POSITIONAL]

    def has(self, kind: Kind) -> bool:
        return any(parameter.kind is kind for parameter in self.parameters)


def _parameter(argument: ast.arg, kind: Kind, default: ast.expr | None) -> Parameter:
    annotation = ast.unparse(argument.annotation) if argument.annotation else None
    return Parameter(
        argument.arg, kind, annotation, ast.unparse(default) if default is not None else None
    )


def parse_signature(text: str) -> Signature:
    """``def f(a: int, *, b: str='x') -> None`` (as ``python_surface`` writes it)."""
    node = ast.parse(f"{text}: ...").body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        raise SyntaxError(f"not a signature: {text}")
    arguments = node.args
    ordered = arguments.posonlyargs + arguments.args
    padding: list[ast.expr | None] = [None] * (len(ordered) - len(arguments.defaults))
    defaults = padding + list(arguments.defaults)
    parameters = [
        _parameter(
            argument,
            Kind.POSITIONAL_ONLY if index < len(arguments.posonlyargs) else Kind.POSITIONAL,
            defaults[index],
        )
        for index, argument in enumerate(ordered)
    ]
    if arguments.vararg:
        parameters.append(_parameter(arguments.vararg, Kind.VAR_POSITIONAL, None))
    parameters += [
        _parameter(argument, Kind.KEYWORD_ONLY, default)
        for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    ]
    if arguments.kwarg:
        parameters.append(_parameter(arguments.kwarg, Kind.VAR_KEYWORD, None))
    returns = ast.unparse(node.returns) if node.returns else None
    return Signature(tuple(parameters), returns, isinstance(node, ast.AsyncFunctionDef))


def _sends(default: str) -> str:
    return "send nothing" if default in UNSENT else f"send {default}"


def _default_findings(label: str, old: str | None, new: str | None) -> list[tuple[Impact, str]]:
    if old == new:
        return []
    if new is None:
        return [(Impact.BREAKS_IMPORTERS, f"{label} is now required (default {old} dropped)")]
    if old is None:
        # Every existing call passes it, so none of them changes what it sends.
        return [(Impact.COMPATIBLE, f"{label} is now optional (default {new})")]
    return [
        (
            Impact.BREAKS_BEHAVIOUR,
            f"{label} default changed from {old} to {new}: calls that name none now {_sends(new)}",
        )
    ]


def _parameter_findings(old: Parameter, new: Parameter) -> list[tuple[Impact, str]]:
    label = f"parameter {old.name}"
    findings = _default_findings(label, old.default, new.default)
    relation = annotation_relation(old.annotation, new.annotation)
    change = f"{old.annotation} → {new.annotation}"
    if relation is Relation.WIDER:
        findings.append((Impact.COMPATIBLE, f"{label} widened ({change})"))
    elif relation is Relation.NARROWER:
        findings.append((Impact.BREAKS_IMPORTERS, f"{label} narrowed ({change})"))
    elif relation is Relation.DIFFERENT:
        note = invariant_note(old.annotation, new.annotation)
        findings.append((Impact.BREAKS_IMPORTERS, f"{label} type changed ({change}{note})"))
    elif old.annotation != new.annotation:
        findings.append((Impact.COMPATIBLE, f"{label} has the same type ({change})"))
    return findings


def _positional_findings(
    old: Signature, new: Signature, matched: dict[str, Parameter]
) -> list[tuple[Impact, str]]:
    findings: list[tuple[Impact, str]] = []
    after = new.positional()
    for index, parameter in enumerate(old.positional()):
        other = after[index] if index < len(after) else None
        if other is not None and (
            parameter.kind is Kind.POSITIONAL_ONLY or other.name == parameter.name
        ):
            if (parameter.kind, other.kind) == (Kind.POSITIONAL, Kind.POSITIONAL_ONLY):
                text = f"parameter {parameter.name} is now positional-only"
                findings.append((Impact.BREAKS_IMPORTERS, text))
            matched[parameter.name] = other
            findings += _parameter_findings(parameter, other)
            continue
        elsewhere = new.named(parameter.name)
        if elsewhere is not None and elsewhere.kind is Kind.KEYWORD_ONLY:
            text = f"parameter {parameter.name} is now keyword-only"
        elif elsewhere is not None:
            text = f"positional parameters reordered: {parameter.name} moved"
        else:
            text = f"parameter {parameter.name} removed"
        findings.append((Impact.BREAKS_IMPORTERS, text))
        if elsewhere is not None:
            matched[parameter.name] = elsewhere
    return findings


def signature_rule(old_text: str, new_text: str) -> PyRuling:
    """A function or method whose signature text changed."""
    try:
        old, new = parse_signature(old_text), parse_signature(new_text)
    except SyntaxError:
        return PyRuling(Impact.BREAKS_IMPORTERS, "breaking for importers: signature changed")
    matched: dict[str, Parameter] = {}
    findings = _positional_findings(old, new, matched)
    if old.is_async != new.is_async:
        text = "now a coroutine function" if new.is_async else "no longer a coroutine function"
        findings.append((Impact.BREAKS_IMPORTERS, text))
    for parameter in old.parameters:
        if parameter.kind is Kind.KEYWORD_ONLY:
            other = new.named(parameter.name)
            if other is None:
                findings.append((Impact.BREAKS_IMPORTERS, f"parameter {parameter.name} removed"))
            else:
                matched[parameter.name] = other
                findings += _parameter_findings(parameter, other)
        elif parameter.kind in (Kind.VAR_POSITIONAL, Kind.VAR_KEYWORD) and not new.has(
            parameter.kind
        ):
            text = f"no longer accepts {parameter.kind.value} ({parameter.name})"
            findings.append((Impact.BREAKS_IMPORTERS, text))
    taken = {id(parameter) for parameter in matched.values()}
    for parameter in new.parameters:
        if id(parameter) in taken or (
            parameter.kind in (Kind.VAR_POSITIONAL, Kind.VAR_KEYWORD) and old.has(parameter.kind)
        ):
            continue
        if parameter.kind in (Kind.VAR_POSITIONAL, Kind.VAR_KEYWORD):
            findings.append((Impact.COMPATIBLE, f"now accepts {parameter.kind.value}"))
        elif parameter.default is None:
            text = f"new required parameter {parameter.name}"
            findings.append((Impact.BREAKS_IMPORTERS, text))
        else:
            text = f"new optional parameter {parameter.name} (default {parameter.default})"
            findings.append((Impact.COMPATIBLE, text))
    relation = annotation_relation(old.returns, new.returns)
    change = f"{old.returns} → {new.returns}"
    if relation is Relation.NARROWER:
        findings.append((Impact.COMPATIBLE, f"return type narrowed ({change})"))
    elif relation is Relation.WIDER:
        text = f"return type widened ({change}): code using the result may not type-check"
        findings.append((Impact.BREAKS_IMPORTERS, text))
    elif relation is Relation.DIFFERENT:
        note = invariant_note(old.returns, new.returns)
        findings.append((Impact.BREAKS_IMPORTERS, f"return type changed ({change}{note})"))
    elif old.returns != new.returns:
        findings.append((Impact.COMPATIBLE, f"same return type ({change})"))
    return _ruling(findings, "signature written differently")


# --- Attributes, values, classes ------------------------------------------------------------


class Role(enum.Enum):
    """Where a class meets user code: sent (built by the caller), returned (read), or both
    or neither known (treated as both)."""

    REQUEST = "request"
    RESPONSE = "response"
    UNKNOWN = "unknown"


def _attribute(description: str) -> tuple[str, str | None]:
    """``attribute: int | Unset = UNSET`` → ("int | Unset", "UNSET")."""
    node = ast.parse(f"_: {description.removeprefix('attribute: ')}").body[0]
    if not isinstance(node, ast.AnnAssign):
        raise SyntaxError(f"not an attribute: {description}")
    value = ast.unparse(node.value) if node.value is not None else None
    return ast.unparse(node.annotation), value


def attribute_rule(old_text: str, new_text: str, role: Role) -> PyRuling:
    """An annotated class attribute (a model field: read back, and passed to ``__init__``)."""
    try:
        (old, old_default), (new, new_default) = _attribute(old_text), _attribute(new_text)
    except SyntaxError:
        return PyRuling(Impact.BREAKS_IMPORTERS, "breaking for importers: attribute changed")
    findings: list[tuple[Impact, str]] = []
    relation = annotation_relation(old, new)
    change = f"{old} → {new}"
    if relation is Relation.DIFFERENT:
        note = invariant_note(old, new)
        findings.append((Impact.BREAKS_IMPORTERS, f"type changed ({change}{note})"))
    elif relation is Relation.WIDER and role is Role.RESPONSE:
        text = f"response attribute widened ({change}): code reading it may not type-check"
        findings.append((Impact.BREAKS_IMPORTERS, text))
    elif relation is Relation.WIDER:
        text = f"widened ({change}); code that only sets it still type-checks"
        findings.append((Impact.BREAKS_READERS, text))
    elif relation is Relation.NARROWER and role is Role.RESPONSE:
        findings.append((Impact.COMPATIBLE, f"response attribute narrowed ({change})"))
    elif relation is Relation.NARROWER:
        text = f"narrowed ({change}): code that sets it to the old type may not type-check"
        findings.append((Impact.BREAKS_IMPORTERS, text))
    elif old != new:
        findings.append((Impact.COMPATIBLE, f"same type ({change})"))
    if role is Role.RESPONSE:
        if old_default != new_default:
            before, after = old_default or "(none)", new_default or "(none)"
            text = f"default {before} → {after} (set when the response is parsed)"
            findings.append((Impact.COMPATIBLE, text))
    else:
        findings += _default_findings("the field", old_default, new_default)
    return _ruling(findings, "attribute written differently")


def value_rule(old: str, new: str) -> PyRuling:
    """A class-level constant (``URL = 'url'`` of an enum) whose value changed: code using
    the name still type-checks, code comparing with the old value behaves differently."""
    return PyRuling(
        Impact.BREAKS_BEHAVIOUR,
        f"breaking (behaviour): value changed from {old} to {new}",
    )


def _bases(description: str) -> set[str]:
    """``class(A, B)`` → {"A", "B"}; ``class`` → set()."""
    inside = description.removeprefix("class").removeprefix("(").removesuffix(")")
    node = ast.parse(f"_({inside})", mode="eval").body
    if not isinstance(node, ast.Call):
        raise SyntaxError(f"not a class: {description}")
    return {_name(base) for base in node.args}


def class_rule(old: str, new: str) -> PyRuling:
    """``class(A, B)``: a base removed breaks ``isinstance`` checks and inherited members."""
    try:
        before, after = _bases(old), _bases(new)
    except SyntaxError:
        return PyRuling(Impact.BREAKS_IMPORTERS, "breaking for importers: class changed")
    lost = sorted(before - after)
    if lost:
        text = f"base class(es) removed: {', '.join(lost)}"
        return PyRuling(Impact.BREAKS_IMPORTERS, f"breaking for importers: {text}")
    return PyRuling(Impact.COMPATIBLE, f"not breaking: base class(es) added: {new}")


def _shape(description: str) -> str:
    if description.startswith(("def ", "async def ")):
        return "function"
    if description.startswith("class"):
        return "class"
    if description.startswith("attribute: "):
        return "attribute"
    if description.startswith("= "):
        return "value"
    return description


def member_rule(old: str, new: str, role: Role = Role.UNKNOWN) -> PyRuling:
    """A public name present in both versions whose description changed."""
    shape = _shape(old)
    if shape != _shape(new):
        return PyRuling(
            Impact.BREAKS_IMPORTERS, f"breaking for importers: was a {shape}, now a {_shape(new)}"
        )
    if shape == "function":
        return signature_rule(old, new)
    if shape == "attribute":
        return attribute_rule(old, new, role)
    if shape == "class":
        return class_rule(old, new)
    if shape == "value":
        return value_rule(old.removeprefix("= "), new.removeprefix("= "))
    return PyRuling(Impact.BREAKS_IMPORTERS, "breaking for importers: changed")


def removed_rule() -> PyRuling:
    return PyRuling(Impact.BREAKS_IMPORTERS, "removed: importers get ImportError or AttributeError")


def added_rule(description: str, role: Role = Role.UNKNOWN) -> PyRuling:
    """A new public name; a new model field without a default is a new required argument of
    the class's constructor, which only the client itself calls for a response model."""
    if _shape(description) == "attribute" and role is not Role.RESPONSE:
        try:
            _, default = _attribute(description)
        except SyntaxError:
            default = None
        if default is None:
            return PyRuling(
                Impact.BREAKS_IMPORTERS,
                "added: breaking for importers: a new required field (constructor argument)",
            )
    return PyRuling(Impact.COMPATIBLE, "added")


# --- Which models are sent and which are returned -------------------------------------------


def _names(annotation: str) -> set[str]:
    try:
        tree = ast.parse(annotation, mode="eval")
    except SyntaxError:
        return set()
    found = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    found |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= _names(node.value)
    return found


def _spread(surface: dict[str, str], classes: dict[str, list[str]], seeds: set[str]) -> set[str]:
    """The classes named in ``seeds`` and, transitively, in their attributes' annotations."""
    reached: set[str] = set()
    pending = [full for name in seeds for full in classes.get(name, [])]
    while pending:
        full = pending.pop()
        if full in reached:
            continue
        reached.add(full)
        for name, description in surface.items():
            if name.rsplit(".", 1)[0] == full and description.startswith("attribute: "):
                annotation = description.removeprefix("attribute: ").split(" = ", 1)[0]
                pending += [c for simple in _names(annotation) for c in classes.get(simple, [])]
    return reached


def model_roles(*surfaces: dict[str, str]) -> dict[str, Role]:
    """Every class of the surfaces: REQUEST if only module-level functions' parameters
    reach it, RESPONSE if only their return types do, UNKNOWN otherwise."""
    sent: set[str] = set()
    returned: set[str] = set()
    every: set[str] = set()
    for surface in surfaces:
        classes: dict[str, list[str]] = {}
        for name, description in surface.items():
            if description.startswith("class"):
                classes.setdefault(name.rsplit(".", 1)[-1], []).append(name)
                every.add(name)
        parameters: set[str] = set()
        results: set[str] = set()
        for name, description in surface.items():
            parent = name.rsplit(".", 1)[0]
            if _shape(description) != "function" or surface.get(parent) != "module":
                continue
            try:
                signature = parse_signature(description)
            except SyntaxError:
                continue
            for parameter in signature.parameters:
                parameters |= _names(parameter.annotation or "")
            results |= _names(signature.returns or "")
        sent |= _spread(surface, classes, parameters)
        returned |= _spread(surface, classes, results)
    roles = {}
    for name in every:
        if name in sent and name not in returned:
            roles[name] = Role.REQUEST
        elif name in returned and name not in sent:
            roles[name] = Role.RESPONSE
        else:
            roles[name] = Role.UNKNOWN
    return roles
