"""One token echo, fed through every path by which text leaves the library.

The server quotes the client's token (as is, and percent-encoded) in everything it
sends: error bodies, the endpoint status fields, the reason for a failure. None of the
exceptions, reprs, pickles, log records, CLI output (plain and ``--json``) and files the
library writes (``failures.jsonl``, ``metadata.jsonl``) may carry it. Every path goes
through ``_redaction``; these tests are the regression for the paths the audit found
leaking (the endpoint API, ``failures.jsonl``, ``endpoint status``, the CLI's own rule).
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from friendli_images import FriendliImages, run_jobs
from friendli_images._cli import main
from friendli_images._redaction import REDACTED
from friendli_images.testing import ErrorStatus, FriendliTestServer

SECRET = "flp_echo-s3cret/+token"
ECHOES = (SECRET, quote(SECRET, safe=""))


def _clean(text: str) -> None:
    for form in ECHOES:
        assert form not in text


@pytest.fixture
def server() -> Iterator[FriendliTestServer]:
    with FriendliTestServer(token=SECRET) as server:
        yield server


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every record the library logs at any level, kept as the handler saw it."""
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    logger = logging.getLogger("friendli_images")
    handler = Keep(logging.DEBUG)
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield kept
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def _echo(status: int = 400) -> ErrorStatus:
    return ErrorStatus(status, message=f"bad token {SECRET} ({quote(SECRET, safe='')})")


class TestEndpointStatusFields:
    def test_status_phase_and_error_code_enter_redacted(self, server: FriendliTestServer) -> None:
        """A status whose fields echo the token: the EndpointStatus, its repr, its
        to_dict and its pickle (raw model included) carry no form of it."""
        endpoint = server.add_endpoint("dep1")
        endpoint.status = f"FAILED {SECRET}"
        endpoint.phase = f"phase {quote(SECRET, safe='')}"
        endpoint.error_code = f"E_{SECRET}"

        with FriendliImages(token=SECRET, base_url=server.base_url) as client:
            status = client.endpoint_status("dep1")

        assert status.status.startswith("FAILED ")
        assert REDACTED in status.status
        for text in (
            repr(status),
            json.dumps(status.to_dict()),
            repr(pickle.loads(pickle.dumps(status))),
            pickle.dumps(status).decode("latin-1"),
            repr(status.raw.to_dict()),
        ):
            _clean(text)

    def test_cli_endpoint_status_plain_and_json(
        self, server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        endpoint = server.add_endpoint("dep1")
        endpoint.phase = f"phase {SECRET}"
        env = ["--base-url", server.base_url]
        for extra in ([], ["--json"]):
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FRIENDLI_TOKEN", SECRET)
                code = main(["endpoint", "status", "dep1", *env, *extra])
            out = capsys.readouterr()
            assert 0 == code, out.err
            _clean(out.out + out.err)
            assert REDACTED in out.out

    def test_cli_endpoint_error_plain_and_json(
        self, server: FriendliTestServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        server.add_endpoint("dep1")
        for extra in ([], ["--json"]):
            server.inject(_echo(403), route="endpoint")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FRIENDLI_TOKEN", SECRET)
                code = main(["endpoint", "status", "dep1", "--base-url", server.base_url, *extra])
            out = capsys.readouterr()
            assert 0 != code
            _clean(out.out + out.err)
            assert REDACTED in out.out + out.err


class TestFilesTheLibraryWrites:
    def test_failures_jsonl(self, server: FriendliTestServer, tmp_path: Path) -> None:
        """A failed job's row in failures.jsonl: the server's echo is redacted."""
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text('{"id": "a", "prompt": "p"}\n{"id": "b", "prompt": "q"}\n')
        server.inject(_echo(400), times=2)

        with FriendliImages(token=SECRET, base_url=server.base_url, max_retries=0) as client:
            summary = run_jobs(jobs, tmp_path / "out", client=client, defaults={"model": "m"})

        assert 2 == summary.failed
        text = (tmp_path / "out" / "failures.jsonl").read_text()
        _clean(text)
        assert REDACTED in text

    def test_cli_run_failures_and_summary(
        self, server: FriendliTestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        jobs = tmp_path / "jobs.jsonl"
        jobs.write_text('{"id": "a", "prompt": "p"}\n')
        server.inject(_echo(400))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FRIENDLI_TOKEN", SECRET)
            code = main(
                [
                    *("run", str(jobs), "--out", str(tmp_path / "out"), "--model", "m"),
                    *("--base-url", server.base_url, "--json"),
                ]
            )
        out = capsys.readouterr()
        assert 1 == code
        _clean(out.out + out.err)
        _clean((tmp_path / "out" / "failures.jsonl").read_text())


class TestLogRecords:
    def test_no_record_carries_the_token(
        self, server: FriendliTestServer, records: list[logging.LogRecord]
    ) -> None:
        """Retries, a failed batch request and its final error are logged: no record
        (message, arguments, exception text) holds the token."""
        server.inject(_echo(503), times=3)
        server.inject(_echo(400), times=1)
        with FriendliImages(token=SECRET, base_url=server.base_url, max_retries=2) as client:
            result = client.generate("p", model="m", n=2)

        assert 1 == len(result.errors)
        assert records, "the library logged nothing: the test would prove nothing"
        formatter = logging.Formatter("%(message)s")
        for record in records:
            _clean(formatter.format(record))
            _clean(record.getMessage())

    def test_a_users_log_call_on_the_package_logger_is_redacted(
        self, records: list[logging.LogRecord]
    ) -> None:
        """The filter knows the secrets of every live client: even a record the library
        did not write itself, on its logger, loses them."""
        with FriendliImages(token=SECRET, base_url="http://127.0.0.1:9"):
            logging.getLogger("friendli_images").warning("echo %s", SECRET)
        assert [f"echo {REDACTED}"] == [record.getMessage() for record in records]


class TestExceptions:
    def test_error_str_repr_pickle_and_body(self, server: FriendliTestServer) -> None:
        server.inject(_echo(400))
        with FriendliImages(token=SECRET, base_url=server.base_url) as client:
            with pytest.raises(Exception) as caught:
                client.generate("p", model="m")
        error = caught.value
        for text in (str(error), repr(error), repr(getattr(error, "body", None))):
            _clean(text)
        _clean(pickle.dumps(error).decode("latin-1"))
