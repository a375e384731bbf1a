"""A real HTTP test server for the Friendli image-generation endpoint, on loopback.

:class:`FriendliTestServer` implements ``POST /dedicated/v1/images/generations`` from the
OpenAPI spec that ships with ``friendli_images_api``, on ``127.0.0.1``, so tests and
benchmarks exercise the real network path of a client::

    from friendli_images.testing import ErrorStatus, FriendliTestServer

    with FriendliTestServer(latency=0.1) as server:
        server.inject(ErrorStatus.rate_limited(retry_after=1))
        ...  # point a client at server.base_url with token=server.token
        assert server.generation_requests[0].headers["authorization"] == "Bearer test-token"

What it does, in order, for a request to the generation path:

1. Reads the whole body (``Content-Length`` or ``Transfer-Encoding: chunked``) and records
   the request (:class:`RecordedRequest`).
2. If a fault is queued for the route (:meth:`FriendliTestServer.inject`), the fault takes
   over: faults pre-empt authentication and validation. :class:`Delay` waits, then carries on.
3. Checks ``Authorization: Bearer <token>``: otherwise **401** ``{"detail": "..."}``.
4. Parses the JSON and validates it against the request schema read from the spec
   (:func:`validate_request_body`), then the rules the spec only states in prose: steps in
   [1, 50], ControlNet weights in [0, 1] and one per control image, control images as
   ``http(s)://`` URLs or ``data:<mime>;base64,`` URIs of at most 50 MiB decoded.
   Any problem, malformed JSON included, is a **422** with a FastAPI-style body
   ``{"detail": [{"loc": ["body", ...], "msg": "...", "type": "..."}]}``.
5. Waits ``latency`` seconds (generation time), then answers **200** with one image: a
   ``url`` on a *second* listener (another port, no token needed, like a CDN) when
   ``response_format`` is ``"url"``, absent or null; base64 in ``b64_json`` otherwise
   (PNG for ``raw`` and ``png``, JPEG for ``jpeg`` and ``jpg``; :func:`render_jpeg`
   says which JPEG encoder is used when Pillow is missing).

The endpoint API (status, wake, sleep) answers for the endpoints added with
:meth:`FriendliTestServer.add_endpoint`, which sleep and wake like real ones; a
generation request for such an endpoint gets **503** until it is RUNNING (see
:class:`SimulatedEndpoint`).

Other paths answer **404**, other methods **405**, all with JSON bodies. A body larger
than ``max_body_bytes`` is refused with **413** and the connection is closed; a broken
``Content-Length`` or chunked framing gets **400** and a closed connection. Such requests
are recorded with an empty body and consume no fault. Requests that ``http.server``
itself rejects (a malformed request line, an unknown method) are answered but not recorded.

Images are deterministic: the same seed and ``image_size`` give the same bytes, which
:func:`render_png` and :func:`render_jpeg` reproduce (handy for control images too). A
request without a seed gets the next value of a per-server counter (1, 2, 3, ...).

The server is quiet (nothing is logged), serves every connection on its own thread with
keep-alive, and :meth:`FriendliTestServer.stop` closes idle and busy connections at once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import http.server
import importlib.resources
import itertools
import json
import re
import secrets
import socket
import socketserver
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache, cached_property
from types import TracebackType
from typing import Any, Final, Literal, NotRequired, Self, TypeAlias, TypedDict

import httpx

from ._images import check_dimensions, jpeg_backend, render_jpeg, render_png
from ._testing_endpoints import (
    WAKE_PHASES,
    EndpointRegistry,
    SimulatedEndpoint,
    is_endpoint_path,
)

__all__ = [
    "DEFAULT_TOKEN",
    "GENERATION_PATH",
    "MAX_CONTROL_IMAGE_BYTES",
    "WAKE_PHASES",
    "Delay",
    "DropConnection",
    "ErrorDetail",
    "ErrorStatus",
    "Fault",
    "FriendliTestServer",
    "InvalidJson",
    "Listener",
    "RecordedRequest",
    "Route",
    "SimulatedEndpoint",
    "TruncatedBody",
    "WrongShape",
    "jpeg_backend",
    "render_jpeg",
    "render_png",
    "validate_request_body",
]

GENERATION_PATH: Final = "/dedicated/v1/images/generations"
"""The path of the one operation the server implements."""

DEFAULT_TOKEN: Final = "test-token"  # noqa: S105
"""The bearer token a :class:`FriendliTestServer` accepts unless given another."""

MAX_CONTROL_IMAGE_BYTES: Final = 50 * 1024 * 1024
"""Largest decoded control image accepted ("Maximum supported image size is 50 MiB")."""

MIN_INFERENCE_STEPS: Final = 1
MAX_INFERENCE_STEPS: Final = 50
DEFAULT_MAX_BODY_BYTES: Final = 512 * 1024 * 1024
IMAGES_PATH_PREFIX: Final = "/images/"

Route: TypeAlias = Literal["generate", "image", "endpoint", "other"]
"""What a request was for: the generation path, an image download, the endpoint API
(status, wake, sleep; see :class:`SimulatedEndpoint`), or anything else."""

Listener: TypeAlias = Literal["api", "images"]
"""Which of the two sockets received a request: the API, or the image host."""

_HOST: Final = "127.0.0.1"
_STOP_TIMEOUT = 5.0
_POLL_INTERVAL = 0.05
_MAX_CHUNK_LINE = 4096


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before handling the request as usual (auth, validation, latency)."""

    seconds: float

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {self.seconds}")


@dataclass(frozen=True)
class ErrorStatus:
    """Answer with an error ``status`` and a JSON body, without looking at the request.

    The body is ``{"detail": message}`` (``message`` defaults to a sentence naming the
    status) unless ``body`` is given: any JSON value, or ``bytes`` sent verbatim with
    ``content_type``. ``retry_after`` becomes a ``Retry-After`` header: a number of
    seconds (``2`` -> ``"2"``, ``0.5`` -> ``"0.5"``), a ``datetime`` (sent as an HTTP-date;
    a naive one is taken as UTC), or a string sent as is (to test malformed values).
    """

    status: int
    message: str | None = None
    body: Any = None
    retry_after: float | datetime | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not 200 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code in [200, 599], got {self.status}")

    @classmethod
    def rate_limited(
        cls, retry_after: float | datetime | str | None = None, message: str | None = None
    ) -> ErrorStatus:
        """A 429 Too Many Requests, optionally with ``Retry-After``."""
        return cls(429, message=message, retry_after=retry_after)

    def response_body(self) -> bytes:
        """The exact bytes this fault sends as its body."""
        if isinstance(self.body, bytes):
            return self.body
        if self.body is not None:
            return _json_bytes(self.body)
        message = self.message
        if message is None:
            message = f"Injected fault: {self.status} {_reason(self.status)}"
        return _json_bytes({"detail": message})

    def response_headers(self) -> list[tuple[str, str]]:
        """The headers this fault sends besides ``Content-Length``."""
        headers = [("Content-Type", self.content_type)]
        if self.retry_after is not None:
            headers.append(("Retry-After", _format_retry_after(self.retry_after)))
        headers.extend(self.headers.items())
        return headers


@dataclass(frozen=True)
class DropConnection:
    """Read the whole request, then close the connection without sending a byte.

    httpx reports this as ``httpx.RemoteProtocolError`` ("Server disconnected without
    sending a response").
    """


@dataclass(frozen=True)
class TruncatedBody:
    """Announce the normal response's full length, send part of its body, then close.

    The server prepares the response it would have sent (whatever it is: 200, 401, 422),
    sends its headers with the full ``Content-Length`` and only the first ``fraction`` of
    the body (always withholding at least one byte), then closes the connection. httpx
    reports this as ``httpx.RemoteProtocolError`` while reading the body.
    """

    fraction: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.fraction < 1:
            raise ValueError(f"fraction must be in [0, 1), got {self.fraction}")


@dataclass(frozen=True)
class InvalidJson:
    """Answer ``status`` (200) as ``application/json`` with a body that does not parse.

    The default body is a JSON document cut off in the middle; pass ``body`` for others.
    """

    body: bytes = b'{"data": [{"seed": 1, "response_format": "url", "url": "http://'
    status: int = 200


def _missing_data() -> Any:
    return {"images": []}


@dataclass(frozen=True)
class WrongShape:
    """Answer ``status`` (200) with well-formed JSON that breaks the response schema.

    The default body has no ``data``; pass ``body`` for other breakages, e.g.
    ``{"data": [{"seed": 1, "response_format": "png", "b64_json": "not base64!"}]}``.
    """

    body: Any = field(default_factory=_missing_data)
    status: int = 200


Fault: TypeAlias = Delay | ErrorStatus | DropConnection | TruncatedBody | InvalidJson | WrongShape
"""Anything :meth:`FriendliTestServer.inject` accepts."""

_FAULT_TYPES = (Delay, ErrorStatus, DropConnection, TruncatedBody, InvalidJson, WrongShape)


def _reason(status: int) -> str:
    reason = http.server.BaseHTTPRequestHandler.responses.get(status)
    return reason[0] if reason else "Error"


def _format_retry_after(value: float | datetime | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return format_datetime(when.astimezone(UTC), usegmt=True)
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))


# --------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RecordedRequest:
    """One request as the server received it, whatever happened to it afterwards."""

    method: str
    path: str
    """The path without the query string."""
    query: str
    headers: httpx.Headers
    """Case-insensitive: ``headers["authorization"]`` finds ``Authorization``."""
    body: bytes
    """The body after chunked decoding; empty when the server has ``record_bodies=False``."""
    body_length: int
    """The body's length in bytes, recorded even when the body itself is not."""
    route: Route
    listener: Listener
    connection_id: int
    """Counts TCP connections per server from 1; equal ids mean a reused connection."""
    fault: Fault | None
    """The injected fault this request consumed, if any."""
    received_at: float
    """``time.monotonic()`` when the body had been read."""

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` if it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


class ErrorDetail(TypedDict):
    """One entry of a 422 body's ``detail`` list, shaped like FastAPI's."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: NotRequired[dict[str, Any]]


_TYPE_ERRORS: Final[dict[str, tuple[str, str]]] = {
    "string": ("Input should be a valid string", "string_type"),
    "integer": ("Input should be a valid integer", "int_type"),
    "number": ("Input should be a valid number", "float_type"),
    "boolean": ("Input should be a valid boolean", "bool_type"),
    "array": ("Input should be a valid list", "list_type"),
    "object": ("Input should be a valid dictionary", "dict_type"),
    "null": ("Input should be None", "none_required"),
}
_SCHEMA_REF_PREFIX = "#/components/schemas/"


def _is_json_type(value: object, type_name: str) -> bool:
    """JSON Schema types, strictly: booleans are not numbers and ``1.0`` is not an integer."""
    match type_name:
        case "null":
            return value is None
        case "boolean":
            return isinstance(value, bool)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "string":
            return isinstance(value, str)
        case "array":
            return isinstance(value, list)
        case "object":
            return isinstance(value, dict)
    return False


def _error(loc: Sequence[str | int], msg: str, type_: str) -> ErrorDetail:
    return {"loc": list(loc), "msg": msg, "type": type_}


def _describe(value: object) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


class _SchemaValidator:
    """Checks a JSON value against the JSON Schema subset this spec uses.

    Keywords: ``$ref`` (to ``#/components/schemas/...``, with sibling keywords applied
    too), ``type`` (a name or a list), ``enum``, ``const``, ``anyOf``, ``oneOf``,
    ``allOf``, ``required``, ``properties``, ``additionalProperties``, ``items``,
    ``minimum``/``maximum`` and ``minItems``/``maxItems``. Annotations (``title``,
    ``description``, ``default``, ``examples``) are ignored, as the standard says.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith(_SCHEMA_REF_PREFIX):
            raise ValueError(f"unsupported $ref {ref!r}")
        target: Mapping[str, Any] = self._schemas[ref.removeprefix(_SCHEMA_REF_PREFIX)]
        return target

    def _flatten(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a chain of bare ``$ref``\\s so that ``type`` is visible for union choice."""
        while "$ref" in schema and len(schema.keys() - {"$ref", "title", "description"}) == 0:
            schema = self._resolve(schema["$ref"])
        return schema

    def validate(
        self, value: object, schema: Mapping[str, Any], loc: tuple[str | int, ...]
    ) -> list[ErrorDetail]:
        if "$ref" in schema:
            errors = self.validate(value, self._resolve(schema["$ref"]), loc)
            siblings = {key: item for key, item in schema.items() if key != "$ref"}
            return errors + self.validate(value, siblings, loc) if siblings else errors

        if "anyOf" in schema or "oneOf" in schema:
            errors = self._validate_union(value, schema, loc)
            if errors:
                return errors
        for sub in schema.get("allOf", ()):
            errors = self.validate(value, sub, loc)
            if errors:
                return errors

        type_names = schema.get("type")
        if type_names is not None:
            names = [type_names] if isinstance(type_names, str) else list(type_names)
            if not any(_is_json_type(value, name) for name in names):
                msg, type_ = _TYPE_ERRORS.get(names[0], (f"Input should be {names}", "type_error"))
                return [_error(loc, msg, type_)]

        if "enum" in schema and value not in schema["enum"]:
            options = [_describe(option) for option in schema["enum"]]
            listed = (
                options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
            )
            return [_error(loc, f"Input should be {listed}", "enum")]
        if "const" in schema and value != schema["const"]:
            return [_error(loc, f"Input should be {_describe(schema['const'])}", "literal_error")]

        errors = []
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                msg = f"Input should be greater than or equal to {schema['minimum']}"
                errors.append(_error(loc, msg, "greater_than_equal"))
            if "maximum" in schema and value > schema["maximum"]:
                msg = f"Input should be less than or equal to {schema['maximum']}"
                errors.append(_error(loc, msg, "less_than_equal"))
        if isinstance(value, dict):
            errors.extend(self._validate_object(value, schema, loc))
        if isinstance(value, list):
            errors.extend(self._validate_array(value, schema, loc))
        return errors

    def _validate_union(
        self, value: object, schema: Mapping[str, Any], loc: tuple[str | int, ...]
    ) -> list[ErrorDetail]:
        keyword = "anyOf" if "anyOf" in schema else "oneOf"
        branches: list[Mapping[str, Any]] = [self._flatten(sub) for sub in schema[keyword]]
        results = [self.validate(value, branch, loc) for branch in branches]
        passing = sum(1 for errors in results if not errors)
        if keyword == "oneOf" and passing > 1:
            return [_error(loc, "Input matches more than one allowed schema", "one_of_multiple")]
        if passing:
            return []
        # Report the branch the value was evidently meant for: the first whose type fits
        # (a list whose items are wrong), else the first that is not just "null".
        for branch, errors in zip(branches, results, strict=True):
            declared = branch.get("type")
            if declared is not None and declared != "null":
                names = [declared] if isinstance(declared, str) else declared
                if any(_is_json_type(value, name) for name in names):
                    return errors
        for branch, errors in zip(branches, results, strict=True):
            if branch.get("type") != "null":
                return errors
        return results[0]

    def _validate_object(
        self, value: dict[str, Any], schema: Mapping[str, Any], loc: tuple[str | int, ...]
    ) -> list[ErrorDetail]:
        """Check declared properties in the schema's order (as FastAPI reports), then extras."""
        errors: list[ErrorDetail] = []
        properties: Mapping[str, Any] = schema.get("properties", {})
        required = schema.get("required", ())
        for name in [*properties, *(n for n in required if n not in properties)]:
            if name in value:
                if name in properties:
                    errors.extend(self.validate(value[name], properties[name], (*loc, name)))
            elif name in required:
                errors.append(_error((*loc, name), "Field required", "missing"))
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                continue
            if extra is False:
                msg = "Extra inputs are not permitted"
                errors.append(_error((*loc, name), msg, "extra_forbidden"))
            elif isinstance(extra, Mapping):
                errors.extend(self.validate(item, extra, (*loc, name)))
        return errors

    def _validate_array(
        self, value: list[Any], schema: Mapping[str, Any], loc: tuple[str | int, ...]
    ) -> list[ErrorDetail]:
        errors: list[ErrorDetail] = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            msg = f"List should have at least {schema['minItems']} items"
            errors.append(_error(loc, msg, "too_short"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            msg = f"List should have at most {schema['maxItems']} items"
            errors.append(_error(loc, msg, "too_long"))
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                errors.extend(self.validate(item, items, (*loc, index)))
        return errors


@cache
def _spec() -> dict[str, Any]:
    resource = importlib.resources.files("friendli_images_api") / "openapi.json"
    spec: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return spec


@cache
def _request_schema() -> tuple[_SchemaValidator, Mapping[str, Any]]:
    spec = _spec()
    body = spec["paths"][GENERATION_PATH]["post"]["requestBody"]
    schema: Mapping[str, Any] = body["content"]["application/json"]["schema"]
    return _SchemaValidator(spec), schema


_DATA_URI_HEADER = re.compile(
    r"data:(?P<mime>[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+)"
    r"(?:;[A-Za-z0-9!#$&^_.+-]+=[^;,]*)*;base64",
)


def _check_control_image(image: str, loc: tuple[str | int, ...]) -> ErrorDetail | None:
    """Apply the prose rules for ``ImageInput.image``: URL or base64 data URI, <= 50 MiB."""
    if image.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(image)
        if parts.hostname:
            return None
        return _error(loc, "Value error, the image URL has no host", "value_error")
    if not image.startswith("data:"):
        msg = "Value error, image must be an http(s):// URL or a data:<mime>;base64,<data> URI"
        return _error(loc, msg, "value_error")
    # Index arithmetic instead of partition()/rstrip(): each of those copies ~70 MB.
    comma = image.find(",")
    if comma < 0 or _DATA_URI_HEADER.fullmatch(image, 0, comma) is None:
        msg = "Value error, a data URI must look like data:<type>/<subtype>;base64,<data>"
        return _error(loc, msg, "value_error")
    payload_length = len(image) - comma - 1
    padding = 2 if image.endswith("==") else 1 if image.endswith("=") else 0
    # Reject oversize payloads from their length alone, before decoding tens of megabytes.
    if payload_length % 4 == 0 and payload_length // 4 * 3 - padding > MAX_CONTROL_IMAGE_BYTES:
        return _too_large(payload_length // 4 * 3 - padding, loc)
    try:
        # Strict mode is C code throughout; b64decode(validate=True) runs a regex first.
        decoded_size = len(binascii.a2b_base64(image[comma + 1 :], strict_mode=True))
    except (binascii.Error, ValueError) as exc:
        return _error(loc, f"Value error, the base64 data does not decode: {exc}", "value_error")
    if decoded_size == 0:
        return _error(loc, "Value error, the data URI holds no data", "value_error")
    if decoded_size > MAX_CONTROL_IMAGE_BYTES:
        return _too_large(decoded_size, loc)
    return None


def _too_large(size: int, loc: tuple[str | int, ...]) -> ErrorDetail:
    msg = (
        f"Value error, the decoded image is {size} bytes; the maximum is "
        f"{MAX_CONTROL_IMAGE_BYTES} bytes (50 MiB)"
    )
    return _error(loc, msg, "value_error")


def _check_range(
    value: object, low: float, high: float, loc: tuple[str | int, ...]
) -> ErrorDetail | None:
    """Check a number against an inclusive range; values of other types are not ours."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if value < low:
        return _error(loc, f"Input should be greater than or equal to {low}", "greater_than_equal")
    if value > high:
        return _error(loc, f"Input should be less than or equal to {high}", "less_than_equal")
    return None


def _check_prose_rules(body: Mapping[str, Any]) -> list[ErrorDetail]:
    """The constraints the spec states only in descriptions, on fields of the right type."""
    found: list[ErrorDetail | None] = []
    steps = body.get("num_inference_steps")
    if not isinstance(steps, float):  # a float already failed the schema's "integer"
        found.append(
            _check_range(
                steps, MIN_INFERENCE_STEPS, MAX_INFERENCE_STEPS, ("body", "num_inference_steps")
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
            found.append(_error(weights_loc, msg, "value_error"))
        elif isinstance(images, list) and len(images) != len(weights):
            msg = (
                f"Value error, controlnet_weights has {len(weights)} values but control_images "
                f"has {len(images)} images; there must be one weight per control image"
            )
            found.append(_error(weights_loc, msg, "value_error"))
    return [error for error in found if error is not None]


def validate_request_body(body: object) -> list[ErrorDetail]:
    """Validate a parsed request body exactly as the server does; ``[]`` means valid.

    First the request schema of ``POST /dedicated/v1/images/generations``, read from the
    ``openapi.json`` shipped in ``friendli_images_api``; then the constraints the spec only
    states in prose (see the module docstring). Types are strict: ``true`` is not a
    number and ``20.0`` is not an integer.
    """
    validator, schema = _request_schema()
    errors = validator.validate(body, schema, ("body",))
    if isinstance(body, dict):
        errors.extend(_check_prose_rules(body))
    return errors


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False

    @classmethod
    def json(cls, status: int, value: Any, headers: Sequence[tuple[str, str]] = ()) -> _Response:
        return cls(status, _json_bytes(value), [("Content-Type", "application/json"), *headers])


class _BadRequest(Exception):
    """The request's framing is broken; answer ``status`` and close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _ClientGone(Exception):
    """The client closed the connection before the request was complete."""


class _Stopping(Exception):
    """The server is stopping; abandon the request and close the connection."""


class _Listener(http.server.ThreadingHTTPServer):
    """One listening socket; every connection gets its own tracked thread."""

    request_queue_size = 128
    daemon_threads = True

    def __init__(self, owner: FriendliTestServer, kind: Listener, port: int) -> None:
        self.owner = owner
        self.kind: Listener = kind
        self._handler_threads: set[threading.Thread] = set()
        self._connections: set[socket.socket] = set()
        self._track_lock = threading.Lock()
        super().__init__((_HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup we neither need nor want.
        socketserver.TCPServer.server_bind(self)
        self.server_name = _HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"friendli-test-server-{self.kind}",
            daemon=True,
        )
        with self._track_lock:
            self._handler_threads.add(thread)
            self._connections.add(request)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._track_lock:
                self._handler_threads.discard(threading.current_thread())
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep quiet; anything unexpected was already recorded by the handler."""

    def close_connections(self) -> None:
        """Shut every open connection down so blocked reads in handler threads return."""
        with self._track_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def join_handlers(self, deadline: float) -> None:
        with self._track_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(http.server.BaseHTTPRequestHandler):
    """Reads a request, records it, applies a queued fault or the normal behaviour."""

    protocol_version = "HTTP/1.1"
    server_version = "friendli-images-testing"
    server: _Listener
    connection_id: int

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection_id = self.server.owner._next_connection_id()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: test output stays clean."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer protocol errors found by ``http.server`` with JSON instead of HTML."""
        response = _Response.json(code, {"detail": message or _reason(code)})
        response.close = True
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(response, head=self.command == "HEAD")

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        path, _, query = self.path.partition("?")
        try:
            try:
                body = self._read_body(owner.max_body_bytes)
            except _BadRequest as exc:
                owner._receive(self, path, query, b"", consume_fault=False)
                response = _Response.json(exc.status, {"detail": exc.detail})
                response.close = True
                self._send(response)
                return
            record = owner._receive(self, path, query, body)
            self._respond(record, body)
        except (_ClientGone, _Stopping, OSError):
            self.close_connection = True
        except Exception as exc:  # a bug in this server: keep it for the test to see
            owner._record_error(exc)
            response = _Response.json(500, {"detail": f"test server error: {exc!r}"})
            response.close = True
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(response)

    def _respond(self, record: RecordedRequest, body: bytes) -> None:
        owner = self.server.owner
        fault = record.fault
        if isinstance(fault, DropConnection):
            self.close_connection = True
            return
        if isinstance(fault, ErrorStatus):
            self._send(_Response(fault.status, fault.response_body(), fault.response_headers()))
            return
        if isinstance(fault, InvalidJson):
            headers = [("Content-Type", "application/json")]
            self._send(_Response(fault.status, fault.body, headers))
            return
        if isinstance(fault, WrongShape):
            self._send(_Response.json(fault.status, fault.body))
            return
        if isinstance(fault, Delay):
            owner._sleep(fault.seconds)
        response = owner._normal_response(record, body)
        if isinstance(fault, TruncatedBody):
            keep = min(int(len(response.body) * fault.fraction), max(len(response.body) - 1, 0))
            declared = max(len(response.body), keep + 1)
            response.close = True
            self._send(response, declared_length=declared, send=keep)
            return
        self._send(response)

    def _send(
        self,
        response: _Response,
        *,
        declared_length: int | None = None,
        send: int | None = None,
        head: bool | None = None,
    ) -> None:
        if head is None:
            head = self.command == "HEAD"
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        length = len(response.body) if declared_length is None else declared_length
        self.send_header("Content-Length", str(length))
        if response.close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            body = response.body if send is None else memoryview(response.body)[:send]
            self.wfile.write(body)
        if response.close:
            self.close_connection = True

    def _read_body(self, limit: int) -> bytes:
        encodings = self.headers.get_all("Transfer-Encoding") or []
        codings = [c.strip().lower() for value in encodings for c in value.split(",") if c.strip()]
        if codings:
            if codings != ["chunked"]:
                raise _BadRequest(501, f"unsupported Transfer-Encoding {', '.join(codings)}")
            return self._read_chunked(limit)
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return b""
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise _BadRequest(400, "invalid Content-Length header")
        length = int(next(iter(lengths)))
        if length > limit:
            raise _BadRequest(413, f"request body of {length} bytes exceeds {limit} bytes")
        return self._read_exact(length)

    def _read_exact(self, length: int) -> bytes:
        data = self.rfile.read(length)  # BufferedReader reads large sizes straight into place
        if len(data) != length:
            raise _ClientGone
        return data

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if not line:
                raise _ClientGone
            size_field = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_field):
                raise _BadRequest(400, "malformed chunk size line")
            size = int(size_field, 16)
            if size == 0:
                break
            total += size
            if total > limit:
                raise _BadRequest(413, f"request body exceeds {limit} bytes")
            parts.append(self._read_exact(size))
            if self.rfile.readline(_MAX_CHUNK_LINE) not in (b"\r\n", b"\n"):
                raise _BadRequest(400, "chunk data is not followed by CRLF")
        while True:  # trailer fields, up to the blank line
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if not line:
                raise _ClientGone
            if line in (b"\r\n", b"\n"):
                break
        return b"".join(parts)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


@dataclass
class _QueuedFault:
    fault: Fault
    remaining: int


class FriendliTestServer:
    """A Friendli image-generation endpoint on ``127.0.0.1``, for tests and benchmarks.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. Two listeners
    run in background threads: the API (:attr:`base_url`) and an image host on another
    port (:attr:`image_base_url`) that serves the images behind ``url`` results without
    asking for a token. See the module docstring for the exact behaviour.

    Args:
        token: The bearer token the API accepts.
        port: API port; ``0`` picks a free one.
        image_port: Image-host port; ``0`` picks a free one.
        latency: Seconds each valid generation request takes before its answer
            (concurrent requests wait in parallel). May be changed while running.
        image_size: ``(width, height)`` of generated images. May be changed while running.
        record_bodies: Keep request bodies in :attr:`requests`. Turn off for benchmarks
            that send large bodies many times, to keep memory flat.
        max_body_bytes: Larger request bodies are refused with 413.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        port: int = 0,
        image_port: int = 0,
        latency: float = 0.0,
        image_size: tuple[int, int] = (64, 64),
        record_bodies: bool = True,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency}")
        self.token = token
        self.latency = latency
        self.image_size = image_size
        self.record_bodies = record_bodies
        self.max_body_bytes = max_body_bytes
        self._ports = (port, image_port)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._api: _Listener | None = None
        self._images: _Listener | None = None
        self._serve_threads: list[threading.Thread] = []
        self._requests: list[RecordedRequest] = []
        self._faults: dict[Route, deque[_QueuedFault]] = {
            "generate": deque(),
            "image": deque(),
            "endpoint": deque(),
        }
        self._endpoints = EndpointRegistry()
        self._errors: list[BaseException] = []
        self._image_index: dict[str, tuple[int, int, int]] = {}
        self._seeds = itertools.count(1)
        self._connections = itertools.count(1)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Bind both listeners and serve in background threads; return ``self``.

        Raises:
            RuntimeError: If the server is already running.
            OSError: If a requested port is taken.
        """
        if self._api is not None:
            raise RuntimeError("FriendliTestServer is already running")
        self._stopping.clear()
        api = _Listener(self, "api", self._ports[0])
        try:
            images = _Listener(self, "images", self._ports[1])
        except BaseException:
            api.server_close()
            raise
        self._api, self._images = api, images
        for listener in (api, images):
            thread = threading.Thread(
                target=listener.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL},
                name=f"friendli-test-server-{listener.kind}-accept",
                daemon=True,
            )
            thread.start()
            self._serve_threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection (also mid-request) and free the ports.

        Requests sleeping in a delay or ``latency`` are woken and abandoned. Calling
        ``stop`` on a stopped server does nothing.
        """
        listeners = [listener for listener in (self._api, self._images) if listener is not None]
        if not listeners:
            return
        self._stopping.set()
        for listener in listeners:
            listener.shutdown()  # returns once serve_forever has left its loop
        deadline = time.monotonic() + _STOP_TIMEOUT
        for listener in listeners:
            listener.close_connections()
        for listener in listeners:
            listener.join_handlers(deadline)
            listener.server_close()
        for thread in self._serve_threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._serve_threads.clear()
        self._api = self._images = None

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` of the images generated from now on."""
        return self._image_size

    @image_size.setter
    def image_size(self, size: tuple[int, int]) -> None:
        width, height = size
        check_dimensions(width, height)
        self._image_size = (width, height)

    def __enter__(self) -> Self:
        if self._api is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self._api is None:
            return "<FriendliTestServer (stopped) token='[secure]'>"
        return (
            f"<FriendliTestServer base_url={self.base_url!r} "
            f"image_base_url={self.image_base_url!r} token='[secure]'>"
        )

    # -- addresses -----------------------------------------------------------------------

    def _listener(self, kind: Listener) -> _Listener:
        listener = self._api if kind == "api" else self._images
        if listener is None:
            raise RuntimeError("FriendliTestServer is not running; call start() first")
        return listener

    @property
    def port(self) -> int:
        """The API's port."""
        return self._listener("api").server_port

    @property
    def image_port(self) -> int:
        """The image host's port (different from :attr:`port`)."""
        return self._listener("images").server_port

    @property
    def base_url(self) -> str:
        """The API's origin, e.g. ``http://127.0.0.1:54321``; give it to the client."""
        return f"http://{_HOST}:{self.port}"

    @property
    def image_base_url(self) -> str:
        """The image host's origin; ``url`` results point below ``/images/`` here."""
        return f"http://{_HOST}:{self.image_port}"

    @property
    def generation_url(self) -> str:
        """The full URL of the generation endpoint."""
        return self.base_url + GENERATION_PATH

    # -- faults --------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        times: int = 1,
        route: Literal["generate", "image", "endpoint"] = "generate",
    ) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``route``.

        Faults on a route are consumed first in, first out, one per request; requests
        after the queue is empty behave normally. ``route="image"`` targets downloads
        from the image host (``Delay``, ``ErrorStatus``, ``TruncatedBody`` and
        ``DropConnection`` make sense there).

        Raises:
            TypeError: If ``fault`` is not one of the fault classes.
            ValueError: If ``times`` < 1 or ``route`` is unknown.
        """
        if not isinstance(fault, _FAULT_TYPES):
            raise TypeError(f"not a fault: {fault!r}")
        if isinstance(times, bool) or times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        if route not in ("generate", "image", "endpoint"):
            raise ValueError(f"route must be 'generate', 'image' or 'endpoint', got {route!r}")
        with self._lock:
            self._faults[route].append(_QueuedFault(fault, times))

    def pending_faults(
        self, route: Literal["generate", "image", "endpoint"] = "generate"
    ) -> list[Fault]:
        """The faults still queued for ``route``, one entry per request they will affect."""
        with self._lock:
            return [q.fault for q in self._faults[route] for _ in range(q.remaining)]

    # -- recordings ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received on either listener, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def generation_requests(self) -> list[RecordedRequest]:
        """The requests to the generation path (any method)."""
        return [r for r in self.requests if r.route == "generate"]

    @property
    def image_requests(self) -> list[RecordedRequest]:
        """The requests for images on the image host."""
        return [r for r in self.requests if r.route == "image"]

    @property
    def endpoint_requests(self) -> list[RecordedRequest]:
        """The requests to the endpoint API (status, wake, sleep)."""
        return [r for r in self.requests if r.route == "endpoint"]

    def add_endpoint(self, endpoint_id: str, **lifecycle: Any) -> SimulatedEndpoint:
        """Simulate the Dedicated Endpoint ``endpoint_id`` (SLEEPING unless ``status=`` says).

        ``lifecycle`` goes to :class:`SimulatedEndpoint`: ``polls_per_phase``,
        ``seconds_per_phase``, ``fail_on_wake``, ``phases``, ``wake_on_request``.
        """
        return self._endpoints.add(SimulatedEndpoint(endpoint_id, **lifecycle))

    def endpoint(self, endpoint_id: str) -> SimulatedEndpoint:
        """The simulated endpoint ``endpoint_id`` (``KeyError`` if none was added)."""
        return self._endpoints.get(endpoint_id)

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions inside the server (its own bugs); empty when all is well."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Forget recorded requests, queued faults and errors; restart the seed counter.

        Images already handed out as URLs stay downloadable.
        """
        with self._lock:
            self._requests.clear()
            for queue in self._faults.values():
                queue.clear()
            self._errors.clear()
            self._seeds = itertools.count(1)

    # -- called from handler threads ----------------------------------------------------

    def _next_connection_id(self) -> int:
        with self._lock:
            return next(self._connections)

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Stopping

    def _receive(
        self, handler: _Handler, path: str, query: str, body: bytes, *, consume_fault: bool = True
    ) -> RecordedRequest:
        """Classify, take the route's next fault and record the request, atomically."""
        kind = handler.server.kind
        route: Route = "other"
        if kind == "api" and path == GENERATION_PATH:
            route = "generate"
        elif kind == "images" and path.startswith(IMAGES_PATH_PREFIX):
            route = "image"
        elif kind == "api" and is_endpoint_path(path):
            route = "endpoint"
        with self._lock:
            fault: Fault | None = None
            queue = self._faults.get(route)
            if queue and consume_fault:
                head = queue[0]
                fault = head.fault
                head.remaining -= 1
                if head.remaining == 0:
                    queue.popleft()
            record = RecordedRequest(
                method=handler.command,
                path=path,
                query=query,
                headers=httpx.Headers(list(handler.headers.items())),
                body=body if self.record_bodies else b"",
                body_length=len(body),
                route=route,
                listener=kind,
                connection_id=handler.connection_id,
                fault=fault,
                received_at=time.monotonic(),
            )
            self._requests.append(record)
        return record

    def _normal_response(self, record: RecordedRequest, body: bytes) -> _Response:
        if record.route == "generate":
            return self._generate(record, body)
        if record.route == "image":
            return self._serve_image(record)
        if record.route == "endpoint":
            unauthorized = self._check_token(record.headers.get("authorization"))
            if unauthorized is not None:
                return unauthorized
            status, value, headers = self._endpoints.answer(
                record.method, record.path, record.headers.get("x-friendli-team")
            )
            return _Response.json(status, value, headers)
        return _Response.json(404, {"detail": "Not Found"})

    def _generate(self, record: RecordedRequest, body: bytes) -> _Response:
        if record.method != "POST":
            return _Response.json(405, {"detail": "Method Not Allowed"}, [("Allow", "POST")])
        unauthorized = self._check_token(record.headers.get("authorization"))
        if unauthorized is not None:
            return unauthorized
        parsed = self._parse_body(record.headers.get("content-type", ""), body)
        if isinstance(parsed, _Response):
            return parsed
        errors = validate_request_body(parsed)
        if errors:
            return _Response.json(422, {"detail": errors})
        endpoint = self._endpoints.for_model(parsed.get("model"))
        refusal = endpoint.refuse_generation() if endpoint is not None else None
        if refusal is not None:
            return _Response.json(503, {"detail": refusal})

        self._sleep(self.latency)
        seed = parsed.get("seed")
        if seed is None:
            with self._lock:
                seed = next(self._seeds)
        response_format = parsed.get("response_format") or "url"
        width, height = self.image_size
        item: dict[str, Any] = {"seed": seed, "response_format": response_format}
        if response_format == "url":
            image_id = secrets.token_hex(8)
            with self._lock:
                self._image_index[image_id] = (seed, width, height)
            item["url"] = f"{self.image_base_url}{IMAGES_PATH_PREFIX}{image_id}.png"
        else:
            render = render_jpeg if response_format in ("jpeg", "jpg") else render_png
            item["b64_json"] = base64.b64encode(render(seed, width, height)).decode("ascii")
        return _Response.json(200, {"data": [item]})

    def _check_token(self, authorization: str | None) -> _Response | None:
        challenge = [("WWW-Authenticate", "Bearer")]
        if authorization is None:
            return _Response.json(401, {"detail": "Missing Authorization header"}, challenge)
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            detail = "Authorization header must be 'Bearer <token>'"
            return _Response.json(401, {"detail": detail}, challenge)
        if not hmac.compare_digest(credentials.strip().encode(), self.token.encode()):
            return _Response.json(401, {"detail": "Invalid token"}, challenge)
        return None

    def _parse_body(self, content_type: str, body: bytes) -> dict[str, Any] | _Response:
        """Parse JSON like FastAPI: a non-JSON content type or bad JSON is a 422."""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and media_type != "application/json" and not media_type.endswith("+json"):
            msg = "Input should be a valid dictionary or object to extract fields from"
            error = _error(("body",), msg, "model_attributes_type")
            return _Response.json(422, {"detail": [error]})
        if not body:
            return _Response.json(422, {"detail": [_error(("body",), "Field required", "missing")]})
        try:
            value = json.loads(body, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            error = _error(("body", exc.pos), "JSON decode error", "json_invalid")
            error["ctx"] = {"error": exc.msg}
            return _Response.json(422, {"detail": [error]})
        except (ValueError, RecursionError) as exc:
            error = _error(("body", 0), "JSON decode error", "json_invalid")
            error["ctx"] = {"error": str(exc)}
            return _Response.json(422, {"detail": [error]})
        if not isinstance(value, dict):
            errors = validate_request_body(value)
            return _Response.json(422, {"detail": errors})
        return value

    def _serve_image(self, record: RecordedRequest) -> _Response:
        if record.method not in ("GET", "HEAD"):
            return _Response.json(405, {"detail": "Method Not Allowed"}, [("Allow", "GET, HEAD")])
        name = record.path.removeprefix(IMAGES_PATH_PREFIX)
        image_id, dot, extension = name.partition(".")
        with self._lock:
            entry = self._image_index.get(image_id)
        if entry is None or not dot or extension != "png":
            return _Response.json(404, {"detail": "Image not found"})
        seed, width, height = entry
        return _Response(200, render_png(seed, width, height), [("Content-Type", "image/png")])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
