"""``FriendliImages`` and ``AsyncFriendliImages``.

``_BaseClient`` owns everything but I/O: configuration, argument validation, building
the generated request model, interpreting a response (or a failure) into an
``ImageResult`` or a typed error, and the retry decision. The two public clients only
run the generated endpoint functions (``sync_detailed`` / ``asyncio_detailed``), sleep
between attempts, and run batches.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import quote, quote_plus

import attrs
import httpx
from friendli_images_api import AuthenticatedClient
from friendli_images_api.api.dedicated_image import dedicated_images_generate
from friendli_images_api.models import (
    B64ImageItem,
    DedicatedImageGenerationBody,
    ImageGenerationDedicatedResult,
    ImageInput,
    ImageResponseFormat,
    UrlImageItem,
)
from friendli_images_api.types import UNSET, Response, Unset

from . import _config, _retry, _rules
from ._batch import arun_batch, run_batch
from ._control_images import ControlImage, prepare_control_image
from ._decoding import ACCEPT_ENCODING
from ._download import AsyncDownloader, Downloader, DownloadSettings
from ._endpoint_wait import WaiterState, await_if_not_ready, wait_if_not_ready, waits_seen
from ._endpoints import AsyncEndpointMethods, SyncEndpointMethods
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    FriendliImagesError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._http import AsyncExchange, BodyTooLargeError, Exchange
from ._results import BatchFailure, GeneratedImage, ImageResult, decode_base64_image
from ._sniff import SNIFF_BYTES, sniff_image_type
from ._version import __version__

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
    """One validated ``generate()`` call, ready to send (possibly several times)."""

    body: DedicatedImageGenerationBody
    timeout: httpx.Timeout
    max_retries: int
    retry_ambiguous: bool
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
        resolved_token = _config.env_or(token, _config.TOKEN_ENV)
        if isinstance(resolved_token, str):
            resolved_token = resolved_token.strip()
        if not resolved_token:
            raise InvalidRequestError(
                f"No API token: pass token=... or set the {_config.TOKEN_ENV} environment "
                "variable (a Friendli Personal API Key, flp_...)",
                param="token",
            )
        resolved_token = _check_header_value(resolved_token, "token")
        resolved_team = _config.env_or(team_id, _config.TEAM_ENV)
        if resolved_team is not None:
            resolved_team = _check_header_value(resolved_team, "team_id")
        resolved_url = _config.env_or(base_url, _config.BASE_URL_ENV) or _config.DEFAULT_BASE_URL
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
        self._secrets = secret_forms(resolved_token)
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
            "Authorization": f"Bearer {resolved_token}",
            "User-Agent": f"friendli-images/{__version__} httpx/{httpx.__version__}",
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, team_id={self.team_id!r}, "
            f"token={_SECURE!r})"
        )

    # -- before sending ----------------------------------------------------------------

    def _prepare(
        self,
        prompt: str,
        *,
        model: str,
        num_inference_steps: int | None,
        guidance_scale: float | None,
        seed: int | None,
        response_format: str | None,
        control_images: Sequence[ControlImage] | None,
        controlnet_weights: Sequence[float] | None,
        max_retries: int | None,
        timeout: float | httpx.Timeout | None,
        retry_ambiguous: bool | None,
    ) -> _Call:
        """Validate every argument the spec constrains; build the generated request model."""
        for name, text in (("prompt", prompt), ("model", model)):
            if not isinstance(text, str) or not text.strip():
                raise InvalidRequestError(f"{name} must be a non-empty string", param=name)
            problem = _rules.text_problem(text)
            if problem:
                raise InvalidRequestError(f"{name} {problem}", param=name)
        fields: dict[str, Any] = {}
        if num_inference_steps is not None:
            low, high = _config.MIN_INFERENCE_STEPS, _config.MAX_INFERENCE_STEPS
            if not _is_int(num_inference_steps) or not low <= num_inference_steps <= high:
                raise InvalidRequestError(
                    f"num_inference_steps must be an integer in [{low}, {high}], "
                    f"got {num_inference_steps!r}",
                    param="num_inference_steps",
                )
            fields["num_inference_steps"] = num_inference_steps
        if guidance_scale is not None:
            if not _is_number(guidance_scale) or _rules.number_problem(guidance_scale):
                raise InvalidRequestError(
                    f"guidance_scale must be a finite number, got {guidance_scale!r}",
                    param="guidance_scale",
                )
            fields["guidance_scale"] = float(guidance_scale)
        if seed is not None:
            if not _is_int(seed):
                raise InvalidRequestError(f"seed must be an integer, got {seed!r}", param="seed")
            fields["seed"] = seed
        if response_format is not None:
            value = (
                response_format.value
                if isinstance(response_format, ImageResponseFormat)
                else response_format
            )
            if value not in _config.RESPONSE_FORMATS:
                raise InvalidRequestError(
                    f"response_format must be one of {', '.join(_config.RESPONSE_FORMATS)}, "
                    f"got {response_format!r}",
                    param="response_format",
                )
            fields["response_format"] = ImageResponseFormat(value)
        images = self._prepare_control_images(control_images, controlnet_weights)
        if images is not None:
            fields["control_images"] = images
        if controlnet_weights is not None:
            fields["controlnet_weights"] = [float(w) for w in controlnet_weights]
        retries = self.max_retries if max_retries is None else max_retries
        if retry_ambiguous is not None:
            _check_flag(retry_ambiguous, "retry_ambiguous")
        if not _is_int(retries) or retries < 0:
            raise InvalidRequestError("max_retries must be an integer >= 0", param="max_retries")
        return _Call(
            body=DedicatedImageGenerationBody(model=model, prompt=prompt, **fields),
            timeout=self.timeout if timeout is None else _as_timeout(timeout, "timeout"),
            max_retries=retries,
            retry_ambiguous=self.retry_ambiguous if retry_ambiguous is None else retry_ambiguous,
        )

    @staticmethod
    def _prepare_control_images(
        control_images: Sequence[ControlImage] | None, weights: Sequence[float] | None
    ) -> list[ImageInput] | None:
        for name, value in (("control_images", control_images), ("controlnet_weights", weights)):
            if value is not None and (
                isinstance(value, (str, bytes, bytearray, memoryview))
                or not isinstance(value, Sequence)
            ):
                raise InvalidRequestError(
                    f"{name} must be a list (one entry per control image)", param=name
                )
        if weights is not None:
            if not control_images:
                raise InvalidRequestError(
                    "controlnet_weights needs control_images (one weight per control image)",
                    param="controlnet_weights",
                )
            if len(weights) != len(control_images):
                raise InvalidRequestError(
                    f"controlnet_weights has {len(weights)} values for {len(control_images)} "
                    "control images; give one weight per control image",
                    param="controlnet_weights",
                )
            for index, weight in enumerate(weights):
                if not _is_number(weight) or not 0.0 <= weight <= 1.0:
                    raise InvalidRequestError(
                        f"controlnet_weights[{index}] must be a number in [0, 1], got {weight!r}",
                        param=f"controlnet_weights[{index}]",
                    )
        if control_images is None:
            return None
        # A Base64Payload stands in for the str the model declares: the exchange writes it
        # as a JSON string in chunks, so the base64 text never exists as one object.
        return [
            ImageInput(image=cast(str, prepare_control_image(image, f"control_images[{index}]")))
            for index, image in enumerate(control_images)
        ]

    @staticmethod
    def _batch_size(n: int, concurrency: int | None) -> tuple[int, int]:
        if not _is_int(n) or n < 1:
            raise InvalidRequestError(f"n must be an integer >= 1, got {n!r}", param="n")
        workers = DEFAULT_CONCURRENCY if concurrency is None else concurrency
        if not _is_int(workers) or workers < 1:
            raise InvalidRequestError(
                f"concurrency must be an integer >= 1, got {concurrency!r}", param="concurrency"
            )
        return n, workers

    @staticmethod
    def _batch_calls(
        call: _Call, seed: int | None, count: int
    ) -> tuple[list[_Call], list[int | None]]:
        """One call per request of a batch: with a seed, request ``i`` uses ``seed + i``."""
        seeds = [None if seed is None else seed + i for i in range(count)]
        return [call if s is None else call.with_seed(s) for s in seeds], seeds

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
                if not isinstance(parsed, ImageGenerationDedicatedResult):
                    raise ValueError(f"status {status} is not the documented 200")
                return ImageResult(self._images(parsed))
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


def _batch_result(
    outcomes: list[ImageResult | FriendliImagesError], seeds: list[int | None]
) -> ImageResult:
    images: list[GeneratedImage] = []
    errors: list[BatchFailure] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ImageResult):
            for image in outcome.images:
                image.request_index = index
            images.extend(outcome.images)
        else:
            errors.append(BatchFailure(index=index, seed=seeds[index], error=outcome))
    return ImageResult(images, errors)


class FriendliImages(SyncEndpointMethods, _BaseClient):
    """Client for Friendli Dedicated Endpoints image generation.

    Args:
        token: Personal API key (``flp_...``). Default: env ``FRIENDLI_TOKEN``.
        base_url: API address. Default: env ``FRIENDLI_BASE_URL``, else
            ``https://api.friendli.ai``.
        team_id: Team to run requests as, sent as ``X-Friendli-Team``. Default: env
            ``FRIENDLI_TEAM``; omitted when unset.
        timeout: For the generation call, seconds or an ``httpx.Timeout``. The default
            allows 300 s for the answer (generation can take over a minute), 10 s to connect.
        download_timeout: Deadline in seconds for downloading one ``url`` result.
        max_retries: Retries of failures that show the image was not generated (see
            README "Retries"). Default 2.
        retry_ambiguous: Also retry failures after the request was sent (read timeout,
            dropped connection, 500, 504), which may generate, and bill, twice.
        http_client: Your own ``httpx.Client`` (proxies, transports, limits). It is used
            as is, never modified, and not closed by ``close()``.

    The token is only ever sent to ``base_url``: image URLs are downloaded without it.
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
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=self.timeout)
        self._downloader = Downloader(
            self._http, self._download_settings, user_client=not self._owns_http
        )

    def close(self) -> None:
        """Close the connection pool (not a client you passed in)."""
        if self._owns_http:
            self._http.close()

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
        return GeneratedImage(
            seed=item.seed,
            response_format=item.response_format,
            url=item.url,
            raw=item,
            downloader=self._downloader,
        )

    def generate(
        self,
        prompt: str,
        *,
        model: str,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        seed: int | None = None,
        response_format: _config.ResponseFormat | None = None,
        control_images: Sequence[ControlImage] | None = None,
        controlnet_weights: Sequence[float] | None = None,
        n: int = 1,
        concurrency: int | None = None,
        strict: bool = False,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry_ambiguous: bool | None = None,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> ImageResult:
        """Generate images from ``prompt`` with the endpoint ``model``.

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

        Raises:
            InvalidRequestError: an argument the API would reject.
            APIStatusError: the API answered an error status (subclass per status).
            APIConnectionError: the network failed (``APITimeoutError``: timed out).
            APIResponseValidationError: a 200 whose body does not match the spec.
        """
        _check_flag(strict, "strict")
        count, workers = self._batch_size(n, concurrency)
        waiter = self._endpoint_waiter(model, wait_for_endpoint, wake)
        call = self._prepare(
            prompt,
            model=model,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
            control_images=control_images,
            controlnet_weights=controlnet_weights,
            max_retries=max_retries,
            timeout=timeout,
            retry_ambiguous=retry_ambiguous,
        ).waiting_with(waiter)
        if count == 1:
            result = self._send(call)
        else:
            calls, seeds = self._batch_calls(call, seed, count)
            outcomes = run_batch(count, workers, lambda i: self._send(calls[i]), strict=strict)
            result = _batch_result(outcomes, seeds)
        result.endpoint_events = [] if waiter is None else list(waiter.events)
        return result

    def _send(self, call: _Call) -> ImageResult:
        retries_taken = 0
        while True:
            seen = waits_seen(call.endpoint_waiter)
            exchange = Exchange(self._http, **self._exchange_settings(call))
            response: Response[Any] | None = None
            failure: BaseException | None = None
            try:
                response = dedicated_images_generate.sync_detailed(
                    client=self._api_client(exchange), body=call.body, x_friendli_team=self._team
                )
            except (httpx.RequestError, *_PARSE_ERRORS) as exc:
                failure = exc
            outcome = self._interpret(exchange, response, failure, call)
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


class AsyncFriendliImages(AsyncEndpointMethods, _BaseClient):
    """The asyncio twin of ``FriendliImages``: the same arguments, awaitable calls.

    ``http_client`` takes an ``httpx.AsyncClient``. Close with ``await client.aclose()``
    or ``async with``.
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
        )
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.AsyncClient(timeout=self.timeout)
        )
        self._loop: object = None
        self._downloader = AsyncDownloader(
            self._http, self._download_settings, user_client=not self._owns_http
        )

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
        """Close the connection pool (not a client you passed in)."""
        if self._owns_http and not self._http.is_closed:
            await self._http_for_this_loop().aclose()

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
        return GeneratedImage(
            seed=item.seed,
            response_format=item.response_format,
            url=item.url,
            raw=item,
            async_downloader=self._downloader,
        )

    async def generate(
        self,
        prompt: str,
        *,
        model: str,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        seed: int | None = None,
        response_format: _config.ResponseFormat | None = None,
        control_images: Sequence[ControlImage] | None = None,
        controlnet_weights: Sequence[float] | None = None,
        n: int = 1,
        concurrency: int | None = None,
        strict: bool = False,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry_ambiguous: bool | None = None,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> ImageResult:
        """Generate images; see ``FriendliImages.generate``. Cancelling cancels every request."""
        _check_flag(strict, "strict")
        count, workers = self._batch_size(n, concurrency)
        waiter = self._endpoint_waiter(model, wait_for_endpoint, wake)
        call = self._prepare(
            prompt,
            model=model,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            response_format=response_format,
            control_images=control_images,
            controlnet_weights=controlnet_weights,
            max_retries=max_retries,
            timeout=timeout,
            retry_ambiguous=retry_ambiguous,
        ).waiting_with(waiter)
        if count == 1:
            result = await self._send(call)
        else:
            calls, seeds = self._batch_calls(call, seed, count)
            outcomes = await arun_batch(
                count, workers, lambda i: self._send(calls[i]), strict=strict
            )
            result = _batch_result(outcomes, seeds)
        result.endpoint_events = [] if waiter is None else list(waiter.events)
        return result

    async def _send(self, call: _Call) -> ImageResult:
        retries_taken = 0
        while True:
            seen = waits_seen(call.endpoint_waiter)
            exchange = AsyncExchange(self._http_for_this_loop(), **self._exchange_settings(call))
            response: Response[Any] | None = None
            failure: BaseException | None = None
            try:
                async with _deadline(exchange.remaining()):
                    response = await dedicated_images_generate.asyncio_detailed(
                        client=self._api_client(exchange),
                        body=call.body,
                        x_friendli_team=self._team,
                    )
            except TimeoutError:
                failure = httpx.ReadTimeout(
                    "the attempt ran past its deadline", request=exchange.sent_request
                )
            except (httpx.RequestError, *_PARSE_ERRORS) as exc:
                failure = exc
            outcome = self._interpret(exchange, response, failure, call)
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
