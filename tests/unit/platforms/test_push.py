"""Push sources: signature tables for EventSub, WebSub and Kick, handshakes, revocations,
and what each delivery reads as (fixtures in the platforms' documented wire format)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from shared.config import Settings
from shared.platforms.kick.push import KickPush
from shared.platforms.polling import PollState, PollTarget
from shared.platforms.push import (
    BadSignature,
    DeliveryKind,
    MalformedDelivery,
    MissingHeaders,
    PushNotConfigured,
    PushRefused,
    PushRequest,
    StaleMessage,
)
from shared.platforms.registry import Platform, spec
from shared.platforms.twitch.push import TwitchPush
from shared.platforms.youtube.push import YouTubePush
from tests.factories import push as signed
from tests.unit.platforms.support import fixture_bytes

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCuAXFkgsw1L7xaCfnd5JJOw"


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "twitch_eventsub_secret": SecretStr(signed.EVENTSUB_SECRET),
        "youtube_websub_secret": SecretStr(signed.WEBSUB_SECRET),
        "kick_webhook_public_key": signed.kick_public_pem(0),
    }
    return Settings(**(base | values))


def test_the_pushing_platforms_declare_a_source() -> None:
    assert isinstance(spec(Platform.TWITCH).push, TwitchPush)
    assert isinstance(spec(Platform.YOUTUBE).push, YouTubePush)
    assert isinstance(spec(Platform.KICK).push, KickPush)
    assert spec(Platform.RUMBLE).push is None
    for declared in (spec(p) for p in Platform):
        if declared.push is not None:
            assert set(declared.push.required_types) <= set(declared.push.event_types)


# --- EventSub -----------------------------------------------------------------------

ONLINE = fixture_bytes("twitch", "eventsub_stream_online.json")
STARTED = b'"started_at": "2020-10-11T10:11:12.123Z"'


def _tampered(req: PushRequest) -> PushRequest:
    return replace(req, body=req.body.replace(b'"9001"', b'"9002"'))


def _other_secret(req: PushRequest) -> PushRequest:
    return signed.eventsub(ONLINE, at=NOW, secret="another-secret-0123456789")


def _bad_prefix(req: PushRequest) -> PushRequest:
    sig = req.headers["twitch-eventsub-message-signature"].replace("sha256=", "sha1=")
    return replace(req, headers={**req.headers, "twitch-eventsub-message-signature": sig})


def _upper_hex(req: PushRequest) -> PushRequest:
    sig = req.headers["twitch-eventsub-message-signature"]
    return replace(req, headers={**req.headers, "twitch-eventsub-message-signature": sig.upper()})


def _other_id(req: PushRequest) -> PushRequest:
    return replace(req, headers={**req.headers, "twitch-eventsub-message-id": "another-id"})


EVENTSUB_TABLE = [
    ("valid", lambda r: r, None),
    ("wrong secret", _other_secret, BadSignature),
    ("body tampered", _tampered, BadSignature),
    ("message id swapped", _other_id, BadSignature),
    ("wrong prefix", _bad_prefix, BadSignature),
    ("signature case changed", _upper_hex, BadSignature),
    ("stale timestamp", lambda r: signed.eventsub(ONLINE, at=NOW - timedelta(minutes=11)),
     StaleMessage),
    ("from the future", lambda r: signed.eventsub(ONLINE, at=NOW + timedelta(minutes=11)),
     StaleMessage),
    ("nine minutes old", lambda r: signed.eventsub(ONLINE, at=NOW - timedelta(minutes=9)), None),
    *[
        (f"missing {h}", lambda r, h=h: signed.eventsub(ONLINE, at=NOW, drop=h), MissingHeaders)
        for h in (
            "twitch-eventsub-message-id",
            "twitch-eventsub-message-timestamp",
            "twitch-eventsub-message-signature",
            "twitch-eventsub-message-type",
        )
    ],
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "mutate", "error"), EVENTSUB_TABLE, ids=[c[0] for c in EVENTSUB_TABLE]
)
def test_eventsub_signature_table(case: str, mutate: Any, error: type[Exception] | None) -> None:
    request = mutate(signed.eventsub(ONLINE, at=NOW))
    source = TwitchPush()
    if error is None:
        delivery = source.receive(request, settings(), NOW)
        assert delivery.kind is DeliveryKind.NOTIFICATION
        assert delivery.message_id == request.headers["twitch-eventsub-message-id"]
    else:
        with pytest.raises(error) as caught:
            source.receive(request, settings(), NOW)
        assert 400 <= caught.value.status < 500


@pytest.mark.parametrize("secret", [None, "short"])
def test_eventsub_without_a_usable_secret_is_503(secret: str | None) -> None:
    config = settings(twitch_eventsub_secret=SecretStr(secret) if secret else None)
    with pytest.raises(PushNotConfigured) as caught:
        TwitchPush().receive(signed.eventsub(ONLINE, at=NOW), config, NOW)
    assert caught.value.status == 503


def test_eventsub_stream_online_is_a_live_observation_with_the_stream_id() -> None:
    delivery = TwitchPush().receive(signed.eventsub(ONLINE, at=NOW), settings(), NOW)
    (event,) = delivery.events
    assert event.platform_channel_id == "1337"
    assert event.observation is not None
    obs = event.observation
    assert (obs.is_live, obs.platform_stream_id, obs.viewer_count) == (True, "9001", None)
    assert obs.started_at == datetime(2020, 10, 11, 10, 11, 12, 123000, tzinfo=UTC)
    # Stamped with Twitch's message time, so a later poll is newer and an older one is not.
    assert obs.observed_at == datetime.fromisoformat(request_stamp := signed.stamp(NOW))
    assert request_stamp.endswith("Z")


def test_eventsub_stream_offline_and_channel_update() -> None:
    body = fixture_bytes("twitch", "eventsub_stream_offline.json")
    (offline,) = TwitchPush().receive(signed.eventsub(body, at=NOW), settings(), NOW).events
    assert offline.observation is not None
    assert not offline.observation.is_live
    body = fixture_bytes("twitch", "eventsub_channel_update.json")
    (update,) = TwitchPush().receive(signed.eventsub(body, at=NOW), settings(), NOW).events
    assert update.observation is None
    assert update.platform_channel_id == "1337"


def test_eventsub_rerun_is_left_to_the_poll() -> None:
    body = ONLINE.replace(b'"type": "live"', b'"type": "rerun"')
    (event,) = TwitchPush().receive(signed.eventsub(body, at=NOW), settings(), NOW).events
    assert event.observation is None


def test_eventsub_verification_answers_the_challenge_as_text() -> None:
    body = fixture_bytes("twitch", "eventsub_verification.json")
    source = TwitchPush()
    request = signed.eventsub(body, at=NOW, kind="webhook_callback_verification")
    delivery = source.receive(request, settings(), NOW)
    assert delivery.kind is DeliveryKind.VERIFICATION
    assert source.acknowledge(delivery) == (200, "text/plain", "pogchamp-kappa-360noscope-vohiyo")
    assert delivery.subscription_id == "f1c2a387-161a-49f9-a165-0f21d7a4e1c4"


def test_eventsub_revocation_carries_its_reason() -> None:
    body = fixture_bytes("twitch", "eventsub_revocation.json")
    request = signed.eventsub(body, at=NOW, kind="revocation")
    delivery = TwitchPush().receive(request, settings(), NOW)
    assert delivery.kind is DeliveryKind.REVOCATION
    assert delivery.reason == "authorization_revoked"
    assert delivery.subscription_id == "f1c2a387-161a-49f9-a165-0f21d7a4e1c4"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"subscription": {}}',
        ONLINE.replace(b'"1337",\n    "broadcaster_user_login"', b'1337, "broadcaster_user_login"'),
        ONLINE.replace(STARTED, b'"started_at": "yesterday"'),
        ONLINE.replace(STARTED, b'"started_at": "2020-10-11T10:11:12"'),
    ],
)  # fmt: skip
def test_eventsub_signed_but_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(MalformedDelivery) as caught:
        TwitchPush().receive(signed.eventsub(body, at=NOW), settings(), NOW)
    assert caught.value.status == 400


def test_eventsub_unknown_message_type_is_400() -> None:
    with pytest.raises(MalformedDelivery):
        TwitchPush().receive(signed.eventsub(ONLINE, at=NOW, kind="gossip"), settings(), NOW)


# --- WebSub -------------------------------------------------------------------------

ATOM = fixture_bytes("youtube", "websub_notification.xml")


WEBSUB_TABLE = [
    ("valid", lambda: signed.websub(ATOM), None),
    ("wrong secret", lambda: signed.websub(ATOM, secret="nope"), BadSignature),
    ("body tampered", lambda: replace(signed.websub(ATOM), body=ATOM.replace(b"dQw4w9", b"dQw4w8")),
     BadSignature),
    ("unsigned", lambda: signed.websub(ATOM, signed=False), MissingHeaders),
    ("sha256 instead of sha1", lambda: replace(
        signed.websub(ATOM), headers={"x-hub-signature": "sha256=" + "0" * 64}), BadSignature),
]  # fmt: skip


@pytest.mark.parametrize(("case", "build", "error"), WEBSUB_TABLE, ids=[c[0] for c in WEBSUB_TABLE])
def test_websub_signature_table(case: str, build: Any, error: type[Exception] | None) -> None:
    source = YouTubePush()
    if error is None:
        delivery = source.receive(build(), settings(), NOW)
        (event,) = delivery.events
        assert (event.platform_channel_id, event.check) == (
            "UCuAXFkgsw1L7xaCfnd5JJOw",
            ("dQw4w9WgXcQ",),
        )
        assert delivery.message_id.startswith("sha256:")
    else:
        with pytest.raises(error):
            source.receive(build(), settings(), NOW)


def test_websub_replay_has_the_same_message_id() -> None:
    first = YouTubePush().receive(signed.websub(ATOM), settings(), NOW)
    again = YouTubePush().receive(signed.websub(ATOM), settings(), NOW + timedelta(hours=1))
    assert first.message_id == again.message_id


def test_websub_without_a_secret_is_503() -> None:
    with pytest.raises(PushNotConfigured):
        YouTubePush().receive(signed.websub(ATOM), settings(youtube_websub_secret=None), NOW)


def test_websub_deleted_entry_is_accepted_with_no_event() -> None:
    body = fixture_bytes("youtube", "websub_deleted.xml")
    assert YouTubePush().receive(signed.websub(body), settings(), NOW).events == ()


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<feed/>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><feed xmlns="http://www.w3.org/2005/Atom"/>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        ATOM.replace(b"<yt:videoId>dQw4w9WgXcQ</yt:videoId>", b""),
        ATOM.replace(b"UCuAXFkgsw1L7xaCfnd5JJOw</yt:channelId>", b"bad</yt:channelId>"),
    ],
)  # fmt: skip
def test_websub_signed_but_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        YouTubePush().receive(signed.websub(body), settings(), NOW)


def test_websub_handshake_reads_mode_topic_challenge_and_lease() -> None:
    source = YouTubePush()
    delivery = source.receive(signed.websub_handshake("subscribe", TOPIC), settings(), NOW)
    assert delivery.kind is DeliveryKind.VERIFICATION
    assert (delivery.reason, delivery.subscription_id, delivery.lease_seconds) == (
        "subscribe",
        TOPIC,
        432000,
    )
    assert source.acknowledge(delivery) == (200, "text/plain", "a-challenge-1234")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"hub.mode": "subscribe", "hub.topic": TOPIC},
        {"hub.mode": "sideways", "hub.topic": TOPIC, "hub.challenge": "x"},
        {"hub.mode": "subscribe", "hub.challenge": "x"},
        {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "x",
         "hub.lease_seconds": "soon"},
    ],
)  # fmt: skip
def test_websub_handshakes_missing_what_they_need_are_4xx(query: dict[str, str]) -> None:
    with pytest.raises(PushRefused) as caught:
        YouTubePush().receive(PushRequest("GET", {}, query, b""), settings(), NOW)
    assert 400 <= caught.value.status < 500


def test_websub_checks_join_the_candidates_but_not_settled_ones() -> None:
    target = PollTarget(
        id=__import__("uuid").uuid4(),
        platform="youtube",
        platform_channel_id="UCuAXFkgsw1L7xaCfnd5JJOw",
        interval_s=60,
        poll=PollState(candidate_video_ids=("aaaaaaaaaaa",), settled_video_ids=("bbbbbbbbbbb",)),
    )
    got = YouTubePush().with_checks(target, ["dQw4w9WgXcQ", "bbbbbbbbbbb", "not-an-id"])
    assert got.poll.candidate_video_ids == ("dQw4w9WgXcQ", "aaaaaaaaaaa")
    assert got.discover is None, "a feed never read is read at once, as for any channel"
    read = replace(target, poll=replace(target.poll, feed_checked_at=NOW))
    again = YouTubePush().with_checks(read, ["dQw4w9WgXcQ"])
    assert again.discover is False, "the notification said what is new: the feed is not read"


# --- Kick ---------------------------------------------------------------------------

LIVE = fixture_bytes("kick", "webhook_status_live.json")


def _kick_tampered() -> PushRequest:
    request = signed.kick(LIVE, at=NOW)
    return replace(request, body=LIVE.replace(b"Stream Title", b"Stream Titl3"))


def _kick_other_id() -> PushRequest:
    request = signed.kick(LIVE, at=NOW)
    return replace(request, headers={**request.headers, "kick-event-message-id": "01OTHER"})


def _kick_not_base64() -> PushRequest:
    request = signed.kick(LIVE, at=NOW)
    return replace(request, headers={**request.headers, "kick-event-signature": "%%%"})


KICK_TABLE = [
    ("valid", lambda: signed.kick(LIVE, at=NOW), None),
    ("another key", lambda: signed.kick(LIVE, at=NOW, key=1), BadSignature),
    ("body tampered", _kick_tampered, BadSignature),
    ("message id swapped", _kick_other_id, BadSignature),
    ("not base64", _kick_not_base64, BadSignature),
    ("stale timestamp", lambda: signed.kick(LIVE, at=NOW - timedelta(minutes=11)), StaleMessage),
    *[
        (f"missing {h}", lambda h=h: signed.kick(LIVE, at=NOW, drop=h), MissingHeaders)
        for h in ("kick-event-message-id", "kick-event-message-timestamp",
                  "kick-event-signature", "kick-event-type")
    ],
]  # fmt: skip


@pytest.mark.parametrize(("case", "build", "error"), KICK_TABLE, ids=[c[0] for c in KICK_TABLE])
def test_kick_signature_table(case: str, build: Any, error: type[Exception] | None) -> None:
    source = KickPush()
    if error is None:
        delivery = source.receive(build(), settings(), NOW)
        (event,) = delivery.events
        assert event.observation is not None
        obs = event.observation
        # The same derived id the poll gives (broadcaster id and start epoch seconds).
        started = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
        assert obs.platform_stream_id == f"123456789-{int(started.timestamp())}"
        assert (obs.is_live, obs.started_at, obs.title) == (True, started, "Stream Title")
    else:
        with pytest.raises(error):
            source.receive(build(), settings(), NOW)


def test_kick_ended_and_metadata() -> None:
    body = fixture_bytes("kick", "webhook_status_ended.json")
    (ended,) = KickPush().receive(signed.kick(body, at=NOW), settings(), NOW).events
    assert ended.observation is not None
    assert not ended.observation.is_live
    body = fixture_bytes("kick", "webhook_metadata.json")
    request = signed.kick(body, at=NOW, event="livestream.metadata.updated")
    (meta,) = KickPush().receive(request, settings(), NOW).events
    assert meta.observation is None
    assert meta.platform_channel_id == "123456789"


def test_kick_body_of_another_type_than_its_header_is_400() -> None:
    body = fixture_bytes("kick", "webhook_metadata.json")
    with pytest.raises(MalformedDelivery):
        KickPush().receive(signed.kick(body, at=NOW), settings(), NOW)


def test_kick_not_configured_is_503() -> None:
    bare = settings(kick_webhook_public_key=None, kick_client_id=None, kick_client_secret=None)
    with pytest.raises(PushNotConfigured):
        KickPush().receive(signed.kick(LIVE, at=NOW), bare, NOW)


def test_kick_key_is_fetched_once_and_cached() -> None:
    config = settings(
        kick_webhook_public_key=None,
        kick_client_id="id",
        kick_client_secret=SecretStr("secret"),
        kick_api_url="https://kick.example.test/public/v1",
    )
    source = KickPush()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get("https://kick.example.test/public/v1/public-key").mock(
            return_value=httpx.Response(
                200, json={"data": {"public_key": signed.kick_public_pem(0)}, "message": "OK"}
            )
        )
        source.receive(signed.kick(LIVE, at=NOW), config, NOW)
        source.receive(signed.kick(LIVE, at=NOW, message_id="01SECOND"), config, NOW)
    assert route.call_count == 1


def test_kick_key_unavailable_is_503_so_kick_delivers_again() -> None:
    config = settings(
        kick_webhook_public_key=None,
        kick_client_id="id",
        kick_client_secret=SecretStr("secret"),
        kick_api_url="https://kick.example.test/public/v1",
    )
    with respx.mock() as mock:
        mock.get("https://kick.example.test/public/v1/public-key").mock(
            return_value=httpx.Response(500)
        )
        with pytest.raises(PushNotConfigured):
            KickPush().receive(signed.kick(LIVE, at=NOW), config, NOW)


def test_a_covered_channel_skips_only_what_push_reports() -> None:
    read = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    target = PollTarget(
        id=__import__("uuid").uuid4(),
        platform="youtube",
        platform_channel_id="UCuAXFkgsw1L7xaCfnd5JJOw",
        interval_s=60,
        poll=PollState(feed_checked_at=read, candidate_video_ids=("aaaaaaaaaaa",)),
    )
    source = YouTubePush()
    # WebSub announces new videos: no feed read outside the sweep, candidates still checked.
    skipped = source.covered(target, NOW, sweep=False)
    assert skipped.discover is False
    assert skipped.poll.candidate_video_ids == ("aaaaaaaaaaa",)
    # The feed's real read time is kept: it is the sweep's clock.
    assert skipped.poll.feed_checked_at == read
    assert source.swept_at(skipped) == read
    # The sweep reads the feed.
    assert source.covered(target, NOW, sweep=True).discover is True
    never = replace(target, poll=PollState())
    assert source.covered(never, NOW, sweep=False) is never
    # One live request says everything on Twitch and Kick: nothing to skip.
    assert TwitchPush().covered(target, NOW, sweep=False) is target
    assert KickPush().covered(target, NOW, sweep=False) is target
