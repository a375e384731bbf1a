"""HTTP plumbing: listening sockets, request framing and the handler that answers.

:class:`Listener` accepts connections (one tracked thread each, so a stop can close them);
:class:`Handler` reads a request's body (``Content-Length`` or chunked), hands it to the
owning server for recording, and sends what the fault or the server decides.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import socketserver
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._faults import Delay, DropConnection, ErrorStatus, InvalidJson, TruncatedBody, WrongShape
from ._recording import Listener as ListenerKind
from ._recording import RecordedRequest
from ._wire import json_bytes, reason_phrase

if TYPE_CHECKING:
    from ._server import FriendliTestServer

__all__ = ["HOST", "BadRequest", "ClientGone", "Handler", "Listener", "Response", "Stopping"]

HOST: Final = "127.0.0.1"
_MAX_CHUNK_LINE: Final = 4096


@attrs.define
class Response:
    """What to send: status, body, headers, and whether to close the connection after."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = attrs.field(factory=list)
    close: bool = False

    @classmethod
    def json(cls, status: int, value: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
        return cls(status, json_bytes(value), [("Content-Type", "application/json"), *headers])


class BadRequest(Exception):
    """The request's framing is broken; answer ``status`` and close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ClientGone(Exception):
    """The client closed the connection before the request was complete."""


class Stopping(Exception):
    """The server is stopping; abandon the request and close the connection."""


class Listener(http.server.ThreadingHTTPServer):
    """One listening socket; every connection gets its own tracked thread."""

    request_queue_size = 128
    daemon_threads = True

    def __init__(self, owner: FriendliTestServer, kind: ListenerKind, port: int) -> None:
        self.owner = owner
        self.kind: ListenerKind = kind
        self._handler_threads: set[threading.Thread] = set()
        self._connections: set[socket.socket] = set()
        self._track_lock = threading.Lock()
        super().__init__((HOST, port), Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup we neither need nor want.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"friendli-test-server-{self.kind}",
            daemon=True,
        )
        with self._track_lock:
            self._handler_threads.add(thread)
            self._connections.add(request)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._track_lock:
                self._handler_threads.discard(threading.current_thread())
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep quiet; anything unexpected was already recorded by the handler."""

    def close_connections(self) -> None:
        """Shut every open connection down so blocked reads in handler threads return."""
        with self._track_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def join_handlers(self, deadline: float) -> None:
        with self._track_lock:
            threads = list(self._handler_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class Handler(http.server.BaseHTTPRequestHandler):
    """Reads a request, records it, applies a queued fault or the normal behaviour."""

    protocol_version = "HTTP/1.1"
    server_version = "friendli-images-testing"
    server: Listener
    connection_id: int
    _request_id: str = ""
    """The ``X-Request-Id`` of the request being answered ("": none yet)."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection_id = self.server.owner._next_connection_id()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: test output stays clean."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer protocol errors found by ``http.server`` with JSON instead of HTML."""
        response = Response.json(code, {"detail": message or reason_phrase(code)})
        response.close = True
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(response, head=self.command == "HEAD")

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) goes through routing too.

        So a known path answers 405 with ``Allow`` (the spec's methods for it), as servers
        that know their resources do, instead of ``http.server``'s 501 for every method
        it has no ``do_`` handler for.
        """
        if name.startswith("do_") and name[3:].isupper():
            return self._handle
        raise AttributeError(name)

    def _handle(self) -> None:
        owner = self.server.owner
        self._request_id = ""
        path, _, query = self.path.partition("?")
        try:
            try:
                body = self._read_body(owner.max_body_bytes)
            except BadRequest as exc:
                owner._receive(self, path, query, b"", consume_fault=False)
                response = Response.json(exc.status, {"detail": exc.detail})
                response.close = True
                self._send(response)
                return
            record = owner._receive(self, path, query, body)
            self._request_id = record.request_id
            self._respond(record, body)
        except (ClientGone, Stopping, OSError):
            self.close_connection = True
        except Exception as exc:  # a bug in this server: keep it for the test to see
            owner._record_error(exc)
            response = Response.json(500, {"detail": f"test server error: {exc!r}"})
            response.close = True
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(response)

    def _respond(self, record: RecordedRequest, body: bytes) -> None:
        owner = self.server.owner
        fault = record.fault
        if isinstance(fault, DropConnection):
            self.close_connection = True
            return
        if isinstance(fault, ErrorStatus):
            if fault.delay:
                owner._sleep(fault.delay)
            self._send(Response(fault.status, fault.response_body(), fault.response_headers()))
            return
        if isinstance(fault, InvalidJson):
            headers = [("Content-Type", "application/json")]
            self._send(Response(fault.status, fault.body, headers))
            return
        if isinstance(fault, WrongShape):
            self._send(Response.json(fault.status, fault.body))
            return
        if isinstance(fault, Delay):
            owner._sleep(fault.seconds)
        response = owner._normal_response(record, body)
        if isinstance(fault, TruncatedBody):
            keep = min(int(len(response.body) * fault.fraction), max(len(response.body) - 1, 0))
            declared = max(len(response.body), keep + 1)
            response.close = True
            self._send(response, declared_length=declared, send=keep)
            return
        self._send(response)

    def _send(
        self,
        response: Response,
        *,
        declared_length: int | None = None,
        send: int | None = None,
        head: bool | None = None,
    ) -> None:
        if head is None:
            head = self.command == "HEAD"
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        request_id = self._request_id
        if request_id and all(name.lower() != "x-request-id" for name, _ in response.headers):
            self.send_header("X-Request-Id", request_id)  # as API servers do, for support
        length = len(response.body) if declared_length is None else declared_length
        self.send_header("Content-Length", str(length))
        if response.close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            body = response.body if send is None else memoryview(response.body)[:send]
            self.wfile.write(body)
        if response.close:
            self.close_connection = True

    def _read_body(self, limit: int) -> bytes:
        encodings = self.headers.get_all("Transfer-Encoding") or []
        codings = [c.strip().lower() for value in encodings for c in value.split(",") if c.strip()]
        if codings:
            if codings != ["chunked"]:
                raise BadRequest(501, f"unsupported Transfer-Encoding {', '.join(codings)}")
            return self._read_chunked(limit)
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return b""
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise BadRequest(400, "invalid Content-Length header")
        length = int(next(iter(lengths)))
        if length > limit:
            raise BadRequest(413, f"request body of {length} bytes exceeds {limit} bytes")
        return self._read_exact(length)

    def _read_exact(self, length: int) -> bytes:
        data = self.rfile.read(length)  # BufferedReader reads large sizes straight into place
        if len(data) != length:
            raise ClientGone
        return data

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if not line:
                raise ClientGone
            size_field = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_field):
                raise BadRequest(400, "malformed chunk size line")
            size = int(size_field, 16)
            if size == 0:
                break
            total += size
            if total > limit:
                raise BadRequest(413, f"request body exceeds {limit} bytes")
            parts.append(self._read_exact(size))
            if self.rfile.readline(_MAX_CHUNK_LINE) not in (b"\r\n", b"\n"):
                raise BadRequest(400, "chunk data is not followed by CRLF")
        while True:  # trailer fields, up to the blank line
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            if not line:
                raise ClientGone
            if line in (b"\r\n", b"\n"):
                break
        return b"".join(parts)
