# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dedicated_endpoint_status import DedicatedEndpointStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    endpoint_id: str,
    *,
    x_friendli_team: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_friendli_team, Unset):
        headers["X-Friendli-Team"] = x_friendli_team

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/dedicated/beta/endpoint/{endpoint_id}/status".format(
            endpoint_id=quote(str(endpoint_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | DedicatedEndpointStatus | None:
    if response.status_code == 200:
        response_200 = DedicatedEndpointStatus.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = cast(Any, None)
        return response_400

    if response.status_code == 404:
        response_404 = cast(Any, None)
        return response_404

    if response.status_code == 422:
        response_422 = cast(Any, None)
        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | DedicatedEndpointStatus]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    x_friendli_team: None | str | Unset = UNSET,
) -> Response[Any | DedicatedEndpointStatus]:
    """Get endpoint status

     Get the status of a specific endpoint

    Args:
        endpoint_id (str): The ID of the endpoint
        x_friendli_team (None | str | Unset): ID of team to run requests as (optional parameter).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DedicatedEndpointStatus]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        x_friendli_team=x_friendli_team,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    x_friendli_team: None | str | Unset = UNSET,
) -> Any | DedicatedEndpointStatus | None:
    """Get endpoint status

     Get the status of a specific endpoint

    Args:
        endpoint_id (str): The ID of the endpoint
        x_friendli_team (None | str | Unset): ID of team to run requests as (optional parameter).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DedicatedEndpointStatus
    """

    return sync_detailed(
        endpoint_id=endpoint_id,
        client=client,
        x_friendli_team=x_friendli_team,
    ).parsed


async def asyncio_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    x_friendli_team: None | str | Unset = UNSET,
) -> Response[Any | DedicatedEndpointStatus]:
    """Get endpoint status

     Get the status of a specific endpoint

    Args:
        endpoint_id (str): The ID of the endpoint
        x_friendli_team (None | str | Unset): ID of team to run requests as (optional parameter).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DedicatedEndpointStatus]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        x_friendli_team=x_friendli_team,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    endpoint_id: str,
    *,
    client: AuthenticatedClient,
    x_friendli_team: None | str | Unset = UNSET,
) -> Any | DedicatedEndpointStatus | None:
    """Get endpoint status

     Get the status of a specific endpoint

    Args:
        endpoint_id (str): The ID of the endpoint
        x_friendli_team (None | str | Unset): ID of team to run requests as (optional parameter).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DedicatedEndpointStatus
    """

    return (
        await asyncio_detailed(
            endpoint_id=endpoint_id,
            client=client,
            x_friendli_team=x_friendli_team,
        )
    ).parsed
