"""Measure, in a fresh process, the peak RSS increase of one request.

    python -m bench._memory_child CASE [--base-url URL] --file PATH

prints one JSON object. Sending a control image (``--file``: the image, ``--base-url``:
the test server):

* ``facade``: ``FriendliImages.generate(..., control_images=[path])``;
* ``facade-async``: the same with ``AsyncFriendliImages``;
* ``httpx-json``: what one writes with raw httpx: read the file, base64 it into a
  ``data:`` URI and ``httpx.Client.post(url, json=body)``.

Sending an image to edit (``--file``: the image, ``--base-url``: the test server):

* ``edit-facade``: ``FriendliImages.edit(path, ...)``;
* ``edit-httpx-json``: raw httpx, the file base64-encoded into the body's ``image``.

Receiving and saving base64 images (``--file``: a JSON response body, replayed by an
in-memory transport; the files go to a temporary directory):

* ``b64-facade``: ``generate(..., response_format="png").save(directory)``;
* ``b64-httpx``: ``httpx.Client.post(...).json()``, then ``base64.b64decode`` and
  ``Path.write_bytes`` per image.

Everything that is not the request itself happens before the peak window opens: imports,
building the client, reading the replayed body into memory, and one warm-up request
(which opens the connection and runs any lazy imports; for the base64 cases it carries a
tiny image). Then the peak is reset
(``start_peak_window``), the request is sent and its response handled, and the increase
is the peak minus the RSS at the start. The test server runs in another process, so only
the client's memory counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench._common import MODEL, PROMPT, TOKEN, peak_rss_bytes, start_peak_window

GENERATION_PATH = "/dedicated/v1/images/generations"
EDIT_PATH = "/dedicated/v1/images/edits"


def _measure(run: Callable[[], object]) -> dict[str, Any]:
    gc.collect()
    start, reset = start_peak_window()
    run()
    return _result(start, reset)


def _result(start: int, reset: bool) -> dict[str, Any]:
    peak = peak_rss_bytes()
    return {"start_rss": start, "peak_rss": peak, "increase": peak - start, "peak_reset": reset}


def _facade(base_url: str, path: Path) -> dict[str, Any]:
    from friendli_images import FriendliImages

    with FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        client.generate(PROMPT, model=MODEL, response_format="url")  # warm-up
        return _measure(
            lambda: client.generate(
                PROMPT, model=MODEL, response_format="url", control_images=[path]
            )
        )


def _facade_async(base_url: str, path: Path) -> dict[str, Any]:
    from friendli_images import AsyncFriendliImages

    async def main() -> dict[str, Any]:
        async with AsyncFriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
            await client.generate(PROMPT, model=MODEL, response_format="url")  # warm-up
            gc.collect()
            start, reset = start_peak_window()
            await client.generate(PROMPT, model=MODEL, response_format="url", control_images=[path])
            return _result(start, reset)

    return asyncio.run(main())


def _httpx_json(base_url: str, path: Path) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = base_url + GENERATION_PATH
    body: dict[str, Any] = {"model": MODEL, "prompt": PROMPT, "response_format": "url"}
    with httpx.Client() as client:
        client.post(url, json=body, headers=headers).json()  # warm-up

        def send() -> object:
            uri = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
            return client.post(
                url, json={**body, "control_images": [{"image": uri}]}, headers=headers
            ).json()

        return _measure(send)


def _edit_facade(base_url: str, path: Path) -> dict[str, Any]:
    from friendli_images import FriendliImages
    from friendli_images.testing import render_png

    with FriendliImages(token=TOKEN, base_url=base_url, max_retries=0) as client:
        client.edit(render_png(1, 8, 8), PROMPT, model=MODEL, response_format="url")  # warm-up
        return _measure(lambda: client.edit(path, PROMPT, model=MODEL, response_format="url"))


def _edit_httpx_json(base_url: str, path: Path) -> dict[str, Any]:
    from friendli_images.testing import render_png

    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = base_url + EDIT_PATH
    body: dict[str, Any] = {"model": MODEL, "prompt": PROMPT, "response_format": "url"}

    def image(data: bytes) -> dict[str, str]:
        return {"image": "data:image/png;base64," + base64.b64encode(data).decode("ascii")}

    with httpx.Client(timeout=300) as client:  # the server edits 50 MiB: seconds
        warm_up = {**body, "image": image(render_png(1, 8, 8))}
        client.post(url, json=warm_up, headers=headers).json()
        return _measure(
            lambda: client.post(
                url, json={**body, "image": image(path.read_bytes())}, headers=headers
            ).json()
        )


def _replaying(payload: bytes) -> httpx.Client:
    """A client whose first answer is a small base64 image (the warm-up), then ``payload``.

    The warm-up must stay small: the allocator would keep a large one's freed memory
    resident, and the measured request would reuse it without raising the peak.
    """
    from friendli_images.testing import render_png

    tiny = base64.b64encode(render_png(1, 8, 8)).decode("ascii")
    small = json.dumps({"data": [{"seed": 1, "response_format": "png", "b64_json": tiny}]})
    answers = iter([small.encode(), payload])

    def replay(request: httpx.Request) -> httpx.Response:
        content = next(answers)
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(replay))


def _b64_facade(base_url: str, path: Path) -> dict[str, Any]:
    from friendli_images import FriendliImages

    payload = path.read_bytes()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FriendliImages(
            token=TOKEN, base_url=base_url, max_retries=0, http_client=_replaying(payload)
        ) as client,
    ):
        client.generate(PROMPT, model=MODEL, response_format="png").save(Path(tmp) / "warm-up")
        return _measure(
            lambda: client.generate(PROMPT, model=MODEL, response_format="png").save(
                Path(tmp) / "measured"
            )
        )


def _b64_httpx(base_url: str, path: Path) -> dict[str, Any]:
    payload = path.read_bytes()
    url = base_url + GENERATION_PATH
    body: dict[str, Any] = {"model": MODEL, "prompt": PROMPT, "response_format": "png"}
    with tempfile.TemporaryDirectory() as tmp, _replaying(payload) as client:

        def receive(directory: Path) -> None:
            directory.mkdir()
            data = client.post(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
            for index, item in enumerate(data.json()["data"]):
                (directory / f"image-{index}.png").write_bytes(base64.b64decode(item["b64_json"]))

        receive(Path(tmp) / "warm-up")
        return _measure(lambda: receive(Path(tmp) / "measured"))


CASES: dict[str, Callable[[str, Path], dict[str, Any]]] = {
    "facade": _facade,
    "facade-async": _facade_async,
    "httpx-json": _httpx_json,
    "edit-facade": _edit_facade,
    "edit-httpx-json": _edit_httpx_json,
    "b64-facade": _b64_facade,
    "b64-httpx": _b64_httpx,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--base-url", default="http://friendli.bench.invalid")
    parser.add_argument("--file", type=Path, required=True)
    args = parser.parse_args(argv)
    result = CASES[args.case](args.base_url, args.file)
    result["case"] = args.case
    result["file_bytes"] = args.file.stat().st_size
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
