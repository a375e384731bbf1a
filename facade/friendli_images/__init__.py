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
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._api import aedit_image, agenerate_image, edit_image, generate_image
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
from ._recipe import Recipe, RecipeInput, read_recipe, recipe_kwargs
from ._results import GeneratedImage, ImageResult, ImageSaveError
from ._version import __version__

if _TYPE_CHECKING:
    from ._batch._engine import Outcome
    from ._jobs._runner import JobsSummary, arun_jobs, check_jobs, run_jobs
    from ._views.axes import Axis
    from ._views.gallery import write_gallery
    from ._views.sheet import FailedCell, contact_sheet, sweep_sheets, write_sweep_sheets
    from ._views.sweep import Sweep, arun_sweep, build_sweep, check_sweep, run_sweep

_LAZY = {
    "Outcome": "._batch._engine",
    "JobsSummary": "._jobs._runner",
    "arun_jobs": "._jobs._runner",
    "check_jobs": "._jobs._runner",
    "run_jobs": "._jobs._runner",
    "Axis": "._views.axes",
    "FailedCell": "._views.sheet",
    "Sweep": "._views.sweep",
    "arun_sweep": "._views.sweep",
    "build_sweep": "._views.sweep",
    "check_sweep": "._views.sweep",
    "contact_sheet": "._views.sheet",
    "run_sweep": "._views.sweep",
    "sweep_sheets": "._views.sheet",
    "write_gallery": "._views.gallery",
    "write_sweep_sheets": "._views.sheet",
}
"""Public names imported on first use: batches and bulk jobs cost nothing at import."""

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

# Show the public names as friendli_images.X in reprs and tracebacks, as httpx does.
for _name in __all__:
    if _name in _LAZY:
        continue
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with _contextlib.suppress(AttributeError, TypeError):  # aliases such as ControlImage
            _obj.__module__ = "friendli_images"
del _name, _obj


def __getattr__(name: str) -> _Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
    with _contextlib.suppress(AttributeError, TypeError):
        value.__module__ = __name__
    globals()[name] = value
    return value
