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
4. Parses the JSON and validates it with ``jsonschema`` (JSON Schema 2020-12) against
   the request schema read from the spec (:func:`validate_request_body`), then the rules
   the spec only states in prose: steps in [1, 50], ControlNet weights in [0, 1] and one
   per control image, control images as
   ``http(s)://`` URLs or ``data:<mime>;base64,`` URIs of at most 50 MiB decoded.
   Any problem, malformed JSON included, is a **422** with a FastAPI-style body
   ``{"detail": [{"loc": ["body", ...], "msg": "...", "type": "..."}]}``.
5. Waits ``latency`` seconds (generation time), then answers **200** with one image: a
   ``url`` on a *second* listener (another port, no token needed, like a CDN) when
   ``response_format`` is ``"url"``, absent or null; base64 in ``b64_json`` otherwise
   (PNG for ``raw`` and ``png``, JPEG for ``jpeg`` and ``jpg``, encoded by Pillow). Any
   property the shipped response schema requires beyond these is filled in from the
   schema (its examples, default or type), so the answers follow the spec.

The endpoint API (status, wake, sleep) answers for the endpoints added with
:meth:`FriendliTestServer.add_endpoint`, which sleep and wake like real ones; a
generation request for such an endpoint gets **503** until it is RUNNING (see
:class:`SimulatedEndpoint`).

Other paths answer **404**, other methods (any, TRACE included) **405** with ``Allow``
(the spec's methods for the path), all with JSON bodies. A body larger than
``max_body_bytes`` is refused with **413** and the connection is closed; a broken
``Content-Length`` or chunked framing gets **400** and a closed connection. Such requests
are recorded with an empty body and consume no fault. Requests that ``http.server``
itself rejects (a malformed request line) are answered but not recorded.

Images are deterministic: the same seed and ``image_size`` give the same bytes, which
:func:`render_png` and :func:`render_jpeg` reproduce (handy for control images too). A
request without a seed gets the next value of a per-server counter (1, 2, 3, ...).

It needs the ``testing`` extra (``pip install 'friendli-images[testing]'``: jsonschema
and Pillow); without it, importing this module raises an ``ImportError`` that says so.
The modules below it are private, one concern each: ``_faults``, ``_recording``,
``_validation`` (with ``_spec``), ``_responses``, ``_http``, ``_server`` and ``_images``.

The server is quiet (nothing is logged), serves every connection on its own thread with
keep-alive, and :meth:`FriendliTestServer.stop` closes idle and busy connections at once.
"""

from __future__ import annotations

try:  # the ``testing`` extra; without it, say which to install rather than a bare name
    import jsonschema  # noqa: F401
    import PIL.Image  # noqa: F401
except ImportError as _missing:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        f"friendli_images.testing needs the 'testing' extra ({_missing.name} is missing): "
        "pip install 'friendli-images[testing]'",
        name=_missing.name,
    ) from _missing

from types import FunctionType as _FunctionType

from .._config import MAX_CONTROL_IMAGE_BYTES
from ._endpoints import WAKE_PHASES, SimulatedEndpoint
from ._faults import (
    Delay,
    DropConnection,
    ErrorStatus,
    Fault,
    InvalidJson,
    TruncatedBody,
    WrongShape,
)
from ._images import jpeg_backend, render_jpeg, render_png
from ._recording import Listener, RecordedRequest, Route
from ._server import DEFAULT_TOKEN, FriendliTestServer
from ._validation import GENERATION_PATH, ErrorDetail, validate_request_body

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

# Show the public classes and functions as friendli_images.testing.X in help(), reprs
# and resolved annotations, not under the private module that defines them.
# Type aliases (``Fault``, ``Route``) and constants keep theirs.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type | _FunctionType):
        _obj.__module__ = __name__
del _name, _obj
