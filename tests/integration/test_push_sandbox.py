"""Push end to end against the sandbox and the database: the subscription manager keeps
the subscriptions (EventSub handshakes, WebSub leases, Kick events, the cost budget),
the fakes deliver in the platforms' wire format with faults, and the monitor on push
gets every stream right with far fewer requests."""

import base64
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from localdev.sandbox import Sandbox
from localdev.seeding import DemoTeam, register
from shared.crypto import SecretBox
from shared.db import Database
from shared.monitor.cycle import run_cycle
from shared.monitor.service import build_fetchers, rules_from
from shared.platforms.retry import RetryPolicy
from shared.push import apply, manager
from shared.push.selection import Selector
from tests.integration.push_support import connect, push_settings

START = "2026-11-24T18:00:00Z"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def subscriptions(db: Database, ids: list[uuid.UUID]) -> dict[tuple[str, str], int]:
    with db.service() as conn:
        rows = conn.execute(
            "select platform::text, status, count(*) from public.push_subscriptions"
            " where channel_id = any(%s) group by 1, 2",
            (ids,),
        ).fetchall()
    return {(p, s): n for p, s, n in rows}


def setup(db: Database, sb: Sandbox, **extra: Any) -> tuple[Any, dict[str, uuid.UUID], list[str]]:
    key = os.urandom(32)
    settings = push_settings(sb, credentials_encryption_key=base64.b64encode(key).decode(), **extra)
    registered = register(db, sb.channels(), [DemoTeam("Push", "business")], SecretBox(key))
    log: list[tuple[str, int]] = []
    connect(db, settings, sb, log)
    return settings, registered.channels, log  # type: ignore[return-value]


def test_the_manager_keeps_exactly_the_needed_subscriptions(database: Database) -> None:
    mix = "twitch=0.4,youtube=0.3,kick=0.3"
    with Sandbox(seed=71, channels=30, mix=mix, start=START, rate=0,
                 twitch_eventsub_max_cost=15) as sb:  # fmt: skip
        settings, channels, log = setup(database, sb)
        ids = list(channels.values())
        with httpx.Client() as http:
            reports = manager.tick(settings=settings, database=database, http=http, scope=ids)
            twitch_n = len(sb.channels("twitch"))
            # 15 cost units cannot hold 3 types for every channel: the required two
            # (online, offline) for 7 channels, the best tracked; the rest poll.
            assert reports["twitch"].chosen == 7
            assert reports["twitch"].over_budget == twitch_n - 7
            got = subscriptions(database, ids)
            assert got[("twitch", "enabled")] == 14
            assert got[("youtube", "enabled")] == len(sb.channels("youtube"))
            assert got[("kick", "enabled")] == 2 * len(sb.channels("kick"))
            assert len(sb.push.of("twitch")) == 14
            assert all(status == 200 for _, status in log), "every handshake answered"
            # A second run changes nothing.
            again = manager.tick(settings=settings, database=database, http=http, scope=ids)
            assert all(r.created == r.deleted == r.failed == 0 for r in again.values())
            # A revocation: recorded by the callback, recreated by the next run.
            victim = sb.push.of("twitch")[0]
            victim.status = "authorization_revoked"
            with database.service() as conn:
                conn.execute(
                    "update public.push_subscriptions set status = 'revoked',"
                    " revoked_reason = 'authorization_revoked' where remote_id = %s",
                    (victim.id,),
                )
            fixed = manager.tick(settings=settings, database=database, http=http, scope=ids)
            assert fixed["twitch"].created == 1
            assert fixed["twitch"].deleted == 1
            assert subscriptions(database, ids)[("twitch", "enabled")] == 14
            # A channel no team tracks any more loses its subscriptions.
            kick_channel = channels[sb.channels("kick")[0]["key"]]
            with database.service() as conn:
                conn.execute("delete from public.team_channels where channel_id = %s",
                             (kick_channel,))  # fmt: skip
            dropped = manager.tick(settings=settings, database=database, http=http, scope=ids)
            assert dropped["kick"].deleted == 2
            assert len(sb.push.of("kick")) == 2 * (len(sb.channels("kick")) - 1)
            # WebSub leases are renewed well before they end.
            sb.clock.advance(4 * 86_400)
            renewed = manager.tick(settings=settings, database=database, http=http, scope=ids,
                                   clock=sb.clock.now)  # fmt: skip
            assert renewed["youtube"].renewed == len(sb.channels("youtube"))


def test_push_gets_every_stream_with_fewer_requests_despite_faults(database: Database) -> None:
    mix = "twitch=0.5,youtube=0.2,kick=0.3"
    with Sandbox(seed=72, channels=150, mix=mix, start=START, rate=0) as sb:
        settings, channels, _ = setup(database, sb, push_sweep_interval_s=600)
        ids = list(channels.values())
        with httpx.Client() as http:
            manager.tick(
                settings=settings, database=database, http=http, scope=ids, clock=sb.clock.now
            )
        sb.set_push_faults(loss_rate=0.2, duplicate_rate=0.3, bad_signature_rate=0.3,
                           delay_s=2, delay_jitter_s=20, reorder=True)  # fmt: skip
        policy = RetryPolicy.from_settings(settings, sleep=lambda _s: None)
        fetchers = build_fetchers(settings, clock=sb.clock.now, key_interval_s=0, policy=policy)
        rules = rules_from(settings)
        start = sb.clock.now()
        sb.deliver_push()
        requests: list[dict[str, int]] = []
        for _ in range(120):
            sb.clock.advance(30)
            sb.deliver_push()
            apply.apply_pending(database, fetchers, rules, clock=sb.clock.now)
            sb.clock.advance(30)
            sb.deliver_push()
            apply.apply_pending(database, fetchers, rules, clock=sb.clock.now)
            report = run_cycle(database, fetchers, rules, budget_s=30, only=ids,
                               clock=sb.clock.now, select=Selector(settings))  # fmt: skip
            requests.append(report.requests)
        end = sb.clock.now()
        truth = sb.truth(start, end)
        stats = sb.push.stats
    assert stats.lost > 0
    assert stats.duplicated > 0
    assert stats.bad_signatures > 0
    assert stats.refused == stats.bad_signatures, "a bad signature is refused, nothing else"
    with database.service() as conn:
        found = 0
        for channel in truth["channels"]:
            if channel["platform"] not in ("twitch", "kick"):
                continue
            cid = channels[channel["key"]]
            for stream in channel["streams"]:
                if stream["start"] is None or stream["restart_of"] is not None:
                    continue
                began = _at(stream["start"])
                if not start + timedelta(minutes=1) < began < end - timedelta(minutes=15):
                    continue
                sid = stream.get("platform_stream_id") or stream["id"]
                rows = conn.execute(
                    "select started_at from public.stream_sessions"
                    " where channel_id = %s and platform_stream_id = %s",
                    (cid, sid),
                ).fetchall()
                assert len(rows) == 1, (channel["key"], stream)
                assert rows[0][0] == began
                found += 1
    assert found >= 3
    # Steady state: the cycle polls live channels and the sweep's share, not everyone.
    twitch_n = sum(1 for c in truth["channels"] if c["platform"] == "twitch")
    polled = [r.get("twitch", 0) for r in requests[20:]]
    assert max(polled) <= 2, (twitch_n, polled)
