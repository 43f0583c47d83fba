"""The one retry policy, through `Sender` on a mock transport (zero real waits)."""

import email.utils
import logging

import httpx
import pytest

from shared.config import Settings
from shared.platforms import retry as retry_module
from shared.platforms.base import Platform
from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    InvalidResponse,
    NotFound,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)
from shared.platforms.retry import (
    Cost,
    RetryPolicy,
    Sender,
    error_for_status,
    retry_after_of,
)
from tests.unit.platforms.support import WALL_START, FakeTime, Recorder, sequence

URL = "https://api.example.test/thing"


def sender(time: FakeTime, recorder: Recorder, **policy: float) -> Sender:
    def classify(response: httpx.Response) -> PlatformError:
        return error_for_status(Platform.TWITCH, response, "nope", wall_now=time.wall)

    return Sender(recorder.client(), Platform.TWITCH, time.policy(**policy), 10.0, classify)


def ok() -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def test_retries_5xx_with_exponential_backoff_then_succeeds() -> None:
    time, cost = FakeTime(), Cost()
    rec = Recorder(sequence(httpx.Response(503), httpx.Response(502), httpx.Response(500), ok()))
    response = sender(time, rec).send("GET", URL, cost=cost)
    assert response.json() == {"ok": True}
    # Full jitter up to 0.5, 1, 2 s (the fake jitter picks the top of the range).
    assert time.sleeps == [0.5, 1.0, 2.0]
    assert cost.requests == 4


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(backoff_initial_s=1.0, backoff_max_s=4.0)
    error = PlatformUnavailable("x", platform=Platform.TWITCH)
    waits = [policy.backoff(error, attempt) for attempt in range(1, 7) for _ in range(50)]
    assert all(w is not None and 0.0 <= w <= 4.0 for w in waits)
    assert len(set(waits)) > 10


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    time, cost = FakeTime(), Cost()
    rec = Recorder(sequence(httpx.Response(503, headers={"X-Request-Id": "req-42"})))
    with pytest.raises(PlatformUnavailable) as info:
        sender(time, rec, max_attempts=3).send("GET", URL, cost=cost)
    assert info.value.status == 503
    assert info.value.request_id == "req-42"
    assert len(rec.requests) == cost.requests == 3
    assert len(time.sleeps) == 2


def test_max_attempts_comes_from_settings() -> None:
    assert RetryPolicy.from_settings(Settings(platform_max_attempts=2)).max_attempts == 2


def test_retry_after_seconds_is_honoured() -> None:
    time = FakeTime()
    limited = httpx.Response(429, headers={"Retry-After": "7"})
    rec = Recorder(sequence(limited, ok()))
    sender(time, rec).send("GET", URL, cost=Cost())
    assert time.sleeps == [7.0]


def test_retry_after_http_date_is_honoured() -> None:
    time = FakeTime()
    when = email.utils.formatdate(WALL_START + 12, usegmt=True)
    rec = Recorder(sequence(httpx.Response(429, headers={"Retry-After": when}), ok()))
    sender(time, rec).send("GET", URL, cost=Cost())
    assert time.sleeps == [12.0]


def test_twitch_ratelimit_reset_is_honoured() -> None:
    time = FakeTime()
    headers = {"Ratelimit-Remaining": "0", "Ratelimit-Reset": str(int(WALL_START) + 9)}
    rec = Recorder(sequence(httpx.Response(429, headers=headers), ok()))
    sender(time, rec).send("GET", URL, cost=Cost())
    assert time.sleeps == [9.0]


def test_a_wait_longer_than_the_cap_is_not_retried() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(429, headers={"Retry-After": "3600"}), ok()))
    with pytest.raises(RateLimited) as info:
        sender(time, rec, retry_after_cap_s=30.0).send("GET", URL, cost=Cost())
    assert info.value.retry_after == 3600.0
    assert len(rec.requests) == 1
    assert time.sleeps == []


def test_never_sleeps_past_the_deadline() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(429, headers={"Retry-After": "5"}), ok()))
    with pytest.raises(RateLimited):
        sender(time, rec).send("GET", URL, cost=Cost(), deadline=time.mono + 4.0)
    assert time.sleeps == []
    assert len(rec.requests) == 1


def test_retries_within_the_deadline_then_gives_up_with_the_last_error() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(503)))
    with pytest.raises(PlatformUnavailable) as info:
        # Backoff 0.5 + 1.0 fits in 2 s; the next 2.0 would not.
        sender(time, rec, max_attempts=10).send("GET", URL, cost=Cost(), deadline=time.mono + 2)
    assert not isinstance(info.value, DeadlineExceeded)
    assert time.sleeps == [0.5, 1.0]
    assert len(rec.requests) == 3


def test_a_spent_budget_sends_nothing() -> None:
    time = FakeTime()
    rec = Recorder(sequence(ok()))
    with pytest.raises(DeadlineExceeded):
        sender(time, rec).send("GET", URL, cost=Cost(), deadline=time.mono)
    assert rec.requests == []


def test_the_request_timeout_shrinks_to_the_time_left() -> None:
    time = FakeTime()
    seen: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        return ok()

    sender(time, Recorder(handler)).send("GET", URL, cost=Cost(), deadline=time.mono + 2.5)
    assert seen == [2.5]


def test_timeouts_and_transport_errors_are_retried_as_unavailable() -> None:
    time = FakeTime()
    outcomes: list[Exception | httpx.Response] = [
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        ok(),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cost = Cost()
    assert sender(time, Recorder(handler)).send("GET", URL, cost=cost).is_success
    assert cost.requests == 3

    def always_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    with pytest.raises(PlatformUnavailable, match="timed out") as info:
        sender(time, Recorder(always_timeout), max_attempts=2).send("GET", URL, cost=Cost())
    assert info.value.status is None
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, PlatformError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (409, PlatformError),
        (429, RateLimited),
        (500, PlatformUnavailable),
        (503, PlatformUnavailable),
    ],
)
def test_status_mapping(status: int, error: type[PlatformError]) -> None:
    response = httpx.Response(status, headers={"Request-Id": "abc"})
    mapped = error_for_status(Platform.RUMBLE, response, "m", wall_now=WALL_START)
    assert type(mapped) is error
    assert (mapped.platform, mapped.status, mapped.request_id) == (Platform.RUMBLE, status, "abc")


def test_non_retryable_errors_are_raised_at_once() -> None:
    time = FakeTime()
    for status in (400, 401, 403, 404):
        rec = Recorder(sequence(httpx.Response(status), ok()))
        with pytest.raises(PlatformError):
            sender(time, rec).send("GET", URL, cost=Cost())
        assert len(rec.requests) == 1
    assert time.sleeps == []


def test_secrets_never_reach_error_messages() -> None:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    s = sender(time, Recorder(handler), max_attempts=1)
    with pytest.raises(PlatformUnavailable) as info:
        s.send("GET", URL, params={"key": "hunter2"}, cost=Cost(), extra_secrets=["hunter2"])
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.args)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_undecodable_bodies_are_invalid_responses() -> None:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    with pytest.raises(InvalidResponse):
        sender(time, Recorder(handler)).send("GET", URL, cost=Cost())


def test_retry_after_parsing() -> None:
    assert retry_after_of({"retry-after": "2.5"}, WALL_START) == 2.5
    assert retry_after_of({"retry-after": "-3"}, WALL_START) == 0.0
    assert retry_after_of({"ratelimit-reset": str(WALL_START - 5)}, WALL_START) == 0.0
    assert retry_after_of({"retry-after": "soon"}, WALL_START) is None
    assert retry_after_of({}, WALL_START) is None


def test_a_retry_after_a_first_failure_logs_and_backs_off_as_tenacity_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(503), httpx.Response(500), ok()))
    with caplog.at_level(logging.WARNING, logger="shared.platforms.retry"):
        assert sender(time, rec).send("GET", URL, cost=Cost()).is_success
    retries = [r for r in caplog.records if r.name == "shared.platforms.retry"]
    assert [(r.attempt, r.wait_s, r.status) for r in retries] == [  # type: ignore[attr-defined]
        (1, 0.5, 503),
        (2, 1.0, 500),
    ]
    assert retries[0].getMessage() == "twitch: retrying after PlatformUnavailable in 0.50 s"
    assert time.sleeps == [0.5, 1.0]
    assert len(rec.requests) == 3


def test_tenacity_runs_only_once_an_attempt_failed_worth_retrying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[object] = []
    real = retry_module.Retrying

    def counting(*args: object, **kwargs: object) -> object:
        built.append(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retry_module, "Retrying", counting)
    time = FakeTime()
    assert sender(time, Recorder(sequence(ok()))).send("GET", URL, cost=Cost()).is_success
    with pytest.raises(NotFound):
        sender(time, Recorder(sequence(httpx.Response(404)))).send("GET", URL, cost=Cost())
    assert built == []
    rec = Recorder(sequence(httpx.Response(502), ok()))
    assert sender(time, rec).send("GET", URL, cost=Cost()).is_success
    assert len(built) == 1
    assert len(rec.requests) == 2


def test_the_last_attempt_counts_the_replayed_first_one() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(503)))
    cost = Cost()
    with pytest.raises(PlatformUnavailable):
        sender(time, rec, max_attempts=2).send("GET", URL, cost=cost)
    assert len(rec.requests) == cost.requests == 2
    assert time.sleeps == [0.5]
    with pytest.raises(PlatformUnavailable):
        sender(time, Recorder(sequence(httpx.Response(503))), max_attempts=1).send(
            "GET", URL, cost=Cost()
        )
    assert time.sleeps == [0.5]


def test_pacing_out_of_time_before_the_first_attempt_sends_nothing() -> None:
    time = FakeTime()
    rec = Recorder(sequence(ok()))

    def pace(deadline: float | None) -> None:
        raise DeadlineExceeded("no time to pace", platform=Platform.TWITCH)

    with pytest.raises(DeadlineExceeded, match="no time to pace"):
        sender(time, rec).send("GET", URL, cost=Cost(), deadline=time.mono + 5, pace=pace)
    assert rec.requests == []


def test_pacing_out_of_time_before_a_retry_raises_the_platforms_answer() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(503), ok()))
    calls: list[float | None] = []

    def pace(deadline: float | None) -> None:
        calls.append(deadline)
        if len(calls) > 1:
            raise DeadlineExceeded("no time to pace", platform=Platform.TWITCH)

    with pytest.raises(PlatformUnavailable) as info:
        sender(time, rec).send("GET", URL, cost=Cost(), deadline=time.mono + 5, pace=pace)
    assert info.value.status == 503
    assert len(rec.requests) == 1
    assert len(calls) == 2
