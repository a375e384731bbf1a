"""A loopback TCP server that answers with whatever bytes a test writes, broken HTTP included.

Each connection is read up to the end of the request (head, and a ``Content-Length``
body), recorded, and handed to the test's ``handler(connection, request)``, which
writes the answer. ``stopping`` is set when the server closes, so handlers that trickle
bytes forever end with it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

Handler = Callable[["RawConnection"], None]


class RawConnection:
    """One accepted connection and the request read from it."""

    def __init__(self, sock: socket.socket, head: bytes, body: bytes, server: RawServer) -> None:
        self.sock = sock
        self.head = head
        self.body = body
        self.server = server

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def headers(self) -> dict[str, str]:
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        pairs = (line.split(":", 1) for line in lines if ":" in line)
        return {name.strip().lower(): value.strip() for name, value in pairs}

    def send(self, data: bytes) -> bool:
        """Write ``data``; ``False`` once the client is gone or the server stops."""
        if self.server.stopping.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def trickle(self, data: bytes, every: float) -> None:
        """Write ``data`` one byte at a time, ``every`` seconds apart, until told to stop."""
        for index in range(len(data)):
            if not self.send(data[index : index + 1]) or self.server.stopping.wait(every):
                return


class RawServer:
    """``with RawServer(handler) as server:`` then request ``server.url``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self.stopping = threading.Event()
        self.requests: list[RawConnection] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self._listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            data = b""
            try:
                # Inside the try: __exit__ may close the socket before this thread runs.
                sock.settimeout(5)
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, body = data.split(b"\r\n\r\n", 1)
                connection = RawConnection(sock, head, body, self)
                length = int(connection.headers.get("content-length", "0"))
                while len(body) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                connection.body = body
            except OSError:
                return
            self.requests.append(connection)
            self._handler(connection)


def response(
    status: str = "200 OK", body: bytes = b"", headers: list[tuple[str, str]] | None = None
) -> bytes:
    """A complete HTTP/1.1 response with ``Content-Length`` unless headers say otherwise."""
    all_headers = list(headers or [])
    names = {name.lower() for name, _ in all_headers}
    if "content-length" not in names and "transfer-encoding" not in names:
        all_headers.append(("Content-Length", str(len(body))))
    all_headers.append(("Connection", "close"))
    head = "".join(f"{name}: {value}\r\n" for name, value in all_headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode("latin-1") + body


def answer(data: bytes) -> Handler:
    """A handler that writes ``data`` and closes."""

    def handle(connection: RawConnection) -> None:
        connection.send(data)

    return handle
