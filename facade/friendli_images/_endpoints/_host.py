"""What the endpoint methods need of the client they are mixed into: ``EndpointHost``.

Its address, headers, random source and HTTP client, the generated client for one exchange,
and the typed errors of an answer. ``_endpoints`` depends on this declaration, not on the
clients, so no import runs back up from ``_endpoints`` to the clients.

It is the mixins' base for the type checker only (at run time their base is ``object``),
so it is a plain class, not a ``Protocol``: a protocol's members would count as abstract
in the public clients. mypy checks that the clients (``BaseClient`` with its I/O classes)
match it where they are combined with the mixins, in ``FriendliImages`` and
``AsyncFriendliImages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

    import httpx
    from friendli_images_api import AuthenticatedClient
    from friendli_images_api.types import Unset

    from .._exceptions import APIResponseValidationError, APIStatusError
    from .._transport._exchange import AsyncExchange, BodyTooLargeError, Exchange

__all__ = ["EndpointHost"]


class EndpointHost:
    """A client that can send endpoint API calls and interpret their answers."""

    base_url: str
    _headers: dict[str, str]
    _random: random.Random
    _secrets: tuple[str, ...]
    """The forms of the client's secrets, redacted from what the endpoint API sends."""
    _http: Any
    """``httpx.Client`` or ``httpx.AsyncClient``, by the client's kind."""

    @property
    def _team(self) -> str | Unset:
        raise NotImplementedError

    def _api_client(self, exchange: Exchange | AsyncExchange) -> AuthenticatedClient:
        raise NotImplementedError

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        raise NotImplementedError

    def _too_large_error(
        self, response: httpx.Response, failure: BodyTooLargeError, hint: str = ""
    ) -> APIResponseValidationError:
        raise NotImplementedError

    def _validation_error(
        self, response: httpx.Response, exc: BaseException
    ) -> APIResponseValidationError:
        raise NotImplementedError

    def _http_for_this_loop(self) -> httpx.AsyncClient:
        """The async clients' HTTP client for the running event loop."""
        raise NotImplementedError  # only the async clients have one
