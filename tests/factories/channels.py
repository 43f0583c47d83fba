"""Channels tracked by a team, written directly in the database."""

import uuid

from shared.db import Database


def make_channels(
    database: Database, team: uuid.UUID, n: int = 1, platform: str = "twitch"
) -> list[uuid.UUID]:
    """`n` channels of `platform` (random platform ids), tracked by `team`."""
    ids = [uuid.uuid4() for _ in range(n)]
    with database.service() as conn:
        for cid in ids:
            conn.execute(
                "insert into public.channels (id, platform, platform_channel_id)"
                " values (%s, %s, %s)",
                (cid, platform, cid.hex),
            )
            conn.execute(
                "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
                (team, cid),
            )
    return ids
