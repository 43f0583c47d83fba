"""The alert outbox and its delivery, against the real database and the local
alert sink: written with the cycle's commit or not at all, one alert per
session, Discord's 429s, a destination switched off after repeated 404s, a
crash between sending and recording, Slack's pace."""

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from localdev.alertsink import AlertSink
from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, PlatformUsage, RunInfo
from tests.factories.alerts import (
    deliverer,
    deliveries,
    fast_policy,
    make_alert_team,
    settle_outbox,
)
from tests.factories.monitor import RULES, T0, cycle, live, off
from tests.factories.telemetry import recording


@pytest.fixture
def sink(database: Database) -> Iterator[AlertSink]:
    settle_outbox(database)  # what earlier tests left pending is not this test's to send
    with AlertSink() as running:
        yield running


def test_outbox_rows_come_with_the_cycles_commit(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(database, sink)
    channel = team.channels[0]
    cycle(database, {channel: live(0)}, T0)
    rows = deliveries(database, team.crew.team_id)
    assert [(r["event"], r["status"]) for r in rows] == [("live", "pending")]
    assert rows[0]["payload"]["title"] == "title"


def test_no_outbox_row_when_the_cycle_rolls_back(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(database, sink)
    channel = team.channels[0]

    def failing_cycle() -> None:
        with database.service() as conn:
            due = store.due_channels(conn, T0, only=[channel])
            outcomes = {channel: ChannelOutcome(observation=live(0))}
            usage = {"twitch": PlatformUsage(requests=1)}
            store.write_cycle(conn, due, outcomes, usage, RULES, RunInfo(started_at=T0))
            written = conn.execute(
                "select count(*) from public.alert_deliveries a"
                " join public.alert_rules r on r.id = a.rule_id where r.team_id = %s",
                (team.crew.team_id,),
            ).fetchone()
            assert written == (1,)  # in the transaction, before it fails
            raise RuntimeError("the cycle fails after writing")

    with pytest.raises(RuntimeError, match="fails after writing"):
        failing_cycle()
    assert deliveries(database, team.crew.team_id) == []
    with database.service() as conn:
        assert conn.execute(
            "select count(*) from public.channel_status where channel_id = %s", (channel,)
        ).fetchone() == (0,)


def test_a_restart_within_grace_alerts_nothing(database: Database, sink: AlertSink) -> None:
    """Live, a short drop, live again with a new stream id within the grace period:
    one session, one `live`. Offline past the grace: one `ended`, once."""
    team = make_alert_team(database, sink)
    channel = team.channels[0]
    for minute, obs in [(0, live(0, stream="s1")), (2, off(2)), (4, live(4, stream="s2")),
                        (5, live(5, stream="s2")), (6, off(6)), (8, off(8)), (30, off(30)),
                        (31, off(31))]:  # fmt: skip
        cycle(database, {channel: obs}, T0 + timedelta(minutes=minute))
    events = [r["event"] for r in deliveries(database, team.crew.team_id)]
    assert events == ["live", "ended"]


def test_a_new_session_after_the_grace_alerts_again(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(database, sink)
    channel = team.channels[0]
    for minute, obs in [(0, live(0, stream="s1")), (20, off(20)), (40, live(40, stream="s2"))]:
        cycle(database, {channel: obs}, T0 + timedelta(minutes=minute))
    events = [r["event"] for r in deliveries(database, team.crew.team_id)]
    assert events == ["live", "ended", "live"]


def test_title_category_and_viewer_threshold(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(
        database, sink, events=("title_changed", "category_changed", "viewers_above")
    )
    channel = team.channels[0]
    base = live(0, viewers=50)
    steps = [
        base,
        base.__class__(T0 + timedelta(minutes=1), True, "s1", "new title", "cat", 80,
                       base.started_at),
        base.__class__(T0 + timedelta(minutes=2), True, "s1", "new title", "other", 150,
                       base.started_at),
        base.__class__(T0 + timedelta(minutes=3), True, "s1", "new title", "other", 300,
                       base.started_at),
    ]  # fmt: skip
    for obs in steps:
        cycle(database, {channel: obs}, obs.observed_at)
    events = sorted(r["event"] for r in deliveries(database, team.crew.team_id))
    assert events == ["category_changed", "title_changed", "viewers_above"]


def test_delivered_to_discord_once(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(database, sink, channels=3)
    cycle(database, {c: live(0, stream=f"s{i}") for i, c in enumerate(team.channels)}, T0)
    sender = deliverer(database)
    try:
        report = sender.run_once()
        again = sender.run_once()
    finally:
        sender.close()
    assert (report.delivered, report.requests, again.claimed) == (3, 1, 0)
    [message] = sink.received(team.paths["discord"])
    body = message.json()
    assert len(body["embeds"]) == 3
    assert body["allowed_mentions"] == {"parse": []}
    assert all(" is live on Twitch: title" in e["description"] for e in body["embeds"])
    assert {r["status"] for r in deliveries(database, team.crew.team_id)} == {"delivered"}


def test_discord_429_waits_what_it_says(database: Database, sink: AlertSink) -> None:
    """A short Retry-After is waited in the run and the alert goes; a long one pauses
    the destination and the alert waits for it."""
    team = make_alert_team(database, sink)
    path = team.paths["discord"]
    cycle(database, {team.channels[0]: live(0)}, T0)
    waits: list[float] = []
    sink.retry_after_s = 0.25
    sink.limit_next(path)
    sender = deliverer(database, fast_policy(sleep=waits.append))
    try:
        report = sender.run_once()
    finally:
        sender.close()
    assert (report.rate_limited, report.delivered, report.requests) == (1, 1, 2)
    assert waits == [pytest.approx(0.25)]
    assert len(sink.received(path)) == 1

    cycle(database, {team.channels[0]: off(20)}, T0 + timedelta(minutes=20))
    sink.retry_after_s = 30
    sink.limit_next(path)
    sender = deliverer(database, fast_policy(sleep=waits.append))
    try:
        first = sender.run_once()
        second = sender.run_once()
    finally:
        sender.close()
    assert (first.rate_limited, first.delivered, first.retried) == (1, 0, 1)
    assert second.claimed == 0  # the destination is paused for 30 s
    ended = deliveries(database, team.crew.team_id)[-1]
    assert (ended["event"], ended["status"], ended["last_status_code"]) == ("ended", "pending", 429)
    with database.service() as conn:
        row = conn.execute(
            "select paused_until - now() > interval '25 seconds',"
            " (select next_attempt_at - now() > interval '25 seconds'"
            "  from public.alert_deliveries where id = %s)"
            " from public.alert_destination_secrets where destination_id = %s",
            (ended["id"], team.destinations["discord"]),
        ).fetchone()
    assert row == (True, True)


def test_switched_off_after_repeated_404(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(database, sink, channels=2)
    path = team.paths["discord"]
    sink.set_status(path, 404)
    cycle(database, {team.channels[0]: live(0)}, T0)
    sender = deliverer(database, fast_policy(disable_after=3))
    try:
        reports = [sender.run_once() for _ in range(4)]
    finally:
        sender.close()
    assert [r.requests for r in reports] == [1, 1, 1, 0]
    assert reports[2].disabled == 1
    [row] = deliveries(database, team.crew.team_id)
    assert row["status"] == "dropped"
    assert "404" in row["last_error"]
    with database.service() as conn:
        destination = conn.execute(
            "select enabled, disabled_reason from public.alert_destinations where id = %s",
            (team.destinations["discord"],),
        ).fetchone()
        audit = conn.execute(
            "select actor, details -> 'new' ->> 'disabled_reason' from public.audit_log"
            " where team_id = %s and action = 'alert_destinations.update' order by id desc",
            (team.crew.team_id,),
        ).fetchone()
    assert destination is not None
    assert destination[0] is False
    assert "3 consecutive refusals" in destination[1]
    assert "HTTP 404" in destination[1]
    assert audit == ("alert-delivery", destination[1])
    # Switched off, the next change alerts nothing.
    cycle(database, {team.channels[1]: live(1, stream="x")}, T0 + timedelta(minutes=1))
    assert len(deliveries(database, team.crew.team_id)) == 1


def test_a_crash_between_send_and_record_resends_once_with_the_same_id(
    database: Database, sink: AlertSink
) -> None:
    team = make_alert_team(database, sink, kinds=("webhook",))
    cycle(database, {team.channels[0]: live(0)}, T0)
    sender = deliverer(database, fast_policy(lease_s=0.2))
    try:
        with database.service() as conn:
            destinations, claimed = sender._claim(conn, 10)
        [destination] = destinations
        result = sender._send_all(destination, claimed[destination.id], deadline=1e18)
        assert [o.status for o in result.outcomes] == ["delivered"]
        # ...and the worker dies here, before recording. The lease runs out:
        time.sleep(0.3)
        report = sender.run_once()
    finally:
        sender.close()
    assert report.delivered == 1
    first, second = sink.received(team.paths["webhook"])
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.json()["data"]["delivery_id"] == second.json()["data"]["delivery_id"]
    [row] = deliveries(database, team.crew.team_id)
    assert (row["status"], row["attempts"]) == ("delivered", 2)


def test_slack_gets_one_message_a_second(database: Database, sink: AlertSink) -> None:
    team = make_alert_team(database, sink, kinds=("slack",), channels=12)
    cycle(database, {c: live(0, stream=f"s{i}") for i, c in enumerate(team.channels)}, T0)
    sender = deliverer(database)
    try:
        report = sender.run(3.0, idle_s=0.05)
    finally:
        sender.close()
    assert report.delivered == 12
    first, second = sink.received(team.paths["slack"])
    assert len(first.json()["blocks"]) + len(second.json()["blocks"]) == 12
    assert second.at - first.at >= 0.95


def test_client_readable_rows_hold_no_secret(database: Database, sink: AlertSink) -> None:
    """The API's answers and the database's client-readable tables hold no URL."""
    team = make_alert_team(database, sink, kinds=("webhook", "slack"))
    with database.service() as conn:
        rows = conn.execute(
            "select row_to_json(d)::text from public.alert_destinations d where team_id = %s",
            (team.crew.team_id,),
        ).fetchall()
    for (text,) in rows:
        for secret_part in ("/hooks/", "/services/", "whsec_"):
            assert secret_part not in text


def test_a_failing_destination_backs_off_with_all_its_alerts(
    database: Database, sink: AlertSink
) -> None:
    team = make_alert_team(database, sink, kinds=("webhook",), channels=3)
    sink.set_status(team.paths["webhook"], 503)
    cycle(database, {c: live(0, stream=f"s{i}") for i, c in enumerate(team.channels)}, T0)
    sender = deliverer(database, fast_policy(backoff_initial_s=30.0, backoff_max_s=30.0))
    try:
        first = sender.run_once()
        second = sender.run_once()
    finally:
        sender.close()
    assert (first.requests, first.retried, second.claimed) == (1, 1, 0)  # 2 never tried
    rows = deliveries(database, team.crew.team_id)
    assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 1), ("pending", 0),
                                                            ("pending", 0)]  # fmt: skip
    assert rows[0]["last_status_code"] == 503
    with database.service() as conn:
        paused = conn.execute(
            "select paused_until > now() + interval '10 seconds'"
            " from public.alert_destination_secrets where destination_id = %s",
            (team.destinations["webhook"],),
        ).fetchone()
    assert paused == (True,)


def test_deliveries_are_counted_in_the_metrics(database: Database, sink: AlertSink) -> None:
    delivered = make_alert_team(database, sink, channels=2)
    refused = make_alert_team(database, sink, channels=1)
    sink.set_status(refused.paths["discord"], 404)
    changes = {c: live(0, stream=f"m{i}") for i, c in enumerate(delivered.channels)}
    changes[refused.channels[0]] = live(0, stream="refused")
    with recording() as rec:
        cycle(database, changes, T0)
        sender = deliverer(database, fast_policy(disable_after=2))
        try:
            for _ in range(3):
                sender.run_once()
        finally:
            sender.close()
    # Each team's one Discord destination: two alerts delivered, and the refused
    # team's alert retried once, then dropped when the destination is switched off.
    assert rec.total("streamtrack.alert.deliveries", outcome="delivered") == 2
    assert rec.total("streamtrack.alert.deliveries", outcome="dropped") == 1
    assert rec.total("streamtrack.alert.deliveries", destination="discord") >= 3
