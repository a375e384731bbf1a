"""friendli-images: a Python client for Friendli Dedicated Endpoints image generation.

    >>> from friendli_images import generate_image
    >>> result = generate_image("a lighthouse at dawn", model="YOUR_ENDPOINT_ID",
    ...                         response_format="png", save_to="out/")

``friendli_images.__all__`` is the public API. The low-level client generated from the
OpenAPI spec is the separate package ``friendli_images_api``.
"""

import contextlib as _contextlib

from ._api import agenerate_image, generate_image
from ._client import AsyncFriendliImages, FriendliImages
from ._config import ResponseFormat
from ._control_images import ControlImage, encode_control_image
from ._endpoint_errors import (
    EndpointError,
    EndpointFailedError,
    EndpointStoppedError,
    EndpointWaitTimeoutError,
)
from ._endpoint_status import EndpointEvent, EndpointStatus
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
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
from ._results import BatchFailure, GeneratedImage, ImageResult, ImageSaveError
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncFriendliImages",
    "AuthenticationError",
    "BadRequestError",
    "BatchFailure",
    "ControlImage",
    "EndpointError",
    "EndpointEvent",
    "EndpointFailedError",
    "EndpointStatus",
    "EndpointStoppedError",
    "EndpointWaitTimeoutError",
    "FriendliImages",
    "FriendliImagesError",
    "GeneratedImage",
    "ImageDownloadError",
    "ImageResult",
    "ImageSaveError",
    "InternalServerError",
    "InvalidRequestError",
    "MissingDependencyError",
    "NotFoundError",
    "OutputExistsError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseFormat",
    "UnprocessableEntityError",
    "__version__",
    "agenerate_image",
    "encode_control_image",
    "generate_image",
]

# Show the public names as friendli_images.X in reprs and tracebacks, as httpx does.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with _contextlib.suppress(AttributeError, TypeError):  # aliases such as ControlImage
            _obj.__module__ = "friendli_images"
del _name, _obj
