"""Teams built directly in the database for the billing tests."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.db import Database
from tests.factories.users import create_user
from tests.stripe_fake import new_id


@dataclass
class Team:
    """A team made for one test, with its owner and (optionally) a Stripe customer."""

    id: uuid.UUID
    owner: uuid.UUID
    customer: str
    members: dict[str, uuid.UUID] = field(default_factory=dict)
    channels: list[uuid.UUID] = field(default_factory=list)


def make_team(
    database: Database,
    *,
    plan: str = "free",
    require_mfa: bool = False,
    customer: bool = True,
    channels: int = 0,
    roles: tuple[str, ...] = (),
) -> Team:
    owner = create_user(database)
    team_id = uuid.uuid4()
    customer_id = new_id("cus")
    start = datetime.now(UTC) - timedelta(days=30)
    with database.service() as conn:
        conn.execute(
            "insert into public.teams (id, name, plan_id, require_mfa, created_by) "
            "values (%s, %s, %s, %s, %s)",
            (team_id, f"Billing {team_id.hex[:6]}", plan, require_mfa, owner),
        )
        if customer:
            conn.execute(
                "insert into public.billing_customers (team_id, stripe_customer_id) "
                "values (%s, %s)",
                (team_id, customer_id),
            )
    team = Team(team_id, owner, customer_id)
    for role in roles:
        user = create_user(database)
        with database.service() as conn:
            conn.execute(
                "insert into public.team_members (team_id, user_id, role) values (%s, %s, %s)",
                (team_id, user, role),
            )
        team.members[role] = user
    if channels:
        # channels go in under a plan that fits them, added a minute apart
        with database.service() as conn:
            conn.execute("update public.teams set plan_id = 'business' where id = %s", (team_id,))
            for i in range(channels):
                channel = conn.execute(
                    "insert into public.channels (platform, platform_channel_id) "
                    "values ('twitch', %s) returning id",
                    (f"billing-{uuid.uuid4().hex}",),
                ).fetchone()
                assert channel is not None
                conn.execute(
                    "insert into public.team_channels (team_id, channel_id, added_at) "
                    "values (%s, %s, %s)",
                    (team_id, channel[0], start + timedelta(minutes=i)),
                )
                team.channels.append(channel[0])
            conn.execute("update public.teams set plan_id = %s where id = %s", (plan, team_id))
    return team


def team_plan(database: Database, team_id: uuid.UUID) -> str:
    with database.service() as conn:
        row = conn.execute("select plan_id from public.teams where id = %s", (team_id,)).fetchone()
    assert row is not None
    return str(row[0])


def paused(database: Database, team: Team) -> dict[uuid.UUID, bool]:
    """Paused channels of the team -> paused_by_plan."""
    with database.service() as conn:
        rows = conn.execute(
            "select channel_id, paused_by_plan from public.team_channels "
            "where team_id = %s and paused_at is not null",
            (team.id,),
        ).fetchall()
    return {row[0]: row[1] for row in rows}
