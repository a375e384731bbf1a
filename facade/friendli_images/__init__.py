"""friendli-images: a Python client for image generation and editing on Friendli
Dedicated Endpoints and self-hosted Friendli Containers.

    >>> from friendli_images import generate_image
    >>> result = generate_image("a lighthouse at dawn", model="YOUR_ENDPOINT_ID",
    ...                         response_format="png", save_to="out/")

``friendli_images.__all__`` is the public API. The low-level client generated from the
OpenAPI spec is the separate package ``friendli_images_api``.
"""

import contextlib as _contextlib
import importlib as _importlib
import sys as _sys
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._version import __version__

if _TYPE_CHECKING:
    from ._api import aedit_image, agenerate_image, edit_image, generate_image
    from ._batch._engine import Outcome
    from ._client import AsyncFriendliImages, FriendliImages
    from ._config import ResponseFormat
    from ._container import AsyncFriendliContainerImages, FriendliContainerImages
    from ._control_images import ControlImage, encode_control_image
    from ._endpoints._errors import (
        EndpointError,
        EndpointFailedError,
        EndpointStoppedError,
        EndpointWaitTimeoutError,
    )
    from ._endpoints._status import EndpointEvent, EndpointStatus
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        BatchFailedError,
        BatchFailure,
        ClientClosedError,
        FileWriteError,
        FriendliImagesError,
        ImageDownloadError,
        InternalServerError,
        InvalidRequestError,
        MissingDependencyError,
        NotFoundError,
        OutputExistsError,
        PermissionDeniedError,
        RateLimitError,
        UnprocessableEntityError,
    )
    from ._jobs._runner import JobsSummary, arun_jobs, check_jobs, run_jobs
    from ._params import (
        AsyncEditImageParams,
        AsyncGenerateImageParams,
        ClientOptions,
        ContainerEditParams,
        ContainerGenerateParams,
        ContainerResponseFormat,
        EditImageParams,
        EditParams,
        GenerateImageParams,
        GenerateParams,
    )
    from ._recipe.model import Recipe, RecipeInput
    from ._recipe.read import read_recipe, recipe_kwargs
    from ._results import GeneratedImage, ImageResult, ImageSaveError
    from ._views.axes import Axis
    from ._views.gallery import write_gallery
    from ._views.sheet import FailedCell, contact_sheet, sweep_sheets, write_sweep_sheets
    from ._views.sweep import Sweep, arun_sweep, build_sweep, check_sweep, run_sweep

_LAZY = {
    "aedit_image": "._api",
    "agenerate_image": "._api",
    "edit_image": "._api",
    "generate_image": "._api",
    "Outcome": "._batch._engine",
    "AsyncFriendliImages": "._client",
    "FriendliImages": "._client",
    "ResponseFormat": "._config",
    "AsyncFriendliContainerImages": "._container",
    "FriendliContainerImages": "._container",
    "ControlImage": "._control_images",
    "encode_control_image": "._control_images",
    "EndpointError": "._endpoints._errors",
    "EndpointFailedError": "._endpoints._errors",
    "EndpointStoppedError": "._endpoints._errors",
    "EndpointWaitTimeoutError": "._endpoints._errors",
    "EndpointEvent": "._endpoints._status",
    "EndpointStatus": "._endpoints._status",
    "APIConnectionError": "._exceptions",
    "APIError": "._exceptions",
    "APIResponseValidationError": "._exceptions",
    "APIStatusError": "._exceptions",
    "APITimeoutError": "._exceptions",
    "AuthenticationError": "._exceptions",
    "BadRequestError": "._exceptions",
    "BatchFailedError": "._exceptions",
    "BatchFailure": "._exceptions",
    "ClientClosedError": "._exceptions",
    "FileWriteError": "._exceptions",
    "FriendliImagesError": "._exceptions",
    "ImageDownloadError": "._exceptions",
    "InternalServerError": "._exceptions",
    "InvalidRequestError": "._exceptions",
    "MissingDependencyError": "._exceptions",
    "NotFoundError": "._exceptions",
    "OutputExistsError": "._exceptions",
    "PermissionDeniedError": "._exceptions",
    "RateLimitError": "._exceptions",
    "UnprocessableEntityError": "._exceptions",
    "JobsSummary": "._jobs._runner",
    "arun_jobs": "._jobs._runner",
    "check_jobs": "._jobs._runner",
    "run_jobs": "._jobs._runner",
    "AsyncEditImageParams": "._params",
    "AsyncGenerateImageParams": "._params",
    "ClientOptions": "._params",
    "ContainerEditParams": "._params",
    "ContainerGenerateParams": "._params",
    "ContainerResponseFormat": "._params",
    "EditImageParams": "._params",
    "EditParams": "._params",
    "GenerateImageParams": "._params",
    "GenerateParams": "._params",
    "Recipe": "._recipe.model",
    "RecipeInput": "._recipe.model",
    "read_recipe": "._recipe.read",
    "recipe_kwargs": "._recipe.read",
    "GeneratedImage": "._results",
    "ImageResult": "._results",
    "ImageSaveError": "._results",
    "Axis": "._views.axes",
    "write_gallery": "._views.gallery",
    "FailedCell": "._views.sheet",
    "contact_sheet": "._views.sheet",
    "sweep_sheets": "._views.sheet",
    "write_sweep_sheets": "._views.sheet",
    "Sweep": "._views.sweep",
    "arun_sweep": "._views.sweep",
    "build_sweep": "._views.sweep",
    "check_sweep": "._views.sweep",
    "run_sweep": "._views.sweep",
}
"""Where each public name is defined. Every one is imported on first use, so that
``import friendli_images`` costs next to nothing and ``from friendli_images import
FriendliImages`` loads only the client (the generated models and attrs load with its
first call; bench/import_time.py measures it, tests/facade/test_import_cost.py holds it)."""

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncEditImageParams",
    "AsyncFriendliContainerImages",
    "AsyncFriendliImages",
    "AsyncGenerateImageParams",
    "AuthenticationError",
    "Axis",
    "BadRequestError",
    "BatchFailedError",
    "BatchFailure",
    "ClientClosedError",
    "ClientOptions",
    "ContainerEditParams",
    "ContainerGenerateParams",
    "ContainerResponseFormat",
    "ControlImage",
    "EditImageParams",
    "EditParams",
    "EndpointError",
    "EndpointEvent",
    "EndpointFailedError",
    "EndpointStatus",
    "EndpointStoppedError",
    "EndpointWaitTimeoutError",
    "FailedCell",
    "FileWriteError",
    "FriendliContainerImages",
    "FriendliImages",
    "FriendliImagesError",
    "GenerateImageParams",
    "GenerateParams",
    "GeneratedImage",
    "ImageDownloadError",
    "ImageResult",
    "ImageSaveError",
    "InternalServerError",
    "InvalidRequestError",
    "JobsSummary",
    "MissingDependencyError",
    "NotFoundError",
    "Outcome",
    "OutputExistsError",
    "PermissionDeniedError",
    "RateLimitError",
    "Recipe",
    "RecipeInput",
    "ResponseFormat",
    "Sweep",
    "UnprocessableEntityError",
    "__version__",
    "aedit_image",
    "agenerate_image",
    "arun_jobs",
    "arun_sweep",
    "build_sweep",
    "check_jobs",
    "check_sweep",
    "contact_sheet",
    "edit_image",
    "encode_control_image",
    "generate_image",
    "read_recipe",
    "recipe_kwargs",
    "run_jobs",
    "run_sweep",
    "sweep_sheets",
    "write_gallery",
    "write_sweep_sheets",
]


def _publish() -> None:
    """Show the public names of every module loaded so far as ``friendli_images.X`` in
    reprs and tracebacks, as httpx does (a module loaded by another is published with
    the next name asked of the package)."""
    for name, module in _LAZY.items():
        loaded = _sys.modules.get(__name__ + module)
        if loaded is None:
            continue
        value = getattr(loaded, name, None)
        if value is not None and (isinstance(value, type) or callable(value)):
            with _contextlib.suppress(AttributeError, TypeError):  # aliases such as ControlImage
                value.__module__ = __name__


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    _publish()
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
