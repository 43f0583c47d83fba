"""The sandbox clock: wall-clock time, or a simulated one that can be set, sped up and advanced."""

import threading
import time
from datetime import UTC, datetime, timedelta

from localdev.sandbox.ids import parse_time


class SandboxClock:
    """Real time by default; simulated once started at an instant, set, advanced or re-rated.

    Simulated time runs at `rate` simulated seconds per real second from its
    last anchor (0 freezes it), so a demo can run at 60x or step in jumps.
    """

    def __init__(self, start: datetime | str | float | None = None, rate: float = 1.0) -> None:
        if rate < 0:
            raise ValueError("clock rate must be >= 0")
        self._lock = threading.Lock()
        self._simulated = start is not None or rate != 1.0
        self._rate = rate
        self._anchor_sim = time.time() if start is None else to_epoch(start)
        self._anchor_real = time.monotonic()

    def time(self) -> float:
        """Sandbox time as epoch seconds."""
        with self._lock:
            if not self._simulated:
                return time.time()
            return self._anchor_sim + (time.monotonic() - self._anchor_real) * self._rate

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def _reanchor(self, sim: float) -> None:
        self._anchor_sim, self._anchor_real, self._simulated = sim, time.monotonic(), True

    def set(self, when: datetime | str | float) -> None:
        with self._lock:
            self._reanchor(to_epoch(when))

    def advance(self, by: timedelta | float) -> None:
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        now = self.time()
        with self._lock:
            self._reanchor(now + seconds)

    def set_rate(self, rate: float) -> None:
        if rate < 0:
            raise ValueError("clock rate must be >= 0")
        now = self.time()
        with self._lock:
            self._reanchor(now)
            self._rate = rate

    def reset_to_real(self) -> None:
        with self._lock:
            self._simulated, self._rate = False, 1.0

    def state(self) -> dict[str, object]:
        now = self.time()
        return {
            "now": datetime.fromtimestamp(now, UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            "epoch": now,
            "simulated": self._simulated,
            "rate": self._rate if self._simulated else 1.0,
        }


def to_epoch(when: datetime | str | float) -> float:
    """Epoch seconds from an aware datetime, an ISO 8601 string with an offset, or a number."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("clock times must be timezone-aware")
        return when.timestamp()
    if isinstance(when, str):
        return parse_time(when)
    return float(when)
