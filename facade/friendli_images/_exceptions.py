"""The exceptions raised by friendli_images.

Every error the package raises derives from ``FriendliImagesError``::

    FriendliImagesError
    ├── InvalidRequestError (also ValueError)      rejected before anything is sent
    ├── OutputExistsError (also FileExistsError)   save() would overwrite a file
    ├── MissingDependencyError (also ImportError)  an optional extra is not installed
    ├── ImageDownloadError                         fetching a ``url`` result failed
    ├── RequestInterruptedError                    its worker died mid-request (ray)
    ├── BatchFailedError                           every request of a batch failed
    ├── EndpointError (see _endpoint_errors)       an endpoint did not become ready
    └── APIError                                   the API call failed
        ├── APIConnectionError                     no usable response (network)
        │   └── APITimeoutError
        ├── APIResponseValidationError             a 200 whose body does not match the spec
        └── APIStatusError                         a non-2xx status
            ├── BadRequestError              400
            ├── AuthenticationError          401
            ├── PermissionDeniedError        403
            ├── NotFoundError                404
            ├── UnprocessableEntityError     422   (``detail`` holds the validation errors)
            ├── RateLimitError               429   (``retry_after`` in seconds, if sent)
            └── InternalServerError          5xx

Messages and bodies never contain the API token: it is replaced by ``[secure]``.

Every exception pickles (for ``ProcessPoolExecutor`` and friends). A pickled error keeps
its message and plain attributes (``status_code``, ``body``, ``param``, ...) but not
``request``/``response``: those hold the ``Authorization`` header, so they come back as
``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchFailedError",
    "BatchFailure",
    "ClientClosedError",
    "FileWriteError",
    "FriendliImagesError",
    "ImageDownloadError",
    "InternalServerError",
    "InvalidRequestError",
    "MissingDependencyError",
    "NotFoundError",
    "OutputExistsError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestInterruptedError",
    "UnprocessableEntityError",
]


_UNPICKLED = ("request", "response")
"""Attributes dropped when pickling: the httpx objects carry the token in their headers."""


def _restore(cls: type[FriendliImagesError], args: tuple[Any, ...]) -> FriendliImagesError:
    error = cls.__new__(cls, *args)
    error.args = args
    return error


class FriendliImagesError(Exception):
    """Base class of every error raised by friendli_images."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild without calling ``__init__`` (its arguments are keyword-only and differ
        # per class), then restore the attributes.
        state = {key: None if key in _UNPICKLED else value for key, value in self.__dict__.items()}
        return _restore, (type(self), self.args), state


class InvalidRequestError(FriendliImagesError, ValueError):
    """An argument was rejected before any request was sent.

    ``param`` names the argument (``"num_inference_steps"``, ``"control_images[1]"``).

    :param message: What is wrong with the argument and what is accepted.
    :param param: The argument's name, with an index for an item of a sequence.
    """

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.param = param


class OutputExistsError(FriendliImagesError, FileExistsError):
    """Saving would replace an existing file; pass ``overwrite=True`` to allow it.

    Also raised, whatever ``overwrite`` says, when the name is taken by a directory (a
    save replaces files only) or by anything the library did not write.

    :param path: The file that exists; the message is built from it.
    :param message: The message, when not the usual one.
    """

    def __init__(self, path: str, *, message: str | None = None) -> None:
        super().__init__(message or f"{path} already exists; pass overwrite=True to replace it")
        self.path = path


class ClientClosedError(FriendliImagesError, RuntimeError):
    """The client was used after ``close()`` (or after its ``with`` block ended)."""


class FileWriteError(FriendliImagesError, OSError):
    """Writing a file failed: a full disk, a permission, a path that is not a directory.

    An ``OSError`` too, with its ``errno``, ``strerror`` and ``filename``, so ``except
    OSError`` still catches it; the original error is its ``__cause__``.

    :param message: What could not be written, and why.
    :param errno: The ``errno`` of the failure, if any.
    :param filename: The file or directory concerned, if known.
    """

    def __init__(
        self, message: str, *, errno: int | None = None, filename: str | None = None
    ) -> None:
        super().__init__(message)
        self.errno = errno
        self.filename = filename
        self.message = message

    def __str__(self) -> str:
        return self.message


class BatchFailure:
    """One request of a batch (``n > 1``) that failed; the others' images are kept.

    Immutable, compared and hashed by its three fields.

    :param index: Position of the request in the batch (0-based).
    :param seed: The seed that request asked for (``None``: the server chose).
    :param error: Why the request failed.
    """

    # A plain class, not an attrs one: this module loads with ``import friendli_images``,
    # attrs with the first call (bench/import_time.py).
    __slots__ = ("_error", "_index", "_seed")
    __match_args__ = ("index", "seed", "error")
    _index: int
    _seed: int | None
    _error: FriendliImagesError

    def __init__(self, index: int, seed: int | None, error: FriendliImagesError) -> None:
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_seed", seed)
        object.__setattr__(self, "_error", error)

    @property
    def index(self) -> int:
        """Position of the request in the batch (0-based)."""
        return self._index

    @property
    def seed(self) -> int | None:
        """The seed that request asked for (``None``: the server chose)."""
        return self._seed

    @property
    def error(self) -> FriendliImagesError:
        """Why the request failed (an ``APIError`` or an ``InvalidRequestError``)."""
        return self._error

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"BatchFailure is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"BatchFailure is immutable: cannot delete {name!r}")

    def _fields(self) -> tuple[int, int | None, FriendliImagesError]:
        return (self.index, self.seed, self.error)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchFailure) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"BatchFailure(index={self.index!r}, seed={self.seed!r}, error={self.error!r})"

    def __reduce__(self) -> tuple[type[BatchFailure], tuple[int, int | None, FriendliImagesError]]:
        return (self.__class__, self._fields())


class BatchFailedError(FriendliImagesError):
    """Every request of a batch (``generate(n=...)`` with ``n > 1``) failed: there is no
    image to keep. A batch where some requests succeeded returns them, and lists the
    others in ``ImageResult.errors``, instead.

    :param failures: Each request's failure, in request order (not empty).
    """

    def __init__(self, failures: Sequence[BatchFailure]) -> None:
        self.failures: list[BatchFailure] = list(failures)
        """Each request's failure, in request order."""
        first = self.failures[0].error if self.failures else None
        kinds = len({(type(f.error), str(f.error)) for f in self.failures})
        others = "" if kinds <= 1 else f" ({kinds} different errors; see .failures)"
        count = len(self.failures)
        super().__init__(f"all {count} requests of the batch failed; the first: {first}{others}")


class MissingDependencyError(FriendliImagesError, ImportError):
    """An optional dependency (Pillow) is needed for this call."""


class RequestInterruptedError(FriendliImagesError):
    """The worker sending a request died before its answer came back, so whether it
    generated (and was billed) is unknown; it is not sent again unless asked.

    The error of such a row in ``friendli_images.ray`` (an actor killed mid-batch).
    """


class ImageDownloadError(FriendliImagesError):
    """Downloading an image from its ``url`` failed (status, network, timeout or scheme).

    :param message: What failed.
    :param url: The image's URL (shown without its query string in messages).
    :param status_code: The image host's HTTP status, when it answered with an error.
    """

    def __init__(self, message: str, *, url: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code


REQUEST_ID_HEADER = "X-Request-Id"
"""The response header a server names its request by (quote it in a support ticket)."""


def request_id_of(response: httpx.Response | None) -> str | None:
    """The server's request id (``X-Request-Id``), if it sent a usable one (printable
    ASCII, at most 200 characters)."""
    if response is None:
        return None
    value: str = response.headers.get(REQUEST_ID_HEADER, "").strip()
    # Visible ASCII only (0x21-0x7E): printable ASCII but the space.
    if not value or len(value) > 200 or not (value.isascii() and value.isprintable()):
        return None
    return None if " " in value else value


class APIError(FriendliImagesError):
    """The image-generation call failed; ``request`` is the request that was (to be) sent.

    ``request_id`` is the server's id of the request (its ``X-Request-Id`` header) when
    it answered with one, for support tickets; else ``None``.

    :param message: What failed.
    :param request: The request, or ``None`` when none was built (or after unpickling).
    :param request_id: The server's request id, if known.
    """

    def __init__(
        self, message: str, *, request: httpx.Request | None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.request_id = request_id


class APIConnectionError(APIError):
    """No usable response arrived: the connection failed, dropped or broke mid-response.

    ``sent`` tells whether the request may have reached the server (a failure after
    sending may mean the image was generated, and billed, anyway).

    :param message: What failed.
    :param request: The request that was (to be) sent.
    :param sent: Whether the request may have reached the server.
    """

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None, sent: bool
    ) -> None:
        super().__init__(message, request=request)
        self.sent = sent


class APITimeoutError(APIConnectionError):
    """The call ran past its timeout.

    :param message: What timed out.
    :param request: The request that was (to be) sent.
    :param sent: Whether the request may have reached the server before the deadline.
    """

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None, sent: bool
    ) -> None:
        super().__init__(message, request=request, sent=sent)


class APIResponseValidationError(APIError):
    """The API answered 200 with a body that does not match the spec (JSON, shape, base64).

    :param message: What does not match.
    :param response: The response, or ``None`` (after unpickling).
    :param body: The response body as text, when it could be decoded.
    """

    def __init__(self, message: str, *, response: httpx.Response | None, body: str | None) -> None:
        super().__init__(
            message,
            request=response.request if response is not None else None,
            request_id=request_id_of(response),
        )
        self.response = response
        self.body = body


class APIStatusError(APIError):
    """The API answered with a non-success status.

    ``message`` is the server's own message, ``body`` its decoded body (JSON or text);
    ``str(error)`` is the status, its reason and the message (``429 Too Many Requests:
    slow down``), as the command line prints it.

    :param message: The server's message (``str(error)`` adds the status and reason).
    :param response: The response with the error status.
    :param body: The decoded body: parsed JSON, else text.
    :param reason: The reason phrase to show; default: the response's.
    """

    status_code: int

    def __init__(
        self, message: str, *, response: httpx.Response, body: Any, reason: str | None = None
    ) -> None:
        phrase = response.reason_phrase if reason is None else reason
        status = f"{response.status_code} {phrase}".rstrip()
        super().__init__(
            f"{status}: {message}", request=response.request, request_id=request_id_of(response)
        )
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.body = body


class BadRequestError(APIStatusError):
    """400: the API rejected the request."""

    status_code: Literal[400]


class AuthenticationError(APIStatusError):
    """401: the token is missing, wrong or expired."""

    status_code: Literal[401]


class PermissionDeniedError(APIStatusError):
    """403: the token may not use this endpoint or team."""

    status_code: Literal[403]


class NotFoundError(APIStatusError):
    """404: no such endpoint (check ``model``) or path (check ``base_url``)."""

    status_code: Literal[404]


class UnprocessableEntityError(APIStatusError):
    """422: the body failed the API's validation; ``detail`` holds its explanation.

    :param message: The server's message.
    :param response: The 422 response.
    :param body: The decoded body; its ``detail`` (or the body itself) becomes ``detail``.
    :param reason: The reason phrase to show; default: the response's.
    """

    status_code: Literal[422]

    def __init__(
        self, message: str, *, response: httpx.Response, body: Any, reason: str | None = None
    ) -> None:
        super().__init__(message, response=response, body=body, reason=reason)
        self.detail: Any = body.get("detail") if isinstance(body, dict) else body


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's wait hint in seconds.

    :param message: The server's message.
    :param response: The 429 response.
    :param body: The decoded body: parsed JSON, else text.
    :param retry_after: The ``Retry-After`` header in seconds, if the server sent one.
    :param reason: The reason phrase to show; default: the response's.
    """

    status_code: Literal[429]

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, response=response, body=body, reason=reason)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the API or the endpoint failed (503: asleep or scaling)."""
