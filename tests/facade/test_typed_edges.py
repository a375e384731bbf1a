"""Only the library's typed errors leave its API: regressions for the ones that escaped.

``httpx.ResponseNotRead`` from an endpoint answer over its 1 MiB limit; httpx's
``RuntimeError`` from a closed client; ``Event loop is closed`` from closing an async
client whose first loop ended; and an all-failed batch that looked like success.
"""

from __future__ import annotations

import asyncio
import gc
import pickle
import warnings

import pytest
from friendli_images import (
    APIResponseValidationError,
    AsyncFriendliImages,
    BadRequestError,
    BatchFailedError,
    BatchFailure,
    ClientClosedError,
    FriendliImages,
    InvalidRequestError,
)
from friendli_images.testing import ErrorStatus, FriendliTestServer

HUGE = {"detail": "x" * (2 * 1024 * 1024)}  # over the endpoint API's 1 MiB limit


class TestEndpointAnswerOverItsLimit:
    @pytest.mark.parametrize("status", [200, 500])
    @pytest.mark.parametrize("operation", ["status", "wake", "sleep"])
    def test_sync(self, friendli_server: FriendliTestServer, status: int, operation: str) -> None:
        friendli_server.add_endpoint("dep1")
        friendli_server.inject(ErrorStatus(status, body=HUGE), route="endpoint")
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, max_retries=0
        ) as client:
            call = {
                "status": client.endpoint_status,
                "wake": client.wake_endpoint,
                "sleep": client.sleep_endpoint,
            }[operation]
            with pytest.raises(APIResponseValidationError, match="larger than its limit") as caught:
                call("dep1")
        assert caught.value.response is not None
        assert status == caught.value.response.status_code
        assert caught.value.body is None  # never read whole, so never kept

    @pytest.mark.anyio
    @pytest.mark.parametrize("status", [200, 503])
    async def test_async(self, friendli_server: FriendliTestServer, status: int) -> None:
        friendli_server.add_endpoint("dep1")
        friendli_server.inject(ErrorStatus(status, body=HUGE), route="endpoint")
        async with AsyncFriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, max_retries=0
        ) as client:
            with pytest.raises(APIResponseValidationError, match="larger than its limit"):
                await client.endpoint_status("dep1")


class TestClosedClient:
    def test_every_call_of_a_closed_sync_client_is_refused_unsent(
        self, friendli_server: FriendliTestServer
    ) -> None:
        friendli_server.add_endpoint("dep1")
        client = FriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)
        kept = client.generate("p", model="m", response_format="url")
        client.close()
        before = len(friendli_server.requests)

        for call in (
            lambda: client.generate("p", model="m"),
            lambda: client.generate("p", model="m", n=3),
            lambda: client.endpoint_status("dep1"),
            lambda: client.wait_until_ready("dep1", timeout=1),
            lambda: list(client.generate_many([{"prompt": "p", "model": "m"}])),
        ):
            with pytest.raises(ClientClosedError, match="closed"):
                call()

        assert before == len(friendli_server.requests)  # nothing sent
        assert kept.images[0].content()  # a result's image still downloads

    def test_a_closed_user_http_client(self, friendli_server: FriendliTestServer) -> None:
        import httpx

        http = httpx.Client()
        http.close()
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, http_client=http
        ) as client:
            with pytest.raises(ClientClosedError):
                client.generate("p", model="m")
        assert [] == friendli_server.requests

    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    @pytest.mark.parametrize("how", ["aclose", "async with"])
    def test_closing_after_the_first_loop_ended(
        self, friendli_server: FriendliTestServer, how: str
    ) -> None:
        """A batch in one asyncio.run() left pooled connections; closing the client in a
        second loop drops them instead of failing with 'Event loop is closed'."""
        client = AsyncFriendliImages(token=friendli_server.token, base_url=friendli_server.base_url)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # the first loop's sockets
            asyncio.run(client.generate("p", model="m", n=3))

        async def close() -> None:
            if how == "aclose":
                await client.aclose()
            else:
                async with client:
                    result = await client.generate("p", model="m", n=2)
                    assert 2 == len(result.images)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # the first loop's sockets
            asyncio.run(close())
            gc.collect()  # they are dropped, and collected here, where they are expected


class TestAllFailedIsAFailure:
    def test_sync_raises_with_every_failure(self, friendli_server: FriendliTestServer) -> None:
        friendli_server.inject(ErrorStatus(400, message="no"), times=4)
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url
        ) as client:
            with pytest.raises(BatchFailedError, match="all 4 requests") as caught:
                client.generate("p", model="m", n=4, seed=10)

        failures = caught.value.failures
        assert [0, 1, 2, 3] == [f.index for f in failures]
        assert [10, 11, 12, 13] == [f.seed for f in failures]
        assert all(isinstance(f.error, BadRequestError) for f in failures)
        copy = pickle.loads(pickle.dumps(caught.value))
        assert str(caught.value) == str(copy)
        assert 4 == len(copy.failures)

    @pytest.mark.anyio
    async def test_async_raises_and_partial_stays(
        self, friendli_server: FriendliTestServer
    ) -> None:
        async with AsyncFriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, max_retries=0
        ) as client:
            friendli_server.inject(ErrorStatus(400), times=3)
            with pytest.raises(BatchFailedError):
                await client.generate("p", model="m", n=3, concurrency=1)
            friendli_server.inject(ErrorStatus(400), times=2)
            result = await client.generate("p", model="m", n=3, concurrency=1)

        assert 1 == len(result.images)  # partial: the image kept, the failures listed
        assert 2 == len(result.errors)

    def test_distinct_errors_are_counted(self, friendli_server: FriendliTestServer) -> None:
        friendli_server.inject(ErrorStatus(400, message="one"))
        friendli_server.inject(ErrorStatus(422, message="two"))
        with FriendliImages(
            token=friendli_server.token, base_url=friendli_server.base_url, max_retries=0
        ) as client:
            with pytest.raises(BatchFailedError, match="2 different errors"):
                client.generate("p", model="m", n=2, concurrency=1)


class TestBatchFailureIsAValue:
    """``BatchFailure`` is a plain class (attrs loads with the first call, not the import):
    it keeps the value semantics it had as an attrs class."""

    error = InvalidRequestError("no", param="seed")

    def test_equal_and_hashed_by_its_fields(self) -> None:
        one = BatchFailure(1, 7, self.error)

        assert one == BatchFailure(1, 7, self.error)
        assert one != BatchFailure(2, 7, self.error)
        assert one != (1, 7, self.error)
        assert 1 == len({one, BatchFailure(1, 7, self.error)})

    def test_immutable(self) -> None:
        one = BatchFailure(1, None, self.error)

        with pytest.raises(AttributeError, match="immutable"):
            one.index = 2  # type: ignore[misc]
        with pytest.raises(AttributeError, match="immutable"):
            del one.seed
        assert not hasattr(one, "__dict__")

    def test_repr_pickle_and_match(self) -> None:
        one = BatchFailure(0, 3, self.error)

        assert repr(one).startswith("BatchFailure(index=0, seed=3, error=InvalidRequestError(")
        copy = pickle.loads(pickle.dumps(one))
        assert (0, 3, str(self.error)) == (copy.index, copy.seed, str(copy.error))
        match one:
            case BatchFailure(index, seed, error):
                assert (0, 3, self.error) == (index, seed, error)
            case _:
                pytest.fail("BatchFailure did not match its positional pattern")
