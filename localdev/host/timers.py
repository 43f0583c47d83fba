"""Timer triggers: NCRONTAB schedules fired as the Functions host does.

NCRONTAB has six fields, seconds FIRST: `{second} {minute} {hour} {day}
{month} {day-of-week}` (five fields mean second 0). croniter's six-field form
puts seconds LAST, so `ncrontab_to_croniter` moves the field, spells month and
day names (any prefix: `Mon`, `January`) as numbers and turns NCrontab's
`5/15` (from 5, every 15) into an explicit range. NCrontab requires the day of
month AND the day of week to match (classic cron ORs them): croniter runs with
`day_or=False`.

Schedules are UTC unless `WEBSITE_TIME_ZONE` names an IANA zone. Each timer is
a singleton: an occurrence that comes while the previous invocation still runs
is skipped and logged, as the host's singleton lock would. `past_due` is set
when an invocation starts more than `past_due_after` seconds after its
scheduled time.
"""

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import azure.functions as func
from azure.functions.timer import TimerRequest
from croniter import CroniterError, croniter

from localdev.host.index import TimerFunction
from localdev.host.runtime import Invoker
from localdev.host.settings import HostError, resolve_app_settings

log = logging.getLogger("localdev.host")

Clock = Callable[[], datetime]

_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# (highest value, names with the value of the first) per field, seconds first.
_FIELDS: tuple[tuple[int, tuple[str, ...], int], ...] = (
    (59, (), 0),
    (59, (), 0),
    (23, (), 0),
    (31, (), 1),
    (12, _MONTHS, 1),
    (6, _DAYS, 0),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


_FIELD_NAMES = ("second", "minute", "hour", "day", "month", "day-of-week")


def _name_value(token: str, index: int, expr: str) -> str:
    _, names, first = _FIELDS[index]
    for i, name in enumerate(names):
        if name.lower().startswith(token.lower()):
            return str(first + i)
    raise HostError(f"timer schedule {expr!r}: {token!r} is not valid in {_FIELD_NAMES[index]}")


def _convert_field(text: str, index: int, expr: str) -> str:
    highest = _FIELDS[index][0]
    items = []
    for item in text.split(","):
        item = re.sub(r"[A-Za-z]+", lambda m: _name_value(m[0], index, expr), item)
        value, slash, step = item.partition("/")
        if slash and value != "*" and "-" not in value:
            item = f"{value}-{highest}/{step}"  # NCrontab: `5/15` runs from 5 to the end
        items.append(item)
    return ",".join(items)


def ncrontab_to_croniter(expression: str) -> str:
    """The croniter six-field expression (seconds last) for an NCRONTAB expression."""
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        hint = " (TimeSpan schedules only run on App Service plans)" if ":" in expression else ""
        raise HostError(
            f"timer schedule {expression!r} is not a 6-field NCRONTAB expression "
            f"'{{second}} {{minute}} {{hour}} {{day}} {{month}} {{day-of-week}}'{hint}"
        )
    second, *rest = (_convert_field(text, i, expression) for i, text in enumerate(fields))
    converted = " ".join([*rest, second])
    try:
        croniter(converted)
    except CroniterError as exc:
        raise HostError(f"timer schedule {expression!r} is not valid NCRONTAB: {exc}") from exc
    return converted


def schedule_timezone(env: dict[str, str] | None = None) -> tzinfo:
    """UTC, or the IANA zone in WEBSITE_TIME_ZONE (Windows zone names are not known here)."""
    name = (env if env is not None else os.environ).get("WEBSITE_TIME_ZONE")
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("WEBSITE_TIME_ZONE=%r is not an IANA time zone: timers use UTC", name)
        return UTC


class Schedule:
    """Next occurrences of an NCRONTAB expression in a time zone, returned in UTC."""

    def __init__(self, expression: str, tz: tzinfo = UTC) -> None:
        self.expression = expression
        self.cron = ncrontab_to_croniter(expression)
        self.tz = tz

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment`."""
        it = croniter(self.cron, moment.astimezone(self.tz), day_or=False)
        return it.get_next(datetime).astimezone(UTC)


@dataclass
class _Timer:
    fn: TimerFunction
    schedule: Schedule
    use_monitor: bool
    running: threading.Lock = field(default_factory=threading.Lock)
    last: datetime | None = None


class TimerRunner:
    """Fires the timer functions on their schedules, each from its own thread."""

    def __init__(
        self,
        timers: Iterable[TimerFunction],
        invoker: Invoker,
        *,
        clock: Clock = utc_now,
        past_due_after: float = 1.0,
        tz: tzinfo | None = None,
    ) -> None:
        self.invoker = invoker
        self.clock = clock
        self.past_due_after = timedelta(seconds=past_due_after)
        tz = tz if tz is not None else schedule_timezone()
        self._timers = []
        for fn in timers:
            expression = resolve_app_settings(fn.schedule, f"timer {fn.name!r} schedule")
            try:
                schedule = Schedule(expression, tz)
            except HostError as exc:
                raise HostError(f"function {fn.name!r}: {exc}") from None
            self._timers.append(_Timer(fn, schedule, self._monitored(fn, schedule)))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @staticmethod
    def _monitored(fn: TimerFunction, schedule: Schedule) -> bool:
        """useMonitor, which defaults to on for schedules that recur less than once a minute."""
        if fn.use_monitor is not None:
            return fn.use_monitor
        first = schedule.next_after(utc_now())
        return schedule.next_after(first) - first > timedelta(minutes=1)

    def describe(self) -> list[str]:
        return [f"{t.fn.name}: timerTrigger ({t.schedule.expression})" for t in self._timers]

    def start(self) -> None:
        for timer in self._timers:
            thread = threading.Thread(
                target=self._loop, args=(timer,), name=f"timer-{timer.fn.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop scheduling; invocations already running are the Invoker's to wait for."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self, timer: _Timer) -> None:
        try:
            self._schedule(timer)
        except Exception:
            log.exception("Timer 'Functions.%s' stopped", timer.fn.name)

    def _schedule(self, timer: _Timer) -> None:
        if timer.fn.run_on_startup:
            now = self.clock()
            self._fire(timer, scheduled=now, now=now)
        due = timer.schedule.next_after(self.clock())
        while True:
            wait = (due - self.clock()).total_seconds()
            # Wake at least once a minute so a stepped system clock cannot stall a timer.
            if wait > 0 and self._stop.wait(min(wait, 60.0)):
                return
            if self._stop.is_set():
                return
            now = self.clock()
            if now < due:
                continue
            self._fire(timer, scheduled=due, now=now)
            due = timer.schedule.next_after(now)  # occurrences missed while late are skipped

    def _fire(self, timer: _Timer, *, scheduled: datetime, now: datetime) -> None:
        name = timer.fn.name
        if not timer.running.acquire(blocking=False):
            log.warning(
                "Timer 'Functions.%s' skipped its %s occurrence: the previous invocation "
                "is still running (timer functions are singletons)",
                name,
                scheduled.isoformat(),
            )
            return
        status: dict[str, str] = {}
        if timer.use_monitor:
            status = {
                "Last": (timer.last or scheduled).isoformat(),
                "Next": timer.schedule.next_after(now).isoformat(),
                "LastUpdated": now.isoformat(),
            }
        timer.last = scheduled
        # azure.functions.TimerRequest is the abstract type; this is the worker's class.
        request = TimerRequest(
            past_due=now - scheduled > self.past_due_after,
            schedule_status=status,
            schedule={"AdjustForDST": True},
        )
        thread = threading.Thread(
            target=self._run, args=(timer, request, now), name=f"run-{name}", daemon=True
        )
        try:
            thread.start()
        except BaseException:
            timer.running.release()
            raise

    def _run(self, timer: _Timer, request: func.TimerRequest, now: datetime) -> None:
        try:
            self.invoker.invoke(
                timer.fn.name,
                timer.fn.func,
                f"Timer fired at {now.isoformat()}",
                **{timer.fn.arg_name: request},
            )
        except Exception:
            pass  # logged by the invoker; a timer does not retry
        finally:
            timer.running.release()
