"""What a generation returns: images that know how to show and save themselves."""

from __future__ import annotations

import binascii
import io
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from ._config import DEFAULT_DOWNLOAD_TIMEOUT
from ._download import AsyncDownloader, Downloader, display_url
from ._exceptions import FriendliImagesError, MissingDependencyError, OutputExistsError
from ._files import asave_chunks, resolve_target, save_chunks
from ._sniff import FORMAT_TYPES, SNIFF_BYTES, extension_for, sniff_image_type

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ._endpoint_status import EndpointEvent

__all__ = ["BatchFailure", "GeneratedImage", "ImageResult", "decode_base64_image"]

_SUFFIX_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


def decode_base64_image(text: str) -> bytes:
    """Decode a ``b64_json`` value strictly; ``ValueError`` if it is not valid base64."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError(f"b64_json is not valid base64: {exc}") from None


class GeneratedImage:
    """One generated image.

    Base64 results hold their decoded bytes; ``url`` results are downloaded (without the
    API token) when their content is first needed, and streamed straight to disk by
    ``save()``.
    """

    def __init__(
        self,
        *,
        seed: int,
        response_format: str,
        url: str | None = None,
        data: bytes | None = None,
        raw: Any = None,
        downloader: Downloader | None = None,
        async_downloader: AsyncDownloader | None = None,
    ) -> None:
        self.seed = seed
        self.response_format = response_format
        """The format the API reports; may be a value newer than this client knows."""
        self.url = url
        self.request_index = 0
        """Which request of a batch (``n > 1``) produced this image; 0 for a single call."""
        self.raw = raw
        """The generated model the API's item was parsed into (extra properties included)."""
        self._data = data
        self._downloader = downloader
        self._async_downloader = async_downloader
        self._sniffed: str | None = sniff_image_type(data[:SNIFF_BYTES]) if data else None

    def __repr__(self) -> str:
        where = f"url={display_url(self.url)!r}" if self.url else f"size={len(self._data or b'')}"
        return (
            f"GeneratedImage(seed={self.seed}, response_format={self.response_format!r}, "
            f"mime_type={self.mime_type!r}, {where})"
        )

    @property
    def mime_type(self) -> str:
        """The image type from its magic number, else from the URL or response format."""
        if self._sniffed:
            return self._sniffed
        if self.url:
            suffix = os.path.splitext(urlsplit(self.url).path)[1].lower()
            if suffix in _SUFFIX_TYPES:
                return _SUFFIX_TYPES[suffix]
        return FORMAT_TYPES.get(self.response_format.lower(), "application/octet-stream")

    @property
    def extension(self) -> str:
        """The file extension matching ``mime_type``, with its dot (``.png``)."""
        return extension_for(self.mime_type)

    # -- content ---------------------------------------------------------------------

    def _remember(self, data: bytes) -> bytes:
        self._data = data
        self._sniffed = sniff_image_type(data[:SNIFF_BYTES])
        return data

    def _need_downloader(self) -> Downloader:
        return self._downloader or Downloader(None, DEFAULT_DOWNLOAD_TIMEOUT)

    def content(self) -> bytes:
        """The image bytes: decoded base64, or the URL downloaded (once, then kept)."""
        if self._data is not None:
            return self._data
        assert self.url is not None
        return self._remember(b"".join(self._need_downloader().iter_bytes(self.url)))

    async def acontent(self) -> bytes:
        """``content()`` for async code: downloads with the async client."""
        if self._data is not None:
            return self._data
        assert self.url is not None
        downloader = self._async_downloader or AsyncDownloader(None, DEFAULT_DOWNLOAD_TIMEOUT)
        return self._remember(b"".join([c async for c in downloader.aiter_bytes(self.url)]))

    def to_pil(self) -> PILImage.Image:
        """The image as a ``PIL.Image.Image`` (needs the ``pillow`` extra)."""
        try:
            from PIL import Image
        except ImportError:
            raise MissingDependencyError(
                'to_pil() needs Pillow: pip install "friendli-images[pillow]"'
            ) from None
        image = Image.open(io.BytesIO(self.content()))
        image.load()
        return image

    # -- saving ----------------------------------------------------------------------

    def _target_for(self, resolve: Callable[[str], Path]) -> Callable[[bytes], Path]:
        """Choose the file name once the first bytes (the magic number) are known."""

        def target_for(head: bytes) -> Path:
            if head:
                self._sniffed = sniff_image_type(head) or self._sniffed
            return resolve(self.extension)

        return target_for

    def _named_target(self, folder: Path, name: str) -> Callable[[bytes], Path]:
        return self._target_for(lambda extension: folder / f"{name}{extension}")

    def _user_target(self, path: str | os.PathLike[str]) -> Callable[[bytes], Path]:
        stem = f"image-{self.seed}"
        return self._target_for(lambda extension: resolve_target(Path(path), stem, extension))

    def _chunks(self) -> Iterator[bytes]:
        if self._data is not None:
            yield self._data
        else:
            assert self.url is not None
            yield from self._need_downloader().iter_bytes(self.url)

    async def _achunks(self) -> AsyncIterator[bytes]:
        if self._data is not None:
            yield self._data
        else:
            assert self.url is not None
            downloader = self._async_downloader or AsyncDownloader(None, DEFAULT_DOWNLOAD_TIMEOUT)
            async for chunk in downloader.aiter_bytes(self.url):
                yield chunk

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the image to ``path`` and return the path written.

        ``path`` may be a directory (the file is named ``image-<seed>`` there) or a file
        name; a name without extension gets the one matching the image type. URL results
        are streamed to disk in chunks. The file appears complete or not at all, and an
        existing file is only replaced with ``overwrite=True`` (else ``OutputExistsError``).
        """
        return save_chunks(
            self._chunks(),
            self._user_target(path),
            overwrite=overwrite,
        )

    async def asave(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """``save()`` for async code: URL results download with the async client."""
        return await asave_chunks(
            self._achunks(),
            self._user_target(path),
            overwrite=overwrite,
        )


@attrs.frozen
class BatchFailure:
    """One request of a batch (``n > 1``) that failed; the others' images are kept."""

    index: int
    """Position of the request in the batch (0-based)."""
    seed: int | None
    """The seed that request asked for (``None``: the server chose)."""
    error: FriendliImagesError


class ImageResult:
    """The images of one ``generate()`` call, in request order.

    For a batch (``n > 1``), ``errors`` lists the requests that failed.
    """

    def __init__(
        self, images: Sequence[GeneratedImage], errors: Sequence[BatchFailure] = ()
    ) -> None:
        self.images: list[GeneratedImage] = list(images)
        self.errors: list[BatchFailure] = list(errors)
        self.endpoint_events: list[EndpointEvent] = []
        """The wakes and waits the call performed (``wait_for_endpoint``); each costs money."""

    def __repr__(self) -> str:
        failed = f", errors={len(self.errors)}" if self.errors else ""
        return f"ImageResult(images={self.images!r}{failed})"

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self) -> Iterator[GeneratedImage]:
        return iter(self.images)

    def __getitem__(self, index: int) -> GeneratedImage:
        return self.images[index]

    def _names(self, stem: str) -> list[str]:
        """``<stem>`` for one image; ``<stem>-<i>`` by request index for a batch."""
        per_request = Counter(image.request_index for image in self.images)
        if not self.errors and len(per_request) <= 1:  # one request
            if len(self.images) == 1:
                return [stem]
            return [f"{stem}-{position}" for position in range(len(self.images))]
        names = []
        taken: Counter[int] = Counter()
        for image in self.images:
            index = image.request_index
            if per_request[index] == 1:
                names.append(f"{stem}-{index}")
            else:  # a request that returned several images
                names.append(f"{stem}-{index}-{taken[index]}")
                taken[index] += 1
        return names

    def save(
        self, directory: str | os.PathLike[str], stem: str = "image", *, overwrite: bool = False
    ) -> list[Path]:
        """Save every image into ``directory`` (created if needed) and return the paths.

        Files are named ``<stem><ext>`` for a single image and ``<stem>-<i><ext>`` for
        several, with the extension of each image's type. All or nothing: if one image
        fails (download error, existing file without ``overwrite``), the files this call
        already wrote are removed again.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        names = self._names(stem)
        self._check_free(folder, names, overwrite)
        written: list[Path] = []
        try:
            for image, name in zip(self.images, names, strict=True):
                written.append(
                    save_chunks(
                        image._chunks(), image._named_target(folder, name), overwrite=overwrite
                    )
                )
        except BaseException:
            _remove(written)
            raise
        return written

    async def asave(
        self, directory: str | os.PathLike[str], stem: str = "image", *, overwrite: bool = False
    ) -> list[Path]:
        """``save()`` for async code."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        names = self._names(stem)
        self._check_free(folder, names, overwrite)
        written: list[Path] = []
        try:
            for image, name in zip(self.images, names, strict=True):
                written.append(
                    await asave_chunks(
                        image._achunks(), image._named_target(folder, name), overwrite=overwrite
                    )
                )
        except BaseException:
            _remove(written)
            raise
        return written

    def _check_free(self, folder: Path, names: list[str], overwrite: bool) -> None:
        """Fail before writing anything when a target (as far as known yet) exists."""
        if overwrite:
            return
        for image, name in zip(self.images, names, strict=True):
            target = folder / f"{name}{image.extension}"
            if target.exists():
                raise OutputExistsError(str(target))


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
