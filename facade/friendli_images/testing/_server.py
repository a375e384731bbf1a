"""The server itself: two loopback listeners, fault queues, recordings and the operations."""

from __future__ import annotations

import base64
import contextlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeAlias

import attrs
import httpx

from .. import _config
from ._endpoints import EndpointRegistry, SimulatedEndpoint, is_endpoint_path
from ._faults import FAULT_TYPES, Fault
from ._http import HOST, Handler, Listener, Response, Stopping
from ._images import check_dimensions, render_jpeg, render_png
from ._operations import (
    CONTAINER_EDIT_PATH,
    CONTAINER_GENERATION_PATH,
    EDIT_PATH,
    IMAGE_OPERATIONS,
    StoredImages,
    answer,
)
from ._recording import Listener as ListenerKind
from ._recording import RecordedRequest, Route
from ._responses import complete
from ._spec import Spec, shipped_spec
from ._validation import GENERATION_PATH, error, validate_operation_body

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_TOKEN", "IMAGES_PATH_PREFIX", "FriendliTestServer"]

DEFAULT_TOKEN: Final = "test-token"  # noqa: S105
"""The bearer token a :class:`FriendliTestServer` accepts unless given another."""

DEFAULT_MAX_BODY_BYTES: Final = 512 * 1024 * 1024

MAX_LATENCY: Final = _config.MAX_TEST_SERVER_LATENCY
"""The longest ``latency`` accepted, in seconds."""

IMAGES_PATH_PREFIX: Final = "/images/"

_STOP_TIMEOUT = 5.0
_POLL_INTERVAL = 0.05


@attrs.define
class _QueuedFault:
    fault: Fault
    remaining: int


class FriendliTestServer:
    """A Friendli image-generation endpoint on ``127.0.0.1``, for tests and benchmarks.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. Two listeners
    run in background threads: the API (:attr:`base_url`) and an image host on another
    port (:attr:`image_base_url`) that serves the images behind ``url`` results without
    asking for a token. See the module docstring for the exact behaviour.

    :param token: The bearer token the API accepts.
    :param port: API port; ``0`` picks a free one.
    :param image_port: Image-host port; ``0`` picks a free one.
    :param latency: Seconds each valid generation request takes before its answer
        (concurrent requests wait in parallel). May be changed while running.
    :param image_size: ``(width, height)`` of generated images. May be changed while
        running.
    :param record_bodies: Keep request bodies in :attr:`requests`. Turn off for benchmarks
        that send large bodies many times, to keep memory flat.
    :param max_body_bytes: Larger request bodies are refused with 413.
    :param max_records: Keep only the last this many requests in :attr:`requests` (a
        long-running ``mock-server`` keeps its memory flat); ``None``: every request.
    :param spec: The OpenAPI document (a parsed ``openapi.json``) whose request schemas
        validate and whose response schemas shape the answers; by default the one
        shipped with ``friendli_images_api``. Give a modified copy to try a change.
    :param any_endpoint: Answer the endpoint API (status, wake, sleep) for every valid
        endpoint id, as generation answers every ``model``: an id met for the first time
        is a RUNNING endpoint (then sleeps and wakes as one added by :meth:`add_endpoint`).
        Default ``False``: an id not added is a 404, as on Friendli. ``friendli-images
        mock-server`` turns it on. May be changed while running.
    :raises ValueError: If ``latency`` is negative, not finite or over an hour.
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
        spec: Mapping[str, Any] | None = None,
        max_records: int | None = None,
        any_endpoint: bool = False,
    ) -> None:
        if not 0 <= latency <= MAX_LATENCY:  # NaN fails both comparisons
            raise ValueError(f"latency must be between 0 and {MAX_LATENCY:g} s, got {latency}")
        self._spec = shipped_spec() if spec is None else Spec(spec)
        self.token = token
        self.latency = latency
        self.image_size = image_size
        self.record_bodies = record_bodies
        self.max_body_bytes = max_body_bytes
        self._ports = (port, image_port)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._api: Listener | None = None
        self._images: Listener | None = None
        self._serve_threads: list[threading.Thread] = []
        self._requests: deque[RecordedRequest] = deque(maxlen=max_records)
        self._received = 0
        self._faults: dict[Route, deque[_QueuedFault]] = {
            "generate": deque(),
            "image": deque(),
            "endpoint": deque(),
        }
        self._endpoints = EndpointRegistry()
        self.any_endpoint = any_endpoint
        self._errors: list[BaseException] = []
        self._image_index: dict[str, tuple[int, int, int]] = {}
        self._stored_images = StoredImages()  # edits answered as a url
        self._seeds = itertools.count(1)
        self._connections = itertools.count(1)
        self._in_flight = 0
        self._max_in_flight = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Bind both listeners and serve in background threads; return ``self``.

        :raises RuntimeError: If the server is already running.
        :raises OSError: If a requested port is taken.
        """
        if self._api is not None:
            raise RuntimeError("FriendliTestServer is already running")
        self._stopping.clear()
        api = Listener(self, "api", self._ports[0])
        try:
            images = Listener(self, "images", self._ports[1])
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

    def _listener(self, kind: ListenerKind) -> Listener:
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
        return f"http://{HOST}:{self.port}"

    @property
    def image_base_url(self) -> str:
        """The image host's origin; ``url`` results point below ``/images/`` here."""
        return f"http://{HOST}:{self.image_port}"

    @property
    def generation_url(self) -> str:
        """The full URL of the generation endpoint."""
        return self.base_url + GENERATION_PATH

    @property
    def spec(self) -> Mapping[str, Any]:
        """The OpenAPI document this server follows."""
        return self._spec.document

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

        :param fault: What to do instead of (or, for ``Delay``, before) the normal
            handling.
        :param times: How many requests, in a row, the fault applies to.
        :param route: ``"generate"`` for the API, ``"image"`` for the image host,
            ``"endpoint"`` for the endpoint API (status, wake, sleep).
        :raises TypeError: If ``fault`` is not one of the fault classes.
        :raises ValueError: If ``times`` < 1 or ``route`` is unknown.
        """
        if not isinstance(fault, FAULT_TYPES):
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
        """The faults still queued for ``route``, one entry per request they will affect.

        :param route: ``"generate"`` for the API, ``"image"`` for the image host,
            ``"endpoint"`` for the endpoint API (status, wake, sleep).
        """
        with self._lock:
            return [q.fault for q in self._faults[route] for _ in range(q.remaining)]

    # -- recordings ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received on either listener, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def received(self) -> int:
        """How many requests arrived since the start, recorded or not (``max_records``)."""
        with self._lock:
            return self._received

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

        :param endpoint_id: The id its endpoint API paths and generation ``model`` use.
        :param lifecycle: Keyword arguments of :class:`SimulatedEndpoint`: ``status``,
            ``polls_per_phase``, ``seconds_per_phase``, ``fail_on_wake``, ``phases``,
            ``wake_on_request``, ``fail_wake_request``.
        :returns: The endpoint, to inspect or change while the server runs.
        """
        return self._endpoints.add(SimulatedEndpoint(endpoint_id, **lifecycle))

    @property
    def any_endpoint(self) -> bool:
        """Whether every valid endpoint id is answered (see the ``any_endpoint`` parameter)."""
        return self._endpoints.any_endpoint

    @any_endpoint.setter
    def any_endpoint(self, value: bool) -> None:
        self._endpoints.any_endpoint = value

    def endpoint(self, endpoint_id: str) -> SimulatedEndpoint:
        """The simulated endpoint added as ``endpoint_id``.

        :param endpoint_id: The id given to :meth:`add_endpoint`.
        :raises KeyError: If no endpoint was added with that id.
        """
        return self._endpoints.get(endpoint_id)

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions inside the server (its own bugs); empty when all is well."""
        with self._lock:
            return list(self._errors)

    @property
    def max_in_flight(self) -> int:
        """The most generation and edit requests answered at once since start or ``reset``."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Forget recorded requests, queued faults and errors; restart the seed counter
        and ``max_in_flight``.

        Images already handed out as URLs stay downloadable.
        """
        with self._lock:
            self._requests.clear()
            for queue in self._faults.values():
                queue.clear()
            self._errors.clear()
            self._seeds = itertools.count(1)
            self._max_in_flight = self._in_flight

    # -- called from handler threads ----------------------------------------------------

    def _next_connection_id(self) -> int:
        with self._lock:
            return next(self._connections)

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """Count a generation or edit request as in flight while it is answered."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise Stopping

    def _receive(
        self, handler: Handler, path: str, query: str, body: bytes, *, consume_fault: bool = True
    ) -> RecordedRequest:
        """Classify, take the route's next fault and record the request, atomically."""
        kind = handler.server.kind
        route: Route = "other"
        if kind == "api":
            route = _API_ROUTES.get(path, "endpoint" if is_endpoint_path(path) else "other")
        elif kind == "images" and path.startswith(IMAGES_PATH_PREFIX):
            route = "image"
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
                request_id=f"req-{len(self._requests) + 1}",
            )
            self._requests.append(record)
            self._received += 1
        return record

    def _normal_response(self, record: RecordedRequest, body: bytes) -> Response:
        if record.route == "image":
            return self._serve_image(record)
        if record.route == "other":
            return Response.json(404, {"detail": "Not Found"})
        if record.route == "endpoint":
            return self._endpoint_api(record)
        handler = _OPERATIONS.get((record.method, record.path))
        if handler is None:
            allow = ", ".join(self._spec.methods(record.path))
            return Response.json(405, {"detail": "Method Not Allowed"}, [("Allow", allow)])
        if IMAGE_OPERATIONS[record.path].authenticated:  # a container asks for nothing
            unauthorized = self._check_token(record.headers.get("authorization"))
            if unauthorized is not None:
                return unauthorized
        parsed = self._parse_body(record, body)
        if isinstance(parsed, Response):
            return parsed
        return handler(self, record, parsed)

    def _endpoint_api(self, record: RecordedRequest) -> Response:
        """The endpoint API (status, wake, sleep) for the simulated endpoints."""
        unauthorized = self._check_token(record.headers.get("authorization"))
        if unauthorized is not None:
            return unauthorized
        status, value, headers = self._endpoints.answer(
            record.method, record.path, record.headers.get("x-friendli-team")
        )
        return Response.json(status, value, headers)

    def _json_answer(self, record: RecordedRequest, status: int, known: Any) -> Response:
        """``known`` completed with what the operation's response schema requires."""
        schema = self._spec.response_schema(record.method, record.path, status)
        value = known if schema is None else complete(self._spec, known, schema)
        return Response.json(status, value)

    def _generate(self, record: RecordedRequest, parsed: dict[str, Any]) -> Response:
        endpoint = self._endpoints.for_model(parsed.get("model"))
        refusal = endpoint.refuse_generation() if endpoint is not None else None
        if refusal is not None:
            return Response.json(503, {"detail": refusal})
        """``POST /dedicated/v1/images/generations``: one image after ``latency`` seconds."""
        with self._answering():
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
        return self._json_answer(record, 200, {"data": [item]})

    def _image_operation(self, record: RecordedRequest, parsed: dict[str, Any]) -> Response:
        """An edit or a container operation: see :mod:`._operations`."""
        with self._answering():
            self._sleep(self.latency)
        seed = parsed.get("seed")
        if seed is None:
            with self._lock:
                seed = next(self._seeds)
        value = answer(self, IMAGE_OPERATIONS[record.path], parsed, seed)
        return self._json_answer(record, 200, value)

    def _store_image(self, data: bytes) -> str:
        """Serve ``data`` (a PNG) from the image host; return its URL."""
        image_id = secrets.token_hex(8)
        with self._lock:
            self._stored_images.put(image_id, data)
        return f"{self.image_base_url}{IMAGES_PATH_PREFIX}{image_id}.png"

    def _check_token(self, authorization: str | None) -> Response | None:
        challenge = [("WWW-Authenticate", "Bearer")]
        if authorization is None:
            return Response.json(401, {"detail": "Missing Authorization header"}, challenge)
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            detail = "Authorization header must be 'Bearer <token>'"
            return Response.json(401, {"detail": detail}, challenge)
        if not hmac.compare_digest(credentials.strip().encode(), self.token.encode()):
            return Response.json(401, {"detail": "Invalid token"}, challenge)
        return None

    def _parse_body(self, record: RecordedRequest, body: bytes) -> dict[str, Any] | Response:
        """Parse and validate JSON like FastAPI: any problem, bad JSON included, is a 422."""
        content_type = record.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and media_type != "application/json" and not media_type.endswith("+json"):
            msg = "Input should be a valid dictionary or object to extract fields from"
            problem = error(("body",), msg, "model_attributes_type")
            return Response.json(422, {"detail": [problem]})
        if not body:
            return Response.json(422, {"detail": [error(("body",), "Field required", "missing")]})
        try:
            value = json.loads(body, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            problem = error(("body", exc.pos), "JSON decode error", "json_invalid")
            problem["ctx"] = {"error": exc.msg}
            return Response.json(422, {"detail": [problem]})
        except (ValueError, RecursionError) as exc:
            problem = error(("body", 0), "JSON decode error", "json_invalid")
            problem["ctx"] = {"error": str(exc)}
            return Response.json(422, {"detail": [problem]})
        errors = validate_operation_body(self._spec, record.method, record.path, value)
        if not errors and not isinstance(value, dict):  # the operations here take objects
            errors = [error(("body",), "Input should be a valid dictionary", "dict_type")]
        if errors:
            return Response.json(422, {"detail": errors})
        parsed: dict[str, Any] = value
        return parsed

    def _serve_image(self, record: RecordedRequest) -> Response:
        if record.method not in ("GET", "HEAD"):
            return Response.json(405, {"detail": "Method Not Allowed"}, [("Allow", "GET, HEAD")])
        name = record.path.removeprefix(IMAGES_PATH_PREFIX)
        image_id, dot, extension = name.partition(".")
        with self._lock:
            entry = self._image_index.get(image_id)
            stored = self._stored_images.get(image_id)
        if stored is not None and dot and extension == "png":
            return Response(200, stored, [("Content-Type", "image/png")])
        if entry is None or not dot or extension != "png":
            return Response.json(404, {"detail": "Image not found"})
        seed, width, height = entry
        return Response(200, render_png(seed, width, height), [("Content-Type", "image/png")])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_OperationHandler: TypeAlias = Callable[
    [FriendliTestServer, RecordedRequest, dict[str, Any]], Response
]

_OPERATIONS: Final[dict[tuple[str, str], _OperationHandler]] = {
    ("POST", GENERATION_PATH): FriendliTestServer._generate,
    ("POST", EDIT_PATH): FriendliTestServer._image_operation,
    ("POST", CONTAINER_GENERATION_PATH): FriendliTestServer._image_operation,
    ("POST", CONTAINER_EDIT_PATH): FriendliTestServer._image_operation,
}
"""The operations the server implements: (method, path) -> handler of a valid, authorised
request. Adding an operation of the spec is one entry here (plus ``_API_ROUTES``)."""

_API_ROUTES: Final[dict[str, Route]] = dict.fromkeys(IMAGE_OPERATIONS, "generate")
"""How requests to each implemented path are recorded (:attr:`RecordedRequest.route`): the
four image operations share the "generate" route, so its faults apply to all of them."""
