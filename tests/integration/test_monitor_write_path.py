"""The poll state's write path (COPY into a staging table, one upsert) against the
real database: every value round-trips, whatever the text arrays hold."""

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.db import Database
from shared.monitor import store
from shared.monitor.state import ChannelOutcome, PlatformUsage, PollState, RunInfo
from tests.factories.channels import make_channels
from tests.factories.monitor import RULES, T0, live
from tests.factories.teams import make_team

AWKWARD = ["plain", 'quo"te', "back\\slash", "com,ma", "{brace}", "NULL", "", " sp ", "ü\tt"]


def write(database: Database, outcomes: dict[uuid.UUID, ChannelOutcome], minute: int) -> None:
    at = T0 + timedelta(minutes=minute)
    with database.service() as conn:
        due = store.due_channels(conn, at, only=list(outcomes))
        usage = {"youtube": PlatformUsage(requests=1)}
        store.write_cycle(conn, due, outcomes, usage, RULES, RunInfo(started_at=at))


def poll_state(database: Database, channel: uuid.UUID) -> tuple[object, ...] | None:
    with database.service() as conn:
        return conn.execute(
            "select candidate_video_ids, settled_video_ids, feed_checked_at, stats_checked_at,"
            " consecutive_failures, last_error, last_polled_at, last_sample_live"
            " from public.channel_poll_state where channel_id = %s",
            (channel,),
        ).fetchone()


def test_text_arrays_round_trip_and_rows_update_in_place(database: Database) -> None:
    a, b = make_channels(database, make_team(database), 2, platform="youtube")
    poll = PollState(
        feed_checked_at=T0,
        candidate_video_ids=tuple(AWKWARD),
        settled_video_ids=("x" * 11,),
        stats_checked_at=T0 - timedelta(hours=1),
    )
    write(
        database,
        {a: ChannelOutcome(observation=live(0), poll=poll), b: ChannelOutcome(error="boom")},
        0,
    )
    assert poll_state(database, a) == (
        AWKWARD, ["x" * 11], T0, T0 - timedelta(hours=1), 0, None, T0, True,
    )  # fmt: skip
    assert poll_state(database, b) == ([], [], None, None, 1, "boom", None, None)
    # The next cycle updates the same rows: b fails again, a's lists empty out.
    write(
        database,
        {a: ChannelOutcome(observation=live(1), poll=PollState()), b: ChannelOutcome(error="x")},
        1,
    )
    assert poll_state(database, a) == ([], [], None, None, 0, None, T0 + timedelta(minutes=1), True)
    assert poll_state(database, b) == ([], [], None, None, 2, "x", None, None)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=12), max_size=50))
def test_any_candidate_ids_round_trip(database: Database, ids: list[str]) -> None:
    ids = [i.replace("\x00", "") for i in ids]  # PostgreSQL text holds no NUL
    (ch,) = make_channels(database, make_team(database), platform="youtube")
    poll = PollState(feed_checked_at=T0, candidate_video_ids=tuple(ids))
    write(database, {ch: ChannelOutcome(observation=live(0), poll=poll)}, 0)
    row = poll_state(database, ch)
    assert row is not None
    assert row[0] == ids


def test_text_array_literals() -> None:
    assert store.text_array(()) == "{}"
    assert store.text_array(("a", 'b"c', "d\\e")) == '{"a","b\\"c","d\\\\e"}'
    # Quotes that look like the separators are still escaped.
    assert store.text_array(('x","y', "z")) == '{"x\\",\\"y","z"}'
    assert store.text_array(("a", "b")) == '{"a","b"}'
    assert store.text_array(("",)) == '{""}'
