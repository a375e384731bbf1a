"""The options and checks the commands share: exit statuses, argument types, the API
and container connection options, reading the token and the prompt, and the one-line
description of an error (redacted)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO
from urllib.parse import urlsplit

from .. import _config
from .._base_client import DEFAULT_CONCURRENCY
from .._container import (
    CONTAINER_BASE_URL_ENV,
    CONTAINER_TOKEN_ENV,
)
from .._endpoints._status import EndpointEvent
from .._exceptions import (
    InvalidRequestError,
    OutputExistsError,
)
from .._files import check_stem
from .._redaction import redact, secret_forms

if TYPE_CHECKING:
    pass


__all__ = [
    "API_ENVIRONMENT",
    "CONTAINER_ENVIRONMENT",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "PROG",
    "PROMPT_LIMIT",
    "RUN_EXIT_STATUS",
    "TOKEN_FILE_LIMIT",
    "_ENVIRONMENT_HELP",
    "_OPTION_FOR_PARAM",
    "Parser",
    "_add_api_connection_options",
    "_add_batch_options",
    "_add_connection_options",
    "_add_model_option",
    "_add_output_options",
    "_add_request_options",
    "_describe",
    "_image_size",
    "_port",
    "_positive_int",
    "_print_endpoint_events",
    "_read_line",
    "_read_prompt",
    "_read_token",
    "_resolve_api_connection",
    "_resolve_connection",
    "_resolve_container",
    "_seconds",
    "_stem",
    "_usage_message",
    "add_quiet_option",
    "api_url_problem",
    "epilog",
    "header_value_problem",
    "note",
    "plural",
    "show_required",
]


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

API_ENVIRONMENT: Final = (
    (_config.TOKEN_ENV, "your Friendli Personal API Key (flp_...), unless --token-file"),
    (_config.BASE_URL_ENV, f"default for --base-url ({_config.DEFAULT_BASE_URL})"),
    (_config.TEAM_ENV, "default for --team"),
)
"""The variables every command that talks to the Friendli API reads."""
CONTAINER_ENVIRONMENT: Final = (
    (CONTAINER_BASE_URL_ENV, "the URL of --container given without one (mock-server sets it)"),
    (CONTAINER_TOKEN_ENV, "token sent with --container, if a proxy asks for one"),
)
RUN_EXIT_STATUS: Final = (
    ("0", "every job of the file is done (now or before)"),
    ("1", "a job failed or a line is invalid (see DIR/failures.jsonl; the run goes on)"),
    ("2", "usage error"),
    ("130", "interrupted (Ctrl-C); rerun the command to resume"),
    ("143", "terminated (SIGTERM); rerun the command to resume"),
)


def epilog(
    *,
    exit_status: Sequence[tuple[str, str]],
    environment: Sequence[tuple[str, str]] = (),
    notes: str = "",
) -> str:
    """The end of a command's ``--help``, the same sections in every command: ``notes``,
    then ``environment:`` (the variables it reads) and ``exit status:``."""
    parts = [notes.rstrip("\n") + "\n"] if notes else []
    if environment:
        width = max(len(name) for name, _ in environment)
        lines = [f"  {name:<{width}}  {text}" for name, text in environment]
        parts.append("environment:\n" + "\n".join(lines) + "\n")
    width = max(len(code) for code, _ in exit_status)
    lines = [f"  {code:>{width}}  {text}" for code, text in exit_status]
    parts.append("exit status:\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)


_ENVIRONMENT_HELP: Final = epilog(
    environment=(*API_ENVIRONMENT, *CONTAINER_ENVIRONMENT),
    exit_status=(
        ("0", "all images saved"),
        ("1", "API, network or file error (in a batch: any failed request)"),
        ("2", "usage error (bad option, an argument the API would reject, no token)"),
        ("130", "interrupted (Ctrl-C)"),
        ("143", "terminated (SIGTERM)"),
    ),
)
"""The epilog of ``generate`` and ``edit``."""


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with a short usage error and options shown required.

    A usage error prints the one line that says what is wrong and where help is
    (``see 'friendli-images generate --help'``), not the usage block above it. An action
    marked with ``shown_required`` (``--model``, required unless ``--container``) is
    written without brackets in the usage line, though argparse does not enforce it.
    """

    def error(self, message: str) -> NoReturn:
        if message.startswith("the following arguments are required"):
            positionals = self._positional_usage()
            if " " in positionals:  # which argument is which (edit IMAGE [IMAGE ...] PROMPT)
                message += f" (the arguments: {positionals})"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\nsee '{self.prog} --help'\n")

    def _positional_usage(self) -> str:
        formatter = self._get_formatter()
        positionals = [
            action
            for action in self._actions
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction)
        ]
        return " ".join(formatter._format_args(action, action.dest) for action in positionals)

    @contextlib.contextmanager
    def _showing_required(self) -> Iterator[None]:
        marked = [
            action
            for action in self._actions
            if getattr(action, "shown_required", False) and not action.required
        ]
        for action in marked:
            action.required = True
        try:
            yield
        finally:
            for action in marked:
                action.required = False

    def format_usage(self) -> str:
        with self._showing_required():
            return super().format_usage()

    def format_help(self) -> str:
        with self._showing_required():
            return super().format_help()


def add_quiet_option(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """``-q/--quiet``: no progress or notes on stderr, only errors and the final output."""
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on stderr: only errors, and the paths or JSON on stdout",
    )


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 valid job"``, ``"2 valid jobs"``: ``count`` and the word in the right number."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def note(args: argparse.Namespace, text: str) -> None:
    """Say ``text`` on stderr, unless ``--quiet`` (a note, not an error)."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr, flush=True)


def show_required(action: argparse.Action) -> Any:
    """Mark ``action`` to be shown as required in the usage line (see ``Parser``)."""
    action.shown_required = True  # type: ignore[attr-defined]
    return action


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


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    show_required(
        parser.add_argument(
            "--model",
            metavar="ENDPOINT",
            help="the endpoint ID (required); with --container: an adapter route (optional)",
        )
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


def _add_output_options(output: argparse._ArgumentGroup) -> None:
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
        nargs="?",
        const="",
        metavar="URL",
        help=(
            "send to the Friendli Container at URL (e.g. http://127.0.0.1:8000) instead; "
            f"without URL: {CONTAINER_BASE_URL_ENV}. No token needed "
            f"({CONTAINER_TOKEN_ENV} or --token-file if a proxy wants one), no --team"
        ),
    )


def _describe(error: BaseException, secret: str = "") -> str:
    """One line for stderr: the exception's own text (the library's and the command's
    errors read the same; ``--json`` adds the server's request id beside it)."""
    if isinstance(error, OutputExistsError):
        text = f"{error.path} already exists; use --overwrite to replace it"
    elif isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        text = f"{error.strerror}{where}"
    else:
        text = str(error) or type(error).__name__
    return redact(text, secret_forms(secret))


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
    if not args.container:  # --container without a URL: the variable mock-server exports
        url = (os.environ.get(CONTAINER_BASE_URL_ENV) or "").strip()
        if not url:
            parser.error(
                f"argument --container: no URL given and {CONTAINER_BASE_URL_ENV} is not set"
            )
        args.container = url
        where = CONTAINER_BASE_URL_ENV
    else:
        where = "argument --container"
    problem = api_url_problem(args.container)
    if problem:
        parser.error(f"{where}: the URL {problem}, got {args.container!r}")
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


def _print_endpoint_events(events: list[EndpointEvent], *, quiet: bool = False) -> None:
    """Say on stderr what the run did to the endpoint: each wake and wait costs money."""
    if quiet:
        return
    for event in events:
        if event.kind == "wake":
            note = "one wake request sent"
        else:
            note = f"waited {event.seconds:.1f} s until {event.status.status}"
        print(f"endpoint {event.endpoint_id}: {note}", file=sys.stderr)
