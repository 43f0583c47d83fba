"""Session stitching and aggregate math, table-driven."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.monitor.stitching import (
    Memory,
    Observation,
    Rules,
    Session,
    SessionChange,
    advance,
)

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RULES = Rules(grace=timedelta(minutes=10), max_gap=timedelta(minutes=10))


def live(minute: float, stream: str = "s1", viewers: int | None = 100, **kw: object) -> Observation:
    return Observation(
        observed_at=T0 + timedelta(minutes=minute),
        is_live=True,
        platform_stream_id=stream,
        viewer_count=viewers,
        **kw,  # type: ignore[arg-type]
    )


def off(minute: float) -> Observation:
    return Observation(observed_at=T0 + timedelta(minutes=minute), is_live=False)


@dataclass
class Run:
    sessions: list[Session]
    changes: list[SessionChange]
    memory: Memory


def run(observations: list[Observation], rules: Rules = RULES) -> Run:
    """Apply observations in order; return every session in the order they began."""
    memory = Memory()
    finished: list[Session] = []
    changes: list[SessionChange] = []
    for obs in observations:
        previous = memory.session
        step = advance(memory, obs, rules)
        changes.append(step.change)
        if step.change is SessionChange.OPENED and previous is not None:
            finished.append(step.closed or previous)
        memory = step.memory
    sessions = [*finished, *([memory.session] if memory.session else [])]
    return Run(sessions, changes, memory)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.mark.parametrize(
    ("name", "observations", "expected"),
    [
        (
            "one stream, then offline past the grace: closed at the last live sighting",
            [live(0), live(1), live(2), off(3), off(12), off(13)],
            [(at(0), at(2), 3)],
        ),
        (
            "offline within the grace keeps the session open",
            [live(0), live(1), off(2), off(5)],
            [(at(0), None, 2)],
        ),
        (
            "restart within the grace (new stream id) continues the session",
            [live(0, "a"), live(1, "a"), off(2), off(5), live(6, "b"), live(7, "b")],
            [(at(0), None, 4)],
        ),
        (
            "restart beyond the grace starts a new session (at the midpoint after offline)",
            [live(0, "a"), live(1, "a"), off(2), off(12), live(13, "b")],
            [(at(0), at(1), 2), (at(12.5), None, 1)],
        ),
        (
            "new stream id straight after a long monitoring gap: a new session",
            [live(0, "a"), live(30, "b")],
            [(at(0), at(0), 1), (at(30), None, 1)],
        ),
        (
            "same broadcast after a long gap is the same session, even when closed",
            [live(0, "a"), off(1), off(20), live(30, "a")],
            [(at(0), None, 2)],
        ),
    ],
)
def test_session_boundaries(
    name: str,
    observations: list[Observation],
    expected: list[tuple[datetime, datetime | None, int]],
) -> None:
    result = run(observations)
    got = [(s.started_at, s.ended_at, s.sample_count) for s in result.sessions]
    assert got == expected, name


def test_platform_start_time_is_used_when_it_is_earlier() -> None:
    result = run([live(5, started_at=at(2)), live(6)])
    assert result.sessions[0].started_at == at(2)


def test_a_start_long_before_the_last_offline_sighting_is_not_believed() -> None:
    # A creation time, not a go-live time: the start lies between the last
    # offline and the first live sighting (its midpoint, the unbiased estimate).
    result = run([off(10), live(11, viewers=100, started_at=at(-120))])
    assert result.sessions[0].started_at == at(10.5)
    assert result.sessions[0].viewer_seconds == 100 * 30


def test_without_a_start_time_the_start_lies_after_the_last_offline_sighting() -> None:
    result = run([off(10), live(11, viewers=100), live(12, viewers=100)])
    s = result.sessions[0]
    assert at(10) < s.started_at <= at(11)
    assert s.started_at == at(10.5)
    assert s.viewer_seconds == 100 * 90


def test_a_start_shortly_before_the_last_offline_sighting_is_believed() -> None:
    # Platforms list a new stream after a short lag.
    result = run([off(10), live(11, started_at=at(9.5))])
    assert result.sessions[0].started_at == at(9.5)


def test_the_first_sample_covers_the_time_since_the_start() -> None:
    s = run([live(5, viewers=100, started_at=at(2))]).sessions[0]
    assert s.viewer_seconds == 100 * 180


def test_no_head_when_the_start_is_further_back_than_max_gap() -> None:
    # First tracked two hours into a stream: that time is unknown.
    s = run([live(120, viewers=100, started_at=at(0))]).sessions[0]
    assert s.viewer_seconds == 0


def test_the_last_live_sample_holds_until_the_first_offline_one() -> None:
    result = run([live(0, viewers=100), live(1, viewers=100), off(2), off(3), off(14)])
    s = result.sessions[0]
    assert s.ended_at == at(1)
    # 0→1, then 1→1.5: the last live sample holds to the midpoint of the offline gap.
    assert s.viewer_seconds == 100 * 90
    assert result.changes == [
        SessionChange.OPENED,
        SessionChange.EXTENDED,
        SessionChange.EXTENDED,  # the tail 1→2 is added to the session
        SessionChange.NONE,
        SessionChange.CLOSED,
    ]


def test_a_start_time_in_the_future_is_clamped_to_the_first_sighting() -> None:
    result = run([live(5, started_at=at(9))])
    assert result.sessions[0].started_at == at(5)


def test_aggregates_hold_each_sample_for_the_half_intervals_either_side() -> None:
    # The midpoint rule: 100 from 0 (no start time, nothing before it) to 0.5, 200
    # from 0.5 to 1.5, 300 from 1.5 to 3, the last 100 from 3 to 4 (nothing after
    # it yet: its forward half comes with the next sample).
    result = run([live(0, viewers=100), live(1, viewers=200), live(2, viewers=300), live(4)])
    s = result.sessions[0]
    assert s.viewer_seconds == (100 * 30 + 200 * 60 + 300 * 90 + 100 * 60)
    assert s.peak_viewers == 300
    assert s.viewer_count_sum == 100 + 200 + 300 + 100
    assert s.known_viewer_sample_count == 4


def test_hidden_viewers_are_unknown_not_zero() -> None:
    result = run([live(0, viewers=None), live(1, viewers=50), live(2, viewers=None), live(3)])
    s = result.sessions[0]
    assert s.sample_count == 4
    assert s.known_viewer_sample_count == 2
    assert s.peak_viewers == 100
    assert s.viewer_count_sum == 150
    # Only the known counts count: 50 over 0.5 to 1.5, 100 over 2.5 to 3; the
    # hidden samples' half-intervals carry nothing.
    assert s.viewer_seconds == 50 * 60 + 100 * 30


def test_all_hidden_leaves_peak_unknown() -> None:
    s = run([live(0, viewers=None), live(1, viewers=None)]).sessions[0]
    assert s.peak_viewers is None
    assert s.known_viewer_sample_count == 0
    assert s.viewer_seconds == 0


def test_a_gap_longer_than_max_gap_is_not_counted() -> None:
    result = run([live(0, viewers=100), live(1, viewers=100), live(15, viewers=100)])
    s = result.sessions[0]
    assert s.sample_count == 3  # same broadcast: one session
    assert s.viewer_seconds == 100 * 60  # the 14-minute gap is unknown


def test_offline_samples_in_a_restart_end_the_hold() -> None:
    result = run([live(0, "a", 100), off(1), live(2, "b", 100), live(3, "b", 100)])
    s = result.sessions[0]
    # Held 0→0.5 (up to the offline sample's boundary), then 1.5→3.
    assert s.viewer_seconds == 100 * 30 + 100 * 90


def test_a_repeated_or_older_observation_is_a_no_op() -> None:
    memory = run([live(0), live(1)]).memory
    for obs in (live(1), live(0, viewers=9999), off(0.5)):
        step = advance(memory, obs, RULES)
        assert step.change is SessionChange.NONE
        assert not step.applied
        assert step.memory == memory


def test_change_kinds() -> None:
    result = run([live(0, "a"), live(1, "a"), off(2), off(13), live(14, "a"), live(15, "b")])
    assert result.changes == [
        SessionChange.OPENED,
        SessionChange.EXTENDED,
        SessionChange.EXTENDED,  # tail hold 1→2
        SessionChange.CLOSED,
        SessionChange.REOPENED,
        SessionChange.EXTENDED,  # a restart within the grace of the reopened session
    ]


def test_midnight_crossing() -> None:
    start = datetime(2026, 11, 24, 23, 58, tzinfo=UTC)
    obs = [Observation(start + timedelta(minutes=m), True, "s", viewer_count=60) for m in range(5)]
    s = run(obs).sessions[0]
    assert s.started_at.date() != s.last_seen_at.date()
    assert s.viewer_seconds == 60 * 60 * 4


def test_dst_fall_back_uses_elapsed_time_not_wall_clock() -> None:
    # 2026-11-01 01:30 happens twice in New York; an hour of elapsed time
    # separates the two. Observations made in local time, compared in UTC.
    ny = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ny, fold=0)
    second = datetime(2026, 11, 1, 1, 30, tzinfo=ny, fold=1)
    # Aware arithmetic in a zone is wall-clock arithmetic: add in UTC.
    third = second.astimezone(UTC) + timedelta(minutes=5)
    rules = Rules(grace=timedelta(minutes=10), max_gap=timedelta(hours=2))
    obs = [
        Observation(t.astimezone(UTC), True, "s", viewer_count=10) for t in (first, second, third)
    ]
    s = run(obs, rules).sessions[0]
    assert s.viewer_seconds == 10 * 3600 + 10 * 300


def test_dst_spring_forward() -> None:
    ny = ZoneInfo("America/New_York")
    before = datetime(2026, 3, 8, 1, 55, tzinfo=ny)  # 02:00 local does not exist
    after = datetime(2026, 3, 8, 3, 5, tzinfo=ny)  # 10 elapsed minutes later
    obs = [Observation(t.astimezone(UTC), True, "s", viewer_count=6) for t in (before, after)]
    s = run(obs).sessions[0]
    assert s.viewer_seconds == 6 * 600


# --- the hold rule is unbiased; restarts merge by the true gap -----------------------


def test_the_estimate_is_unbiased_at_both_ends() -> None:
    # A stream of 100 viewers from 10:xx to 40:yy, sampled every minute on the
    # minute with no platform start time: over start and end offsets spread
    # evenly through the interval, the mean error is zero, and no single
    # stream is off by more than half an interval at each end.
    offsets = [(k + 0.5) / 10 for k in range(10)]
    errors = []
    for a in offsets:
        for b in offsets:
            start, end = 10 + a, 40 + b
            obs = [live(m, viewers=100) if start <= m < end else off(m) for m in range(0, 60)]
            s = run(obs).sessions[0]
            errors.append(s.viewer_seconds - 100 * (end - start) * 60)
    assert sum(errors) == pytest.approx(0, abs=1e-6)
    assert max(abs(e) for e in errors) <= 100 * 60  # half an interval at each end


def test_a_true_start_time_makes_the_head_exact() -> None:
    s = run([off(10), live(11, viewers=100, started_at=at(10.25)), live(12, viewers=100)])
    assert s.sessions[0].started_at == at(10.25)
    assert s.sessions[0].viewer_seconds == 100 * (45 + 60)


def test_a_restart_seen_late_joins_the_closed_session_when_the_true_gap_is_short() -> None:
    # YouTube finds the new video at the next feed read, after the grace closed
    # the session: the true gap (7 min) is what counts, and the session reopens.
    obs = [live(0, "a", started_at=at(-30)), *[off(m) for m in range(1, 13)],
           live(13, "b", started_at=at(7))]  # fmt: skip
    result = run(obs)
    assert len(result.sessions) == 1
    assert result.changes[-1] is SessionChange.REOPENED
    assert result.sessions[0].ended_at is None
    assert result.sessions[0].platform_stream_id == "a"


def test_a_restart_whose_true_gap_exceeds_the_grace_is_a_new_session() -> None:
    obs = [live(0, "a", started_at=at(-30)), off(1), off(5), live(12, "b", started_at=at(11))]
    result = run(obs)
    assert [s.started_at for s in result.sessions] == [at(-30), at(11)]


def test_a_replaced_session_keeps_the_hold_of_its_last_sample() -> None:
    rules = Rules(grace=timedelta(minutes=1), max_gap=timedelta(minutes=10))
    result = run([live(0, "a", 100), live(5, "b", 100, started_at=at(4))], rules)
    first, second = result.sessions
    assert first.viewer_seconds == 100 * 240  # a holds until b's true start
    assert second.viewer_seconds == 100 * 60


def test_each_step_records_the_boundary_and_the_gap_limit() -> None:
    memory = run([live(0)]).memory
    step = advance(memory, live(1), RULES)
    assert step.holds_from == at(0.5)  # inside a stream: the midpoint
    assert step.max_gap == RULES.max_gap
    assert advance(memory, off(1), RULES).holds_from == at(0.5)  # an edge: the midpoint
    lengthened = advance(memory, live(1, interval_s=900), RULES)
    assert lengthened.max_gap == timedelta(seconds=1800)


def late(observations: list[Observation], interval_s: int = 60) -> Run:
    """`run`, with the channel's sampling interval known to the head rule."""
    memory = Memory()
    for obs in observations:
        memory = advance(memory, obs, RULES, interval=timedelta(seconds=interval_s)).memory
    assert memory.session is not None
    return Run([memory.session], [], memory)


def test_a_cold_start_counts_its_head_as_a_ramp_from_none() -> None:
    # Live since 0:15, first seen at 1:00 with 100: the 45 s head is a straight
    # line from none at the start to 100, that is 100 x 45 / 2.
    s = late([off(0), live(1, viewers=100, started_at=at(0.25))]).sessions[0]
    assert s.started_at == at(0.25)
    assert s.viewer_seconds == 100 * 45 / 2


def test_a_linear_ramp_from_the_start_is_read_exactly() -> None:
    # Viewers grow by 100 a minute from none at a start at 0:30, sampled at 1, 2
    # and 3: the head's ramp and the interior's midpoints are together the
    # trapezoid rule, exact for a straight line.
    obs = [off(0), live(1, viewers=50, started_at=at(0.5)), live(2, viewers=150),
           live(3, viewers=250)]  # fmt: skip
    s = late(obs).sessions[0]
    # Truth from 0:30 to the last sample at 3:00: the triangle, 250 x 150 s / 2.
    assert s.viewer_seconds == 250 * 150 / 2


def test_a_late_found_stream_counts_its_head_as_a_ramp_from_none() -> None:
    # Live since minute 2, first seen at 8 (the poll waited): the six minutes
    # as a straight line from 0 to 100 (half), however late it was found.
    s = late([off(0), live(8, viewers=100, started_at=at(2), interval_s=480)]).sessions[0]
    assert s.started_at == at(2)
    assert s.viewer_seconds == 100 * 360 / 2
    # Without a known interval the old full hold applies.
    memory = Memory()
    for obs in [off(0), live(8, viewers=100, started_at=at(2), interval_s=480)]:
        memory = advance(memory, obs, RULES).memory
    assert memory.session is not None
    assert memory.session.viewer_seconds == 100 * 360


def test_a_late_found_first_sighting_without_a_previous_sample() -> None:
    s = late([live(5, viewers=100, started_at=at(0))]).sessions[0]
    assert s.viewer_seconds == 100 * 300 / 2


def test_a_late_found_restart_is_held_in_full() -> None:
    # The grace closes a at 11; b (live since 9, 9 min after a's last sighting) is
    # found at 17, six minutes after the last offline sighting.
    obs = [live(0, "a", started_at=at(-30)), off(1), off(11),
           live(17, "b", started_at=at(9), interval_s=360)]  # fmt: skip
    s = late(obs).sessions[0]
    # a: no head (further back than max_gap), half of minute 0->1; b: warm, held in
    # full back to the stale offline sighting at 11.
    assert s.viewer_seconds == 100 * 30 + 100 * 360


def test_the_late_head_boundary_is_what_the_sample_records() -> None:
    memory = run([off(0)]).memory
    step = advance(memory, live(8, started_at=at(2), interval_s=480), RULES,
                   interval=timedelta(minutes=1))  # fmt: skip
    assert step.holds_from == at(2 + 6 / 2)


def test_a_restart_is_weighed_from_the_old_streams_estimated_end() -> None:
    # Sampled every 5 minutes, no platform start (Rumble): a ended between 0 and 5
    # (on average at 2.5), b began between 10 and 15 (on average at 12.5). The
    # estimated true gap is 10 minutes, within the grace; from the last live
    # sighting it would look 12.5.
    obs = [live(0, "a"), off(5), off(10), live(15, "b")]
    assert len(late(obs, interval_s=300).sessions) == 1
    memory = Memory()
    for o in obs:
        memory = advance(memory, o, RULES).memory  # no interval: the last live sighting
    assert memory.session is not None
    assert memory.session.platform_stream_id == "b"
    # Further apart, still a new session.
    apart = [live(0, "a"), *[off(m) for m in range(5, 25, 5)], live(25, "b")]
    final = late(apart, interval_s=300).memory.session
    assert final is not None
    assert final.platform_stream_id == "b"


# --- the midpoint rule inside a stream -------------------------------------------------


def ramp(minute: int) -> int:
    return 100 + 10 * minute


def test_a_linear_ramp_sampled_at_the_interval_is_read_exactly() -> None:
    # An audience growing by 10 a minute, sampled every minute from 0 to 10, and
    # every 5 minutes: the half-intervals either side of each count make the
    # trapezoid, exact for a straight line (1,500 viewers on average x 10 min).
    truth = (100 + 200) / 2 * 600
    for step in (1, 5):
        s = run([live(m, viewers=ramp(m)) for m in range(0, 11, step)]).sessions[0]
        assert s.viewer_seconds == truth
    # Holding each count until the next sample read it half an interval late:
    # short by half an interval times the rise (30 s x 100 at one minute).
    held = sum(ramp(m) * 60 for m in range(10))
    assert truth - held == 30 * (ramp(10) - ramp(0))


def test_a_ramp_between_a_true_start_and_an_offline_sighting() -> None:
    # Live from 10 (the platform says so) to somewhere in 15..16, counts rising
    # by 10 a minute from 10: the interior is exact, the edges as documented:
    # the first count back to the start, the last to the midpoint of the gap.
    obs = [off(9), *[live(m, viewers=10 * (m - 10), started_at=at(10)) for m in range(11, 16)],
           off(16)]  # fmt: skip
    s = run(obs).sessions[0]
    # 10 over [10, 11] (head), then [11, 15] the trapezoid of 10..50, 50 over [15, 15.5].
    assert s.viewer_seconds == 10 * 60 + (10 + 50) / 2 * 240 + 50 * 30


def test_the_boundary_is_the_midpoint_of_an_uneven_gap() -> None:
    memory = run([live(0), live(1)]).memory
    step = advance(memory, live(4, viewers=400), RULES)
    assert step.holds_from == at(2.5)
    assert step.memory.session is not None
    # 100 over [0, 0.5] and [0.5, 2.5], then 400 back to 2.5.
    assert step.memory.session.viewer_seconds == 100 * 150 + 400 * 90


def test_a_gap_beyond_the_limit_holds_nothing_either_way() -> None:
    memory = run([live(0, viewers=100)]).memory
    step = advance(memory, live(11, viewers=100), RULES)  # 11 min > max_gap 10
    assert step.holds_from == at(11)
    assert step.memory.session is not None
    assert step.memory.session.viewer_seconds == 0
