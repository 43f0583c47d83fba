"""Each platform client against the running platform sandbox (real HTTP on 127.0.0.1)."""

import math
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from localdev.sandbox import Sandbox
from shared.config import Settings
from shared.platforms.base import ChannelTarget, Platform, parse_channel_ref
from shared.platforms.errors import QuotaExhausted
from shared.platforms.retry import RetryPolicy
from shared.platforms.rumble import RumbleClient
from shared.platforms.twitch import TwitchClient
from shared.platforms.youtube import YouTubeClient


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=3, channels=400, mix="twitch=0.6,youtube=0.3,rumble=0.1",
        start="2026-11-24T20:00:00Z", rate=0,
    ) as running:  # fmt: skip
        yield running


@pytest.fixture
def settings(sandbox: Sandbox) -> Settings:
    sandbox.reset_counters()
    sandbox.set_faults(reset=True)
    return Settings(**{k.lower(): v for k, v in sandbox.settings_env().items()})


def no_wait(settings: Settings) -> RetryPolicy:
    return RetryPolicy.from_settings(settings, sleep=lambda _s: None)


def test_twitch_batches_of_100(sandbox: Sandbox, settings: Settings) -> None:
    ids = [c["id"] for c in sandbox.channels("twitch")]
    with httpx.Client() as http:
        client = TwitchClient.from_settings(settings, http_client=http, policy=no_wait(settings))
        batch = client.fetch_live([ChannelTarget(platform_channel_id=i) for i in ids])
        channel = client.resolve(
            parse_channel_ref(Platform.TWITCH, sandbox.channels("twitch")[0]["login"])
        )
    counters = sandbox.counters()
    assert counters["twitch.streams"] == math.ceil(len(ids) / 100)
    assert counters["twitch.token"] == 1
    assert set(batch.observations) == set(ids)
    assert not batch.failures
    assert any(o.is_live for o in batch.observations.values())
    assert channel.platform_channel_id == sandbox.channels("twitch")[0]["id"]


def test_youtube_feeds_then_videos_never_search(sandbox: Sandbox, settings: Settings) -> None:
    ids = [c["id"] for c in sandbox.channels("youtube")]
    with httpx.Client() as http:
        client = YouTubeClient.from_settings(settings, http_client=http, policy=no_wait(settings))
        found = client.discover_candidates(ids)
        videos = [v for vs in found.video_ids().values() for v in vs]
        check = client.check_videos(videos)
        stats = client.fetch_stats([ChannelTarget(platform_channel_id=i) for i in ids])
    counters = sandbox.counters()
    assert counters["youtube.feed"] == len(ids)
    assert counters["youtube.videos"] == math.ceil(len(set(videos)) / 50)
    assert counters["youtube.channels"] == math.ceil(len(ids) / 50)
    assert counters["youtube.search"] == 0
    assert check.quota_units == counters["youtube.videos"]
    assert set(check.videos) == set(videos)
    assert len(stats.stats) + len(stats.failures) == len(ids)


def test_youtube_quota_exhaustion(sandbox: Sandbox, settings: Settings) -> None:
    sandbox.set_faults(youtube={"quota_exhausted": True})
    with httpx.Client() as http:
        client = YouTubeClient.from_settings(settings, http_client=http, policy=no_wait(settings))
        check = client.check_videos(["dQw4w9WgXcQ"])
    sandbox.set_faults(reset=True)
    assert isinstance(check.failures["dQw4w9WgXcQ"], QuotaExhausted)


def test_rumble_one_request_per_key(sandbox: Sandbox, settings: Settings) -> None:
    channels = sandbox.channels("rumble")
    targets = [
        ChannelTarget(platform_channel_id=c["id"], api_key=SecretStr(c["rumble_key"]))
        for c in channels
    ]
    with httpx.Client() as http:
        client = RumbleClient.from_settings(settings, http_client=http, policy=no_wait(settings))
        live = client.fetch_live(targets)
        stats = client.fetch_stats(targets)  # within 5 s: the cached answers
    assert sandbox.counters()["rumble.get_data"] == len(channels)
    assert set(live.observations) == {c["id"] for c in channels}
    assert all(s.followers is not None for s in stats.stats.values())
    assert stats.requests == 0


def test_faults_surface_as_platform_errors_only(sandbox: Sandbox, settings: Settings) -> None:
    sandbox.set_faults(error_rate=0.5, malformed_rate=0.3, rate_limit_rate=0.1)
    ids = [c["id"] for c in sandbox.channels("twitch")]
    with httpx.Client() as http:
        client = TwitchClient.from_settings(settings, http_client=http, policy=no_wait(settings))
        batch = client.fetch_live([ChannelTarget(platform_channel_id=i) for i in ids])
    sandbox.set_faults(reset=True)
    # Every channel is answered or failed with a typed error; nothing escapes.
    assert set(batch.observations) | set(batch.failures) == set(ids)
    assert sandbox.counters()["twitch.streams"] > math.ceil(len(ids) / 100)  # retried
