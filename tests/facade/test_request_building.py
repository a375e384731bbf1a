"""Requests built without ``httpx.Client.build_request`` (the plain case, issue 25) carry
what httpx would have sent; a client with cookies or default query parameters goes through
httpx itself. Checked on the loopback test server, against what it received."""

from __future__ import annotations

import httpx
import pytest
from friendli_images import AsyncFriendliImages, FriendliImages
from friendli_images.testing import FriendliTestServer

MODEL = "test-endpoint"


def _last_headers(server: FriendliTestServer) -> httpx.Headers:
    return server.requests[-1].headers


class TestPlainRequests:
    def test_the_library_headers_replace_the_clients_and_its_own_stay(
        self, friendli_server: FriendliTestServer
    ) -> None:
        """A user's ``http_client`` keeps its own headers; ours replace the same names."""
        with (
            httpx.Client(headers={"X-Trace": "abc", "User-Agent": "theirs"}) as http,
            FriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
            ) as client,
        ):
            client.generate("a lighthouse", model=MODEL, response_format="url")
            client.generate("a second lighthouse", model=MODEL, response_format="url")

        headers = _last_headers(friendli_server)
        assert headers["x-trace"] == "abc"
        assert headers["user-agent"].startswith("friendli-images/")
        assert headers.get_list("user-agent") == [headers["user-agent"]]
        assert headers["authorization"] == f"Bearer {friendli_server.token}"
        assert headers["content-type"] == "application/json"
        assert int(headers["content-length"]) == friendli_server.requests[-1].body_length

    def test_each_request_has_its_own_length(self, friendli_server: FriendliTestServer) -> None:
        """The merged headers are reused; the body's length is each request's own."""
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url
        ) as client:
            client.generate("short", model=MODEL, response_format="url")
            client.generate("a much longer prompt " * 20, model=MODEL, response_format="url")

        first, second = friendli_server.requests[-2:]
        assert int(first.headers["content-length"]) == first.body_length
        assert int(second.headers["content-length"]) == second.body_length
        assert first.body_length < second.body_length

    def test_extra_headers_are_sent_on_their_call_only(
        self, friendli_server: FriendliTestServer
    ) -> None:
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url
        ) as client:
            client.generate("x", model=MODEL, response_format="url", extra_headers={"X-Debug": "1"})
            client.generate("y", model=MODEL, response_format="url")

        with_extra, without = friendli_server.requests[-2:]
        assert with_extra.headers["x-debug"] == "1"
        assert "x-debug" not in without.headers

    @pytest.mark.anyio
    async def test_async_plain_request(self, friendli_server: FriendliTestServer) -> None:
        async with (
            httpx.AsyncClient(headers={"X-Trace": "async"}) as http,
            AsyncFriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
            ) as client,
        ):
            await client.generate("a lighthouse", model=MODEL, response_format="url")

        headers = _last_headers(friendli_server)
        assert headers["x-trace"] == "async"
        assert headers["authorization"] == f"Bearer {friendli_server.token}"


class TestThroughHttpx:
    def test_cookies_and_default_params_of_the_users_client_are_sent(
        self, friendli_server: FriendliTestServer
    ) -> None:
        with (
            httpx.Client(cookies={"session": "s1"}, params={"tenant": "t1"}) as http,
            FriendliImages(
                token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
            ) as client,
        ):
            client.generate("a lighthouse", model=MODEL, response_format="url")

        recorded = friendli_server.requests[-1]
        assert recorded.headers["cookie"] == "session=s1"
        assert "tenant=t1" in recorded.query
