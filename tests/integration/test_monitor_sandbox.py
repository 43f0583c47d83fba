"""The monitor end to end: real clients → platform sandbox; real database.

Checked against the sandbox's counters (requests made) and its ground truth
(what each channel really did).
"""

import base64
import math
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr

from localdev.sandbox import Sandbox
from localdev.sandbox.truth import true_viewer_seconds
from localdev.seeding import DemoTeam, Registered, register
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor.cycle import PlatformFetcher, run_cycle
from shared.monitor.service import build_fetchers, rules_from
from shared.monitor.state import CycleReport
from shared.platforms.retry import RetryPolicy
from shared.platforms.youtube import YouTubeFetcher

START = "2026-11-24T12:00:00Z"


@dataclass
class World:
    sandbox: Sandbox
    settings: Settings
    registered: Registered
    fetchers: dict[str, PlatformFetcher]

    def cycle(self, db: Database) -> CycleReport:
        return run_cycle(
            db,
            self.fetchers,
            rules_from(self.settings),
            budget_s=30,
            only=list(self.registered.channels.values()),
            clock=self.sandbox.clock.now,
        )

    def run(self, db: Database, minutes: int) -> list[CycleReport]:
        reports = []
        for _ in range(minutes):
            reports.append(self.cycle(db))
            self.sandbox.clock.advance(60)
        return reports


def make_world(db: Database, sandbox: Sandbox) -> World:
    key = os.urandom(32)
    settings = Settings(
        **{k.lower(): v for k, v in sandbox.settings_env().items()},
        credentials_encryption_key=SecretStr(base64.b64encode(key).decode()),
    )
    registered = register(db, sandbox.channels(), [DemoTeam("Sandbox", "business")], SecretBox(key))
    fetchers = build_fetchers(
        settings,
        clock=sandbox.clock.now,
        key_interval_s=0,  # simulated minutes pass in milliseconds here
        policy=RetryPolicy.from_settings(settings, sleep=lambda _s: None),
    )
    return World(sandbox, settings, registered, fetchers)


@pytest.fixture
def world(database: Database, request: pytest.FixtureRequest) -> Iterator[World]:
    # A seed of its own per test: each test's channels are new to the database.
    seed = zlib.crc32(request.node.name.encode())
    with Sandbox(
        seed=seed, channels=100, mix="twitch=0.5,youtube=0.3,rumble=0.2", start=START, rate=0
    ) as sandbox:
        yield make_world(database, sandbox)


def test_requests_are_the_minimum(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(
        seed=5, channels=450, mix="twitch=0.6,youtube=0.3,rumble=0.1", start=START, rate=0
    ) as sandbox:
        world = make_world(database, sandbox)
        n = {p: len(sandbox.channels(p)) for p in ("twitch", "youtube", "rumble")}
        youtube = world.fetchers["youtube"]
        assert isinstance(youtube, YouTubeFetcher)
        asked: list[int] = []
        check_videos = youtube.client.check_videos

        def recording(video_ids: list[str], **kw: object) -> object:
            asked.append(len(video_ids))
            return check_videos(video_ids, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(youtube.client, "check_videos", recording)
        first = world.cycle(database)
        counters = sandbox.counters()
        # A bulk import: each cycle reads its share of the never-read feeds.
        share = math.ceil(n["youtube"] * 60 / world.settings.youtube_feed_interval_s)
        assert counters["youtube.feed"] == share
        # Never-read feeds are pending; so are channels whose first feed listed
        # more new videos than the quota governor's share of the day pays for.
        assert n["youtube"] - share <= first.channels_pending <= n["youtube"]
        assert first.status == "succeeded"
        for _ in range(math.ceil(n["youtube"] / share)):
            sandbox.clock.advance(60)
            world.cycle(database)

        # A steady cycle.
        sandbox.reset_counters()
        asked.clear()
        sandbox.clock.advance(60)
        report = world.cycle(database)
        counters = sandbox.counters()
        # Channels with only upcoming videos wait for the governor's upcoming
        # interval: pending (no sample, no false offline), never failed.
        assert report.channels_checked + report.channels_pending == sum(n.values())
        assert report.channels_pending < n["youtube"]
        assert counters["twitch.streams"] == math.ceil(n["twitch"] / 100)
        assert counters["youtube.videos"] == len(asked) == math.ceil(sum(asked) / 50)
        assert all(size == 50 for size in asked[:-1])
        assert counters.get("youtube.feed", 0) <= share
        assert counters["youtube.search"] == 0
        assert counters["rumble.get_data"] == n["rumble"]
        assert report.requests == report.minimum_requests


def _truth_minutes(stream: dict[str, object]) -> dict[datetime, int | None]:
    viewers = stream.get("viewers") or []
    assert isinstance(viewers, list)
    return {datetime.fromisoformat(t.replace("Z", "+00:00")): v for t, v in viewers}


def _at(text: object) -> datetime:
    assert isinstance(text, str)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_sessions_match_the_ground_truth(database: Database) -> None:
    with Sandbox(
        seed=31, channels=200, mix="twitch=0.6,youtube=0.2,rumble=0.2", start=START, rate=0
    ) as sandbox:
        world = make_world(database, sandbox)
        start = sandbox.clock.now()
        world.run(database, 180)
        end = sandbox.clock.now()
        truth = sandbox.truth(start, end)
    ids = world.registered.channels
    checked = restarts = samples_checked = 0
    with database.service() as conn:
        for channel in truth["channels"]:
            if channel["platform"] == "youtube":
                continue  # discovery is staggered by design; checked separately below
            cid = ids[channel["key"]]
            streams = [s for s in channel["streams"] if not s.get("no_show")]
            viewers_at: dict[datetime, int | None] = {}
            for stream in streams:
                viewers_at.update(_truth_minutes(stream))
            # Every live sample says exactly what the platform said that minute.
            for observed_at, count in conn.execute(
                "select observed_at, viewer_count from public.viewer_samples"
                " where channel_id = %s and is_live",
                (cid,),
            ).fetchall():
                assert observed_at in viewers_at, (channel["key"], observed_at)
                assert count == viewers_at[observed_at], (channel["key"], observed_at)
                samples_checked += 1
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
            for root, chain in chains.items():
                first, last = _at(chain[0]["start"]), max(_at(s["end"]) for s in chain)
                if not start < last < end - timedelta(minutes=2):
                    continue  # still live at the end: its total is not known yet
                assert root in sessions, (channel["key"], root)
                assert not any(s["id"] in sessions for s in chain[1:]), "a restart split a session"
                _, started, ended, peak, seconds = sessions[root]
                if channel["platform"] == "twitch":
                    assert started == first
                elif first > start:  # Rumble gives no start: between offline and live sightings
                    assert abs(started - first) <= timedelta(minutes=1)
                assert ended is not None
                assert last - timedelta(minutes=1) <= ended <= last
                seen = {
                    t: v
                    for s in chain
                    for t, v in _truth_minutes(s).items()
                    if t >= start and v is not None
                }
                # Samples fall on the minute: those at or after the start saw it live.
                assert peak == max(v for t, v in seen.items() if t >= first), root
                # The hold rule is off by at most about half an interval at each end.
                assert float(seconds) == pytest.approx(
                    true_viewer_seconds(chain, start), rel=0.05, abs=60 * max(seen.values())
                ), root
                checked += 1
                restarts += len(chain) > 1
    assert samples_checked > 1000
    assert checked >= 5
    assert restarts >= 1


def test_youtube_never_reports_a_known_live_stream_offline(
    database: Database, world: World
) -> None:
    start = world.sandbox.clock.now()
    world.run(database, 45)
    truth = world.sandbox.truth(start, world.sandbox.clock.now(), platform="youtube")
    ids = world.registered.channels
    with database.service() as conn:
        for channel in truth["channels"]:
            samples = dict(
                conn.execute(
                    "select observed_at, is_live from public.viewer_samples"
                    " where channel_id = %s order by observed_at",
                    (ids[channel["key"]],),
                ).fetchall()
            )
            live_minutes = {
                t for s in channel["streams"] for t in _truth_minutes(s) if t in samples
            }
            seen_live = sorted(t for t in live_minutes if samples[t])
            if not seen_live:
                continue
            # After the first live sighting of a stream, no offline sample while it lives.
            assert all(samples[t] for t in live_minutes if t >= seen_live[0]), channel["key"]


def test_faults_lose_nothing_and_invent_nothing(database: Database, world: World) -> None:
    world.sandbox.set_faults(error_rate=0.3, malformed_rate=0.05)
    start = world.sandbox.clock.now()
    reports = world.run(database, 40)
    end = world.sandbox.clock.now()
    world.sandbox.set_faults(reset=True)
    assert any(r.status == "partial" for r in reports)
    assert all(
        r.errors for r in reports if r.channels_checked + r.channels_pending < r.channels_due
    )
    truth = world.sandbox.truth(start, end)
    ids = world.registered.channels
    with database.service() as conn:
        runs = conn.execute(
            "select count(*), count(*) filter (where jsonb_array_length(errors) > 0)"
            " from public.monitor_runs where id = any(%s)",
            ([r.run_id for r in reports],),
        ).fetchone()
        assert runs is not None
        assert runs[0] == 40
        assert runs[1] > 0
        for channel in truth["channels"]:
            if channel["platform"] == "youtube":
                continue
            spans = [
                (_at(s["start"]), _at(s["end"]) if s.get("end") else end)
                for s in channel["streams"]
                if not s.get("no_show")
            ]
            rows = conn.execute(
                "select observed_at, is_live from public.viewer_samples where channel_id = %s",
                (ids[channel["key"]],),
            ).fetchall()
            for observed_at, is_live in rows:
                # A failed fetch writes nothing; a written sample tells the truth.
                live = any(a <= observed_at < b for a, b in spans)
                assert is_live == live, (channel["key"], observed_at)
        failures = conn.execute(
            "select count(*) from public.channel_poll_state"
            " where channel_id = any(%s) and (consecutive_failures > 0 or last_error is not null)",
            (list(ids.values()),),
        ).fetchone()
    assert failures is not None


def test_an_outage_of_one_platform_spares_the_others(database: Database, world: World) -> None:
    world.run(database, 6)  # every YouTube feed read once: nothing pending
    world.sandbox.set_faults(twitch={"error_rate": 1.0})
    report = world.cycle(database)
    world.sandbox.set_faults(reset=True)
    twitch = len(world.sandbox.channels("twitch"))
    assert report.status == "partial"
    assert report.channels_checked + report.channels_pending == report.channels_due - twitch
    assert {e["platform"] for e in report.errors} == {"twitch"}
