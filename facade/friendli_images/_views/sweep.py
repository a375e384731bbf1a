"""Parameter sweeps: the product of axes as jobs, run on the bulk engine.

    sweep = build_sweep("a lighthouse", model="EP", axes={"seed": "1..3", "guidance_scale": "3,7"})
    run_sweep(sweep, "s/", client=client, gallery=True)

A sweep directory is a ``run`` dataset (``images/``, ``metadata.jsonl``,
``failures.jsonl``) plus ``sweep.jsonl`` (the jobs, one per cell, which ``run_jobs``
reads), ``sweep.json`` (the axes, for the contact sheet and the gallery) and
``grid.png`` (the contact sheet; ``grid-1.png``... for each value of a third axis).
Running the same sweep again resumes it: cells already done are skipped. A different
sweep into the same directory is refused.

Nothing is sent until every cell has been validated and the size is known: a sweep of
more than ``max_images`` cells is refused unless ``max_images`` is raised to allow it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._exceptions import InvalidRequestError
from .._files import write_atomic
from .._jobs._dataset import failure_row
from ._sweep_file import FORMAT as _FORMAT
from ._sweep_file import SWEEP_FILE, SWEEP_JOBS, read_sweep
from .axes import Axis, cell_count, cell_key, cells, parse_values

if TYPE_CHECKING:
    from .._client import AsyncFriendliImages, FriendliImages
    from .._jobs._runner import JobsSummary

__all__ = [
    "DEFAULT_MAX_IMAGES",
    "SWEEP_FILE",
    "SWEEP_JOBS",
    "Sweep",
    "arun_sweep",
    "build_sweep",
    "check_sweep",
    "check_views_free",
    "read_sweep",
    "run_sweep",
    "write_sweep",
]

DEFAULT_MAX_IMAGES: Final = 100
"""The largest sweep run without raising ``max_images`` (each image is billed)."""


@attrs.frozen
class Sweep:
    """Requests that differ only along ``axes``: one per cell of their product.

    Build one with :func:`build_sweep`.

    :param axes: The swept fields, in order: the first varies fastest (the grid's
        columns), the second next (its rows), any further ones make several grids.
    :param fixed: The fields every request shares (``prompt``, ``model``...).
    """

    axes: tuple[Axis, ...]
    fixed: Mapping[str, Any]

    def __len__(self) -> int:
        return cell_count(self.axes)

    @property
    def images(self) -> int:
        """How many images the sweep generates (one per cell)."""
        return len(self)

    def describe(self) -> str:
        """``"6 images: seed (3) x guidance (2)"``: the size, said before anything is sent.

        :returns: The count, and each axis with its number of values.
        """
        sizes = " x ".join(f"{axis.name} ({len(axis.values)})" for axis in self.axes)
        noun = "image" if len(self) == 1 else "images"
        return f"{len(self)} {noun}" + (f": {sizes}" if sizes else "")

    def jobs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each cell's job id and request, in order, one at a time.

        :returns: ``(id, request)`` pairs: the ids name the image files.
        """
        for indexes in cells(self.axes):
            request = dict(self.fixed)
            for axis, index in zip(self.axes, indexes, strict=True):
                request[axis.field] = axis.values[index]
            yield cell_key(self.axes, indexes), request

    def to_json(self) -> dict[str, Any]:
        """What ``sweep.json`` records: the axes with their values, and the fixed fields.

        :returns: A JSON-ready ``dict``.
        """
        return {
            "format": _FORMAT,
            "images": len(self),
            "axes": [{"field": axis.field, "values": list(axis.values)} for axis in self.axes],
            "fixed": {name: value for name, value in self.fixed.items() if _jsonable(value)},
        }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def build_sweep(
    prompt: str | None = None,
    *,
    axes: Mapping[str, Sequence[Any] | str] | Sequence[Axis],
    **fixed: Any,
) -> Sweep:
    """A sweep of ``prompt`` (or of a ``"prompt"`` axis) over ``axes``.

    :param prompt: The prompt of every cell; omit it when ``axes`` has ``"prompt"``.
    :param axes: Field -> values, in order: ``{"seed": "1..4", "guidance_scale": [3, 7.5]}``
        (text is parsed as on the command line: ``A..B`` inclusive or a comma list), or
        :class:`Axis` objects.
    :param fixed: Any other ``generate()`` argument, the same for every cell (``model``...).
    :returns: The sweep; nothing is validated against the API's rules yet (``check_sweep``).
    :raises InvalidRequestError: An axis is empty, repeats a value, or names a field
        also given as fixed; no prompt, or two.
    """
    if isinstance(axes, Mapping):
        built = tuple(
            Axis(field, parse_values(field, values) if isinstance(values, str) else values)
            for field, values in axes.items()
        )
    elif isinstance(axes, Sequence) and all(isinstance(axis, Axis) for axis in axes):
        built = tuple(axes)
    else:
        raise InvalidRequestError("axes must be a mapping of field -> values", param="axes")
    fields = [axis.field for axis in built]
    for field in fields:
        if fields.count(field) > 1:
            raise InvalidRequestError(f"the axis {field!r} is given twice", param=field)
        if field in fixed:
            raise InvalidRequestError(f"{field!r} is both an axis and a fixed value", param=field)
    if prompt is not None:
        if "prompt" in fields:
            raise InvalidRequestError(
                "give the prompt once: as PROMPT or as an axis", param="prompt"
            )
        fixed["prompt"] = prompt
    elif "prompt" not in fields:
        raise InvalidRequestError("a sweep needs a prompt (or a prompt axis)", param="prompt")
    return Sweep(built, dict(fixed))


def check_sweep(sweep: Sweep, client: FriendliImages | AsyncFriendliImages) -> list[dict[str, Any]]:
    """Validate every cell as the client would before sending it; nothing is sent.

    :param sweep: The cells, from :func:`build_sweep`.
    :param client: The client whose rules check each request (nothing is sent).

    :returns: One ``failures.jsonl``-style row (id, line, error, message) per problem.
    """
    problems = []
    for line, (key, request) in enumerate(sweep.jobs(), start=1):
        try:
            client._prepare_request(request)
        except InvalidRequestError as error:
            problems.append(failure_row(key, line, error))
    return problems


def _jobs_bytes(sweep: Sweep) -> Iterator[bytes]:
    for key, request in sweep.jobs():
        yield json.dumps({"id": key, **request}, ensure_ascii=False, allow_nan=False).encode()
        yield b"\n"


def _same_file(path: Path, chunks: Iterator[bytes]) -> bool:
    """Whether ``path`` holds exactly the bytes of ``chunks`` (compared as they come)."""
    with path.open("rb") as file:
        for chunk in chunks:
            if file.read(len(chunk)) != chunk:
                return False
        return file.read(1) == b""


def write_sweep(sweep: Sweep, out: str | os.PathLike[str]) -> Path:
    """Write ``out/sweep.jsonl`` and ``out/sweep.json``; return the jobs file's path.

    The same sweep again leaves them as they are (the run resumes).

    :raises InvalidRequestError: ``out`` holds a different sweep (or files of those names).
    """
    root = Path(out)
    jobs = root / SWEEP_JOBS
    if os.path.lexists(jobs):
        if not jobs.is_file() or not _same_file(jobs, _jobs_bytes(sweep)):
            raise InvalidRequestError(
                f"{jobs} holds a different sweep: choose another directory for this one",
                param="out",
            )
    else:
        root.mkdir(parents=True, exist_ok=True)
        write_atomic(jobs, _jobs_bytes(sweep))
    record = json.dumps(sweep.to_json(), indent=1, ensure_ascii=False).encode() + b"\n"
    description = root / SWEEP_FILE
    if not (description.is_file() and _same_file(description, iter([record]))):
        write_atomic(description, [record], owned=_FORMAT.encode())
    return jobs


def _check_size(sweep: Sweep, max_images: int) -> None:
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise InvalidRequestError("max_images must be an integer >= 1", param="max_images")
    if len(sweep) > max_images:
        raise InvalidRequestError(
            f"the sweep would generate {sweep.describe()}, more than max_images="
            f"{max_images}: raise max_images (--max-images) to confirm",
            param="max_images",
        )


def _prepare(
    sweep: Sweep,
    out: str | os.PathLike[str],
    client: FriendliImages | AsyncFriendliImages,
    max_images: int,
    *,
    grid: bool,
    gallery: bool,
) -> Path:
    """Everything that can refuse the sweep, before anything is sent."""
    if not isinstance(sweep, Sweep):
        raise InvalidRequestError("sweep must be a Sweep (see build_sweep)", param="sweep")
    _check_size(sweep, max_images)
    problems = check_sweep(sweep, client)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more cells)" if len(problems) > 1 else ""
        raise InvalidRequestError(f"cell {first['id']}: {first['message']}{more}", param="sweep")
    check_views_free(sweep, out, grid=grid, gallery=gallery)
    return write_sweep(sweep, out)


def check_views_free(
    sweep: Sweep, out: str | os.PathLike[str], *, grid: bool, gallery: bool
) -> None:
    """Before anything is sent: the views the sweep ends with can be written (Pillow for
    the grid; ``grid.png`` and ``index.html`` free, or written by this library)."""
    if grid:
        from .sheet import check_sheets_free, require_pillow

        require_pillow()
        check_sheets_free(out, cell_count(sweep.axes[2:]))
    if gallery:
        from .gallery import check_gallery_free

        check_gallery_free(out)


def _finish(out: str | os.PathLike[str], grid: bool, gallery: bool) -> None:
    if grid:
        from .sheet import write_sweep_sheets

        write_sweep_sheets(out)
    if gallery:
        from .gallery import write_gallery

        write_gallery(out)


def run_sweep(
    sweep: Sweep,
    out: str | os.PathLike[str],
    *,
    client: FriendliImages,
    max_images: int = DEFAULT_MAX_IMAGES,
    grid: bool = True,
    gallery: bool = False,
    concurrency: int | None = None,
    retry_failed: bool = False,
    throttle_on_503: bool = False,
    on_progress: Callable[[JobsSummary], None] | None = None,
    wait_for_endpoint: float | None = None,
    wake: bool = False,
) -> JobsSummary:
    """Run every cell of ``sweep`` into the dataset ``out`` with ``run_jobs``; resumable.

    Every cell is validated, and the size checked against ``max_images``, before
    anything is sent. Afterwards ``out/grid.png`` is drawn (``grid``, needs Pillow) and
    ``out/index.html`` written (``gallery``).

    :param sweep: The cells, from :func:`build_sweep`.
    :param out: The output directory: a ``run`` dataset plus ``sweep.jsonl``,
        ``sweep.json`` and ``grid.png``.
    :param client: The client that sends the requests; it stays open.
    :param max_images: Refuse a sweep of more images than this; default 100.
    :param grid: Draw the contact sheet(s) at the end; default ``True``.
    :param gallery: Write ``out/index.html`` at the end; default ``False``.
    :param concurrency: As for ``run_jobs``.
    :param retry_failed: As for ``run_jobs``.
    :param throttle_on_503: As for ``run_jobs``.
    :param on_progress: As for ``run_jobs``.
    :param wait_for_endpoint: As for ``run_jobs``.
    :param wake: As for ``run_jobs``.
    :returns: The counts of the run.
    :raises InvalidRequestError: A cell is invalid, or the sweep is over ``max_images``.
    :raises InvalidRequestError: ``out`` holds a different sweep.
    :raises MissingDependencyError: ``grid`` without Pillow.
    """
    from .._jobs._runner import run_jobs

    jobs = _prepare(sweep, out, client, max_images, grid=grid, gallery=gallery)
    summary = run_jobs(
        jobs,
        out,
        client=client,
        concurrency=concurrency,
        retry_failed=retry_failed,
        throttle_on_503=throttle_on_503,
        on_progress=on_progress,
        wait_for_endpoint=wait_for_endpoint,
        wake=wake,
    )
    _finish(out, grid, gallery)
    return summary


async def arun_sweep(
    sweep: Sweep,
    out: str | os.PathLike[str],
    *,
    client: AsyncFriendliImages,
    max_images: int = DEFAULT_MAX_IMAGES,
    grid: bool = True,
    gallery: bool = False,
    concurrency: int | None = None,
    retry_failed: bool = False,
    throttle_on_503: bool = False,
    on_progress: Callable[[JobsSummary], None] | None = None,
    wait_for_endpoint: float | None = None,
    wake: bool = False,
) -> JobsSummary:
    """``run_sweep`` for asyncio (``arun_jobs``); the grid and page are drawn after it.

    :param sweep: The cells, from :func:`build_sweep`.
    :param out: The output directory.
    :param client: The async client that sends the requests; it stays open.
    :param max_images: Refuse a sweep of more images than this; default 100.
    :param grid: Draw the contact sheet(s) at the end; default ``True``.
    :param gallery: Write ``out/index.html`` at the end; default ``False``.
    :param concurrency: As for ``run_jobs``.
    :param retry_failed: As for ``run_jobs``.
    :param throttle_on_503: As for ``run_jobs``.
    :param on_progress: As for ``run_jobs``.
    :param wait_for_endpoint: As for ``run_jobs``.
    :param wake: As for ``run_jobs``.
    :returns: The counts of the run.
    """
    from .._jobs._runner import arun_jobs

    jobs = _prepare(sweep, out, client, max_images, grid=grid, gallery=gallery)
    summary = await arun_jobs(
        jobs,
        out,
        client=client,
        concurrency=concurrency,
        retry_failed=retry_failed,
        throttle_on_503=throttle_on_503,
        on_progress=on_progress,
        wait_for_endpoint=wait_for_endpoint,
        wake=wake,
    )
    _finish(out, grid, gallery)
    return summary
