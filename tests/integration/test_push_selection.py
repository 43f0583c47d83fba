"""The monitor on push: which channels a cycle polls, and every fallback transition.

Push health is platform-wide, so these tests look at a moment well after anything
other tests wrote (`LATER`), and make it healthy by recording a delivery then.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from shared.config import Settings
from shared.db import Database
from shared.monitor import store
from shared.monitor.cycle import run_cycle
from shared.monitor.stitching import Rules
from shared.platforms.polling import Observation
from shared.push.selection import Selector, push_health, select
from tests.factories import push as signed
from tests.factories.teams import make_team
from tests.integration.push_support import Scripted, channel, poll, unique_pcid

LATER = datetime.now(UTC) + timedelta(days=30)
RULES = Rules(grace=timedelta(minutes=10), max_gap=timedelta(minutes=10))


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "twitch_eventsub_secret": SecretStr(signed.EVENTSUB_SECRET),
        "push_callback_base_url": "https://streamtrack.example.test",
        "push_sweep_interval_s": 600,
        "push_quiet_after_s": 3600,
    }
    return Settings(**(base | values))


def subscribe(database: Database, cid: uuid.UUID, *types: str, status: str = "enabled") -> None:
    with database.service() as conn:
        for t in types or ("stream.online", "stream.offline", "channel.update"):
            conn.execute(
                "insert into public.push_subscriptions"
                " (channel_id, platform, event_type, remote_id, status, updated_at)"
                " values (%s, 'twitch', %s, %s, %s, %s)",
                (cid, t, str(uuid.uuid4()), status, LATER - timedelta(hours=2)),
            )


def delivered(database: Database, at: datetime) -> None:
    with database.service() as conn:
        conn.execute(
            "insert into public.push_deliveries (platform, message_id, kind, payload,"
            " received_at, processed_at) values ('twitch', %s, 'notification', '{}', %s, %s)",
            (f"health-{uuid.uuid4()}", at, at),
        )


def polled_once(database: Database, cid: uuid.UUID, at: datetime) -> None:
    poll(database, cid, Observation(at, False))


def chosen(
    database: Database, ids: list[uuid.UUID], now: datetime, config: Settings
) -> set[uuid.UUID]:
    with database.service() as conn:
        due = store.due_channels(conn, now, only=ids)
        return {c.id for c in select(conn, due, now, config)}


def test_healthy_push_polls_live_uncovered_and_revoked_channels_only(database: Database) -> None:
    team = make_team(database)
    idle, live, bare, revoked, pending, half = (
        channel(database, team, "twitch", unique_pcid()) for _ in range(6)
    )
    for cid in (idle, live, revoked, pending, half):
        polled_once(database, cid, LATER - timedelta(minutes=1))
    poll(database, live, Observation(LATER - timedelta(seconds=30), True, "s", "t", "c", 9,
                                     LATER - timedelta(minutes=5)))  # fmt: skip
    subscribe(database, idle)
    subscribe(database, live)
    subscribe(database, revoked, "stream.online")
    subscribe(database, revoked, "stream.offline", status="revoked")
    subscribe(database, pending, status="pending")
    subscribe(database, half, "stream.online")  # no stream.offline: not covered
    delivered(database, LATER - timedelta(minutes=1))
    ids = [idle, live, bare, revoked, pending, half]
    got = chosen(database, ids, LATER, settings())
    assert live in got, "a live channel is polled for its viewers"
    assert bare in got, "a channel without subscriptions is polled as before"
    for uncovered in (revoked, pending, half):
        assert uncovered in got, "not covered: polled"
    assert idle not in got, "an offline channel covered by push waits for its sweep"


def test_the_sweep_polls_every_covered_channel_once_per_interval(database: Database) -> None:
    team = make_team(database)
    ids = [channel(database, team, "twitch", unique_pcid()) for _ in range(20)]
    start = LATER - timedelta(minutes=11)
    for cid in ids:
        polled_once(database, cid, start)
        subscribe(database, cid)
    delivered(database, LATER)
    config = settings()
    seen: list[set[uuid.UUID]] = []
    for minute in range(10):
        now = LATER + timedelta(minutes=minute)
        got = chosen(database, ids, now, config)
        seen.append(got)
        for cid in got:
            polled_once(database, cid, now)
    # 20 channels over a 10-minute sweep: 2 a cycle, each once.
    assert [len(s) for s in seen] == [2] * 10
    assert set().union(*seen) == set(ids)


def test_quiet_push_falls_back_to_full_polling(database: Database) -> None:
    team = make_team(database)
    cid = channel(database, team, "twitch", unique_pcid())
    polled_once(database, cid, LATER + timedelta(days=1) - timedelta(minutes=1))
    subscribe(database, cid)
    # A day later nothing has been delivered for longer than PUSH_QUIET_AFTER_S.
    now = LATER + timedelta(days=1)
    with database.service() as conn:
        health = push_health(conn, settings(), now)["twitch"]
    assert health.quiet
    assert not health.healthy
    assert chosen(database, [cid], now, settings()) == {cid}


def test_push_not_configured_polls_everything(database: Database) -> None:
    team = make_team(database)
    cid = channel(database, team, "twitch", unique_pcid())
    polled_once(database, cid, LATER - timedelta(minutes=1))
    subscribe(database, cid)
    delivered(database, LATER)
    assert chosen(database, [cid], LATER, settings(twitch_eventsub_secret=None)) == {cid}
    assert chosen(database, [cid], LATER, settings(push_callback_base_url=None)) == {cid}
    assert chosen(database, [cid], LATER, settings()) == set()


def test_a_cycle_with_the_selector_polls_only_the_selected(database: Database) -> None:
    team = make_team(database)
    idle, bare = (channel(database, team, "twitch", unique_pcid()) for _ in range(2))
    for cid in (idle, bare):
        polled_once(database, cid, LATER - timedelta(minutes=1))
    subscribe(database, idle)
    delivered(database, LATER)
    fetcher = Scripted("twitch")
    run_cycle(
        database, {"twitch": fetcher}, RULES, budget_s=10, only=[idle, bare],
        clock=lambda: LATER, select=Selector(settings()),
    )  # fmt: skip
    asked = {t.id for batch in fetcher.asked for t in batch}
    assert asked == {bare}


def test_push_subscription_health_reports_counts_and_quiet(database: Database) -> None:
    from shared.push.health import push_subscription_health

    team = make_team(database)
    cid = channel(database, team, "twitch", unique_pcid())
    subscribe(database, cid)
    later = LATER + timedelta(days=2)
    report = push_subscription_health(database=database, settings=settings(), clock=lambda: later)
    twitch = report["platforms"]["twitch"]
    assert twitch["configured"] is True
    assert twitch["enabled"] >= 3
    assert twitch["quiet"] is True
    assert report["healthy"] is False
    delivered(database, later)
    fresh = push_subscription_health(database=database, settings=settings(), clock=lambda: later)
    assert fresh["platforms"]["twitch"]["healthy"] is True
