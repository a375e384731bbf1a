"""What a generation returns: images that know how to show and save themselves."""

from __future__ import annotations

import binascii
import io
import os
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from ._exceptions import (
    BatchFailure,
    FriendliImagesError,
    ImageDownloadError,
    MissingDependencyError,
    OutputExistsError,
)
from ._files import (
    Backups,
    asave_chunks,
    check_stem,
    cleanup_on_sigterm,
    discard_backups,
    remove_written,
    resolve_target,
    restore_backups,
    save_chunks,
    writing,
)
from ._sniff import FORMAT_TYPES, SNIFF_BYTES, extension_for, sniff_image_type
from ._transport._limits import DownloadSettings
from ._transport._rules import display_url

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ._endpoints._status import EndpointEvent
    from ._recipe.origin import RecipeSource
    from ._transport._download import AsyncDownloader, Downloader

__all__ = [
    "BatchFailure",
    "GeneratedImage",
    "ImageResult",
    "ImageSaveError",
    "decode_base64_image",
]

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


_DONE = object()


async def _in_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Drive a blocking chunk iterator from async code, one chunk per worker-thread step."""
    import asyncio  # here, not at the top: sync users never pay for importing it

    try:
        while True:
            chunk = await asyncio.to_thread(next, chunks, _DONE)
            if chunk is _DONE:
                return
            yield cast(bytes, chunk)
    finally:
        await asyncio.to_thread(_close, chunks)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def check_metadata(metadata: object) -> bool:
    """``check_metadata`` of ``_recipe.embed``, which loads only when a recipe is embedded."""
    if metadata is False:
        return False
    from ._recipe.embed import check_metadata

    return check_metadata(metadata)


class GeneratedImage:
    """One generated image.

    Base64 results hold their decoded bytes; ``url`` results are downloaded (without the
    API token) when their content is first needed, and streamed straight to disk by
    ``save()``.

    The clients build these; the parameters are what they pass.

    :param seed: The seed the image was generated with.
    :param response_format: The format the API reports for the image.
    :param url: Where a ``url`` result can be downloaded; ``None`` for base64 results.
    :param data: The decoded bytes of a base64 result; ``None`` for ``url`` results.
    :param raw: The generated model the API's item was parsed into.

    A ``url`` result built here downloads with a short-lived connection and the default
    limits; the clients' own images download with the client's connection pool and
    limits (they are built by ``_downloaded_by``).
    """

    def __init__(
        self,
        *,
        seed: int | None,
        response_format: str,
        url: str | None = None,
        data: bytes | None = None,
        raw: Any = None,
    ) -> None:
        self.seed = seed
        """The seed the image was generated with; ``None`` when unknown (a container
        request sent without one)."""
        self.response_format = response_format
        """The format the API reports; may be a value newer than this client knows."""
        self.url = url
        self.request_index = 0
        """Which request of a batch (``n > 1``) produced this image; 0 for a single call."""
        self.request_id: str | None = None
        """The server's id of the request that produced it (its ``X-Request-Id``), if sent."""
        self.raw = raw
        """The generated model the API's item was parsed into (extra properties included).

        Its ``b64_json`` is emptied once decoded: the bytes are kept, not their base64 text."""
        self._data = data
        self._downloader: Downloader | None = None
        self._async_downloader: AsyncDownloader | None = None
        self._sniffed: str | None = sniff_image_type(data[:SNIFF_BYTES]) if data else None
        self._recipe_source: RecipeSource | None = None
        """The request it came from (set by the clients): what ``metadata=True`` embeds."""

    @classmethod
    def _downloaded_by(
        cls,
        *,
        seed: int | None,
        response_format: str,
        url: str,
        raw: Any,
        downloader: Downloader | None = None,
        async_downloader: AsyncDownloader | None = None,
    ) -> GeneratedImage:
        """A ``url`` result of a client: downloaded with its ``downloader`` (sync client)
        or ``async_downloader`` (async client), so with its connections and limits."""
        image = cls(seed=seed, response_format=response_format, url=url, raw=raw)
        image._downloader = downloader
        image._async_downloader = async_downloader
        return image

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
            try:
                suffix = os.path.splitext(urlsplit(self.url).path)[1].lower()
            except ValueError:
                suffix = ""
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
        """The sync downloader: the client's, or one with the async client's limits.

        The async client's own ``http_client`` cannot serve a sync download (its
        transport is async-only), so that case is an error rather than silently
        downloading without the user's proxy or CA settings.
        """
        if self._downloader is not None:
            return self._downloader
        from ._transport._download import Downloader  # loaded on a url's first read

        if self._async_downloader is None:
            return Downloader(None, DownloadSettings())
        if self._async_downloader.user_client:
            raise ImageDownloadError(
                "this image came from an AsyncFriendliImages with your own http_client, "
                "whose transport cannot download synchronously; use await acontent() / "
                "await asave()",
                url=self.url or "",
            )
        return Downloader(None, self._async_downloader.settings)

    def content(self) -> bytes:
        """The image bytes: decoded base64, or the URL downloaded (once, then kept)."""
        if self._data is not None:
            return self._data
        assert self.url is not None
        return self._remember(b"".join(self._need_downloader().iter_bytes(self.url)))

    async def acontent(self) -> bytes:
        """``content()`` for async code: downloads with the async client.

        An image from the sync client downloads in a worker thread with that client's
        connection pool (its transport, proxy, CA and limits).
        """
        if self._data is not None:
            return self._data
        assert self.url is not None
        return self._remember(b"".join([c async for c in self._achunks()]))

    def to_pil(self, *, max_pixels: int | None = None) -> PILImage.Image:
        """The image as a ``PIL.Image.Image`` (needs the ``pillow`` extra).

        Images larger than ``max_pixels`` (default: Pillow's ``Image.MAX_IMAGE_PIXELS``,
        about 89.5 megapixels) are refused before decoding: a small file can declare a
        huge image. Raises ``FriendliImagesError`` for that and for bytes Pillow cannot
        decode.

        :param max_pixels: The largest image (width x height) decoded; ``None``: Pillow's
            limit.
        """
        try:
            from PIL import Image
        except ImportError:
            raise MissingDependencyError(
                'to_pil() needs Pillow: pip install "friendli-images[pillow]"'
            ) from None
        limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
        data = self.content()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data))
            width, height = image.size
            if limit is not None and width * height > limit:
                raise FriendliImagesError(
                    f"the image is {width} x {height} pixels, more than max_pixels={limit}; "
                    "pass a larger max_pixels to decode it"
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise FriendliImagesError(f"the image cannot be decoded: {exc}") from exc
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
        stem = "image" if self.seed is None else f"image-{self.seed}"
        return self._target_for(lambda extension: resolve_target(path, stem, extension))

    def _chunks(self) -> Iterator[bytes]:
        if self._data is not None:
            yield self._data
        else:
            assert self.url is not None
            yield from self._need_downloader().iter_bytes(self.url)

    async def _achunks(self) -> AsyncIterator[bytes]:
        if self._data is not None:
            yield self._data
            return
        assert self.url is not None
        if self._async_downloader is None and self._downloader is not None:
            async for chunk in _in_thread(self._downloader.iter_bytes(self.url)):
                yield chunk
            return
        if self._async_downloader is not None:
            downloader = self._async_downloader
        else:
            from ._transport._download import AsyncDownloader  # on a url's first read

            downloader = AsyncDownloader(None, DownloadSettings())
        async for chunk in downloader.aiter_bytes(self.url):
            yield chunk

    def save(
        self, path: str | os.PathLike[str], *, overwrite: bool = False, metadata: bool = False
    ) -> Path:
        """Write the image to ``path`` and return the path written.

        ``path`` may be a directory (the file is named ``image-<seed>`` there; a path
        ending in ``/`` is a directory, created if needed) or a file name; a name without
        extension gets the one matching the image type. URL results
        are streamed to disk in chunks. The file appears complete or not at all, and an
        existing file is only replaced with ``overwrite=True`` (else ``OutputExistsError``).

        With ``metadata=True`` the file carries the image's recipe (prompt, model, seed,
        parameters; see the guide "Recipes"): PNG text chunks, JPEG segments, or a sidecar
        ``NAME.json`` for other types; the pixels are not re-encoded. Off by default: a
        prompt can be private, and files get shared.

        :param path: A directory, or a file name with or without its extension.
        :param overwrite: Replace an existing file of that name.
        :param metadata: Embed the recipe; default ``False``.
        """
        if check_metadata(metadata):
            from ._recipe.embed import save_with_recipe  # loaded by the first such save

            return save_with_recipe(
                self, self._chunks(), self._user_target(path), overwrite=overwrite
            )
        return save_chunks(
            self._chunks(),
            self._user_target(path),
            overwrite=overwrite,
        )

    async def asave(
        self, path: str | os.PathLike[str], *, overwrite: bool = False, metadata: bool = False
    ) -> Path:
        """``save()`` for async code: URL results download with the async client.

        :param path: A directory, or a file name with or without its extension.
        :param overwrite: Replace an existing file of that name.
        :param metadata: Embed the recipe, as in ``save()``; default ``False``.
        """
        if check_metadata(metadata):
            from ._recipe.embed import asave_with_recipe

            return await asave_with_recipe(
                self, self._achunks(), self._user_target(path), overwrite=overwrite
            )
        return await asave_chunks(
            self._achunks(),
            self._user_target(path),
            overwrite=overwrite,
        )


class ImageResult:
    """The images of one ``generate()`` call, in request order.

    For a batch (``n > 1``), ``errors`` lists the requests that failed.

    :param images: The generated images, in request order.
    :param errors: The requests of a batch that failed.
    """

    def __init__(
        self, images: Sequence[GeneratedImage], errors: Sequence[BatchFailure] = ()
    ) -> None:
        self.images: list[GeneratedImage] = list(images)
        self.errors: list[BatchFailure] = list(errors)
        self.endpoint_events: list[EndpointEvent] = []
        """The wakes and waits the call performed (``wait_for_endpoint``); each costs money."""
        self.request_id: str | None = None
        """The server's id of the request (its ``X-Request-Id`` header), for support
        tickets; ``None`` when it sent none, and for a batch (each image has its own)."""

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
        self,
        directory: str | os.PathLike[str],
        stem: str = "image",
        *,
        overwrite: bool = False,
        metadata: bool = False,
    ) -> list[Path]:
        """Save every image into ``directory`` (created if needed) and return the paths.

        Files are named ``<stem><ext>`` for a single image and ``<stem>-<i><ext>`` for
        several, with the extension of each image's type; ``stem`` is a file name without
        a directory part (else ``InvalidRequestError(param="stem")``). All or nothing: if
        one image fails (download error, existing file without ``overwrite``), the files
        this call already wrote are removed again, and with ``overwrite=True`` the files
        they replaced are put back (they are moved aside, not deleted, until every image
        is saved).

        With ``metadata=True`` each file carries its image's recipe, as in
        ``GeneratedImage.save``.

        :param directory: The folder to save into; created if needed.
        :param stem: The file name before the index and the extension.
        :param overwrite: Replace existing files of the planned names.
        :param metadata: Embed each image's recipe; default ``False``.
        """
        embed = check_metadata(metadata)
        folder, names = self._prepare(directory, stem, overwrite)
        written: list[Path] = []
        backups: Backups = []
        with cleanup_on_sigterm():
            try:
                for image, name in zip(self.images, names, strict=True):
                    target = image._named_target(folder, name)
                    if embed:
                        from ._recipe.embed import save_with_recipe

                        path = save_with_recipe(
                            image, image._chunks(), target, overwrite=overwrite, backups=backups
                        )
                    else:
                        path = save_chunks(
                            image._chunks(), target, overwrite=overwrite, backups=backups
                        )
                    written.append(path)
            except BaseException:
                _roll_back(written, backups)
                raise
        discard_backups(backups)
        return written

    async def asave(
        self,
        directory: str | os.PathLike[str],
        stem: str = "image",
        *,
        overwrite: bool = False,
        metadata: bool = False,
    ) -> list[Path]:
        """``save()`` for async code.

        :param directory: The folder to save into; created if needed.
        :param stem: The file name before the index and the extension.
        :param overwrite: Replace existing files of the planned names.
        :param metadata: Embed each image's recipe; default ``False``.
        """
        embed = check_metadata(metadata)
        folder, names = self._prepare(directory, stem, overwrite)
        written: list[Path] = []
        backups: Backups = []
        try:
            for image, name in zip(self.images, names, strict=True):
                target = image._named_target(folder, name)
                if embed:
                    from ._recipe.embed import asave_with_recipe

                    path = await asave_with_recipe(
                        image, image._achunks(), target, overwrite=overwrite, backups=backups
                    )
                else:
                    path = await asave_chunks(
                        image._achunks(), target, overwrite=overwrite, backups=backups
                    )
                written.append(path)
        except BaseException:
            _roll_back(written, backups)
            raise
        discard_backups(backups)
        return written

    def _prepare(
        self, directory: str | os.PathLike[str], stem: str, overwrite: bool
    ) -> tuple[Path, list[str]]:
        """Check the stem and the names, create the folder: everything before writing."""
        names = self._names(check_stem(stem))
        folder = Path(directory)
        self._check_free(folder, names, overwrite)
        with writing():
            folder.mkdir(parents=True, exist_ok=True)
        return folder, names

    def _check_free(self, folder: Path, names: list[str], overwrite: bool) -> None:
        """Fail before writing anything when a target (as far as known yet) exists."""
        if overwrite:
            return
        for image, name in zip(self.images, names, strict=True):
            target = folder / f"{name}{image.extension}"
            if os.path.lexists(target):
                raise OutputExistsError(str(target))


class ImageSaveError(FriendliImagesError, OSError):
    """Images were generated (and billed) but saving them failed; ``result`` keeps them.

    Raised by ``generate_image(save_to=...)``; the cause (``__cause__``) says why the save
    failed. ``result`` is ``None`` after pickling (images hold open downloaders).

    :param message: How many images could not be saved, and why.
    :param result: The generated images, none of them saved.
    """

    def __init__(self, message: str, *, result: ImageResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[type[ImageSaveError], tuple[str]]:
        return type(self), (str(self),)


def _roll_back(written: list[Path], backups: Backups) -> None:
    """Remove the files a failed save wrote, then put back the ones they replaced."""
    remove_written(written)
    restore_backups(backups)
