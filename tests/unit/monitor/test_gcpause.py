"""The collector is off exactly while cycles run, and reference cycles still go."""

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from shared.monitor import gcpause
from shared.monitor.gcpause import paused_gc, with_paused_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_off_inside_on_after_even_on_error() -> None:
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()

    @with_paused_gc
    def boom() -> None:
        assert not gc.isenabled()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        boom()
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_overlapping_cycles_keep_it_off_until_the_last_leaves() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def second() -> None:
        first_in.wait(5)
        with paused_gc():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=second)
    thread.start()
    with paused_gc():
        first_in.set()
        second_in.wait(5)
    first_out.set()  # the first cycle has left; the second still runs
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_long_pause_collects_when_a_cycle_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "MAX_PAUSE_S", 0.0)
    with paused_gc():
        with paused_gc():
            garbage = Node()
            gone = weakref.ref(garbage)
            del garbage
            assert gone() is not None  # paused: nothing frees the cycle
        # The inner cycle ended with the outer still running: collected anyway.
        assert gone() is None
        assert not gc.isenabled()
    assert gc.isenabled()
