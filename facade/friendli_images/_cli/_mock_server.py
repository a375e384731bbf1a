"""``friendli-images mock-server``: the test server of ``friendli_images.testing`` on a
local port, announced as the environment variables that point the clients at it."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING

from .. import _config, _waits
from .._container import (
    CONTAINER_BASE_URL_ENV,
)
from ._endpoint import (
    add_mock_endpoint_options,
    start_mock_endpoints,
)

if TYPE_CHECKING:
    from ..testing import FriendliTestServer

from ._options import (
    EXIT_FAILURE,
    EXIT_OK,
    _describe,
    _image_size,
    _port,
    _seconds,
    epilog,
)

__all__ = ["_add_mock_server", "_mock_server_command"]


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
        epilog=epilog(
            exit_status=(
                ("0", "stopped by Ctrl-C or SIGTERM"),
                ("1", "cannot listen on the port, or the testing extra is missing"),
                ("2", "usage error"),
            )
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        type=_latency,
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


MOCK_RECORDS = 1000
"""The requests a mock server keeps (bodies not kept): a long-running one stays small."""


def _latency(text: str) -> float:
    """``--latency``: seconds, as the test server accepts them (0 to an hour)."""
    value = _seconds(text)
    limit = _config.MAX_TEST_SERVER_LATENCY
    if value > limit:
        raise argparse.ArgumentTypeError(f"must be at most {limit:g} s, got {text}")
    return value


def _log_new_requests(server: FriendliTestServer, seen: int) -> int:
    """Log the requests that arrived since ``seen`` of them were; return the new count."""
    received = server.received
    requests = server.requests
    new = min(received - seen, len(requests))
    if received - seen > new:
        print(f"({received - seen - new} requests not shown)", file=sys.stderr, flush=True)
    for request in requests[len(requests) - new :]:
        size = f" ({request.body_length} bytes)" if request.body_length else ""
        print(f"{request.method} {request.path}{size}", file=sys.stderr, flush=True)
    return received


def _mock_server_command(
    args: argparse.Namespace, parser: argparse.ArgumentParser, *, verbose: bool
) -> int:
    try:  # only this command needs it, and its extra
        from ..testing import DEFAULT_TOKEN, FriendliTestServer
    except ImportError as error:  # the message names the extra to install
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE

    server = FriendliTestServer(
        token=args.token or DEFAULT_TOKEN,
        port=args.port,
        latency=args.latency,
        image_size=args.image_size,
        record_bodies=False,
        max_records=MOCK_RECORDS,
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
        while not _waits.wait_event(stop, 0.2):
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
