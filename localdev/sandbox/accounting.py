"""Request counters: per endpoint, plus the faults injected and unknown paths."""

import threading
from collections import Counter
from collections.abc import Iterable

EXTRA = (
    "fault.latency",
    "fault.5xx",
    "fault.429",
    "fault.timeout",
    "fault.malformed",
    "fault.quota",
    "not_found",
)
"""Tallies every sandbox reports, whatever its platforms."""


class Counters:
    """Requests per endpoint and other tallies; `names` are reported even while zero."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._names = (*names, *EXTRA)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {name: self._counts[name] for name in self._names} | dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
