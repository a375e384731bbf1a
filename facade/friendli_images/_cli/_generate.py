"""``friendli-images generate`` and ``friendli-images edit``: one flow, checked before
anything is generated (``--out`` writable, names free), images saved as they complete."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._base_client import seed_for
from .._client import FriendliImages
from .._container import FriendliContainerImages
from .._endpoints._status import EndpointEvent
from .._exceptions import (
    FriendliImagesError,
    InvalidRequestError,
)
from .._files import check_writable, existing_output, remove_written, save_chunks
from .._operations import (
    CONTAINER_EDIT,
    CONTAINER_GENERATE,
    DEDICATED_EDIT,
    DEDICATED_GENERATE,
    Operation,
)
from .._params import CALL_OPTIONS, check_text, edit_inputs
from .._redaction import package_logger
from ._endpoint import (
    add_wait_options,
    sleep_after,
)
from ._progress import Progress, progress_for
from ._signals import Terminated, sigterm_stops_the_batch

if TYPE_CHECKING:
    from .._batch._engine import Outcome
    from .._calls import _Call
    from .._results import ImageResult

from ._options import (
    _ENVIRONMENT_HELP,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    _add_batch_options,
    _add_connection_options,
    _add_model_option,
    _add_output_options,
    _add_request_options,
    _describe,
    _print_endpoint_events,
    _read_prompt,
    _resolve_connection,
    _usage_message,
    add_quiet_option,
    plural,
)
from ._recipe_options import (
    add_embed_option,
    add_recipe_options,
    apply_recipe,
    skipped_indices,
)

__all__ = ["_add_edit", "_add_generate", "_generate_command"]

logger = package_logger("friendli_images.cli")


def _add_generate(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    generate = commands.add_parser(
        "generate",
        parents=[common],
        help="generate images and save them",
        description=(
            "Generate images from PROMPT with the endpoint --model, save them into --out\n"
            "and print one saved path per line (in request order)."
        ),
        epilog=_ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument(
        "prompt",
        nargs="?",
        metavar="PROMPT",
        help="what the image should show ('-': read it from stdin; optional with --from)",
    )
    _add_model_option(generate)
    _add_request_options(generate.add_argument_group("request"), control_images=True)
    _add_batch_options(generate.add_argument_group("batch"))
    output = generate.add_argument_group("output")
    _add_output_options(output)
    add_embed_option(output)
    add_recipe_options(output, skip_existing=True)
    add_quiet_option(output)
    add_wait_options(generate.add_argument_group("endpoint"))
    _add_connection_options(generate.add_argument_group("connection"))
    return generate


def _add_edit(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    edit = commands.add_parser(
        "edit",
        parents=[common],
        help="edit images and save the results",
        description=(
            "Edit IMAGE (several: sent together, as a list) as PROMPT says, with the endpoint\n"
            "--model, save the results into --out and print one saved path per line."
        ),
        epilog=_ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    edit.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="an image to edit: file, http(s) URL or data: URI (at most 50 MiB)",
    )
    edit.add_argument(
        "prompt",
        nargs="?",
        metavar="PROMPT",
        help="what to change ('-': read it from stdin); with --from every argument is an IMAGE",
    )
    _add_model_option(edit)
    _add_request_options(edit.add_argument_group("request"), control_images=False)
    _add_batch_options(edit.add_argument_group("batch"))
    output = edit.add_argument_group("output")
    _add_output_options(output)
    add_embed_option(output)
    add_recipe_options(output, skip_existing=False)
    add_quiet_option(output)
    add_wait_options(edit.add_argument_group("endpoint"))
    _add_connection_options(edit.add_argument_group("connection"))
    return edit


@attrs.frozen
class _Job:
    """A ``generate`` or ``edit`` command, checked and ready to run."""

    args: argparse.Namespace
    token: str | None = attrs.field(repr=False)
    base_url: str | None
    team: str | None
    names: list[str]
    """The file name (without extension) of each request's image."""
    skip: frozenset[int] = frozenset()
    """``--skip-existing``: the requests whose image is there, complete."""
    replace: frozenset[int] = frozenset()
    """``--skip-existing``: the requests whose image is there, truncated (replaced)."""

    @property
    def container(self) -> bool:
        return self.args.container is not None

    @property
    def operation(self) -> Operation:
        edit = self.args.command == "edit"
        if self.container:
            return CONTAINER_EDIT if edit else CONTAINER_GENERATE
        return DEDICATED_EDIT if edit else DEDICATED_GENERATE

    def client(self) -> FriendliImages | FriendliContainerImages:
        if self.container:
            return FriendliContainerImages(base_url=self.base_url, token=self.token)
        return FriendliImages(token=self.token, base_url=self.base_url, team_id=self.team)

    def prepare(self, client: FriendliImages | FriendliContainerImages) -> _Call:
        """The request of the batch, checked now (request ``i`` uses ``seed + i``)."""
        args = self.args
        params: dict[str, Any] = {
            name: getattr(args, name)
            for name in sorted(self.operation.accepted - CALL_OPTIONS)
            if hasattr(args, name)
        }
        sent: dict[str, Any] = {"prompt": check_text("prompt", args.prompt)}
        if not self.container:
            sent["model"] = check_text("model", args.model)
        if args.command == "edit":
            image = args.images[0] if len(args.images) == 1 else list(args.images)
            sent = {"image": edit_inputs(image), **sent}
        return client._prepare(self.operation, sent, params).waiting_with(
            client._waiter(sent, params)
        )

    @property
    def count(self) -> int:
        return int(self.args.n)

    def seed_for(self, index: int) -> int | None:
        return seed_for(self.args.seed, index)


@attrs.frozen
class _Saved:
    index: int
    path: Path
    seed: int | None
    response_format: str
    mime_type: str
    request_id: str | None = None


@attrs.frozen
class _Failed:
    index: int
    seed: int | None
    error: Exception


@attrs.define
class _Report:
    """What a run did so far; filled in as requests finish, so Ctrl-C keeps it."""

    secret: str = attrs.field(default="", repr=False)
    """The token: never printed, whatever a server echoes back."""
    saved: list[_Saved] = attrs.Factory(list)
    failed: list[_Failed] = attrs.Factory(list)
    endpoint_events: list[EndpointEvent] = attrs.Factory(list)


class _NoImageError(FriendliImagesError):
    """The API answered success but its ``data`` held no image."""


def _file_names(stem: str, count: int) -> list[str]:
    return [stem] if count == 1 else [f"{stem}-{index}" for index in range(count)]


def _run(job: _Job, report: _Report, *, verbose: bool) -> None:
    """Run every request of ``job`` on the library's batching engine; record each in ``report``.

    The engine keeps at most ``--concurrency`` requests in flight (fewer while the endpoint
    answers 429) and sends nothing more once the run stops. Each request's images are saved
    in its slot as it completes, streamed to disk: a ``url`` result is never held whole,
    its extension comes from its first bytes. The sync engine (threads): it costs less CPU
    per image than asyncio (``bench/cpu_per_image.py``), as for ``run``.
    """
    from .._batch._engine import generate_each
    from .._recipe.embed import save_with_recipe

    args = job.args
    pending = [index for index in range(job.count) if index not in job.skip]
    progress = progress_for(len(pending), sys.stderr, lines=verbose, quiet=args.quiet)
    try:
        with job.client() as client:
            # An argument the API would reject: a usage error, now. The batch's requests
            # share the call's endpoint waiter: one wait, at most one wake request.
            call = job.prepare(client)

            def save(index: int, request: int, result: ImageResult) -> list[Path]:
                if not result.images:
                    raise _NoImageError("the API reported success but sent no image")
                paths: list[Path] = []
                try:
                    for position, image in enumerate(result.images):
                        name = job.names[request]  # request: its index in the batch
                        if len(result.images) > 1:  # the API sent several images for one request
                            name = f"{name}-{position}"
                        target = image._named_target(args.out, name)  # + the sniffed extension
                        chunks = image._chunks()
                        overwrite = args.overwrite or request in job.replace
                        if args.embed_params:
                            path = save_with_recipe(image, chunks, target, overwrite=overwrite)
                        else:
                            path = save_chunks(chunks, target, overwrite=overwrite)
                        paths.append(path)
                except BaseException:
                    remove_written(paths)
                    raise
                return paths

            outcomes = generate_each(
                client,
                pending,
                lambda index: client._batch_call(call, args.seed, index),
                concurrency=args.concurrency,
                finish=save,
            )
            try:
                with contextlib.closing(outcomes):
                    for outcome in outcomes:
                        _record(outcome, job, report, progress)
            finally:
                waiter = call.endpoint_waiter
                report.endpoint_events = [] if waiter is None else list(waiter.events)
    finally:
        progress.close()


def _record(outcome: Outcome[int], job: _Job, report: _Report, progress: Progress) -> None:
    """Keep one finished request in ``report`` and show it."""
    index = outcome.request  # the request's index in the batch (--skip-existing: not position)
    if outcome.result is None:
        assert outcome.error is not None
        seed = job.seed_for(index)
        logger.debug("request %d (seed %s) failed: %s", index, seed, outcome.error)
        report.failed.append(_Failed(index, seed, outcome.error))
        description = _describe(outcome.error, report.secret)
        progress.advance(f"request {index} failed: {description}", failed=True)
        return
    for image, path in zip(outcome.result.images, outcome.paths, strict=True):
        logger.debug("request %d (seed %s): saved %s", index, image.seed, path)
        report.saved.append(
            _Saved(
                index, path, image.seed, image.response_format, image.mime_type, image.request_id
            )
        )
    progress.advance("saved " + ", ".join(map(str, outcome.paths)))


def _print_report(report: _Report, *, as_json: bool) -> None:
    saved = sorted(report.saved, key=lambda item: (item.index, str(item.path)))
    failed = sorted(report.failed, key=lambda item: item.index)
    if not as_json:
        for item in saved:
            print(item.path)
        sys.stdout.flush()
        return
    document = {
        "images": [
            {
                "index": item.index,
                "path": str(item.path),
                "seed": item.seed,
                "response_format": item.response_format,
                "mime_type": item.mime_type,
                "request_id": item.request_id,
            }
            for item in saved
        ],
        "errors": [
            {
                "index": item.index,
                "seed": item.seed,
                "type": type(item.error).__name__,
                "status_code": getattr(item.error, "status_code", None),
                "message": _describe(item.error, report.secret),
                "request_id": getattr(item.error, "request_id", None),
            }
            for item in failed
        ],
    }
    if report.endpoint_events:  # what waiting cost (--wait-for-endpoint)
        document["endpoint_events"] = [
            {
                "kind": event.kind,
                "endpoint_id": event.endpoint_id,
                "seconds": round(event.seconds, 3),
                "status": event.status.to_dict(),
            }
            for event in report.endpoint_events
        ]
    print(json.dumps(document, indent=2), flush=True)


def _print_failures(report: _Report, count: int, *, verbose: bool) -> None:
    failed = sorted(report.failed, key=lambda item: item.index)
    for item in failed:
        if verbose:
            traceback.print_exception(item.error, file=sys.stderr)
        where = ""
        if count > 1:
            where = f"request {item.index}" + ("" if item.seed is None else f" (seed {item.seed})")
            where += ": "
        print(f"error: {where}{_describe(item.error, report.secret)}", file=sys.stderr)
    if count > 1 and failed:
        print(f"error: {len(failed)} of {count} requests failed", file=sys.stderr)


def _check_text_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Text the API receives must be valid Unicode (argv that is not UTF-8 is not)."""
    for option, value in (("PROMPT", args.prompt), ("--model", args.model)):
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            parser.error(f"argument {option}: not valid UTF-8 text: {value!r}")


def _check_output(
    args: argparse.Namespace, parser: argparse.ArgumentParser, kept: frozenset[int] = frozenset()
) -> int:
    """Whether the images could be kept, before any is generated (and billed); the
    requests in ``kept`` (``--skip-existing``) are not checked."""
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {str(out)!r} exists and is not a directory")
    try:
        check_writable(out)
    except OSError as error:
        parser.error(f"argument --out: cannot save into {str(out)!r}: {_describe(error)}")
    if not args.overwrite:
        names = _file_names(args.stem, args.n)
        existing = existing_output(out, [n for i, n in enumerate(names) if i not in kept])
        if existing is not None:
            print(
                f"error: {existing} already exists; use --overwrite to replace it, "
                "or choose another --stem or --out (nothing was generated)",
                file=sys.stderr,
            )
            return EXIT_FAILURE
    return EXIT_OK


def _generate_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    if args.prompt == "-" and args.token_file == "-":  # noqa: S105 - a path, not a secret
        parser.error("PROMPT and --token-file cannot both be read from standard input")
    _check_prompt_argument(args, parser)
    token, base_url, team = _resolve_connection(args, parser)
    if args.prompt == "-":
        try:
            args.prompt = _read_prompt()
        except ValueError as error:
            parser.error(f"argument PROMPT: {error}")
    _check_text_arguments(args, parser)
    names = _file_names(args.stem, args.n)
    skip, replace = _skip_existing(args, parser, names)
    if _check_output(args, parser, skip | replace) != EXIT_OK:
        return EXIT_FAILURE
    job = _Job(args, token, base_url, team, names, skip, replace)
    report = _Report(secret=token or "")
    status = EXIT_OK
    usage_error = False
    try:
        with sigterm_stops_the_batch():
            _run(job, report, verbose=verbose)
    except InvalidRequestError as error:
        usage_error = True  # refused before sending: nothing to put to sleep
        if verbose:
            traceback.print_exception(error, file=sys.stderr)
        parser.error(_usage_message(error))
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    except Terminated:
        status = EXIT_TERMINATED
    finally:
        _print_endpoint_events(report.endpoint_events, quiet=args.quiet)
        # Also after failures and Ctrl-C. (Refused with --container: the token is the API's.)
        if args.sleep_after and not usage_error and token is not None:
            api_token = token
            sleep_after(
                args.model,
                token=api_token,
                base_url=base_url,
                team=team,
                describe=lambda error: _describe(error, api_token),
            )
    try:
        _print_report(report, as_json=args.json)
    except BrokenPipeError:  # the reader went away (`| head -1`): stop quietly, like cat
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    if status != EXIT_OK:
        print(
            f"{'interrupted' if status == EXIT_INTERRUPTED else 'terminated'}: "
            f"{plural(len(report.saved), 'image')} saved",
            file=sys.stderr,
        )
        return status
    _print_failures(report, job.count, verbose=verbose)
    return EXIT_FAILURE if report.failed else EXIT_OK


def _check_prompt_argument(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """PROMPT is optional only with ``--from``; ``edit``'s last IMAGE is its PROMPT."""
    if args.from_file is not None:
        apply_recipe(args, parser)
    elif args.prompt is None and args.command == "edit" and len(args.images) > 1:
        args.prompt = args.images.pop()
    if args.prompt is None:
        parser.error("the following arguments are required: PROMPT")


def _skip_existing(
    args: argparse.Namespace, parser: argparse.ArgumentParser, names: list[str]
) -> tuple[frozenset[int], frozenset[int]]:
    """``--skip-existing``: (requests whose image is complete, those whose image is not)."""
    if not getattr(args, "skip_existing", False):
        return frozenset(), frozenset()
    if args.overwrite:
        parser.error("argument --skip-existing: not allowed with --overwrite")
    complete, truncated = skipped_indices(args.out, names)
    for index in sorted(truncated):
        print(f"{truncated[index]} is incomplete: generating it again", file=sys.stderr)
    if complete:
        print(f"kept {len(complete)} complete image(s) already in {args.out}", file=sys.stderr)
    return frozenset(complete), frozenset(truncated)
