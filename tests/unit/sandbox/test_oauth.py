"""The sandbox's owner OAuth servers and YouTube Analytics reports: the grant rules a
real provider enforces, and reports consistent with the ground truth."""

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from localdev.sandbox import Sandbox
from localdev.sandbox.youtube_analytics import live_minutes
from localdev.sandbox.youtube_api import PACIFIC

REDIRECT = "http://127.0.0.1:9/callback"
START = "2026-11-20T12:00:00Z"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=23, channels=30, mix="twitch=0.5,youtube=0.5", start=START, rate=0) as s:
        yield s


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def _authorize(sb: Sandbox, platform: str, account: str, **extra: str) -> httpx.Response:
    env = sb.settings_env()
    if platform == "twitch":
        base, client = env["TWITCH_AUTH_URL"] + "/authorize", env["TWITCH_CLIENT_ID"]
        scope = "channel:bot moderator:read:followers"
    else:
        base, client = env["GOOGLE_AUTHORIZE_URL"], env["GOOGLE_OAUTH_CLIENT_ID"]
        scope = (
            "https://www.googleapis.com/auth/yt-analytics.readonly "
            "https://www.googleapis.com/auth/youtube.readonly"
        )
    params = {
        "client_id": client,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": scope,
        "state": "st",
        "sandbox_account": account,
        **extra,
    }
    return httpx.get(f"{base}?{urlencode(params)}")


def _code(answer: httpx.Response) -> str:
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["st"]
    return query["code"][0]


def _google_token(sb: Sandbox, form: dict[str, str]) -> httpx.Response:
    env = sb.settings_env()
    return httpx.post(
        env["GOOGLE_TOKEN_URL"],
        data={
            "client_id": env["GOOGLE_OAUTH_CLIENT_ID"],
            "client_secret": env["GOOGLE_OAUTH_CLIENT_SECRET"],
            **form,
        },
    )


def _youtube(sb: Sandbox, index: int) -> dict[str, Any]:
    return sb.channels("youtube")[index]


def test_pkce_is_enforced_and_a_code_is_single_use(sb: Sandbox) -> None:
    account = _youtube(sb, 0)["id"]
    verifier = "v" * 50
    code = _code(
        _authorize(sb, "youtube", account, code_challenge=_challenge(verifier),
                   code_challenge_method="S256")
    )  # fmt: skip
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    wrong = _google_token(sb, exchange | {"code_verifier": "w" * 50})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    granted = _google_token(sb, exchange | {"code_verifier": verifier})
    assert granted.status_code == 200
    body = granted.json()
    assert body["refresh_token"]
    assert isinstance(body["scope"], str)
    again = _google_token(sb, exchange | {"code_verifier": verifier})
    assert again.json()["error"] == "invalid_grant"
    # Reusing a code revokes what it granted (RFC 6749 10.5).
    refresh = _google_token(
        sb, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_codes_expire_and_are_bound_to_the_redirect_uri(sb: Sandbox) -> None:
    account = _youtube(sb, 1)["id"]
    code = _code(_authorize(sb, "youtube", account))
    moved = _google_token(
        sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT + "x"}
    )
    assert moved.json()["error"] == "invalid_grant"
    late = _code(_authorize(sb, "youtube", account))
    sb.clock.advance(601)
    try:
        expired = _google_token(
            sb, {"grant_type": "authorization_code", "code": late, "redirect_uri": REDIRECT}
        )
    finally:
        sb.clock.set(START)
    assert expired.json()["error"] == "invalid_grant"


def test_there_is_no_sign_in_page_without_an_account_and_cancel_is_access_denied(
    sb: Sandbox,
) -> None:
    assert _authorize(sb, "youtube", "").status_code == 400
    denied = _authorize(sb, "twitch", sb.channels("twitch")[0]["id"], sandbox_deny="1")
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]
    # A YouTube account cannot sign in at Twitch.
    assert _authorize(sb, "twitch", _youtube(sb, 0)["id"]).status_code == 400


def test_twitch_rotates_refresh_tokens_and_validate_names_the_user(sb: Sandbox) -> None:
    env = sb.settings_env()
    account = sb.channels("twitch")[1]["id"]
    code = _code(_authorize(sb, "twitch", account))
    creds = {"client_id": env["TWITCH_CLIENT_ID"], "client_secret": env["TWITCH_CLIENT_SECRET"]}
    token_url = env["TWITCH_AUTH_URL"] + "/token"
    first = httpx.post(
        token_url,
        data=creds | {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    ).json()
    assert first["scope"] == ["channel:bot", "moderator:read:followers"]
    second = httpx.post(
        token_url,
        data=creds | {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    stale = httpx.post(
        token_url,
        data=creds | {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert stale.status_code == 400
    assert stale.json()["message"] == "Invalid refresh token"
    validated = httpx.get(
        env["TWITCH_AUTH_URL"] + "/validate",
        headers={"Authorization": f"OAuth {second['access_token']}"},
    ).json()
    assert validated["user_id"] == account
    assert validated["client_id"] == env["TWITCH_CLIENT_ID"]
    httpx.post(f"{sb.url}/_sandbox/twitch/oauth/revoke", json={"account": account})
    gone = httpx.get(
        env["TWITCH_AUTH_URL"] + "/validate",
        headers={"Authorization": f"OAuth {second['access_token']}"},
    )
    assert gone.status_code == 401


def _connect_google(sb: Sandbox, index: int, **extra: str) -> str:
    code = _code(_authorize(sb, "youtube", _youtube(sb, index)["id"], **extra))
    body = _google_token(
        sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    ).json()
    return str(body["access_token"])


def _report(sb: Sandbox, token: str, **params: str) -> httpx.Response:
    env = sb.settings_env()
    return httpx.get(
        env["YOUTUBE_ANALYTICS_URL"] + "/reports",
        params={"ids": "channel==MINE", **params},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_reports_need_the_owner_token_and_the_analytics_scope(sb: Sandbox) -> None:
    days = {
        "startDate": "2026-11-01",
        "endDate": "2026-11-10",
        "metrics": "views",
        "dimensions": "day",
    }
    assert _report(sb, "nope", **days).status_code == 401
    narrow = _connect_google(
        sb, 2, sandbox_drop_scope="https://www.googleapis.com/auth/yt-analytics.readonly"
    )
    refused = _report(sb, narrow, **days)
    assert refused.status_code == 403
    assert refused.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    mine = httpx.get(
        sb.settings_env()["YOUTUBE_API_URL"] + "/channels",
        params={"part": "id", "mine": "true"},
        headers={"Authorization": f"Bearer {narrow}"},
    ).json()
    assert [c["id"] for c in mine["items"]] == [_youtube(sb, 2)["id"]]


def test_daily_reports_settle_and_agree_with_the_truth(sb: Sandbox) -> None:
    index = next(i for i, c in enumerate(sb.channels("youtube")) if not c["dormant"])
    token = _connect_google(sb, index)
    metrics = "views,estimatedMinutesWatched,subscribersGained,subscribersLost"
    answer = _report(
        sb, token, startDate="2026-11-01", endDate="2026-11-20", metrics=metrics, dimensions="day"
    ).json()
    rows = {r[0]: r[1:] for r in answer["rows"]}
    assert [h["name"] for h in answer["columnHeaders"]] == ["day", *metrics.split(",")]
    today = datetime.fromisoformat(START).astimezone(PACIFIC).date()
    assert str(today - timedelta(days=1)) not in rows  # less than 24 hours old
    assert str(today - timedelta(days=2)) in rows
    truth = httpx.get(
        f"{sb.url}/_sandbox/youtube/analytics",
        params={"channel": _youtube(sb, index)["id"], "from": "2026-11-01", "to": "2026-11-20"},
    ).json()["days"]
    final = {d["day"]: d for d in truth}
    ch = _youtube(sb, index)["id"]
    for day, (views, minutes, gained, lost) in rows.items():
        d = date.fromisoformat(day)
        start = datetime(d.year, d.month, d.day, tzinfo=PACIFIC)
        after = d + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=PACIFIC)
        followers = sb.truth(start.astimezone(UTC), end.astimezone(UTC), channel=ch, viewers=False)
        net = followers["channels"][0]["followers"]
        assert gained - lost == net["to"] - net["from"]  # the truth's followers, exactly
        if d <= today - timedelta(days=4):
            assert (views, minutes) == (final[day]["views"], final[day]["estimatedMinutesWatched"])
        else:
            assert minutes <= final[day]["estimatedMinutesWatched"]


def test_a_streams_live_minutes_are_the_truths_viewer_curve(sb: Sandbox) -> None:
    truth = sb.truth("2026-10-22T00:00:00Z", "2026-11-16T00:00:00Z", platform="youtube")
    channel, stream = next(
        (c, s) for c in truth["channels"] for s in c["streams"] if s["start"] and s["end"]
    )
    index = next(i for i, c in enumerate(sb.channels("youtube")) if c["id"] == channel["id"])
    token = _connect_google(sb, index)
    answer = _report(
        sb,
        token,
        startDate="2026-10-21",
        endDate="2026-11-19",
        dimensions="video",
        filters=f"video=={stream['id']}",
        metrics="estimatedMinutesWatched,peakConcurrentViewers,averageConcurrentViewers",
        sort="-views",
    ).json()
    [[video, minutes, peak, average]] = answer["rows"]
    assert video == stream["id"]
    assert peak == stream["peak_viewers"]
    # Minutes from the truth's per-minute viewers, integrated over the live seconds.
    start, end = (datetime.fromisoformat(stream[k]).timestamp() for k in ("start", "end"))
    expected = 0.0
    for minute, viewers in stream["viewers"]:
        t = datetime.fromisoformat(minute).timestamp()
        expected += viewers * max(0.0, min(end, t + 60) - max(start, t)) / 60
    assert minutes == round(expected)
    assert average == pytest.approx(expected / ((end - start) / 60), abs=0.05)
    s = next(
        x
        for x in sb.ctx.schedule.between(sb.population.find(channel["id"]), start - 1, end + 1)
        if x.start == start
    )  # fmt: skip
    assert round(live_minutes(sb.ctx, s, start, end)) == minutes
