"""The traversal: each tracked operation of two specs walked side by side.

``Walker`` meets parameters, request bodies, responses, headers, media types, security
and servers, follows schemas in both documents (``schema_view.py``) and records each
difference as a ``Change``, classed by the rules in ``change_rules.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import Any

from change_model import Change, OperationChanges
from change_rules import (
    DOC,
    MISSING,
    REQUEST,
    RESPONSE,
    Direction,
    Ruling,
    annotation_rule,
    document_field_rule,
    documentation_rule,
    enum_dropped_rule,
    enum_introduced_rule,
    enum_reordered_rule,
    enum_values_added_rule,
    enum_values_removed_rule,
    format_rule,
    generated_type,
    header_added_rule,
    header_removed_rule,
    header_required_rule,
    is_doc_key,
    keyword_rule,
    media_type_rule,
    member_label,
    nullable_rule,
    openapi_version_rule,
    operation_added_rule,
    operation_field_rule,
    operation_missing_rule,
    operation_moved_rule,
    operation_removed_rule,
    parameter_added_rule,
    parameter_field_rule,
    parameter_removed_rule,
    property_added_rule,
    property_removed_rule,
    request_body_added_rule,
    request_body_removed_rule,
    required_rule,
    response_code_rule,
    schema_renamed_rule,
    security_added_rule,
    security_removed_rule,
    server_rule,
    short,
    tags_rule,
    type_rule,
    variant_added_rule,
    variant_removed_rule,
)
from openapi_common import HTTP_METHODS, Spec, escape, pointer, ref_name, resolve_pointer
from schema_view import WRAPPER_KEYS, SchemaView, build_view

__all__ = ["Walker"]

Held = tuple[dict[str, Any], str]
"""An object of the spec (parameter, header, media type, ...) and its JSON pointer."""


def _join(location: str, part: str) -> str:
    return f"{location}{part}" if part.startswith(("[", ".", "{")) else f"{location} {part}"


class Walker:
    def __init__(
        self,
        old: Spec,
        new: Spec,
        open_enums: frozenset[str] | None,
        old_open_enums: frozenset[str] | None,
        base64: tuple[frozenset[str], frozenset[str]],
    ) -> None:
        self.old, self.new = old, new
        self.open_enums, self.old_open_enums = open_enums, old_open_enums
        self.base64_old, self.base64_new = base64
        self.changes: list[Change] = []
        self._visited: set[tuple[str, str, Direction, str, str]] = set()

    def add(
        self, ruling: Ruling, where: str, location: str, *, old: Any = MISSING, new: Any = MISSING
    ) -> None:
        """Record a rule's verdict on the difference at ``where`` (met at ``location``)."""
        kind, message = ruling
        change = Change(kind, where, location, message, _json(old), _json(new))
        if change not in self.changes:
            self.changes.append(change)

    # -- schemas

    def schema(
        self, old: tuple[Any, str], new: tuple[Any, str], location: str, direction: Direction
    ) -> None:
        """Compare two schemas, each given as (node, JSON pointer), met at ``location``."""
        before = build_view(self.old, *old)
        after = build_view(self.new, *new)
        key = (before.ptr, after.ptr, direction, before.signature(), after.signature())
        if key in self._visited:
            return
        self._visited.add(key)
        start = len(self.changes)
        self._views(before, after, location, direction)
        if before.ref and after.ref and before.ref != after.ref:
            names = f"{ref_name(before.ref)} → {ref_name(after.ref)}"
            # Not a verdict: whether the walk above found more than documentation, for the rule.
            differs = any(change.kind > DOC for change in self.changes[start:])
            ruling = schema_renamed_rule(names, differs=differs, direction=direction)
            self.add(ruling, after.ptr, location, old=before.ref, new=after.ref)

    def _views(
        self, before: SchemaView, after: SchemaView, location: str, direction: Direction
    ) -> None:
        if before.nullable != after.nullable:
            ruling = nullable_rule(after.nullable, direction)
            self.add(ruling, after.ptr, location, old=before.nullable, new=after.nullable)

        unions = before.variants is not None or after.variants is not None
        for key in list(before.keys) + [k for k in after.keys if k not in before.keys]:
            if key in ("type", "enum", "const") or (unions and key not in WRAPPER_KEYS):
                continue
            old_value, old_holder = before.keys.get(key, (MISSING, ""))
            new_value, new_holder = after.keys.get(key, (MISSING, ""))
            if old_value != new_value:
                holders = (old_holder or new_holder, new_holder or old_holder)
                self._keyword(
                    key, old_value, new_value, holders, location=location, direction=direction
                )

        if unions:
            self._variants(before, after, location, direction)
            return
        old_type, new_type = before.type(), after.type()
        if old_type != new_type:
            ruling = type_rule(old_type, new_type, direction)
            self.add(ruling, after.ptr, location, old=old_type, new=new_type)
            if old_type is not None and new_type is not None:
                return
        self._enum(before, after, location, direction)
        self._properties(before, after, location, direction)
        if before.items is not None or after.items is not None:
            old_items, old_ptr = before.items or ({}, f"{before.ptr}/items")
            new_items, new_ptr = after.items or ({}, f"{after.ptr}/items")
            self.schema(
                (old_items, old_ptr), (new_items, new_ptr), _join(location, "[]"), direction
            )
        if before.additional is not None and after.additional is not None:
            old_extra, old_ptr = before.additional
            new_extra, new_ptr = after.additional
            self.schema(
                (old_extra, old_ptr), (new_extra, new_ptr), _join(location, "{*}"), direction
            )

    def _enum(
        self, before: SchemaView, after: SchemaView, location: str, direction: Direction
    ) -> None:
        old_values, new_values = before.enum(), after.enum()
        if old_values == new_values:
            return
        where = f"{after.enum_holder() if new_values is not None else before.enum_holder()}/enum"
        rulings: list[Ruling] = []
        if old_values is not None and new_values is not None:
            removed = [value for value in old_values if value not in new_values]
            added = [value for value in new_values if value not in old_values]
            if not removed and not added:
                rulings.append(enum_reordered_rule())
            if removed:
                rulings.append(enum_values_removed_rule(removed, direction))
            if added:
                tolerated = self.open_enums is not None and where in self.open_enums
                rulings.append(enum_values_added_rule(added, direction, tolerated=tolerated))
        elif old_values is None:
            rulings.append(enum_introduced_rule(new_values or [], direction))
        else:
            tolerated = self.old_open_enums is not None and where in self.old_open_enums
            rulings.append(enum_dropped_rule(direction, tolerated=tolerated))
        for ruling in rulings:
            self.add(ruling, where, location, old=old_values, new=new_values)

    def _properties(
        self, before: SchemaView, after: SchemaView, location: str, direction: Direction
    ) -> None:
        names = list(before.properties) + [n for n in before.required if n not in before.properties]
        names += [n for n in list(after.properties) + list(after.required) if n not in names]
        for name in names:
            had = name in before.properties or name in before.required
            has = name in after.properties or name in after.required
            was_required, is_required = name in before.required, name in after.required
            here = _join(location, f".{name}")
            old_schema, old_ptr = before.properties.get(name, ({}, before.required.get(name, "")))
            new_schema, new_ptr = after.properties.get(name, ({}, after.required.get(name, "")))
            if not had:
                self.add(property_added_rule(is_required, direction), new_ptr, here, new=new_schema)
                continue
            if not has:
                self.add(property_removed_rule(direction), old_ptr, here, old=old_schema)
                continue
            if was_required != is_required:
                holder = after.required.get(name) or f"{after.ptr}/required"
                ruling = required_rule(is_required, direction)
                self.add(ruling, holder, here, old=was_required, new=is_required)
            self.schema((old_schema, old_ptr), (new_schema, new_ptr), here, direction)

    def _variants(
        self, before: SchemaView, after: SchemaView, location: str, direction: Direction
    ) -> None:
        def members(view: SchemaView) -> list[tuple[Any, str]]:
            if view.variants is not None:
                return view.variants
            bare = {k: v for k, v in view.node.items() if k not in WRAPPER_KEYS and k != "nullable"}
            return [(bare, view.ptr)]

        old_members, new_members = members(before), members(after)
        old_sigs = [self._signature(self.old, node) for node, _ in old_members]
        new_sigs = [self._signature(self.new, node) for node, _ in new_members]
        pairs: list[tuple[int, int]] = []
        free_old, free_new = list(range(len(old_members))), list(range(len(new_members)))
        for field_index in (None, 1):
            for i in list(free_old):
                for j in free_new:
                    if (
                        old_sigs[i] == new_sigs[j]
                        if field_index is None
                        else old_sigs[i][field_index] == new_sigs[j][field_index]
                    ):
                        pairs.append((i, j))
                        free_old.remove(i)
                        free_new.remove(j)
                        break
        for i, j in sorted(pairs):
            old_node, old_ptr = old_members[i]
            new_node, new_ptr = new_members[j]
            label = f"({member_label(new_sigs[j])})" if len(new_members) > 1 else ""
            here = _join(location, label) if label else location
            self.schema((old_node, old_ptr), (new_node, new_ptr), here, direction)
        for i in free_old:
            node, where = old_members[i]
            self.add(
                variant_removed_rule(member_label(old_sigs[i]), direction),
                where,
                location,
                old=node,
            )
        for j in free_new:
            node, where = new_members[j]
            self.add(
                variant_added_rule(member_label(new_sigs[j]), direction), where, location, new=node
            )

    @staticmethod
    def _signature(document: Spec, node: Any) -> tuple[str | None, str | None, str | None]:
        view = build_view(document, node, "")
        item: str | None = None
        if view.items is not None:
            items = build_view(document, view.items[0], "")
            item = ref_name(items.ref) if items.ref else items.type()
        return (ref_name(view.ref) if view.ref else None, view.type(), item)

    def _keyword(
        self,
        key: str,
        old: Any,
        new: Any,
        holders: tuple[str, str],
        *,
        location: str,
        direction: Direction,
    ) -> None:
        holder = holders[1] if new is not MISSING else holders[0]
        where = f"{holder}/{escape(key)}"
        if key == "format":
            self._format(_json(old), _json(new), holders, location, direction)
            return
        self.add(keyword_rule(key, old, new, direction), where, location, old=old, new=new)

    def _format(
        self, old: Any, new: Any, holders: tuple[str, str], location: str, direction: Direction
    ) -> None:
        where = f"{holders[1] if new is not None else holders[0]}/format"
        old_type = generated_type(old, base64=f"{holders[0]}/format" in self.base64_old)
        new_type = generated_type(new, base64=f"{holders[1]}/format" in self.base64_new)
        ruling = format_rule(old, new, (old_type, new_type), direction)
        self.add(ruling, where, location, old=old, new=new)

    # -- operations

    def operation(
        self,
        operation_id: str,
        old_at: tuple[str, str] | None,
        new_at: tuple[str, str] | None,
    ) -> OperationChanges:
        self.changes = []
        self._visited = set()
        if new_at is None:
            if old_at is None:
                self.add(operation_missing_rule(), "/paths", "operation")
                return OperationChanges(operation_id, None, None, "removed", self.changes)
            path, method = old_at
            ruling = operation_removed_rule(method, path)
            self.add(ruling, pointer("paths", path, method), "operation")
            return OperationChanges(operation_id, method, path, "removed", self.changes)
        path, method = new_at
        if old_at is None:
            self.add(
                operation_added_rule(method, path), pointer("paths", path, method), "operation"
            )
            return OperationChanges(operation_id, method, path, "added", self.changes)

        old_path, old_method = old_at
        where = pointer("paths", path, method)
        if old_at != new_at:
            ruling = operation_moved_rule(old_at, new_at)
            self.add(ruling, where, "operation", old=list(old_at), new=list(new_at))
        old_item, new_item = self.old["paths"][old_path], self.new["paths"][path]
        old_op, new_op = old_item[old_method], new_item[method]
        old_where = pointer("paths", old_path, old_method)

        walked = {"parameters", "servers", *HTTP_METHODS}
        self._fields(old_item, new_item, pointer("paths", path), "path item", skip=walked)
        walked = {"parameters", "requestBody", "responses", "security", "servers", "operationId"}
        self._fields(old_op, new_op, where, "operation", skip=walked, rule=operation_field_rule)

        self._parameters(
            (old_item, pointer("paths", old_path), old_op, old_where),
            (new_item, pointer("paths", path), new_op, where),
        )
        self._request_body(old_op, old_where, new_op, where)
        self._responses(old_op, old_where, new_op, where)
        self._security(old_op, new_op, where)
        self._servers(
            old_op.get("servers", old_item.get("servers")),
            new_op.get("servers", new_item.get("servers")),
            f"{where}/servers",
            "operation servers",
        )
        status = "changed" if self.changes else "unchanged"
        return OperationChanges(operation_id, method, path, status, self.changes)

    def _fields(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        where: str,
        location: str,
        *,
        skip: Collection[str] = (),
        rule: Callable[[str, Any, Any], Ruling] = annotation_rule,
    ) -> None:
        """One verdict from ``rule`` per field that differs, except those in ``skip`` (walked
        on their own)."""
        for key in _keys(old, new):
            old_value, new_value = old.get(key, MISSING), new.get(key, MISSING)
            if key not in skip and old_value != new_value:
                ruling = rule(key, old_value, new_value)
                self.add(ruling, f"{where}/{escape(key)}", location, old=old_value, new=new_value)

    def _parameters(
        self,
        old: tuple[dict[str, Any], str, dict[str, Any], str],
        new: tuple[dict[str, Any], str, dict[str, Any], str],
    ) -> None:
        before = _collect_parameters(self.old, *old)
        after = _collect_parameters(self.new, *new)
        for key in list(before) + [k for k in after if k not in before]:
            place = key[0]
            name = (after.get(key) or before[key])[0].get("name")
            location = f"{place} parameter {name}"
            if key not in after:
                old_param, old_ptr = before[key]
                self.add(parameter_removed_rule(), old_ptr, location, old=old_param)
                continue
            new_param, new_ptr = after[key]
            if key not in before:
                ruling = parameter_added_rule(new_param.get("required") is True)
                self.add(ruling, new_ptr, location, new=new_param)
                continue
            old_param, old_ptr = before[key]
            self._required(
                old_param, new_param, new_ptr, location, partial(required_rule, direction=REQUEST)
            )
            self._fields(
                old_param,
                new_param,
                new_ptr,
                location,
                skip=("name", "in", "required", "schema", "content"),
                rule=lambda key, _old, _new: parameter_field_rule(key),
            )
            self._schema_of((old_param, old_ptr), (new_param, new_ptr), location, REQUEST)
            self._content((old_param, old_ptr), (new_param, new_ptr), location, REQUEST)

    def _request_body(
        self, old_op: dict[str, Any], old_where: str, new_op: dict[str, Any], where: str
    ) -> None:
        old_body, old_ptr = _deref(self.old, old_op.get("requestBody"), f"{old_where}/requestBody")
        new_body, new_ptr = _deref(self.new, new_op.get("requestBody"), f"{where}/requestBody")
        location = "request body"
        if old_body is None and new_body is None:
            return
        if old_body is None:
            assert new_body is not None
            ruling = request_body_added_rule(new_body.get("required") is True)
            self.add(ruling, new_ptr, location, new=new_body)
            return
        if new_body is None:
            self.add(request_body_removed_rule(), old_ptr, location, old=old_body)
            return
        self._required(
            old_body, new_body, new_ptr, location, partial(required_rule, direction=REQUEST)
        )
        self._fields(old_body, new_body, new_ptr, location, skip=("required", "content"))
        self._content((old_body, old_ptr), (new_body, new_ptr), location, REQUEST)

    def _responses(
        self, old_op: dict[str, Any], old_where: str, new_op: dict[str, Any], where: str
    ) -> None:
        before = {str(k): v for k, v in (old_op.get("responses") or {}).items()}
        after = {str(k): v for k, v in (new_op.get("responses") or {}).items()}
        for code in list(before) + [c for c in after if c not in before]:
            location = f"response {code}"
            old_ptr = f"{old_where}/responses/{escape(code)}"
            new_ptr = f"{where}/responses/{escape(code)}"
            if code not in after:
                self.add(response_code_rule(code, added=False), old_ptr, location, old=before[code])
                continue
            if code not in before:
                self.add(response_code_rule(code, added=True), new_ptr, location, new=after[code])
                continue
            old_response, old_ptr = _deref(self.old, before[code], old_ptr)
            new_response, new_ptr = _deref(self.new, after[code], new_ptr)
            old_response, new_response = old_response or {}, new_response or {}
            self._fields(old_response, new_response, new_ptr, location, skip=("headers", "content"))
            self._headers(old_response, old_ptr, new_response, new_ptr, location)
            self._content((old_response, old_ptr), (new_response, new_ptr), location, RESPONSE)

    def _headers(
        self, old: dict[str, Any], old_ptr: str, new: dict[str, Any], new_ptr: str, location: str
    ) -> None:
        before = {str(k).lower(): (k, v) for k, v in (old.get("headers") or {}).items()}
        after = {str(k).lower(): (k, v) for k, v in (new.get("headers") or {}).items()}
        for key in list(before) + [k for k in after if k not in before]:
            if key not in after:
                name, header = before[key]
                where = f"{old_ptr}/headers/{escape(str(name))}"
                self.add(header_removed_rule(), where, f"{location} header {name}", old=header)
                continue
            name, header = after[key]
            where = f"{new_ptr}/headers/{escape(str(name))}"
            here = f"{location} header {name}"
            if key not in before:
                self.add(header_added_rule(), where, here, new=header)
                continue
            old_name, old_header = before[key]
            old_where = f"{old_ptr}/headers/{escape(str(old_name))}"
            old_header, old_where = _deref(self.old, old_header, old_where)
            header, where = _deref(self.new, header, where)
            old_header, header = old_header or {}, header or {}
            self._required(old_header, header, where, here, header_required_rule)
            self._schema_of((old_header, old_where), (header, where), here, RESPONSE)

    def _required(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        where: str,
        location: str,
        rule: Callable[[bool], Ruling],
    ) -> None:
        """The ``required`` flag of a parameter, request body or header (``where``)."""
        was, now = old.get("required") is True, new.get("required") is True
        if was != now:
            self.add(rule(now), f"{where}/required", location, old=was, new=now)

    def _schema_of(self, old: Held, new: Held, location: str, direction: Direction) -> None:
        """The ``schema`` of a parameter, header or media type, each given with its pointer."""
        (old_holder, old_ptr), (new_holder, new_ptr) = old, new
        old_schema, new_schema = old_holder.get("schema", {}), new_holder.get("schema", {})
        self.schema(
            (old_schema, f"{old_ptr}/schema"),
            (new_schema, f"{new_ptr}/schema"),
            location,
            direction,
        )

    def _content(self, old: Held, new: Held, location: str, direction: Direction) -> None:
        """The media types of a parameter's, request body's or response's ``content``."""
        (old_holder, old_ptr), (new_holder, new_ptr) = old, new
        old_content, new_content = old_holder.get("content"), new_holder.get("content")
        before: dict[str, Any] = old_content if isinstance(old_content, dict) else {}
        after: dict[str, Any] = new_content if isinstance(new_content, dict) else {}
        several = len(set(before) | set(after)) > 1
        for media in list(before) + [m for m in after if m not in before]:
            here = f"{location} ({media})" if several else location
            old_where = f"{old_ptr}/content/{escape(str(media))}"
            new_where = f"{new_ptr}/content/{escape(str(media))}"
            if media not in after:
                self.add(
                    media_type_rule(str(media), added=False), old_where, here, old=before[media]
                )
                continue
            if media not in before:
                self.add(media_type_rule(str(media), added=True), new_where, here, new=after[media])
                continue
            old_media = before[media] if isinstance(before[media], dict) else {}
            new_media = after[media] if isinstance(after[media], dict) else {}
            self._fields(old_media, new_media, new_where, here, skip=("schema",))
            self._schema_of((old_media, old_where), (new_media, new_where), here, direction)

    def _security(self, old_op: dict[str, Any], new_op: dict[str, Any], where: str) -> None:
        before = _security_alternatives(self.old, old_op)
        after = _security_alternatives(self.new, new_op)
        self._requirements(before, after, f"{where}/security", "security")
        self._schemes(before, after)

    def _requirements(
        self, before: dict[str, str], after: dict[str, str], where: str, location: str
    ) -> None:
        anonymous = not after or "(none)" in after.values()
        for signature, names in before.items():
            if signature not in after:
                self.add(
                    security_removed_rule(names, anonymous=anonymous), where, location, old=names
                )
        for signature, names in after.items():
            if signature not in before:
                self.add(security_added_rule(names), where, location, new=names)

    def _schemes(self, before: dict[str, str], after: dict[str, str]) -> None:
        """Security schemes both versions use: their documentation."""
        old_schemes = (self.old.get("components") or {}).get("securitySchemes") or {}
        new_schemes = (self.new.get("components") or {}).get("securitySchemes") or {}
        used = {n for names in before.values() for n in names.split(" + ") if n}
        used &= {n for names in after.values() for n in names.split(" + ") if n}
        for name in sorted(used):
            old_scheme, new_scheme = old_schemes.get(name), new_schemes.get(name)
            if isinstance(old_scheme, dict) and isinstance(new_scheme, dict):
                documentation = {k: v for k, v in old_scheme.items() if is_doc_key(k)}
                updated = {k: v for k, v in new_scheme.items() if is_doc_key(k)}
                where = pointer("components", "securitySchemes", name)
                self._fields(documentation, updated, where, f"security scheme {name}")

    def _servers(self, old: Any, new: Any, where: str, location: str) -> None:
        before = {s.get("url"): s for s in old or [] if isinstance(s, dict)}
        after = {s.get("url"): s for s in new or [] if isinstance(s, dict)}
        for url in [known for known in before if known not in after]:
            self.add(server_rule(str(url), added=False), where, location, old=url)
        for url, server in after.items():
            if url not in before:
                self.add(server_rule(str(url), added=True), where, location, new=url)
            elif before[url] != server:
                self._fields(before[url], server, where, f"{location} {url}")

    def document(self) -> list[Change]:
        self.changes = []
        if str(self.old.get("openapi")) != str(self.new.get("openapi")):
            old_version, new_version = self.old.get("openapi"), self.new.get("openapi")
            self.add(
                openapi_version_rule(), "/openapi", "document", old=old_version, new=new_version
            )
        self._tree(self.old.get("info", {}), self.new.get("info", {}), "/info", "info")
        self._servers(self.old.get("servers"), self.new.get("servers"), "/servers", "servers")
        self._requirements(
            _security_alternatives(self.old, {}),
            _security_alternatives(self.new, {}),
            "/security",
            "top-level security",
        )
        old_tags = {t.get("name"): t for t in self.old.get("tags") or [] if isinstance(t, dict)}
        new_tags = {t.get("name"): t for t in self.new.get("tags") or [] if isinstance(t, dict)}
        dropped = [str(name) for name in old_tags if name not in new_tags]
        added = [str(name) for name in new_tags if name not in old_tags]
        if dropped:
            self.add(tags_rule(dropped, added=False), "/tags", "tags", old=dropped)
        if added:
            self.add(tags_rule(added, added=True), "/tags", "tags", new=added)
        for index, (name, tag) in enumerate(new_tags.items()):
            if name in old_tags and old_tags[name] != tag:
                self._tree(old_tags[name], tag, f"/tags/{index}", f"tag {name}")
        elsewhere = {k for k in _keys(self.old, self.new) if not _document_field(k)}
        self._fields(self.old, self.new, "", "document", skip=elsewhere, rule=document_field_rule)
        return self.changes

    def _tree(self, old: Any, new: Any, where: str, location: str) -> None:
        """Documentation differences, one per changed leaf (or whole added/removed subtree)."""
        if isinstance(old, dict) and isinstance(new, dict):
            for key in _keys(old, new):
                self._tree(
                    old.get(key, MISSING),
                    new.get(key, MISSING),
                    f"{where}/{escape(key)}",
                    location,
                )
        elif old != new:
            field_name = where.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
            self.add(documentation_rule(field_name, old, new), where, location, old=old, new=new)


def _json(value: Any) -> Any:
    """A value as a ``Change`` holds it: ``None`` for one that is absent."""
    return None if value is MISSING else value


def _document_field(key: str) -> bool:
    """A top-level field compared as a whole (the others are walked or are ``paths``)."""
    return key.startswith("x-") or key in ("externalDocs", "jsonSchemaDialect")


def _keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [str(k) for k in old] + [str(k) for k in new if k not in old]


def _deref(document: Spec, node: Any, where: str) -> tuple[dict[str, Any] | None, str]:
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen:
            return None, where
        seen.add(ref)
        try:
            node, where = resolve_pointer(document, ref), ref[1:]
        except KeyError:
            return None, where
    return (node if isinstance(node, dict) else None), where


def _collect_parameters(
    document: Spec,
    item: dict[str, Any],
    item_where: str,
    operation: dict[str, Any],
    operation_where: str,
) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for source, base in (
        (item.get("parameters"), f"{item_where}/parameters"),
        (operation.get("parameters"), f"{operation_where}/parameters"),
    ):
        for index, raw in enumerate(source or []):
            parameter, where = _deref(document, raw, f"{base}/{index}")
            if parameter is None:
                continue
            place, name = str(parameter.get("in")), str(parameter.get("name"))
            found[(place, name.lower() if place == "header" else name)] = (parameter, where)
    return found


def _security_alternatives(document: Spec, operation: dict[str, Any]) -> dict[str, str]:
    """``{signature: "scheme + scheme"}`` for each way the operation accepts credentials."""
    requirements = operation.get("security", document.get("security"))
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    alternatives: dict[str, str] = {}
    for requirement in requirements or []:
        if not isinstance(requirement, dict):
            continue
        parts = []
        for name, scopes in requirement.items():
            scheme = schemes.get(name)
            shape = (
                {k: v for k, v in scheme.items() if not is_doc_key(k)}
                if isinstance(scheme, dict)
                else f"undefined {name}"
            )
            parts.append(short([shape, sorted(map(str, scopes or []))]))
        alternatives[short(sorted(parts))] = " + ".join(map(str, requirement)) or "(none)"
    return alternatives
