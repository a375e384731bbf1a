# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.container_image_generation_body import ContainerImageGenerationBody
from ...models.image_generation_container_result import ImageGenerationContainerResult
from ...types import Response


def _get_kwargs(
    *,
    body: ContainerImageGenerationBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/images/generations",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ImageGenerationContainerResult | None:
    if response.status_code == 200:
        response_200 = ImageGenerationContainerResult.from_dict(response.json())

        return response_200

    if response.status_code == 422:
        response_422 = cast(Any, None)
        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | ImageGenerationContainerResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ContainerImageGenerationBody,
) -> Response[Any | ImageGenerationContainerResult]:
    """Image generations

     Generate an image from a text prompt.

    Args:
        body (ContainerImageGenerationBody):  Example: {'guidance_scale': 3.5,
            'num_inference_steps': 10, 'prompt': 'An orange Lamborghini driving down a hill road at
            night with a beautiful ocean view in the background.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ImageGenerationContainerResult]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ContainerImageGenerationBody,
) -> Any | ImageGenerationContainerResult | None:
    """Image generations

     Generate an image from a text prompt.

    Args:
        body (ContainerImageGenerationBody):  Example: {'guidance_scale': 3.5,
            'num_inference_steps': 10, 'prompt': 'An orange Lamborghini driving down a hill road at
            night with a beautiful ocean view in the background.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ImageGenerationContainerResult
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ContainerImageGenerationBody,
) -> Response[Any | ImageGenerationContainerResult]:
    """Image generations

     Generate an image from a text prompt.

    Args:
        body (ContainerImageGenerationBody):  Example: {'guidance_scale': 3.5,
            'num_inference_steps': 10, 'prompt': 'An orange Lamborghini driving down a hill road at
            night with a beautiful ocean view in the background.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ImageGenerationContainerResult]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ContainerImageGenerationBody,
) -> Any | ImageGenerationContainerResult | None:
    """Image generations

     Generate an image from a text prompt.

    Args:
        body (ContainerImageGenerationBody):  Example: {'guidance_scale': 3.5,
            'num_inference_steps': 10, 'prompt': 'An orange Lamborghini driving down a hill road at
            night with a beautiful ocean view in the background.'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ImageGenerationContainerResult
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
