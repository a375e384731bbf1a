"""FriendliImages and AsyncFriendliImages against the loopback test server."""

from __future__ import annotations

import base64
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import friendli_images
import httpx
import pytest
from friendli_images import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncFriendliImages,
    AuthenticationError,
    BadRequestError,
    FriendliImages,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormat,
    UnprocessableEntityError,
)
from friendli_images.testing import (
    Delay,
    DropConnection,
    ErrorStatus,
    FriendliTestServer,
    InvalidJson,
    TruncatedBody,
    WrongShape,
    render_png,
)

FORMATS: list[ResponseFormat] = ["url", "raw", "png", "jpeg", "jpg"]
MIME = {
    "url": "image/png",
    "raw": "image/png",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
}
SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
SECRET = "flp_super-secret-token-1234"


def closed_port() -> int:
    """A loopback port with nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestResponseFormats:
    @pytest.mark.parametrize("response_format", FORMATS)
    def test_every_format_sync(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        response_format: ResponseFormat,
    ) -> None:
        """Each response format yields real image bytes, the seed and the reported format."""
        result = client.generate("a cat", model="ep", seed=7, response_format=response_format)

        (image,) = result.images
        assert (7, response_format) == (image.seed, image.response_format)
        assert MIME[response_format] == image.mime_type
        assert image.content().startswith(SIGNATURES[MIME[response_format]])
        assert (image.url is not None) == (response_format == "url")

    @pytest.mark.anyio
    @pytest.mark.parametrize("response_format", FORMATS)
    async def test_every_format_async(
        self, aclient: AsyncFriendliImages, response_format: ResponseFormat
    ) -> None:
        """The async client gives the same results, URL images downloaded asynchronously."""
        result = await aclient.generate(
            "a cat", model="ep", seed=3, response_format=response_format
        )

        (image,) = result.images
        content = await image.acontent()
        assert MIME[response_format] == image.mime_type
        assert 3 == image.seed
        assert content.startswith(SIGNATURES[MIME[response_format]])

    def test_same_seed_same_image(self, client: FriendliImages) -> None:
        """Base64 results decode to exactly the bytes the server rendered."""
        first = client.generate("x", model="ep", seed=11, response_format="png").images[0]

        assert render_png(11, 64, 64) == first.content()

    def test_default_format_is_the_servers(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Without response_format nothing is sent and the server's default (url) comes back."""
        image = client.generate("x", model="ep").images[0]

        assert "url" == image.response_format
        assert "response_format" not in friendli_server.generation_requests[0].json

    def test_unknown_format_in_response_is_kept(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A response_format newer than this client parses; the bytes decide the type."""
        png = base64.b64encode(render_png(1, 4, 4)).decode()
        friendli_server.inject(
            WrongShape(
                {"data": [{"seed": 1, "response_format": "webp", "b64_json": png, "nsfw": False}]}
            )
        )

        image = client.generate("x", model="ep").images[0]

        assert ("webp", "image/png", ".png") == (
            image.response_format,
            image.mime_type,
            image.extension,
        )
        assert {"nsfw": False} == image.raw.additional_properties


class TestRequestBody:
    def test_only_set_fields_are_sent(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A call with prompt and model only sends exactly those two fields."""
        client.generate("a cat", model="ep-1")

        assert {"model": "ep-1", "prompt": "a cat"} == friendli_server.generation_requests[0].json

    def test_every_field(self, client: FriendliImages, friendli_server: FriendliTestServer) -> None:
        """Every argument arrives under its spec name with its value."""
        client.generate(
            "a cat",
            model="ep-1",
            num_inference_steps=30,
            guidance_scale=7.5,
            seed=42,
            response_format="jpeg",
            control_images=["https://example.com/edge.png"],
            controlnet_weights=[0.25],
        )

        assert {
            "model": "ep-1",
            "prompt": "a cat",
            "num_inference_steps": 30,
            "guidance_scale": 7.5,
            "seed": 42,
            "response_format": "jpeg",
            "control_images": [{"image": "https://example.com/edge.png"}],
            "controlnet_weights": [0.25],
        } == friendli_server.generation_requests[0].json

    def test_headers(self, friendli_server: FriendliTestServer) -> None:
        """The token goes as a bearer header, the team as X-Friendli-Team, with a User-Agent."""
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, team_id="team-9"
        ) as c:
            c.generate("x", model="ep")

        headers = friendli_server.generation_requests[0].headers
        assert f"Bearer {friendli_server.token}" == headers["authorization"]
        assert "team-9" == headers["x-friendli-team"]
        assert headers["user-agent"].startswith("friendli-images/")
        assert "application/json" == headers["content-type"]

    def test_no_team_header_without_team(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Without a team the X-Friendli-Team header is omitted, not sent empty."""
        client.generate("x", model="ep")

        assert "x-friendli-team" not in friendli_server.generation_requests[0].headers


class TestValidation:
    @pytest.mark.parametrize(
        ("arguments", "param"),
        [
            ({"prompt": ""}, "prompt"),
            ({"prompt": "   "}, "prompt"),
            ({"model": ""}, "model"),
            ({"num_inference_steps": 0}, "num_inference_steps"),
            ({"num_inference_steps": 51}, "num_inference_steps"),
            ({"num_inference_steps": 2.5}, "num_inference_steps"),
            ({"num_inference_steps": True}, "num_inference_steps"),
            ({"guidance_scale": float("nan")}, "guidance_scale"),
            ({"guidance_scale": "7"}, "guidance_scale"),
            ({"seed": 1.5}, "seed"),
            ({"response_format": "webp"}, "response_format"),
            ({"response_format": "PNG"}, "response_format"),
            (
                {"control_images": ["https://x/a.png"], "controlnet_weights": [1.5]},
                "controlnet_weights[0]",
            ),
            (
                {"control_images": ["https://x/a.png"], "controlnet_weights": [-0.1]},
                "controlnet_weights[0]",
            ),
            (
                {"control_images": ["https://x/a.png"], "controlnet_weights": [0.5, 0.5]},
                "controlnet_weights",
            ),
            ({"controlnet_weights": [0.5]}, "controlnet_weights"),
            ({"control_images": "https://x/a.png"}, "control_images"),
            ({"control_images": ["ftp://x/a.png"]}, "control_images[0]"),
            ({"n": 0}, "n"),
            ({"concurrency": 0}, "concurrency"),
            ({"max_retries": -1}, "max_retries"),
            ({"timeout": -1}, "timeout"),
        ],
    )
    def test_rejected_before_sending(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        arguments: dict[str, Any],
        param: str,
    ) -> None:
        """Each invalid argument raises InvalidRequestError naming it, and nothing is sent."""
        call: dict[str, Any] = {"prompt": "a cat", "model": "ep", **arguments}
        prompt = call.pop("prompt")

        with pytest.raises(InvalidRequestError) as info:
            client.generate(prompt, **call)

        assert param == info.value.param
        assert param.split("[", maxsplit=1)[0] in str(info.value)
        assert [] == friendli_server.requests

    @pytest.mark.parametrize("steps", [1, 50])
    def test_step_bounds_are_inclusive(self, client: FriendliImages, steps: int) -> None:
        """1 and 50 inference steps are accepted."""
        assert 1 == len(client.generate("x", model="ep", num_inference_steps=steps).images)

    @pytest.mark.anyio
    async def test_async_rejects_too(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client validates the same way."""
        with pytest.raises(InvalidRequestError):
            await aclient.generate("x", model="ep", num_inference_steps=99)

        assert [] == friendli_server.requests


class TestConfiguration:
    def test_missing_token_names_argument_and_variable(self) -> None:
        """Without token= or FRIENDLI_TOKEN the error names both."""
        with pytest.raises(InvalidRequestError, match=r"token=.*FRIENDLI_TOKEN"):
            FriendliImages()

    def test_environment(
        self, monkeypatch: pytest.MonkeyPatch, friendli_server: FriendliTestServer
    ) -> None:
        """Token, base URL and team come from FRIENDLI_* when not passed."""
        monkeypatch.setenv("FRIENDLI_TOKEN", friendli_server.token)
        monkeypatch.setenv("FRIENDLI_BASE_URL", friendli_server.base_url)
        monkeypatch.setenv("FRIENDLI_TEAM", "t-1")

        with FriendliImages() as client:
            client.generate("x", model="ep")

        assert ("t-1", friendli_server.base_url) == (client.team_id, client.base_url)
        assert "t-1" == friendli_server.generation_requests[0].headers["x-friendli-team"]

    def test_arguments_beat_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Explicit arguments win over the environment."""
        monkeypatch.setenv("FRIENDLI_BASE_URL", "http://127.0.0.1:1")

        client = FriendliImages(token="t", base_url="http://127.0.0.1:2/")

        assert "http://127.0.0.1:2" == client.base_url
        client.close()

    def test_default_base_url(self) -> None:
        """The real API is the default address."""
        with FriendliImages(token="t") as client:
            assert "https://api.friendli.ai" == client.base_url

    def test_bad_base_url(self) -> None:
        """A base URL that is not http(s) is rejected up front."""
        with pytest.raises(InvalidRequestError, match="base_url"):
            FriendliImages(token="t", base_url="ftp://example.com")

    def test_repr_hides_token(self) -> None:
        """Neither client's repr shows the token."""
        sync, asynchronous = FriendliImages(token=SECRET), AsyncFriendliImages(token=SECRET)

        for client in (sync, asynchronous):
            assert SECRET not in repr(client)
            assert "[secure]" in repr(client)
        sync.close()

    def test_user_http_client_is_used_not_closed(self, friendli_server: FriendliTestServer) -> None:
        """A supplied httpx.Client carries the API request, keeps its headers, stays open.

        The image download uses only its transport, not its hooks, auth or headers.
        """
        seen: list[str] = []
        http = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]})
        try:
            with FriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
            ) as c:
                content = c.generate("x", model="ep").images[0].content()

            assert ["/dedicated/v1/images/generations"] == seen
            assert content.startswith(b"\x89PNG")
            assert not http.is_closed
            assert "authorization" not in http.headers
        finally:
            http.close()


def status_fault(status: int, message: str = "nope") -> ErrorStatus:
    return ErrorStatus(status, message=message)


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "error_type"),
        [
            (400, BadRequestError),
            (401, AuthenticationError),
            (403, PermissionDeniedError),
            (404, NotFoundError),
            (409, APIStatusError),
            (413, APIStatusError),
            (422, UnprocessableEntityError),
            (429, RateLimitError),
            (500, InternalServerError),
            (503, InternalServerError),
            (520, InternalServerError),
        ],
    )
    def test_status_maps_to_type(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        status: int,
        error_type: type[APIStatusError],
    ) -> None:
        """Each status raises its typed error with the status code and the server's message."""
        friendli_server.inject(status_fault(status, "the server explains"), times=5)

        with pytest.raises(error_type) as info:
            client.generate("x", model="ep", max_retries=0)

        error = info.value
        assert type(error) is error_type
        assert status == error.status_code
        assert "the server explains" == error.message
        assert f"{status} {httpx.codes.get_reason_phrase(status)}: the server explains".replace(
            " :", ":"
        ) == str(error)
        assert isinstance(error.body, dict)

    def test_wrong_token(self, friendli_server: FriendliTestServer) -> None:
        """A wrong token is an AuthenticationError whose text does not contain it."""
        with FriendliImages(token=SECRET, base_url=friendli_server.base_url) as client:
            with pytest.raises(AuthenticationError) as info:
                client.generate("x", model="ep")

        assert 401 == info.value.status_code
        assert SECRET not in str(info.value)
        assert SECRET not in repr(info.value)

    def test_token_echoed_by_server_is_redacted(self, friendli_server: FriendliTestServer) -> None:
        """A server message that quotes the token is redacted in message and body."""
        friendli_server.inject(ErrorStatus(403, message=f"key {SECRET} may not use this endpoint"))

        with FriendliImages(token=SECRET, base_url=friendli_server.base_url) as client:
            with pytest.raises(PermissionDeniedError) as info:
                client.generate("x", model="ep")

        assert "key [secure] may not use this endpoint" == info.value.message
        assert SECRET not in json.dumps(info.value.body)
        assert SECRET not in str(info.value)

    def test_server_validation_detail(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A 422 keeps the server's validation detail and summarises it in the message."""
        detail = [{"loc": ["body", "prompt"], "msg": "too long", "type": "value_error"}]
        friendli_server.inject(ErrorStatus(422, body={"detail": detail}))

        with pytest.raises(UnprocessableEntityError) as info:
            client.generate("x", model="ep")

        assert detail == info.value.detail
        assert "prompt: too long" == info.value.message

    def test_plain_text_error_body(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A non-JSON error body becomes the message as text."""
        friendli_server.inject(ErrorStatus(400, body=b"bad things", content_type="text/plain"))

        with pytest.raises(BadRequestError, match="bad things"):
            client.generate("x", model="ep")

    @pytest.mark.parametrize(
        ("fault", "problem"),
        [
            (InvalidJson(), "not valid JSON"),
            (WrongShape(), "'data' is missing"),
            (
                WrongShape({"data": [{"seed": 1, "response_format": "png", "b64_json": "%%%"}]}),
                "not valid base64",
            ),
            (
                WrongShape(
                    {"data": [{"seed": "one", "response_format": "url", "url": "http://x"}]}
                ),
                "integer 'seed'",
            ),
            (WrongShape({"data": [{"seed": 1}]}), "missing"),
            (WrongShape([1, 2]), "does not match"),
            (WrongShape({"data": "nope"}), "does not match"),
        ],
    )
    def test_bad_200_body(
        self, client: FriendliImages, friendli_server: FriendliTestServer, fault: Any, problem: str
    ) -> None:
        """A 200 that does not match the spec raises APIResponseValidationError, never retried."""
        friendli_server.inject(fault)

        with pytest.raises(APIResponseValidationError) as info:
            client.generate("x", model="ep", retry_ambiguous=True)

        assert problem in str(info.value)
        assert 1 == len(friendli_server.generation_requests)
        assert info.value.response is not None
        assert 200 == info.value.response.status_code

    def test_connection_refused(self) -> None:
        """Nothing listening is an APIConnectionError that says the request was not sent."""
        with (
            FriendliImages(
                token="t", base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0
            ) as client,
            pytest.raises(APIConnectionError) as info,
        ):
            client.generate("x", model="ep")

        assert not info.value.sent
        assert "before the request was sent" in str(info.value)

    def test_dropped_connection(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A connection closed without an answer is an APIConnectionError after sending."""
        friendli_server.inject(DropConnection())

        with pytest.raises(APIConnectionError) as info:
            client.generate("x", model="ep")

        assert info.value.sent
        assert "may have been generated" in str(info.value)

    def test_truncated_body(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A body cut short is a connection error after sending, not a parse error."""
        friendli_server.inject(TruncatedBody())

        with pytest.raises(APIConnectionError) as info:
            client.generate("x", model="ep", response_format="png")

        assert info.value.sent

    def test_read_timeout(self, friendli_server: FriendliTestServer) -> None:
        """A slow answer is an APITimeoutError (the request was sent)."""
        friendli_server.inject(Delay(1.0))

        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, timeout=0.2
        ) as client:
            with pytest.raises(APITimeoutError) as info:
                client.generate("x", model="ep")

        assert info.value.sent
        assert 1 == len(friendli_server.generation_requests)

    def test_per_call_timeout(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """timeout= on the call overrides the client's."""
        friendli_server.inject(Delay(1.0))

        with pytest.raises(APITimeoutError):
            client.generate("x", model="ep", timeout=0.2)

    @pytest.mark.anyio
    async def test_async_errors(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client maps statuses and bad bodies the same way."""
        friendli_server.inject(status_fault(404, "no such endpoint"))
        with pytest.raises(NotFoundError, match="no such endpoint"):
            await aclient.generate("x", model="ep")

        friendli_server.inject(InvalidJson())
        with pytest.raises(APIResponseValidationError):
            await aclient.generate("x", model="ep")

        friendli_server.inject(DropConnection())
        with pytest.raises(APIConnectionError):
            await aclient.generate("x", model="ep")


class TestRetries:
    @pytest.mark.parametrize("status", [408, 429, 502, 503])
    def test_safe_statuses_are_retried(
        self, client: FriendliImages, friendli_server: FriendliTestServer, status: int
    ) -> None:
        """A status that shows nothing was generated is retried and then succeeds."""
        friendli_server.inject(status_fault(status), times=2)

        result = client.generate("x", model="ep")

        assert 1 == len(result.images)
        assert 3 == len(friendli_server.generation_requests)

    @pytest.mark.parametrize("status", [500, 504])
    def test_ambiguous_statuses_are_not_retried_by_default(
        self, client: FriendliImages, friendli_server: FriendliTestServer, status: int
    ) -> None:
        """500 and 504 may follow a generation: one attempt only, unless opted in."""
        friendli_server.inject(status_fault(status))

        with pytest.raises(InternalServerError):
            client.generate("x", model="ep")

        assert 1 == len(friendli_server.generation_requests)

    @pytest.mark.parametrize("status", [500, 504])
    def test_ambiguous_statuses_retried_per_call(
        self, client: FriendliImages, friendli_server: FriendliTestServer, status: int
    ) -> None:
        """retry_ambiguous=True on the call retries 500 and 504."""
        friendli_server.inject(status_fault(status))

        client.generate("x", model="ep", retry_ambiguous=True)

        assert 2 == len(friendli_server.generation_requests)

    def test_ambiguous_retried_per_client(self, friendli_server: FriendliTestServer) -> None:
        """retry_ambiguous=True on the client retries a dropped connection."""
        friendli_server.inject(DropConnection())

        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, retry_ambiguous=True
        ) as client:
            client.generate("x", model="ep")

        assert 2 == len(friendli_server.generation_requests)

    def test_failure_after_sending_is_not_retried_by_default(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """A dropped connection after the request was sent is never retried by default."""
        friendli_server.inject(DropConnection(), times=3)

        with pytest.raises(APIConnectionError):
            client.generate("x", model="ep", max_retries=5)

        assert 1 == len(friendli_server.generation_requests)

    def test_read_timeout_not_retried_by_default(self, friendli_server: FriendliTestServer) -> None:
        """A read timeout may hide a generation: one attempt only."""
        friendli_server.inject(Delay(0.6), times=3)

        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, timeout=0.2
        ) as client:
            with pytest.raises(APITimeoutError):
                client.generate("x", model="ep")

        assert 1 == len(friendli_server.generation_requests)

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
    def test_other_client_errors_are_not_retried(
        self, client: FriendliImages, friendli_server: FriendliTestServer, status: int
    ) -> None:
        """Other 4xx statuses fail at once."""
        friendli_server.inject(status_fault(status), times=3)

        with pytest.raises(APIStatusError):
            client.generate("x", model="ep", retry_ambiguous=True)

        assert 1 == len(friendli_server.generation_requests)

    def test_gives_up_after_max_retries(
        self, friendli_server: FriendliTestServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """After max_retries retries the last error is raised; each retry is logged."""
        friendli_server.inject(status_fault(503, "asleep"), times=10)
        caplog.set_level(logging.DEBUG, logger="friendli_images")

        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, max_retries=3
        ) as client:
            with pytest.raises(InternalServerError, match="asleep"):
                client.generate("x", model="ep")

        assert 4 == len(friendli_server.generation_requests)
        retries = [r.getMessage() for r in caplog.records if r.name == "friendli_images"]
        assert 3 == len(retries)
        assert "(retry 3 of 3)" in retries[-1]

    def test_max_retries_zero(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """max_retries=0 makes exactly one attempt."""
        friendli_server.inject(status_fault(503), times=2)

        with pytest.raises(InternalServerError):
            client.generate("x", model="ep", max_retries=0)

        assert 1 == len(friendli_server.generation_requests)

    def test_connect_errors_are_retried(self, caplog: pytest.LogCaptureFixture) -> None:
        """A refused connection (nothing was sent) is retried max_retries times."""
        caplog.set_level(logging.DEBUG, logger="friendli_images")

        with (
            FriendliImages(
                token="t", base_url=f"http://127.0.0.1:{closed_port()}", max_retries=2
            ) as client,
            pytest.raises(APIConnectionError),
        ):
            client.generate("x", model="ep")

        assert 2 == sum("Retrying" in r.getMessage() for r in caplog.records)

    def test_retry_after_seconds(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Retry-After in seconds sets the wait before the retry."""
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=0.3))
        caplog.set_level(logging.DEBUG, logger="friendli_images")

        client.generate("x", model="ep")

        times = [r.received_at for r in friendli_server.generation_requests]
        assert "in 0.30 s" in caplog.records[0].getMessage()
        assert times[1] - times[0] >= 0.3

    def test_retry_after_http_date(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Retry-After as an HTTP date is honoured too."""
        when = datetime.now(UTC) + timedelta(seconds=2)
        friendli_server.inject(ErrorStatus(429, retry_after=format_datetime(when, usegmt=True)))
        caplog.set_level(logging.DEBUG, logger="friendli_images")

        client.generate("x", model="ep")

        message = caplog.records[0].getMessage()
        waited = float(message.split(" in ")[1].split(" s")[0])
        assert 0.5 < waited <= 2.0

    def test_retry_after_is_capped(
        self,
        client: FriendliImages,
        friendli_server: FriendliTestServer,
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A huge Retry-After is capped by the one wait rule (_waits.MAX_WAIT, 60 s)."""
        monkeypatch.setattr(friendli_images._waits, "MAX_WAIT", 0.1)
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=3600))
        caplog.set_level(logging.DEBUG, logger="friendli_images")

        client.generate("x", model="ep")

        assert "in 0.10 s" in caplog.records[0].getMessage()

    def test_rate_limit_error_carries_retry_after(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """When retries run out, RateLimitError exposes the server's Retry-After."""
        friendli_server.inject(ErrorStatus.rate_limited(retry_after=0.01), times=3)

        with pytest.raises(RateLimitError) as info:
            client.generate("x", model="ep", max_retries=1)

        assert 0.01 == info.value.retry_after

    @pytest.mark.anyio
    async def test_async_retries(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async client follows the same policy."""
        friendli_server.inject(status_fault(503), times=2)
        await aclient.generate("x", model="ep")
        assert 3 == len(friendli_server.generation_requests)

        friendli_server.reset()
        friendli_server.inject(DropConnection())
        with pytest.raises(APIConnectionError):
            await aclient.generate("x", model="ep")
        assert 1 == len(friendli_server.generation_requests)

    def test_no_secret_in_logs(
        self, friendli_server: FriendliTestServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        """No log record of any library, at DEBUG, contains the token."""
        caplog.set_level(logging.DEBUG)
        friendli_server.inject(ErrorStatus(503, message=f"bad {SECRET}"), times=2)

        with FriendliImages(token=SECRET, base_url=friendli_server.base_url) as client:
            with pytest.raises(AuthenticationError):
                client.generate("x", model="ep")

        assert caplog.records
        assert not [r for r in caplog.records if SECRET in r.getMessage()]


class TestBatch:
    def test_seeds_and_order(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """n=4 with a seed sends seed..seed+3 and keeps request order."""
        result = client.generate(
            "x", model="ep", seed=100, n=4, concurrency=2, response_format="png"
        )

        assert [100, 101, 102, 103] == [image.seed for image in result.images]
        assert [] == result.errors
        assert {100, 101, 102, 103} == {r.json["seed"] for r in friendli_server.generation_requests}

    def test_without_seed_server_chooses(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """Without a seed no seed is sent and each image reports the server's."""
        result = client.generate("x", model="ep", n=3)

        assert 3 == len(result.images)
        assert all("seed" not in r.json for r in friendli_server.generation_requests)

    def test_failure_keeps_the_others(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """One failed request is reported in errors; the other images are kept."""
        friendli_server.inject(status_fault(400, "bad one"))

        result = client.generate("x", model="ep", seed=1, n=3, concurrency=1)

        assert [2, 3] == [image.seed for image in result.images]
        (failure,) = result.errors
        assert (0, 1) == (failure.index, failure.seed)
        assert isinstance(failure.error, BadRequestError)

    def test_strict_raises(
        self, client: FriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """strict=True raises the failure instead of collecting it."""
        friendli_server.inject(status_fault(400, "bad one"))

        with pytest.raises(BadRequestError):
            client.generate("x", model="ep", n=3, concurrency=1, strict=True)

    def test_concurrency_is_used(self, friendli_server: FriendliTestServer) -> None:
        """With latency, n=8 at concurrency 4 overlaps requests (4 in flight at once)."""
        friendli_server.inject(Delay(0.3), times=8)
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url
        ) as client:
            client.generate("x", model="ep", n=8, concurrency=4)

        starts = sorted(r.received_at for r in friendli_server.generation_requests)
        assert starts[3] - starts[0] < 0.25
        assert starts[4] - starts[0] >= 0.25

    @pytest.mark.anyio
    async def test_async_batch(
        self, aclient: AsyncFriendliImages, friendli_server: FriendliTestServer
    ) -> None:
        """The async batch keeps order and collects failures."""
        friendli_server.inject(status_fault(422, "no"))

        result = await aclient.generate("x", model="ep", seed=5, n=3, concurrency=1)

        assert [6, 7] == [image.seed for image in result.images]
        assert [0] == [failure.index for failure in result.errors]
