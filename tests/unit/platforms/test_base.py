from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.platforms.base import (
    ChannelRef,
    InvalidChannelRef,
    LiveObservation,
    Platform,
    RefKind,
    each_group,
    parse_channel_ref,
)
from shared.platforms.errors import (
    AuthError,
    InvalidResponse,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)

T, Y, R = Platform.TWITCH, Platform.YOUTUBE, Platform.RUMBLE
LOFI = "UCSJ4gkVC6NrvII8umztf0Ow"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("shroud", RefKind.LOGIN, "shroud"),
        ("Shroud", RefKind.LOGIN, "shroud"),
        ("@TwitchDev", RefKind.LOGIN, "twitchdev"),
        ("https://www.twitch.tv/TwitchDev", RefKind.LOGIN, "twitchdev"),
        ("twitch.tv/twitchdev/videos", RefKind.LOGIN, "twitchdev"),
        ("https://m.twitch.tv/twitchdev?lang=en", RefKind.LOGIN, "twitchdev"),
        ("141981764", RefKind.ID, "141981764"),
    ],
)
def test_twitch_refs(text: str, kind: RefKind, value: str) -> None:
    assert parse_channel_ref(T, text) == ChannelRef(platform=T, kind=kind, value=value)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (LOFI, RefKind.ID, LOFI),
        (f"https://www.youtube.com/channel/{LOFI}", RefKind.ID, LOFI),
        (f"youtube.com/channel/{LOFI}/live", RefKind.ID, LOFI),
        ("@LofiGirl", RefKind.HANDLE, "@LofiGirl"),
        ("LofiGirl", RefKind.HANDLE, "@LofiGirl"),
        ("https://www.youtube.com/@LofiGirl/streams", RefKind.HANDLE, "@LofiGirl"),
        ("https://m.youtube.com/%40caf%C3%A9", RefKind.HANDLE, "@café"),
        ("https://www.youtube.com/c/LofiGirl", RefKind.HANDLE, "@LofiGirl"),
        ("https://www.youtube.com/user/ChilledCow", RefKind.USERNAME, "ChilledCow"),
    ],
)
def test_youtube_refs(text: str, kind: RefKind, value: str) -> None:
    assert parse_channel_ref(Y, text) == ChannelRef(platform=Y, kind=kind, value=value)


def test_rumble_refs_carry_the_key_as_a_secret() -> None:
    api = parse_channel_ref(R, "https://rumble.com/-livestream-api/get-data?key=SeCrEt-123")
    assert (api.kind, api.value) == (RefKind.KEY, "")
    assert api.secret is not None
    assert api.secret.get_secret_value() == "SeCrEt-123"
    assert "SeCrEt-123" not in repr(api)
    named = parse_channel_ref(R, "https://rumble.com/c/StreamTrackLive", secret="k")
    assert (named.kind, named.value) == (RefKind.KEY, "StreamTrackLive")
    assert parse_channel_ref(R, "rumble.com/user/Someone").kind is RefKind.HANDLE


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        (T, ""),
        (T, "https://www.twitch.tv/directory"),
        (T, "https://www.youtube.com/@x"),
        (T, "not a login!"),
        (Y, "https://www.youtube.com/watch?v=jfKfPfyJRdk"),
        (Y, "https://www.twitch.tv/twitchdev"),
        (Y, "@a b"),
        (R, "https://example.com/c/x"),
        (R, "https://rumble.com/v4abcd-some-video.html"),
    ],
)
def test_rejects_what_is_not_a_channel(platform: Platform, text: str) -> None:
    with pytest.raises(InvalidChannelRef):
        parse_channel_ref(platform, text)


def test_observations_are_utc_and_refuse_naive_datetimes() -> None:
    eastern = timezone(timedelta(hours=-4))
    live = LiveObservation(
        platform=T,
        platform_channel_id="1",
        is_live=True,
        started_at=datetime(2023, 9, 18, 13, 45, 10, tzinfo=eastern),
        observed_at=datetime(2023, 9, 18, 18, 0, tzinfo=UTC),
    )
    assert live.started_at == datetime(2023, 9, 18, 17, 45, 10, tzinfo=UTC)
    assert live.started_at.tzinfo is UTC
    with pytest.raises(ValidationError):
        LiveObservation(
            platform=T,
            platform_channel_id="1",
            is_live=False,
            observed_at=datetime(2023, 1, 1),  # noqa: DTZ001 - naive on purpose
        )
    with pytest.raises(ValidationError):
        LiveObservation(
            platform=T,
            platform_channel_id="1",
            is_live=True,
            viewer_count=-1,
            observed_at=datetime(2023, 1, 1, tzinfo=UTC),
        )


def test_each_group_records_failures_and_stops_after_a_fatal_error() -> None:
    calls: list[list[str]] = []

    def call(group: list[str] | tuple[str, ...]) -> None:
        calls.append(list(group))
        if group[0] == "b":
            raise PlatformUnavailable("down", platform=T)
        if group[0] == "c":
            raise AuthError("bad token", platform=T, status=401)

    failures: dict[str, PlatformError] = {}
    each_group([["a"], ["b", "b2"], ["c"], ["d"]], call, failures)
    assert calls == [["a"], ["b", "b2"], ["c"]]
    assert {k: type(v) for k, v in failures.items()} == {
        "b": PlatformUnavailable,
        "b2": PlatformUnavailable,
        "c": AuthError,
        "d": AuthError,
    }


def test_errors_carry_platform_status_and_request_id() -> None:
    error = RateLimited("slow down", platform=T, status=429, request_id="r-1", retry_after=3.0)
    assert str(error) == "twitch: slow down, status 429, request id r-1"
    assert error.retry_after == 3.0
    assert error.as_dict() == {
        "platform": "twitch",
        "error": "RateLimited",
        "status": 429,
        "request_id": "r-1",
        "message": "slow down",
    }
    assert isinstance(InvalidResponse("x", platform=Y), PlatformError)
