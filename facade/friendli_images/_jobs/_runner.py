"""Bulk jobs: a jobs file in, an ``imagefolder`` dataset out, resumable (``friendli-images run``).

``run_jobs`` (and ``arun_jobs`` for asyncio) reads the jobs file lazily (``_jobs``), runs
the jobs not yet done through the batching engine (``_engine``), saves each image as its
request completes, in the request's slot, and then records it (``_dataset``). Running the
same call again skips every job already done; ``retry_failed=True`` also runs the ones
that failed. ``shard="K/N"`` takes every N-th line from line index K, so N machines can
split one file into N output directories, whose metadata files concatenate into one
dataset (``cat */metadata.jsonl``, with the images moved alongside).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._batch._engine import Outcome, agenerate_each, generate_each
from .._endpoints._rules import endpoint_id_for_model
from .._endpoints._status import EndpointEvent
from .._exceptions import APIResponseValidationError, FileWriteError, InvalidRequestError
from .._files import asave_chunks, remove_written, save_chunks
from .._recipe.embed import asave_with_recipe, check_metadata, save_with_recipe
from ._dataset import DatasetDir, failure_row, image_stem, metadata_rows
from ._lines import BadLine, Job, Shard, count_jobs, read_jobs

if TYPE_CHECKING:
    from .._base_client import BaseClient as _BaseClient
    from .._calls import _Call
    from .._client import AsyncFriendliImages, FriendliImages
    from .._results import GeneratedImage, ImageResult

__all__ = ["SAVE_FAILURES_TO_STOP", "JobsSummary", "arun_jobs", "check_jobs", "run_jobs"]

SAVE_FAILURES_TO_STOP = 3
"""A run stops sending after this many jobs in a row whose images could not be saved."""


@attrs.frozen
class JobsSummary:
    """What a jobs run did (so far, when passed to ``on_progress``).

    ``run_jobs`` builds these; the parameters are its fields.

    :param total: Non-blank lines of the jobs file (of this shard).
    :param done: Jobs completed by this run.
    :param failed: Jobs that failed in this run, invalid lines included.
    :param skipped: Jobs already done before this run, left alone.
    :param failed_before: Jobs that failed in an earlier run, left alone.
    :param images: Images saved by this run.
    :param seconds: Wall time of the run so far, in seconds.
    :param out: The output directory (the ``imagefolder`` dataset).
    :param endpoints: The endpoint IDs the run sent requests to, in first-use order.
    :param endpoint_events: With ``wait_for_endpoint``: each wake and wait of the run.
    """

    total: int
    """Non-blank lines of the jobs file (of this shard)."""
    done: int
    """Jobs completed by this run."""
    failed: int
    """Jobs that failed in this run, invalid lines included (see ``failures.jsonl``)."""
    skipped: int
    """Jobs already done before this run, left alone."""
    failed_before: int
    """Jobs that failed in an earlier run, left alone (``retry_failed`` runs them again)."""
    images: int
    """Images saved by this run."""
    seconds: float
    """Wall time of the run so far, in seconds."""
    out: Path
    """The output directory (the ``imagefolder`` dataset)."""
    endpoints: tuple[str, ...] = ()
    """The endpoint IDs the run sent requests to (``ENDPOINT:ADAPTER`` counts as ENDPOINT)."""
    endpoint_events: tuple[EndpointEvent, ...] = ()
    """With ``wait_for_endpoint``: each wake and wait of the run (each costs money)."""

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON-ready ``dict`` (``out`` as a string), as ``--json`` prints.

        Durations are in seconds rounded to the millisecond.

        :returns: One key per field.
        """
        return {
            **attrs.asdict(self, recurse=False),
            "seconds": round(self.seconds, 3),
            "out": str(self.out),
            "endpoints": list(self.endpoints),
            "endpoint_events": [
                {
                    "kind": event.kind,
                    "endpoint_id": event.endpoint_id,
                    "status": event.status.to_dict(),
                    "seconds": round(event.seconds, 3),
                }
                for event in self.endpoint_events
            ],
        }


def _shard(value: Shard | str | None) -> Shard | None:
    if value is None or isinstance(value, Shard):
        return value
    if not isinstance(value, str):
        raise InvalidRequestError("shard must be 'K/N'", param="shard")
    return Shard.parse(value)


class _JobsRun:
    """One run over a jobs file: which jobs to send, and how each one is kept."""

    def __init__(
        self,
        client: _BaseClient,
        jobs: Path,
        out: Path,
        *,
        defaults: Mapping[str, Any],
        retry_failed: bool,
        shard: Shard | None,
        on_progress: Callable[[JobsSummary], None] | None,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
    ) -> None:
        _check_defaults(client, defaults)
        self._pool = client._waiter_pool_for(wait_for_endpoint, wake)
        self._prepare = client._request_preparer(
            wait_for_endpoint, wake, self._pool, lambda job: job.request
        )
        self._endpoints: dict[str, None] = {}
        if not isinstance(retry_failed, bool):
            raise InvalidRequestError("retry_failed must be True or False", param="retry_failed")
        self._client = client
        self._jobs = jobs
        self._defaults = dict(defaults)
        self._retry_failed = retry_failed
        self._shard = shard
        self._on_progress = on_progress
        self._dataset = DatasetDir(out, client._secrets)
        self._start = time.monotonic()
        self._total = count_jobs(jobs, shard)
        self._done = self._failed = self._invalid = self._skipped = self._images = 0
        self._failed_before = 0
        self._reporting = False
        self._save_failures = 0
        self._stopped_by: FileWriteError | None = None

    def __enter__(self) -> _JobsRun:
        self._dataset.open()
        if self._retry_failed:
            self._dataset.forget_failures(set(self._dataset.failed))
        self._progress()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        try:
            if exc_type is not None and not self._reporting:
                # Interrupted or failed: the last report has every endpoint used (for
                # --sleep-after). An error of on_progress here must not hide the cause.
                with contextlib.suppress(Exception):
                    self._progress()
        finally:
            self._dataset.close()

    def summary(self) -> JobsSummary:
        return JobsSummary(
            total=self._total,
            done=self._done,
            failed=self._failed + self._invalid,
            skipped=self._skipped,
            failed_before=self._failed_before,
            images=self._images,
            seconds=time.monotonic() - self._start,
            out=self._dataset.root,
            endpoints=tuple(self._endpoints),
            endpoint_events=() if self._pool is None else tuple(self._pool.events),
        )

    def finished(self) -> None:
        """Every job was read: report the final counts (skips included); raise the save
        failure that stopped the run, if one did."""
        self._progress()
        if self._stopped_by is not None:
            error = self._stopped_by
            raise FileWriteError(
                f"stopped sending after {SAVE_FAILURES_TO_STOP} jobs in a row could not be "
                f"saved to {self._dataset.images} (each request is billed): {error}",
                errno=error.errno,
                filename=error.filename,
            ) from error

    def _progress(self) -> None:
        if self._on_progress is not None:
            self._reporting = True
            self._on_progress(self.summary())
            self._reporting = False

    def pending(self) -> Iterator[Job]:
        """The jobs to send, read lazily; bad lines are recorded as failed on the way."""
        dataset = self._dataset
        for item in read_jobs(self._jobs, self._defaults, self._shard):
            if self._stopped_by is not None:
                return
            if item.key in dataset.done:
                self._skipped += 1
            elif item.key in dataset.failed:
                self._failed_before += 1
            elif isinstance(item, BadLine):
                dataset.add_failure(failure_row(item.key, item.line, item.message))
                self._invalid += 1
            else:
                yield item

    def prepare(self, job: Job) -> _Call:
        """Validate ``job`` before it is sent; its endpoint is noted when it goes out
        (``--sleep-after`` sleeps only endpoints that were sent a request)."""
        call = self._prepare(job)
        endpoint = _endpoint_of(job.request["model"])
        return call._replace(on_send=lambda: self._endpoints.setdefault(endpoint, None))

    def target(self, image: GeneratedImage, job: Job, position: int) -> Callable[[bytes], Path]:
        """Where image ``position`` of ``job`` goes, with the extension its first bytes show;
        journaled before it is written, so that a later run knows the file is its own."""
        named = image._named_target(self._dataset.images, image_stem(job.key, position))

        def claim(head: bytes) -> Path:
            path = named(head)
            self._dataset.note_written(path)
            return path

        return claim

    def save_failed(self, error: BaseException) -> None:
        """A job's images could not be saved: after ``SAVE_FAILURES_TO_STOP`` in a row, stop
        sending (each request is billed; a full disk keeps none of them)."""
        if isinstance(error, FileWriteError):
            self._save_failures += 1
            if self._save_failures >= SAVE_FAILURES_TO_STOP and self._stopped_by is None:
                self._stopped_by = error

    def saved(self) -> None:
        self._save_failures = 0

    def record(self, outcome: Outcome[Job]) -> None:
        """Keep a finished job: its images are on disk already; now its metadata."""
        job = outcome.request
        if outcome.result is not None:
            images = [
                (
                    Path(path).relative_to(self._dataset.root).as_posix(),
                    image.seed,
                    image.response_format,
                )
                for image, path in zip(outcome.result.images, outcome.paths, strict=True)
            ]
            rows = metadata_rows(job.key, job.line, job.request, images, outcome.seconds)
            self._dataset.add(job.key, rows)
            self._done += 1
            self._images += len(rows)
        else:
            assert outcome.error is not None
            self._dataset.add_failure(failure_row(job.key, job.line, outcome.error))
            self._failed += 1
        self._progress()


def _check_defaults(client: _BaseClient, defaults: Mapping[str, Any]) -> None:
    """Reject defaults no line could fix (an unknown field, a value out of range) up front."""
    if not isinstance(defaults, Mapping):
        raise InvalidRequestError(
            "defaults must be a mapping of generate() arguments", param="defaults"
        )
    client._prepare_request({"prompt": "-", "model": "-", **defaults})


def _endpoint_of(model: str) -> str:
    """The endpoint a valid request's ``model`` names (``ENDPOINT:ADAPTER`` -> ENDPOINT)."""
    try:
        return endpoint_id_for_model(model)
    except InvalidRequestError:  # not an endpoint ID (a container model name): as it is
        return model


def _no_image() -> APIResponseValidationError:
    return APIResponseValidationError(
        "the API reported success but sent no image", response=None, body=None
    )


def run_jobs(
    jobs: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    client: FriendliImages,
    defaults: Mapping[str, Any] | None = None,
    concurrency: int | None = None,
    retry_failed: bool = False,
    shard: Shard | str | None = None,
    throttle_on_503: bool = False,
    on_progress: Callable[[JobsSummary], None] | None = None,
    wait_for_endpoint: float | None = None,
    wake: bool = False,
    metadata: bool = False,
) -> JobsSummary:
    """Run the jobs file ``jobs`` into the ``imagefolder`` dataset ``out``; see README "Bulk jobs".

    Each line is a JSON object of ``generate()`` arguments plus an optional ``id``;
    ``defaults`` fills in fields a line omits (``{"model": "ENDPOINT"}``). Jobs already in
    ``out/metadata.jsonl`` are skipped, as are jobs in ``out/failures.jsonl`` unless
    ``retry_failed``. ``shard="K/N"`` takes the lines whose 0-based index is K modulo N.
    At most ``concurrency`` (default 4) requests are in flight, fewer while the endpoint
    answers 429. A failed job or an invalid line is recorded and never stops the run.

    :param jobs: The jobs file: one JSON object per line.
    :param out: The output directory, created if missing; the dataset is written there.
    :param client: The client that sends the requests; it stays open.
    :param defaults: Fields a line omits, e.g. ``{"model": "ENDPOINT"}``; default none.
    :param concurrency: At most this many requests in flight; default 4.
    :param retry_failed: Run the jobs of ``out/failures.jsonl`` again; default ``False``.
    :param shard: ``"K/N"``: only the lines whose 0-based index is K modulo N; default
        all lines.
    :param throttle_on_503: Also send fewer requests at once on 503, as on 429;
        default ``False``.
    :param on_progress: Called with a ``JobsSummary`` at the start, after each job and
        at the end (also when the run stops early); default ``None``.
    :param wait_for_endpoint: Seconds to wait for an endpoint that answers it is not
        ready (asleep or waking), then send again; the jobs for one endpoint share one
        wait. Each wake and wait is logged at INFO and listed in the summary's
        ``endpoint_events``. Default off.
    :param wake: With ``wait_for_endpoint``: wake a SLEEPING endpoint, with at most one
        wake request per endpoint for the run; default ``False``.
    :param metadata: Also write each image's recipe into its file (as
        ``GeneratedImage.save(metadata=True)``); ``metadata.jsonl`` has it regardless.
        Default ``False``.
    :returns: The counts of the run.
    :raises InvalidRequestError: ``defaults``, ``shard``, ``concurrency``,
        ``wait_for_endpoint`` or ``wake`` are invalid.
    :raises OSError: The jobs file cannot be read or ``out`` cannot be written.
    """
    check_metadata(metadata)
    run = _JobsRun(
        client,
        Path(jobs),
        Path(out),
        defaults=defaults or {},
        retry_failed=retry_failed,
        shard=_shard(shard),
        on_progress=on_progress,
        wait_for_endpoint=wait_for_endpoint,
        wake=wake,
    )
    workers = client._concurrency(concurrency)

    def save(index: int, job: Job, result: ImageResult) -> list[Path]:
        if not result.images:
            raise _no_image()
        paths: list[Path] = []
        try:
            for position, image in enumerate(result.images):
                target = run.target(image, job, position)
                if metadata:
                    path = save_with_recipe(image, image._chunks(), target, overwrite=False)
                else:
                    path = save_chunks(image._chunks(), target, overwrite=False)
                paths.append(path)
        except BaseException as error:
            remove_written(paths)
            run.save_failed(error)
            raise
        run.saved()
        return paths

    with run:
        outcomes = generate_each(
            client,
            run.pending(),
            run.prepare,
            concurrency=workers,
            throttle_on_503=throttle_on_503,
            finish=save,
        )
        with contextlib.closing(outcomes):
            for outcome in outcomes:
                run.record(outcome)
        run.finished()
    return run.summary()


async def arun_jobs(
    jobs: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    client: AsyncFriendliImages,
    defaults: Mapping[str, Any] | None = None,
    concurrency: int | None = None,
    retry_failed: bool = False,
    shard: Shard | str | None = None,
    throttle_on_503: bool = False,
    on_progress: Callable[[JobsSummary], None] | None = None,
    wait_for_endpoint: float | None = None,
    wake: bool = False,
    metadata: bool = False,
) -> JobsSummary:
    """``run_jobs`` for asyncio; cancelling it cancels the requests in flight.

    :param jobs: The jobs file: one JSON object per line.
    :param out: The output directory, created if missing; the dataset is written there.
    :param client: The async client that sends the requests; it stays open.
    :param defaults: Fields a line omits, e.g. ``{"model": "ENDPOINT"}``; default none.
    :param concurrency: At most this many requests in flight; default 4.
    :param retry_failed: Run the jobs of ``out/failures.jsonl`` again; default ``False``.
    :param shard: ``"K/N"``: only the lines whose 0-based index is K modulo N; default
        all lines.
    :param throttle_on_503: Also send fewer requests at once on 503, as on 429;
        default ``False``.
    :param on_progress: Called with a ``JobsSummary`` at the start, after each job and
        at the end (also when the run stops early); default ``None``.
    :param wait_for_endpoint: Seconds to wait for an endpoint that answers it is not
        ready (asleep or waking), then send again; the jobs for one endpoint share one
        wait. Each wake and wait is logged at INFO and listed in the summary's
        ``endpoint_events``. Default off.
    :param wake: With ``wait_for_endpoint``: wake a SLEEPING endpoint, with at most one
        wake request per endpoint for the run; default ``False``.
    :param metadata: Also write each image's recipe into its file (as
        ``GeneratedImage.save(metadata=True)``); ``metadata.jsonl`` has it regardless.
        Default ``False``.
    :returns: The counts of the run.
    """
    check_metadata(metadata)
    run = _JobsRun(
        client,
        Path(jobs),
        Path(out),
        defaults=defaults or {},
        retry_failed=retry_failed,
        shard=_shard(shard),
        on_progress=on_progress,
        wait_for_endpoint=wait_for_endpoint,
        wake=wake,
    )
    workers = client._concurrency(concurrency)

    async def save(index: int, job: Job, result: ImageResult) -> list[Path]:
        if not result.images:
            raise _no_image()
        paths: list[Path] = []
        try:
            for position, image in enumerate(result.images):
                target = run.target(image, job, position)
                chunks = image._achunks()
                if metadata:
                    path = await asave_with_recipe(image, chunks, target, overwrite=False)
                else:
                    path = await asave_chunks(chunks, target, overwrite=False)
                paths.append(path)
        except BaseException as error:
            remove_written(paths)
            run.save_failed(error)
            raise
        run.saved()
        return paths

    with run:
        outcomes = agenerate_each(
            client,
            run.pending(),
            run.prepare,
            concurrency=workers,
            throttle_on_503=throttle_on_503,
            finish=save,
        )
        async with contextlib.aclosing(outcomes):
            async for outcome in outcomes:
                run.record(outcome)
        run.finished()
    return run.summary()


def check_jobs(
    jobs: str | os.PathLike[str],
    *,
    client: FriendliImages | AsyncFriendliImages,
    defaults: Mapping[str, Any] | None = None,
    shard: Shard | str | None = None,
    on_problem: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Validate every line of ``jobs`` without sending anything.

    :param jobs: The jobs file: one JSON object per line.
    :param client: The client whose rules check each request (nothing is sent).
    :param defaults: Fields a line omits, as for ``run_jobs``; default none.
    :param shard: ``"K/N"``: only the lines whose 0-based index is K modulo N; default
        all lines.
    :param on_problem: Called with each problem's row as it is found; the rows are then
        not kept (the returned list is empty), so a file of a million bad lines costs no
        memory. Default: rows are collected and returned.
    :returns: The number of valid jobs and one ``failures.jsonl``-style row (id, line,
        error, message) per problem (none when ``on_problem`` took them).
    """
    defaults = defaults or {}
    _check_defaults(client, defaults)
    if on_problem is not None and not callable(on_problem):
        raise InvalidRequestError("on_problem must be a callable or None", param="on_problem")
    problems: list[dict[str, Any]] = []
    report = problems.append if on_problem is None else on_problem
    valid = 0
    for item in read_jobs(Path(jobs), defaults, _shard(shard)):
        if isinstance(item, BadLine):
            report(failure_row(item.key, item.line, item.message))
            continue
        try:
            client._prepare_request(item.request)
        except InvalidRequestError as error:
            report(failure_row(item.key, item.line, error))
        else:
            valid += 1
    return valid, problems
