"""Request validation: the operation's JSON Schema, then the rules the spec states in prose.

Schema errors come from :mod:`jsonschema` and are turned into FastAPI-style ``detail``
entries (``loc``, ``msg``, ``type``) by :func:`to_details`. Rules the spec only writes in
descriptions live in :data:`PROSE_RULES`, one entry per operation.
"""

from __future__ import annotations

import binascii
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, NotRequired, TypedDict

from jsonschema import ValidationError

from .. import _config
from ._operations import CONTAINER_EDIT_PATH, CONTAINER_GENERATION_PATH, EDIT_PATH, GENERATION_PATH
from ._spec import Spec, shipped_spec

__all__ = [
    "GENERATION_PATH",
    "PROSE_RULES",
    "ErrorDetail",
    "error",
    "to_details",
    "validate_operation_body",
    "validate_request_body",
]

"""The path of the generation operation."""


class ErrorDetail(TypedDict):
    """One entry of a 422 body's ``detail`` list, shaped like FastAPI's."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: NotRequired[dict[str, Any]]


Loc = tuple[str | int, ...]

_TYPE_ERRORS: Final[dict[str, tuple[str, str]]] = {
    "string": ("Input should be a valid string", "string_type"),
    "integer": ("Input should be a valid integer", "int_type"),
    "number": ("Input should be a valid number", "float_type"),
    "boolean": ("Input should be a valid boolean", "bool_type"),
    "array": ("Input should be a valid list", "list_type"),
    "object": ("Input should be a valid dictionary", "dict_type"),
    "null": ("Input should be None", "none_required"),
}

# keyword -> (message template over the keyword's value, FastAPI error type)
_KEYWORD_ERRORS: Final[dict[str, tuple[str, str]]] = {
    "minimum": ("Input should be greater than or equal to {}", "greater_than_equal"),
    "maximum": ("Input should be less than or equal to {}", "less_than_equal"),
    "exclusiveMinimum": ("Input should be greater than {}", "greater_than"),
    "exclusiveMaximum": ("Input should be less than {}", "less_than"),
    "multipleOf": ("Input should be a multiple of {}", "multiple_of"),
    "minItems": ("List should have at least {} items", "too_short"),
    "maxItems": ("List should have at most {} items", "too_long"),
    "minLength": ("String should have at least {} characters", "string_too_short"),
    "maxLength": ("String should have at most {} characters", "string_too_long"),
    "pattern": ("String should match pattern '{}'", "string_pattern_mismatch"),
    "format": ("Input should be a valid {}", "format"),
    "required": ("Field required", "missing"),
    "additionalProperties": ("Extra inputs are not permitted", "extra_forbidden"),
}


def error(loc: Sequence[str | int], msg: str, type_: str) -> ErrorDetail:
    """A ``detail`` entry."""
    return {"loc": list(loc), "msg": msg, "type": type_}


def _describe(value: object) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


def _json_type_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fits(value: object, declared: Any) -> bool:
    names = [declared] if isinstance(declared, str) else list(declared or ())
    kind = _json_type_of(value)
    return kind in names or (kind == "integer" and "number" in names)


def _branch_errors(spec: Spec, found: ValidationError) -> list[ValidationError]:
    """The errors of the ``anyOf``/``oneOf`` branch the value was evidently meant for.

    The first branch whose declared type fits (a list whose items are wrong), else the
    first that is not just ``null``, else the first.
    """
    choices: list[Mapping[str, Any]] = found.validator_value  # type: ignore[assignment]
    branches = [spec.resolve(branch) for branch in choices]
    by_branch: dict[int, list[ValidationError]] = {index: [] for index in range(len(branches))}
    for sub in found.context or ():
        by_branch[int(sub.relative_schema_path[0])].append(sub)
    for index, branch in enumerate(branches):
        declared = branch.get("type")
        if declared not in (None, "null") and _fits(found.instance, declared):
            return by_branch[index]
    for index, branch in enumerate(branches):
        if branch.get("type") != "null":
            return by_branch[index]
    return by_branch[0] if by_branch else []


def to_details(spec: Spec, errors: Iterable[ValidationError], root: Loc) -> list[ErrorDetail]:
    """FastAPI-style entries for jsonschema's errors, located below ``root``."""
    details: list[ErrorDetail] = []
    for found in errors:
        loc = (*root, *found.absolute_path)
        keyword = str(found.validator)
        value: Any = found.validator_value
        if keyword in ("anyOf", "oneOf"):
            if keyword == "oneOf" and not found.context:
                details.append(
                    error(loc, "Input matches more than one allowed schema", "one_of_multiple")
                )
            else:
                branch = _branch_errors(spec, found)
                details.extend(
                    to_details(spec, branch, root) or [error(loc, found.message, keyword)]
                )
        elif keyword == "type":
            names = [value] if isinstance(value, str) else list(value)
            msg, type_ = _TYPE_ERRORS.get(names[0], (f"Input should be {names}", "type_error"))
            details.append(error(loc, msg, type_))
        elif keyword == "enum":
            options = [_describe(option) for option in value]
            listed = (
                options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
            )
            details.append(error(loc, f"Input should be {listed}", "enum"))
        elif keyword == "const":
            details.append(error(loc, f"Input should be {_describe(value)}", "literal_error"))
        elif keyword in _KEYWORD_ERRORS:
            template, type_ = _KEYWORD_ERRORS[keyword]
            details.append(error(loc, template.format(value), type_))
        else:  # any other keyword: jsonschema's own sentence, the keyword as the type
            details.append(error(loc, found.message, keyword))
    return details


def _field_order(spec: Spec, schema: Mapping[str, Any]) -> Callable[[ErrorDetail], int]:
    """Sort key: the position of an entry's top-level field in the schema (FastAPI's order)."""
    names = list(spec.resolve(schema).get("properties", {}))

    def position(detail: ErrorDetail) -> int:
        loc = detail["loc"]
        if len(loc) > 1 and loc[1] in names:
            return names.index(str(loc[1]))
        return len(names)

    return position


# -- the rules the spec only states in prose --------------------------------------------

_DATA_URI_HEADER = re.compile(
    r"data:(?P<mime>[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+)"
    r"(?:;[A-Za-z0-9!#$&^_.+-]+=[^;,]*)*;base64",
)


def _check_control_image(image: str, loc: Loc) -> ErrorDetail | None:
    """Apply the prose rules for ``ImageInput.image``: URL or base64 data URI, <= 50 MiB."""
    if image.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(image)
        if parts.hostname:
            return None
        return error(loc, "Value error, the image URL has no host", "value_error")
    if not image.startswith("data:"):
        msg = "Value error, image must be an http(s):// URL or a data:<mime>;base64,<data> URI"
        return error(loc, msg, "value_error")
    # Index arithmetic instead of partition()/rstrip(): each of those copies ~70 MB.
    comma = image.find(",")
    if comma < 0 or _DATA_URI_HEADER.fullmatch(image, 0, comma) is None:
        msg = "Value error, a data URI must look like data:<type>/<subtype>;base64,<data>"
        return error(loc, msg, "value_error")
    payload_length = len(image) - comma - 1
    padding = 2 if image.endswith("==") else 1 if image.endswith("=") else 0
    limit = _config.MAX_CONTROL_IMAGE_BYTES
    # Reject oversize payloads from their length alone, before decoding tens of megabytes.
    if payload_length % 4 == 0 and payload_length // 4 * 3 - padding > limit:
        return _too_large(payload_length // 4 * 3 - padding, loc)
    try:
        # Strict mode is C code throughout; b64decode(validate=True) runs a regex first.
        decoded_size = len(binascii.a2b_base64(image[comma + 1 :], strict_mode=True))
    except (binascii.Error, ValueError) as exc:
        return error(loc, f"Value error, the base64 data does not decode: {exc}", "value_error")
    if decoded_size == 0:
        return error(loc, "Value error, the data URI holds no data", "value_error")
    if decoded_size > limit:
        return _too_large(decoded_size, loc)
    return None


def _too_large(size: int, loc: Loc) -> ErrorDetail:
    limit = _config.MAX_CONTROL_IMAGE_BYTES
    msg = (
        f"Value error, the decoded image is {size} bytes; the maximum is "
        f"{limit} bytes ({limit // (1024 * 1024)} MiB)"
    )
    return error(loc, msg, "value_error")


def _check_range(value: object, low: float, high: float, loc: Loc) -> ErrorDetail | None:
    """Check a number against an inclusive range; values of other types are not ours."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if value < low:
        return error(loc, f"Input should be greater than or equal to {low}", "greater_than_equal")
    if value > high:
        return error(loc, f"Input should be less than or equal to {high}", "less_than_equal")
    return None


def _check_prose_rules(body: Mapping[str, Any]) -> list[ErrorDetail]:
    """The constraints the spec states only in descriptions, on well-typed fields."""
    found: list[ErrorDetail | None] = []
    edited = body.get("image")  # the edit operations: one ImageInput or a list of them
    if edited == []:
        found.append(error(("body", "image"), "Value error, no image to edit", "value_error"))
    for index, item in enumerate(edited if isinstance(edited, list) else [edited]):
        if isinstance(item, dict) and isinstance(item.get("image"), str):
            place: tuple[int, ...] = (index,) if isinstance(edited, list) else ()
            found.append(_check_control_image(item["image"], ("body", "image", *place, "image")))

    steps = body.get("num_inference_steps")
    if not isinstance(steps, float):  # a float already failed the schema's "integer"
        found.append(
            _check_range(
                steps,
                _config.MIN_INFERENCE_STEPS,
                _config.MAX_INFERENCE_STEPS,
                ("body", "num_inference_steps"),
            )
        )

    images = body.get("control_images")
    if isinstance(images, list):
        for index, item in enumerate(images):
            if isinstance(item, dict) and isinstance(item.get("image"), str):
                loc = ("body", "control_images", index, "image")
                found.append(_check_control_image(item["image"], loc))

    weights = body.get("controlnet_weights")
    if isinstance(weights, list):
        for index, weight in enumerate(weights):
            found.append(_check_range(weight, 0, 1, ("body", "controlnet_weights", index)))
        weights_loc = ("body", "controlnet_weights")
        if images is None:
            msg = "Value error, controlnet_weights were given without control_images"
            found.append(error(weights_loc, msg, "value_error"))
        elif isinstance(images, list) and len(images) != len(weights):
            msg = (
                f"Value error, controlnet_weights has {len(weights)} values but control_images "
                f"has {len(images)} images; there must be one weight per control image"
            )
            found.append(error(weights_loc, msg, "value_error"))
    return [entry for entry in found if entry is not None]


PROSE_RULES: Final[dict[tuple[str, str], Callable[[Mapping[str, Any]], list[ErrorDetail]]]] = {
    ("POST", GENERATION_PATH): _check_prose_rules,
    ("POST", EDIT_PATH): _check_prose_rules,
    ("POST", CONTAINER_GENERATION_PATH): _check_prose_rules,
    ("POST", CONTAINER_EDIT_PATH): _check_prose_rules,
}
"""Per operation (method, path): the rules its descriptions state, applied to an object body."""


def validate_operation_body(spec: Spec, method: str, path: str, body: object) -> list[ErrorDetail]:
    """Validate a parsed JSON request body for any operation of ``spec``; ``[]`` means valid.

    :raises OperationNotInSpec: If ``spec`` has no such operation.
    """
    schema = spec.request_schema(method, path)
    found = spec.validator(schema).iter_errors(body)
    details = sorted(to_details(spec, found, ("body",)), key=_field_order(spec, schema))
    rules = PROSE_RULES.get((method.upper(), path))
    if rules is not None and isinstance(body, dict):
        details.extend(rules(body))
    return details


def validate_request_body(body: object, path: str = GENERATION_PATH) -> list[ErrorDetail]:
    """Validate a parsed request body exactly as the server does; ``[]`` means valid.

    First the request schema of ``POST path`` (by default the generation path; also
    ``EDIT_PATH``, ``CONTAINER_GENERATION_PATH``, ``CONTAINER_EDIT_PATH``), read from the
    ``openapi.json`` shipped in ``friendli_images_api``; then the constraints the spec only
    states in prose (see :mod:`friendli_images.testing`). Types are strict: ``true`` is not
    a number and ``20.0`` is not an integer.

    :param body: The request body, parsed from JSON.
    :param path: The path of the ``POST`` operation whose request schema applies;
        default ``GENERATION_PATH``.
    :returns: One ``ErrorDetail`` per problem, in field order; ``[]`` when valid.
    :raises LookupError: The spec has no ``POST path`` operation.
    """
    return validate_operation_body(shipped_spec(), "POST", path, body)
