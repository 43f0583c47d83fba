from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from shared.config import Settings
from shared.platforms.base import ChannelTarget, Platform, parse_channel_ref
from shared.platforms.errors import (
    AuthError,
    InvalidResponse,
    NotFound,
    PlatformUnavailable,
    QuotaExhausted,
)
from shared.platforms.youtube import VideoState, YouTubeClient, quota_day
from tests.unit.platforms.support import (
    FakeTime,
    Recorder,
    fixture_bytes,
    fixture_json,
    fixture_response,
    json_response,
)

KEY = "AIzaSyD-test-key-0123456789"
LOFI = "UCSJ4gkVC6NrvII8umztf0Ow"
QUIET = "UCuAXFkgsw1L7xaCfnd5JJOw"
POOL = {v["id"]: v for v in fixture_json("youtube", "videos.json")["items"]}
LIVE, HIDDEN, UPCOMING, ENDED, UPLOAD = POOL


class FakeYouTube:
    """Feeds for LOFI and QUIET, videos.list over the fixture pool, channels.list."""

    def __init__(self) -> None:
        self.override: dict[str, list[httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        if self.override.get(path):
            return self.override[path].pop(0)
        if path == "videos.xml":
            feeds = {LOFI: "feed.xml", QUIET: "feed_empty.xml"}
            name = feeds.get(request.url.params["channel_id"])
            if name is None:
                return fixture_response("youtube", "feed_404.response.json")
            return httpx.Response(200, content=fixture_bytes("youtube", name))
        if request.url.params.get("key") != KEY:
            return fixture_response("youtube", "error_key_invalid.response.json")
        if path == "videos":
            ids = request.url.params["id"].split(",")
            items = [POOL[i] for i in ids if i in POOL]
            return json_response({"kind": "youtube#videoListResponse", "items": items})
        if path == "channels":
            channels = fixture_json("youtube", "channels.json")
            if handle := request.url.params.get("forHandle"):
                found = [c for c in channels["items"] if c["snippet"]["customUrl"] == handle]
            else:
                ids = request.url.params["id"].split(",")
                found = [c for c in channels["items"] if c["id"] in ids]
            if not found:
                return json_response(fixture_json("youtube", "channels_empty.json"))
            return json_response({**channels, "items": found})
        return httpx.Response(404)


def make(
    time: FakeTime, fake: FakeYouTube | None = None, **policy: Any
) -> tuple[YouTubeClient, Recorder]:
    rec = Recorder(fake or FakeYouTube())
    client = YouTubeClient(
        rec.client(), api_key=SecretStr(KEY), policy=time.policy(**policy), clock=time.now
    )
    return client, rec


def targets(*ids: str) -> list[ChannelTarget]:
    return [ChannelTarget(platform_channel_id=i) for i in ids]


def test_discovery_reads_each_feed_without_quota() -> None:
    time = FakeTime()
    client, rec = make(time)
    found = client.discover_candidates([LOFI, QUIET, LOFI])
    assert [r.url.params["channel_id"] for r in rec.requests] == [LOFI, QUIET]
    assert all(
        str(r.url).startswith("https://www.youtube.com/feeds/videos.xml?") for r in rec.requests
    )
    assert all("key" not in r.url.params for r in rec.requests)
    assert found.video_ids() == {LOFI: [UPCOMING, HIDDEN, LIVE], QUIET: []}
    entry = found.candidates[LOFI][0]
    assert entry.title == "Sunday stream (scheduled)"
    assert entry.published == datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    assert found.requests == 2


def test_a_feed_404_is_unavailable_for_that_channel_only_and_not_retried() -> None:
    time = FakeTime()
    client, rec = make(time)
    missing = "UC0000000000000000000000"
    found = client.discover_candidates([missing, LOFI])
    error = found.failures[missing]
    assert isinstance(error, PlatformUnavailable)
    assert error.status == 404
    assert len(rec.requests) == 2
    assert LOFI in found.candidates


@pytest.mark.parametrize(
    "name", ["feed_malformed.xml", "feed_wrong_types.xml", "feed_entities.xml"]
)
def test_bad_feeds_are_invalid(name: str) -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos.xml"] = [httpx.Response(200, content=fixture_bytes("youtube", name))]
    client, _ = make(time, fake)
    assert isinstance(client.discover_candidates([LOFI]).failures[LOFI], InvalidResponse)


def test_an_entry_of_another_channel_is_invalid() -> None:
    time = FakeTime()
    client, _ = make(time)
    found = client.feed.discover([QUIET])
    assert found.failures == {}
    fake = FakeYouTube()
    fake.override["videos.xml"] = [
        httpx.Response(200, content=fixture_bytes("youtube", "feed.xml"))
    ]
    client, _ = make(time, fake)
    assert isinstance(client.discover_candidates([QUIET]).failures[QUIET], InvalidResponse)


def test_120_video_ids_take_three_videos_list_calls() -> None:
    time = FakeTime()
    client, rec = make(time)
    ids = [f"vid{i:08d}" for i in range(120)]
    check = client.check_videos(ids)
    calls = [r for r in rec.requests if r.url.path.endswith("/videos")]
    assert len(calls) == 3
    assert [len(c.url.params["id"].split(",")) for c in calls] == [50, 50, 20]
    for call in calls:
        assert str(call.url).startswith("https://www.googleapis.com/youtube/v3/videos?")
        assert call.url.params["part"] == "snippet,liveStreamingDetails"
        assert call.url.params["key"] == KEY
        assert "maxResults" not in call.url.params  # not supported together with `id`
    assert check.quota_units == 3
    assert check.requests == 3
    assert all(s.state is VideoState.MISSING for s in check.videos.values())


def test_an_empty_answer_means_every_video_is_missing() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos"] = [json_response(fixture_json("youtube", "videos_empty.json"))]
    client, _ = make(time, fake)
    check = client.check_videos([LIVE, UPLOAD])
    assert {s.state for s in check.videos.values()} == {VideoState.MISSING}
    assert check.videos[LIVE].viewer_count is None


def test_video_states() -> None:
    time = FakeTime()
    client, _ = make(time)
    check = client.check_videos(list(POOL))
    states = {v: s.state for v, s in check.videos.items()}
    assert states == {
        LIVE: VideoState.LIVE,
        HIDDEN: VideoState.LIVE,
        UPCOMING: VideoState.UPCOMING,
        ENDED: VideoState.ENDED,
        UPLOAD: VideoState.NONE,
    }
    live, hidden, upcoming = check.videos[LIVE], check.videos[HIDDEN], check.videos[UPCOMING]
    assert live.viewer_count == 37145
    assert live.started_at == datetime(2022, 7, 12, 15, 13, 42, tzinfo=UTC)
    assert live.channel_id == LOFI
    assert hidden.viewer_count is None  # hidden: unknown, not 0
    assert upcoming.scheduled_start_at == datetime(2024, 5, 5, 18, 0, tzinfo=UTC)
    assert upcoming.started_at is None
    assert check.videos[ENDED].ended_at == datetime(2024, 4, 20, 19, 45, 3, tzinfo=UTC)


def test_fetch_live_combines_feeds_and_videos_list() -> None:
    time = FakeTime()
    client, rec = make(time)
    batch = client.fetch_live(targets(LOFI, QUIET, "UC0000000000000000000000"))
    lofi = batch.observations[LOFI]
    # Two broadcasts are live: the one that started first is the channel's stream.
    assert lofi.is_live
    assert lofi.platform_stream_id == LIVE
    assert lofi.viewer_count == 37145
    assert lofi.title == "lofi hip hop radio 📚 beats to relax/study to"
    assert lofi.platform is Platform.YOUTUBE
    assert not batch.observations[QUIET].is_live
    assert isinstance(batch.failures["UC0000000000000000000000"], PlatformUnavailable)
    assert batch.requests == 4
    assert batch.quota_units == 1
    assert not any("search" in r.url.path for r in rec.requests)


def test_only_upcoming_is_not_live() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    ended_now = {**POOL[LIVE], "liveStreamingDetails": POOL[ENDED]["liveStreamingDetails"]}
    fake.override["videos"] = [json_response({"items": [POOL[UPCOMING], ended_now]})]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets(LOFI))
    assert not batch.observations[LOFI].is_live  # the third video is gone: missing


def test_quota_exceeded_is_quota_exhausted_not_retried_and_stops_the_batch() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos"] = [fixture_response("youtube", "error_quota.response.json")]
    client, rec = make(time, fake)
    check = client.check_videos([f"vid{i:08d}" for i in range(120)])
    assert {type(e) for e in check.failures.values()} == {QuotaExhausted}
    assert len(check.failures) == 120
    assert len(rec.requests) == 1
    assert check.quota_units == 1
    assert time.sleeps == []
    error = check.failures["vid00000000"]
    assert error.status == 403
    assert KEY not in str(error)


def test_rate_limit_exceeded_is_retried() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos"] = [fixture_response("youtube", "error_rate.response.json")]
    client, rec = make(time, fake)
    check = client.check_videos([LIVE])
    assert check.videos[LIVE].state is VideoState.LIVE
    assert len(rec.requests) == 2
    assert time.sleeps == [0.5]
    assert check.quota_units == 2  # the rejected call is billed too


def test_backend_errors_are_retried_and_then_unavailable() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos"] = [fixture_response("youtube", "error_backend.response.json")] * 4
    client, _ = make(time, fake, max_attempts=4)
    check = client.check_videos([LIVE])
    assert isinstance(check.failures[LIVE], PlatformUnavailable)
    assert check.failures[LIVE].message == "The service is currently unavailable."
    assert time.sleeps == [0.5, 1.0, 2.0]


def test_an_invalid_key_is_an_auth_error_and_never_shown() -> None:
    time = FakeTime()
    rec = Recorder(FakeYouTube())
    client = YouTubeClient(rec.client(), api_key=SecretStr("wrong-key"), policy=time.policy())
    check = client.check_videos([LIVE])
    error = check.failures[LIVE]
    assert isinstance(error, AuthError)
    assert error.status == 400
    assert "wrong-key" not in str(error)
    assert len(rec.requests) == 1


@pytest.mark.parametrize("name", ["videos_wrong_types.json", "videos_malformed.json"])
def test_bad_videos_payloads_are_invalid(name: str) -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos"] = [httpx.Response(200, content=fixture_bytes("youtube", name))]
    client, _ = make(time, fake)
    assert isinstance(client.check_videos([LIVE]).failures[LIVE], InvalidResponse)


def test_an_answer_for_a_video_not_asked_for_is_invalid() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    fake.override["videos"] = [json_response({"items": [POOL[LIVE]]})]
    client, _ = make(time, fake)
    assert isinstance(client.check_videos([UPLOAD]).failures[UPLOAD], InvalidResponse)


def test_subscribers_with_hidden_counts_and_unknown_channels() -> None:
    time = FakeTime()
    client, rec = make(time)
    batch = client.fetch_stats(targets(LOFI, QUIET, "UCgone00000000000000000"))
    (call,) = rec.requests
    assert call.url.path.endswith("/channels")
    assert call.url.params["part"] == "snippet,statistics"
    assert call.url.params["id"] == f"{LOFI},{QUIET},UCgone00000000000000000"
    assert batch.stats[LOFI].subscribers == 14_700_000
    assert batch.stats[LOFI].followers is None
    assert batch.stats[QUIET].subscribers is None  # hidden
    assert isinstance(batch.failures["UCgone00000000000000000"], NotFound)
    assert batch.quota_units == 1


def test_stats_for_120_channels_take_three_calls() -> None:
    time = FakeTime()
    client, rec = make(time)
    batch = client.fetch_stats(targets(*[f"UC{i:022d}" for i in range(120)]))
    assert [len(r.url.params["id"].split(",")) for r in rec.requests] == [50, 50, 20]
    assert batch.quota_units == 3


def test_resolve_by_handle_and_by_id() -> None:
    time = FakeTime()
    client, rec = make(time)
    channel = client.resolve(parse_channel_ref(Platform.YOUTUBE, "https://youtube.com/@lofigirl"))
    assert rec.requests[-1].url.params["forHandle"] == "@lofigirl"
    assert channel.platform_channel_id == LOFI
    assert channel.handle == "@lofigirl"
    assert channel.display_name == "Lofi Girl"
    assert channel.url == f"https://www.youtube.com/channel/{LOFI}"
    assert channel.avatar_url == "https://yt3.ggpht.com/lofi=s800-c-k-c0x00ffffff-no-rj"
    assert client.resolve(parse_channel_ref(Platform.YOUTUBE, LOFI)) == channel
    assert rec.requests[-1].url.params["id"] == LOFI
    with pytest.raises(NotFound):
        client.resolve(parse_channel_ref(Platform.YOUTUBE, "@nobody"))


def test_quota_day_turns_at_pacific_midnight() -> None:
    # 07:59 UTC is 23:59 PST (UTC-8) in winter, 00:59 PDT (UTC-7) in summer.
    assert quota_day(datetime(2024, 1, 15, 7, 59, tzinfo=UTC)) == date(2024, 1, 14)
    assert quota_day(datetime(2024, 1, 15, 8, 0, tzinfo=UTC)) == date(2024, 1, 15)
    assert quota_day(datetime(2024, 7, 15, 6, 59, tzinfo=UTC)) == date(2024, 7, 14)
    assert quota_day(datetime(2024, 7, 15, 7, 0, tzinfo=UTC)) == date(2024, 7, 15)
    tokyo = timezone(timedelta(hours=9))
    assert quota_day(datetime(2024, 7, 15, 16, 0, tzinfo=tokyo)) == date(2024, 7, 15)
    with pytest.raises(ValueError, match="aware"):
        quota_day(datetime(2024, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_from_settings() -> None:
    settings = Settings(
        youtube_api_key=SecretStr(KEY),
        youtube_api_url="http://127.0.0.1:9/youtube/v3",
        youtube_feed_url="http://127.0.0.1:9/feeds/videos.xml",
    )
    time = FakeTime()
    rec = Recorder(FakeYouTube())
    client = YouTubeClient.from_settings(settings, http_client=rec.client(), clock=time.now)
    client.fetch_live(targets(LOFI))
    assert [str(r.url).split("?")[0] for r in rec.requests] == [
        "http://127.0.0.1:9/feeds/videos.xml",
        "http://127.0.0.1:9/youtube/v3/videos",
    ]
    with pytest.raises(ValueError, match="YOUTUBE_API_KEY"):
        YouTubeClient.from_settings(Settings())


def test_one_malformed_video_fails_only_itself() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    body = fixture_bytes("youtube", "videos_one_malformed.json")
    fake.override["videos"] = [httpx.Response(200, content=body)]
    client, _ = make(time, fake)
    check = client.check_videos(list(POOL))
    assert set(check.failures) == {HIDDEN}
    assert isinstance(check.failures[HIDDEN], InvalidResponse)
    assert "actualStartTime" in check.failures[HIDDEN].message
    assert check.videos[LIVE].state is VideoState.LIVE
    assert check.videos[UPLOAD].state is VideoState.NONE
    assert set(check.videos) == set(POOL) - {HIDDEN}


def test_a_video_item_naming_no_id_leaves_only_the_readable_ones_certain() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    nameless = {**POOL[HIDDEN], "id": 7}
    fake.override["videos"] = [json_response({"items": [POOL[LIVE], nameless]})]
    client, _ = make(time, fake)
    check = client.check_videos([LIVE, HIDDEN, UPLOAD])
    assert check.videos[LIVE].state is VideoState.LIVE
    # Absent from the answer would mean "missing"; with an unreadable item, it is unknown.
    assert set(check.failures) == {HIDDEN, UPLOAD}


def test_one_malformed_channel_fails_only_its_stats() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    body = fixture_bytes("youtube", "channels_one_malformed.json")
    fake.override["channels"] = [httpx.Response(200, content=body)]
    client, _ = make(time, fake)
    batch = client.fetch_stats(targets(LOFI, QUIET, "UCgone00000000000000000"))
    assert isinstance(batch.failures[LOFI], InvalidResponse)
    assert "subscriberCount" in batch.failures[LOFI].message
    assert batch.stats[QUIET].subscribers is None  # hidden, and read
    assert isinstance(batch.failures["UCgone00000000000000000"], NotFound)


def test_resolve_refuses_a_malformed_channel_rather_than_guess() -> None:
    time = FakeTime()
    fake = FakeYouTube()
    body = fixture_bytes("youtube", "channels_one_malformed.json")
    fake.override["channels"] = [httpx.Response(200, content=body)]
    client, _ = make(time, fake)
    with pytest.raises(InvalidResponse):
        client.resolve(parse_channel_ref(Platform.YOUTUBE, LOFI))
