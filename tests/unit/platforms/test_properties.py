"""Whatever a platform answers, the only error that escapes a parser is InvalidResponse."""

import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from shared.platforms.base import ChannelTarget, Platform, parse_channel_ref
from shared.platforms.errors import AuthError, InvalidResponse, NotFound, PlatformError
from shared.platforms.rumble import RumbleClient, RumbleData
from shared.platforms.twitch import TwitchClient
from shared.platforms.youtube import YouTubeClient, parse_feed
from tests.unit.platforms import support
from tests.unit.platforms.support import (
    FAST,
    FakeTime,
    fixture_bytes,
    fixture_json,
    json_response,
)

KEYS = [
    "data", "pagination", "cursor", "user_id", "viewer_count", "started_at", "total", "id",
    "login", "items", "snippet", "channelId", "liveStreamingDetails", "actualStartTime",
    "concurrentViewers", "statistics", "subscriberCount", "error", "errors", "reason",
    "followers", "num_followers", "livestreams", "is_live", "created_on", "type",
]  # fmt: skip
json_values = support.json_values(
    KEYS, ["", "~12", "soon", "maybe", "2024-05-01T10:00:00Z", "live", "user"]
)


def bodies(platform: str, fixture: str) -> st.SearchStrategy[bytes]:
    return support.bodies(platform, fixture, json_values)


def only_invalid(failures: dict[str, PlatformError]) -> None:
    assert all(type(e) is InvalidResponse for e in failures.values()), failures


def raises_only_invalid(call: Callable[[], object]) -> None:
    try:
        call()
    except InvalidResponse:
        pass


def twitch(body: bytes, path: str) -> TwitchClient:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(path):
            return httpx.Response(200, content=body)
        return json_response(fixture_json("twitch", "token.json"))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    secret = SecretStr("s")
    return TwitchClient(http, client_id="c", client_secret=secret, policy=time.policy())


def youtube(body: bytes) -> YouTubeClient:
    time = FakeTime()
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    return YouTubeClient(
        httpx.Client(transport=transport), api_key=SecretStr("k"), policy=time.policy()
    )


TARGETS = [ChannelTarget(platform_channel_id=i) for i in ("101051819", "459331509", "7")]


@FAST
@given(bodies("twitch", "streams.json"))
def test_twitch_streams(body: bytes) -> None:
    batch = twitch(body, "/streams").fetch_live(TARGETS)
    only_invalid(batch.failures)
    assert len(batch.observations) + len(batch.failures) == 3


@FAST
@given(bodies("twitch", "followers.json"))
def test_twitch_followers(body: bytes) -> None:
    only_invalid(twitch(body, "/followers").fetch_stats(TARGETS[:1]).failures)


@FAST
@given(bodies("twitch", "users.json"))
def test_twitch_users(body: bytes) -> None:
    client = twitch(body, "/users")
    raises_only_invalid(lambda: client.lookup_users(["141981764"], ["twitchdev"]))


@FAST
@given(bodies("twitch", "token.json"))
def test_twitch_token(body: bytes) -> None:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, content=body)
        return json_response(fixture_json("twitch", "streams_empty.json"))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = TwitchClient(http, client_id="c", client_secret=SecretStr("s"), policy=time.policy())
    only_invalid(client.fetch_live(TARGETS).failures)


@FAST
@given(st.sampled_from([400, 401, 403, 404, 429, 500, 503]), json_values, st.binary(max_size=60))
def test_error_bodies_of_any_shape_still_map_into_the_tree(
    status: int, document: Any, raw: bytes
) -> None:
    for content in (json.dumps(document).encode(), raw):
        response = httpx.Response(status, content=content)
        transport = httpx.MockTransport(lambda _, r=response: r)
        yt = YouTubeClient(
            httpx.Client(transport=transport),
            api_key=SecretStr("k"),
            policy=FakeTime().policy(max_attempts=1),
        )
        failure = yt.check_videos(["jfKfPfyJRdk"]).failures["jfKfPfyJRdk"]
        assert isinstance(failure, PlatformError)
        assert failure.status == status


@FAST
@given(bodies("youtube", "videos.json"))
def test_youtube_videos(body: bytes) -> None:
    ids = ["jfKfPfyJRdk", "4xDzrJKXOOY", "dQw4w9WgXcQ", "M7lc1UVf-VE", "9bZkp7q5F7k"]
    check = youtube(body).check_videos(ids)
    only_invalid(check.failures)
    assert len(check.videos) + len(check.failures) == 5


@FAST
@given(bodies("youtube", "channels.json"))
def test_youtube_channels(body: bytes) -> None:
    client = youtube(body)
    stats = client.fetch_stats([ChannelTarget(platform_channel_id="UCSJ4gkVC6NrvII8umztf0Ow")])
    # NotFound: a well-formed answer without that channel.
    assert {type(e) for e in stats.failures.values()} <= {InvalidResponse, NotFound}
    try:
        client.resolve(parse_channel_ref(Platform.YOUTUBE, "@lofigirl"))
    except (InvalidResponse, NotFound):
        pass


FEED = fixture_bytes("youtube", "feed.xml").decode()


@FAST
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.tuples(st.integers(0, len(FEED)), st.integers(0, 80), st.text(max_size=40)).map(
            lambda t: (FEED[: t[0]] + t[2] + FEED[t[0] + t[1] :]).encode()
        ),
    )
)
def test_youtube_feed(body: bytes) -> None:
    response = httpx.Response(200, content=body)
    try:
        entries = parse_feed(response, "UCSJ4gkVC6NrvII8umztf0Ow")
    except InvalidResponse:
        return
    assert all(e.channel_id == "UCSJ4gkVC6NrvII8umztf0Ow" for e in entries)


@FAST
@given(bodies("rumble", "data_live.json"))
def test_rumble(body: bytes) -> None:
    time = FakeTime()
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    client = RumbleClient(httpx.Client(transport=transport), policy=time.policy())
    target = ChannelTarget(platform_channel_id="u9k2x", api_key=SecretStr("key"))
    batch = client.fetch_live([target])
    for failure in batch.failures.values():
        if isinstance(failure, AuthError):
            # A well-formed answer for another account: the key is wrong, not the payload.
            data = RumbleData.model_validate_json(body)
            assert "u9k2x" not in (data.user_id, data.channel_id)
        else:
            assert type(failure) is InvalidResponse
