"""The SQL of connected channels (service side unless a function says otherwise)."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from shared.crypto import Sealed
from shared.platforms.registry import Platform

ACTOR = "connections"
"""How the token upkeep and the import name themselves in the audit log."""

CONNECTION_COLUMNS = """
  c.id, c.team_id, c.channel_id, c.platform::text as platform, c.account_id, c.scopes,
  c.status, c.broken_at, c.broken_reason, c.connected_by, c.connected_at
"""


@dataclass(frozen=True, slots=True)
class TrackedChannel:
    channel_id: UUID
    platform: Platform
    platform_channel_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Attempt:
    id: UUID
    team_id: UUID
    channel_id: UUID
    user_id: UUID
    platform: Platform
    verifier: Sealed
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredTokens:
    connection_id: UUID
    team_id: UUID
    channel_id: UUID
    platform: Platform
    platform_channel_id: str
    status: str
    access: Sealed
    refresh: Sealed | None
    access_expires_at: datetime | None
    validated_at: datetime | None


def tracked_channel(
    conn: psycopg.Connection[Any], team_id: UUID, channel_id: UUID
) -> TrackedChannel | None:
    """The channel, if the team tracks it (as the caller: RLS answers)."""
    row = conn.execute(
        """
        select c.id, c.platform::text, c.platform_channel_id,
               coalesce(c.display_name, c.handle, c.platform_channel_id)
        from public.team_channels tc join public.channels c on c.id = tc.channel_id
        where tc.team_id = %s and tc.channel_id = %s
        """,
        (team_id, channel_id),
    ).fetchone()
    if row is None:
        return None
    return TrackedChannel(UUID(str(row[0])), Platform(row[1]), row[2], row[3])


def insert_attempt(conn: psycopg.Connection[Any], attempt: Attempt) -> None:
    conn.execute(
        """
        insert into public.channel_connection_attempts
          (id, team_id, channel_id, user_id, platform, verifier_ciphertext, verifier_nonce,
           key_version, created_at, expires_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s,
                least(now(), %s::timestamptz - interval '1 second'), %s)
        """,
        (
            attempt.id,
            attempt.team_id,
            attempt.channel_id,
            attempt.user_id,
            attempt.platform.value,
            attempt.verifier.ciphertext,
            attempt.verifier.nonce,
            attempt.verifier.key_version,
            attempt.expires_at,
            attempt.expires_at,
        ),
    )
    # Attempts nobody completed are of no use once expired.
    conn.execute(
        "delete from public.channel_connection_attempts where expires_at < %s - interval '1 day'",
        (attempt.expires_at,),
    )


def consume_attempt(conn: psycopg.Connection[Any], attempt_id: UUID) -> Attempt | None:
    """Mark the attempt used and return it as it was; None when there is no such attempt.

    The update is the single-use guard: two callbacks racing with the same state
    both reach this row, and the row lock lets only the first see `used_at` null.
    """
    row = conn.execute(
        """
        with previous as (
          select id, used_at from public.channel_connection_attempts where id = %s for update
        )
        update public.channel_connection_attempts a set used_at = now()
        from previous
        where a.id = previous.id
        returning a.team_id, a.channel_id, a.user_id, a.platform::text, a.verifier_ciphertext,
                  a.verifier_nonce, a.key_version, a.expires_at, previous.used_at
        """,
        (attempt_id,),
    ).fetchone()
    if row is None:
        return None
    return Attempt(
        id=attempt_id,
        team_id=UUID(str(row[0])),
        channel_id=UUID(str(row[1])),
        user_id=UUID(str(row[2])),
        platform=Platform(row[3]),
        verifier=Sealed(bytes(row[4]), bytes(row[5]), int(row[6])),
        expires_at=row[7],
        used_at=row[8],
    )


def member_role(conn: psycopg.Connection[Any], team_id: UUID, user_id: UUID) -> str | None:
    row = conn.execute(
        "select role::text from public.team_members where team_id = %s and user_id = %s",
        (team_id, user_id),
    ).fetchone()
    return None if row is None else str(row[0])


def still_tracked(conn: psycopg.Connection[Any], team_id: UUID, channel_id: UUID) -> str | None:
    """The channel's platform id if the team still tracks it."""
    row = conn.execute(
        """
        select c.platform_channel_id from public.team_channels tc
        join public.channels c on c.id = tc.channel_id
        where tc.team_id = %s and tc.channel_id = %s
        """,
        (team_id, channel_id),
    ).fetchone()
    return None if row is None else str(row[0])


def upsert_connection(
    conn: psycopg.Connection[Any],
    *,
    team_id: UUID,
    channel_id: UUID,
    platform: Platform,
    account_id: str,
    scopes: tuple[str, ...],
    user_id: UUID,
) -> UUID:
    row = conn.execute(
        """
        insert into public.channel_connections
          (team_id, channel_id, platform, account_id, scopes, connected_by)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (team_id, channel_id) do update set
          platform = excluded.platform, account_id = excluded.account_id,
          scopes = excluded.scopes, status = 'active', broken_at = null,
          broken_reason = null, connected_by = excluded.connected_by, connected_at = now()
        returning id
        """,
        (team_id, channel_id, platform.value, account_id, list(scopes), user_id),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def store_tokens(
    conn: psycopg.Connection[Any],
    connection_id: UUID,
    access: Sealed,
    refresh: Sealed | None,
    expires_at: datetime | None,
    *,
    at: datetime,
    validated: bool,
) -> None:
    conn.execute(
        """
        insert into public.channel_connection_tokens
          (connection_id, access_ciphertext, access_nonce, refresh_ciphertext, refresh_nonce,
           key_version, access_expires_at, refreshed_at, validated_at, failures, last_error)
        values (%(id)s, %(ac)s, %(an)s, %(rc)s, %(rn)s, %(kv)s, %(exp)s, %(at)s,
                case when %(validated)s then %(at)s end, 0, null)
        on conflict (connection_id) do update set
          access_ciphertext = excluded.access_ciphertext, access_nonce = excluded.access_nonce,
          refresh_ciphertext = excluded.refresh_ciphertext, refresh_nonce = excluded.refresh_nonce,
          key_version = excluded.key_version, access_expires_at = excluded.access_expires_at,
          refreshed_at = excluded.refreshed_at,
          validated_at = coalesce(excluded.validated_at, channel_connection_tokens.validated_at),
          failures = 0, last_error = null
        """,
        {
            "id": connection_id,
            "ac": access.ciphertext,
            "an": access.nonce,
            "rc": refresh.ciphertext if refresh else None,
            "rn": refresh.nonce if refresh else None,
            "kv": access.key_version,
            "exp": expires_at,
            "at": at,
            "validated": validated,
        },
    )


_TOKENS = """
  select t.connection_id, c.team_id, c.channel_id, c.platform::text, ch.platform_channel_id,
         c.status, t.access_ciphertext, t.access_nonce, t.refresh_ciphertext, t.refresh_nonce,
         t.key_version, t.access_expires_at, t.validated_at
  from public.channel_connection_tokens t
  join public.channel_connections c on c.id = t.connection_id
  join public.channels ch on ch.id = c.channel_id
"""


def _tokens(row: tuple[Any, ...]) -> StoredTokens:
    refresh = None if row[8] is None else Sealed(bytes(row[8]), bytes(row[9]), int(row[10]))
    return StoredTokens(
        connection_id=UUID(str(row[0])),
        team_id=UUID(str(row[1])),
        channel_id=UUID(str(row[2])),
        platform=Platform(row[3]),
        platform_channel_id=row[4],
        status=row[5],
        access=Sealed(bytes(row[6]), bytes(row[7]), int(row[10])),
        refresh=refresh,
        access_expires_at=row[11],
        validated_at=row[12],
    )


def tokens_of(
    conn: psycopg.Connection[Any], connection_id: UUID, *, lock: bool = False
) -> StoredTokens | None:
    """The connection's sealed tokens; `lock` holds the row for a refresh (rotating
    refresh tokens must not be spent twice)."""
    sql = _TOKENS + " where t.connection_id = %s" + (" for update of t" if lock else "")
    row = conn.execute(sql, (connection_id,)).fetchone()
    return None if row is None else _tokens(row)


def connection_for(
    conn: psycopg.Connection[Any], team_id: UUID, channel_id: UUID
) -> StoredTokens | None:
    row = conn.execute(
        _TOKENS + " where c.team_id = %s and c.channel_id = %s", (team_id, channel_id)
    ).fetchone()
    return None if row is None else _tokens(row)


def due_for_upkeep(
    conn: psycopg.Connection[Any],
    *,
    refresh_before: datetime,
    validate: dict[Platform, datetime],
) -> list[UUID]:
    """Active connections whose token expires soon, or (on a platform that asks for
    validation) was not validated since the platform's `validate` instant."""
    rows = conn.execute(
        """
        select t.connection_id from public.channel_connection_tokens t
        join public.channel_connections c on c.id = t.connection_id
        left join (select unnest(%s::text[]) as platform, unnest(%s::timestamptz[]) as before)
          v on v.platform = c.platform::text
        where c.status = 'active'
          and ((t.access_expires_at is not null and t.access_expires_at <= %s)
               or (v.before is not null
                   and (t.validated_at is null or t.validated_at <= v.before)))
        order by t.access_expires_at nulls last
        """,
        ([p.value for p in validate], list(validate.values()), refresh_before),
    ).fetchall()
    return [UUID(str(r[0])) for r in rows]


def as_actor(conn: psycopg.Connection[Any]) -> None:
    """Name the backend process in the audit log for the rest of the transaction."""
    conn.execute("select set_config('streamtrack.actor', %s, true)", (ACTOR,))


def mark_broken(conn: psycopg.Connection[Any], connection_id: UUID, reason: str) -> bool:
    """Broken for good (audited through the trigger); False when it already was."""
    as_actor(conn)
    count = conn.execute(
        """
        update public.channel_connections
        set status = 'broken', broken_at = now(), broken_reason = left(%s, 300)
        where id = %s and status = 'active'
        """,
        (reason, connection_id),
    ).rowcount
    return count == 1


def record_failure(conn: psycopg.Connection[Any], connection_id: UUID, message: str) -> None:
    conn.execute(
        "update public.channel_connection_tokens set failures = failures + 1, "
        "last_error = left(%s, 300) where connection_id = %s",
        (message, connection_id),
    )


def mark_validated(conn: psycopg.Connection[Any], connection_id: UUID, at: datetime) -> None:
    conn.execute(
        "update public.channel_connection_tokens set validated_at = %s, failures = 0, "
        "last_error = null where connection_id = %s",
        (at, connection_id),
    )


def list_connections(conn: psycopg.Connection[Any], team_id: UUID) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select" + CONNECTION_COLUMNS + "from public.channel_connections c "
            "where c.team_id = %s order by c.connected_at desc, c.id",
            (team_id,),
        ).fetchall()


def connection_row(conn: psycopg.Connection[Any], connection_id: UUID) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "select" + CONNECTION_COLUMNS + "from public.channel_connections c where c.id = %s",
            (connection_id,),
        ).fetchone()
    assert row is not None
    return row


def delete_connection(conn: psycopg.Connection[Any], connection_id: UUID) -> None:
    conn.execute("delete from public.channel_connections where id = %s", (connection_id,))


def errors_json(errors: list[dict[str, object]]) -> str:
    return json.dumps(errors, separators=(",", ":"), default=str)
