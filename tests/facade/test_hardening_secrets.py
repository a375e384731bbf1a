"""Issue 9, secrets and arguments: the token never leaks, bad input never sends a request."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
from _raw_server import RawServer, answer, response
from friendli_images import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncFriendliImages,
    AuthenticationError,
    BadRequestError,
    FriendliImages,
    FriendliImagesError,
    ImageDownloadError,
    InternalServerError,
    InvalidRequestError,
    MissingDependencyError,
    NotFoundError,
    OutputExistsError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from friendli_images._transport._rules import base_url_problem, header_value_problem
from friendli_images.testing import ErrorStatus, FriendliTestServer, render_png

SECRET = "flp_s3cret/token+value"


class TestTokenHygiene:
    @pytest.mark.parametrize("padding", ["\n", "\r\n", " ", "\t\n"])
    def test_env_token_whitespace_is_stripped(
        self, friendli_server: FriendliTestServer, monkeypatch: pytest.MonkeyPatch, padding: str
    ) -> None:
        """FRIENDLI_TOKEN from a file or .env (trailing newline) authenticates."""
        monkeypatch.setenv("FRIENDLI_TOKEN", f"{padding}{friendli_server.token}{padding}")
        monkeypatch.setenv("FRIENDLI_TEAM", "team-1\n")
        with FriendliImages(base_url=friendli_server.base_url) as client:
            assert 1 == len(client.generate("x", model="ep"))
        headers = friendli_server.generation_requests[0].headers
        assert (f"Bearer {friendli_server.token}", "team-1") == (
            headers["authorization"],
            headers["x-friendli-team"],
        )

    @pytest.mark.parametrize(
        ("param", "kwargs"),
        [
            pytest.param("token", {"token": "flp_a\nb"}, id="token-newline-inside"),
            pytest.param("token", {"token": "flp_a\x00b"}, id="token-nul"),
            pytest.param("token", {"token": "flp_\u00e9t\u00e9"}, id="token-non-ascii"),
            pytest.param("team_id", {"team_id": "team\r\nX-Evil: 1"}, id="team-crlf"),
            pytest.param("team_id", {"team_id": "\u00e9quipe"}, id="team-non-ascii"),
        ],
    )
    def test_unsendable_header_values_are_rejected(
        self, friendli_server: FriendliTestServer, param: str, kwargs: dict[str, str]
    ) -> None:
        """Anything that cannot be a header value: InvalidRequestError, no text of it, no send."""
        settings: dict[str, Any] = {
            "token": friendli_server.token,
            "base_url": friendli_server.base_url,
            **kwargs,
        }
        with pytest.raises(InvalidRequestError) as info:
            FriendliImages(**settings)

        assert param == info.value.param
        value = kwargs[param]
        for text in (str(info.value), repr(info.value), repr(info.value.args)):
            assert value not in text
            assert value.strip()[:5] not in text
        assert [] == friendli_server.requests

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            pytest.param("flp_abc", None, id="plain"),
            pytest.param("a b", None, id="inner-space"),
            pytest.param("", "is empty", id="empty"),
            pytest.param("a\nb", "has a control character at position 1", id="lf"),
            pytest.param("ab\x7f", "has a control character at position 2", id="del"),
            pytest.param("a\u00e9", "has a non-ASCII character at position 1", id="non-ascii"),
            pytest.param(" a", "starts or ends with whitespace", id="leading-space"),
        ],
    )
    def test_header_value_rule(self, value: str, problem: str | None) -> None:
        assert problem == header_value_problem(value)

    def test_escaped_forms_of_the_token_are_redacted(
        self, friendli_server: FriendliTestServer
    ) -> None:
        """An error body echoing the token raw, %-encoded or repr-escaped shows [secure]."""
        echo = f"bad {SECRET} / {SECRET.replace('/', '%2F').replace('+', '%2B')} / {SECRET!r}"
        friendli_server.inject(ErrorStatus(401, message=echo))
        with (
            FriendliImages(token=SECRET, base_url=friendli_server.base_url) as client,
            pytest.raises(AuthenticationError) as info,
        ):
            client.generate("x", model="ep")

        text = f"{info.value} {info.value.body!r}"
        assert "s3cret" not in text
        assert "[secure]" in text

    def test_token_in_reason_phrase_is_redacted(self) -> None:
        """A reason phrase that echoes the token is redacted (raw-socket friendli_server)."""
        with RawServer(answer(response(f"401 Bad token {SECRET}"))) as raw:
            client = FriendliImages(token=SECRET, base_url=raw.url, max_retries=0)
            with client, pytest.raises(AuthenticationError) as info:
                client.generate("x", model="ep")

        assert "s3cret" not in str(info.value)
        assert "Bad token [secure]" in str(info.value)

    def test_validation_body_is_redacted_before_it_is_cut(self) -> None:
        """A token straddling the 2000-character cut leaves no prefix in ``body``."""
        body = ("x" * 1990 + SECRET).encode()
        with RawServer(answer(response("200 OK", body))) as raw:
            client = FriendliImages(token=SECRET, base_url=raw.url)
            with client, pytest.raises(APIResponseValidationError) as info:
                client.generate("x", model="ep")

        assert info.value.body is not None
        assert "flp_" not in info.value.body
        assert info.value.body.endswith("x[secure]")

    def test_local_protocol_error_is_not_sent(self) -> None:
        """h11 refusing a header value (from the user's client) sends nothing: not ambiguous."""
        with RawServer(answer(response("200 OK", b"{}"))) as raw:
            http = httpx.Client(headers={"X-Bad": "a\nb"})
            client = FriendliImages(token=SECRET, base_url=raw.url, http_client=http)
            with http, client, pytest.raises(APIConnectionError) as info:
                client.generate("x", model="ep", max_retries=0)
            assert [] == raw.requests
        assert not info.value.sent
        assert "before the request was sent" in str(info.value)


class TestBaseUrl:
    @pytest.mark.parametrize(
        "url",
        [
            pytest.param("http://[::1", id="bad-ipv6"),
            pytest.param("http://example.com\n", id="trailing-newline"),
            pytest.param("http://example.com/#frag", id="fragment"),
            pytest.param("http://example.com/?q=1", id="query"),
            pytest.param("http://user:hunter2@example.com", id="userinfo"),
            pytest.param("ftp://example.com", id="scheme"),
            pytest.param("http://", id="no-host"),
        ],
    )
    def test_rejected_at_construction(self, url: str) -> None:
        with pytest.raises(InvalidRequestError) as info:
            FriendliImages(token=SECRET, base_url=url)
        assert "base_url" == info.value.param
        assert "hunter2" not in str(info.value)

    @pytest.mark.parametrize(
        ("url", "ok"),
        [
            ("https://api.friendli.ai", True),
            ("http://127.0.0.1:8000/prefix/", True),
            ("http://[::1]:8000", True),
            ("http://example.com#", False),
            ("http://example.com?", False),
        ],
    )
    def test_rule(self, url: str, ok: bool) -> None:
        assert ok == (base_url_problem(url) is None)


class TestArguments:
    @pytest.mark.parametrize(
        ("kwargs", "param"),
        [
            pytest.param({"retry_ambiguous": "false"}, "retry_ambiguous", id="retry-str"),
            pytest.param({"retry_ambiguous": 1}, "retry_ambiguous", id="retry-int"),
            pytest.param({"strict": "no"}, "strict", id="strict-str"),
            pytest.param({"prompt": "a\ud800b"}, "prompt", id="surrogate-prompt"),
            pytest.param({"model": "e\udcffp"}, "model", id="surrogate-model"),
            pytest.param({"timeout": math.nan}, "timeout", id="timeout-nan"),
            pytest.param({"timeout": math.inf}, "timeout", id="timeout-inf"),
            pytest.param({"timeout": httpx.Timeout(math.nan)}, "timeout", id="httpx-timeout-nan"),
            pytest.param({"guidance_scale": 10**400}, "guidance_scale", id="huge-int"),
            pytest.param({"control_images": ["a\x00b.png"]}, "control_images[0]", id="nul-path"),
            pytest.param(
                {"control_images": [memoryview(bytes(64))[::2]]},
                "control_images[0]",
                id="non-contiguous",
            ),
        ],
    )
    def test_rejected_before_sending(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        kwargs: dict[str, Any],
        param: str,
    ) -> None:
        """Each of these raised a raw exception (or enabled retries); now a typed error."""
        call: dict[str, Any] = {"prompt": "x", "model": "ep", **kwargs}
        with pytest.raises(InvalidRequestError) as info:
            client.generate(**call)
        assert param == info.value.param
        assert [] == friendli_server.requests

    def test_file_object_whose_read_fails(
        self, client: FriendliImages, friendli_server: FriendliTestServer, tmp_path: Path
    ) -> None:
        path = tmp_path / "c.png"
        path.write_bytes(render_png(1, 8, 8))
        with path.open("rb") as file:
            pass  # closed: read() raises ValueError
        with pytest.raises(InvalidRequestError) as info:
            client.generate("x", model="ep", control_images=[file])
        assert "control_images[0]" == info.value.param
        assert [] == friendli_server.requests

    @pytest.mark.parametrize(
        ("kwargs", "param"),
        [
            ({"retry_ambiguous": "false"}, "retry_ambiguous"),
            ({"download_timeout": math.nan}, "download_timeout"),
            ({"download_timeout": math.inf}, "download_timeout"),
            ({"timeout": -math.inf}, "timeout"),
            ({"max_response_bytes": 0}, "max_response_bytes"),
            ({"max_download_bytes": 1.5}, "max_download_bytes"),
        ],
    )
    def test_constructor_arguments(self, kwargs: dict[str, Any], param: str) -> None:
        for cls in (FriendliImages, AsyncFriendliImages):
            with pytest.raises(InvalidRequestError) as info:
                cls(token=SECRET, base_url="http://127.0.0.1:9", **kwargs)
            assert param == info.value.param


def _request() -> httpx.Request:
    headers = {"Authorization": f"Bearer {SECRET}"}
    return httpx.Request("POST", "http://127.0.0.1/x", headers=headers)


def _response(status: int) -> httpx.Response:
    return httpx.Response(status, request=_request(), json={"detail": "no"})


ERRORS: list[FriendliImagesError] = [
    FriendliImagesError("base"),
    InvalidRequestError("bad seed", param="seed"),
    OutputExistsError("/tmp/x.png"),
    MissingDependencyError("needs Pillow"),
    ImageDownloadError("gone", url="http://h/x.png", status_code=404),
    APIError("api", request=_request()),
    APIConnectionError("conn", request=_request(), sent=True),
    APITimeoutError("slow", request=_request(), sent=False),
    APIResponseValidationError("shape", response=_response(200), body="{}"),
    APIStatusError("teapot", response=_response(418), body={"detail": "no"}),
    BadRequestError("no", response=_response(400), body=None),
    AuthenticationError("no", response=_response(401), body=None),
    PermissionDeniedError("no", response=_response(403), body=None),
    NotFoundError("no", response=_response(404), body=None),
    UnprocessableEntityError("no", response=_response(422), body={"detail": [1]}),
    RateLimitError("slow down", response=_response(429), body=None, retry_after=2.5),
    InternalServerError("boom", response=_response(503), body="x"),
]


class TestPickle:
    @pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
    def test_round_trip(self, error: FriendliImagesError) -> None:
        """Same type, message and plain attributes; request/response (with the token) dropped."""
        data = pickle.dumps(error)
        copy = pickle.loads(data)

        assert (type(error), str(error), error.args) == (type(copy), str(copy), copy.args)
        for key, value in vars(error).items():
            if key in ("request", "response"):
                assert getattr(copy, key) is None
            else:
                assert value == getattr(copy, key)
        assert SECRET.encode() not in data
