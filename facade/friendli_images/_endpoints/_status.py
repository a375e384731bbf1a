"""What the endpoint API reports: ``EndpointStatus``, and ``EndpointEvent`` for the
wakes and waits a call performed (each one costs money, so each one is reported)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from .._generated import DedicatedEndpointStatus, Unset
from .._redaction import redact, redact_value

__all__ = ["EndpointEvent", "EndpointStatus", "parse_endpoint_status"]


@attrs.frozen
class EndpointStatus:
    """The status of a Dedicated Endpoint, as the endpoint API reported it.

    ``status`` is the API's string (``"RUNNING"``, ``"SLEEPING"``, ``"AWAKING"``, ...),
    kept as sent so that a status newer than this client still parses. ``phase`` tells
    where an initializing or waking endpoint is (``"DOWNLOADING_MODEL"``, ...).
    Timestamps are timezone-aware (a value the API sends without an offset is UTC).
    ``raw`` is the generated ``DedicatedEndpointStatus`` (extra properties included).

    The client builds these from the API's answers; the parameters are its fields.

    :param endpoint_id: The endpoint's ID.
    :param status: The API's status string, e.g. ``"RUNNING"`` or ``"SLEEPING"``.
    :param phase: Where an initializing or waking endpoint is; ``None`` when not reported.
    :param error_code: Why a FAILED endpoint failed; ``None`` when not reported.
    :param created_at: When the endpoint was created (timezone-aware).
    :param updated_at: When its status last changed (timezone-aware); ``None`` when not
        reported.
    :param raw: The generated ``DedicatedEndpointStatus`` the answer was parsed into;
        not compared by ``==`` and not shown by ``repr()``.
    """

    endpoint_id: str
    status: str
    phase: str | None
    error_code: str | None
    created_at: datetime
    updated_at: datetime | None
    raw: Any = attrs.field(eq=False, repr=False)

    def describe(self) -> str:
        """``STATUS`` or ``STATUS (PHASE)``: a short text for a progress line."""
        return f"{self.status} ({self.phase})" if self.phase else self.status

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready fields (``--json`` output): ISO 8601 timestamps with offsets."""
        return {
            "endpoint_id": self.endpoint_id,
            "status": self.status,
            "phase": self.phase,
            "error_code": self.error_code,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@attrs.frozen
class EndpointEvent:
    """A wake or a wait that a call performed on an endpoint.

    ``kind`` is ``"wake"`` (one wake request was sent) or ``"wait"`` (the call waited
    ``seconds`` for the endpoint to become ready); ``status`` is the status it ended with.

    :param kind: ``"wake"`` or ``"wait"``.
    :param endpoint_id: The endpoint's ID.
    :param status: The endpoint's status when the wake request was answered or the
        wait ended.
    :param seconds: How long the wake request or the wait took, in seconds.
    """

    kind: Literal["wake", "wait"]
    endpoint_id: str
    status: EndpointStatus
    seconds: float


def _aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name!r} is not an ISO 8601 date-time: {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _optional_text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, Unset):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name!r} is not a string: {value!r}")
    return value


def parse_endpoint_status(
    endpoint_id: str, raw: object, secrets: Iterable[str] = ()
) -> EndpointStatus:
    """Check the generated model the spec promises and turn it into an ``EndpointStatus``.

    The server's texts (``status``, ``phase``, ``errorCode``, extra properties) enter
    with ``secrets`` (the client's secret forms) redacted, ``raw`` included.

    Raises:
        ValueError: the body is not the documented shape (the client reports it as
            ``APIResponseValidationError``).
    """
    if not isinstance(raw, DedicatedEndpointStatus):
        raise ValueError("the body is not the documented endpoint status")
    if not isinstance(raw.status, str) or not raw.status:
        raise ValueError(f"'status' is not a non-empty string: {raw.status!r}")
    forms = tuple(secrets)
    if forms:
        cleaned = redact_value(raw.to_dict(), forms)
        if cleaned != raw.to_dict():
            raw = DedicatedEndpointStatus.from_dict(cleaned)
    updated = raw.updated_at
    phase = _optional_text(raw.phase, "phase")
    error_code = _optional_text(raw.error_code, "errorCode")
    return EndpointStatus(
        endpoint_id=endpoint_id,
        status=redact(raw.status, forms),
        phase=None if phase is None else redact(phase, forms),
        error_code=None if error_code is None else redact(error_code, forms),
        created_at=_aware(raw.created_at, "createdAt"),
        updated_at=None
        if updated is None or isinstance(updated, Unset)
        else _aware(updated, "updatedAt"),
        raw=raw,
    )
