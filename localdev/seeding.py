"""Registering the platform sandbox's channels as tracked by teams (tests, demo, bench).

Writes what the teams API would: auth users, teams with their plans and
owners, channels, team_channels, and the owner key of each channel whose
platform polls with one, sealed in channel_credentials for the team that
tracks it.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from shared.crypto import SecretBox
from shared.db import Database
from shared.platforms.registry import spec


@dataclass(frozen=True, slots=True)
class DemoTeam:
    """A team to create and the plan it is on."""

    name: str
    plan: str


@dataclass(frozen=True, slots=True)
class Registered:
    """What `register` created."""

    teams: dict[str, uuid.UUID]
    channels: dict[str, uuid.UUID]
    """By the sandbox's channel key (`platform:id`)."""


def _create_team(conn: Any, team: DemoTeam) -> uuid.UUID:
    owner = uuid.uuid4()
    conn.execute(
        "insert into auth.users (id, email, aud, role, raw_user_meta_data)"
        " values (%s, %s, 'authenticated', 'authenticated', %s)",
        (owner, f"owner-{owner.hex[:8]}@demo.streamtrack.test", Jsonb({"demo": True})),
    )
    row = conn.execute(
        "insert into public.teams (name, plan_id, created_by) values (%s, %s, %s) returning id",
        (team.name, team.plan, owner),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def register(
    db: Database,
    sandbox_channels: Sequence[Mapping[str, Any]],
    teams: Sequence[DemoTeam],
    box: SecretBox,
) -> Registered:
    """Create the teams and spread the channels over them round-robin, within plan limits.

    When the teams are full, more teams on the last team's plan are added
    (`<name> 2`, `<name> 3`, ...): the plan's channel limit always holds.
    """
    channel_ids = {c["key"]: uuid.uuid4() for c in sandbox_channels}
    with db.service() as conn:
        limits = dict(conn.execute("select id, max_channels from public.plans").fetchall())
        slots: list[tuple[uuid.UUID, int]] = []  # (team, channels it may still take)
        team_ids: dict[str, uuid.UUID] = {}
        for team in teams:
            team_ids[team.name] = _create_team(conn, team)
            slots.append((team_ids[team.name], limits[team.plan]))
        assignment: list[uuid.UUID] = []
        turn = 0
        for _ in sandbox_channels:
            open_slots = [i for i, (_, left) in enumerate(slots) if left > 0]
            if not open_slots:
                extra = DemoTeam(f"{teams[-1].name} {len(team_ids) + 1}", teams[-1].plan)
                team_ids[extra.name] = _create_team(conn, extra)
                slots.append((team_ids[extra.name], limits[extra.plan]))
                open_slots = [len(slots) - 1]
            index = open_slots[turn % len(open_slots)]
            turn += 1
            team_id, left = slots[index]
            slots[index] = (team_id, left - 1)
            assignment.append(team_id)
        # A channel is one row shared by every team tracking it: reuse existing rows.
        rows = conn.execute(
            """
            insert into public.channels as c
              (id, platform, platform_channel_id, handle, display_name, requires_credential)
            select * from unnest(%s::uuid[], %s::public.platform[], %s::text[], %s::text[],
                                 %s::text[], %s::boolean[])
            on conflict (platform, platform_channel_id) do update set handle = excluded.handle
            returning c.platform::text || ':' || c.platform_channel_id, c.id
            """,
            (
                [channel_ids[c["key"]] for c in sandbox_channels],
                [c["platform"] for c in sandbox_channels],
                [c["id"] for c in sandbox_channels],
                [c.get("login") or c.get("handle") or c.get("username") for c in sandbox_channels],
                [c["name"] for c in sandbox_channels],
                [spec(c["platform"]).credential is not None for c in sandbox_channels],
            ),
        ).fetchall()
        channel_ids.update(dict(rows))
        with conn.cursor() as cur:
            with cur.copy("copy public.team_channels (team_id, channel_id) from stdin") as copy:
                for team_id, c in zip(assignment, sandbox_channels, strict=True):
                    copy.write_row((team_id, channel_ids[c["key"]]))
            for team_id, c in zip(assignment, sandbox_channels, strict=True):
                credential = spec(c["platform"]).credential
                if credential is not None and c.get("owner_key"):
                    cid = channel_ids[c["key"]]
                    sealed = box.seal(c["owner_key"], cid)
                    cur.execute(
                        "insert into public.channel_credentials"
                        " (channel_id, team_id, kind, ciphertext, nonce, key_version)"
                        " values (%s, %s, %s, %s, %s, %s)"
                        " on conflict (channel_id, team_id) do update set"
                        " ciphertext = excluded.ciphertext, nonce = excluded.nonce,"
                        " key_version = excluded.key_version",
                        (
                            cid,
                            team_id,
                            credential.kind,
                            sealed.ciphertext,
                            sealed.nonce,
                            sealed.key_version,
                        ),
                    )
    return Registered(team_ids, channel_ids)
