"""The hook for push subscriptions: broadcasters who authorized this server.

A platform whose push subscriptions cost nothing when the broadcaster has
authorized the application (its spec's `connect.eventsub_scopes` is set:
a webhook push whose subscriptions then cost 0 against `max_total_cost`)
can ask which of its channels have a healthy connection carrying those
scopes. The subscription manager prefers them: a team that connects its
creators is never pushed back to polling by the cost budget.
"""

from uuid import UUID

from shared.db import Database
from shared.platforms.registry import Platform, spec


def consenting_broadcasters(db: Database, platform: Platform | str) -> dict[str, UUID]:
    """Platform channel id -> StreamTrack channel id, for channels with an active
    connection whose scopes include every scope the platform's push needs.

    Empty for a platform whose push has no such notion.
    """
    connect = spec(platform).connect
    if connect is None or connect.eventsub_scopes is None:
        return {}
    with db.service() as conn:
        rows = conn.execute(
            """
            select distinct ch.platform_channel_id, ch.id
            from public.channel_connections c
            join public.channels ch on ch.id = c.channel_id
            where c.platform = %s and c.status = 'active' and c.scopes @> %s::text[]
            """,
            (Platform(platform).value, list(connect.eventsub_scopes)),
        ).fetchall()
    return {str(r[0]): UUID(str(r[1])) for r in rows}
