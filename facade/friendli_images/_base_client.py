"""``BaseClient``: everything of a client but I/O.

Configuration, argument validation, building the generated request model, interpreting a
response (or a failure) into an ``ImageResult`` or a typed error, and the retry decision.
``SyncClient`` and ``AsyncClient`` (``_sync_client``, ``_async_client``) add the I/O;
the public clients (``_client``, ``_container``) add one method per operation.
"""

from __future__ import annotations

import copy
import random
from collections.abc import (
    Callable,
    Mapping,
)
from typing import TYPE_CHECKING, Any, ClassVar, Self, Unpack, cast

import httpx

from . import _config
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchFailedError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    request_id_of,
)
from ._operations import DEDICATED_EDIT, DEDICATED_GENERATE, Operation
from ._params import ClientOptions, body_fields, check_extras, check_text, edit_inputs, keys_of
from ._recipe.origin import RecipeSource, attach_source
from ._results import BatchFailure, GeneratedImage, ImageResult, decode_base64_image
from ._sniff import SNIFF_BYTES, sniff_image_type
from ._transport import _retry, _rules
from ._transport._decoding import ACCEPT_ENCODING
from ._transport._exchange import AsyncExchange, BodyTooLargeError, Exchange
from ._transport._limits import DownloadSettings
from ._version import __version__

if TYPE_CHECKING:
    # The generated package loads with the first call, not with the import (its models
    # and attrs are most of an import's cost: bench/import_time.py).
    from friendli_images_api import AuthenticatedClient
    from friendli_images_api.models import (
        B64ImageItem,
        ImageGenerationDedicatedResult,
        UrlImageItem,
    )
    from friendli_images_api.types import Response, Unset

    from ._batch._engine import Outcome
    from ._endpoints._wait import WaiterPool, WaiterState

from ._calls import _Call, _Failure
from ._checks import (
    as_timeout,
    check_byte_limit,
    check_flag,
    check_header_value,
    is_int,
    is_seconds,
)
from ._redaction import REDACTED, Secrets, package_logger, redact_value

__all__ = ["DEFAULT_CONCURRENCY", "PARSE_ERRORS", "BaseClient", "BatchCollector", "seed_for"]

logger = package_logger()

DEFAULT_CONCURRENCY = 4
_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(body_type: type[Any]) -> tuple[str, ...]:
    """The fields of a generated request model, listed once per model."""
    names = _FIELD_NAMES.get(body_type)
    if names is None:
        import attrs  # loaded with the generated models

        names = _FIELD_NAMES[body_type] = tuple(field.name for field in attrs.fields(body_type))
    return names


class _AttemptClient:
    """What the generated endpoint functions use of their ``AuthenticatedClient``, for one
    attempt: the HTTP client to send with (the attempt's exchange) and
    ``raise_on_unexpected_status`` (off, as the generated default: the client reads every
    status itself). A generated ``AuthenticatedClient`` per attempt would build an attrs
    object with its own dicts for settings the exchange never reads; the generated
    functions use nothing else (``tests/facade/test_http.py`` checks they still work)."""

    __slots__ = ("_exchange",)
    raise_on_unexpected_status = False

    def __init__(self, exchange: Exchange | AsyncExchange) -> None:
        self._exchange = exchange

    def get_httpx_client(self) -> Exchange | AsyncExchange:
        return self._exchange

    def get_async_httpx_client(self) -> Exchange | AsyncExchange:
        return self._exchange


class BaseClient:
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
        if not is_int(max_retries) or max_retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", param="max_retries")
        if not is_seconds(download_timeout):
            raise InvalidRequestError(
                "download_timeout must be a positive, finite number of seconds",
                param="download_timeout",
            )
        check_flag(retry_ambiguous, "retry_ambiguous")
        self._token = resolved_token
        self._secret_set = Secrets(resolved_token)  # alive as long as the client: the log filter
        self._secrets = self._secret_set.forms
        self.base_url: str = resolved_url.rstrip("/")
        self.team_id = resolved_team
        self.timeout: httpx.Timeout = as_timeout(timeout, "timeout")
        self.download_timeout: float = float(download_timeout)
        self.max_retries = max_retries
        self.retry_ambiguous = retry_ambiguous
        self.max_response_bytes: int = check_byte_limit(max_response_bytes, "max_response_bytes")
        self.max_download_bytes: int = check_byte_limit(max_download_bytes, "max_download_bytes")
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
        return check_header_value(resolved, "token")

    def _resolve_team(self, team_id: str | None) -> str | None:
        resolved = _config.env_or(team_id, _config.TEAM_ENV)
        return None if resolved is None else check_header_value(resolved, "team_id")

    def _resolve_base_url(self, base_url: str | None) -> str:
        return _config.env_or(base_url, _config.BASE_URL_ENV) or _config.DEFAULT_BASE_URL

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, team_id={self.team_id!r}, "
            f"token={REDACTED!r})"
        )

    _origin: BaseClient | None = None
    """For a ``with_options()`` copy: the client whose connection pool it shares."""

    def with_options(self, **options: Unpack[ClientOptions]) -> Self:
        """A copy of this client with other ``timeout``, ``max_retries`` or
        ``retry_ambiguous``, sharing its connection pool (no new connections are opened).

        The original owns the pool: closing the copy does nothing to it, and closing
        the original closes it for every copy too (use the copies within its lifetime).

        :param options: ``timeout``, ``max_retries`` and ``retry_ambiguous``, as for the
            constructor; the others stay those of this client.
        :returns: The configured copy; this client is unchanged.
        :raises InvalidRequestError: An unknown option, or an invalid value.
        """
        unknown = sorted(set(options) - keys_of(ClientOptions))
        if unknown:
            raise InvalidRequestError(
                f"with_options() takes {', '.join(sorted(keys_of(ClientOptions)))}; "
                f"got {unknown[0]!r}",
                param=unknown[0],
            )
        timeout = self.timeout
        if "timeout" in options:
            timeout = as_timeout(options["timeout"], "timeout")
        max_retries = options.get("max_retries", self.max_retries)
        if not is_int(max_retries) or max_retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", param="max_retries")
        retry_ambiguous = options.get("retry_ambiguous", self.retry_ambiguous)
        check_flag(retry_ambiguous, "retry_ambiguous")
        clone = copy.copy(self)
        clone._origin = self._origin or self
        clone.timeout = timeout
        clone.max_retries = max_retries
        clone.retry_ambiguous = retry_ambiguous
        clone._random = random.Random()  # noqa: S311 - backoff jitter, not a secret
        return clone

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
            check_flag(retry_ambiguous, "retry_ambiguous")
        if not is_int(retries) or retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", param="max_retries")
        return _Call(
            body=operation.body_type(**sent, **fields),
            timeout=self.timeout if timeout is None else as_timeout(timeout, "timeout"),
            max_retries=retries,
            retry_ambiguous=self.retry_ambiguous if retry_ambiguous is None else retry_ambiguous,
            operation=operation,
            extras=check_extras(params, _field_names(operation.body_type)),
        )

    @staticmethod
    def _concurrency(concurrency: int | None) -> int:
        workers = DEFAULT_CONCURRENCY if concurrency is None else concurrency
        if not is_int(workers) or workers < 1:
            raise InvalidRequestError(
                f"concurrency must be an integer >= 1, got {concurrency!r}", param="concurrency"
            )
        return workers

    @classmethod
    def _batch_size(cls, n: int, concurrency: int | None) -> tuple[int, int]:
        if not is_int(n) or n < 1:
            raise InvalidRequestError(f"n must be an integer >= 1, got {n!r}", param="n")
        return n, min(n, cls._concurrency(concurrency))

    @staticmethod
    def _batch_call(call: _Call, seed: int | None, index: int) -> _Call:
        """Request ``index`` of a batch: with a seed, it uses ``seed + index`` (``seed_for``)."""
        request_seed = seed_for(seed, index)
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
        return cast("AuthenticatedClient", _AttemptClient(exchange))

    def _exchange_settings(self, call: _Call) -> dict[str, Any]:
        extras = call.extras
        return {
            "base_url": self.base_url,
            # The library's headers last: no extra header replaces them (nor can one:
            # check_extras refuses the protected names).
            "headers": self._headers if extras is None else {**extras.headers, **self._headers},
            "timeout": call.timeout,
            "max_body_bytes": self.max_response_bytes,
            "extra_query": None if extras is None else extras.query,
            "extra_body": None if extras is None else extras.body,
        }

    @property
    def _team(self) -> str | Unset:
        # Absolute, per attempt: a relative import in a function costs a Python-level
        # lookup of the package's spec each time (bench/per_call.py).
        from friendli_images._generated import UNSET

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
            too_large = self._too_large_error(
                http_response, failure, "; raise max_response_bytes if such answers are expected"
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
                result = ImageResult(call.operation.images(self, parsed, call.body))
                attach_source(result.images, self._recipe_source(call))
                result.request_id = request_id_of(http_response)
                for image in result.images:
                    image.request_id = result.request_id
                return result
            except PARSE_ERRORS as exc:
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
            secrets=self._secret_set,
        )

    def _images(self, result: ImageGenerationDedicatedResult) -> list[GeneratedImage]:
        from friendli_images._generated import B64ImageItem, UrlImageItem  # see _team

        if not isinstance(result.data, list):
            raise ValueError("'data' is not a list")
        images = []
        items: list[UrlImageItem | B64ImageItem] = list(result.data)
        for index, item in enumerate(items):
            if not is_int(item.seed) or not isinstance(item.response_format, str):
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
        detail = redact_value(str(exc), self._secrets) or type(exc).__name__
        # The address tried, without credentials or query (a signed URL's secrets).
        url = request.url if request is not None else None
        where = f" to {_rules.display_url(str(url))}" if url is not None else ""
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"Request{where} timed out ({type(exc).__name__}){consequence}.",
                request=request,
                sent=sent,
            )
        return APIConnectionError(
            f"Connection error{where}{consequence}: {detail}", request=request, sent=sent
        )

    def _too_large_error(
        self, response: httpx.Response, failure: BodyTooLargeError, hint: str = ""
    ) -> APIResponseValidationError:
        """The error of an answer whose body was cut off at its limit (nothing of it is
        kept: the body was never read whole, so it is not parsed, shown or kept)."""
        return APIResponseValidationError(
            f"The API answered {response.status_code} with {failure}{hint}",
            response=response,
            body=None,
        )

    def _validation_error(
        self, response: httpx.Response, exc: BaseException
    ) -> APIResponseValidationError:
        from ._transport._error_bodies import parse_problem, safe_text  # failures only

        body = redact_value(safe_text(response), self._secrets)[:2000]
        return APIResponseValidationError(
            f"The API answered {response.status_code} with a body that does not match the "
            f"spec: {redact_value(parse_problem(exc), self._secrets)}",
            response=response,
            body=body,
        )

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        from ._transport._error_bodies import decode_error_body, error_message  # failures only

        body = redact_value(decode_error_body(response), self._secrets)
        reason = redact_value(response.reason_phrase, self._secrets)
        message = error_message(body) or reason or "no message"
        status = response.status_code
        if status == 429:
            return RateLimitError(
                message,
                response=response,
                body=body,
                retry_after=_retry.parse_retry_after(response.headers.get("Retry-After")),
                reason=reason,
            )
        cls = _STATUS_ERRORS.get(status)
        if cls is None:
            cls = InternalServerError if status >= 500 else APIStatusError
        return cls(message, response=response, body=body, reason=reason)

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


def seed_for(seed: int | None, index: int) -> int | None:
    """The batch seed rule: request ``index`` uses ``seed + index`` (None: the server picks)."""
    return None if seed is None else seed + index


_BATCH_OPTIONS = ("n", "concurrency", "strict", "wait_for_endpoint", "wake")


class BatchCollector:
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
                seed = seed_for(self._seed, outcome.index)
                errors.append(BatchFailure(index=outcome.index, seed=seed, error=outcome.error))
        if errors and not images:  # nothing to keep: a failure, not an empty success
            raise BatchFailedError(errors)
        return ImageResult(images, errors)
