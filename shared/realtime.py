"""Realtime: the monitor's status changes, broadcast to each team's private topic.

`public.broadcast_channel_status_changes` (migration 20261124120400) does the
work in the database with Supabase's `realtime.send`: one message per team
per cycle, on the topic `team:<team_id>:status`, carrying every changed
channel the team tracks. It runs in the monitor's write transaction, so
Realtime sees the messages when, and only if, the cycle commits.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg

STATUS_EVENT = "channel_status"
"""The broadcast event name the frontend listens for."""


def status_topic(team_id: UUID) -> str:
    """The private Realtime topic of a team's live channel status."""
    return f"team:{team_id}:status"


def broadcast_status_changes(conn: psycopg.Connection[Any], channel_ids: Sequence[UUID]) -> int:
    """Broadcast the current status of the changed channels; return the messages sent."""
    if not channel_ids:
        return 0
    row = conn.execute(
        "select public.broadcast_channel_status_changes(%s::uuid[])", (list(channel_ids),)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
