"""``FriendliImages`` and ``AsyncFriendliImages``.

``_BaseClient`` owns everything but I/O: configuration, argument validation, building
the generated request model, interpreting a response (or a failure) into an
``ImageResult`` or a typed error, and the retry decision. ``_SyncClient`` and
``_AsyncClient`` only run the operation's generated endpoint function
(``sync_detailed`` / ``asyncio_detailed``, see ``_operations``), sleep between
attempts, and run batches. The public clients, here and in ``_container``, add one
method per operation.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Generator,
    Iterable,
    Mapping,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, Unpack, cast
from urllib.parse import quote, quote_plus

import attrs
import httpx
from friendli_images_api import AuthenticatedClient
from friendli_images_api.models import (
    B64ImageItem,
    ImageGenerationDedicatedResult,
    UrlImageItem,
)
from friendli_images_api.types import UNSET, Response, Unset

from . import _config, _retry, _rules
from ._decoding import ACCEPT_ENCODING
from ._download import AsyncDownloader, Downloader, DownloadSettings
from ._endpoint_wait import (
    WaiterPool,
    WaiterState,
    await_if_not_ready,
    wait_if_not_ready,
    waits_seen,
)
from ._endpoints import AsyncEndpointMethods, SyncEndpointMethods
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._http import AsyncExchange, BodyTooLargeError, Exchange
from ._operations import DEDICATED_EDIT, DEDICATED_GENERATE, Operation
from ._params import EditInput, EditParams, GenerateParams, body_fields, check_text, edit_inputs
from ._pool import ClientPool, aclose_pool, close_pool
from ._recipe.origin import RecipeSource, attach_source
from ._results import BatchFailure, GeneratedImage, ImageResult, decode_base64_image
from ._sniff import SNIFF_BYTES, sniff_image_type
from ._version import __version__

if TYPE_CHECKING:
    from ._engine import Outcome

__all__ = ["AsyncFriendliImages", "FriendliImages"]

logger = logging.getLogger("friendli_images")

DEFAULT_CONCURRENCY = 4
_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)
_SECURE = "[secure]"


@attrs.frozen
class _Call:
    """One validated call of an operation, ready to send (possibly several times)."""

    body: Any
    """The operation's generated request model."""
    timeout: httpx.Timeout
    max_retries: int
    retry_ambiguous: bool
    operation: Operation = DEDICATED_GENERATE
    endpoint_waiter: WaiterState | None = attrs.field(default=None, eq=False, repr=False)
    """With ``wait_for_endpoint``: a not-ready answer goes to it instead of being retried."""

    def waiting_with(self, waiter: WaiterState | None) -> _Call:
        return self if waiter is None else attrs.evolve(self, endpoint_waiter=waiter)

    def with_seed(self, seed: int) -> _Call:
        return attrs.evolve(self, body=attrs.evolve(self.body, seed=seed))


@attrs.frozen
class _Failure:
    """A failed attempt: the error to raise, and whether and when it may be retried."""

    error: APIError
    retryable: bool
    retry_after: float | None = None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_seconds(value: object) -> bool:
    return _is_number(value) and _rules.number_problem(cast(float, value)) is None and value > 0  # type: ignore[operator]


def _as_timeout(value: float | httpx.Timeout | None, param: str) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        fields = value.as_dict().values()
        if all(field is None or _is_seconds(field) for field in fields):
            return value
    elif value is None:
        return httpx.Timeout(None)
    elif _is_seconds(value):
        return httpx.Timeout(float(value))
    raise InvalidRequestError(
        f"{param} must be a positive, finite number of seconds or an httpx.Timeout", param=param
    )


def _check_flag(value: object, param: str) -> None:
    if not isinstance(value, bool):
        raise InvalidRequestError(
            f"{param} must be True or False, got {type(value).__name__}", param=param
        )


def _check_header_value(value: str, param: str) -> str:
    """``value`` without surrounding whitespace, if it can be an HTTP header value."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{param} must be a string", param=param)
    stripped = value.strip()
    problem = _rules.header_value_problem(stripped)
    if problem:
        raise InvalidRequestError(
            f"{param} {problem}, so it cannot be sent in an HTTP header", param=param
        )
    return stripped


def _check_byte_limit(value: object, param: str) -> int:
    if not _is_int(value) or cast(int, value) < 1:
        raise InvalidRequestError(f"{param} must be an integer number of bytes >= 1", param=param)
    return cast(int, value)


def secret_forms(secret: str) -> tuple[str, ...]:
    """``secret`` as it may appear in text: as is, escaped by ``repr``, %-encoded."""
    forms = {
        secret,
        repr(secret)[1:-1],
        repr(secret.encode("utf-8", "backslashreplace"))[2:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with every form of every secret replaced, through dicts and lists."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, _SECURE)
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    return value


def _safe_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (LookupError, ValueError):  # an unknown or broken charset
        return response.content.decode("utf-8", "replace")


def _decode_error_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        return _safe_text(response)


def _error_message(body: Any) -> str | None:
    """The server's own words from an error body, whatever its shape."""
    if isinstance(body, str):
        return body.strip()[:1000] or None
    if not isinstance(body, dict):
        return None
    for key in ("message", "detail", "error", "msg"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            nested = _error_message(value)
            if nested:
                return nested
        if isinstance(value, list) and value:
            return "; ".join(_validation_item(item) for item in value)
    return None


def _validation_item(item: Any) -> str:
    if isinstance(item, dict) and "msg" in item:
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        return f"{location}: {item['msg']}" if location else str(item["msg"])
    return str(item)


def _parse_problem(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"the body is not valid JSON ({exc.msg} at position {exc.pos})"
    if isinstance(exc, KeyError):
        return f"the required property {exc.args[0]!r} is missing"
    return str(exc) or type(exc).__name__


class _BaseClient:
    """Configuration, validation, response interpretation and retry decisions."""

    # What a request of generate_many() runs: its required fields, and its operations.
    _request_required: ClassVar[tuple[str, ...]] = ("prompt", "model")
    _generate_operation: ClassVar[Operation] = DEDICATED_GENERATE
    _edit_operation: ClassVar[Operation] = DEDICATED_EDIT

    def __init__(
        self,
        *,
        token: str | None,
        base_url: str | None,
        team_id: str | None,
        timeout: float | httpx.Timeout | None,
        download_timeout: float,
        max_retries: int,
        retry_ambiguous: bool,
        max_response_bytes: int,
        max_download_bytes: int,
    ) -> None:
        resolved_token = self._resolve_token(token)
        resolved_team = self._resolve_team(team_id)
        resolved_url = self._resolve_base_url(base_url)
        if not isinstance(resolved_url, str):
            raise InvalidRequestError("base_url must be a string", param="base_url")
        url_problem = _rules.base_url_problem(resolved_url)
        if url_problem:
            raise InvalidRequestError(
                "base_url must be an http(s) URL without credentials, query or fragment; "
                f"{_rules.display_url(resolved_url)!r} {url_problem}",
                param="base_url",
            )
        if not _is_int(max_retries) or max_retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", param="max_retries")
        if not _is_seconds(download_timeout):
            raise InvalidRequestError(
                "download_timeout must be a positive, finite number of seconds",
                param="download_timeout",
            )
        _check_flag(retry_ambiguous, "retry_ambiguous")
        self._token = resolved_token
        self._secrets = secret_forms(resolved_token) if resolved_token else ()
        self.base_url: str = resolved_url.rstrip("/")
        self.team_id = resolved_team
        self.timeout: httpx.Timeout = _as_timeout(timeout, "timeout")
        self.download_timeout: float = float(download_timeout)
        self.max_retries = max_retries
        self.retry_ambiguous = retry_ambiguous
        self.max_response_bytes: int = _check_byte_limit(max_response_bytes, "max_response_bytes")
        self.max_download_bytes: int = _check_byte_limit(max_download_bytes, "max_download_bytes")
        self._download_settings = DownloadSettings(
            timeout=self.download_timeout,
            max_bytes=self.max_download_bytes,
            user_agent=f"friendli-images/{__version__} httpx/{httpx.__version__}",
        )
        self._random = random.Random()  # noqa: S311 - backoff jitter, not a secret
        self._headers = {
            "User-Agent": f"friendli-images/{__version__} httpx/{httpx.__version__}",
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if resolved_token:
            self._headers["Authorization"] = f"Bearer {resolved_token}"

    def _resolve_token(self, token: str | None) -> str | None:
        """The token to send: Dedicated Endpoints need one."""
        resolved = _config.env_or(token, _config.TOKEN_ENV)
        if isinstance(resolved, str):
            resolved = resolved.strip()
        if not resolved:
            raise InvalidRequestError(
                f"No API token: pass token=... or set the {_config.TOKEN_ENV} environment "
                "variable (a Friendli Personal API Key, flp_...)",
                param="token",
            )
        return _check_header_value(resolved, "token")

    def _resolve_team(self, team_id: str | None) -> str | None:
        resolved = _config.env_or(team_id, _config.TEAM_ENV)
        return None if resolved is None else _check_header_value(resolved, "team_id")

    def _resolve_base_url(self, base_url: str | None) -> str:
        return _config.env_or(base_url, _config.BASE_URL_ENV) or _config.DEFAULT_BASE_URL

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, team_id={self.team_id!r}, "
            f"token={_SECURE!r})"
        )

    # -- before sending ----------------------------------------------------------------

    def _prepare(
        self, operation: Operation, sent: Mapping[str, Any], params: Mapping[str, Any]
    ) -> _Call:
        """Validate every argument the spec constrains; build the generated request model.

        ``sent`` holds the required fields, already checked; ``params`` the keyword
        arguments of the call (``None``: not sent).
        """
        fields = body_fields(params, accepted=operation.accepted, formats=operation.formats)
        max_retries = params.get("max_retries")
        timeout = params.get("timeout")
        retry_ambiguous = params.get("retry_ambiguous")
        retries = self.max_retries if max_retries is None else max_retries
        if retry_ambiguous is not None:
            _check_flag(retry_ambiguous, "retry_ambiguous")
        if not _is_int(retries) or retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", param="max_retries")
        return _Call(
            body=operation.body_type(**sent, **fields),
            timeout=self.timeout if timeout is None else _as_timeout(timeout, "timeout"),
            max_retries=retries,
            retry_ambiguous=self.retry_ambiguous if retry_ambiguous is None else retry_ambiguous,
            operation=operation,
        )

    @staticmethod
    def _concurrency(concurrency: int | None) -> int:
        workers = DEFAULT_CONCURRENCY if concurrency is None else concurrency
        if not _is_int(workers) or workers < 1:
            raise InvalidRequestError(
                f"concurrency must be an integer >= 1, got {concurrency!r}", param="concurrency"
            )
        return workers

    @classmethod
    def _batch_size(cls, n: int, concurrency: int | None) -> tuple[int, int]:
        if not _is_int(n) or n < 1:
            raise InvalidRequestError(f"n must be an integer >= 1, got {n!r}", param="n")
        return n, min(n, cls._concurrency(concurrency))

    @staticmethod
    def _batch_call(call: _Call, seed: int | None, index: int) -> _Call:
        """Request ``index`` of a batch: with a seed, it uses ``seed + index`` (``_seed_for``)."""
        request_seed = _seed_for(seed, index)
        return call if request_seed is None else call.with_seed(request_seed)

    def _waiter(self, sent: Mapping[str, Any], params: Mapping[str, Any]) -> WaiterState | None:
        """The endpoint waiter of a call (``None``: no waiting; see ``_endpoints``)."""
        return None

    def _waiter_pool_for(self, wait_for_endpoint: object, wake: object) -> WaiterPool[Any] | None:
        """Validate a batch's waiting options: a pool for its waiters (``None``: off).

        Only Dedicated Endpoints sleep: the other clients refuse the options."""
        for name, value in (("wait_for_endpoint", wait_for_endpoint), ("wake", wake)):
            if value is not None and value is not False:
                raise InvalidRequestError(
                    f"{name} is for Dedicated Endpoints; this client has no endpoint to "
                    "wait for or wake",
                    param=name,
                )
        return None

    def _endpoint_waiter(
        self, model: str, wait_for_endpoint: float | None, wake: bool, pool: Any = None
    ) -> WaiterState | None:
        """The waiter of a call with these options, from ``pool`` (``None``: off)."""
        return None

    def _request_preparer(
        self,
        wait_for_endpoint: float | None,
        wake: bool,
        pool: WaiterPool[Any] | None,
        request_of: Callable[[Any], Mapping[str, Any]] = lambda request: request,
    ) -> Callable[[Any], _Call]:
        """How a batch validates each item (``request_of(item)`` is its request): with
        ``pool``, each call gets its endpoint's waiter from it (one wait, one wake per
        endpoint)."""

        def prepare(item: Any) -> _Call:
            request = request_of(item)
            call = self._prepare_request(request)
            if pool is None:
                return call
            waiter = self._endpoint_waiter(request["model"], wait_for_endpoint, wake, pool)
            return call.waiting_with(waiter)

        return prepare

    def _prepare_request(self, request: Mapping[str, Any]) -> _Call:
        """Validate one request of ``generate_many()``: ``generate()``'s arguments as a mapping.

        A request with an ``image`` is an edit (``edit()``'s arguments).
        """
        if not isinstance(request, Mapping):
            raise InvalidRequestError(
                "a request must be a mapping of generate() arguments (prompt, model, ...), "
                f"got {type(request).__name__}",
                param="request",
            )
        for name in self._request_required:
            if name not in request:
                raise InvalidRequestError(f"the request has no {name!r}", param=name)
        for name in _BATCH_OPTIONS:
            if name in request:
                raise InvalidRequestError(
                    f"{name!r} is an option of the batch, not of one request", param=name
                )
        required = self._request_required
        params = {name: value for name, value in request.items() if name not in required}
        sent: dict[str, Any] = {name: check_text(name, request[name]) for name in required}
        if "image" in params:
            sent = {"image": edit_inputs(params.pop("image")), **sent}
            return self._prepare(self._edit_operation, sent, params)
        return self._prepare(self._generate_operation, sent, params)

    def _api_client(self, exchange: Exchange | AsyncExchange) -> AuthenticatedClient:
        # The exchange adds the Authorization header itself, so the token is never stored
        # in a generated object (whose attrs repr would print it).
        client = AuthenticatedClient(base_url=self.base_url, token="")
        if isinstance(exchange, AsyncExchange):
            return client.set_async_httpx_client(cast(httpx.AsyncClient, exchange))
        return client.set_httpx_client(cast(httpx.Client, exchange))

    def _exchange_settings(self, call: _Call) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "headers": self._headers,
            "timeout": call.timeout,
            "max_body_bytes": self.max_response_bytes,
        }

    @property
    def _team(self) -> str | Unset:
        return self.team_id if self.team_id else UNSET

    # -- after an attempt --------------------------------------------------------------

    def _interpret(
        self,
        exchange: Exchange | AsyncExchange,
        response: Response[Any] | None,
        failure: BaseException | None,
        call: _Call,
    ) -> ImageResult | _Failure:
        """Turn one attempt into a result, or into an error with its retry decision."""
        if isinstance(failure, httpx.RequestError):
            error = self._connection_error(failure, exchange.sent_request)
            return _Failure(
                error,
                _retry.is_retryable(
                    status_code=None, sent=error.sent, retry_ambiguous=call.retry_ambiguous
                ),
            )
        http_response = exchange.response
        if http_response is None:  # failed before anything was sent: not an API problem
            assert failure is not None
            raise failure
        if isinstance(failure, BodyTooLargeError):
            too_large = APIResponseValidationError(
                f"The API answered {http_response.status_code} with {failure}; raise "
                "max_response_bytes if such answers are expected",
                response=http_response,
                body=None,
            )
            return _Failure(too_large, retryable=False)
        status = http_response.status_code
        if 200 <= status < 300:
            try:
                if failure is not None:
                    raise failure
                parsed = response.parsed if response is not None else None
                if status != 200:
                    raise ValueError(f"status {status} is not the documented 200")
                images = call.operation.images(self, parsed, call.body)
                attach_source(images, self._recipe_source(call))
                return ImageResult(images)
            except _PARSE_ERRORS as exc:
                return _Failure(self._validation_error(http_response, exc), retryable=False)
        status_error = self._status_error(http_response)
        retry_after = _retry.parse_retry_after(http_response.headers.get("Retry-After"))
        return _Failure(
            status_error,
            _retry.is_retryable(
                status_code=status, sent=True, retry_ambiguous=call.retry_ambiguous
            ),
            retry_after,
        )

    def _recipe_source(self, call: _Call) -> RecipeSource:
        """The request behind a call's images (their recipe, should it be saved)."""
        return RecipeSource(
            call.body,
            call.operation.operation_id,
            team_id=self.team_id,
            secrets=self._secrets,
        )

    def _images(self, result: ImageGenerationDedicatedResult) -> list[GeneratedImage]:
        if not isinstance(result.data, list):
            raise ValueError("'data' is not a list")
        images = []
        items: list[UrlImageItem | B64ImageItem] = list(result.data)
        for index, item in enumerate(items):
            if not _is_int(item.seed) or not isinstance(item.response_format, str):
                raise ValueError(f"data[{index}] has no integer 'seed' or string 'response_format'")
            if isinstance(item, UrlImageItem):
                if not isinstance(item.url, str):
                    raise ValueError(f"data[{index}].url is not a string")
                problem = _rules.result_url_problem(item.url)
                if problem:
                    raise ValueError(f"data[{index}].url {problem}")
                images.append(self._url_image(item))
            elif isinstance(item, B64ImageItem):
                if not isinstance(item.b64_json, str):
                    raise ValueError(f"data[{index}].b64_json is not a string")
                try:
                    data = decode_base64_image(item.b64_json)
                except ValueError as exc:
                    raise ValueError(f"data[{index}]: {exc}") from None
                if sniff_image_type(data[:SNIFF_BYTES]) is None:
                    what = "is empty" if not data else "is not a PNG, JPEG, WebP or GIF image"
                    raise ValueError(f"data[{index}].b64_json {what}")
                item.b64_json = ""  # keep the bytes, not also their base64 text (4/3 the size)
                images.append(
                    GeneratedImage(
                        seed=item.seed, response_format=item.response_format, data=data, raw=item
                    )
                )
            else:  # pragma: no cover - the generated union has exactly these two members
                raise ValueError(f"data[{index}] is neither a url nor a b64_json item")
        return images

    def _url_image(self, item: UrlImageItem) -> GeneratedImage:
        raise NotImplementedError

    def _connection_error(
        self, exc: httpx.RequestError, request: httpx.Request | None
    ) -> APIConnectionError:
        sent = _retry.was_sent(exc)
        consequence = (
            " after the request was sent, so the image may have been generated"
            if sent
            else " before the request was sent"
        )
        detail = _redact(str(exc), self._secrets) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"Request timed out ({type(exc).__name__}){consequence}.",
                request=request,
                sent=sent,
            )
        return APIConnectionError(
            f"Connection error{consequence}: {detail}", request=request, sent=sent
        )

    def _validation_error(
        self, response: httpx.Response, exc: BaseException
    ) -> APIResponseValidationError:
        body = _redact(_safe_text(response), self._secrets)[:2000]
        return APIResponseValidationError(
            f"The API answered {response.status_code} with a body that does not match the "
            f"spec: {_redact(_parse_problem(exc), self._secrets)}",
            response=response,
            body=body,
        )

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        body = _redact(_decode_error_body(response), self._secrets)
        reason = _redact(response.reason_phrase, self._secrets)
        message = _error_message(body) or reason or "no message"
        status = response.status_code
        if status == 429:
            return RateLimitError(
                message,
                response=response,
                body=body,
                retry_after=_retry.parse_retry_after(response.headers.get("Retry-After")),
            )
        cls = _STATUS_ERRORS.get(status)
        if cls is None:
            cls = InternalServerError if status >= 500 else APIStatusError
        return cls(message, response=response, body=body)

    def _next_delay(self, failure: _Failure, retries_taken: int, call: _Call) -> float | None:
        """Seconds to wait before retrying ``failure``, or ``None`` to give up."""
        if not failure.retryable or retries_taken >= call.max_retries:
            return None
        if call.endpoint_waiter is not None and call.endpoint_waiter.handles(failure.error):
            return None  # the endpoint waiter takes over
        delay = _retry.retry_delay(retries_taken, failure.retry_after, random=self._random.random)
        logger.debug(
            "Retrying image generation in %.2f s (retry %d of %d) after: %s",
            delay,
            retries_taken + 1,
            call.max_retries,
            failure.error.message,
        )
        return delay


def _seed_for(seed: int | None, index: int) -> int | None:
    """The batch seed rule: request ``index`` uses ``seed + index`` (None: the server picks)."""
    return None if seed is None else seed + index


_BATCH_OPTIONS = ("n", "concurrency", "strict", "wait_for_endpoint", "wake")


class _BatchCollector:
    """Gathers a ``generate(n=...)`` batch's outcomes into one ``ImageResult``, by index."""

    def __init__(self, seed: int | None, *, strict: bool) -> None:
        self._seed = seed
        self._strict = strict
        self._outcomes: list[Outcome[int]] = []

    def add(self, outcome: Outcome[int]) -> None:
        if self._strict and outcome.error is not None:
            raise outcome.error
        self._outcomes.append(outcome)

    def result(self) -> ImageResult:
        images: list[GeneratedImage] = []
        errors: list[BatchFailure] = []
        for outcome in sorted(self._outcomes, key=lambda outcome: outcome.index):
            if outcome.result is not None:
                for image in outcome.result.images:
                    image.request_index = outcome.index
                images.extend(outcome.result.images)
            else:
                assert outcome.error is not None
                seed = _seed_for(self._seed, outcome.index)
                errors.append(BatchFailure(index=outcome.index, seed=seed, error=outcome.error))
        return ImageResult(images, errors)


class _SyncClient(_BaseClient):
    """The I/O of the sync clients: the connection pool, sending with retries, batches."""

    def __init__(self, *, http_client: httpx.Client | None, **settings: Any) -> None:
        super().__init__(**settings)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=self.timeout)
        self._downloader = Downloader(
            self._http, self._download_settings, user_client=not self._owns_http
        )
        # Batches spread over small pools of kept-alive connections (see _pool); a caller's
        # own http_client is used as it is.
        self._pool: ClientPool[httpx.Client] | None = (
            ClientPool(lambda limits: httpx.Client(timeout=self.timeout, limits=limits))
            if http_client is None
            else None
        )

    def close(self) -> None:
        """Close the connection pool (not a client you passed in)."""
        if self._owns_http:
            self._http.close()
        if self._pool is not None:
            close_pool(self._pool)

    def _connections(
        self, concurrency: int
    ) -> Callable[[], contextlib.AbstractContextManager[httpx.Client]]:
        """What a batch of ``concurrency`` sends with: a lease from the pool, or your client."""
        pool = self._pool
        if pool is None:
            return lambda: contextlib.nullcontext(self._http)
        pool.reserve(concurrency)
        return pool.lease

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _url_image(self, item: UrlImageItem) -> GeneratedImage:
        return GeneratedImage._downloaded_by(
            seed=item.seed,
            response_format=item.response_format,
            url=item.url,
            raw=item,
            downloader=self._downloader,
        )

    def _run(
        self, operation: Operation, sent: Mapping[str, Any], params: Mapping[str, Any]
    ) -> ImageResult:
        """Validate, then send one request, or ``n`` with at most ``concurrency`` at once."""
        strict = params.get("strict", False)
        _check_flag(strict, "strict")
        count, workers = self._batch_size(params.get("n", 1), params.get("concurrency"))
        waiter = self._waiter(sent, params)
        call = self._prepare(operation, sent, params).waiting_with(waiter)
        if count == 1:
            result = self._send(call)
        else:
            from ._engine import generate_each  # here: only batches need the engine

            seed = params.get("seed")
            collector = _BatchCollector(seed, strict=strict)
            outcomes = generate_each(
                self, range(count), lambda i: self._batch_call(call, seed, i), concurrency=workers
            )
            with contextlib.closing(outcomes):
                for outcome in outcomes:
                    collector.add(outcome)
            result = collector.result()
        result.endpoint_events = [] if waiter is None else list(waiter.events)
        return result

    def generate_many(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        throttle_on_503: bool = False,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> Generator[Outcome[Mapping[str, Any]]]:
        """Run many requests, at most ``concurrency`` at once; yield each ``Outcome`` as it ends.

        Each request is a mapping of ``generate()``'s arguments for one request
        (``{"prompt": ..., "model": ..., "seed": 7}``). ``requests`` is read lazily, one
        request per free slot, so it may be a generator of any length; memory stays
        proportional to ``concurrency``. Outcomes come in completion order, each with the
        request's ``index`` and the ``request`` itself, and either its ``result`` or its
        ``error`` (an invalid request included): one failure never stops the others.

        ``concurrency`` (default 4) is a ceiling: on 429 Too Many Requests (and on 503
        with ``throttle_on_503=True``) fewer requests are sent at once, then more again as
        they succeed, and a ``Retry-After`` pauses the whole batch once.

        Leaving the loop (``break``, an exception, Ctrl-C) or calling ``close()`` stops
        the batch: no new request or retry is sent afterwards.

        :param requests: The requests: mappings of ``generate()``'s keyword arguments,
            ``prompt`` included; read lazily.
        :param concurrency: At most this many requests in flight; default 4.
        :param throttle_on_503: Also send fewer at once on 503, as on 429; default
            ``False``.
        :param wait_for_endpoint: Seconds to wait for an endpoint that answers it is not
            ready (asleep or waking), then send again, as in ``generate()``; the requests
            to one endpoint share one wait. Each wake and wait is logged at INFO. Default
            off.
        :param wake: With ``wait_for_endpoint``: wake a SLEEPING endpoint, with at most
            one wake request per endpoint for the whole batch; default ``False``.
        :returns: A generator of one ``Outcome`` per request, in completion order.
        :raises InvalidRequestError: ``concurrency``, ``throttle_on_503``,
            ``wait_for_endpoint`` or ``wake`` is invalid (an invalid request is an
            ``Outcome`` with its ``error`` instead); nothing is sent then.
        """
        from ._engine import generate_each

        workers = self._concurrency(concurrency)
        _check_flag(throttle_on_503, "throttle_on_503")
        pool = self._waiter_pool_for(wait_for_endpoint, wake)
        return generate_each(
            self,
            requests,
            self._request_preparer(wait_for_endpoint, wake, pool),
            concurrency=workers,
            throttle_on_503=throttle_on_503,
        )

    def _attempt(self, call: _Call, http: httpx.Client | None = None) -> ImageResult | _Failure:
        """Send ``call`` once (with ``http``, else the client's): result, or failure."""
        exchange = Exchange(http or self._http, **self._exchange_settings(call))
        response: Response[Any] | None = None
        failure: BaseException | None = None
        try:
            response = call.operation.send(self._api_client(exchange), call.body, self._team)
        except (httpx.RequestError, *_PARSE_ERRORS) as exc:
            failure = exc
        return self._interpret(exchange, response, failure, call)

    def _send(self, call: _Call) -> ImageResult:
        retries_taken = 0
        while True:
            seen = waits_seen(call.endpoint_waiter)
            outcome = self._attempt(call)
            if isinstance(outcome, ImageResult):
                return outcome
            delay = self._next_delay(outcome, retries_taken, call)
            if delay is None:
                if wait_if_not_ready(call.endpoint_waiter, seen, outcome.error):
                    continue  # it was not ready, nothing was generated, and now it is
                raise outcome.error
            time.sleep(delay)
            retries_taken += 1


def _deadline(seconds: float | None) -> contextlib.AbstractAsyncContextManager[Any]:
    import asyncio  # here, not at the top: sync users never pay for importing it

    return asyncio.timeout(seconds)


class _AsyncClient(_BaseClient):
    """The I/O of the async clients: ``_SyncClient`` with awaitable calls."""

    def __init__(self, *, http_client: httpx.AsyncClient | None, **settings: Any) -> None:
        super().__init__(**settings)
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.AsyncClient(timeout=self.timeout)
        )
        self._loop: object = None
        self._downloader = AsyncDownloader(
            self._http, self._download_settings, user_client=not self._owns_http
        )
        self._pool: ClientPool[httpx.AsyncClient] | None = (
            ClientPool(lambda limits: httpx.AsyncClient(timeout=self.timeout, limits=limits))
            if http_client is None
            else None
        )
        self._pool_loop: object = None

    def _http_for_this_loop(self) -> httpx.AsyncClient:
        """The connection pool, replaced when the client is used from a new event loop.

        Pooled connections belong to the loop that opened them: after ``asyncio.run()``
        returns they are dead (close the client before that loop ends, ``async with``,
        to release them cleanly). A pool made by this class is opened again for a new
        loop, or after ``aclose()``; your own ``http_client`` is used as is.
        """
        import asyncio  # here, not at the top: sync users never pay for importing it

        loop = asyncio.get_running_loop()
        moved = self._loop is not None and self._loop is not loop
        if self._owns_http and (moved or self._http.is_closed):
            self._http = httpx.AsyncClient(timeout=self.timeout)
            self._downloader = AsyncDownloader(self._http, self._download_settings)
        self._loop = loop
        return self._http

    async def aclose(self) -> None:
        """Close the connection pools (not a client you passed in)."""
        if self._owns_http and not self._http.is_closed:
            await self._http_for_this_loop().aclose()
        if self._pool is not None:
            await aclose_pool(self._pool)

    def _connections(
        self, concurrency: int
    ) -> Callable[[], contextlib.AbstractContextManager[httpx.AsyncClient]]:
        """What a batch of ``concurrency`` sends with: a lease from the pool, or your client.

        Pooled connections belong to the event loop that opened them: used from another
        loop (a second ``asyncio.run()``), the batch pool starts afresh.
        """
        import asyncio  # here, not at the top: sync users never pay for importing it

        pool = self._pool
        if pool is None:
            return lambda: contextlib.nullcontext(self._http_for_this_loop())
        loop = asyncio.get_running_loop()
        if self._pool_loop is not None and self._pool_loop is not loop:
            pool.take_all()  # their connections died with their loop: drop, not close
        self._pool_loop = loop
        pool.reserve(concurrency)
        return pool.lease

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _url_image(self, item: UrlImageItem) -> GeneratedImage:
        return GeneratedImage._downloaded_by(
            seed=item.seed,
            response_format=item.response_format,
            url=item.url,
            raw=item,
            async_downloader=self._downloader,
        )

    async def _run(
        self, operation: Operation, sent: Mapping[str, Any], params: Mapping[str, Any]
    ) -> ImageResult:
        """``_SyncClient._run``; cancelling cancels every request."""
        strict = params.get("strict", False)
        _check_flag(strict, "strict")
        count, workers = self._batch_size(params.get("n", 1), params.get("concurrency"))
        waiter = self._waiter(sent, params)
        call = self._prepare(operation, sent, params).waiting_with(waiter)
        if count == 1:
            result = await self._send(call)
        else:
            from ._engine import agenerate_each  # here: only batches need the engine

            seed = params.get("seed")
            collector = _BatchCollector(seed, strict=strict)
            outcomes = agenerate_each(
                self, range(count), lambda i: self._batch_call(call, seed, i), concurrency=workers
            )
            async with contextlib.aclosing(outcomes):
                async for outcome in outcomes:
                    collector.add(outcome)
            result = collector.result()
        result.endpoint_events = [] if waiter is None else list(waiter.events)
        return result

    def generate_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        throttle_on_503: bool = False,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> AsyncGenerator[Outcome[Mapping[str, Any]]]:
        """``FriendliImages.generate_many`` for asyncio: ``async for outcome in ...``.

        ``requests`` may also be an async iterable. Use ``contextlib.aclosing`` around the
        loop when you may leave it early: closing the iterator cancels the requests in flight.

        :param requests: The requests (an iterable or an async iterable of mappings of
            ``generate()``'s keyword arguments); read lazily.
        :param concurrency: At most this many requests in flight; default 4.
        :param throttle_on_503: Also send fewer at once on 503, as on 429; default
            ``False``.
        :param wait_for_endpoint: Seconds to wait for an endpoint that is not ready, as
            in ``FriendliImages.generate_many``; default off.
        :param wake: With ``wait_for_endpoint``: at most one wake request per endpoint;
            default ``False``.
        :returns: An async generator of one ``Outcome`` per request, in completion order.
        :raises InvalidRequestError: An option is invalid; nothing is sent then.
        """
        from ._engine import agenerate_each

        workers = self._concurrency(concurrency)
        _check_flag(throttle_on_503, "throttle_on_503")
        pool = self._waiter_pool_for(wait_for_endpoint, wake)
        return agenerate_each(
            self,
            requests,
            self._request_preparer(wait_for_endpoint, wake, pool),
            concurrency=workers,
            throttle_on_503=throttle_on_503,
        )

    async def _attempt(
        self, call: _Call, http: httpx.AsyncClient | None = None
    ) -> ImageResult | _Failure:
        """Send ``call`` once (with ``http``, else the client's): result, or failure."""
        exchange = AsyncExchange(
            http or self._http_for_this_loop(), **self._exchange_settings(call)
        )
        response: Response[Any] | None = None
        failure: BaseException | None = None
        try:
            async with _deadline(exchange.remaining()):
                response = await call.operation.asend(
                    self._api_client(exchange), call.body, self._team
                )
        except TimeoutError:
            failure = httpx.ReadTimeout(
                "the attempt ran past its deadline", request=exchange.sent_request
            )
        except (httpx.RequestError, *_PARSE_ERRORS) as exc:
            failure = exc
        return self._interpret(exchange, response, failure, call)

    async def _send(self, call: _Call) -> ImageResult:
        retries_taken = 0
        while True:
            seen = waits_seen(call.endpoint_waiter)
            outcome = await self._attempt(call)
            if isinstance(outcome, ImageResult):
                return outcome
            delay = self._next_delay(outcome, retries_taken, call)
            if delay is None:
                if await await_if_not_ready(call.endpoint_waiter, seen, outcome.error):
                    continue  # it was not ready, nothing was generated, and now it is
                raise outcome.error
            import asyncio  # here, not at the top: sync users never pay for importing it

            await asyncio.sleep(delay)
            retries_taken += 1


def _dedicated(prompt: str, model: str) -> dict[str, Any]:
    return {"prompt": check_text("prompt", prompt), "model": check_text("model", model)}


class FriendliImages(SyncEndpointMethods, _SyncClient):
    """Client for Friendli Dedicated Endpoints image generation and editing.

    The token is only ever sent to ``base_url``: image URLs are downloaded without it.
    Every argument is checked here: a bad one raises ``InvalidRequestError``.

    :param token: Personal API key (``flp_...``). Default: env ``FRIENDLI_TOKEN``.
    :param base_url: API address. Default: env ``FRIENDLI_BASE_URL``, else
        ``https://api.friendli.ai``.
    :param team_id: Team to run requests as, sent as ``X-Friendli-Team``. Default: env
        ``FRIENDLI_TEAM``; omitted when unset.
    :param timeout: For the generation call, seconds or an ``httpx.Timeout``. The
        default allows 300 s for the answer (generation can take over a minute), 10 s
        to connect; ``None``: no timeout.
    :param download_timeout: Deadline in seconds for downloading one ``url`` result,
        first byte to last; default 120.
    :param max_retries: Retries of failures that show the image was not generated (see
        README "Retries"); default 2.
    :param retry_ambiguous: Also retry failures after the request was sent (read
        timeout, dropped connection, 500, 504), which may generate, and bill, twice;
        default ``False``.
    :param max_response_bytes: Largest API answer accepted, decoded, in bytes; default
        320 MiB.
    :param max_download_bytes: Largest ``url`` image downloaded, in bytes; default 64 MiB.
    :param http_client: Your own ``httpx.Client`` (proxies, transports, limits). It is
        used as is, never modified, and not closed by ``close()``.
    :raises InvalidRequestError: An argument is invalid, or no token is given or set.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        team_id: str | None = None,
        timeout: float | httpx.Timeout | None = _config.DEFAULT_TIMEOUT,
        download_timeout: float = _config.DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        retry_ambiguous: bool = False,
        max_response_bytes: int = _config.DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = _config.DEFAULT_MAX_DOWNLOAD_BYTES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            team_id=team_id,
            timeout=timeout,
            download_timeout=download_timeout,
            max_retries=max_retries,
            retry_ambiguous=retry_ambiguous,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            http_client=http_client,
        )

    def generate(self, prompt: str, *, model: str, **params: Unpack[GenerateParams]) -> ImageResult:
        """Generate images from ``prompt`` with the endpoint ``model``.

        Parameters (``GenerateParams``): ``num_inference_steps``, ``guidance_scale``,
        ``seed``, ``response_format``, ``control_images``, ``controlnet_weights``, and
        the call options ``n``, ``concurrency``, ``strict``, ``max_retries``,
        ``timeout``, ``retry_ambiguous``.

        Arguments left as ``None`` are not sent, so the endpoint applies its model's
        own defaults; ``max_retries``, ``timeout`` and ``retry_ambiguous`` default to
        the client's settings. Everything the spec constrains is checked first: a
        rejected call raises ``InvalidRequestError`` and sends nothing.

        With ``n > 1``, ``n`` requests run with at most ``concurrency`` (default 4) in
        flight; with a ``seed``, request ``i`` uses ``seed + i``. Images keep request
        order; failed requests are listed in ``result.errors`` unless ``strict=True``,
        which raises the first failure instead.

        ``wait_for_endpoint`` (seconds, default off) opts in to waiting for an endpoint
        that answers "not ready" (asleep or waking): its status is polled until it is
        RUNNING, within that many seconds in all, then the request is sent again (a
        not-ready answer generated nothing). With ``wake=True`` a SLEEPING endpoint gets
        one wake request. A batch shares one wait and at most one wake request. Each
        wake and wait is logged at INFO and listed in ``result.endpoint_events``.

        :param prompt: What to generate (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE`` for
            one of its adapters.
        :param params: The optional keyword arguments of ``GenerateParams``, each listed
            in its documentation.
        :returns: The images in request order, the failed requests of a batch in
            ``errors``, and the endpoint's wakes and waits in ``endpoint_events``.
        :raises InvalidRequestError: An argument the API would reject (nothing is sent).
        :raises APIStatusError: The API answered an error status (a subclass per status).
        :raises APIConnectionError: The network failed (``APITimeoutError``: timed out).
        :raises APIResponseValidationError: A 200 whose body does not match the spec.
        :raises EndpointError: With ``wait_for_endpoint``: the endpoint failed, stopped
            or was not ready in time.
        """
        return self._run(DEDICATED_GENERATE, _dedicated(prompt, model), params)

    def edit(
        self, image: EditInput, prompt: str, *, model: str, **params: Unpack[EditParams]
    ) -> ImageResult:
        """Edit ``image`` as ``prompt`` describes, with the endpoint ``model``.

        ``image`` is one input or a list of them, each anything ``control_images``
        takes (a path, bytes, a binary file, a ``PIL.Image``, an http(s) URL or a data
        URI; at most 50 MiB). Local images are streamed into the request body, never
        held as one base64 string. Parameters (``EditParams``): ``num_inference_steps``,
        ``guidance_scale``, ``seed``, ``response_format`` and the call options; ``n``,
        seeds, errors and retries work as in ``generate()``.

        :param image: The image to edit, or a list of images.
        :param prompt: How to edit it (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
        :param params: The optional keyword arguments of ``EditParams``, each listed in
            its documentation.
        :returns: The edited images, as ``generate()`` returns them.
        :raises InvalidRequestError: An argument the API would reject (nothing is sent).
        :raises APIError: The request failed, as for ``generate()``.
        """
        sent = _dedicated(prompt, model)
        return self._run(DEDICATED_EDIT, {"image": edit_inputs(image), **sent}, params)


class AsyncFriendliImages(AsyncEndpointMethods, _AsyncClient):
    """The asyncio twin of ``FriendliImages``: the same arguments, awaitable calls.

    Close with ``await client.aclose()`` or ``async with``.

    :param token: Personal API key (``flp_...``). Default: env ``FRIENDLI_TOKEN``.
    :param base_url: API address. Default: env ``FRIENDLI_BASE_URL``, else
        ``https://api.friendli.ai``.
    :param team_id: Team to run requests as, sent as ``X-Friendli-Team``. Default: env
        ``FRIENDLI_TEAM``; omitted when unset.
    :param timeout: For the generation call, seconds or an ``httpx.Timeout``; the
        default allows 300 s for the answer, 10 s to connect; ``None``: no timeout.
    :param download_timeout: Deadline in seconds for downloading one ``url`` result;
        default 120.
    :param max_retries: Retries of failures that show the image was not generated;
        default 2.
    :param retry_ambiguous: Also retry failures that may have generated (and billed);
        default ``False``.
    :param max_response_bytes: Largest API answer accepted, decoded, in bytes; default
        320 MiB.
    :param max_download_bytes: Largest ``url`` image downloaded, in bytes; default 64 MiB.
    :param http_client: Your own ``httpx.AsyncClient``, used as is and not closed by
        ``aclose()``.
    :raises InvalidRequestError: An argument is invalid, or no token is given or set.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        team_id: str | None = None,
        timeout: float | httpx.Timeout | None = _config.DEFAULT_TIMEOUT,
        download_timeout: float = _config.DEFAULT_DOWNLOAD_TIMEOUT,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        retry_ambiguous: bool = False,
        max_response_bytes: int = _config.DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = _config.DEFAULT_MAX_DOWNLOAD_BYTES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            token=token,
            base_url=base_url,
            team_id=team_id,
            timeout=timeout,
            download_timeout=download_timeout,
            max_retries=max_retries,
            retry_ambiguous=retry_ambiguous,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            http_client=http_client,
        )

    async def generate(
        self, prompt: str, *, model: str, **params: Unpack[GenerateParams]
    ) -> ImageResult:
        """Generate images; see ``FriendliImages.generate``. Cancelling cancels every request.

        :param prompt: What to generate (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
        :param params: The optional keyword arguments of ``GenerateParams``.
        :returns: The images, as ``FriendliImages.generate`` returns them.
        """
        return await self._run(DEDICATED_GENERATE, _dedicated(prompt, model), params)

    async def edit(
        self, image: EditInput, prompt: str, *, model: str, **params: Unpack[EditParams]
    ) -> ImageResult:
        """Edit images; see ``FriendliImages.edit``.

        :param image: The image to edit, or a list of images.
        :param prompt: How to edit it (a non-empty string).
        :param model: The Dedicated Endpoint's ID, or ``ENDPOINT_ID:ADAPTER_ROUTE``.
        :param params: The optional keyword arguments of ``EditParams``.
        :returns: The edited images, as ``FriendliImages.edit`` returns them.
        """
        sent = _dedicated(prompt, model)
        return await self._run(DEDICATED_EDIT, {"image": edit_inputs(image), **sent}, params)
