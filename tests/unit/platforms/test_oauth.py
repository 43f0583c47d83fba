"""Owners' OAuth clients (Twitch, Google) and YouTube Analytics reports, against their
documented wire formats: the requests sent, the answers parsed, the refusals classified."""

import base64
import hashlib
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from shared.config import Settings
from shared.platforms.errors import AuthError, InvalidResponse
from shared.platforms.oauth import InvalidGrant, TokenAnswer, pkce_pair
from shared.platforms.retry import Cost
from shared.platforms.twitch.oauth import CONNECT as TWITCH
from shared.platforms.youtube.analytics import YouTubeAnalytics
from shared.platforms.youtube.oauth import CONNECT as GOOGLE
from tests.unit.platforms.support import (
    FakeTime,
    Recorder,
    fixture_json,
    fixture_response,
    json_response,
    sequence,
)

SETTINGS = Settings(
    twitch_client_id="wbmytr93xzw8zbg0p1izqyzzc5mbiz",
    twitch_client_secret=SecretStr("twitch-secret"),
    google_oauth_client_id="google-client",
    google_oauth_client_secret=SecretStr("google-secret"),
)
CALLBACK = "https://api.example.test/api/connections/callback"


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.content.decode()).items()}


def test_pkce_pair_is_s256_of_a_long_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pkce_pair()[0] != verifier


def test_token_answers_read_scopes_as_a_string_or_a_list() -> None:
    google = TokenAnswer.model_validate(fixture_json("google", "oauth_token.json"))
    twitch = TokenAnswer.model_validate(fixture_json("twitch", "oauth_token.json"))
    assert len(google.scope) == 2
    assert twitch.scope == ("channel:bot", "moderator:read:followers")


def test_google_authorization_url_asks_offline_consent_with_pkce() -> None:
    time = FakeTime()
    provider = GOOGLE.provider(SETTINGS, httpx.Client(), time.policy(), time.now)
    url = provider.authorization_url(state="s.t.ate", redirect_uri=CALLBACK, challenge="abc")
    parts = urlsplit(url)
    q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SETTINGS.google_authorize_url
    assert q["access_type"] == "offline"
    assert q["prompt"] == "consent"
    assert q["code_challenge"] == "abc"
    assert q["code_challenge_method"] == "S256"
    assert q["state"] == "s.t.ate"
    assert q["redirect_uri"] == CALLBACK
    assert q["response_type"] == "code"
    with pytest.raises(ValueError, match="PKCE"):
        provider.authorization_url(state="s", redirect_uri=CALLBACK, challenge=None)


def test_google_exchange_sends_the_verifier_and_secret_and_reads_the_expiry() -> None:
    time = FakeTime()
    recorder = Recorder(lambda r: json_response(fixture_json("google", "oauth_token.json")))
    provider = GOOGLE.provider(SETTINGS, recorder.client(), time.policy(), time.now)
    granted = provider.exchange("4/0code", redirect_uri=CALLBACK, verifier="v" * 64, deadline=None)
    form = _form(recorder.requests[0])
    assert recorder.requests[0].url == SETTINGS.google_token_url
    assert form == {
        "grant_type": "authorization_code",
        "code": "4/0code",
        "redirect_uri": CALLBACK,
        "code_verifier": "v" * 64,
        "client_id": "google-client",
        "client_secret": "google-secret",
    }
    assert granted.refresh_token == "1//0gsandbox-refresh-token"
    assert granted.expires_at == time.now() + timedelta(seconds=3599)
    assert "refresh-token" not in repr(granted)


def test_google_refresh_keeps_the_refresh_token_it_does_not_rotate() -> None:
    time = FakeTime()
    recorder = Recorder(lambda r: json_response(fixture_json("google", "oauth_refresh.json")))
    provider = GOOGLE.provider(SETTINGS, recorder.client(), time.policy(), time.now)
    granted = provider.refresh("1//old", deadline=None)
    assert _form(recorder.requests[0])["grant_type"] == "refresh_token"
    assert granted.refresh_token == "1//old"
    assert granted.access_token == "ya29.a0AfB_refreshed-access-token"


def test_google_invalid_grant_is_a_dead_grant_and_invalid_client_is_not() -> None:
    time = FakeTime()
    dead = Recorder(lambda r: fixture_response("google", "oauth_invalid_grant.response.json"))
    provider = GOOGLE.provider(SETTINGS, dead.client(), time.policy(), time.now)
    with pytest.raises(InvalidGrant, match="expired or revoked") as caught:
        provider.refresh("1//secret-refresh", deadline=None)
    assert "secret-refresh" not in str(caught.value)
    assert len(dead.requests) == 1  # never retried
    ours = Recorder(lambda r: fixture_response("google", "oauth_invalid_client.response.json"))
    provider = GOOGLE.provider(SETTINGS, ours.client(), time.policy(), time.now)
    with pytest.raises(AuthError) as caught_client:
        provider.refresh("1//x", deadline=None)
    assert not isinstance(caught_client.value, InvalidGrant)


def test_google_owner_lists_the_channels_of_the_token() -> None:
    time = FakeTime()
    recorder = Recorder(lambda r: json_response(fixture_json("youtube", "channels_mine.json")))
    provider = GOOGLE.provider(SETTINGS, recorder.client(), time.policy(), time.now)
    account = provider.owner("ya29.token", deadline=None)
    sent = recorder.requests[0]
    assert sent.headers["authorization"] == "Bearer ya29.token"
    assert sent.url.params["mine"] == "true"
    assert "key" not in sent.url.params
    assert account.channel_ids == frozenset({"UCowner000000000000000001"})
    empty = Recorder(lambda r: json_response({"kind": "youtube#channelListResponse"}))
    provider = GOOGLE.provider(SETTINGS, empty.client(), time.policy(), time.now)
    assert provider.owner("t", deadline=None).channel_ids == frozenset()


def test_twitch_exchange_has_no_pkce_and_a_dead_refresh_token_is_invalid_grant() -> None:
    time = FakeTime()
    recorder = Recorder(
        sequence(
            json_response(fixture_json("twitch", "oauth_token.json")),
            fixture_response("twitch", "oauth_invalid_refresh.response.json"),
        )
    )
    provider = TWITCH.provider(SETTINGS, recorder.client(), time.policy(), time.now)
    url = provider.authorization_url(state="s", redirect_uri=CALLBACK, challenge=None)
    q = parse_qs(urlsplit(url).query)
    assert "code_challenge" not in q
    assert q["force_verify"] == ["true"]
    assert q["scope"] == ["channel:bot moderator:read:followers"]
    granted = provider.exchange("code", redirect_uri=CALLBACK, verifier="ignored", deadline=None)
    assert "code_verifier" not in _form(recorder.requests[0])
    assert granted.scopes == ("channel:bot", "moderator:read:followers")
    with pytest.raises(InvalidGrant):
        provider.refresh(granted.refresh_token or "", deadline=None)


def test_twitch_validate_names_the_broadcaster_and_refuses_other_clients() -> None:
    time = FakeTime()
    recorder = Recorder(lambda r: json_response(fixture_json("twitch", "oauth_validate.json")))
    provider = TWITCH.provider(SETTINGS, recorder.client(), time.policy(), time.now)
    account = provider.owner("usertoken", deadline=None)
    assert recorder.requests[0].headers["authorization"] == "OAuth usertoken"
    assert recorder.requests[0].url.path.endswith("/oauth2/validate")
    assert account.channel_ids == frozenset({"141981764"})
    assert provider.validate_every_s == 3600

    other = dict(fixture_json("twitch", "oauth_validate.json"), client_id="someone-else")
    foreign = Recorder(lambda r: json_response(other))
    provider = TWITCH.provider(SETTINGS, foreign.client(), time.policy(), time.now)
    with pytest.raises(InvalidGrant, match="another client"):
        provider.owner("usertoken", deadline=None)

    revoked = Recorder(lambda r: fixture_response("twitch", "oauth_validate_401.response.json"))
    provider = TWITCH.provider(SETTINGS, revoked.client(), time.policy(), time.now)
    with pytest.raises(InvalidGrant):
        provider.owner("usertoken", deadline=None)


def test_revoking_a_token_already_dead_is_not_an_error() -> None:
    time = FakeTime()
    recorder = Recorder(lambda r: fixture_response("twitch", "oauth_revoke_invalid.response.json"))
    provider = TWITCH.provider(SETTINGS, recorder.client(), time.policy(), time.now)
    provider.revoke("gone", deadline=None)
    assert _form(recorder.requests[0]) == {"client_id": SETTINGS.twitch_client_id, "token": "gone"}


# --- YouTube Analytics ----------------------------------------------------------------------


def _analytics(recorder: Recorder) -> YouTubeAnalytics:
    return YouTubeAnalytics(
        recorder.client(),
        url="https://youtubeanalytics.googleapis.com/v2",
        policy=FakeTime().policy(),
        timeout_s=5,
    )


def test_daily_report_asks_the_documented_names_and_parses_rows() -> None:
    recorder = Recorder(lambda r: json_response(fixture_json("youtube", "analytics_daily.json")))
    cost = Cost()
    days = _analytics(recorder).daily(
        "tok", date(2026, 11, 14), date(2026, 11, 17), cost=cost, deadline=None
    )
    params = recorder.requests[0].url.params
    assert params["ids"] == "channel==MINE"
    assert params["dimensions"] == "day"
    assert params["metrics"] == (
        "views,estimatedMinutesWatched,averageViewDuration,subscribersGained,subscribersLost"
    )
    assert (params["startDate"], params["endDate"]) == ("2026-11-14", "2026-11-17")
    assert recorder.requests[0].headers["authorization"] == "Bearer tok"
    assert [d.day for d in days] == [date(2026, 11, 16), date(2026, 11, 17)]
    assert days[0].estimated_minutes_watched == 9875
    assert days[0].subscribers_lost == 4
    assert cost.requests == 1
    empty = Recorder(lambda r: json_response(fixture_json("youtube", "analytics_empty.json")))
    assert (
        _analytics(empty).daily("t", date(2026, 1, 1), date(2026, 1, 2), cost=Cost(), deadline=None)
        == []
    )


def test_a_malformed_report_row_is_invalid_response_not_a_key_error() -> None:
    recorder = Recorder(
        lambda r: json_response(fixture_json("youtube", "analytics_daily_malformed.json"))
    )
    with pytest.raises(InvalidResponse):
        _analytics(recorder).daily(
            "t", date(2026, 11, 1), date(2026, 11, 30), cost=Cost(), deadline=None
        )
    garbage = Recorder(lambda r: httpx.Response(200, content=b"<html>nope"))
    with pytest.raises(InvalidResponse):
        _analytics(garbage).daily(
            "t", date(2026, 11, 1), date(2026, 11, 30), cost=Cost(), deadline=None
        )


def test_stream_report_falls_back_without_live_metrics_when_refused() -> None:
    without_live = {
        "columnHeaders": [
            {"name": "video"},
            {"name": "views"},
            {"name": "estimatedMinutesWatched"},
            {"name": "averageViewDuration"},
        ],
        "rows": [["dQw4w9WgXcQ", 812, 9744, 720]],
    }
    recorder = Recorder(
        sequence(
            fixture_response("youtube", "analytics_query_not_supported.response.json"),
            json_response(without_live),
        )
    )
    figures = _analytics(recorder).streams(
        "t", ["dQw4w9WgXcQ"], date(2026, 11, 10), date(2026, 11, 17), cost=Cost(), deadline=None
    )
    first, second = (r.url.params for r in recorder.requests)
    assert "peakConcurrentViewers" in first["metrics"]
    assert first["filters"] == "video==dQw4w9WgXcQ"
    assert second["metrics"] == "views,estimatedMinutesWatched,averageViewDuration"
    assert figures[0].peak_concurrent_viewers is None
    assert figures[0].estimated_minutes_watched == 9744


def test_stream_report_with_live_metrics_and_one_not_asked_for() -> None:
    recorder = Recorder(lambda r: json_response(fixture_json("youtube", "analytics_videos.json")))
    figures = _analytics(recorder).streams(
        "t", ["dQw4w9WgXcQ"], date(2026, 11, 10), date(2026, 11, 17), cost=Cost(), deadline=None
    )
    assert figures[0].average_concurrent_viewers == 81.2
    assert figures[0].peak_concurrent_viewers == 140
    with pytest.raises(InvalidResponse, match="not asked for"):
        _analytics(recorder).streams(
            "t", ["aaaaaaaaaaa"], date(2026, 11, 10), date(2026, 11, 17), cost=Cost(), deadline=None
        )
    assert (
        _analytics(recorder).streams(
            "t", [], date(2026, 1, 1), date(2026, 1, 1), cost=Cost(), deadline=None
        )
        == []
    )


def test_a_revoked_token_is_a_dead_grant_for_reports() -> None:
    recorder = Recorder(
        lambda r: fixture_response("youtube", "analytics_unauthenticated.response.json")
    )
    with pytest.raises(InvalidGrant):
        _analytics(recorder).daily(
            "t", date(2026, 11, 1), date(2026, 11, 2), cost=Cost(), deadline=None
        )
    assert len(recorder.requests) == 1
