"""Run loopback ``FriendliTestServer``\\s for the benchmarks until stdin closes.

    python -m bench._serve --token T --server small:0:64x64 --server slow:0.2:64x64

prints one JSON line ``{"small": "http://127.0.0.1:PORT", ...}`` once every server listens,
then serves until its standard input reaches end of file (the runner closes it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from friendli_images.testing import FriendliTestServer


def _parse_spec(text: str) -> tuple[str, float, tuple[int, int]]:
    name, latency, size = text.split(":")
    width, height = size.lower().split("x")
    return name, float(latency), (int(width), int(height))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument(
        "--server", action="append", default=[], metavar="NAME:LATENCY:WIDTHxHEIGHT"
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {}
        for spec in args.server:
            name, latency, size = _parse_spec(spec)
            server = FriendliTestServer(
                token=args.token, latency=latency, image_size=size, record_bodies=False
            )
            urls[name] = stack.enter_context(server).base_url
        print(json.dumps(urls), flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
