"""The pure decisions of sleeping, waking and waiting, as tables."""

from __future__ import annotations

import math

import pytest
from friendli_images import InvalidRequestError
from friendli_images._endpoints._rules import (
    Action,
    check_wait_timeout,
    endpoint_id_for_model,
    is_not_ready,
    next_action,
    poll_delay,
)


class TestEndpointIdForModel:
    @pytest.mark.parametrize(
        ("model", "expected"),
        [
            pytest.param("dep123", "dep123", id="plain"),
            pytest.param("dep123:my-adapter", "dep123", id="adapter-route"),
            pytest.param("dep123:a:b", "dep123", id="first-colon-only"),
            pytest.param(" dep123 ", "dep123", id="spaces-trimmed"),
        ],
    )
    def test_valid(self, model: str, expected: str) -> None:
        """ENDPOINT_ID:ADAPTER_ROUTE runs on ENDPOINT_ID."""
        assert expected == endpoint_id_for_model(model)

    @pytest.mark.parametrize(
        "model",
        [
            pytest.param("", id="empty"),
            pytest.param("   ", id="blank"),
            pytest.param(":adapter", id="no-endpoint"),
            pytest.param("a/b", id="slash"),
            pytest.param("a b", id="inner-space"),
            pytest.param("..", id="dot-dot"),
            pytest.param(".", id="dot"),
            pytest.param("a%2Fb", id="percent"),
            pytest.param("a\\b", id="backslash"),
            pytest.param(5, id="not-a-string"),
            pytest.param(None, id="none"),
        ],
    )
    def test_invalid(self, model: object) -> None:
        """Anything that names no endpoint is an InvalidRequestError naming the parameter."""
        with pytest.raises(InvalidRequestError) as caught:
            endpoint_id_for_model(model, param="endpoint_id")

        assert "endpoint_id" == caught.value.param


class TestNextAction:
    @pytest.mark.parametrize(
        ("status", "wake", "woken", "expected"),
        [
            pytest.param("RUNNING", False, False, Action.READY, id="running"),
            pytest.param("READY", False, False, Action.READY, id="ready"),
            pytest.param("running", False, False, Action.READY, id="lower-case"),
            pytest.param("SLEEPING", True, False, Action.WAKE, id="sleeping-wake"),
            pytest.param("SLEEPING", True, True, Action.WAIT, id="sleeping-already-woken"),
            pytest.param("SLEEPING", False, False, Action.WAIT, id="sleeping-no-wake"),
            pytest.param("AWAKING", True, False, Action.WAIT, id="awaking"),
            pytest.param("INITIALIZING", True, False, Action.WAIT, id="initializing"),
            pytest.param("UPDATING", False, False, Action.WAIT, id="updating"),
            pytest.param("UNKNOWN", False, False, Action.WAIT, id="unknown"),
            pytest.param("HIBERNATING", True, False, Action.WAIT, id="new-status"),
            pytest.param("FAILED", True, False, Action.FAILED, id="failed"),
            pytest.param("STOPPING", False, False, Action.STOPPED, id="stopping"),
            pytest.param("TERMINATING", False, False, Action.STOPPED, id="terminating"),
            pytest.param("TERMINATED", True, False, Action.STOPPED, id="terminated"),
        ],
    )
    def test_table(self, status: str, wake: bool, woken: bool, expected: Action) -> None:
        """Ready, fail and stop are final; SLEEPING is woken at most once; the rest waits."""
        assert expected == next_action(status, wake=wake, woken=woken)


class TestPollDelay:
    @pytest.mark.parametrize(
        ("polls_taken", "remaining", "random", "expected"),
        [
            pytest.param(0, 100.0, 0.0, 1.0, id="first"),
            pytest.param(1, 100.0, 0.0, 1.5, id="grows"),
            pytest.param(2, 100.0, 0.0, 2.25, id="grows-again"),
            pytest.param(20, 100.0, 0.0, 15.0, id="capped"),
            pytest.param(0, 100.0, 1.0, 0.75, id="jitter-at-most-25pc"),
            pytest.param(20, 100.0, 0.5, 13.125, id="jitter-on-cap"),
            pytest.param(5, 0.3, 0.0, 0.3, id="never-past-deadline"),
            pytest.param(0, -2.0, 0.0, 0.0, id="deadline-passed"),
        ],
    )
    def test_table(
        self, polls_taken: int, remaining: float, random: float, expected: float
    ) -> None:
        """Backoff 1 s x1.5 up to 15 s, minus up to 25% jitter, cut at the deadline."""
        assert expected == pytest.approx(poll_delay(polls_taken, remaining, random=lambda: random))


class TestIsNotReady:
    @pytest.mark.parametrize(
        ("status_code", "message", "expected"),
        [
            pytest.param(503, None, True, id="503-always"),
            pytest.param(503, "Service Unavailable", True, id="503-any-message"),
            pytest.param(500, "The endpoint is sleeping", False, id="500-may-have-generated"),
            pytest.param(502, "endpoint is waking up", True, id="502-waking"),
            pytest.param(504, "Deployment not ready", False, id="504-may-have-generated"),
            pytest.param(429, "Endpoint is AWAKING, retry later", True, id="429-awaking"),
            pytest.param(500, "Engine initializing", False, id="500-initializing-never"),
            pytest.param(429, "Too many requests", False, id="429-rate-limit"),
            pytest.param(429, "Queued request timed out", False, id="429-queue-timeout"),
            pytest.param(500, "Internal Server Error", False, id="500-plain"),
            pytest.param(500, None, False, id="500-no-message"),
            pytest.param(404, "endpoint is sleeping", False, id="404-never"),
            pytest.param(422, "not ready", False, id="422-never"),
        ],
    )
    def test_table(self, status_code: int, message: str | None, expected: bool) -> None:
        """503 always means not ready; 429 and 502 only when their message says so; 500 and
        504 never (the request may have generated: re-sending is retry_ambiguous's)."""
        assert expected == is_not_ready(status_code, message)


class TestCheckWaitTimeout:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [pytest.param(1, 1.0, id="int"), pytest.param(0.25, 0.25, id="float")],
    )
    def test_valid(self, value: float, expected: float) -> None:
        """Positive finite seconds are accepted as floats."""
        assert expected == check_wait_timeout(value, "timeout")

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(0, id="zero"),
            pytest.param(-1, id="negative"),
            pytest.param(math.nan, id="nan"),
            pytest.param(math.inf, id="inf"),
            pytest.param(None, id="none"),
            pytest.param(True, id="bool"),
            pytest.param("60", id="string"),
        ],
    )
    def test_invalid(self, value: object) -> None:
        """Every wait has a finite deadline: anything else is rejected, naming the parameter."""
        with pytest.raises(InvalidRequestError) as caught:
            check_wait_timeout(value, "wait_for_endpoint")

        assert "wait_for_endpoint" == caught.value.param
