"""A fast loopback generation server for the bulk benchmarks, in a process of its own.

    python -m bench._bulk_server --latency 0.05 [--cap 16] [--size 64]

prints ``{"url": "http://127.0.0.1:PORT"}`` once it listens and serves until its standard
input closes. ``FriendliTestServer`` validates every request against the spec on a thread
per connection, which caps it well below what a 64-way batch asks of it; this server only
does what the bulk figures need, on one asyncio loop:

* ``POST /dedicated/v1/images/generations``: after ``--latency`` seconds, a 200 with one
  base64 PNG (``--size`` pixels square) and the request's seed. With ``--cap``, a request
  arriving while ``cap`` others are being answered gets an immediate 429 instead.
  A request asking ``"response_format": "url"`` gets ``{"url": ".../images/SEED.png"}``
  instead, and ``GET /images/SEED.png`` answers the PNG bytes (downloads count as
  requests of their own in ``downloads``).
* ``GET /stats``: TCP connections accepted, requests, 429s, and the 429s and requests
  after ``?after=S`` seconds from the first request since the last reset.
* ``POST /reset``: forget the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from friendli_images.testing import render_png

GENERATION_PATH = "/dedicated/v1/images/generations"


class _State:
    def __init__(self, latency: float, cap: int | None, image: str, base_url: str) -> None:
        self.latency = latency
        self.cap = cap
        self.image = image
        self.png = _response_png(base64.b64decode(image))
        self.base_url = base_url
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        self.connections = 0
        self.first: float | None = None
        self.accepted: list[float] = []
        self.rejected: list[float] = []
        self.downloads = 0

    def stats(self, after: float) -> dict[str, Any]:
        start = self.first or 0.0
        return {
            "connections": self.connections,
            "requests": len(self.accepted) + len(self.rejected),
            "rejected": len(self.rejected),
            "downloads": self.downloads,
            "requests_after": sum(1 for t in self.accepted + self.rejected if t - start >= after),
            "rejected_after": sum(1 for t in self.rejected if t - start >= after),
        }


def _response(status: int, body: bytes, reason: str = "OK") -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _response_png(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _answer(state: _State, method: str, target: str, body: bytes) -> bytes:
    parts = urlsplit(target)
    if method == "GET" and parts.path == "/stats":
        after = float(parse_qs(parts.query).get("after", ["0"])[0])
        return _response(200, json.dumps(state.stats(after)).encode())
    if method == "POST" and parts.path == "/reset":
        state.reset()
        return _response(200, b"{}")
    if method == "GET" and parts.path.startswith("/images/"):
        state.downloads += 1
        return state.png
    if method != "POST" or parts.path != GENERATION_PATH:
        return _response(404, b'{"detail": "not found"}', "Not Found")
    now = time.monotonic()
    if state.first is None:
        state.first = now
    if state.cap is not None and state.in_flight >= state.cap:
        state.rejected.append(now)
        return _response(429, b'{"detail": "too many requests"}', "Too Many Requests")
    state.accepted.append(now)
    state.in_flight += 1
    try:
        await asyncio.sleep(state.latency)
    finally:
        state.in_flight -= 1
    asked = json.loads(body)
    seed = int(asked.get("seed", 1))
    if asked.get("response_format") == "url":
        item = (
            f'{{"seed": {seed}, "response_format": "url", '
            f'"url": "{state.base_url}/images/{seed}.png"}}'
        )
    else:
        item = f'{{"seed": {seed}, "response_format": "png", "b64_json": "{state.image}"}}'
    return _response(200, f'{{"data": [{item}]}}'.encode())


async def _serve_connection(
    state: _State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    state.connections += 1
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            writer.write(await _answer(state, method, target, body))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def _main(latency: float, cap: int | None, size: int) -> None:
    image = base64.b64encode(render_png(1, size, size)).decode()
    holder: list[_State] = []
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(holder[0], r, w), "127.0.0.1", 0, backlog=4096
    )
    port = server.sockets[0].getsockname()[1]
    holder.append(_State(latency, cap, image, f"http://127.0.0.1:{port}"))
    print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--cap", type=int, default=None)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.latency, args.cap, args.size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
