"""`friendli-images generate -n` on the library's batching engine, end to end."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from _cli_support import run_cli, server_env, start_cli
from friendli_images.testing import ErrorStatus, FriendliTestServer, InvalidJson


def test_url_results_are_streamed_to_files_named_by_their_bytes(
    friendli_server: FriendliTestServer, tmp_path: Path
) -> None:
    """-n 3 with url results: each image downloaded once, saved with the type its bytes show."""
    result = run_cli(
        "generate",
        "a cat",
        "--model",
        "ep",
        "-n",
        "3",
        "--stem",
        "cat.v2",
        "--out",
        tmp_path,
        env=server_env(friendli_server),
    )

    assert 0 == result.returncode, result.stderr
    expected = [str(tmp_path / f"cat.v2-{i}.png") for i in range(3)]
    assert expected == result.stdout.splitlines()
    assert 3 == len(friendli_server.image_requests)
    assert all(Path(path).read_bytes().startswith(b"\x89PNG") for path in expected)


def test_one_malformed_response_spares_the_others(
    friendli_server: FriendliTestServer, tmp_path: Path
) -> None:
    """A 200 that does not parse fails its request only; --json lists it, the rest are saved."""
    friendli_server.inject(InvalidJson())

    result = run_cli(
        "generate",
        "a",
        "--model",
        "ep",
        "-n",
        "3",
        "--concurrency",
        "1",
        "--format",
        "png",
        "--out",
        tmp_path,
        "--json",
        env=server_env(friendli_server),
    )

    assert 1 == result.returncode
    document = json.loads(result.stdout)
    assert [1, 2] == [image["index"] for image in document["images"]]
    assert ["APIResponseValidationError"] == [error["type"] for error in document["errors"]]


def test_nothing_is_sent_after_ctrl_c(friendli_server: FriendliTestServer, tmp_path: Path) -> None:
    """After Ctrl-C the command sends no new request and no retry; no partial file is left."""
    friendli_server.latency = 0.2
    friendli_server.inject(ErrorStatus(503), times=500)  # retried (503 is safe) until stopped
    process = start_cli(
        "generate",
        "a",
        "--model",
        "ep",
        "-n",
        "40",
        "--concurrency",
        "4",
        "--format",
        "png",
        "--out",
        tmp_path,
        env=server_env(friendli_server),
    )
    deadline = time.monotonic() + 30
    while len(friendli_server.generation_requests) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    stopped = time.monotonic()
    time.sleep(1.0)  # longer than the first retry delays (0.5 s)

    assert 130 == process.returncode, stderr
    late = [r for r in friendli_server.generation_requests if r.received_at > stopped]
    assert [] == late
    assert [] == [p.name for p in tmp_path.rglob("*.part")]
