"""Helpers for the platform client tests: fixtures, a fake clock, a recording transport,
and the hypothesis strategies that throw arbitrary answers at the parsers."""

import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from shared.platforms.retry import RetryPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WALL_START = 1_700_000_000.0
"""2023-11-14T22:13:20Z: what the fake wall clock says at the start."""


def fixture_bytes(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


def fixture_json(platform: str, name: str) -> Any:
    return json.loads(fixture_bytes(platform, name))


def fixture_response(platform: str, name: str) -> httpx.Response:
    """A `*.response.json` fixture: status, headers and a JSON `body` or a `text`."""
    spec = fixture_json(platform, name)
    content = json.dumps(spec["body"]).encode() if "body" in spec else spec["text"].encode()
    return httpx.Response(spec["status"], headers=spec["headers"], content=content)


class FakeTime:
    """Monotonic and wall clocks that only move when someone sleeps (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mono = 1_000.0
        self.wall = WALL_START
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def wall_clock(self) -> float:
        return self.wall

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall, UTC)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.mono += seconds
            self.wall += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.mono += seconds
            self.wall += seconds

    def policy(self, **overrides: Any) -> RetryPolicy:
        """Zero real waits; jitter fixed at the top of its range, so waits are exact."""
        settings: dict[str, Any] = {
            "sleep": self.sleep,
            "monotonic": self.monotonic,
            "wall": self.wall_clock,
            "jitter": lambda low, high: high,
            **overrides,
        }
        return RetryPolicy(**settings)


class Recorder:
    """A MockTransport handler that records every request it answers."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        return self._handler(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def sequence(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with the given responses in turn (the last one repeats)."""
    queue = list(responses)

    def handler(_: httpx.Request) -> httpx.Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def later(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


# --- arbitrary answers ---------------------------------------------------------------

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def json_values(keys: Sequence[str], words: Sequence[str]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON whose objects favour the platform's `keys` and scalars its `words`."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=24)
        | st.sampled_from(list(words))
    )
    names = st.sampled_from(list(keys)) | st.text(max_size=10)

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=6)

    return st.recursive(scalars, extend, max_leaves=24)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    return [_replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


def mutations(document: Any, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The document with one part (a leaf or a whole subtree) swapped for one of `values`."""
    return st.tuples(st.sampled_from(_paths(document)), values).map(
        lambda pair: _replaced(document, pair[0], pair[1])
    )


def bodies(platform: str, fixture: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """A fixture with one part swapped, arbitrary JSON, or arbitrary bytes."""
    document = fixture_json(platform, fixture)
    return st.one_of(
        mutations(document, values).map(lambda d: json.dumps(d).encode()),
        values.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=200),
    )
