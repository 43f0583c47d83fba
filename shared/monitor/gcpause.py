"""The cyclic garbage collector paused while a monitor cycle runs.

A cycle allocates a few hundred thousand container objects (due channels,
answers, outcomes, rows) that live for the whole cycle. CPython's collector
counts allocations, not garbage: every 700 it scans the young objects, and
every few thousand it scans everything the cycle holds, again and again. In
`make bench-monitor` that was a fifth of the monitor's CPU (0.9 s of 4.2 s a
cycle over 10,000 channels), for almost nothing to collect: the cycle's
objects are freed by reference counting when it ends.

`paused_gc` turns the collector off for the cycle and back on when the last
cycle running in the process leaves (the Functions host may run several
shards at once, so entries are counted). Reference counting still frees
everything that is not a reference cycle at once; reference cycles wait for
the collector, which runs again when no cycle runs, or at the end of any
cycle once it has been paused for `MAX_PAUSE_S`, so garbage never piles up
for long even when cycles overlap without pause.
"""

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

MAX_PAUSE_S = 60.0

_lock = threading.Lock()
_active = 0
_restore = False
"""Whether the collector was on when the first active cycle paused it."""
_paused_at = 0.0


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside; the collector as it was once every caller has left."""
    global _active, _restore, _paused_at
    with _lock:
        if _active == 0:
            _restore = gc.isenabled()
            _paused_at = time.monotonic()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        collect = False
        with _lock:
            _active -= 1
            if _active == 0:
                if _restore:
                    gc.enable()
            elif _restore and time.monotonic() - _paused_at >= MAX_PAUSE_S:
                _paused_at, collect = time.monotonic(), True
        if collect:
            gc.collect()  # others still run: collect now rather than wait for them


def with_paused_gc(function: Callable[P, R]) -> Callable[P, R]:
    """`function` run inside `paused_gc`."""

    @wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused_gc():
            return function(*args, **kwargs)

    return paused
