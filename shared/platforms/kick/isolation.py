"""Finding the channel that makes Kick refuse a whole batch.

Kick answers a live check for many broadcasters at once, and refuses the
whole request (a 400, 404 or 422) when it will not answer for one of them: an
account deleted or banned after it was added. `isolate` splits a refused
group in halves and asks again, down to the single channels refused on their
own, so every other channel of the batch is still answered. Each ask is a
real request, counted where the caller counts requests.

Two guards keep a refusing endpoint (say, one Kick has retired) from costing
a request per channel: at most `budget` asks beyond the first, and once two
single channels are refused before any ask was answered, the endpoint is
taken to refuse everything (`systemic`): the rest fail without more requests.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.platforms.base import FATAL
from shared.platforms.errors import NotFound, PlatformError

T = TypeVar("T")
REFUSED_STATUSES = (400, 404, 422)


def refused(exc: PlatformError) -> bool:
    """Whether an error is a refusal of the request as asked (not an outage, not auth)."""
    return type(exc) in (PlatformError, NotFound) and exc.status in REFUSED_STATUSES


@dataclass(slots=True)
class Isolation(Generic[T]):
    """What asking a group, and its halves where refused, came to."""

    answers: list[tuple[list[str], T]] = field(default_factory=list)
    """Each answered group with its answer."""
    refused: dict[str, PlatformError] = field(default_factory=dict)
    """Channels refused on their own."""
    failed: dict[str, PlatformError] = field(default_factory=dict)
    """Channels left unanswered otherwise (an outage, a guard)."""
    asks: int = 0
    systemic: bool = False
    """Everything asked was refused: the endpoint, not a channel, is the problem."""


def isolate(ids: Sequence[str], ask: Callable[[list[str]], T], *, budget: int) -> Isolation[T]:
    """`ask(ids)`, bisecting refused groups; FATAL errors propagate to the caller."""
    out: Isolation[T] = Isolation()
    stack: list[list[str]] = [list(ids)]
    last: PlatformError | None = None
    while stack:
        group = stack.pop()
        if out.asks > budget and last is not None:
            # Out of asks: what is left fails with the refusal, unisolated.
            out.failed |= {i: last for g in (group, *stack) for i in g}
            break
        out.asks += 1
        try:
            out.answers.append((group, ask(group)))
        except FATAL:
            raise
        except PlatformError as exc:
            if not refused(exc):
                out.failed |= dict.fromkeys(group, exc)
                continue
            last = exc
            if len(group) > 1:
                half = len(group) // 2
                stack += [group[half:], group[:half]]
                continue
            out.refused[group[0]] = exc
            if not out.answers and len(out.refused) >= 2:
                out.systemic = True
                out.failed |= out.refused | {i: exc for g in stack for i in g}
                out.refused = {}
                break
    return out
