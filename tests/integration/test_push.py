"""Push against the real database: callbacks record once and refuse without writing,
revocations fall back to polling, deliveries reach channel_status, sessions and the
Realtime broadcast through the monitor's write path, and a push and a poll of the
same change make one session and one "went live" broadcast."""

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest
from azure.functions.decorators.function_app import Function
from pydantic import SecretStr

from shared.config import Settings, get_settings
from shared.db import Database
from shared.platforms.polling import Observation
from shared.platforms.push import BadSignature, PushNotConfigured, PushRequest
from shared.push import apply
from shared.push.receive import receive
from shared.realtime import status_topic
from tests.factories import push as signed
from tests.factories.teams import make_team
from tests.integration.push_support import RULES, Scripted, channel, poll, unique_pcid
from tests.unit.platforms.support import fixture_bytes

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ONLINE = fixture_bytes("twitch", "eventsub_stream_online.json")
OFFLINE = fixture_bytes("twitch", "eventsub_stream_offline.json")


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "twitch_eventsub_secret": SecretStr(signed.EVENTSUB_SECRET),
        "youtube_websub_secret": SecretStr(signed.WEBSUB_SECRET),
        "kick_webhook_public_key": signed.kick_public_pem(0),
    }
    return Settings(**(base | values))


def online(pcid: str, stream: str = "9001", started: str = "2026-12-03T11:59:30Z") -> bytes:
    body = json.loads(ONLINE)
    body["event"] |= {"broadcaster_user_id": pcid, "id": stream, "started_at": started}
    body["subscription"]["condition"]["broadcaster_user_id"] = pcid
    return json.dumps(body).encode()


def offline(pcid: str) -> bytes:
    body = json.loads(OFFLINE)
    body["event"]["broadcaster_user_id"] = pcid
    return json.dumps(body).encode()


def deliveries(database: Database, message_id: str) -> list[tuple[Any, ...]]:
    with database.service() as conn:
        return conn.execute(
            "select platform::text, kind, processed_at is not null from public.push_deliveries"
            " where message_id = %s",
            (message_id,),
        ).fetchall()


def status(database: Database, cid: uuid.UUID) -> tuple[Any, ...] | None:
    with database.service() as conn:
        return conn.execute(
            "select is_live, platform_stream_id, viewer_count, changed_at"
            " from public.channel_status where channel_id = %s",
            (cid,),
        ).fetchone()


def sessions(database: Database, cid: uuid.UUID) -> list[tuple[Any, ...]]:
    with database.service() as conn:
        return conn.execute(
            "select platform_stream_id, started_at, ended_at, sample_count, peak_viewers"
            " from public.stream_sessions where channel_id = %s order by started_at",
            (cid,),
        ).fetchall()


def went_live_broadcasts(database: Database, team: uuid.UUID, cid: uuid.UUID) -> list[bool]:
    """The is_live values broadcast for the channel, oldest first."""
    with database.service() as conn:
        rows = conn.execute(
            "select payload from realtime.messages where topic = %s order by inserted_at, id",
            (status_topic(team),),
        ).fetchall()
    found = []
    for (payload,) in rows:
        for item in payload["channels"]:
            if uuid.UUID(item["channel_id"]) == cid:
                found.append(bool(item["is_live"]))
    return found


def apply_now(database: Database, fetchers: Mapping[str, Any] | None = None) -> apply.ApplyReport:
    return apply.apply_pending(database, fetchers or {}, RULES, clock=lambda: T0)


# --- callbacks ----------------------------------------------------------------------


def test_a_delivery_is_recorded_once_and_a_replay_is_acknowledged(database: Database) -> None:
    mid = f"msg-{uuid.uuid4()}"
    request = signed.eventsub(online("1"), at=T0, message_id=mid)
    first = receive(database, "twitch", request, settings(), T0)
    again = receive(database, "twitch", request, settings(), T0 + timedelta(seconds=5))
    assert (first.status, first.outcome) == (200, "recorded")
    assert (again.status, again.outcome) == (200, "duplicate")
    assert deliveries(database, mid) == [("twitch", "notification", False)]


@pytest.mark.parametrize("platform", ["twitch", "youtube"])
def test_no_secret_is_503_and_nothing_written(database: Database, platform: str) -> None:
    mid = f"msg-{uuid.uuid4()}"
    request = (
        signed.eventsub(online("1"), at=T0, message_id=mid)
        if platform == "twitch"
        else signed.websub(fixture_bytes("youtube", "websub_notification.xml"))
    )
    bare = settings(twitch_eventsub_secret=None, youtube_websub_secret=None)
    with pytest.raises(PushNotConfigured):
        receive(database, platform, request, bare, T0)
    assert deliveries(database, mid) == []


def test_a_bad_signature_writes_nothing(database: Database) -> None:
    mid = f"msg-{uuid.uuid4()}"
    request = signed.eventsub(online("1"), at=T0, message_id=mid, secret="wrong-secret-012345")
    with pytest.raises(BadSignature):
        receive(database, "twitch", request, settings(), T0)
    assert deliveries(database, mid) == []


def _http(fn: Function, request: PushRequest) -> func.HttpResponse:
    req = func.HttpRequest(
        method=request.method,
        url="http://localhost/api/push/x",
        headers=dict(request.headers),
        params=dict(request.query),
        body=request.body,
    )
    response: func.HttpResponse = fn.get_user_function()(req)
    return response


@pytest.fixture
def push_env(app_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITCH_EVENTSUB_SECRET", signed.EVENTSUB_SECRET)
    monkeypatch.setenv("YOUTUBE_WEBSUB_SECRET", signed.WEBSUB_SECRET)
    monkeypatch.setenv("KICK_WEBHOOK_PUBLIC_KEY", signed.kick_public_pem(0))
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{}", {}, 400),
        (b"x" * (300 * 1024), {}, 413),
    ],
)
def test_http_refusals_are_problem_json(
    push_env: None, app_functions: dict[str, Function], body: bytes, headers: dict[str, str],
    status: int,
) -> None:  # fmt: skip
    response = _http(app_functions["push_twitch"], PushRequest("POST", headers, {}, body))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.get_body())["status"] == status


def test_http_verification_echoes_the_challenge_as_text(
    push_env: None, app_functions: dict[str, Function]
) -> None:
    body = fixture_bytes("twitch", "eventsub_verification.json")
    request = signed.eventsub(body, at=datetime.now(UTC), kind="webhook_callback_verification")
    response = _http(app_functions["push_twitch"], request)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_body() == b"pogchamp-kappa-360noscope-vohiyo"


def test_http_stale_delivery_is_403(push_env: None, app_functions: dict[str, Function]) -> None:
    request = signed.eventsub(online("1"), at=datetime.now(UTC) - timedelta(minutes=30))
    response = _http(app_functions["push_twitch"], request)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_http_kick_delivery_is_recorded(
    push_env: None, app_functions: dict[str, Function], database: Database
) -> None:
    mid = f"01{uuid.uuid4().hex[:24].upper()}"
    request = signed.kick(
        fixture_bytes("kick", "webhook_status_live.json"), at=datetime.now(UTC), message_id=mid
    )
    assert _http(app_functions["push_kick"], request).status_code == 200
    assert deliveries(database, mid) == [("kick", "notification", False)]


def test_websub_handshake_only_for_a_topic_we_asked_for(database: Database) -> None:
    team = make_team(database)
    pcid = "UC" + uuid.uuid4().hex[:22]
    cid = channel(database, team, "youtube", pcid)
    topic = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={pcid}"
    unknown = signed.websub_handshake("subscribe", topic)
    with pytest.raises(Exception, match="did not ask"):
        receive(database, "youtube", unknown, settings(), T0)
    with database.service() as conn:
        conn.execute(
            "insert into public.push_subscriptions (channel_id, platform, event_type, remote_id)"
            " values (%s, 'youtube', 'feed', %s)",
            (cid, topic),
        )
    answer = receive(
        database, "youtube", signed.websub_handshake("subscribe", topic), settings(), T0
    )
    assert (answer.status, answer.body) == (200, "a-challenge-1234")
    with database.service() as conn:
        row = conn.execute(
            "select status, lease_expires_at from public.push_subscriptions where channel_id = %s",
            (cid,),
        ).fetchone()
    assert row == ("enabled", T0 + timedelta(seconds=432000))
    # An unsubscribe nobody asked for (someone asking the hub to drop us) is refused.
    with pytest.raises(Exception, match="did not ask"):
        receive(database, "youtube", signed.websub_handshake("unsubscribe", topic), settings(), T0)


def test_a_revocation_falls_back_to_polling(database: Database) -> None:
    team = make_team(database)
    pcid = unique_pcid()
    cid = channel(database, team, "twitch", pcid)
    remote = str(uuid.uuid4())
    with database.service() as conn:
        conn.execute(
            "insert into public.push_subscriptions"
            " (channel_id, platform, event_type, remote_id, status)"
            " values (%s, 'twitch', 'stream.online', %s, 'enabled')",
            (cid, remote),
        )
    body = json.loads(fixture_bytes("twitch", "eventsub_revocation.json"))
    body["subscription"]["id"] = remote
    request = signed.eventsub(json.dumps(body).encode(), at=T0, kind="revocation")
    assert receive(database, "twitch", request, settings(), T0).outcome == "revoked"
    with database.service() as conn:
        row = conn.execute(
            "select status, revoked_reason from public.push_subscriptions where channel_id = %s",
            (cid,),
        ).fetchone()
    assert row == ("revoked", "authorization_revoked")


# --- applying -----------------------------------------------------------------------


def test_push_online_then_poll_of_the_same_stream_is_one_session(database: Database) -> None:
    team = make_team(database)
    pcid = unique_pcid()
    cid = channel(database, team, "twitch", pcid)
    request = signed.eventsub(online(pcid), at=T0, message_id=f"m-{uuid.uuid4()}")
    receive(database, "twitch", request, settings(), T0)
    report = apply_now(database)
    assert report.observed >= 1
    assert report.sessions_opened >= 1
    (live, stream, viewers, changed) = status(database, cid) or ()
    assert (live, stream, viewers) == (True, "9001", None)
    started = datetime(2026, 12, 3, 11, 59, 30, tzinfo=UTC)
    # The poll a minute later sees the same broadcast, now with viewers.
    poll(
        database, cid, Observation(T0 + timedelta(minutes=1), True, "9001", "t", "c", 120, started)
    )
    assert [s[0] for s in sessions(database, cid)] == ["9001"]
    assert status(database, cid) == (True, "9001", 120, changed)
    # One "went live": the poll's broadcast only updates the viewer count.
    assert went_live_broadcasts(database, team, cid) == [True, True]
    # The same delivery again (a replay or a late duplicate) changes nothing.
    receive(database, "twitch", request, settings(), T0 + timedelta(minutes=2))
    assert apply_now(database).status_changes == 0
    assert len(sessions(database, cid)) == 1


def test_poll_first_then_a_late_push_of_the_same_change(database: Database) -> None:
    team = make_team(database)
    pcid = unique_pcid()
    cid = channel(database, team, "twitch", pcid)
    started = datetime(2026, 12, 3, 11, 59, 30, tzinfo=UTC)
    poll(
        database, cid, Observation(T0 + timedelta(seconds=40), True, "9001", "t", "c", 80, started)
    )
    before = status(database, cid)
    # Delayed delivery, stamped before the poll: not newer, so nothing changes.
    request = signed.eventsub(online(pcid), at=T0, message_id=f"m-{uuid.uuid4()}")
    receive(database, "twitch", request, settings(), T0 + timedelta(minutes=1))
    report = apply_now(database)
    assert report.status_changes == 0
    assert status(database, cid) == before
    assert len(sessions(database, cid)) == 1
    assert went_live_broadcasts(database, team, cid) == [True]


def test_push_offline_keeps_the_grace_period(database: Database) -> None:
    team = make_team(database)
    pcid = unique_pcid()
    cid = channel(database, team, "twitch", pcid)
    first = signed.eventsub(online(pcid), at=T0, message_id=f"m-{uuid.uuid4()}")
    receive(database, "twitch", first, settings(), T0)
    apply_now(database)
    later = T0 + timedelta(minutes=2)
    receive(database, "twitch", signed.eventsub(offline(pcid), at=later,
            message_id=f"m-{uuid.uuid4()}"), settings(), later)  # fmt: skip
    apply_now(database)
    assert status(database, cid)[0] is False  # type: ignore[index]
    (_stream, _, ended, _, _) = sessions(database, cid)[0]
    assert ended is None, "within the grace period the session stays open"
    # A restart within the grace continues the same session.
    again = T0 + timedelta(minutes=5)
    receive(database, "twitch", signed.eventsub(online(pcid, stream="9002"), at=again,
            message_id=f"m-{uuid.uuid4()}"), settings(), again)  # fmt: skip
    apply_now(database)
    assert len(sessions(database, cid)) == 1
    assert status(database, cid)[0] is True  # type: ignore[index]


def test_a_check_event_polls_the_channel_now(database: Database) -> None:
    team = make_team(database)
    pcid = unique_pcid()
    cid = channel(database, team, "twitch", pcid)
    body = json.loads(fixture_bytes("twitch", "eventsub_channel_update.json"))
    body["event"]["broadcaster_user_id"] = pcid
    request = signed.eventsub(json.dumps(body).encode(), at=T0, message_id=f"m-{uuid.uuid4()}")
    receive(database, "twitch", request, settings(), T0)
    started = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    fetcher = Scripted("twitch", {pcid: Observation(T0, True, "77", "new title", "c", 5, started)})
    report = apply_now(database, {"twitch": fetcher})
    assert [t.id for batch in fetcher.asked for t in batch] == [cid]
    assert report.polled == 1
    assert status(database, cid)[:3] == (True, "77", 5)


def test_a_delivery_for_an_untracked_channel_is_consumed(database: Database) -> None:
    mid = f"m-{uuid.uuid4()}"
    receive(database, "twitch", signed.eventsub(online(unique_pcid()), at=T0, message_id=mid),
            settings(), T0)  # fmt: skip
    apply_now(database)
    assert deliveries(database, mid) == [("twitch", "notification", True)]


def test_applied_deliveries_are_pruned_after_a_week(database: Database) -> None:
    old, recent = f"old-{uuid.uuid4()}", f"recent-{uuid.uuid4()}"
    with database.service() as conn:
        for mid, age in ((old, timedelta(days=8)), (recent, timedelta(days=6))):
            conn.execute(
                "insert into public.push_deliveries (platform, message_id, kind, payload,"
                " received_at, processed_at) values ('kick', %s, 'notification', '{}', %s, %s)",
                (mid, T0 - age, T0 - age),
            )
    apply_now(database)
    assert deliveries(database, old) == []
    assert deliveries(database, recent) == [("kick", "notification", True)]
