import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pydantic import SecretStr

from shared.config import Settings
from shared.platforms.base import ChannelTarget, Platform, parse_channel_ref
from shared.platforms.errors import AuthError, InvalidResponse, PlatformUnavailable, RateLimited
from shared.platforms.rumble import RumbleClient
from tests.unit.platforms.support import (
    FakeTime,
    Recorder,
    fixture_bytes,
    fixture_response,
    sequence,
)

KEY = "Gd8f-7kQ_s3cr3tRumbleKey"
USER = "u9k2x"


def ok(name: str | None = None) -> httpx.Response:
    return httpx.Response(200, content=fixture_bytes("rumble", name or "data_live.json"))


def make(
    time: FakeTime, handler: Recorder | None = None, **policy: float
) -> tuple[RumbleClient, Recorder]:
    rec = handler or Recorder(sequence(ok()))
    client = RumbleClient(rec.client(), policy=time.policy(**policy), clock=time.now)
    return client, rec


def target(channel_id: str = USER, key: str | None = KEY) -> ChannelTarget:
    return ChannelTarget(
        platform_channel_id=channel_id, api_key=SecretStr(key) if key is not None else None
    )


def test_one_get_per_key_with_the_key_as_query() -> None:
    time = FakeTime()
    client, rec = make(time)
    batch = client.fetch_live([target()])
    (request,) = rec.requests
    assert request.method == "GET"
    assert str(request.url).startswith("https://rumble.com/-livestream-api/get-data?")
    assert request.url.params["key"] == KEY
    assert batch.requests == 1
    assert batch.quota_units == 0


def test_a_live_stream_and_no_start_time() -> None:
    time = FakeTime()
    client, _ = make(time)
    live = client.fetch_live([target()]).observations[USER]
    assert live.platform is Platform.RUMBLE
    assert live.is_live
    assert live.platform_stream_id == "2j6xo4"
    assert live.title == "Sunday evening build stream"
    assert live.category == "Science & Technology"
    assert live.viewer_count == 287
    # created_on "2023-09-18T13:45:10-04:00" is when the stream was set up, not
    # when it went live: the API has no go-live time, so none is claimed.
    assert live.started_at is None
    assert live.observed_at == time.now()


def test_offline_and_not_yet_live() -> None:
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok("data_offline.json"))))
    assert not client.fetch_live([target()]).observations[USER].is_live
    client, _ = make(time, Recorder(sequence(ok("data_channel.json"))))
    channel = client.fetch_live([target("1000042")]).observations["1000042"]
    assert not channel.is_live  # listed, created, not live yet


def test_followers_and_subscribers_from_the_same_answer() -> None:
    time = FakeTime()
    client, rec = make(time)
    client.fetch_live([target()])
    stats = client.fetch_stats([target()])
    assert stats.stats[USER].followers == 165
    assert stats.stats[USER].subscribers == 12
    assert len(rec.requests) == 1  # within 5 s: the cached answer
    assert stats.requests == 0


def test_php_empty_objects_and_numeric_ids() -> None:
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok("data_channel.json"))))
    stats = client.fetch_stats([target("1000042")])
    assert stats.stats["1000042"].followers == 5210
    assert stats.stats["1000042"].subscribers is None


def test_a_second_call_within_5_seconds_gets_the_cache_then_a_new_request() -> None:
    time = FakeTime()
    client, rec = make(time, Recorder(sequence(ok(), ok("data_offline.json"))))
    first = client.fetch_live([target()])
    time.advance(4.9)
    second = client.fetch_live([target()])
    assert len(rec.requests) == 1
    assert second.observations[USER] == first.observations[USER]
    time.advance(0.1)
    third = client.fetch_live([target()])
    assert len(rec.requests) == 2
    assert not third.observations[USER].is_live
    assert third.observations[USER].observed_at == time.now()
    assert time.sleeps == []


def test_keys_are_limited_independently() -> None:
    time = FakeTime()

    def by_key(request: httpx.Request) -> httpx.Response:
        return ok("data_channel.json" if request.url.params["key"] == "another-key" else None)

    client, rec = make(time, Recorder(by_key))
    batch = client.fetch_live([target(), target("1000042", "another-key")])
    assert len(rec.requests) == 2
    assert time.sleeps == []
    assert set(batch.observations) == {USER, "1000042"}


def test_after_a_failure_the_next_request_waits_out_the_5_seconds() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(502), ok()))
    client, _ = make(time, rec, max_attempts=1)
    failed = client.fetch_live([target()])
    assert isinstance(failed.failures[USER], PlatformUnavailable)
    time.advance(1.0)
    client.fetch_live([target()])
    assert time.sleeps == [pytest.approx(4.0)]
    assert len(rec.requests) == 2


def test_retries_keep_the_per_key_interval() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(503), ok()))
    client, _ = make(time, rec)
    batch = client.fetch_live([target()])
    assert batch.observations[USER].is_live
    # The backoff (0.5 s) and then the rest of the 5 s interval.
    assert time.sleeps == [0.5, pytest.approx(4.5)]


def test_a_retry_that_cannot_fit_before_the_deadline_gives_the_last_error() -> None:
    time = FakeTime()
    rec = Recorder(sequence(httpx.Response(503), ok()))
    client, _ = make(time, rec)
    batch = client.fetch_live([target()], deadline=time.mono + 3)
    error = batch.failures[USER]
    assert type(error) is PlatformUnavailable
    assert error.status == 503
    assert len(rec.requests) == 1


def test_429_honours_retry_after() -> None:
    time = FakeTime()
    rec = Recorder(sequence(fixture_response("rumble", "error_429.response.json"), ok()))
    client, _ = make(time, rec)
    assert client.fetch_live([target()]).observations[USER].is_live
    assert time.sleeps == [7.0]
    rec = Recorder(sequence(fixture_response("rumble", "error_429.response.json")))
    client, _ = make(time, rec, max_attempts=1)
    assert isinstance(client.fetch_live([target()]).failures[USER], RateLimited)


def test_concurrent_calls_for_one_key_make_one_request() -> None:
    time = FakeTime()
    gate = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        gate.wait(1)
        return ok()

    rec = Recorder(slow)
    client, _ = make(time, rec)
    with ThreadPoolExecutor(8) as ex:
        futures = [ex.submit(client.fetch_live, [target()]) for _ in range(8)]
        gate.set()
        results = [f.result() for f in futures]
    assert len(rec.requests) == 1
    assert all(r.observations[USER].is_live for r in results)


def test_the_key_is_never_logged_nor_in_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    time = FakeTime()

    def echo_key(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed to reach {request.url}")

    client, _ = make(time, Recorder(echo_key), max_attempts=2)
    batch = client.fetch_live([target()])
    error = batch.failures[USER]
    assert isinstance(error, PlatformUnavailable)
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert error.__cause__ is None
    assert caplog.records  # the retry was logged
    assert all(KEY not in r.getMessage() and KEY not in str(r.__dict__) for r in caplog.records)


def test_bad_or_missing_keys_are_auth_errors_per_channel() -> None:
    time = FakeTime()
    rec = Recorder(sequence(fixture_response("rumble", "error_401.response.json"), ok()))
    client, _ = make(time, rec)
    batch = client.fetch_live([target("a", "bad-key"), target("b", None), target()])
    assert isinstance(batch.failures["a"], AuthError)
    assert batch.failures["a"].status == 401
    assert isinstance(batch.failures["b"], AuthError)
    # A missing key costs no request; one bad key does not stop the other channels.
    assert batch.observations[USER].is_live
    assert len(rec.requests) == 2


def test_a_key_of_another_account_is_refused() -> None:
    time = FakeTime()
    client, _ = make(time)
    batch = client.fetch_live([target("someone-else")])
    assert isinstance(batch.failures["someone-else"], AuthError)


@pytest.mark.parametrize("name", ["data_wrong_types.json", "data_malformed.json"])
def test_bad_payloads_are_invalid(name: str) -> None:
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok(name))))
    error = client.fetch_live([target()]).failures[USER]
    assert isinstance(error, InvalidResponse)
    assert KEY not in str(error)


def test_resolve_through_the_owner_key() -> None:
    time = FakeTime()
    client, _ = make(time)
    ref = parse_channel_ref(
        Platform.RUMBLE, f"https://rumble.com/-livestream-api/get-data?key={KEY}"
    )
    channel = client.resolve(ref)
    assert channel.platform_channel_id == USER
    assert channel.handle == "StreamTrackDemo"
    assert channel.url == "https://rumble.com/user/StreamTrackDemo"
    named = parse_channel_ref(
        Platform.RUMBLE, "https://rumble.com/user/streamtrackdemo", secret=KEY
    )
    assert client.resolve(named) == channel
    wrong = parse_channel_ref(Platform.RUMBLE, "https://rumble.com/c/Other", secret=KEY)
    with pytest.raises(AuthError):
        client.resolve(wrong)
    with pytest.raises(AuthError, match="key"):
        client.resolve(parse_channel_ref(Platform.RUMBLE, "https://rumble.com/c/Other"))


def test_resolve_a_channel_key() -> None:
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok("data_channel.json"))))
    channel = client.resolve(parse_channel_ref(Platform.RUMBLE, "", secret=KEY))
    assert channel.platform_channel_id == "1000042"
    assert channel.url == "https://rumble.com/c/StreamTrackLive"


def test_from_settings() -> None:
    time = FakeTime()
    rec = Recorder(sequence(ok()))
    settings = Settings(rumble_api_url="http://127.0.0.1:9/-livestream-api/get-data")
    client = RumbleClient.from_settings(settings, http_client=rec.client(), clock=time.now)
    client.fetch_live([target()])
    assert str(rec.requests[0].url).startswith("http://127.0.0.1:9/-livestream-api/get-data?key=")


def test_an_unreadable_livestream_makes_live_status_unknown_not_offline() -> None:
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok("data_one_malformed_livestream.json"))))
    live, stats = client.fetch_live_and_stats([target()])
    assert isinstance(live.failures[USER], InvalidResponse)
    assert USER not in live.observations
    # The same answer's follower count is sound: it is kept.
    assert stats.stats[USER].followers == 165
    assert USER not in stats.failures


def test_a_readable_live_stream_wins_over_an_unreadable_entry() -> None:
    time = FakeTime()
    body = json.loads(fixture_bytes("rumble", "data_live.json"))
    body["livestreams"].append({"id": "2j6xo9", "is_live": "perhaps", "created_on": "soon"})
    client, _ = make(time, Recorder(sequence(httpx.Response(200, json=body))))
    batch = client.fetch_live([target()])
    assert batch.observations[USER].is_live
    assert batch.observations[USER].platform_stream_id == "2j6xo4"


def test_resolving_rumbles_documented_example_refuses_instead_of_an_empty_name() -> None:
    # Rumble's documented answer for a user key carries no `username`: there is no
    # name to show nor page to link, so no channel is made of it.
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok("data_documented_example.json"))))
    with pytest.raises(InvalidResponse, match="username"):
        client.resolve(parse_channel_ref(Platform.RUMBLE, "", secret=KEY))
    named = parse_channel_ref(Platform.RUMBLE, "https://rumble.com/user/someone", secret=KEY)
    with pytest.raises(InvalidResponse) as refused:
        client.resolve(named)
    assert "''" not in str(refused.value)


def test_a_channel_key_without_channel_name_is_refused() -> None:
    time = FakeTime()
    body = json.loads(fixture_bytes("rumble", "data_channel.json"))
    body["channel_name"] = None
    client, _ = make(time, Recorder(sequence(httpx.Response(200, json=body))))
    with pytest.raises(InvalidResponse, match="channel_name"):
        client.resolve(parse_channel_ref(Platform.RUMBLE, "", secret=KEY))


def test_a_documented_answer_still_polls_by_user_id() -> None:
    time = FakeTime()
    client, _ = make(time, Recorder(sequence(ok("data_documented_example.json"))))
    live, stats = client.fetch_live_and_stats([target("XXXXX")])
    assert live.observations["XXXXX"].is_live is False
    assert stats.stats["XXXXX"].followers == 165
