"""Timer triggers: NCRONTAB as Azure reads it, fired as singletons with a real TimerRequest."""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import azure.functions as func
import pytest

from localdev.host import HostError, LocalHost
from localdev.host.timers import Schedule, ncrontab_to_croniter

YEARLY = "0 0 0 1 1 *"  # never due while a test runs


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ncrontab", "croniter_form"),
    [
        ("0 */5 * * * *", "*/5 * * * * 0"),
        ("*/10 * * * * *", "* * * * * */10"),
        ("0 30 9 * * 1-5", "30 9 * * 1-5 0"),
        ("0 30 9 * Jan Mon", "30 9 * 1 1 0"),
        ("0 0 12 * * Sunday,SAT", "0 12 * * 0,6 0"),
        ("0 0 0 * * mon-fri", "0 0 * * 1-5 0"),
        ("5/15 * * * * *", "* * * * * 5-59/15"),
        ("0 0 */2 * * *", "0 */2 * * * 0"),
        ("*/5 * * * *", "*/5 * * * * 0"),  # five fields: second 0
    ],
)
def test_ncrontab_to_croniter(ncrontab: str, croniter_form: str) -> None:
    assert ncrontab_to_croniter(ncrontab) == croniter_form


@pytest.mark.parametrize(
    "bad", ["* * * *", "0 0 * * * * *", "00:05:00", "61 * * * * *", "0 0 * * * Funday"]
)
def test_invalid_schedules_are_refused(bad: str) -> None:
    with pytest.raises(HostError, match="timer schedule"):
        ncrontab_to_croniter(bad)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */5 * * * *", at(2024, 1, 1, 12, 3, 10), at(2024, 1, 1, 12, 5)),
        ("0 */5 * * * *", at(2024, 1, 1, 12, 5), at(2024, 1, 1, 12, 10)),  # strictly after
        ("*/10 * * * * *", at(2024, 1, 1, 12, 0, 3), at(2024, 1, 1, 12, 0, 10)),
        ("0 30 9 * * Mon", at(2024, 1, 3, 10), at(2024, 1, 8, 9, 30)),  # Wed -> Mon
        ("0 0 0 13 * Fri", at(2024, 1, 1), at(2024, 9, 13)),  # day AND weekday, not OR
        ("0 0 0 * Feb *", at(2024, 3, 1), at(2025, 2, 1)),
    ],
)
def test_next_occurrence(expression: str, after: datetime, expected: datetime) -> None:
    assert Schedule(expression).next_after(after) == expected


def test_schedule_in_a_time_zone_returns_utc() -> None:
    schedule = Schedule("0 0 9 * * *", ZoneInfo("America/New_York"))
    assert schedule.next_after(at(2024, 1, 10)) == at(2024, 1, 10, 14)  # EST
    assert schedule.next_after(at(2024, 7, 10)) == at(2024, 7, 10, 13)  # EDT


def timer_app(schedule: str, handler: object, *, run_on_startup: bool = False) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.timer_trigger(schedule=schedule, arg_name="timer", run_on_startup=run_on_startup)(
        app.function_name("tick")(handler)
    )
    return app


def test_timer_fires_on_schedule_from_an_app_setting() -> None:
    fired: list[func.TimerRequest] = []
    done = threading.Event()

    def tick(timer: func.TimerRequest) -> None:
        fired.append(timer)
        done.set()

    app = timer_app("%TICK_SCHEDULE%", tick)
    with LocalHost(app, port=0, settings={"TICK_SCHEDULE": "*/1 * * * * *"}):
        assert done.wait(3)
    assert isinstance(fired[0], func.TimerRequest)
    assert fired[0].past_due is False


def test_unknown_app_setting_in_schedule_fails_the_start() -> None:
    app = timer_app("%NOT_SET_ANYWHERE%", lambda timer: None)
    with pytest.raises(HostError, match="NOT_SET_ANYWHERE"), LocalHost(app, port=0):
        pass


def test_run_on_startup_fires_at_once() -> None:
    done = threading.Event()
    app = timer_app(YEARLY, lambda timer: done.set(), run_on_startup=True)
    with LocalHost(app, port=0):
        assert done.wait(2)


def test_a_timer_never_runs_twice_at_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="localdev.host")
    started, release = threading.Event(), threading.Event()
    calls: list[float] = []

    def slow(timer: func.TimerRequest) -> None:
        calls.append(time.monotonic())
        started.set()
        release.wait(5)

    with LocalHost(timer_app("* * * * * *", slow), port=0):
        assert started.wait(3)
        deadline = time.monotonic() + 3
        while "skipped" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(calls) == 1
        release.set()
    assert "previous invocation is still running" in caplog.text


class JumpClock:
    """Reads the real time once, then always `late` after the yearly occurrence."""

    def __init__(self, late: timedelta) -> None:
        self.first = True
        self.late = late

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        if self.first:
            self.first = False
            return now
        return Schedule(YEARLY).next_after(now) + self.late


def test_a_late_invocation_is_past_due() -> None:
    fired: list[func.TimerRequest] = []
    done = threading.Event()

    def tick(timer: func.TimerRequest) -> None:
        fired.append(timer)
        done.set()

    clock = JumpClock(late=timedelta(seconds=30))
    with LocalHost(timer_app(YEARLY, tick), port=0, clock=clock):
        assert done.wait(3)
    assert fired[0].past_due is True


def test_no_timers_flag_leaves_timers_alone() -> None:
    done = threading.Event()
    app = timer_app(YEARLY, lambda timer: done.set(), run_on_startup=True)
    with LocalHost(app, port=0, timers=False) as host:
        assert host.describe() == ["tick: timerTrigger (disabled)"]
        assert not done.wait(0.3)
