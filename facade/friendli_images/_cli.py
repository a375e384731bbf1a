"""The ``friendli-images`` command: generate or edit images from a shell, or run a local
mock API.

    friendli-images generate PROMPT --model ENDPOINT [options]
    friendli-images edit IMAGE [IMAGE ...] PROMPT --model ENDPOINT [options]
    friendli-images generate|edit ... --container URL [--model ADAPTER] [options]
    friendli-images run JOBS.jsonl --out DIR [--model ENDPOINT] [options]   (see _cli_run)
    friendli-images info FILE [FILE ...] [--json]   (see _cli_info; also --from, --embed-params)
    friendli-images endpoint status|wake|sleep ID [options]   (see _cli_endpoint)
    friendli-images mock-server [--port P] [--token T] [--latency S] [--image-size WxH]
    friendli-images --version

``--container URL`` sends to a self-hosted Friendli Container instead: no token needed
(``FRIENDLI_CONTAINER_TOKEN`` or ``--token-file`` if a proxy asks for one), no team.

Exit status of ``generate`` and ``edit``: 0 when every image was saved; 1 for an API,
network or file error (in a batch: any failed request; the other images are still saved
and listed);
2 for a usage error (bad option, an argument the API would reject, no token); 130 after
Ctrl-C and 143 after SIGTERM. Files are written atomically, so an interrupted run leaves
complete images or none, never half a file. ``--out`` is checked (writable, names free)
before anything is generated. With stdout closed (``>&-``) the listing is dropped and the
exit status is that of the images; with stderr closed, errors are dropped, never printed
among the paths.

The API token comes from ``FRIENDLI_TOKEN`` or ``--token-file``, never from an option
value: command lines end up in shell history and in every user's ``ps`` output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shlex
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO
from urllib.parse import urlsplit

import attrs

from . import _config
from ._cli_endpoint import (
    add_endpoint_command,
    add_mock_endpoint_options,
    add_wait_options,
    endpoint_command,
    sleep_after,
    start_mock_endpoints,
)
from ._client import DEFAULT_CONCURRENCY, AsyncFriendliImages, _seed_for
from ._container import (
    CONTAINER_BASE_URL_ENV,
    CONTAINER_TOKEN_ENV,
    AsyncFriendliContainerImages,
)
from ._endpoint_status import EndpointEvent
from ._exceptions import (
    APIStatusError,
    FriendliImagesError,
    InvalidRequestError,
    OutputExistsError,
)
from ._files import asave_chunks, check_stem, check_writable, existing_output
from ._operations import (
    CONTAINER_EDIT,
    CONTAINER_GENERATE,
    DEDICATED_EDIT,
    DEDICATED_GENERATE,
    Operation,
)
from ._params import CALL_OPTIONS, check_text, edit_inputs
from ._progress import Progress, progress_for
from ._version import __version__

if TYPE_CHECKING:
    from ._client import _Call
    from ._engine import Outcome
    from ._results import ImageResult
    from .testing import FriendliTestServer

__all__ = ["main"]

logger = logging.getLogger("friendli_images.cli")

PROG: Final = "friendli-images"
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED: Final = 143  # 128 + SIGTERM

TOKEN_FILE_LIMIT: Final = 64 * 1024
"""The most characters read from ``--token-file`` (``/dev/zero`` must not fill memory)."""
PROMPT_LIMIT: Final = 1024 * 1024
"""The most characters of a prompt read from standard input (``generate -``)."""

_OPTION_FOR_PARAM: Final = {
    "prompt": "PROMPT",
    "image": "IMAGE",
    "model": "--model",
    "num_inference_steps": "--steps",
    "guidance_scale": "--guidance",
    "seed": "--seed",
    "response_format": "--format",
    "control_images": "--control-image",
    "controlnet_weights": "--controlnet-weight",
    "base_url": "--base-url",
    "team_id": "--team",
    "wait_for_endpoint": "--wait-for-endpoint",
    "wake": "--wake",
}
"""The option to name when the facade rejects one of its parameters."""

_ENVIRONMENT_HELP: Final = f"""\
environment:
  {_config.TOKEN_ENV}      your Friendli Personal API Key (flp_...), unless --token-file
  {_config.BASE_URL_ENV}   default for --base-url ({_config.DEFAULT_BASE_URL})
  {_config.TEAM_ENV}       default for --team
  {CONTAINER_TOKEN_ENV} token sent with --container, if a proxy asks for one

exit status: 0 all images saved, 1 API/network/file error (any failed request),
2 usage error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)
"""


# -- argument types ----------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in [0, 65535], got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _image_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
        return int(width), int(height)
    raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 256x256, got {text!r}")


def _stem(text: str) -> str:
    try:
        return check_stem(text)
    except InvalidRequestError:
        raise argparse.ArgumentTypeError(
            f"must be a file name without a directory, got {text!r}"
        ) from None


def api_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the API address (``None``: it can): http(s)://host[:port][/path]."""
    if any(ord(character) < 0x21 or ord(character) > 0x7E for character in url):
        return "must be ASCII without spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as error:
        return f"is not a URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL with a host"
    if "@" in parts.netloc:
        return "must not hold a user name or password (the token is sent as a bearer token)"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "must not have a ?query or #fragment"
    return None


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value (``None``: it can)."""
    if not value or value != value.strip():
        return "must not be empty or start or end with whitespace"
    if any(ord(character) < 0x20 or ord(character) > 0x7E for character in value):
        return "must be printable ASCII"
    return None


def _read_line(stream: TextIO, limit: int, what: str) -> str:
    """The first line of ``stream``, read with a bound: no newline within it is an error."""
    line = stream.readline(limit + 1)
    if len(line) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return line


def _read_token(path: str) -> str:
    """Read the token from a file (``-``: standard input): its first line, stripped."""
    try:
        if path == "-":
            content = _read_line(sys.stdin, TOKEN_FILE_LIMIT, "the first line")
        else:
            with open(path, encoding="utf-8") as file:
                content = _read_line(file, TOKEN_FILE_LIMIT, "the first line")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"cannot read {path!r}: {reason}") from None
    token = content.strip()
    if not token:
        raise ValueError(f"{path!r} holds no token")
    return token


def _read_prompt() -> str:
    """The prompt of ``generate -``: all of standard input, without its final line break."""
    if sys.stdin is None:
        raise ValueError("standard input is closed")
    try:
        text = sys.stdin.read(PROMPT_LIMIT + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read standard input: {exc}") from None
    if len(text) > PROMPT_LIMIT:
        raise ValueError(f"the prompt on standard input is longer than {PROMPT_LIMIT} characters")
    return text.removesuffix("\n").removesuffix("\r")


# -- the parser --------------------------------------------------------------------------


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,  # given before or after the command, never reset by it
        help="log retries and details (DEBUG), and show tracebacks of errors",
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description=(
            "Generate and edit images with Friendli Dedicated Endpoints or a Friendli Container."
        ),
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    from ._cli_info import add_info_parser  # info, --from, --embed-params: _cli_info
    from ._cli_run import add_run_parser  # the run command lives in its own module

    return parser, {
        "generate": _add_generate(commands, common),
        "edit": _add_edit(commands, common),
        "endpoint": add_endpoint_command(commands, common, _add_api_connection_options),
        "mock-server": _add_mock_server(commands),
        "run": add_run_parser(commands, common),
        "info": add_info_parser(commands, common),
    }


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
    _add_output_options(generate.add_argument_group("output"), skip_existing=True)
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
    _add_output_options(edit.add_argument_group("output"), skip_existing=False)
    add_wait_options(edit.add_argument_group("endpoint"))
    _add_connection_options(edit.add_argument_group("connection"))
    return edit


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="ENDPOINT",
        help="the endpoint ID (required); with --container: an adapter route (optional)",
    )


def _add_request_options(request: argparse._ArgumentGroup, *, control_images: bool) -> None:
    # Each dest is the parameter's name in the facade: requests are built from them.
    request.add_argument(
        "--steps",
        dest="num_inference_steps",
        type=int,
        metavar="N",
        help="inference steps, 1 to 50 (default: the model's)",
    )
    request.add_argument(
        "--guidance",
        dest="guidance_scale",
        type=float,
        metavar="X",
        help="guidance scale (default: the model's)",
    )
    request.add_argument(
        "--seed", type=int, metavar="S", help="seed; request i of a batch uses S+i"
    )
    request.add_argument(
        "--format",
        dest="response_format",
        choices=_config.RESPONSE_FORMATS,
        help=(
            "response format; url results are downloaded (default: the endpoint's, url; "
            "a container takes jpeg, its default, or raw)"
        ),
    )
    if not control_images:
        return
    request.add_argument(
        "--control-image",
        action="append",
        dest="control_images",
        metavar="PATH_OR_URL",
        help="a ControlNet image: file, http(s) URL or data: URI; repeat for several, in order",
    )
    request.add_argument(
        "--controlnet-weight",
        action="append",
        dest="controlnet_weights",
        type=float,
        metavar="W",
        help="weight of the control image at the same position; give one per --control-image",
    )


def _add_batch_options(batch: argparse._ArgumentGroup) -> None:
    batch.add_argument(
        "-n", type=_positive_int, default=1, metavar="N", help="number of images (default: 1)"
    )
    batch.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="C",
        help=f"requests in flight at once (default: {DEFAULT_CONCURRENCY})",
    )


def _add_output_options(output: argparse._ArgumentGroup, *, skip_existing: bool) -> None:
    from ._cli_info import add_embed_option, add_recipe_options

    add_embed_option(output)
    add_recipe_options(output, skip_existing=skip_existing)
    output.add_argument(
        "--out",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="directory to save into, created if needed (default: the current directory)",
    )
    output.add_argument(
        "--stem",
        type=_stem,
        default="image",
        metavar="NAME",
        help="file name before the extension; a batch adds -0, -1, ... (default: image)",
    )
    output.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing files (without it, nothing is generated if one exists)",
    )
    output.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (paths, seeds, formats, failures) instead of paths",
    )


def _add_api_connection_options(connection: argparse._ArgumentGroup) -> None:
    """The Friendli API's connection options (``run`` and ``endpoint`` take only these)."""
    connection.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"read the API token from PATH ('-': stdin) instead of {_config.TOKEN_ENV}",
    )
    connection.add_argument(
        "--team", metavar="ID", help=f"team to run as (default: {_config.TEAM_ENV})"
    )
    connection.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API address (default: {_config.BASE_URL_ENV}, else {_config.DEFAULT_BASE_URL})",
    )


def _add_connection_options(connection: argparse._ArgumentGroup) -> None:
    """The connection options of ``generate`` and ``edit``: the API's, or ``--container``."""
    _add_api_connection_options(connection)
    connection.add_argument(
        "--container",
        metavar="URL",
        help=(
            "send to the Friendli Container at URL (e.g. http://127.0.0.1:8000) instead: "
            f"no token needed ({CONTAINER_TOKEN_ENV} or --token-file if a proxy wants one), "
            "no --team"
        ),
    )


def _add_mock_server(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    mock = commands.add_parser(
        "mock-server",
        help="run a local mock of the API, for trying the client offline",
        description=(
            "Serve a mock of the image-generation API on 127.0.0.1 until Ctrl-C or SIGTERM. "
            "It prints shell 'export' lines with its address and token; images are "
            "deterministic patterns, not generated from the prompt."
        ),
    )
    mock.add_argument(
        "--port", type=_port, default=0, metavar="P", help="port (default: a free one)"
    )
    mock.add_argument(
        "--token",
        default=None,
        metavar="T",
        help="token the server accepts; a local test value, not a secret (default: test-token)",
    )
    mock.add_argument(
        "--latency",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="seconds each generation takes (default: 0)",
    )
    mock.add_argument(
        "--image-size",
        type=_image_size,
        default=(256, 256),
        metavar="WxH",
        help="size of the images (default: 256x256)",
    )
    add_mock_endpoint_options(mock)
    return mock


# -- generate ----------------------------------------------------------------------------


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

    def client(self) -> AsyncFriendliImages | AsyncFriendliContainerImages:
        if self.container:
            return AsyncFriendliContainerImages(base_url=self.base_url, token=self.token)
        return AsyncFriendliImages(token=self.token, base_url=self.base_url, team_id=self.team)

    def prepare(self, client: AsyncFriendliImages | AsyncFriendliContainerImages) -> _Call:
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
        return _seed_for(self.args.seed, index)


@attrs.frozen
class _Saved:
    index: int
    path: Path
    seed: int | None
    response_format: str
    mime_type: str


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
    terminated: bool = False
    endpoint_events: list[EndpointEvent] = attrs.Factory(list)


class _NoImageError(FriendliImagesError):
    """The API answered success but its ``data`` held no image."""


def redact(text: str, secret: str) -> str:
    """``text`` without ``secret``, also in its escaped forms (``repr``, bytes, JSON)."""
    if not secret:
        return text
    forms = {
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        repr(secret.encode("utf-8", "backslashreplace"))[2:-1],
        json.dumps(secret)[1:-1],
    }
    for form in sorted(forms, key=len, reverse=True):
        if form:
            text = text.replace(form, "[REDACTED]")
    return text


def _describe(error: BaseException, secret: str = "") -> str:
    """One line for stderr: the server's own message, or the exception's text."""
    if isinstance(error, APIStatusError):
        status = f"{error.status_code} {error.response.reason_phrase}".rstrip()
        text = f"{status}: {error.message}"
    elif isinstance(error, OutputExistsError):
        text = f"{error.path} already exists; use --overwrite to replace it"
    elif isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        text = f"{error.strerror}{where}"
    else:
        text = str(error) or type(error).__name__
    return redact(text, secret)


def _file_names(stem: str, count: int) -> list[str]:
    return [stem] if count == 1 else [f"{stem}-{index}" for index in range(count)]


def _cancel_on_sigterm(report: _Report) -> None:
    """Make SIGTERM cancel the run like Ctrl-C does, so no temporary file is left behind."""
    import asyncio

    task = asyncio.current_task()
    if task is None:  # pragma: no cover - always called from the main task
        return

    def terminate() -> None:
        report.terminated = True
        task.cancel()

    # Not available on Windows, nor outside the main thread: SIGTERM then kills as usual.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)


async def _run(job: _Job, report: _Report, *, verbose: bool) -> None:
    """Run every request of ``job`` on the library's batching engine; record each in ``report``.

    The engine keeps at most ``--concurrency`` requests in flight (fewer while the endpoint
    answers 429) and sends nothing more once the run stops. Each request's images are saved
    in its slot as it completes, streamed to disk: a ``url`` result is never held whole,
    its extension comes from its first bytes.
    """
    from ._engine import agenerate_each
    from ._recipe.embed import asave_with_recipe

    _cancel_on_sigterm(report)
    args = job.args
    pending = [index for index in range(job.count) if index not in job.skip]
    progress = progress_for(len(pending), sys.stderr, lines=verbose)
    try:
        async with job.client() as client:
            # An argument the API would reject: a usage error, now. The batch's requests
            # share the call's endpoint waiter: one wait, at most one wake request.
            call = job.prepare(client)

            async def save(index: int, request: int, result: ImageResult) -> list[Path]:
                if not result.images:
                    raise _NoImageError("the API reported success but sent no image")
                paths: list[Path] = []
                try:
                    for position, image in enumerate(result.images):
                        name = job.names[request]  # request: its index in the batch
                        if len(result.images) > 1:  # the API sent several images for one request
                            name = f"{name}-{position}"
                        target = image._named_target(args.out, name)  # + the sniffed extension
                        chunks = image._achunks()
                        overwrite = args.overwrite or request in job.replace
                        if args.embed_params:
                            path = await asave_with_recipe(
                                image, chunks, target, overwrite=overwrite
                            )
                        else:
                            path = await asave_chunks(chunks, target, overwrite=overwrite)
                        paths.append(path)
                except BaseException:
                    for path in paths:
                        path.unlink(missing_ok=True)
                    raise
                return paths

            outcomes = agenerate_each(
                client,
                pending,
                lambda index: client._batch_call(call, args.seed, index),
                concurrency=args.concurrency,
                finish=save,
            )
            try:
                async with contextlib.aclosing(outcomes):
                    async for outcome in outcomes:
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
        report.saved.append(_Saved(index, path, image.seed, image.response_format, image.mime_type))
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


def _usage_message(error: InvalidRequestError) -> str:
    option = _OPTION_FOR_PARAM.get(error.param.partition("[")[0])
    return f"argument {option}: {error}" if option else str(error)


def _resolve_container(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[str | None, str, None]:
    """``--container``: its URL, and a token only from --token-file or its own variable."""
    for option, value in (
        ("--team", args.team),
        ("--base-url", args.base_url),
        # A container is not a Dedicated Endpoint: it has no status, wake or sleep API.
        ("--wait-for-endpoint", getattr(args, "wait_for_endpoint", None)),
        ("--wake", getattr(args, "wake", None) or None),
        ("--sleep-after", getattr(args, "sleep_after", None) or None),
    ):
        if value is not None:
            parser.error(f"argument {option}: not allowed with --container")
    problem = api_url_problem(args.container)
    if problem:
        parser.error(f"argument --container: the URL {problem}, got {args.container!r}")
    if args.token_file is not None:
        try:
            token: str | None = _read_token(args.token_file)
        except ValueError as error:
            parser.error(f"argument --token-file: {error}")
    else:  # never FRIENDLI_TOKEN: a Friendli API key has no business on a self-hosted host
        token = (os.environ.get(CONTAINER_TOKEN_ENV) or "").strip() or None
    if token is not None and header_value_problem(token):
        where = "--token-file" if args.token_file is not None else CONTAINER_TOKEN_ENV
        parser.error(f"the token from {where} {header_value_problem(token)}")
    return token, args.container, None


def _resolve_connection(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[str | None, str | None, str | None]:
    """The token, base URL and team from options and environment, checked: usage errors."""
    if args.container is not None:
        return _resolve_container(args, parser)
    if args.model is None:
        parser.error("the following arguments are required: --model")
    return _resolve_api_connection(args, parser)


def _resolve_api_connection(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[str, str | None, str | None]:
    """The API's token (required), base URL and team, checked: usage errors."""
    if args.token_file is not None:
        try:
            token: str | None = _read_token(args.token_file)
        except ValueError as error:
            parser.error(f"argument --token-file: {error}")
    else:  # stripped like --token-file: a secret file or a Windows .env ends in a newline
        token = (os.environ.get(_config.TOKEN_ENV) or "").strip() or None
    if token is None:
        parser.error(
            f"no API token: set {_config.TOKEN_ENV} to your Friendli Personal API Key "
            "(flp_...), or use --token-file PATH"
        )
    where = "--token-file" if args.token_file is not None else _config.TOKEN_ENV
    problem = header_value_problem(token)
    if problem:  # never echo the token itself
        parser.error(f"the API token from {where} {problem}")
    base_url = _config.env_or(args.base_url, _config.BASE_URL_ENV)
    if base_url is not None:
        problem = api_url_problem(base_url)
        if problem:
            option = "argument --base-url" if args.base_url is not None else _config.BASE_URL_ENV
            parser.error(f"{option}: base_url {problem}, got {base_url!r}")
    team = _config.env_or(args.team, _config.TEAM_ENV)
    if team is not None:
        problem = header_value_problem(team)
        if problem:
            option = "argument --team" if args.team is not None else _config.TEAM_ENV
            parser.error(f"{option}: the team ID {problem}, got {team!r}")
    return token, base_url, team


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
    import asyncio  # here: --version and mock-server do without it

    job = _Job(args, token, base_url, team, names, skip, replace)
    report = _Report(secret=token or "")
    status = EXIT_OK
    usage_error = False
    try:
        asyncio.run(_run(job, report, verbose=verbose))
    except InvalidRequestError as error:
        usage_error = True  # refused before sending: nothing to put to sleep
        if verbose:
            traceback.print_exception(error, file=sys.stderr)
        parser.error(_usage_message(error))
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    except asyncio.CancelledError:
        if not report.terminated:
            raise
        status = EXIT_TERMINATED
    finally:
        _print_endpoint_events(report.endpoint_events)
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
            f"{len(report.saved)} image(s) saved",
            file=sys.stderr,
        )
        return status
    _print_failures(report, job.count, verbose=verbose)
    return EXIT_FAILURE if report.failed else EXIT_OK


def _check_prompt_argument(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """PROMPT is optional only with ``--from``; ``edit``'s last IMAGE is its PROMPT."""
    if args.from_file is not None:
        from ._cli_info import apply_recipe

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
    from ._cli_info import skipped_indices

    complete, truncated = skipped_indices(args.out, names)
    for index in sorted(truncated):
        print(f"{truncated[index]} is incomplete: generating it again", file=sys.stderr)
    if complete:
        print(f"kept {len(complete)} complete image(s) already in {args.out}", file=sys.stderr)
    return frozenset(complete), frozenset(truncated)


def _print_endpoint_events(events: list[EndpointEvent]) -> None:
    """Say on stderr what the run did to the endpoint: each wake and wait costs money."""
    for event in events:
        if event.kind == "wake":
            note = "one wake request sent"
        else:
            note = f"waited {event.seconds:.1f} s until {event.status.status}"
        print(f"endpoint {event.endpoint_id}: {note}", file=sys.stderr)


def _endpoint_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    token, base_url, team = _resolve_api_connection(args, parser)
    try:
        return endpoint_command(
            args,
            token=token,
            base_url=base_url,
            team=team,
            describe=lambda error: _describe(error, token),
        )
    except InvalidRequestError as error:
        parser.error(str(error))


# -- mock-server -------------------------------------------------------------------------


def _announce(server: FriendliTestServer) -> None:
    print(f"export {_config.BASE_URL_ENV}={shlex.quote(server.base_url)}")
    print(f"export {_config.TOKEN_ENV}={shlex.quote(server.token)}")
    # The same server answers the container's routes too (without a token).
    print(f"export {CONTAINER_BASE_URL_ENV}={shlex.quote(server.base_url)}", flush=True)
    print(
        f"Friendli mock server on {server.base_url} (images from {server.image_base_url}); "
        "any --model works. Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )


def _log_new_requests(server: FriendliTestServer, seen: int) -> int:
    requests = server.requests
    for request in requests[seen:]:
        size = f" ({request.body_length} bytes)" if request.body_length else ""
        print(f"{request.method} {request.path}{size}", file=sys.stderr, flush=True)
    return len(requests)


def _mock_server_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    try:  # only this command needs it, and its extra
        from .testing import DEFAULT_TOKEN, FriendliTestServer
    except ImportError as error:  # the message names the extra to install
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE

    server = FriendliTestServer(
        token=args.token or DEFAULT_TOKEN,
        port=args.port,
        latency=args.latency,
        image_size=args.image_size,
    )
    sleeping = start_mock_endpoints(server, args)
    try:
        server.start()
    except OSError as error:
        print(f"error: cannot listen on port {args.port}: {_describe(error)}", file=sys.stderr)
        return EXIT_FAILURE
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    seen = 0
    try:
        _announce(server)
        for endpoint_id in sleeping:
            print(
                f"Endpoint {endpoint_id} is asleep: generation answers 503 until it is woken.",
                file=sys.stderr,
                flush=True,
            )
        while not stop.wait(0.2):
            seen = _log_new_requests(server, seen)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        _log_new_requests(server, seen)
        server.stop()
    for bug in server.errors:  # the mock's own bugs, not the client's
        traceback.print_exception(bug, file=sys.stderr)
    print("mock server stopped", file=sys.stderr)
    return EXIT_OK


# -- entry point -------------------------------------------------------------------------


def _configure_logging(verbose: bool) -> None:
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package_logger = logging.getLogger("friendli_images")
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.DEBUG)


def _run_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    from ._cli_run import run_command  # the run command lives in its own module

    return run_command(args, parser, verbose=verbose)


def _info_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    from ._cli_info import info_command  # the info command lives in its own module

    return info_command(args, parser, verbose=verbose)


def _ensure_standard_streams() -> None:
    """Closed standard streams (``>&-``, ``2>&-``) become ``/dev/null``.

    Else ``print`` to a ``None`` stream fails, or, worse, writes errors to stdout, and the
    next file opened takes descriptor 1 or 2. Paths that are not UTF-8 print as the bytes
    they are.
    """
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the process
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the console script exits with it)."""
    _ensure_standard_streams()
    parser, subparsers = _build_parser()
    commands: dict[str, Callable[..., int]] = {
        "generate": _generate_command,
        "edit": _generate_command,  # the same flow; _Job picks the operation
        "endpoint": _endpoint_command,
        "mock-server": _mock_server_command,
        "run": _run_command,
        "info": _info_command,
    }
    verbose = False
    try:
        args = parser.parse_args(argv)
        verbose = bool(getattr(args, "verbose", False))
        _configure_logging(verbose)
        return commands[args.command](args, subparsers[args.command], verbose=verbose)
    except KeyboardInterrupt:  # Ctrl-C outside a run (e.g. while --token-file - waits)
        return EXIT_INTERRUPTED
    except (FriendliImagesError, OSError) as error:
        if verbose:
            traceback.print_exception(error, file=sys.stderr)
        print(
            f"error: {_describe(error, _config.env_or(None, _config.TOKEN_ENV) or '')}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
