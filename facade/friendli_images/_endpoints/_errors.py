"""The errors of sleeping, waking and waiting for a Dedicated Endpoint.

They extend the tree drawn in ``_exceptions``::

    FriendliImagesError
    └── EndpointError                     the endpoint cannot serve; ``status`` is its last status
        ├── EndpointFailedError           FAILED (``error_code`` says why)
        ├── EndpointStoppedError          STOPPING, TERMINATING or TERMINATED
        └── EndpointWaitTimeoutError      still not ready at the deadline (also TimeoutError)

Errors of the endpoint API calls themselves (404 for an unknown id, 401, a network
failure) are the usual ``APIError`` subclasses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._exceptions import FriendliImagesError

if TYPE_CHECKING:
    from ._status import EndpointStatus

__all__ = [
    "EndpointError",
    "EndpointFailedError",
    "EndpointStoppedError",
    "EndpointWaitTimeoutError",
]


class EndpointError(FriendliImagesError):
    """The endpoint cannot serve requests now.

    ``endpoint_id`` names it; ``status`` is the last status read (``None`` if no status
    could be read at all).

    :param message: What went wrong, in words (also ``str(error)``).
    :param endpoint_id: The endpoint's ID.
    :param status: The last status read; ``None`` if no status could be read at all.
    """

    def __init__(self, message: str, *, endpoint_id: str, status: EndpointStatus | None) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint_id = endpoint_id
        self.status = status


class EndpointFailedError(EndpointError):
    """The endpoint reports FAILED; ``error_code`` is its error code (may be ``None``).

    :param endpoint_id: The endpoint's ID.
    :param status: The FAILED status read; ``error_code`` is taken from it.
    """

    def __init__(self, *, endpoint_id: str, status: EndpointStatus) -> None:
        code = status.error_code or "no error code"
        super().__init__(
            f"Endpoint {endpoint_id} failed ({code}); see it in Friendli Suite",
            endpoint_id=endpoint_id,
            status=status,
        )
        self.error_code: str | None = status.error_code


class EndpointStoppedError(EndpointError):
    """The endpoint is stopping or terminated: waiting will not make it ready.

    :param endpoint_id: The endpoint's ID.
    :param status: The status read (STOPPING, TERMINATING or TERMINATED).
    """

    def __init__(self, *, endpoint_id: str, status: EndpointStatus) -> None:
        super().__init__(
            f"Endpoint {endpoint_id} is {status.status}: it will not become ready by waiting",
            endpoint_id=endpoint_id,
            status=status,
        )


class EndpointWaitTimeoutError(EndpointError, TimeoutError):
    """The endpoint was not ready when the deadline passed; ``status`` is the last one read.

    :param endpoint_id: The endpoint's ID.
    :param status: The last status read; ``None`` if no status could be read at all.
    :param timeout: The wait's budget, in seconds.
    """

    def __init__(self, *, endpoint_id: str, status: EndpointStatus | None, timeout: float) -> None:
        if status is None:
            last = "no status could be read"
        else:
            last = f"last status {status.status}" + (
                f", phase {status.phase}" if status.phase else ""
            )
        super().__init__(
            f"Endpoint {endpoint_id} was not ready after {timeout:g} s ({last})",
            endpoint_id=endpoint_id,
            status=status,
        )
        self.timeout = timeout
