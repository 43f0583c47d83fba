"""Kick end to end: the client and the monitor against the platform sandbox (real HTTP on
127.0.0.1), the real database, and a team adding a channel through the teams API.

Checked against the sandbox's counters (requests made) and its ground truth (what
each channel really did), as closely as for the other platforms.
"""

import base64
import math
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from azure.functions.decorators.function_app import Function
from pydantic import SecretStr

from localdev.sandbox import Sandbox
from localdev.sandbox.truth import true_viewer_seconds
from localdev.seeding import DemoTeam, register
from shared.config import Settings, get_settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor.cycle import PlatformFetcher, run_cycle
from shared.monitor.service import build_fetchers, rules_from
from shared.monitor.state import CycleReport
from shared.platforms.base import ChannelTarget, Platform, parse_channel_ref
from shared.platforms.errors import NotFound
from shared.platforms.kick import KickClient
from shared.platforms.retry import RetryPolicy
from tests.factories.teams import make_crew
from tests.factories.users import claims_for
from tests.integration.teams_support import Api, api_env, clear_caches

START = "2026-11-24T12:00:00Z"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _minutes(stream: dict[str, Any]) -> dict[datetime, int]:
    return {_at(t): v for t, v in stream.get("viewers") or []}


def settings_for(sandbox: Sandbox, **extra: Any) -> Settings:
    return Settings(**{k.lower(): v for k, v in sandbox.settings_env().items()}, **extra)


def fetchers_for(settings: Settings, sandbox: Sandbox) -> dict[str, PlatformFetcher]:
    return build_fetchers(
        settings,
        clock=sandbox.clock.now,
        key_interval_s=0,
        policy=RetryPolicy.from_settings(settings, sleep=lambda _s: None),
    )


def cycles(
    db: Database, sandbox: Sandbox, fetchers: dict[str, PlatformFetcher], settings: Settings,
    only: list[uuid.UUID], minutes: int,
) -> list[CycleReport]:  # fmt: skip
    reports = []
    for _ in range(minutes):
        reports.append(
            run_cycle(
                db,
                fetchers,
                rules_from(settings),
                budget_s=30,
                only=only,
                clock=sandbox.clock.now,
            )
        )
        sandbox.clock.advance(60)
    return reports


@pytest.fixture(scope="module")
def kick_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=13, channels=300, mix="twitch=0.2,kick=0.8", start=START, rate=0) as sb:
        yield sb


def test_the_client_asks_50_broadcasters_a_request(kick_sandbox: Sandbox) -> None:
    kick_sandbox.reset_counters()
    settings = settings_for(kick_sandbox)
    channels = kick_sandbox.channels("kick")
    with httpx.Client() as http:
        policy = RetryPolicy.from_settings(settings, sleep=lambda _s: None)
        client = KickClient.from_settings(settings, http_client=http, policy=policy)
        batch = client.fetch_live([ChannelTarget(platform_channel_id=c["id"]) for c in channels])
        resolved = client.resolve(
            parse_channel_ref(Platform.KICK, f"https://kick.com/{channels[0]['slug']}")
        )
    counters = kick_sandbox.counters()
    assert counters["kick.livestreams"] == math.ceil(len(channels) / 50) + 1  # + resolve's probe
    assert counters["kick.token"] == 1
    assert counters["kick.channels"] == 1
    assert set(batch.observations) == {c["id"] for c in channels}
    assert any(o.is_live for o in batch.observations.values())
    assert resolved.platform_channel_id == channels[0]["id"]
    assert resolved.url == f"https://kick.com/{channels[0]['slug']}"


def test_a_banned_channel_is_isolated_and_only_it_fails(kick_sandbox: Sandbox) -> None:
    settings = settings_for(kick_sandbox)
    channels = kick_sandbox.channels("kick")[:100]
    banned = channels[61]["id"]
    httpx.post(kick_sandbox.url + "/_sandbox/kick/ban", json={"id": banned})
    try:
        kick_sandbox.reset_counters()
        with httpx.Client() as http:
            policy = RetryPolicy.from_settings(settings, sleep=lambda _s: None)
            client = KickClient.from_settings(settings, http_client=http, policy=policy)
            targets = [ChannelTarget(platform_channel_id=c["id"]) for c in channels]
            batch = client.fetch_live(targets)
            counted = kick_sandbox.counters()
            with pytest.raises(NotFound):
                client.resolve(parse_channel_ref(Platform.KICK, channels[61]["slug"]))
            kick_sandbox.reset_counters()
            again = client.fetch_live(targets)
    finally:
        httpx.post(kick_sandbox.url + "/_sandbox/kick/ban", json={"id": banned, "banned": False})
    assert set(batch.failures) == {banned}
    assert len(batch.observations) == 99
    # Every request was counted, the bisection's too, and the sandbox agrees: the
    # token, the clean batch, the refused one and about two per halving.
    assert batch.requests == counted["kick.token"] + counted["kick.livestreams"]
    assert 3 < counted["kick.livestreams"] <= 2 + 2 * 6
    assert counted["kick.refused"] >= 1
    # The next cycle sets the banned channel aside: the minimum again.
    assert kick_sandbox.counters()["kick.livestreams"] == again.requests == 2
    assert set(again.failures) == {banned}


def test_sessions_peaks_and_hours_watched_match_the_ground_truth(database: Database) -> None:
    with Sandbox(seed=48, channels=160, mix="twitch=0.2,kick=0.8", start=START, rate=0) as sb:
        key = os.urandom(32)
        settings = settings_for(
            sb, credentials_encryption_key=SecretStr(base64.b64encode(key).decode())
        )
        registered = register(
            database, sb.channels(), [DemoTeam("Kick", "business")], SecretBox(key)
        )
        fetchers = fetchers_for(settings, sb)
        start = sb.clock.now()
        reports = cycles(database, sb, fetchers, settings, list(registered.channels.values()), 150)
        end = sb.clock.now()
        truth = sb.truth(start, end, platform="kick")
    steady = [r for r in reports[1:] if r.channels_checked == r.channels_due]
    assert all(r.requests["kick"] == r.minimum_requests["kick"] for r in steady)
    assert steady[-1].minimum_requests["kick"] == math.ceil(len(sb.channels("kick")) / 50)
    checked = restarts = samples = 0
    with database.service() as conn:
        for channel in truth["channels"]:
            cid = registered.channels[channel["key"]]
            streams = channel["streams"]
            viewers_at: dict[datetime, int] = {}
            for stream in streams:
                viewers_at.update(_minutes(stream))
            for observed_at, count in conn.execute(
                "select observed_at, viewer_count from public.viewer_samples"
                " where channel_id = %s and is_live",
                (cid,),
            ).fetchall():
                assert count == viewers_at[observed_at], (channel["key"], observed_at)
                samples += 1
            sessions = {
                row[0]: row
                for row in conn.execute(
                    "select platform_stream_id, started_at, ended_at, peak_viewers, viewer_seconds"
                    " from public.stream_sessions where channel_id = %s",
                    (cid,),
                ).fetchall()
            }
            # A restart within the grace belongs to the session of the stream it restarts.
            chains = {s["id"]: [s] for s in streams if not s.get("restart_of")}
            for stream in streams:
                if stream.get("restart_of") in chains:
                    chains[stream["restart_of"]].append(stream)
            for chain in chains.values():
                first, last = _at(chain[0]["start"]), max(_at(s["end"]) for s in chain)
                if not start < last < end - timedelta(minutes=2):
                    continue  # still live at the end: its total is not known yet
                derived = chain[0]["platform_stream_id"]
                assert derived in sessions, (channel["key"], derived)
                assert not any(s["platform_stream_id"] in sessions for s in chain[1:])
                _, started, ended, peak, seconds = sessions[derived]
                assert started == first  # Kick says when a stream started
                assert ended is not None
                assert last - timedelta(minutes=1) <= ended <= last
                seen = {t: v for s in chain for t, v in _minutes(s).items() if t >= start}
                assert peak == max(v for t, v in seen.items() if t >= first), derived
                # The hold rule is off by at most about half an interval at each end.
                assert float(seconds) == pytest.approx(
                    true_viewer_seconds(chain, start), rel=0.05, abs=60 * max(seen.values())
                )
                checked += 1
                restarts += len(chain) > 1
    assert samples > 1000
    assert checked >= 5
    assert restarts >= 1


def test_faults_lose_nothing_and_invent_nothing(database: Database) -> None:
    # Another day than the other tests': samples are checked by channel and instant.
    with Sandbox(seed=43, channels=120, mix="kick=1", start="2026-11-26T06:00:00Z", rate=0) as sb:
        settings = settings_for(sb)
        registered = register(
            database, sb.channels(), [DemoTeam("Faults", "business")], SecretBox(os.urandom(32))
        )
        fetchers = fetchers_for(settings, sb)
        sb.set_faults(error_rate=0.3, malformed_rate=0.1, rate_limit_rate=0.1, retry_after_s=0)
        start = sb.clock.now()
        reports = cycles(database, sb, fetchers, settings, list(registered.channels.values()), 30)
        end = sb.clock.now()
        truth = sb.truth(start, end)
    assert any(r.status == "partial" for r in reports)
    spans = {
        c["key"]: [(_at(s["start"]), _at(s["end"])) for s in c["streams"]]
        for c in truth["channels"]
    }
    with database.service() as conn:
        for key, cid in registered.channels.items():
            for observed_at, is_live in conn.execute(
                "select observed_at, is_live from public.viewer_samples where channel_id = %s",
                (cid,),
            ).fetchall():
                live = any(a <= observed_at < b for a, b in spans.get(key, []))
                assert is_live == live, (key, observed_at)


# --- a team adds a Kick channel by URL ----------------------------------------------------


@pytest.fixture
def kick_api(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    app_functions: dict[str, Function],
    kick_sandbox: Sandbox,
) -> Iterator[Api]:
    env = {**kick_sandbox.settings_env(), **api_env(), "DATABASE_URL": database_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    yield Api(app_functions)
    clear_caches()


def _a_short_stream(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Kick channel and one of its streams of under an hour, without a restart."""
    now = sandbox.clock.time()
    truth = sandbox.truth(now, now + 2 * 86_400, viewers=False, platform="kick")
    for channel in truth["channels"]:
        for stream in channel["streams"]:
            length = _at(stream["end"]) - _at(stream["start"])
            if length <= timedelta(minutes=50) and not stream["restart_of"]:
                if not any(s["restart_of"] == stream["id"] for s in channel["streams"]):
                    return channel, stream
    raise AssertionError("no short Kick stream in two days")


def test_a_team_adds_a_kick_url_and_its_figures_match_the_truth(
    kick_api: Api, database: Database, kick_sandbox: Sandbox
) -> None:
    channel, stream = _a_short_stream(kick_sandbox)
    slug = next(c["slug"] for c in kick_sandbox.channels("kick") if c["key"] == channel["key"])
    crew = make_crew(database, plan="pro")  # one sample a minute
    added = kick_api(
        "POST", f"/api/teams/{crew.team_id}/channels", crew.member,
        body={"platform": "kick", "channel": f"https://kick.com/{slug}"},
    )  # fmt: skip
    assert added.status == 201, added.body
    assert added.json["platform"] == "kick"
    assert added.json["platform_channel_id"] == channel["id"]
    assert added.json["url"] == f"https://kick.com/{slug}"
    channel_id = uuid.UUID(added.json["channel_id"])

    start, end = _at(stream["start"]), _at(stream["end"])
    # Whole minutes, as the timer runs; past the end by more than the grace period,
    # after which the monitor closes the session.
    lo = (start - timedelta(minutes=5)).replace(second=0)
    hi = end + timedelta(seconds=get_settings().monitor_grace_period_s + 120)
    kick_sandbox.clock.set(lo)
    settings = get_settings()
    fetchers = fetchers_for(settings, kick_sandbox)
    minutes = int((hi - lo).total_seconds() // 60)
    cycles(database, kick_sandbox, fetchers, settings, [channel_id], minutes)
    [truth] = kick_sandbox.truth(lo, hi, channel=channel["key"])["channels"]
    every = _minutes(next(s for s in truth["streams"] if s["id"] == stream["id"]))
    # A sample at each whole minute: the stream's first, partial minute is not sampled.
    viewers = {t: v for t, v in every.items() if t >= start}

    with database.user(claims_for(crew.viewer)) as conn:
        sessions = conn.execute(
            "select started_at, ended_at, peak_viewers, avg_viewers, sample_count"
            " from public.analytics_channel_sessions(%s, %s, %s)",
            (channel_id, lo, hi),
        ).fetchall()
        overview = conn.execute(
            "select peak_viewers, hours_streamed, hours_watched, avg_viewers"
            " from public.analytics_team_overview(%s, %s, %s) where channel_id = %s",
            (crew.team_id, lo, hi, channel_id),
        ).fetchone()
    [(started, ended, peak, avg, count)] = sessions
    assert started == start
    assert ended is not None
    assert end - timedelta(minutes=1) <= ended <= end
    assert peak == max(viewers.values())
    assert count == len(viewers)
    assert float(avg) == pytest.approx(sum(viewers.values()) / len(viewers), rel=1e-6)
    assert overview is not None
    o_peak, hours_streamed, hours_watched, o_avg = overview
    assert o_peak == peak
    # Hours are Σ count x Δt between samples a minute apart: within a minute of the truth.
    assert abs(float(hours_streamed) * 3600 - (end - start).total_seconds()) <= 60
    assert float(hours_watched) == pytest.approx(sum(every.values()) / 60, rel=0.05)
    assert float(o_avg) == pytest.approx(float(avg), rel=1e-6)
