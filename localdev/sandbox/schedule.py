"""Streams over time: a pure function of (seed, channel, time).

Time is cut into UTC days ("windows"). Each channel's streams for a window are
drawn from a generator seeded by (seed, channel, window) and cached, so a
question about an instant looks at a handful of windows and nothing else. A
stream can start up to 2.5 h before its window and end before the window after
next, so the live stream at `t` is in windows k-1..k+1 (k = t's window), and a
YouTube broadcast visible at `t` (announced up to ~30 h ahead) in k-1..k+2.
"""

import math
import random
from dataclasses import dataclass
from functools import lru_cache

from localdev.sandbox.ids import unit
from localdev.sandbox.platforms import fake
from localdev.sandbox.population import CATEGORIES, Channel, Population

DAY = 86_400
REFERENCE = 1_735_689_600
"""2025-01-01T00:00Z: follower counts equal the channel's base count here."""

_TITLES = (
    "{game} with chat!",
    "{game} | chill stream",
    "road to the top - {game}",
    "{game} all night",
    "first time playing {game}",
    "LIVE: {game} and questions",
    "{game} - day {n}",
)


@dataclass(frozen=True, slots=True)
class Stream:
    """One broadcast segment (or, on YouTube, a plain upload)."""

    channel: int
    window: int
    ordinal: int
    kind: str
    """`live` or `upload` (a video that was never a stream)."""
    title: str
    announced: float
    """Visible from: when it was published, announced or created, or when it started."""
    start: float | None
    """None for a broadcast that was scheduled and never started."""
    end: float | None
    scheduled: float | None
    gone: float | None
    """When a never-started broadcast is deleted."""
    peak: int
    ramp_up_min: float
    ramp_down_min: float
    warm: bool
    """A restart: viewers come back quickly."""
    restart_of: int | None
    phase: float

    def live_at(self, t: float) -> bool:
        return self.start is not None and self.end is not None and self.start <= t < self.end

    def visible_at(self, t: float) -> bool:
        return self.announced <= t and (self.gone is None or t < self.gone)


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _sec(value: float | None) -> float | None:
    """Whole seconds, so that every timestamp the APIs print is exact."""
    return None if value is None else float(round(value))


class Schedule:
    """Every stream of every channel, computed on demand and cached per (channel, window)."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.seed = population.seed
        self.plan = lru_cache(maxsize=1 << 18)(self._make_plan)
        self.peak = lru_cache(maxsize=1 << 16)(self._peak)

    def stream_id(self, s: Stream) -> str:
        """The broadcast's id, as its platform writes ids."""
        return fake(self.population.channels[s.channel].platform).stream_id(self.seed, s)

    # --- questions about an instant ----------------------------------------------

    def _windows(self, index: int, first: int, last: int) -> list[Stream]:
        return [s for w in range(first, last + 1) for s in self.plan(index, w)]

    def live(self, channel: Channel, t: float) -> Stream | None:
        k = int(t // DAY)
        return next((s for s in self._windows(channel.index, k - 1, k + 1) if s.live_at(t)), None)

    def ended_within(self, channel: Channel, t: float, span: float) -> Stream | None:
        """The stream that ended in (t - span, t], if any (Helix keeps listing it a while)."""
        k = int(t // DAY)
        return next(
            (
                s
                for s in self._windows(channel.index, k - 2, k + 1)
                if s.end is not None and s.end <= t < s.end + span
            ),
            None,
        )

    def visible(self, channel: Channel, t: float, limit: int = 15) -> list[Stream]:
        """The latest `limit` videos by publish time, as the channel feed lists them."""
        k = int(t // DAY)
        found: list[Stream] = []
        full_at = None
        for w in range(k + 2, k - 60, -1):
            found.extend(s for s in self.plan(channel.index, w) if s.visible_at(t))
            if full_at is None and len(found) >= limit:
                full_at = w
            if full_at is not None and w <= full_at - 3:
                break
        found.sort(key=lambda s: (s.announced, s.ordinal), reverse=True)
        return found[:limit]

    def between(self, channel: Channel, t0: float, t1: float) -> list[Stream]:
        """Broadcasts (not uploads) that existed at some point in [t0, t1)."""
        first, last = int((t0 - 2 * DAY) // DAY), int((t1 + 2 * DAY) // DAY)
        out = []
        for s in self._windows(channel.index, first, last):
            if s.kind != "live":
                continue
            begin = s.start if s.start is not None else s.announced
            finish = s.end if s.end is not None else s.gone
            if begin < t1 and finish is not None and finish > t0:
                out.append(s)
        return out

    def viewers(self, s: Stream, t: float) -> int:
        return self.viewers_at_minute(s, int(t // 60))

    def viewers_at_minute(self, s: Stream, minute: int) -> int:
        """Viewers during [minute*60, minute*60+60): constant within a minute."""
        if s.start is None or s.end is None:
            return 0
        x = max(0.0, (minute * 60 - s.start) / 60)
        remaining = max(0.0, (s.end - minute * 60) / 60)
        floor = 0.7 if s.warm else 0.1
        ramp = min(1.0, x / s.ramp_up_min)
        up = floor + (1 - floor) * ramp * ramp * (3 - 2 * ramp)
        down = 0.55 + 0.45 * min(1.0, remaining / s.ramp_down_min)
        drift = 1 + 0.12 * math.sin(x / 7.5 + s.phase) + 0.06 * math.sin(x / 2.1 + 2 * s.phase)
        noise = 1 + 0.1 * (unit("viewers", self.seed, s.channel, s.window, s.ordinal, minute) - 0.5)
        return max(0, round(s.peak * up * down * drift * noise))

    def _peak(self, s: Stream) -> int:
        """The most viewers the stream ever had (in any minute)."""
        if s.start is None or s.end is None:
            return 0
        minutes = range(int(s.start // 60), -int(-s.end // 60))
        return max(self.viewers_at_minute(s, m) for m in minutes)

    def followers(self, channel: Channel, t: float) -> int:
        base = channel.followers + channel.growth_per_day * (t - REFERENCE) / DAY
        wobble = (unit("followers", self.seed, channel.index, int(t // 3600)) - 0.5) * 0.002
        return max(0, int(base + wobble * channel.followers))

    # --- drawing the plan ----------------------------------------------------------

    def _make_plan(self, index: int, window: int) -> tuple[Stream, ...]:
        ch = self.population.channels[index]
        if ch.dormant:
            return ()
        rng = random.Random(f"plan:{self.seed}:{index}:{window}")
        sessions = []
        if rng.random() < ch.stream_p:
            start = window * DAY + (ch.hour + _clamp(rng.gauss(0, 0.75), -2.5, 2.5)) * 3600
            duration = _clamp(ch.duration_s * rng.uniform(0.6, 1.4), 1200, 9 * 3600)
            sessions.append((start, duration))
            # A second, shorter session half a day later; bounded so that no two
            # sessions of a channel ever overlap, across windows too.
            if duration <= 5 * 3600 and rng.random() < 0.1:
                second = start + (12 + rng.uniform(-1, 1)) * 3600
                sessions.append(
                    (second, _clamp(ch.duration_s * rng.uniform(0.4, 1), 1200, 5 * 3600))
                )
        out: list[Stream] = []
        for start, duration in sessions:
            self._session(ch, rng, window, start, duration, out)
        if rng.random() < ch.upload_p:
            out.append(
                Stream(
                    channel=index,
                    window=window,
                    ordinal=len(out),
                    kind="upload",
                    title=self._title(ch, rng, window),
                    announced=float(round(window * DAY + rng.uniform(0, DAY))),
                    start=None,
                    end=None,
                    scheduled=None,
                    gone=None,
                    peak=0,
                    ramp_up_min=1,
                    ramp_down_min=1,
                    warm=False,
                    restart_of=None,
                    phase=0.0,
                )
            )
        return tuple(out)

    def _title(self, ch: Channel, rng: random.Random, window: int) -> str:
        return rng.choice(_TITLES).format(game=CATEGORIES[ch.category][1], n=window % 1000)

    def _session(
        self,
        ch: Channel,
        rng: random.Random,
        window: int,
        start: float,
        duration: float,
        out: list[Stream],
    ) -> None:
        peak = int(ch.peak * rng.lognormvariate(0, 0.35))
        title = self._title(ch, rng, window)
        ramp_up, ramp_down, phase = rng.uniform(8, 30), rng.uniform(4, 15), rng.uniform(0, 6.3)

        def add(
            announced: float,
            begin: float | None,
            end: float | None,
            scheduled: float | None,
            gone: float | None = None,
            restart_of: int | None = None,
        ) -> None:
            out.append(
                Stream(
                    channel=ch.index,
                    window=window,
                    ordinal=len(out),
                    kind="live",
                    title=title,
                    announced=float(round(announced)),
                    start=_sec(begin),
                    end=_sec(end),
                    scheduled=_sec(scheduled),
                    gone=_sec(gone),
                    peak=peak,
                    ramp_up_min=ramp_up,
                    ramp_down_min=ramp_down,
                    warm=restart_of is not None,
                    restart_of=restart_of,
                    phase=phase,
                )
            )

        habits = fake(ch.platform)
        if (no_show := habits.no_show(rng, start)) is not None:
            # Scheduled, announced, never started: upcoming until deleted.
            add(no_show.announced, None, None, no_show.scheduled, gone=no_show.gone)
            return
        segments = [(start, start + duration)]
        if duration > 2400 and rng.random() < 0.12:
            # A brief restart: the stream drops and a new one starts minutes later.
            cut, gap = start + duration * rng.uniform(0.25, 0.75), rng.uniform(60, 480)
            segments = [(start, cut), (cut + gap, start + duration + gap)]
        previous = None
        for begin, end in segments:
            shown = habits.announce(rng, begin, previous is None)
            add(shown.announced, begin, end, shown.scheduled, restart_of=previous)
            previous = len(out) - 1
