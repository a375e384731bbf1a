"""The generation stage: a callable class for ``Dataset.map_batches`` on an actor pool.

Each actor holds one ``AsyncFriendliImages`` and one event loop for its whole life, so
its connections are pooled across batches, and runs each batch on the library's engine
(``_engine.agenerate_each``): its share of the requests in flight, fewer while the
endpoint answers 429, every failure a row. Waiting for a sleeping endpoint goes through
the stage's ``Coordinator`` actor when there is one (one wake per endpoint for the
whole Dataset), else through the actor's own waiters (one per actor).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from .._batch._engine import agenerate_each
from .._client import AsyncFriendliImages
from .._endpoints._wait import AsyncEndpointWaiter, WaiterPool
from .._exceptions import (
    APIError,
    FriendliImagesError,
    InvalidRequestError,
    RequestInterruptedError,
)
from .._jobs._runner import _no_image
from ._rows import COLUMNS, RowRequest, failure_columns, image_columns, row_request, spread

if TYPE_CHECKING:
    from ray import ObjectRef
    from ray.actor import ActorHandle

    from .._results import ImageResult
    from ._coordinator import Coordinator

__all__ = ["OUTPUT_SCHEMA", "FriendliImagesStage"]

OUTPUT_SCHEMA = pa.schema([(name, getattr(pa, kind)()) for name, kind in COLUMNS])
"""The Arrow schema of every batch the stage returns (``friendli_images.ray`` documents it)."""

T = TypeVar("T")

_CALL_TIMEOUT = 60.0
"""Seconds a ledger call to the coordinator may take (it answers from memory)."""

_COORDINATOR_MARGIN = 30.0
"""Seconds a shared wait may take beyond the endpoint budget (the coordinator's polls)."""


class _SharedWaiter(AsyncEndpointWaiter):
    """An actor's waiter for one endpoint that waits through the stage's coordinator."""

    def __init__(
        self,
        client: AsyncFriendliImages,
        coordinator: ActorHandle[Coordinator],
        endpoint_id: str,
        budget: float,
        *,
        wake: bool,
    ) -> None:
        super().__init__(client, endpoint_id, budget, wake=wake)
        self._coordinator = coordinator
        self._shared_lock: asyncio.Lock | None = None

    async def wait(self, seen_round: int, cause: APIError) -> None:
        """Wait once per round for this actor; the coordinator waits once for all actors."""
        if self._shared_lock is None:
            self._shared_lock = asyncio.Lock()
        async with self._shared_lock:
            if self.round != seen_round:
                return  # another request of this actor waited since
            reference: ObjectRef[tuple[int, FriendliImagesError | None]]
            reference = self._coordinator.wait.remote(
                self.endpoint_id, self.budget, self.wake, seen_round, cause
            )
            # Typed here: without the ray extra, mypy sees ObjectRef as Any.
            waited: tuple[int, FriendliImagesError | None]
            waited = await _result(reference, self.budget + _COORDINATOR_MARGIN)
            shared_round, error = waited
            self.round = max(self.round + 1, shared_round)
            if error is not None:
                raise error


class FriendliImagesStage:
    """Generate one image per row of each batch (``Dataset.map_batches`` with actors).

    ``generate_images`` builds the stage for you; use the class directly to place it in
    your own ``map_batches`` call, with ``batch_format="pyarrow"``, an actor pool
    (``compute=ray.data.ActorPoolStrategy(size=ACTORS)``), and pass it the stage's
    ``coordinator``: with it a batch Ray retries after an actor died sends none of the
    rows the dead actor had claimed (they come back as ``RequestInterruptedError`` rows),
    so Ray's restarts and task retries are safe. Without a coordinator there is no
    ledger: use ``max_restarts=0`` (a restart would send, and bill, the batch again).

    :param defaults: Fields a row omits, as for ``run_jobs`` (``{"model": ENDPOINT}``).
    :param concurrency: The requests in flight over all ``actors``; each actor takes
        its share. Default 8.
    :param actors: How many actors the pool has (to share ``concurrency`` out); default 1.
    :param client_options: ``AsyncFriendliImages`` keyword arguments but ``token`` (read
        from ``FRIENDLI_TOKEN`` in each actor's environment) and ``http_client``.
    :param throttle_on_503: Also send fewer requests at once on 503, as on 429.
    :param wait_for_endpoint: Seconds to wait for an endpoint that is not ready, then
        send again; default off.
    :param wake: With ``wait_for_endpoint``: wake a SLEEPING endpoint (at most once per
        endpoint for the whole Dataset with a ``coordinator``); default ``False``.
    :param coordinator: The stage's shared ``Coordinator`` actor (``generate_images``
        makes it); without one each actor waits, and wakes, on its own, and a batch Ray
        retries after an actor died sends all its rows again.
    :param resend_interrupted: With a ``coordinator``: send again the rows a dead
        actor may have sent (billed twice if they had generated); default ``False``,
        they come back as ``RequestInterruptedError`` rows.
    :raises InvalidRequestError: An option is invalid (in the actor's constructor).
    """

    def __init__(
        self,
        *,
        defaults: Mapping[str, Any] | None = None,
        concurrency: int = 8,
        actors: int = 1,
        client_options: Mapping[str, Any] | None = None,
        throttle_on_503: bool = False,
        wait_for_endpoint: float | None = None,
        wake: bool = False,
        coordinator: ActorHandle[Coordinator] | None = None,
        resend_interrupted: bool = False,
    ) -> None:
        self._client = make_client(client_options)
        check_stage_options(self._client, defaults, concurrency, actors, throttle_on_503)
        self._defaults = dict(defaults or {})
        from .._checks import check_flag

        check_flag(resend_interrupted, "resend_interrupted")
        self._resend_interrupted = resend_interrupted
        self._coordinator = coordinator
        self._incarnation = uuid.uuid4().hex
        index: int = 0
        if coordinator is not None:
            import ray

            self._actor_id = ray.get_runtime_context().get_actor_id() or self._incarnation
            registered: ObjectRef[int]
            registered = coordinator.register.remote(self._actor_id, self._incarnation)
            index = ray.get(registered, timeout=60)
        self.index: int = index
        """This actor's place in the pool (``Coordinator.register``)."""
        self.concurrency: int = spread(concurrency, actors, index)
        """This actor's share of the requests in flight."""
        self._throttle_on_503 = throttle_on_503
        pool = self._client._waiter_pool_for(wait_for_endpoint, wake)
        if pool is not None and coordinator is not None:
            client = self._client
            pool = WaiterPool(
                lambda endpoint_id, budget, wake_it: _SharedWaiter(
                    client, coordinator, endpoint_id, budget, wake=wake_it
                )
            )
        self._prepare = self._client._request_preparer(
            wait_for_endpoint, wake, pool, lambda item: item[1].request
        )
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FriendliImagesStage(index={self.index}, concurrency={self.concurrency})"

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The output rows of ``batch`` (``OUTPUT_SCHEMA``), in the order of its rows."""
        rows = batch.to_pylist()
        fingerprint = fingerprint_of(batch) if self._coordinator is not None else ""
        with self._lock:  # one batch at a time on the actor's loop
            produced = self._loop.run_until_complete(self._run(rows, fingerprint))
        return pa.Table.from_pylist(produced, schema=OUTPUT_SCHEMA)

    async def _run(self, rows: list[dict[str, Any]], fingerprint: str) -> list[dict[str, Any]]:
        secrets = self._client._secrets
        number, interrupted = await self._begin(fingerprint)
        slots: list[list[dict[str, Any]]] = [[] for _ in rows]
        jobs: list[tuple[int, RowRequest]] = []
        for position, row in enumerate(rows):
            item = row_request(row, self._defaults)
            if item.problem is not None:
                slots[position] = [
                    failure_columns(item.id, item.request, item.problem, 0.0, secrets)
                ]
            elif position in interrupted and not self._resend_interrupted:
                slots[position] = [
                    failure_columns(item.id, item.request, _interrupted(), 0.0, secrets)
                ]
            else:
                jobs.append((position, item))
        contents: dict[int, list[tuple[bytes, str, int | None]]] = {}

        async def keep(index: int, job: tuple[int, RowRequest], result: ImageResult) -> list[Any]:
            if not result.images:
                raise _no_image()
            contents[job[0]] = [
                (await image.acontent(), image.mime_type, image.seed) for image in result.images
            ]
            return []

        outcomes = agenerate_each(
            self._client,
            self._claimed(jobs, fingerprint, number),
            self._prepare,
            concurrency=self.concurrency,
            throttle_on_503=self._throttle_on_503,
            finish=keep,
        )
        async with contextlib.aclosing(outcomes):
            async for outcome in outcomes:
                position, item = outcome.request
                if outcome.error is None:
                    images = contents.pop(position)
                    slots[position] = image_columns(item.id, item.request, images, outcome.seconds)
                else:
                    slots[position] = [
                        failure_columns(
                            item.id, item.request, outcome.error, outcome.seconds, secrets
                        )
                    ]
        if self._coordinator is not None:
            await _result(self._coordinator.finish.remote(fingerprint, number))
        return [row for slot in slots for row in slot]

    async def _begin(self, fingerprint: str) -> tuple[int, set[int]]:
        """This batch's attempt in the ledger, and the rows a dead attempt claimed."""
        if self._coordinator is None:
            return -1, set()
        begun: ObjectRef[tuple[int, list[int]]]
        begun = self._coordinator.begin.remote(fingerprint, self._actor_id, self._incarnation)
        begun_as: tuple[int, list[int]] = await _result(begun)
        number, claimed = begun_as
        return number, set(claimed)

    async def _claimed(
        self, jobs: list[tuple[int, RowRequest]], fingerprint: str, number: int
    ) -> AsyncIterator[tuple[int, RowRequest]]:
        """``jobs``, each claimed in the ledger before the engine may send it (a share's
        worth at a time: a death leaves at most that many unsent rows marked as sent)."""
        step = max(1, self.concurrency)
        for start in range(0, len(jobs), step):
            chunk = jobs[start : start + step]
            if self._coordinator is not None:
                positions = [position for position, _item in chunk]
                await _result(self._coordinator.claim.remote(fingerprint, number, positions))
            for job in chunk:
                yield job


def _interrupted() -> RequestInterruptedError:
    return RequestInterruptedError(
        "the actor sending this row died before its answer came back: it may have "
        "generated, and been billed, so it is not sent again (resend_interrupted=True "
        "sends such rows again)"
    )


async def _result(reference: ObjectRef[T], timeout: float = _CALL_TIMEOUT) -> T:
    """The value of a Ray ``ObjectRef``, awaited without blocking the actor's loop."""
    value: T = await asyncio.wait_for(asyncio.wrap_future(reference.future()), timeout)
    return value


def fingerprint_of(batch: pa.Table) -> str:
    """A digest of ``batch``'s rows: a retried batch has the same one."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_table(batch)
    return hashlib.sha256(memoryview(sink.getvalue())).hexdigest()


def make_client(client_options: Mapping[str, Any] | None) -> AsyncFriendliImages:
    """The stage's client: ``client_options`` without a token (read from the environment)."""
    options = dict(client_options or {})
    for name in ("token", "http_client"):
        if name in options:
            raise InvalidRequestError(
                f"{name} is not a stage option: the token is read from FRIENDLI_TOKEN in "
                "each Ray worker's environment, so that no secret travels in a pickle "
                "(and each actor opens its own connections)",
                param=name,
            )
    return AsyncFriendliImages(**options)


def check_stage_options(
    client: AsyncFriendliImages,
    defaults: Mapping[str, Any] | None,
    concurrency: object,
    actors: object,
    throttle_on_503: object,
) -> None:
    """Reject what no row could fix, before anything is sent (the driver calls it too)."""
    from .._checks import check_flag
    from .._jobs._runner import _check_defaults

    _check_defaults(client, defaults or {})
    client._concurrency(concurrency)  # type: ignore[arg-type]
    if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
        raise InvalidRequestError(f"actors must be an integer >= 1, got {actors!r}", param="actors")
    check_flag(throttle_on_503, "throttle_on_503")
