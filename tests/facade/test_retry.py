"""The retry policy's pure decisions, as tables."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from friendli_images import _config
from friendli_images._transport._retry import is_retryable, parse_retry_after, retry_delay, was_sent

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC).timestamp()


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (None, None),
            ("", None),
            ("3", 3.0),
            (" 10 ", 10.0),
            ("0.5", 0.5),
            ("-4", 0.0),
            ("soon", None),
            ("nan", None),
            ("inf", None),
            ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
            ("Wed, 25 Nov 2026 11:59:00 GMT", 0.0),
            ("Wed, 25 Nov 2026 12:00:30", None),
            ("Mon, 99 Foo 2026 12:00:30 GMT", None),
            ("Wed Nov 25 12:00:30 2026", 30.0),  # asctime (RFC 9110), implicitly GMT
            ("Wed Nov  5 12:00:30 2026", 0.0),  # asctime pads the day with a space
            ("Wednesday, 25-Nov-26 12:00:30 GMT", 30.0),  # RFC 850
            ("Wed Nov 25 12:00:30", None),
        ],
    )
    def test_table(self, header: str | None, expected: float | None) -> None:
        """Seconds and HTTP dates are read; past dates give 0; garbage gives None."""
        assert expected == parse_retry_after(header, now=NOW)


class TestRetryDelay:
    @pytest.mark.parametrize(
        ("retries_taken", "random", "expected"),
        [
            (0, 0.0, 0.5),
            (1, 0.0, 1.0),
            (2, 0.0, 2.0),
            (3, 0.0, 4.0),
            (4, 0.0, 8.0),
            (10, 0.0, 8.0),
            (0, 0.999, 0.5 * (1 - 0.25 * 0.999)),
            (4, 1.0, 6.0),
        ],
    )
    def test_backoff(self, retries_taken: int, random: float, expected: float) -> None:
        """Exponential from 0.5 s, capped at 8 s, minus up to 25% jitter."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_config, "INITIAL_RETRY_DELAY", 0.5)
            patch.setattr(_config, "MAX_RETRY_DELAY", 8.0)

            assert expected == pytest.approx(
                retry_delay(retries_taken, None, random=lambda: random)
            )

    @pytest.mark.parametrize(("retry_after", "expected"), [(0.0, 0.0), (3.0, 3.0), (600.0, 60.0)])
    def test_retry_after_wins_up_to_cap(self, retry_after: float, expected: float) -> None:
        """A Retry-After replaces backoff, capped at MAX_RETRY_AFTER (60 s)."""
        assert expected == retry_delay(5, retry_after, random=lambda: 0.5)


class TestIsRetryable:
    @pytest.mark.parametrize(
        ("status", "sent", "ambiguous_ok", "expected"),
        [
            (None, False, False, True),
            (None, True, False, False),
            (None, True, True, True),
            (408, True, False, True),
            (429, True, False, True),
            (502, True, False, True),
            (503, True, False, True),
            (500, True, False, False),
            (504, True, False, False),
            (500, True, True, True),
            (504, True, True, True),
            (400, True, True, False),
            (401, True, True, False),
            (404, True, True, False),
            (422, True, True, False),
            (501, True, True, False),
        ],
    )
    def test_table(
        self, status: int | None, sent: bool, ambiguous_ok: bool, expected: bool
    ) -> None:
        """Safe failures retry by default; ambiguous ones only when opted in; others never."""
        assert expected == is_retryable(status_code=status, sent=sent, retry_ambiguous=ambiguous_ok)


class TestWasSent:
    request = httpx.Request("POST", "http://127.0.0.1/x")

    @pytest.mark.parametrize(
        ("error", "sent"),
        [
            (httpx.ConnectError("refused"), False),
            (httpx.ConnectTimeout("slow"), False),
            (httpx.PoolTimeout("busy"), False),
            (httpx.ReadTimeout("slow"), True),
            (httpx.WriteTimeout("slow"), True),
            (httpx.ReadError("reset"), True),
            (httpx.WriteError("reset"), True),
            (httpx.RemoteProtocolError("dropped"), True),
            (httpx.LocalProtocolError("illegal header value"), False),
        ],
    )
    def test_table(self, error: httpx.HTTPError, sent: bool) -> None:
        """Only failures before the first byte left count as not sent."""
        assert sent == was_sent(error)
