"""The alert outbox: events written in the transaction of the change that caused them.

`enqueue_alerts(conn, changes)` hands a batch of candidate changes to the
database's `public.enqueue_alerts` (migration 20261203121000), which matches
them against the teams' rules in one statement and writes one
`alert_deliveries` row per rule and dedupe key. So an alert exists if and only
if the change committed, and a candidate seen before (the same session's
`live` after a restart within the grace period, a retried cycle) writes
nothing. Any writer of status changes calls it in its own transaction: the
monitor's `write_cycle` through `cycle_changes`, push handlers with the
`AlertChange`s they build.

What counts as a candidate (`status_changes`):

- `live`: a channel now live whose previous status was offline, unknown or
  another session;
- `title_changed` / `category_changed`: live before and now in the same
  session, with a different (known) title or category;
- `viewers_above`: live with a known viewer count (the rule's threshold is
  compared in the database, once per session);
- `ended`: a session the stitching closed (after the grace period).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from shared.monitor.state import StatusSnapshot
from shared.monitor.stitching import Session

if TYPE_CHECKING:
    from shared.monitor.store import CycleWrites

AlertEvent = Literal["live", "ended", "title_changed", "category_changed", "viewers_above"]


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One candidate change of one channel, as `public.enqueue_alerts` reads it."""

    channel_id: UUID
    event: AlertEvent
    occurred_at: datetime
    session_id: int | None = None
    title: str | None = None
    category: str | None = None
    viewers: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def status_changes(
    channel_id: UUID, before: StatusSnapshot | None, after: StatusSnapshot, at: datetime
) -> list[AlertChange]:
    """The candidates of one status change (`after.session_id` must be the stored id)."""
    if not after.is_live or after.session_id is None:
        return []
    base = AlertChange(
        channel_id=channel_id,
        event="live",
        occurred_at=at,
        session_id=after.session_id,
        title=after.title,
        category=after.category,
        viewers=after.viewer_count,
        started_at=after.started_at,
    )
    found: list[AlertChange] = []
    if before is None or not before.is_live or before.session_id != after.session_id:
        found.append(base)
    else:
        if after.title is not None and before.title is not None and after.title != before.title:
            found.append(replace(base, event="title_changed"))
        changed_category = after.category != before.category
        if after.category is not None and before.category is not None and changed_category:
            found.append(replace(base, event="category_changed"))
    if after.viewer_count is not None:
        found.append(replace(base, event="viewers_above"))
    return found


def ended_change(channel_id: UUID, session: Session, at: datetime) -> AlertChange | None:
    """The `ended` candidate of a closed session (None while it is open or unsaved)."""
    if session.id is None or session.ended_at is None:
        return None
    return AlertChange(
        channel_id=channel_id,
        event="ended",
        occurred_at=at,
        session_id=session.id,
        title=session.title,
        category=session.category,
        viewers=session.peak_viewers,
        started_at=session.started_at,
        ended_at=session.ended_at,
    )


def cycle_changes(
    plan: "CycleWrites",
    new_ids: Mapping[UUID, int],
    changed: Iterable[UUID],
) -> list[AlertChange]:
    """The candidates of one monitor cycle: its written status changes and closed sessions."""
    before = plan.status_before
    found: list[AlertChange] = []
    for channel_id in changed:
        after = plan.statuses.get(channel_id)
        if after is None:
            continue
        if after.is_live and channel_id in new_ids:
            after = StatusSnapshot(
                True, after.platform_stream_id, after.title, after.category,
                after.viewer_count, after.started_at, new_ids[channel_id],
            )  # fmt: skip
        at = plan.status_times.get(channel_id) or after.started_at
        if at is not None:
            found.extend(status_changes(channel_id, before.get(channel_id), after, at))
    for write in plan.session_updates.values():
        closed = write.session
        if closed.ended_at is not None:
            change = ended_change(write.channel_id, closed, closed.last_seen_at)
            if change is not None:
                found.append(change)
    return found


_FIELDS = tuple(f.name for f in fields(AlertChange))


def _wire(change: AlertChange) -> dict[str, Any]:
    # The fields are flat values: read them directly (`asdict` deep-copies each
    # one, which was most of the outbox's CPU in a cycle with many changes).
    row = {k: getattr(change, k) for k in _FIELDS}
    return {
        k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, UUID) else v)
        for k, v in row.items()
        if v is not None
    }


def enqueue_alerts(conn: psycopg.Connection[Any], changes: Sequence[AlertChange]) -> int:
    """Write the outbox rows of `changes` in the caller's transaction; return how many."""
    if not changes:
        return 0
    row = conn.execute(
        "select public.enqueue_alerts(%s)", (Jsonb([_wire(c) for c in changes]),)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
