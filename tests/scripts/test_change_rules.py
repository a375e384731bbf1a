"""scripts/change_rules.py: each rule of the classifier, one verdict per line."""

from __future__ import annotations

import pytest
from change_rules import (
    BREAKS,
    DOC,
    MISSING,
    REQUEST,
    RESPONSE,
    SAFE,
    ChangeClass,
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
    property_added_rule,
    property_removed_rule,
    request_body_added_rule,
    request_body_removed_rule,
    required_rule,
    response_code_rule,
    schema_renamed_rule,
    security_added_rule,
    security_removed_rule,
    serialisation_rule,
    server_rule,
    tags_rule,
    type_rule,
    variant_added_rule,
    variant_removed_rule,
)

# Short names keep each verdict on one line of the table below.
P, M, Q, R = pytest.param, MISSING, REQUEST, RESPONSE
kw, ty, fmt, null = keyword_rule, type_rule, format_rule, nullable_rule
code, sec = response_code_rule, security_removed_rule
added, removed, required = property_added_rule, property_removed_rule, required_rule
renamed, param_field, media = schema_renamed_rule, parameter_field_rule, media_type_rule

RULES = [
    # Unknown assertion keywords: breaking on the request side (fail safe), keyword named.
    P(kw("dependentRequired", M, {"a": ["b"]}, Q), BREAKS, "dependentRequired", id="req-depReq"),
    P(kw("unevaluatedProperties", M, False, Q), BREAKS, "keyword unevaluated", id="req-uneval"),
    P(kw("not", M, {"const": ""}, Q), BREAKS, "unknown request keyword not", id="req-not-added"),
    P(kw("if", {"minimum": 1}, {"minimum": 2}, Q), BREAKS, "'if' changed", id="req-if-changed"),
    P(kw("not", {"const": ""}, M, Q), SAFE, "'not' removed", id="req-unknown-removed"),
    P(kw("not", M, {"const": ""}, R), SAFE, "does not validate response", id="resp-unknown-added"),
    # Known constraints: direction decides.
    P(kw("additionalProperties", M, False, Q), BREAKS, "tightened", id="req-additional-false"),
    P(kw("maximum", 10, 20, Q), SAFE, "constraint relaxed", id="req-maximum-raised"),
    P(kw("minimum", 1, 4, R), SAFE, "response constraint tightened", id="resp-minimum-raised"),
    # readOnly / writeOnly: which side reads the value.
    P(kw("readOnly", M, True, Q), BREAKS, "may now ignore", id="req-readOnly-added"),
    P(kw("readOnly", M, True, R), SAFE, "readOnly added", id="resp-readOnly-added"),
    P(kw("writeOnly", M, True, R), BREAKS, "may now omit a field", id="resp-writeOnly-added"),
    P(kw("writeOnly", M, True, Q), SAFE, "writeOnly added", id="req-writeOnly-added"),
    P(kw("readOnly", True, M, Q), SAFE, "readOnly removed", id="req-readOnly-removed"),
    # Annotations and documentation.
    P(kw("description", "a", "b", Q), DOC, "description changed", id="description"),
    P(kw("x-mint", M, {}, R), DOC, "x-mint added", id="extension"),
    P(kw("deprecated", M, True, Q), SAFE, "deprecated added", id="deprecated"),
    P(kw("default", 1, 2, Q), SAFE, "server's new default applies", id="req-default"),
    # Properties.
    P(added(True, Q), BREAKS, "new required request property", id="req-property-required"),
    P(added(False, Q), SAFE, "new optional request property", id="req-property-optional"),
    P(added(True, R), SAFE, "new response property (always present)", id="resp-property"),
    P(removed(Q), BREAKS, "request property removed", id="req-property-removed"),
    P(removed(R), BREAKS, "response property removed", id="resp-property-removed"),
    P(required(True, Q), BREAKS, "now required", id="req-now-required"),
    P(required(False, Q), SAFE, "no longer required", id="req-now-optional"),
    P(required(True, R), SAFE, "now always present", id="resp-now-required"),
    P(required(False, R), BREAKS, "may be absent", id="resp-now-optional"),
    # Parameters and request bodies (always the request side).
    P(parameter_added_rule(True), BREAKS, "new required parameter", id="parameter-required"),
    P(parameter_added_rule(False), SAFE, "new optional parameter", id="parameter-optional"),
    P(request_body_added_rule(True), BREAKS, "added (required)", id="body-required"),
    P(request_body_added_rule(False), SAFE, "added (optional)", id="body-optional"),
    # Enums: a response enum is open only where the open_response_enums spec fix applies.
    P(enum_values_removed_rule(["a"], Q), BREAKS, "enum value(s) removed", id="req-enum-removed"),
    P(enum_values_removed_rule(["a"], R), SAFE, "no longer returns", id="resp-enum-removed"),
    P(enum_values_added_rule(["b"], Q, tolerated=False), SAFE, "new accepted", id="req-enum-added"),
    P(enum_values_added_rule(["b"], R, tolerated=True), SAFE, "tolerated", id="resp-enum-open"),
    P(enum_values_added_rule(["b"], R, tolerated=False), BREAKS, "not tolerated", id="resp-enum"),
    P(enum_introduced_rule(["a"], Q), BREAKS, "now restricted", id="req-enum-introduced"),
    P(enum_introduced_rule(["a"], R), SAFE, "now limited", id="resp-enum-introduced"),
    P(enum_dropped_rule(Q, tolerated=False), SAFE, "no longer restricted", id="req-enum-dropped"),
    P(enum_dropped_rule(R, tolerated=True), SAFE, "tolerated", id="resp-open-enum-dropped"),
    P(enum_dropped_rule(R, tolerated=False), BREAKS, "any value", id="resp-enum-dropped"),
    # Types.
    P(ty("integer", "number", Q), SAFE, "type widened", id="req-integer-to-number"),
    P(ty("number", "integer", Q), BREAKS, "type changed", id="req-number-to-integer"),
    P(ty("integer", "number", R), BREAKS, "type changed", id="resp-integer-to-number"),
    P(ty("number", "integer", R), SAFE, "type narrowed", id="resp-number-to-integer"),
    P(ty("integer", "string", Q), BREAKS, "type changed", id="req-integer-to-string"),
    P(ty(None, "string", Q), BREAKS, "now restricted to type string", id="req-type-added"),
    P(ty("string", None, R), BREAKS, "no longer declared", id="resp-type-dropped"),
    P(null(True, Q), SAFE, "now accepts null", id="req-nullable"),
    P(null(True, R), BREAKS, "may now be null", id="resp-nullable"),
    # Formats: the generated Python type first, then the range of values.
    P(fmt("int32", "int64", ("int", "int"), Q), SAFE, "wider range", id="req-int32-to-int64"),
    P(fmt("int64", "int32", ("int", "int"), Q), BREAKS, "tightened", id="req-int64-to-int32"),
    P(fmt("float", "double", ("float", "float"), Q), SAFE, "wider range", id="req-float-to-double"),
    P(fmt(None, "email", ("str", "str"), Q), BREAKS, "constraint tightened", id="req-email-added"),
    P(fmt("email", None, ("str", "str"), Q), SAFE, "constraint relaxed", id="req-format-removed"),
    P(fmt(None, "date-time", ("str", "datetime"), R), BREAKS, "type changes", id="resp-datetime"),
    P(fmt("int32", "int64", ("int", "int"), R), SAFE, "same generated", id="resp-int32-to-int64"),
    # Response codes: only 2XX results are parsed.
    P(code("default", added=True), SAFE, "new default response", id="default-response-added"),
    P(code("default", added=False), SAFE, "no longer documented", id="default-response-removed"),
    P(code("201", added=True), BREAKS, "new success response", id="success-response-added"),
    P(code("200", added=False), BREAKS, "no longer documented", id="success-response-removed"),
    P(code("429", added=True), SAFE, "new error response", id="error-response-added"),
    # Security: a requirement dropped is breaking unless none is needed any more.
    P(sec("token", anonymous=True), SAFE, "no longer required", id="security-relaxed-to-none"),
    P(sec("token", anonymous=False), BREAKS, "no longer accepted: token", id="security-removed"),
    P(security_added_rule("token"), SAFE, "new way to authenticate: token", id="security-added"),
    # Named schemas: a new name alone is documentation; a parsed response model replaced is not.
    P(renamed("A → B", differs=False, direction=R), DOC, "schema renamed", id="schema-renamed"),
    P(renamed("A → B", differs=True, direction=R), BREAKS, "replaced", id="resp-schema-replaced"),
    P(renamed("A → B", differs=True, direction=Q), DOC, "now refers to", id="req-schema-replaced"),
    P(enum_reordered_rule(), DOC, "reordered", id="enum-reordered"),
    # Union members.
    P(variant_removed_rule("Cat", Q), BREAKS, "no longer accepts Cat", id="req-variant-removed"),
    P(variant_removed_rule("Cat", R), SAFE, "no longer returns Cat", id="resp-variant-removed"),
    P(variant_added_rule("Dog", Q), SAFE, "now also accepts Dog", id="req-variant-added"),
    P(variant_added_rule("Dog", R), BREAKS, "does not parse", id="resp-variant-added"),
    # Operations.
    P(operation_missing_rule(), BREAKS, "not found upstream", id="operation-missing"),
    P(operation_removed_rule("get", "/a"), BREAKS, "(was GET /a)", id="operation-removed"),
    P(operation_added_rule("post", "/a"), SAFE, "new tracked operation POST /a", id="op-added"),
    P(operation_moved_rule(("/a", "get"), ("/b", "get")), BREAKS, "GET /a to GET /b", id="moved"),
    P(operation_field_rule("summary", "a", M), DOC, "summary removed", id="operation-summary"),
    P(operation_field_rule("tags", ["a"], ["b"]), SAFE, "module api/<tag>/", id="operation-tags"),
    P(operation_field_rule("deprecated", M, True), SAFE, "'deprecated' added", id="op-deprecated"),
    P(annotation_rule("description", "a", "b"), DOC, "description changed", id="annotation-doc"),
    P(annotation_rule("encoding", M, {}), SAFE, "encoding added", id="annotation-encoding"),
    # Parameter fields: how the value is written to the URL or headers.
    P(serialisation_rule("style"), BREAKS, "serialisation changed (style)", id="serialisation"),
    P(param_field("explode"), BREAKS, "serialisation changed (explode)", id="param-explode"),
    P(param_field("description"), DOC, "description changed", id="param-description"),
    P(param_field("deprecated"), SAFE, "'deprecated' changed", id="param-deprecated"),
    P(request_body_removed_rule(), BREAKS, "request body removed", id="body-removed"),
    # Response headers and media types.
    P(header_added_rule(), SAFE, "new response header", id="header-added"),
    P(header_removed_rule(), BREAKS, "response header removed", id="header-removed"),
    P(header_required_rule(True), SAFE, "now always present", id="header-now-required"),
    P(header_required_rule(False), BREAKS, "no longer required", id="header-now-optional"),
    P(media("text/csv", added=True), SAFE, "new media type text/csv", id="media-type-added"),
    P(media("text/csv", added=False), BREAKS, "media type text/csv removed", id="media-removed"),
    # The document: servers (base URLs), version, tags, top-level fields, info.
    P(server_rule("https://a", added=True), SAFE, "server https://a added", id="server-added"),
    P(server_rule("https://a", added=False), BREAKS, "base URL", id="server-removed"),
    P(openapi_version_rule(), SAFE, "OpenAPI version changed", id="openapi-version"),
    P(tags_rule(["a", "b"], added=True), DOC, "tag(s) added: a, b", id="tags-added"),
    P(tags_rule(["a"], added=False), DOC, "1 tag(s) no longer listed: a", id="tags-dropped"),
    P(document_field_rule("jsonSchemaDialect", "a", "b"), SAFE, "changed", id="schema-dialect"),
    P(document_field_rule("x-logo", M, {}), DOC, "x-logo added", id="document-extension"),
    P(documentation_rule("version", "1", "2"), DOC, "version changed", id="info-version"),
]  # fmt: skip


@pytest.mark.parametrize(("ruling", "kind", "words"), RULES)
def test_rule(ruling: Ruling, kind: ChangeClass, words: str) -> None:
    """Each rule gives the expected class, and its message names what changed."""
    assert (kind, True) == (ruling[0], words in ruling[1]), ruling


@pytest.mark.parametrize(
    ("signature", "label"),
    [
        (("Cat", "object", None), "Cat"),
        ((None, "array", "Cat"), "array of Cat"),
        ((None, "string", None), "string"),
        ((None, None, None), "any value"),
    ],
)
def test_member_label(signature: tuple[str | None, str | None, str | None], label: str) -> None:
    """A union member is named by its schema, else its type, in variant messages."""
    assert label == member_label(signature)


@pytest.mark.parametrize(
    ("value", "base64", "python"),
    [("date-time", False, "datetime"), ("binary", False, "File"), ("binary", True, "str"),
     ("email", False, "str"), (None, False, "str")],
)  # fmt: skip
def test_generated_type(value: str | None, base64: bool, python: str) -> None:
    """The generated Python type of a format, which format_rule compares."""
    assert python == generated_type(value, base64=base64)
