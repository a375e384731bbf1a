"""The parameters of the image operations, declared once, and the rules that check them.

Each ``TypedDict`` below lists the optional keyword arguments of one operation. The
clients' signatures take them as ``**params: Unpack[...]``, so a misspelled keyword is a
type error under mypy; at run time :func:`body_fields` rejects unknown names the same way
(``InvalidRequestError``, nothing sent). Every request body is built from these
dictionaries by one function, so a field added upstream is one line here (plus its rule
in ``_RULES`` when the spec constrains it) and a regeneration.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeAlias, TypedDict, cast

import httpx

from . import _config
from ._checks import check_header_value
from ._config import ResponseFormat
from ._control_images import ControlImage, prepare_control_image
from ._exceptions import InvalidRequestError
from ._transport import _rules

if TYPE_CHECKING:
    from friendli_images_api.models import ImageInput

__all__ = [
    "CALL_OPTIONS",
    "CONNECTION_OPTIONS",
    "ENDPOINT_WAIT_OPTIONS",
    "EXTRA_OPTIONS",
    "PROTECTED_HEADERS",
    "AsyncEditImageParams",
    "AsyncGenerateImageParams",
    "CallOptions",
    "ClientOptions",
    "ContainerEditParams",
    "ContainerGenerateParams",
    "ContainerResponseFormat",
    "EditImageParams",
    "EditInput",
    "EditParams",
    "EndpointWaitOptions",
    "Extras",
    "GenerateImageParams",
    "GenerateParams",
    "body_fields",
    "check_extras",
    "check_text",
    "edit_inputs",
    "is_int",
    "is_number",
    "keys_of",
]

ContainerResponseFormat: TypeAlias = Literal["raw", "jpeg"]
"""What a Friendli Container returns: ``jpeg`` (its default) or ``raw``."""

EditInput: TypeAlias = "ControlImage | Sequence[ControlImage]"
"""The ``image`` of an edit: one input (anything a control image takes) or a list."""


class CallOptions(TypedDict, total=False):
    """How a call runs; none of these is sent to the API."""

    n: int
    """Number of requests (each bills one generation); default 1."""
    concurrency: int | None
    """At most this many requests in flight for ``n > 1``; default 4."""
    strict: bool
    """Raise the first failure of a batch instead of listing it in ``result.errors``."""
    max_retries: int | None
    timeout: float | httpx.Timeout | None
    retry_ambiguous: bool | None
    extra_headers: Mapping[str, str] | None
    """More HTTP headers for this call (never ``Authorization`` or the library's own)."""
    extra_query: Mapping[str, str | int | float] | None
    """More query parameters for this call."""
    extra_body: Mapping[str, Any] | None
    """More JSON body fields, for fields the spec does not have yet (not its own fields)."""


class ClientOptions(TypedDict, total=False):
    """What ``with_options()`` changes in a copy of a client (the rest stays shared)."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    retry_ambiguous: bool


def keys_of(params: type[Any]) -> frozenset[str]:
    """The keys a ``TypedDict`` declares, inherited ones included."""
    return frozenset(params.__required_keys__ | params.__optional_keys__)


CALL_OPTIONS = keys_of(CallOptions)
EXTRA_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body"})
"""The call options that add to the request itself (validated by ``check_extras``)."""

PROTECTED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "accept-encoding",
        "x-friendli-team",
    }
)
"""Headers ``extra_headers`` may not set: the credentials, and what the library itself
sends and relies on (the body's framing and encoding, the team)."""

_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
"""An HTTP header name (a token, RFC 9110); compiled on first use (``re`` caches it)."""


class Extras(NamedTuple):
    """A call's validated ``extra_headers``, ``extra_query`` and ``extra_body``."""

    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]


def _mapping(value: object, name: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            f"{name} must be a mapping, got {type(value).__name__}", param=name
        )
    for key in value:
        if not isinstance(key, str) or not key:
            raise InvalidRequestError(f"{name} keys must be non-empty strings", param=name)
    return value


def check_extras(params: Mapping[str, Any], body_fields: Sequence[str] = ()) -> Extras | None:
    """The call's extras, checked before anything is sent (``None``: none given).

    Headers need valid names and printable values and may not be one of
    ``PROTECTED_HEADERS``; query values are strings or numbers; the body's fields must be
    JSON (no NaN) and not one of the operation's own ``body_fields``."""
    headers = params.get("extra_headers")
    query = params.get("extra_query")
    body = params.get("extra_body")
    if headers is None and query is None and body is None:
        return None
    checked_headers: dict[str, str] = {}
    for name, value in _mapping(headers or {}, "extra_headers").items():
        param = f"extra_headers[{name!r}]"
        if not re.fullmatch(_HEADER_NAME, name):
            raise InvalidRequestError(f"{param}: not a valid HTTP header name", param=param)
        if name.lower() in PROTECTED_HEADERS:
            raise InvalidRequestError(
                f"{param}: the library sets this header itself; it cannot be overridden",
                param=param,
            )
        checked_headers[name] = check_header_value(value, param)
    checked_query: dict[str, str] = {}
    for name, value in _mapping(query or {}, "extra_query").items():
        param = f"extra_query[{name!r}]"
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidRequestError(f"{param} must be a string or a number", param=param)
        text = str(value)
        if _rules.text_problem(text) or _rules.text_problem(name):
            raise InvalidRequestError(f"{param} must be valid text", param=param)
        checked_query[name] = text
    checked_body = dict(_mapping(body or {}, "extra_body"))
    for name in checked_body:
        if name in body_fields:
            raise InvalidRequestError(
                f"extra_body[{name!r}] is a field of the request: pass it as its parameter",
                param=f"extra_body[{name!r}]",
            )
    try:
        json.dumps(checked_body, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRequestError(
            f"extra_body must be JSON-serializable: {exc}"[:300], param="extra_body"
        ) from None
    return Extras(checked_headers, checked_query, checked_body)


class _Sampling(TypedDict, total=False):
    """The sampling fields every image operation sends."""

    num_inference_steps: int | None
    """Inference steps, in [1, 50]; unset: the model's default."""
    guidance_scale: float | None
    seed: int | None
    """With ``n > 1``, request ``i`` uses ``seed + i``."""


class _Control(TypedDict, total=False):
    """The ControlNet fields of the generation operations."""

    control_images: Sequence[ControlImage] | None
    controlnet_weights: Sequence[float] | None
    """One weight in [0, 1] per control image."""


class EndpointWaitOptions(TypedDict, total=False):
    """Waiting for a sleeping Dedicated Endpoint (off by default); none of these is sent."""

    wait_for_endpoint: float | None
    """Seconds to wait for the endpoint when it answers that it is not ready."""
    wake: bool
    """Wake a SLEEPING endpoint (one wake request; needs ``wait_for_endpoint``)."""


ENDPOINT_WAIT_OPTIONS = keys_of(EndpointWaitOptions)


class GenerateParams(_Sampling, _Control, CallOptions, EndpointWaitOptions, total=False):
    """The optional keyword arguments of ``FriendliImages.generate`` (Dedicated Endpoints).

    Sent to the API (unset ones are omitted, so the model's defaults apply):

    - ``num_inference_steps``: inference steps, in [1, 50]; unset: the model's default.
    - ``guidance_scale``: how closely to follow the prompt (a finite number); unset:
      the model's default.
    - ``seed``: the random seed; with ``n > 1``, request ``i`` uses ``seed + i``.
    - ``response_format``: ``"url"``, ``"raw"``, ``"png"``, ``"jpeg"`` or ``"jpg"``;
      unset: the endpoint's default.
    - ``control_images``: control images, each a path, bytes, a binary file, a
      ``PIL.Image``, an http(s) URL or a data URI.
    - ``controlnet_weights``: one weight in [0, 1] per control image.

    How the call runs (never sent):

    - ``n``: number of requests, each billed; default 1.
    - ``concurrency``: at most this many requests in flight for ``n > 1``; default 4.
    - ``strict``: raise the first failure of a batch instead of listing it in
      ``result.errors``; default ``False``.
    - ``max_retries``, ``timeout``, ``retry_ambiguous``: this call's values of the
      client's settings of those names; unset: the client's.
    - ``extra_headers``, ``extra_query``, ``extra_body``: more headers, query parameters
      and JSON body fields for this call (for what the spec does not have yet); checked
      before sending, never the credentials or the library's own headers and fields.
    - ``wait_for_endpoint``: seconds to wait for an endpoint that answers it is not
      ready (asleep or waking); unset: no waiting.
    - ``wake``: send one wake request to a SLEEPING endpoint (needs
      ``wait_for_endpoint``); default ``False``.
    """

    response_format: ResponseFormat | None


class EditParams(_Sampling, CallOptions, EndpointWaitOptions, total=False):
    """The optional keyword arguments of ``FriendliImages.edit`` (Dedicated Endpoints).

    Sent to the API (unset ones are omitted, so the model's defaults apply):

    - ``num_inference_steps``: inference steps, in [1, 50]; unset: the model's default.
    - ``guidance_scale``: how closely to follow the prompt (a finite number); unset:
      the model's default.
    - ``seed``: the random seed; with ``n > 1``, request ``i`` uses ``seed + i``.
    - ``response_format``: ``"url"``, ``"raw"``, ``"png"``, ``"jpeg"`` or ``"jpg"``;
      unset: the endpoint's default.

    How the call runs (never sent):

    - ``n``: number of requests, each billed; default 1.
    - ``concurrency``: at most this many requests in flight for ``n > 1``; default 4.
    - ``strict``: raise the first failure of a batch instead of listing it in
      ``result.errors``; default ``False``.
    - ``max_retries``, ``timeout``, ``retry_ambiguous``: this call's values of the
      client's settings of those names; unset: the client's.
    - ``extra_headers``, ``extra_query``, ``extra_body``: more headers, query parameters
      and JSON body fields for this call (for what the spec does not have yet); checked
      before sending, never the credentials or the library's own headers and fields.
    - ``wait_for_endpoint``: seconds to wait for an endpoint that answers it is not
      ready (asleep or waking); unset: no waiting.
    - ``wake``: send one wake request to a SLEEPING endpoint (needs
      ``wait_for_endpoint``); default ``False``.
    """

    response_format: ResponseFormat | None


class ContainerGenerateParams(_Sampling, _Control, CallOptions, total=False):
    """The optional keyword arguments of ``FriendliContainerImages.generate``.

    Sent to the container (unset ones are omitted):

    - ``model``: an adapter route of the container; unset: its base model.
    - ``response_format``: ``"jpeg"`` (the container's default) or ``"raw"``.
    - ``num_inference_steps``: inference steps, in [1, 50]; unset: the model's default.
    - ``guidance_scale``: how closely to follow the prompt (a finite number); unset:
      the model's default.
    - ``seed``: the random seed; with ``n > 1``, request ``i`` uses ``seed + i``.
    - ``control_images``: control images, each a path, bytes, a binary file, a
      ``PIL.Image``, an http(s) URL or a data URI.
    - ``controlnet_weights``: one weight in [0, 1] per control image.

    How the call runs (never sent):

    - ``n``: number of requests, each billed; default 1.
    - ``concurrency``: at most this many requests in flight for ``n > 1``; default 4.
    - ``strict``: raise the first failure of a batch instead of listing it in
      ``result.errors``; default ``False``.
    - ``max_retries``, ``timeout``, ``retry_ambiguous``: this call's values of the
      client's settings of those names; unset: the client's.
    - ``extra_headers``, ``extra_query``, ``extra_body``: more headers, query parameters
      and JSON body fields for this call (for what the spec does not have yet); checked
      before sending, never the credentials or the library's own headers and fields.
    """

    model: str | None
    """An adapter route of the container; unset: its base model."""
    response_format: ContainerResponseFormat | None


class ContainerEditParams(_Sampling, CallOptions, total=False):
    """The optional keyword arguments of ``FriendliContainerImages.edit``.

    Sent to the container (unset ones are omitted):

    - ``model``: an adapter route of the container; unset: its base model.
    - ``response_format``: ``"jpeg"`` (the container's default) or ``"raw"``.
    - ``num_inference_steps``: inference steps, in [1, 50]; unset: the model's default.
    - ``guidance_scale``: how closely to follow the prompt (a finite number); unset:
      the model's default.
    - ``seed``: the random seed; with ``n > 1``, request ``i`` uses ``seed + i``.

    How the call runs (never sent):

    - ``n``: number of requests, each billed; default 1.
    - ``concurrency``: at most this many requests in flight for ``n > 1``; default 4.
    - ``strict``: raise the first failure of a batch instead of listing it in
      ``result.errors``; default ``False``.
    - ``max_retries``, ``timeout``, ``retry_ambiguous``: this call's values of the
      client's settings of those names; unset: the client's.
    - ``extra_headers``, ``extra_query``, ``extra_body``: more headers, query parameters
      and JSON body fields for this call (for what the spec does not have yet); checked
      before sending, never the credentials or the library's own headers and fields.
    """

    model: str | None
    response_format: ContainerResponseFormat | None


class _Connection(TypedDict, total=False):
    """The client's arguments the one-call helpers also take (``http_client`` apart)."""

    token: str | None
    base_url: str | None
    team_id: str | None
    download_timeout: float
    max_response_bytes: int
    max_download_bytes: int


class GenerateImageParams(GenerateParams, _Connection, total=False):
    """The optional keyword arguments of ``generate_image``.

    Every key of ``GenerateParams`` (those of ``FriendliImages.generate``), and these arguments
    of the client (see ``FriendliImages``): ``token``, ``base_url``, ``team_id``,
    ``download_timeout``, ``max_response_bytes``, ``max_download_bytes`` and
    ``http_client`` (an ``httpx.Client``).
    """

    http_client: httpx.Client | None


class AsyncGenerateImageParams(GenerateParams, _Connection, total=False):
    """The optional keyword arguments of ``agenerate_image``.

    Every key of ``GenerateParams`` (those of ``AsyncFriendliImages.generate``), and these arguments
    of the client (see ``FriendliImages``): ``token``, ``base_url``, ``team_id``,
    ``download_timeout``, ``max_response_bytes``, ``max_download_bytes`` and
    ``http_client`` (an ``httpx.AsyncClient``).
    """

    http_client: httpx.AsyncClient | None


class EditImageParams(EditParams, _Connection, total=False):
    """The optional keyword arguments of ``edit_image``.

    Every key of ``EditParams`` (those of ``FriendliImages.edit``), and these arguments
    of the client (see ``FriendliImages``): ``token``, ``base_url``, ``team_id``,
    ``download_timeout``, ``max_response_bytes``, ``max_download_bytes`` and
    ``http_client`` (an ``httpx.Client``).
    """

    http_client: httpx.Client | None


class AsyncEditImageParams(EditParams, _Connection, total=False):
    """The optional keyword arguments of ``aedit_image``.

    Every key of ``EditParams`` (those of ``AsyncFriendliImages.edit``), and these arguments
    of the client (see ``FriendliImages``): ``token``, ``base_url``, ``team_id``,
    ``download_timeout``, ``max_response_bytes``, ``max_download_bytes`` and
    ``http_client`` (an ``httpx.AsyncClient``).
    """

    http_client: httpx.AsyncClient | None


CONNECTION_OPTIONS = keys_of(_Connection) | {"http_client"}
"""The keys of the one-call helpers that configure the client rather than the call."""


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_text(name: str, value: object) -> str:
    """A required, non-empty string argument that can be sent as JSON text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string", param=name)
    problem = _rules.text_problem(value)
    if problem:
        raise InvalidRequestError(f"{name} {problem}", param=name)
    return value


def _steps(value: object) -> int:
    low, high = _config.MIN_INFERENCE_STEPS, _config.MAX_INFERENCE_STEPS
    if not is_int(value) or not low <= cast(int, value) <= high:
        raise InvalidRequestError(
            f"num_inference_steps must be an integer in [{low}, {high}], got {value!r}",
            param="num_inference_steps",
        )
    return cast(int, value)


def _guidance(value: object) -> float:
    if not is_number(value) or _rules.number_problem(cast(float, value)):
        raise InvalidRequestError(
            f"guidance_scale must be a finite number, got {value!r}", param="guidance_scale"
        )
    return float(cast(float, value))


def _seed(value: object) -> int:
    if not is_int(value):
        raise InvalidRequestError(f"seed must be an integer, got {value!r}", param="seed")
    return cast(int, value)


def _model(value: object) -> str:
    return check_text("model", value)


_RULES: dict[str, Callable[[object], Any]] = {
    "num_inference_steps": _steps,
    "guidance_scale": _guidance,
    "seed": _seed,
    "model": _model,
}
"""One rule per sent field the spec constrains: it returns the value to send, or raises."""


_FORMAT_VALUES: dict[type[Enum], list[Any]] = {}
"""Each generated response-format enum's values, listed once (an enum is immutable)."""


def _response_format(value: object, formats: type[Enum]) -> Enum:
    allowed = _FORMAT_VALUES.get(formats)
    if allowed is None:
        allowed = _FORMAT_VALUES[formats] = [member.value for member in formats]
    text = value.value if isinstance(value, Enum) else value
    if text not in allowed:
        raise InvalidRequestError(
            f"response_format must be one of {', '.join(allowed)}, got {value!r}",
            param="response_format",
        )
    return formats(text)


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(
        value, (str, bytes, bytearray, memoryview)
    )


def _control_images(
    control_images: object, weights: object
) -> "tuple[list[ImageInput] | None, list[float] | None]":
    for name, value in (("control_images", control_images), ("controlnet_weights", weights)):
        if value is not None and not _is_list(value):
            raise InvalidRequestError(
                f"{name} must be a list (one entry per control image)", param=name
            )
    images = cast("Sequence[object] | None", control_images)
    if weights is not None:
        values = cast("Sequence[object]", weights)
        if not images:
            raise InvalidRequestError(
                "controlnet_weights needs control_images (one weight per control image)",
                param="controlnet_weights",
            )
        if len(values) != len(images):
            raise InvalidRequestError(
                f"controlnet_weights has {len(values)} values for {len(images)} "
                "control images; give one weight per control image",
                param="controlnet_weights",
            )
        for index, weight in enumerate(values):
            if not is_number(weight) or not 0.0 <= cast(float, weight) <= 1.0:
                raise InvalidRequestError(
                    f"controlnet_weights[{index}] must be a number in [0, 1], got {weight!r}",
                    param=f"controlnet_weights[{index}]",
                )
    if images is None:
        return None, None
    from ._generated import ImageInput  # with the first call, not the import

    # A Base64Payload stands in for the str the model declares: the exchange writes it
    # as a JSON string in chunks, so the base64 text never exists as one object.
    inputs = [
        ImageInput(image=cast(str, prepare_control_image(image, f"control_images[{index}]")))
        for index, image in enumerate(images)
    ]
    floats = None if weights is None else [float(w) for w in cast("Sequence[float]", weights)]
    return inputs, floats


def edit_inputs(image: object) -> "ImageInput | list[ImageInput]":
    """The ``image`` field of an edit: one input, or a list (a ``list`` or ``tuple``)."""
    if image is None:
        raise InvalidRequestError("image is required: the image(s) to edit", param="image")
    from ._generated import ImageInput  # with the first call, not the import

    if isinstance(image, (list, tuple)):
        if not image:
            raise InvalidRequestError(
                "image is an empty list; give at least one image", param="image"
            )
        return [
            ImageInput(image=cast(str, prepare_control_image(item, f"image[{index}]")))
            for index, item in enumerate(image)
        ]
    return ImageInput(image=cast(str, prepare_control_image(image, "image")))


def body_fields(
    params: Mapping[str, Any], *, accepted: frozenset[str], formats: type[Enum]
) -> dict[str, Any]:
    """The generated body's fields for the parameters given (``None`` means not sent).

    ``accepted`` names the parameters of the operation (its ``TypedDict``'s keys);
    ``formats`` is the generated enum of its ``response_format``. Call options are
    skipped: they shape the call, not the body.
    """
    for name in params:
        if name not in accepted:
            raise InvalidRequestError(f"unexpected keyword argument {name!r}", param=name)
    fields: dict[str, Any] = {}
    for name, value in params.items():
        if value is None or name in CALL_OPTIONS or name in ENDPOINT_WAIT_OPTIONS:
            continue
        if name == "response_format":
            fields[name] = _response_format(value, formats)
        elif name in ("control_images", "controlnet_weights"):
            continue  # checked together below
        else:
            rule = _RULES.get(name)
            fields[name] = rule(value) if rule is not None else value
    control_images, weights = params.get("control_images"), params.get("controlnet_weights")
    if control_images is not None or weights is not None:
        inputs, floats = _control_images(control_images, weights)
        if inputs is not None:
            fields["control_images"] = inputs
        if floats is not None:
            fields["controlnet_weights"] = floats
    return fields
