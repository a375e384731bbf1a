"""The command line's endpoint parts: ``friendli-images endpoint status|wake|sleep``, the
waiting options of the commands that generate, ``--sleep-after``, and the mock server's
sleeping endpoints.

    friendli-images endpoint status ID [--json]
    friendli-images endpoint wake ID [--wait [SECONDS]] [--json]
    friendli-images endpoint sleep ID [--json]

Exit status: 0 done; 1 an API or network error, or the endpoint failed, stopped or was
not ready in time; 2 a usage error; 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TextIO

from .._endpoints._errors import EndpointError
from .._endpoints._rules import DEFAULT_WAIT_TIMEOUT
from .._endpoints._status import EndpointStatus
from .._exceptions import FriendliImagesError
from ._options import API_ENVIRONMENT, epilog

if TYPE_CHECKING:
    from .._client import FriendliImages
    from ..testing import FriendliTestServer

__all__ = [
    "add_endpoint_command",
    "add_mock_endpoint_options",
    "add_wait_options",
    "endpoint_command",
    "sleep_after",
    "start_mock_endpoints",
]

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_INTERRUPTED: Final = 130

_SLEEP_AFTER_TIMEOUT: Final = 30.0


def _wait_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _mock_endpoint_id(text: str) -> str:
    from ..testing._endpoints import is_valid_endpoint_id

    if not is_valid_endpoint_id(text):
        raise argparse.ArgumentTypeError(
            f"an endpoint ID is 1 to 64 letters, digits, '_' or '-', got {text!r}"
        )
    return text


_EPILOG: Final = epilog(
    environment=API_ENVIRONMENT,
    exit_status=(
        ("0", "done"),
        ("1", "API or network error, or the endpoint failed, stopped or was not ready in time"),
        ("2", "usage error"),
        ("130", "interrupted (Ctrl-C)"),
    ),
)


def add_endpoint_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    add_connection_options: Callable[[argparse._ArgumentGroup], None],
) -> argparse.ArgumentParser:
    """Add ``endpoint`` with its ``status``, ``wake`` and ``sleep`` subcommands."""
    endpoint = commands.add_parser(
        "endpoint",
        parents=[common],
        help="show, wake or put to sleep a Dedicated Endpoint",
        description=(
            "Read the status of a Dedicated Endpoint, wake it (waking is billed from then "
            "on) or put it to sleep now (freeing its GPUs)."
        ),
    )
    actions = endpoint.add_subparsers(dest="endpoint_action", metavar="ACTION", required=True)
    helps = {
        "status": "print the endpoint's status and phase",
        "wake": "send one wake request; with --wait, wait until it is RUNNING",
        "sleep": "send one sleep request",
    }
    for name, text in helps.items():
        action = actions.add_parser(
            name,
            parents=[common],
            help=text,
            description=text,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        action.add_argument(
            "endpoint_id", metavar="ID", help="the endpoint ID (ID:ADAPTER_ROUTE is accepted)"
        )
        if name == "wake":
            action.add_argument(
                "--wait",
                nargs="?",
                type=_wait_seconds,
                const=DEFAULT_WAIT_TIMEOUT,
                default=None,
                metavar="SECONDS",
                help=(
                    "then wait until the endpoint is RUNNING, at most SECONDS "
                    f"(default {DEFAULT_WAIT_TIMEOUT:g}); a progress line shows the status "
                    "and phase on a terminal"
                ),
            )
        action.add_argument(
            "--json", action="store_true", help="print the status as one JSON document"
        )
        add_connection_options(action.add_argument_group("connection"))
    return endpoint


def add_wait_options(group: argparse._ArgumentGroup) -> None:
    """The options of the commands that generate: waiting, waking, sleeping after."""
    group.add_argument(
        "--wait-for-endpoint",
        type=_wait_seconds,
        metavar="SECONDS",
        help=(
            "if the endpoint answers that it is not ready (asleep or waking), poll its "
            "status for up to SECONDS and send the requests again once it is RUNNING"
        ),
    )
    group.add_argument(
        "--wake",
        action="store_true",
        help=(
            "with --wait-for-endpoint: wake a SLEEPING endpoint (one wake request; "
            "billing starts). Without it this command never sends a wake request, though "
            "Friendli may wake an endpoint on any request by itself"
        ),
    )
    group.add_argument(
        "--sleep-after",
        action="store_true",
        help=(
            "when the batch is over, whatever its outcome (also after a failure or "
            "Ctrl-C), send one sleep request to each endpoint it used to stop its billing"
        ),
    )


class _StatusLine:
    """Progress of a wait on stderr: one rewritten line on a terminal, else one line per
    change of status or phase."""

    def __init__(self, stream: TextIO, endpoint_id: str) -> None:
        self._stream = stream
        self._endpoint_id = endpoint_id
        self._terminal = stream.isatty()
        self._started = time.monotonic()
        self._last = ""
        self._drawn = False

    def __call__(self, status: EndpointStatus) -> None:
        text = f"{self._endpoint_id}: {status.describe()}"
        if self._terminal:
            elapsed = time.monotonic() - self._started
            self._stream.write(f"\r\x1b[K{text}, {elapsed:.0f} s")
            self._drawn = True
        elif text != self._last:
            self._stream.write(text + "\n")
        self._last = text
        self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def _print_status(status: EndpointStatus, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(status.to_dict(), indent=2), flush=True)
        return
    line = f"{status.endpoint_id}: {status.describe()}"
    if status.error_code:
        line += f" error_code={status.error_code}"
    print(line, flush=True)


def endpoint_command(
    args: argparse.Namespace,
    *,
    token: str,
    base_url: str | None,
    team: str | None,
    describe: Callable[[BaseException], str],
) -> int:
    """Run ``endpoint status|wake|sleep``; return the exit status."""
    from .._client import FriendliImages

    with FriendliImages(token=token, base_url=base_url, team_id=team) as client:
        line: _StatusLine | None = None
        try:
            if args.endpoint_action == "status":
                status = client.endpoint_status(args.endpoint_id)
            elif args.endpoint_action == "sleep":
                status = client.sleep_endpoint(args.endpoint_id)
            elif args.wait is None:
                status = client.wake_endpoint(args.endpoint_id)
            else:
                line = _StatusLine(sys.stderr, args.endpoint_id)
                status = client.wait_until_ready(
                    args.endpoint_id, timeout=args.wait, wake=True, on_status=line
                )
        except KeyboardInterrupt:
            if line is not None:
                line.close()
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except EndpointError as error:
            if line is not None:
                line.close()
            if args.json and error.status is not None:
                _print_status(error.status, as_json=True)
            print(f"error: {describe(error)}", file=sys.stderr)
            return EXIT_FAILURE
        if line is not None:
            line.close()
    _print_status(status, as_json=args.json)
    return EXIT_OK


def sleep_after(
    model: str,
    *,
    token: str,
    base_url: str | None,
    team: str | None,
    describe: Callable[[BaseException], str],
) -> bool:
    """Send the one sleep request of ``--sleep-after`` and say so on stderr; ``True`` if
    the endpoint accepted it. Failures are reported, never raised: the batch's own
    outcome decides the exit status."""
    from .._client import FriendliImages
    from .._endpoints._rules import endpoint_id_for_model

    try:
        endpoint_id = endpoint_id_for_model(model)
        client: FriendliImages
        with FriendliImages(
            token=token, base_url=base_url, team_id=team, timeout=_SLEEP_AFTER_TIMEOUT
        ) as client:
            status = client.sleep_endpoint(endpoint_id)
    except FriendliImagesError as error:
        print(f"error: --sleep-after: the sleep request failed: {describe(error)}", file=sys.stderr)
        return False
    print(
        f"--sleep-after: sleep request sent to endpoint {endpoint_id}; now {status.describe()}",
        file=sys.stderr,
        flush=True,
    )
    return True


def add_mock_endpoint_options(mock: argparse.ArgumentParser) -> None:
    """``mock-server --sleeping-endpoint ID [--wake-seconds S]``."""
    mock.add_argument(
        "--sleeping-endpoint",
        action="append",
        type=_mock_endpoint_id,
        default=[],
        metavar="ID",
        help=(
            "simulate a Dedicated Endpoint ID that is asleep: generation answers 503 until "
            "it is woken (endpoint wake, or --wake) and has gone through its phases; repeat "
            "for several"
        ),
    )
    mock.add_argument(
        "--wake-seconds",
        type=_wait_seconds,
        default=3.0,
        metavar="S",
        help="how long a simulated endpoint takes to wake, all phases together (default: 3)",
    )


def start_mock_endpoints(server: FriendliTestServer, args: argparse.Namespace) -> list[str]:
    """Add the ``--sleeping-endpoint``\\s to ``server``; return their ids."""
    from ..testing import WAKE_PHASES

    server.any_endpoint = True  # every endpoint id is answered, as every model is
    for endpoint_id in args.sleeping_endpoint:
        server.add_endpoint(
            endpoint_id,
            polls_per_phase=None,
            seconds_per_phase=args.wake_seconds / len(WAKE_PHASES),
        )
    return list(args.sleeping_endpoint)
