"""The channels a team tracks: add one by URL, handle or id (resolved through the
platform clients), list them, stop tracking one.

Adding writes a shared `channels` row (and, for a platform whose channels are
polled with their owner's credential, the team's own copy of that credential
sealed with AES-GCM in `channel_credentials`), which clients may not write; so
that part runs on the service side, after the role, MFA and plan checks, and
the same transaction then continues as the user and calls `track_team_channel`,
where the database checks role, MFA and the team's credential again, the
plan-limit trigger runs and the audit trail records the user. A team's
credential goes when the team stops tracking the channel (the database
cascades it). What a platform needs is its spec's to say
(`shared.platforms.registry`); nothing here names one.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from shared.auth import AccessClaims
from shared.config import Settings
from shared.crypto import CredentialError, SecretBox
from shared.db import Database, become_user
from shared.errors import Conflict, NotFound, Unavailable, Unprocessable
from shared.platforms import errors as platform_errors
from shared.platforms.base import Channel, ChannelRef, InvalidChannelRef, PlatformClient
from shared.platforms.registry import (
    Platform,
    default_clients,
    needing_credentials,
    parse_channel_ref,
    spec,
)
from shared.platforms.spec import PlatformSpec
from shared.teams.access import database_rules, membership, require
from shared.teams.models import ChannelCreate, TrackedChannelPublic, TrackedChannelsPublic

Resolvers = Mapping[Platform, PlatformClient]
RESOLVE_BUDGET_S = 20.0
logger = logging.getLogger(__name__)

_COLUMNS = """
  select c.id as channel_id, c.platform::text as platform, c.platform_channel_id, c.handle,
         c.display_name, c.url, c.avatar_url, tc.added_by, tc.added_at, tc.paused_at
  from public.team_channels tc
  join public.channels c on c.id = tc.channel_id
"""


default_resolvers = default_clients
"""The process-wide platform clients the monitor polls with too (their HTTP pools and
app tokens are shared); platforms this server is not configured for are absent."""


def track_channel(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    body: ChannelCreate,
    settings: Settings,
    resolvers: Resolvers,
) -> TrackedChannelPublic:
    """Resolve the channel on its platform and start tracking it (members and up)."""
    ref = _reference(body)
    with db.user(claims.raw) as conn:
        require(membership(conn, team_id), claims, "member", action="add channels")
        _check_room(conn, team_id)

    declared = spec(ref.platform)
    channel = _resolve(resolvers, ref, declared)
    credential = declared.credential if ref.secret is not None else None
    box = _secret_box(settings, declared) if credential is not None else None

    with db.service() as conn, database_rules():
        # A platform whose channels are read with the owner's secret marks them:
        # every team tracking one must then supply its own (the database checks).
        channel_id = _upsert_channel(
            conn, channel, requires_credential=declared.credential is not None
        )
        if box is not None and credential is not None and ref.secret is not None:
            sealed = box.seal(ref.secret.get_secret_value(), channel_id)
            conn.execute(
                "insert into public.channel_credentials "
                "(channel_id, team_id, kind, ciphertext, nonce, key_version) "
                "values (%s, %s, %s, %s, %s, %s) "
                "on conflict (channel_id, team_id) do update set kind = excluded.kind, "
                "ciphertext = excluded.ciphertext, nonce = excluded.nonce, "
                "key_version = excluded.key_version",
                (
                    channel_id,
                    team_id,
                    credential.kind,
                    sealed.ciphertext,
                    sealed.nonce,
                    sealed.key_version,
                ),
            )
        # From here on the transaction is the user's: track_team_channel checks them,
        # the plan-limit trigger and the audit trail see them, and a refusal undoes
        # the writes above.
        become_user(conn, claims.raw)
        require(membership(conn, team_id), claims, "member", action="add channels")
        row = conn.execute(
            "select public.track_team_channel(%s, %s)", (team_id, channel_id)
        ).fetchone()
        if row is None or not row[0]:
            raise Conflict(f"the team tracks {channel.display_name or channel.url} already")
        return _tracked(conn, team_id, channel_id)


def list_channels(db: Database, claims: AccessClaims, team_id: UUID) -> TrackedChannelsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        membership(conn, team_id)
        rows = cur.execute(
            _COLUMNS + " where tc.team_id = %s order by tc.added_at desc, c.id", (team_id,)
        ).fetchall()
        limit = _limit(conn, team_id)
    channels = [TrackedChannelPublic.model_validate(row) for row in rows]
    return TrackedChannelsPublic(data=channels, count=len(channels), max_channels=limit)


def untrack_channel(db: Database, claims: AccessClaims, team_id: UUID, channel_id: UUID) -> None:
    """Stop tracking a channel; its history stays, the team's stored key goes."""
    with db.user(claims.raw) as conn, database_rules():
        require(membership(conn, team_id), claims, "member", action="remove channels")
        deleted = conn.execute(
            "delete from public.team_channels where team_id = %s and channel_id = %s",
            (team_id, channel_id),
        ).rowcount
        if deleted != 1:
            raise NotFound("the team does not track a channel with this id")


def _reference(body: ChannelCreate) -> ChannelRef:
    """The body as a channel reference, by the platform's own rules (422 otherwise)."""
    key = body.api_key.get_secret_value() if body.api_key else None
    declared = spec(body.platform)
    if declared.credential is not None and not key:
        raise Unprocessable(
            f"a {declared.display_name} channel is added with {declared.credential.label}: "
            "send api_key"
        )
    if declared.credential is None and key:
        names = " and ".join(spec(p).display_name for p in needing_credentials())
        raise Unprocessable(f"api_key is for {names} channels only; leave it out")
    if declared.credential is None and not body.channel:
        raise Unprocessable("channel: send the channel's URL, handle or id")
    try:
        return parse_channel_ref(body.platform, body.channel, secret=key)
    except InvalidChannelRef as exc:
        raise Unprocessable(f"channel: {exc}") from None


def _resolve(resolvers: Resolvers, ref: ChannelRef, declared: PlatformSpec) -> Channel:
    client = resolvers.get(ref.platform)
    name = declared.display_name
    if client is None:
        raise Unavailable(f"{name} is not configured on this server; ask its operator")
    try:
        return client.resolve(ref, deadline=time.monotonic() + RESOLVE_BUDGET_S)
    except platform_errors.NotFound:
        raise Unprocessable(f"{name} has no channel {ref.value!r}; check the spelling") from None
    except platform_errors.AuthError as exc:
        if declared.credential is not None:
            # The credential is the caller's (the owner's key), not this server's.
            raise Unprocessable(f"{name} refused the API key: {exc.message}") from None
        logger.error("platform credentials refused", extra={"platform": ref.platform.value})
        raise Unavailable(f"{name} refused this server's credentials; try again later") from exc
    except platform_errors.InvalidResponse as exc:
        logger.warning(
            "channel resolution got an unusable answer: %s",
            exc.message,
            extra={"platform": ref.platform.value},
        )
        raise Unavailable(
            f"{name} answered something this server cannot use ({exc.message}); try again later"
        ) from exc
    except platform_errors.PlatformError as exc:
        logger.warning(
            "channel resolution failed: %s",
            exc.__class__.__name__,
            extra={"platform": ref.platform.value},
        )
        raise Unavailable(f"{name} did not answer; try again in a minute") from exc


def _secret_box(settings: Settings, declared: PlatformSpec) -> SecretBox:
    try:
        return SecretBox.from_settings(settings)
    except CredentialError as exc:
        logger.error("CREDENTIALS_ENCRYPTION_KEY is missing or invalid")
        raise Unavailable(
            f"this server cannot store {declared.display_name} keys (no encryption key "
            "configured); ask its operator"
        ) from exc


def _check_room(conn: psycopg.Connection[Any], team_id: UUID) -> None:
    """Refuse before calling the platform when the plan is full (the trigger decides)."""
    row = conn.execute(
        "select count(*) from public.team_channels where team_id = %s", (team_id,)
    ).fetchone()
    limit = _limit(conn, team_id)
    if row is not None and row[0] >= limit:
        raise Conflict(
            f"the team's plan allows at most {limit} channels; remove one or upgrade the plan"
        )


def _limit(conn: psycopg.Connection[Any], team_id: UUID) -> int:
    row = conn.execute(
        "select p.max_channels from public.teams t join public.plans p on p.id = t.plan_id "
        "where t.id = %s",
        (team_id,),
    ).fetchone()
    if row is None:
        raise NotFound("no such team, or you are not a member of it")
    return int(row[0])


def _upsert_channel(
    conn: psycopg.Connection[Any], channel: Channel, *, requires_credential: bool
) -> UUID:
    row = conn.execute(
        """
        insert into public.channels
          (platform, platform_channel_id, handle, display_name, url, avatar_url,
           requires_credential)
        values (%s, %s, %s, %s, %s, %s, %s)
        on conflict (platform, platform_channel_id) do update set
          handle = coalesce(excluded.handle, channels.handle),
          display_name = coalesce(excluded.display_name, channels.display_name),
          url = coalesce(excluded.url, channels.url),
          avatar_url = coalesce(excluded.avatar_url, channels.avatar_url),
          requires_credential = channels.requires_credential or excluded.requires_credential
        returning id
        """,
        (
            channel.platform.value,
            channel.platform_channel_id,
            channel.handle,
            channel.display_name,
            channel.url,
            channel.avatar_url,
            requires_credential,
        ),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def _tracked(
    conn: psycopg.Connection[Any], team_id: UUID, channel_id: UUID
) -> TrackedChannelPublic:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            _COLUMNS + " where tc.team_id = %s and tc.channel_id = %s", (team_id, channel_id)
        ).fetchone()
    if row is None:
        raise NotFound("the team does not track a channel with this id")
    return TrackedChannelPublic.model_validate(row)
