"""Cut the tracked operations out of the full upstream OpenAPI document.

The upstream document describes every Friendli API (84 operations); this project tracks
a few of them, listed by ``operationId`` in ``tracked-operations.txt``. This module
keeps exactly what those operations need:

- ``openapi``, ``info``, ``jsonSchemaDialect``, ``servers``, the top-level ``security``,
  ``externalDocs`` and every top-level ``x-...`` extension;
- the path items holding a tracked operation, with only the tracked methods (path-level
  ``parameters``, ``summary``, ``servers`` and extensions stay), so untracked operations
  and upstream's ``#stream`` pseudo-paths are dropped;
- the ``tags`` those operations use;
- every component they reference, transitively: ``$ref`` targets in any section, the
  security schemes named in the operations' (or the top-level) ``security``
  requirements, and the targets of ``discriminator.mapping``.

Canonical form (``dump_spec``): the top level in a fixed order (the order of
``TOP_LEVEL_ORDER``, then extensions in upstream order), component sections in the
order the OpenAPI specification lists them, and *everything else in upstream order*:
paths, component names, properties and keywords appear as upstream wrote them, so
``openapi.yaml`` stays readable (``model`` before ``prompt``) and the generated models
keep upstream's field order. The same upstream document always gives the same bytes.
YAML is block style with indented sequences, multi-line strings as literal blocks,
and dates kept as strings; the dump is re-read and compared before it is returned.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from openapi_common import (
    HTTP_METHODS,
    escape,
    iter_operations,
    pointer,
    resolve_pointer,
    unescape,
)

__all__ = [
    "COMPONENT_SECTIONS",
    "HTTP_METHODS",
    "Selection",
    "SpecError",
    "dangling_refs",
    "dump_spec",
    "escape",
    "find_operations",
    "load_text",
    "parse_document",
    "pointer",
    "resolve_pointer",
    "select_operations",
]

Spec = dict[str, Any]

COMPONENT_SECTIONS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
)
TOP_LEVEL_ORDER = (
    "openapi",
    "info",
    "jsonSchemaDialect",
    "servers",
    "security",
    "tags",
    "externalDocs",
    "paths",
    "components",
)
_KEPT_TOP_LEVEL = frozenset(
    {"openapi", "info", "jsonSchemaDialect", "servers", "security", "externalDocs"}
)
_OPENAPI_3 = re.compile(r"^3\.\d+(\.\d+)?(-[0-9A-Za-z.]+)?$")
_COMPONENT_REF = re.compile(r"^#/components/([^/]+)/([^/]+)(/.*)?$")


class SpecError(Exception):
    """The document cannot be used as the tracked spec; the message says why."""


@dataclass(frozen=True)
class Selection:
    """The tracked part of an upstream document."""

    spec: Spec
    """The filtered document, ready for ``dump_spec``."""
    operations: dict[str, tuple[str, str]] = field(default_factory=dict)
    """operationId -> (path, method) of every tracked operation that was found."""
    missing: tuple[str, ...] = ()
    """Tracked operationIds the upstream document does not have."""

    def component_count(self, section: str) -> int:
        return len((self.spec.get("components") or {}).get(section) or {})


# --- Reading and writing -------------------------------------------------------------------


def _loader_class() -> type[Any]:
    # libyaml's parser when available (the upstream document is ~900 KB), and no implicit
    # timestamps: an unquoted date in an example stays the string upstream wrote.
    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag != "tag:yaml.org,2002:timestamp"]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return type("_SpecLoader", (base,), {"yaml_implicit_resolvers": resolvers})


_LOADER = _loader_class()


def load_text(text: str) -> Any:
    """Parse YAML or JSON text (JSON first when it looks like JSON)."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass  # YAML flow style also starts with "{"; let the YAML parser report it
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader subclass


def parse_document(text: str, source: str) -> Spec:
    """Parse ``text`` as an OpenAPI 3.x document; ``SpecError`` says what is wrong."""
    try:
        document = load_text(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{source} is not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise SpecError(f"{source} is not an OpenAPI document (its top level is a {kind})")
    version = document.get("openapi")
    if version is None:
        hint = f" (it says swagger: {document['swagger']})" if "swagger" in document else ""
        raise SpecError(f"{source} is not an OpenAPI 3.x document: no 'openapi' field{hint}")
    if not _OPENAPI_3.match(str(version)):
        raise SpecError(f"{source} is not an OpenAPI 3.x document (openapi: {version})")
    if not isinstance(document.get("paths", {}), dict):
        raise SpecError(f"{source}: 'paths' is not a mapping")
    return document


class _Dumper(yaml.SafeDumper):
    """Block style with sequences indented under their key, as openapi.yaml was written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_spec(spec: Spec) -> str:
    """Serialise ``spec`` in canonical YAML; ``SpecError`` if it would not read back equal."""
    text = yaml.dump(
        spec,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    if load_text(text) != spec:
        raise SpecError("the canonical YAML of the filtered spec does not read back equal")
    return text


# --- Selecting ----------------------------------------------------------------------------


def find_operations(spec: Spec, operation_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Locate operations by id: ``{operationId: (path, method)}``; ``SpecError`` on duplicates."""
    wanted = set(operation_ids)
    found: dict[str, tuple[str, str]] = {}
    for path, method, operation in iter_operations(spec):
        operation_id = operation.get("operationId")
        if operation_id not in wanted:
            continue
        if operation_id in found:
            first = " ".join(found[operation_id][::-1]).upper()
            raise SpecError(
                f"operationId {operation_id} appears twice: {first} and {method.upper()} {path}"
            )
        found[operation_id] = (path, method)
    return found


def _refs(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Yield ``($ref, pointer of the object holding it)`` for every reference in ``node``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref, where
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
            for target in discriminator["mapping"].values():
                if isinstance(target, str):
                    ref = target if target.startswith("#") else f"#/components/schemas/{target}"
                    yield ref, f"{where}/discriminator/mapping"
        for key, value in node.items():
            yield from _refs(value, f"{where}/{escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{where}/{index}")


def _security_schemes(requirements: Any) -> Iterator[str]:
    if isinstance(requirements, list):
        for requirement in requirements:
            if isinstance(requirement, dict):
                yield from (str(name) for name in requirement)


class _Closure:
    """Components reachable from the selected nodes, and the references that dangle."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.kept: set[tuple[str, str]] = set()
        self.dangling: list[str] = []

    def visit(self, node: Any, where: str) -> None:
        pending = [(node, where)]
        while pending:
            current, current_where = pending.pop()
            for ref, holder in _refs(current, current_where):
                target = self._component(ref, holder)
                if target is not None and target not in self.kept:
                    self.kept.add(target)
                    section, name = target
                    component = self.spec["components"][section][name]
                    pending.append((component, pointer("components", section, name)))

    def visit_security(self, requirements: Any, where: str) -> None:
        schemes = (self.spec.get("components") or {}).get("securitySchemes") or {}
        for name in _security_schemes(requirements):
            if name not in schemes:
                self.dangling.append(f"{where}: security scheme {name!r} is not defined")
            elif ("securitySchemes", name) not in self.kept:
                self.kept.add(("securitySchemes", name))
                self.visit(schemes[name], pointer("components", "securitySchemes", name))

    def _component(self, ref: str, holder: str) -> tuple[str, str] | None:
        match = _COMPONENT_REF.match(ref)
        if match is None:
            self.dangling.append(f"{holder}: $ref {ref!r} does not name a local component")
            return None
        try:
            resolve_pointer(self.spec, ref)
        except KeyError:
            self.dangling.append(f"{holder}: $ref {ref!r} points at nothing")
            return None
        return match.group(1), unescape(match.group(2))


def dangling_refs(spec: Spec) -> list[str]:
    """Every reference in ``spec`` (a filtered or whole document) that does not resolve."""
    closure = _Closure(spec)
    closure.visit({key: value for key, value in spec.items() if key != "components"}, "")
    closure.visit_security(spec.get("security"), "/security")
    for path, method, operation in iter_operations(spec):
        if "security" in operation:
            closure.visit_security(
                operation["security"], pointer("paths", path, method, "security")
            )
    closure.visit(spec.get("components") or {}, "/components")
    return sorted(set(closure.dangling))


def select_operations(spec: Spec, operation_ids: Sequence[str]) -> Selection:
    """Keep ``operation_ids`` and what they reference; ``SpecError`` on a dangling ``$ref``."""
    located = find_operations(spec, operation_ids)
    missing = tuple(operation_id for operation_id in operation_ids if operation_id not in located)
    tracked = {(path, method) for path, method in located.values()}
    closure = _Closure(spec)

    paths: dict[str, Any] = {}
    used_tags: set[str] = set()
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict) or not any((path, m) in tracked for m in HTTP_METHODS):
            continue
        kept_item = {
            key: value
            for key, value in item.items()
            if key not in HTTP_METHODS or (path, key) in tracked
        }
        closure.visit(kept_item, pointer("paths", path))
        for method in HTTP_METHODS:
            if (path, method) in tracked:
                operation = item[method]
                used_tags.update(str(tag) for tag in operation.get("tags") or [])
                requirements = operation.get("security", spec.get("security"))
                closure.visit_security(requirements, pointer("paths", path, method, "security"))
        paths[path] = kept_item
    closure.visit_security(spec.get("security"), "/security")
    top_level = {
        key: value
        for key, value in spec.items()
        if key in _KEPT_TOP_LEVEL or str(key).startswith("x-")
    }
    closure.visit(top_level, "")
    if closure.dangling:
        details = "\n  ".join(sorted(set(closure.dangling)))
        raise SpecError(f"the tracked operations reference what is not there:\n  {details}")

    selected: Spec = {}
    for key in TOP_LEVEL_ORDER:
        if key == "paths":
            selected["paths"] = paths
        elif key == "components":
            components = _select_components(spec.get("components") or {}, closure.kept)
            if components:
                selected["components"] = components
        elif key == "tags":
            tags = [
                tag
                for tag in spec.get("tags") or []
                if isinstance(tag, dict) and tag.get("name") in used_tags
            ]
            if tags:
                selected["tags"] = tags
        elif key in spec and key in _KEPT_TOP_LEVEL:
            selected[key] = spec[key]
    for key, value in spec.items():
        if str(key).startswith("x-"):
            selected[key] = value
    return Selection(spec=copy.deepcopy(selected), operations=located, missing=missing)


def _select_components(components: dict[str, Any], kept: set[tuple[str, str]]) -> dict[str, Any]:
    selected: dict[str, Any] = {}
    sections = [s for s in COMPONENT_SECTIONS if s in components]
    sections += [s for s in components if s not in COMPONENT_SECTIONS and not s.startswith("x-")]
    for section in sections:
        entries = components.get(section)
        if not isinstance(entries, dict):
            continue
        chosen = {name: value for name, value in entries.items() if (section, name) in kept}
        if chosen:
            selected[section] = chosen
    for key, value in components.items():
        if str(key).startswith("x-"):
            selected[key] = value
    return selected
