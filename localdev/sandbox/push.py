"""Push from the fake platforms: subscriptions, and deliveries with faults.

The fakes that push (`twitch`, `youtube`, `kick`) export `PUSH`, a
`FakePush`: which of a subscription's events happened in a span of simulated
time (from the same schedule the APIs answer from), and how one is sent (the
platform's headers, body and signature). The `PushHub` (the sandbox's
`state["push"]`) keeps every subscription the fake APIs created, and
`deliver_until(t)` sends what happened since the last call, in time order,
with the faults set in `PushFaults`: loss, duplicates (the same message id
twice), reordering, delay, and bad signatures.

A delivery goes to the subscription's callback with `send` (HTTP by default;
tests and the benchmark pass a function that calls the app in process).
"""

import importlib
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import httpx

from localdev.sandbox.ids import h64, unit
from localdev.sandbox.platforms import REGISTERED

if TYPE_CHECKING:
    from localdev.sandbox.context import Context
    from localdev.sandbox.population import Channel
    from localdev.sandbox.schedule import Stream

log = logging.getLogger("localdev.sandbox.push")


@dataclass(slots=True)
class Subscription:
    """One subscription a fake API holds."""

    id: str
    platform: str
    channel_id: str
    """The platform's id of the channel."""
    event_type: str
    callback: str
    secret: str | None
    status: str = "enabled"
    cost: int = 0
    created_at: float = 0.0
    expires_at: float | None = None
    version: str = "1"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One HTTP request the fake sends to a callback."""

    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    message_id: str = ""
    platform: str = ""
    at: float = 0.0
    """The simulated instant the event happened."""
    channel_id: str = ""


@dataclass(frozen=True, slots=True)
class Happened:
    """An event of a subscription: at `at`, about `stream`, of kind `what`."""

    at: float
    stream: "Stream"
    what: str


@dataclass(frozen=True, kw_only=True)
class FakePush:
    """A fake platform's push."""

    events: Callable[["Context", "Channel", Subscription, float, float], list[Happened]]
    """Events of the subscription in (t0, t1]."""
    message: Callable[["Context", Subscription, Happened, str, bool], Outgoing]
    """The delivery of one event: message id, and whether to sign it wrongly."""


@dataclass(slots=True)
class PushFaults:
    """What goes wrong with deliveries (rates in [0, 1])."""

    loss_rate: float = 0.0
    duplicate_rate: float = 0.0
    bad_signature_rate: float = 0.0
    delay_s: float = 0.0
    """Every delivery arrives this much (simulated time) after its event..."""
    delay_jitter_s: float = 0.0
    """...plus up to this much more, so that deliveries arrive out of order."""
    reorder: bool = False
    """Shuffle the deliveries that are due together."""


Send = Callable[[Outgoing], tuple[int, bytes]]


_CLIENT: httpx.Client | None = None
_CLIENT_LOCK = threading.Lock()


def http_send(out: Outgoing) -> tuple[int, bytes]:
    """POST (or GET) to the callback over HTTP, on one shared connection pool: building a
    client per delivery (its TLS context) cost the sandbox more than the delivery."""
    global _CLIENT
    with _CLIENT_LOCK:
        if _CLIENT is None:
            _CLIENT = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=32))
        client = _CLIENT
    response = client.request(
        out.method, out.url, headers=out.headers, params=out.query, content=out.body
    )
    return response.status_code, response.content


def fake_pushes() -> dict[str, FakePush]:
    found = {}
    for name in REGISTERED:
        push = getattr(importlib.import_module(f"localdev.sandbox.{name}"), "PUSH", None)
        if isinstance(push, FakePush):
            found[name] = push
    return found


@dataclass(slots=True)
class PushStats:
    """Delivery counts since the last reset."""

    events: int = 0
    sent: int = 0
    lost: int = 0
    duplicated: int = 0
    bad_signatures: int = 0
    refused: int = 0
    """Deliveries the callback answered with a non-2xx."""
    handshakes: int = 0

    def snapshot(self) -> dict[str, int]:
        return {f"push.{f.name}": getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class PushHub:
    """Every push subscription of the fakes, and the delivery clock."""

    seed: int
    send: Send = http_send
    faults: PushFaults = field(default_factory=PushFaults)
    stats: PushStats = field(default_factory=PushStats)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    delivered_until: float | None = None
    queue: list[tuple[float, int, Outgoing]] = field(default_factory=list)
    kick_webhook_url: str | None = None
    """Kick's callback is the app's webhook URL, set in its developer settings."""
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _seq: int = 0

    def add(self, sub: Subscription) -> None:
        with self._lock:
            self.subscriptions[sub.id] = sub

    def remove(self, sub_id: str) -> Subscription | None:
        with self._lock:
            return self.subscriptions.pop(sub_id, None)

    def of(self, platform: str) -> list[Subscription]:
        with self._lock:
            return [s for s in self.subscriptions.values() if s.platform == platform]

    def handshake(self, out: Outgoing) -> tuple[int, bytes]:
        self.stats.handshakes += 1
        try:
            return self.send(out)
        except (httpx.HTTPError, OSError) as exc:
            log.info("push handshake to %s failed: %s", out.url, exc)
            return 0, b""

    def deliver_until(self, ctx: "Context", t: float) -> int:
        """Send what happened since the last call, up to `t`; returns deliveries sent."""
        pushes = fake_pushes()
        with self._lock:
            start = self.delivered_until if self.delivered_until is not None else t
            self.delivered_until = t
            subs = [s for s in self.subscriptions.values() if s.status == "enabled"]
        for sub in subs:
            push = pushes.get(sub.platform)
            channel = ctx.population.by_id[sub.platform].get(sub.channel_id)
            if push is None or channel is None:
                continue
            for event in push.events(ctx, channel, sub, start, t):
                if sub.expires_at is not None and event.at > sub.expires_at:
                    continue
                self._plan(ctx, push, sub, event)
        with self._lock:
            due = [item for item in self.queue if item[0] <= t]
            self.queue = [item for item in self.queue if item[0] > t]
        due.sort()
        if self.faults.reorder and len(due) > 1:
            random.Random(h64("reorder", self.seed, t)).shuffle(due)
        sent = 0
        for _, _, out in due:
            try:
                status, _ = self.send(out)
            except (httpx.HTTPError, OSError) as exc:
                log.info("push delivery to %s failed: %s", out.url, exc)
                status = 0
            sent += 1
            self.stats.sent += 1
            if not 200 <= status < 300:
                self.stats.refused += 1
        return sent

    def _plan(self, ctx: "Context", push: FakePush, sub: Subscription, event: Happened) -> None:
        f = self.faults
        self.stats.events += 1
        message_id = _message_id(self.seed, sub, event)
        if unit("push-loss", self.seed, message_id) < f.loss_rate:
            self.stats.lost += 1
            return
        bad = unit("push-bad", self.seed, message_id) < f.bad_signature_rate
        copies = 2 if unit("push-dup", self.seed, message_id) < f.duplicate_rate else 1
        self.stats.duplicated += copies - 1
        self.stats.bad_signatures += int(bad) * copies  # deliveries sent badly signed
        for copy in range(copies):
            delay = f.delay_s + f.delay_jitter_s * unit("push-delay", self.seed, message_id, copy)
            out = push.message(ctx, sub, event, message_id, bad)
            with self._lock:
                self._seq += 1
                self.queue.append((event.at + delay, self._seq, out))

    def reset(self) -> None:
        with self._lock:
            self.stats = PushStats()


def _message_id(seed: int, sub: Subscription, event: Happened) -> str:
    raw = h64("push-message", seed, sub.id, event.at, event.what)
    text = f"{raw:016x}{h64('push-message-2', raw):016x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-8{text[17:20]}-{text[20:32]}"


def hub(ctx: "Context") -> PushHub:
    found = ctx.state["push"]
    assert isinstance(found, PushHub)
    return found


def set_faults(ctx: "Context", body: Mapping[str, Any]) -> PushFaults:
    """Merge fault settings into the hub's (unknown names refused)."""
    current = hub(ctx).faults
    known = {f.name for f in fields(PushFaults)}
    unknown = set(body) - known
    if unknown:
        raise ValueError(f"unknown push fault(s): {', '.join(sorted(unknown))}")
    for name, value in body.items():
        if name == "reorder":
            setattr(current, name, bool(value))
            continue
        number = float(value)
        if number < 0 or (name.endswith("_rate") and number > 1):
            raise ValueError(f"{name} must be {'in [0, 1]' if name.endswith('_rate') else '>= 0'}")
        setattr(current, name, number)
    return current
