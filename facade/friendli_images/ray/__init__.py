"""Friendli image generation as a Ray Data stage (the ``ray`` extra).

::

    import ray
    from friendli_images.ray import generate_images, write_imagefolder

    prompts = ray.data.read_parquet("s3://bucket/prompts.parquet")  # prompt, id, seed, ...
    images = generate_images(prompts, model="ENDPOINT_ID", concurrency=16, actors=4)
    write_imagefolder(images, "s3://bucket/images")

A row is a jobs line (``friendli-images run``): ``prompt``, an optional ``id`` and any
other ``generate()``/``edit()`` argument under the same name; a null cell leaves it
unset. The output columns (``OUTPUT_SCHEMA``), one row per image or per failed row:

``id``, ``prompt``, ``recipe`` (the request as JSON), ``image`` (bytes), ``mime_type``,
``seed``, ``image_index``, ``seconds``, and for a failure ``error`` (the class name),
``status`` (HTTP, else null) and ``message``. A failure is a row, never an exception.

The money rules under Ray's fault tolerance (``docs/guide/ray.md``):

* No request is sent twice. Ray restarts an actor that died and retries its batch
  (``max_restarts``, ``max_task_retries``; 3 each here): the retried batch does not send
  the rows the dead actor had claimed (each row is noted in the stage's ``Coordinator``
  before its request goes out). Those come back as failure rows
  (``RequestInterruptedError``: they may have generated, and been billed); the rows it
  had not reached are sent. ``resend_interrupted=True`` sends them again, knowingly;
  ``max_restarts=0`` makes an actor's death fail the Dataset instead (the output of the
  batches still in flight is lost then, though billed).
* One wake per endpoint for the whole Dataset: the actors wait through the one small
  named ``Coordinator`` actor, which polls and wakes for all of them.
* A Dataset is lazy: each execution (``count()``, ``take()``, a write) generates again.
  Execute it once, or ``materialize()`` it.
* The token is read from ``FRIENDLI_TOKEN`` in each process (driver and workers); it is
  never an argument, so it is in no pickle Ray ships, and no error text in a column
  carries it.
"""

from __future__ import annotations

from .._exceptions import InvalidRequestError, MissingDependencyError, RequestInterruptedError

try:  # the ``ray`` extra; without it, say which to install rather than a bare name
    import ray
    import ray.data
except ImportError as _missing:  # pragma: no cover - exercised without the extra
    raise MissingDependencyError(
        "friendli_images.ray needs the 'ray' extra: pip install 'friendli-images[ray]'",
        name=_missing.name,
    ) from _missing

import uuid as _uuid
import warnings
from collections.abc import Mapping
from typing import Any

from .._checks import check_flag
from ._coordinator import Coordinator
from ._imagefolder import ImageFolderDatasink, write_imagefolder
from ._resources import check_actors_fit, check_num_cpus, cluster_nodes
from ._stage import OUTPUT_SCHEMA, FriendliImagesStage, check_stage_options, make_client

__all__ = [
    "OUTPUT_SCHEMA",
    "Coordinator",
    "FriendliImagesStage",
    "ImageFolderDatasink",
    "RequestInterruptedError",
    "generate_images",
    "write_imagefolder",
]

_BATCHES_PER_SLOT = 8
"""Default rows per batch, per request slot of an actor: the engine keeps every slot busy
until a batch's last rows, so larger batches lose less to each batch's tail."""


def generate_images(
    dataset: ray.data.Dataset,
    *,
    model: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    concurrency: int = 8,
    actors: int = 2,
    batch_size: int | None = None,
    num_cpus: float = 0.5,
    cluster_may_grow: bool = False,
    client_options: Mapping[str, Any] | None = None,
    throttle_on_503: bool = False,
    wait_for_endpoint: float | None = None,
    wake: bool = False,
    resend_interrupted: bool = False,
    max_restarts: int = 3,
    max_task_retries: int = 3,
) -> ray.data.Dataset:
    """The Dataset of the images of ``dataset``'s rows (lazy: nothing is sent yet).

    Every option is checked here, on the driver, before any request is sent. So is the
    cluster: Ray waits forever for an actor it cannot place, so a pool that the cluster
    can never run at once is refused (``actors`` actors of ``num_cpus`` CPUs, each on one
    node: 4 of 1 CPU on 2 CPUs), and the error names the most actors that fit and the
    most ``num_cpus`` with which ``actors`` fit. The cluster's total resources count, not
    the ones free now (another job's come back when it ends). Never refused: a cluster
    whose autoscaler Ray reports with a node group that can still add nodes (autoscaler
    v2, KubeRay); one you say may grow (``cluster_may_grow=True``: an autoscaler Ray does
    not report, such as the v1 autoscaler of ``ray up``); one Ray cannot describe (not
    connected yet, Ray Client). A pool that fits exactly leaves no CPU to Ray Data's read
    and write tasks, which then never start: leave them one.

    :param dataset: Rows of ``generate()`` arguments (``prompt``, ...), as jobs lines.
    :param model: The endpoint for rows without a ``model``; default: rows name theirs.
    :param defaults: Other fields a row omits (``{"num_inference_steps": 20}``).
    :param concurrency: Requests in flight over all actors, the total the endpoint
        sees; each actor takes its share. Default 8.
    :param actors: Actors in the pool; each holds one client. Default 2.
    :param batch_size: Rows per batch; default 8 per request slot of an actor.
    :param num_cpus: CPUs Ray reserves per actor (the work is mostly waiting); 0.5.
    :param cluster_may_grow: Do not refuse a pool larger than the cluster is now: its
        autoscaler will add nodes. Default ``False``; an autoscaler that Ray reports
        (its node groups can still grow) needs no telling.
    :param client_options: ``AsyncFriendliImages`` arguments (``base_url``,
        ``timeout``, ``max_retries``, ...) but ``token``, read from ``FRIENDLI_TOKEN``.
    :param throttle_on_503: Also send fewer requests at once on 503, as on 429.
    :param wait_for_endpoint: Seconds to wait for an endpoint that is not ready; off.
    :param wake: With ``wait_for_endpoint``: wake a SLEEPING endpoint, once per
        endpoint for the whole Dataset; default ``False``.
    :param resend_interrupted: Send again the rows an actor that died may have sent
        (billed twice if they had generated); default ``False``: they come back as
        ``RequestInterruptedError`` rows.
    :param max_restarts: Ray restarts of an actor that died (its batch is retried
        without the rows it may have sent); default 3; 0: a death fails the Dataset.
    :param max_task_retries: Ray retries of a batch whose actor died; default 3.
    :returns: The Dataset with the output columns (``OUTPUT_SCHEMA``).
    :raises InvalidRequestError: An option is invalid, no token is set, or the cluster
        can never run ``actors`` actors of ``num_cpus`` CPUs (``param="actors"``).
    """
    merged = {**({} if model is None else {"model": model}), **(defaults or {})}
    client = make_client(client_options)
    check_stage_options(client, merged, concurrency, actors, throttle_on_503)
    client._waiter_pool_for(wait_for_endpoint, wake)
    check_flag(resend_interrupted, "resend_interrupted")
    for name, value in (("max_restarts", max_restarts), ("max_task_retries", max_task_retries)):
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise InvalidRequestError(f"{name} must be an integer >= -1", param=name)
    per_actor = {"CPU": check_num_cpus(num_cpus)}
    check_flag(cluster_may_grow, "cluster_may_grow")
    nodes = None if cluster_may_grow else cluster_nodes()
    if nodes is not None:
        check_actors_fit(actors, per_actor, nodes)
    share = -(-concurrency // actors)
    coordinator = (
        ray.remote(Coordinator)
        .options(
            name=f"friendli-images-coordinator-{_uuid.uuid4().hex[:12]}",
            num_cpus=0,
            max_restarts=0,
            max_concurrency=64,
        )
        .remote(dict(client_options or {}))
    )
    stage_options = {
        "defaults": merged,
        "concurrency": concurrency,
        "actors": actors,
        "client_options": dict(client_options or {}),
        "throttle_on_503": throttle_on_503,
        "wait_for_endpoint": wait_for_endpoint,
        "wake": wake,
        "coordinator": coordinator,
        "resend_interrupted": resend_interrupted,
    }
    with warnings.catch_warnings():
        # Ray 2.60 deprecates map_batches(**ray_remote_args) and names no replacement for
        # max_restarts and max_task_retries yet: they are still how Ray is told.
        warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
        staged: ray.data.Dataset = dataset.map_batches(
            FriendliImagesStage,
            fn_constructor_kwargs=stage_options,
            batch_size=batch_size or share * _BATCHES_PER_SLOT,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=num_cpus,
            max_restarts=max_restarts,
            max_task_retries=max_task_retries,
        )
    return staged
