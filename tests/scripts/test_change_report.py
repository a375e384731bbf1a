"""scripts/spec_diff.py: every kind of change, classified from this client's point of view."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import spec_diff
from spec_diff import Change, ChangeClass, Report, Verdict, compare_specs
from spec_filter import parse_document, select_operations
from spec_fixes import FIXES, apply_fixes

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT.parent / "shared" / "upstream" / "openapi-2026-07-22.yaml"
TRACKED = ["dedicatedImagesGenerate"]
IMAGES = "/dedicated/v1/images/generations"
OP = "/paths/~1dedicated~1v1~1images~1generations/post"
BODY = "/components/schemas/DedicatedImageGenerationBody"
URL_ITEM = "/components/schemas/UrlImageItem"
RESULT = "/components/schemas/ImageGenerationDedicatedResult"
# The committed spec cut down to the one operation these tests mutate, as update_spec.py
# would write it for that tracked list: other tracked operations (and their aliases, enums
# and defaults) cannot change what a test about this operation sees.
BASE = select_operations(
    parse_document((ROOT / "openapi.yaml").read_text(encoding="utf-8"), "openapi.yaml"), TRACKED
).spec

Spec = dict[str, Any]
Mutation = Callable[[Spec], None]


def mutated(*mutations: Mutation, base: Spec | None = None) -> Spec:
    spec = copy.deepcopy(BASE if base is None else base)
    spec["components"]["securitySchemes"]["apiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Key",
    }
    for mutation in mutations:
        mutation(spec)
    return spec


def seed_like(selected: Spec) -> Spec:
    """The filtered snapshot as the project's hand-copied seed had it (built, not read).

    The first openapi.yaml was copied by hand from the API page: old operation description,
    no Speakeasy or Mintlify extensions, another token description, no tags list, and an
    explicit top-level ``security: []``.
    """
    seed = copy.deepcopy(selected)
    operation = seed["paths"][IMAGES]["post"]
    operation["description"] = "Given a description, the model generates image(s)."
    for key in ("x-speakeasy-name-override", "x-mint"):
        operation.pop(key, None)
    seed["components"]["securitySchemes"]["token"]["description"] = "A Friendli token."
    seed.pop("tags", None)
    seed.pop("x-speakeasy-retries", None)
    seed["security"] = []
    return seed


def compare(old: Spec, new: Spec) -> Report:
    return compare_specs(old, new, TRACKED, source="test")


def substantive(report: Report) -> list[Change]:
    return [change for change in report.changes() if change.kind > ChangeClass.DOCUMENTATION]


def schemas(spec: Spec) -> dict[str, Any]:
    result: dict[str, Any] = spec["components"]["schemas"]
    return result


def body(spec: Spec) -> dict[str, Any]:
    result: dict[str, Any] = schemas(spec)["DedicatedImageGenerationBody"]
    return result


def body_prop(name: str) -> Callable[[Spec], dict[str, Any]]:
    return lambda spec: body(spec)["properties"][name]


def url_item(spec: Spec) -> dict[str, Any]:
    result: dict[str, Any] = schemas(spec)["UrlImageItem"]
    return result


def operation(spec: Spec) -> dict[str, Any]:
    result: dict[str, Any] = spec["paths"][IMAGES]["post"]
    return result


TEAM = "X-Friendli-Team"
"""The header parameter the parameter cases change, found by name (not by position: an
optional header added upstream before it must not move the tests' pointers)."""


def parameters(spec: Spec) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = operation(spec).setdefault("parameters", [])
    return result


def team_index(spec: Spec) -> int:
    """Where the team header is in the operation's parameters."""
    names = [parameter.get("name") for parameter in parameters(spec)]
    return names.index(TEAM)


def team(spec: Spec) -> dict[str, Any]:
    return parameters(spec)[team_index(spec)]


def undocumented_error_status(spec: Spec) -> str:
    """An error status the operation does not document yet (429 unless upstream added it)."""
    documented = operation(spec)["responses"]
    return next(code for code in ("429", "503", "418", "409", "410") if code not in documented)


def set_key(get: Callable[[Spec], dict[str, Any]], key: str, value: Any) -> Mutation:
    def mutation(spec: Spec) -> None:
        get(spec)[key] = value

    return mutation


def del_key(get: Callable[[Spec], dict[str, Any]], key: str) -> Mutation:
    def mutation(spec: Spec) -> None:
        del get(spec)[key]

    return mutation


def add_property(get: Callable[[Spec], dict[str, Any]], name: str, *, required: bool) -> Mutation:
    def mutation(spec: Spec) -> None:
        schema = get(spec)
        schema["properties"][name] = {"type": "string", "title": name.title()}
        if required:
            schema["required"].append(name)

    return mutation


def remove_property(get: Callable[[Spec], dict[str, Any]], name: str) -> Mutation:
    def mutation(spec: Spec) -> None:
        schema = get(spec)
        del schema["properties"][name]
        if name in schema.get("required", []):
            schema["required"].remove(name)

    return mutation


def require(get: Callable[[Spec], dict[str, Any]], name: str, *, required: bool) -> Mutation:
    def mutation(spec: Spec) -> None:
        names = get(spec)["required"]
        if required:
            names.append(name)
        else:
            names.remove(name)

    return mutation


def request_enum(spec: Spec) -> list[str]:
    result: list[str] = body(spec)["properties"]["response_format"]["anyOf"][0]["enum"]
    return result


def response_enum(spec: Spec) -> list[str]:
    result: list[str] = url_item(spec)["properties"]["response_format"]["enum"]
    return result


def nothing(spec: Spec) -> None:
    """Leave the spec as it is."""


# (old mutation, new mutation, expected class, pointer of the change, words in its message)
CASES: dict[str, tuple[Mutation, Mutation, ChangeClass, str, str]] = {
    # request properties
    "request property added as optional": (
        nothing,
        add_property(body, "negative_prompt", required=False),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/negative_prompt",
        "new optional request property",
    ),
    "request property added as required": (
        nothing,
        add_property(body, "negative_prompt", required=True),
        ChangeClass.BREAKING,
        f"{BODY}/properties/negative_prompt",
        "new required request property",
    ),
    "request property becomes required": (
        nothing,
        require(body, "seed", required=True),
        ChangeClass.BREAKING,
        f"{BODY}/required",
        "now required",
    ),
    "request property no longer required": (
        nothing,
        require(body, "prompt", required=False),
        ChangeClass.NON_BREAKING,
        f"{BODY}/required",
        "no longer required",
    ),
    "request property removed": (
        nothing,
        remove_property(body, "guidance_scale"),
        ChangeClass.BREAKING,
        f"{BODY}/properties/guidance_scale",
        "request property removed",
    ),
    "request type changed": (
        nothing,
        set_key(body_prop("num_inference_steps"), "type", "string"),
        ChangeClass.BREAKING,
        f"{BODY}/properties/num_inference_steps",
        "type changed from integer to string",
    ),
    "request enum value removed": (
        nothing,
        lambda spec: request_enum(spec).remove("jpg"),
        ChangeClass.BREAKING,
        f"{BODY}/properties/response_format/anyOf/0/enum",
        'enum value(s) removed: "jpg"',
    ),
    "request enum value added": (
        nothing,
        lambda spec: request_enum(spec).append("webp"),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/response_format/anyOf/0/enum",
        'new accepted enum value(s): "webp"',
    ),
    "request maximum added": (
        nothing,
        set_key(body_prop("num_inference_steps"), "maximum", 50),
        ChangeClass.BREAKING,
        f"{BODY}/properties/num_inference_steps/maximum",
        "constraint tightened: maximum (none) → 50",
    ),
    "request maximum raised": (
        set_key(body_prop("num_inference_steps"), "maximum", 50),
        set_key(body_prop("num_inference_steps"), "maximum", 100),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/num_inference_steps/maximum",
        "constraint relaxed: maximum 50 → 100",
    ),
    "request minimum raised": (
        set_key(body_prop("num_inference_steps"), "minimum", 1),
        set_key(body_prop("num_inference_steps"), "minimum", 4),
        ChangeClass.BREAKING,
        f"{BODY}/properties/num_inference_steps/minimum",
        "constraint tightened",
    ),
    "request minimum dropped": (
        set_key(body_prop("num_inference_steps"), "minimum", 1),
        nothing,
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/num_inference_steps/minimum",
        "constraint relaxed",
    ),
    "request maxLength lowered": (
        set_key(body_prop("prompt"), "maxLength", 1000),
        set_key(body_prop("prompt"), "maxLength", 500),
        ChangeClass.BREAKING,
        f"{BODY}/properties/prompt/maxLength",
        "constraint tightened: maxLength 1000 → 500",
    ),
    "request pattern added": (
        nothing,
        set_key(body_prop("model"), "pattern", "^[a-z0-9]+$"),
        ChangeClass.BREAKING,
        f"{BODY}/properties/model/pattern",
        "constraint tightened",
    ),
    "request pattern removed": (
        set_key(body_prop("model"), "pattern", "^[a-z0-9]+$"),
        nothing,
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/model/pattern",
        "constraint relaxed",
    ),
    "request maxItems lowered": (
        set_key(lambda spec: body_prop("control_images")(spec)["anyOf"][0], "maxItems", 4),
        set_key(lambda spec: body_prop("control_images")(spec)["anyOf"][0], "maxItems", 2),
        ChangeClass.BREAKING,
        f"{BODY}/properties/control_images/anyOf/0/maxItems",
        "constraint tightened",
    ),
    "request minItems lowered": (
        set_key(lambda spec: body_prop("control_images")(spec)["anyOf"][0], "minItems", 2),
        set_key(lambda spec: body_prop("control_images")(spec)["anyOf"][0], "minItems", 1),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/control_images/anyOf/0/minItems",
        "constraint relaxed",
    ),
    "request format added": (
        nothing,
        set_key(lambda spec: schemas(spec)["ImageInput"]["properties"]["image"], "format", "uri"),
        ChangeClass.BREAKING,
        "/components/schemas/ImageInput/properties/image/format",
        "constraint tightened: format",
    ),
    "request no longer accepts null": (
        nothing,
        lambda spec: body(spec)["properties"].__setitem__("seed", {"type": "integer"}),
        ChangeClass.BREAKING,
        f"{BODY}/properties/seed",
        "no longer accepts null",
    ),
    "request accepts null": (
        nothing,
        lambda spec: body(spec)["properties"].__setitem__(
            "prompt", {"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/prompt/anyOf/0",
        "now accepts null",
    ),
    "request default changed": (
        nothing,
        set_key(body_prop("num_inference_steps"), "default", 30),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/num_inference_steps/default",
        "default changed; this client omits unset fields",
    ),
    # responses
    "response property added": (
        nothing,
        add_property(url_item, "width", required=True),
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/properties/width",
        "new response property",
    ),
    "response property removed": (
        nothing,
        remove_property(url_item, "url"),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/properties/url",
        "response property removed",
    ),
    "response property no longer required": (
        nothing,
        require(url_item, "seed", required=False),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/required",
        "no longer required: may be absent",
    ),
    "response property now always present": (
        require(url_item, "seed", required=False),
        nothing,
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/required",
        "now always present",
    ),
    "response type changed": (
        nothing,
        set_key(lambda spec: url_item(spec)["properties"]["seed"], "type", "string"),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/properties/seed",
        "type changed from integer to string",
    ),
    "response may be null": (
        nothing,
        lambda spec: url_item(spec)["properties"].__setitem__(
            "url", {"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/properties/url/anyOf/0",
        "may now be null",
    ),
    "response enum value added": (
        nothing,
        lambda spec: response_enum(spec).append("webp"),
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/properties/response_format/enum",
        "tolerated: response enums are open in this client",
    ),
    "response enum value removed": (
        nothing,
        lambda spec: response_enum(spec).remove("jpg"),
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/properties/response_format/enum",
        'no longer returns enum value(s) "jpg"',
    ),
    "response integer enum value added": (
        set_key(
            lambda spec: url_item(spec)["properties"],
            "quality",
            {"type": "integer", "enum": [1, 2]},
        ),
        set_key(
            lambda spec: url_item(spec)["properties"],
            "quality",
            {"type": "integer", "enum": [1, 2, 3]},
        ),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/properties/quality/enum",
        "not tolerated: the generated enum rejects unknown values",
    ),
    "response constraint tightened": (
        nothing,
        set_key(lambda spec: url_item(spec)["properties"]["seed"], "minimum", 0),
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/properties/seed/minimum",
        "this client does not validate response values",
    ),
    "response constraint relaxed": (
        set_key(lambda spec: url_item(spec)["properties"]["seed"], "minimum", 0),
        nothing,
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/properties/seed/minimum",
        "response constraint relaxed",
    ),
    "response gains a variant": (
        nothing,
        lambda spec: schemas(spec)["ImageGenerationDedicatedResult"]["properties"]["data"][
            "anyOf"
        ].append({"type": "string"}),
        ChangeClass.BREAKING,
        f"{RESULT}/properties/data/anyOf/2",
        "may now be string, which the current client does not parse",
    ),
    "request gains a variant": (
        nothing,
        lambda spec: body(spec)["properties"]["seed"]["anyOf"].insert(1, {"type": "string"}),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/seed/anyOf/1",
        "now also accepts string",
    ),
    "request loses a variant": (
        lambda spec: body(spec)["properties"]["seed"]["anyOf"].insert(1, {"type": "string"}),
        nothing,
        ChangeClass.BREAKING,
        f"{BODY}/properties/seed/anyOf/1",
        "no longer accepts string",
    ),
    # operation, parameters, body, responses, security, servers
    "path changed": (
        nothing,
        lambda spec: spec["paths"].__setitem__(
            "/dedicated/v2/images/generations", spec["paths"].pop(IMAGES)
        ),
        ChangeClass.BREAKING,
        "/paths/~1dedicated~1v2~1images~1generations/post",
        f"moved from POST {IMAGES} to POST /dedicated/v2/images/generations",
    ),
    "method changed": (
        nothing,
        lambda spec: spec["paths"][IMAGES].__setitem__("put", spec["paths"][IMAGES].pop("post")),
        ChangeClass.BREAKING,
        "/paths/~1dedicated~1v1~1images~1generations/put",
        "moved from POST",
    ),
    "request body no longer required": (
        nothing,
        lambda spec: operation(spec)["requestBody"].__setitem__("required", False),
        ChangeClass.NON_BREAKING,
        f"{OP}/requestBody/required",
        "no longer required",
    ),
    "success response removed": (
        nothing,
        lambda spec: operation(spec)["responses"].pop("200"),
        ChangeClass.BREAKING,
        f"{OP}/responses/200",
        "response no longer documented",
    ),
    "security alternative dropped": (
        lambda spec: operation(spec)["security"].append({"apiKey": []}),
        nothing,
        ChangeClass.BREAKING,
        f"{OP}/security",
        "security requirement no longer accepted: apiKey",
    ),
    "security alternative added": (
        nothing,
        lambda spec: operation(spec)["security"].append({"apiKey": []}),
        ChangeClass.NON_BREAKING,
        f"{OP}/security",
        "new way to authenticate: apiKey",
    ),
    "server removed": (
        nothing,
        lambda spec: spec.__setitem__("servers", []),
        ChangeClass.BREAKING,
        "/servers",
        "server https://api.friendli.ai removed",
    ),
    "server added": (
        nothing,
        lambda spec: spec["servers"].append({"url": "https://eu.friendli.ai"}),
        ChangeClass.NON_BREAKING,
        "/servers",
        "server https://eu.friendli.ai added",
    ),
    "operation deprecated": (
        nothing,
        lambda spec: operation(spec).__setitem__("deprecated", True),
        ChangeClass.NON_BREAKING,
        f"{OP}/deprecated",
        "'deprecated' added",
    ),
    # Fail safe: a keyword the rules do not know restricts what the client may send.
    "request dependentRequired added": (
        nothing,
        set_key(body, "dependentRequired", {"seed": ["model"]}),
        ChangeClass.BREAKING,
        f"{BODY}/dependentRequired",
        "unknown request keyword dependentRequired",
    ),
    "request unevaluatedProperties false": (
        nothing,
        set_key(body, "unevaluatedProperties", False),
        ChangeClass.BREAKING,
        f"{BODY}/unevaluatedProperties",
        "unknown request keyword unevaluatedProperties",
    ),
    "request not added": (
        nothing,
        set_key(body_prop("prompt"), "not", {"const": ""}),
        ChangeClass.BREAKING,
        f"{BODY}/properties/prompt/not",
        "unknown request keyword not",
    ),
    "request unknown keyword removed": (
        set_key(body, "dependentRequired", {"seed": ["model"]}),
        nothing,
        ChangeClass.NON_BREAKING,
        f"{BODY}/dependentRequired",
        "'dependentRequired' removed",
    ),
    "response unknown keyword added": (
        nothing,
        set_key(url_item, "dependentRequired", {"seed": ["url"]}),
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/dependentRequired",
        "does not validate response values",
    ),
    "request readOnly added": (
        nothing,
        set_key(body_prop("prompt"), "readOnly", True),
        ChangeClass.BREAKING,
        f"{BODY}/properties/prompt/readOnly",
        "may now ignore what the client sends",
    ),
    "response readOnly added": (
        nothing,
        set_key(lambda spec: url_item(spec)["properties"]["seed"], "readOnly", True),
        ChangeClass.NON_BREAKING,
        f"{URL_ITEM}/properties/seed/readOnly",
        "readOnly added",
    ),
    "response writeOnly added": (
        nothing,
        set_key(lambda spec: url_item(spec)["properties"]["seed"], "writeOnly", True),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/properties/seed/writeOnly",
        "may now omit a field the client reads",
    ),
    "request writeOnly added": (
        nothing,
        set_key(body_prop("prompt"), "writeOnly", True),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/prompt/writeOnly",
        "writeOnly added",
    ),
    "request integer widened to number": (
        nothing,
        set_key(lambda spec: body(spec)["properties"]["seed"]["anyOf"][0], "type", "number"),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/seed/anyOf/0",
        "type widened from integer to number",
    ),
    "response integer widened to number": (
        nothing,
        set_key(lambda spec: url_item(spec)["properties"]["seed"], "type", "number"),
        ChangeClass.BREAKING,
        f"{URL_ITEM}/properties/seed",
        "type changed from integer to number",
    ),
    "request format int32 to int64": (
        set_key(lambda spec: body(spec)["properties"]["seed"]["anyOf"][0], "format", "int32"),
        set_key(lambda spec: body(spec)["properties"]["seed"]["anyOf"][0], "format", "int64"),
        ChangeClass.NON_BREAKING,
        f"{BODY}/properties/seed/anyOf/0/format",
        "same generated type, wider range",
    ),
    "request format int64 to int32": (
        set_key(lambda spec: body(spec)["properties"]["seed"]["anyOf"][0], "format", "int64"),
        set_key(lambda spec: body(spec)["properties"]["seed"]["anyOf"][0], "format", "int32"),
        ChangeClass.BREAKING,
        f"{BODY}/properties/seed/anyOf/0/format",
        "constraint tightened: format",
    ),
    "operation security relaxed to []": (
        nothing,
        lambda spec: operation(spec).__setitem__("security", []),
        ChangeClass.NON_BREAKING,
        f"{OP}/security",
        "authentication no longer required",
    ),
    "top-level security alternative removed": (
        lambda spec: spec.__setitem__("security", [{"token": []}, {"apiKey": []}]),
        lambda spec: spec.__setitem__("security", [{"token": []}]),
        ChangeClass.BREAKING,
        "/security",
        "security requirement no longer accepted: apiKey",
    ),
    "top-level security alternative added": (
        lambda spec: spec.__setitem__("security", [{"token": []}]),
        lambda spec: spec.__setitem__("security", [{"token": []}, {"apiKey": []}]),
        ChangeClass.NON_BREAKING,
        "/security",
        "new way to authenticate: apiKey",
    ),
}

Case = tuple[Mutation, Mutation, ChangeClass, str, str]


def spec_dependent_cases(base: Spec) -> dict[str, Case]:
    """The cases whose pointers depend on what the spec documents: parameter positions
    (the team header by name, a new parameter after the last) and the responses."""
    at, after = team_index(base), len(parameters(base))
    error = undocumented_error_status(base)

    def without_default(spec: Spec) -> None:
        operation(spec)["responses"].pop("default", None)

    def without_team(spec: Spec) -> None:
        del parameters(spec)[team_index(spec)]

    return {
        "parameter added as optional": (
            nothing,
            lambda spec: parameters(spec).append(
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
            ),
            ChangeClass.NON_BREAKING,
            f"{OP}/parameters/{after}",
            "new optional parameter",
        ),
        "parameter added as required": (
            nothing,
            lambda spec: parameters(spec).append(
                {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}}
            ),
            ChangeClass.BREAKING,
            f"{OP}/parameters/{after}",
            "new required parameter",
        ),
        "parameter becomes required": (
            nothing,
            lambda spec: team(spec).__setitem__("required", True),
            ChangeClass.BREAKING,
            f"{OP}/parameters/{at}/required",
            "now required",
        ),
        "parameter removed": (
            nothing,
            without_team,
            ChangeClass.BREAKING,
            f"{OP}/parameters/{at}",
            "parameter removed",
        ),
        "parameter type changed": (
            nothing,
            lambda spec: team(spec)["schema"]["anyOf"].__setitem__(0, {"type": "integer"}),
            ChangeClass.BREAKING,
            f"{OP}/parameters/{at}/schema/anyOf/0",
            "type changed from string to integer",
        ),
        "error response added": (
            nothing,
            lambda spec: operation(spec)["responses"].__setitem__(
                error, {"description": "Slow down"}
            ),
            ChangeClass.NON_BREAKING,
            f"{OP}/responses/{error}",
            "new error response documented",
        ),
        "new default response": (
            without_default,
            lambda spec: operation(spec)["responses"].__setitem__(
                "default", {"description": "Error"}
            ),
            ChangeClass.NON_BREAKING,
            f"{OP}/responses/default",
            "new default response documented",
        ),
    }


CASES.update(spec_dependent_cases(BASE))


def harmless_sync(spec: Spec) -> Spec:
    """``spec`` after a harmless upstream change: a new optional header, placed before the
    others, and a documented ``default`` (error) response."""
    synced = copy.deepcopy(spec)
    parameters(synced).insert(
        0, {"name": "X-Request-Id", "in": "header", "required": False, "schema": {"type": "string"}}
    )
    operation(synced)["responses"]["default"] = {"description": "Unexpected error"}
    return synced


def check_case(case: Case, base: Spec) -> None:
    old_mutation, new_mutation, kind, where, words = case

    report = compare(mutated(old_mutation, base=base), mutated(new_mutation, base=base))

    found = [(c.kind, c.pointer, words in c.message) for c in substantive(report)]
    assert [(kind, where, True)] == found, [c.to_json() for c in substantive(report)]
    assert kind == max(c.kind for c in report.changes())


class TestClassification:
    @pytest.mark.parametrize("case", list(CASES))
    def test_case(self, case: str) -> None:
        """Each mutation yields exactly one substantive change, with its class and pointer."""
        check_case(CASES[case], BASE)

    @pytest.mark.parametrize("case", list(spec_dependent_cases(BASE)))
    def test_case_after_a_harmless_sync(self, case: str) -> None:
        """The parameter and response cases read their pointers from the spec they run
        against: after upstream adds an optional header (before the others) and a
        ``default`` response, they still find exactly their one change."""
        synced = harmless_sync(BASE)
        # The sync itself is harmless, and it does move the team header.
        assert ChangeClass.NON_BREAKING == max(c.kind for c in compare(BASE, synced).changes())
        assert team_index(synced) == team_index(BASE) + 1

        check_case(spec_dependent_cases(synced)[case], synced)

    def test_every_class_in_both_directions(self) -> None:
        """The table covers breaking and non-breaking outcomes of each family of change."""
        kinds = {name: CASES[name][2] for name in CASES}

        assert ChangeClass.BREAKING == kinds["request property added as required"]
        assert ChangeClass.NON_BREAKING == kinds["request property added as optional"]
        assert ChangeClass.BREAKING == kinds["request maximum added"]
        assert ChangeClass.NON_BREAKING == kinds["request maximum raised"]
        assert ChangeClass.BREAKING == kinds["request enum value removed"]
        assert ChangeClass.NON_BREAKING == kinds["response enum value removed"]
        assert ChangeClass.NON_BREAKING == kinds["request enum value added"]
        assert ChangeClass.NON_BREAKING == kinds["response enum value added"]

    def test_security_scheme_changed(self) -> None:
        """A scheme that changes kind is a requirement no longer accepted plus a new one."""
        new = mutated(
            lambda spec: spec["components"]["securitySchemes"].__setitem__(
                "token", {"type": "apiKey", "in": "header", "name": "X-Key"}
            )
        )

        report = compare(mutated(), new)

        assert [
            (ChangeClass.BREAKING, "security requirement no longer accepted: token"),
            (ChangeClass.NON_BREAKING, "new way to authenticate: token"),
        ] == [(c.kind, c.message) for c in substantive(report)]

    def test_renamed_security_scheme_is_not_a_change(self) -> None:
        """Renaming a security scheme without changing it keeps the same requirement."""

        def rename(spec: Spec) -> None:
            spec["components"]["securitySchemes"]["bearer"] = spec["components"][
                "securitySchemes"
            ].pop("token")
            operation(spec)["security"] = [{"bearer": []}]

        report = compare(mutated(), mutated(rename))

        assert [] == substantive(report)

    def test_identical(self) -> None:
        """The same document compared with itself has no change."""
        report = compare(BASE, copy.deepcopy(BASE))

        assert Verdict.NO_CHANGE == report.verdict
        assert [] == list(report.changes())
        assert "unchanged" == report.operations[0].status

    def test_reformatting_is_no_change(self) -> None:
        """Key order and the top-level security [] vs absent are not changes."""
        old = copy.deepcopy(BASE)
        old["security"] = []
        reordered = {key: old[key] for key in reversed(list(old)) if key != "security"}
        reordered = json.loads(json.dumps(reordered))

        report = compare(old, reordered)

        assert Verdict.NO_CHANGE == report.verdict

    def test_operation_removed(self) -> None:
        """A tracked operation that disappears is breaking, and its status says removed."""
        new = mutated(lambda spec: spec["paths"].clear())

        report = compare(BASE, new)

        assert Verdict.BREAKING == report.verdict
        assert "removed" == report.operations[0].status
        assert (
            f"operation removed upstream (was POST {IMAGES})"
            == report.operations[0].changes[0].message
        )

    def test_operation_added(self) -> None:
        """A tracked operation that appears upstream is non-breaking, status added."""
        old = mutated(lambda spec: spec["paths"].clear())

        report = compare(old, BASE)

        assert Verdict.NON_BREAKING == report.verdict
        assert "added" == report.operations[0].status

    def test_no_previous_spec(self) -> None:
        """Without a previous openapi.yaml every tracked operation is new."""
        report = compare_specs(None, BASE, TRACKED)

        assert ["added"] == [operation.status for operation in report.operations]
        assert [] == report.document

    def test_direction_of_a_shared_schema(self) -> None:
        """One change to a schema used by request and response is classed per direction."""

        def share(spec: Spec) -> None:
            schemas(spec)["Meta"] = {"type": "object", "properties": {}, "required": []}
            body(spec)["properties"]["meta"] = {"$ref": "#/components/schemas/Meta"}
            url_item(spec)["properties"]["meta"] = {"$ref": "#/components/schemas/Meta"}

        new = mutated(share, add_property(lambda spec: schemas(spec)["Meta"], "tag", required=True))

        report = compare(mutated(share), new)

        assert [
            (ChangeClass.BREAKING, "request body.meta.tag", "new required request property"),
            (
                ChangeClass.NON_BREAKING,
                "response 200.data (array of UrlImageItem)[].meta.tag",
                "new response property (always present)",
            ),
        ] == [(c.kind, c.location, c.message) for c in report.changes()]

    def test_recursive_schema(self) -> None:
        """A self-referencing schema is compared once, without looping."""

        def recurse(spec: Spec) -> None:
            schemas(spec)["ImageInput"]["properties"]["children"] = {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ImageInput"},
            }

        new = mutated(
            recurse, add_property(lambda spec: schemas(spec)["ImageInput"], "mask", required=False)
        )

        report = compare(mutated(recurse), new)

        assert ["new optional request property"] == [c.message for c in report.changes()]


class TestReferences:
    def test_rename_is_documentation(self) -> None:
        """Renaming a component without changing its shape is documentation, not breaking."""

        def rename(spec: Spec) -> None:
            schemas(spec)["UrlImage"] = schemas(spec).pop("UrlImageItem")
            data = schemas(spec)["ImageGenerationDedicatedResult"]["properties"]["data"]
            data["anyOf"][0]["items"]["$ref"] = "#/components/schemas/UrlImage"

        report = compare(BASE, mutated(rename))

        assert Verdict.DOCUMENTATION == report.verdict
        messages = [c.message for c in report.changes()]
        assert any("schema renamed UrlImageItem → UrlImage (same shape" in m for m in messages)

    def test_alias_inlined_is_no_breaking_change(self) -> None:
        """Pointing the response at the alias's target directly changes nothing for the client."""

        def inline(spec: Spec) -> None:
            del schemas(spec)["DedicatedImageGenerateSuccess"]
            media = operation(spec)["responses"]["200"]["content"]["application/json"]
            media["schema"] = {"$ref": "#/components/schemas/ImageGenerationDedicatedResult"}

        report = compare(BASE, mutated(inline))

        assert [] == substantive(report)
        fixes = {fix.name: fix.applied for fix in report.fixes}
        assert fixes["inline_titled_ref_aliases"] is False

    def test_moving_objects_into_components_is_no_change(self) -> None:
        """A request body, parameter and response moved into components read the same."""

        def extract(spec: Spec) -> None:
            op = operation(spec)
            spec["components"]["requestBodies"] = {"Generation": op["requestBody"]}
            spec["components"]["parameters"] = {"Team": team(spec)}
            spec["components"]["responses"] = {"Generated": op["responses"]["200"]}
            op["requestBody"] = {"$ref": "#/components/requestBodies/Generation"}
            op["parameters"][team_index(spec)] = {"$ref": "#/components/parameters/Team"}
            op["responses"]["200"] = {"$ref": "#/components/responses/Generated"}

        report = compare(BASE, mutated(extract))

        assert [] == list(report.changes())

    def test_response_schema_replaced(self) -> None:
        """A response pointing at another component of another shape is breaking."""

        def replace(spec: Spec) -> None:
            schemas(spec)["ImageList"] = {
                "type": "object",
                "properties": {"images": {"type": "array", "items": {"type": "string"}}},
                "required": ["images"],
            }
            media = operation(spec)["responses"]["200"]["content"]["application/json"]
            media["schema"] = {"$ref": "#/components/schemas/ImageList"}

        report = compare(BASE, mutated(replace))

        assert Verdict.BREAKING == report.verdict
        replaced = [c for c in report.changes() if c.message.startswith("response schema replaced")]
        assert 1 == len(replaced)
        assert "ImageGenerationDedicatedResult → ImageList" in replaced[0].message
        assert "/components/schemas/ImageList" == replaced[0].pointer

    def test_nullable_forms_are_equivalent(self) -> None:
        """anyOf [X, null], type [X, null] and nullable: true read the same."""

        def type_list(spec: Spec) -> None:
            body(spec)["properties"]["seed"] = {
                "type": ["integer", "null"],
                "title": "Seed",
                "description": "The seed to use for image generation.",
            }

        def nullable_flag(spec: Spec) -> None:
            body(spec)["properties"]["seed"] = {
                "type": "integer",
                "nullable": True,
                "title": "Seed",
                "description": "The seed to use for image generation.",
            }

        assert [] == list(compare(BASE, mutated(type_list)).changes())
        assert [] == list(compare(BASE, mutated(nullable_flag)).changes())

    def test_all_of_is_merged(self) -> None:
        """Splitting a schema into allOf parts of the same shape changes nothing."""

        def split(spec: Spec) -> None:
            item = url_item(spec)
            schemas(spec)["Seeded"] = {
                "type": "object",
                "properties": {"seed": item["properties"].pop("seed")},
                "required": ["seed"],
            }
            item["required"].remove("seed")
            schemas(spec)["UrlImageItem"] = {
                "allOf": [{"$ref": "#/components/schemas/Seeded"}, item]
            }

        report = compare(BASE, mutated(split))

        assert [] == substantive(report)


class TestDocumentation:
    @pytest.mark.parametrize(
        ("mutation", "where"),
        [
            (
                set_key(body_prop("prompt"), "description", "What to draw."),
                f"{BODY}/properties/prompt/description",
            ),
            (
                set_key(body_prop("prompt"), "title", "The prompt"),
                f"{BODY}/properties/prompt/title",
            ),
            (
                set_key(body_prop("model"), "examples", ["my-endpoint"]),
                f"{BODY}/properties/model/examples",
            ),
            (set_key(body, "example", {"model": "m", "prompt": "p"}), f"{BODY}/example"),
            (set_key(operation, "summary", "Generate images"), f"{OP}/summary"),
            (set_key(operation, "x-mint", {"href": "/x"}), f"{OP}/x-mint"),
            (set_key(url_item, "x-internal", True), f"{URL_ITEM}/x-internal"),
            (lambda spec: spec["info"].__setitem__("version", "0.2.0"), "/info/version"),
            (
                lambda spec: spec.__setitem__("x-speakeasy-retries", {"strategy": "backoff"}),
                "/x-speakeasy-retries",
            ),
            (
                lambda spec: operation(spec)["responses"]["200"]["content"]["application/json"][
                    "examples"
                ].clear(),
                f"{OP}/responses/200/content/application~1json/examples",
            ),
        ],
    )
    def test_documentation_only(self, mutation: Mutation, where: str) -> None:
        """Descriptions, titles, examples, summaries and x- extensions are documentation."""
        report = compare(BASE, mutated(mutation))

        assert Verdict.DOCUMENTATION == report.verdict
        assert [where] == [change.pointer for change in report.changes()]


class TestSpecFixes:
    def test_fix_statuses(self) -> None:
        """The report says which fixes still apply to the new spec and which are not needed."""

        def upstream_fixed(spec: Spec) -> None:
            del url_item(spec)["properties"]["response_format"]["enum"]
            del schemas(spec)["B64ImageItem"]["properties"]["response_format"]["enum"]

        report = compare(BASE, mutated(upstream_fixed))

        statuses = {fix.name: (fix.applied, fix.previously_applied) for fix in report.fixes}
        assert [fix.name for fix in FIXES] == list(statuses)
        assert (False, True) == statuses["open_response_enums"]
        assert (True, True) == statuses["omit_request_defaults"]
        assert "**no longer needed**" in report.to_markdown()

    def test_enum_tolerance_needs_the_fix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without open_response_enums a new response enum value is breaking."""

        def without_open_enums(spec: Spec) -> Any:
            fixed, outcomes = apply_fixes(spec)
            return fixed, [outcome for outcome in outcomes if outcome.name != "open_response_enums"]

        monkeypatch.setattr(spec_diff, "apply_fixes", without_open_enums)

        report = compare(BASE, mutated(lambda spec: response_enum(spec).append("webp")))

        assert Verdict.BREAKING == report.verdict
        assert "not tolerated" in next(iter(report.changes())).message

    def test_removing_base64_format_is_not_a_type_change(self) -> None:
        """Upstream dropping format: binary on b64_json keeps the generated str type."""
        new = mutated(
            del_key(lambda spec: schemas(spec)["B64ImageItem"]["properties"]["b64_json"], "format")
        )

        report = compare(BASE, new)

        assert ChangeClass.NON_BREAKING == max(c.kind for c in report.changes())
        statuses = {fix.name: fix.applied for fix in report.fixes}
        assert statuses["base64_strings_in_json"] is False


class TestRendering:
    def test_markdown_ends_with_verdict(self) -> None:
        """The Markdown report's last line is the one-line verdict."""
        report = compare(BASE, mutated(add_property(body, "negative_prompt", required=True)))

        markdown = report.to_markdown()

        assert "Verdict: BREAKING" == markdown.rstrip("\n").splitlines()[-1]
        assert (
            "### `dedicatedImagesGenerate` (POST /dedicated/v1/images/generations): changed"
            in markdown
        )
        assert "**Breaking** (1)" in markdown

    def test_markdown_defuses_upstream_text(self) -> None:
        """Upstream text cannot break out of code spans or mention people."""
        new = mutated(
            set_key(body_prop("prompt"), "description", "ask @octocat ``` `x`"),
            lambda spec: request_enum(spec).append("@team [link](http://x)"),
        )

        markdown = compare(BASE, new).to_markdown()

        assert "```` ask @octocat ``` `x` ````" in markdown
        assert "@team" not in markdown.replace("`@team", "")
        assert "&#64;team \\[link\\](http://x)" in markdown

    def test_markdown_is_capped(self) -> None:
        """A huge report is cut below the limit and still ends with the verdict."""
        new = mutated(*(add_property(body, f"p{index}", required=False) for index in range(300)))

        markdown = compare(BASE, new).to_markdown(limit=5_000)

        assert len(markdown) < 5_200
        assert "truncated" in markdown
        assert markdown.endswith("Verdict: non-breaking\n")

    def test_json(self) -> None:
        """The JSON report carries the verdict, counts, changes and fix statuses."""
        report = compare(BASE, mutated(lambda spec: request_enum(spec).remove("jpg")))

        data = json.loads(json.dumps(report.to_json()))

        assert "BREAKING" == data["verdict"]
        assert {"breaking": 1, "non-breaking": 0, "documentation": 0} == data["counts"]
        change = data["operations"][0]["changes"][0]
        assert {"class", "pointer", "location", "message", "old", "new"} == set(change)
        assert "request body.response_format" == change["location"]
        assert {"applied"} == {fix["status"] for fix in data["spec_fixes"]}


@pytest.mark.skipif(
    not SNAPSHOT.is_file(),
    reason=f"no upstream snapshot at {SNAPSHOT}: ../shared/upstream/ is not beside this checkout "
    "(a fresh clone has none)",
)
class TestUpstreamSnapshot:
    def test_documentation_only(self) -> None:
        """The snapshot differs from the hand-copied seed in documentation only, one by one."""
        upstream = parse_document(SNAPSHOT.read_text(encoding="utf-8"), str(SNAPSHOT))
        selected = select_operations(upstream, TRACKED).spec

        report = compare(seed_like(selected), selected)

        assert Verdict.DOCUMENTATION == report.verdict
        assert {"breaking": 0, "non-breaking": 0, "documentation": 6} == report.counts()
        assert [
            f"{OP}/description",
            f"{OP}/x-speakeasy-name-override",
            f"{OP}/x-mint",
            "/components/securitySchemes/token/description",
            "/tags",
            "/x-speakeasy-retries",
        ] == [change.pointer for change in report.changes()]
        description = report.operations[0].changes[0]
        assert "Given a description, the model generates image(s)." == description.old
        assert "Generate an image from a text prompt." == description.new
        assert all(fix.applied for fix in report.fixes)
        assert report.to_markdown().endswith("Verdict: documentation only\n")


class TestMarkdownLayout:
    """The pull-request body: headline and counts agree, tracked changes first, unchanged
    operations on one line, long values cut to where they differ."""

    @staticmethod
    def report(**fields: Any) -> Report:
        from change_model import OperationChanges

        changed = OperationChanges(
            "dedicatedImagesGenerate",
            "post",
            IMAGES,
            "changed",
            [
                Change(
                    ChangeClass.NON_BREAKING, f"{OP}/x", "request body.x", "new optional property"
                )
            ],
        )
        unchanged = [
            OperationChanges(name, "post", f"/{name}", "unchanged")
            for name in ("dedicatedImagesEdit", "containerImagesGenerate")
        ]
        return Report(operations=[changed, *unchanged], document=[], fixes=[], **fields)

    def test_break_only_in_the_python_api(self) -> None:
        gone = Change(ChangeClass.BREAKING, "friendli_images_api.X", "X", "public name removed")
        markdown = self.report(python_api=[gone]).to_markdown()

        assert markdown.startswith(
            "## Upstream OpenAPI changes: BREAKING (in the Python API of the generated package)"
        )
        assert "| breaking | 0 | 1 | 1 |" in markdown
        assert "| non-breaking | 1 | 0 | 1 |" in markdown

    def test_break_in_the_spec_has_no_qualifier(self) -> None:
        markdown = self.report().to_markdown()

        assert markdown.startswith("## Upstream OpenAPI changes: non-breaking\n")
        assert "| non-breaking | 1 |" in markdown

    def test_tracked_changes_come_before_untracked_operations(self) -> None:
        from related_operations import RelatedOperation

        related = [RelatedOperation("imagesUpscale", "post", "/x", ("tag Image",), True)]
        markdown = self.report(related=related).to_markdown()

        tracked = markdown.index("### `dedicatedImagesGenerate`")
        untracked = markdown.index("### Upstream operations beside the tracked ones")
        assert tracked < untracked

    def test_unchanged_operations_are_one_line(self) -> None:
        markdown = self.report().to_markdown()

        assert "No change." not in markdown
        assert "Unchanged (2): `dedicatedImagesEdit`, `containerImagesGenerate`" in markdown

    def test_long_signature_shows_what_changed(self) -> None:
        head = ", ".join(f"argument_{n}: str | Unset = UNSET" for n in range(12))
        old, new = f"def sync({head}, seed: int)", f"def sync({head}, seed: int | None)"
        change = Change(
            ChangeClass.BREAKING, "friendli_images_api.sync", "sync", "signature", old, new
        )
        markdown = self.report(python_api=[change]).to_markdown()

        line = next(line for line in markdown.splitlines() if line.startswith("- `sync`"))
        assert "seed: int)" in line
        assert "seed: int | None)" in line
        assert len(line) < 200
