"""Token life: a usable access token, refreshed before it expires; validation;
broken connections.

A refresh holds the tokens row (`for update`) across the call, so two
processes never spend one refresh token twice (some platforms rotate them: the
second would be refused, and break a healthy connection). A refusal of the
grant (`InvalidGrant`: invalid_grant, revoked) marks the connection broken,
audited, and nothing retries it until the owner connects again; a transient
failure (5xx, timeout) is counted and retried on the next run, never in a loop.

The upkeep timer (`CONNECTIONS_SCHEDULE`) refreshes tokens that expire within
`CONNECTION_REFRESH_MARGIN_S` and validates those the platform wants
validated (`validate_every_s`), each connection at most once per run.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from shared.config import Settings
from shared.connections import store
from shared.connections.providers import Providers
from shared.crypto import CredentialError, SecretBox
from shared.db import Database
from shared.platforms.errors import PlatformError
from shared.platforms.oauth import InvalidGrant

logger = logging.getLogger(__name__)
CALL_BUDGET_S = 20.0


class ConnectionUnusable(Exception):
    """The connection cannot give a token now (broken, unconfigured, or a transient failure)."""

    def __init__(self, message: str, *, broken: bool = False) -> None:
        super().__init__(message)
        self.broken = broken


def access_token(
    db: Database,
    connection_id: UUID,
    settings: Settings,
    providers: Providers,
    *,
    margin_s: float | None = None,
) -> str:
    """A token that is valid for at least `margin_s` more seconds (refreshing it if not)."""
    margin = timedelta(
        seconds=settings.connection_refresh_margin_s if margin_s is None else margin_s
    )
    box = SecretBox.from_settings(settings)
    with db.service() as conn:
        stored = store.tokens_of(conn, connection_id)
    if stored is None or stored.status != "active":
        raise ConnectionUnusable("the connection is broken or gone", broken=True)
    now = providers.clock()
    if stored.access_expires_at is None or stored.access_expires_at > now + margin:
        return box.open(stored.access, connection_id)
    return refresh(db, connection_id, settings, providers, margin=margin)


def refresh(
    db: Database,
    connection_id: UUID,
    settings: Settings,
    providers: Providers,
    *,
    margin: timedelta = timedelta(0),
) -> str:
    """Refresh the connection's access token (under the row lock); the new token.

    A refusal is written in a transaction of its own, after the locked one ends:
    raising inside it would roll the mark back.
    """
    box = SecretBox.from_settings(settings)
    broken: str | None = None
    failure: str | None = None
    with db.service() as conn:
        stored = store.tokens_of(conn, connection_id, lock=True)
        if stored is None or stored.status != "active":
            raise ConnectionUnusable("the connection is broken or gone", broken=True)
        now = providers.clock()
        if stored.access_expires_at is not None and stored.access_expires_at > now + margin:
            # Another process refreshed it while we waited for the lock.
            return box.open(stored.access, connection_id)
        provider = providers.oauth.get(stored.platform)
        if provider is None:
            raise ConnectionUnusable("the platform's OAuth client is not configured")
        if stored.refresh is None:
            broken = "the platform issued no refresh token; the owner must connect again"
        else:
            try:
                refresh_token = box.open(stored.refresh, connection_id)
                deadline = time.monotonic() + CALL_BUDGET_S
                granted = provider.refresh(refresh_token, deadline=deadline)
            except InvalidGrant as exc:
                broken = f"the platform refused the refresh token ({exc.message})"
            except (PlatformError, CredentialError) as exc:
                failure = str(exc)
            else:
                store.store_tokens(
                    conn,
                    connection_id,
                    box.seal(granted.access_token, connection_id),
                    box.seal(granted.refresh_token, connection_id)
                    if granted.refresh_token
                    else None,
                    granted.expires_at,
                    at=now,
                    validated=False,
                )
                return granted.access_token
    with db.service() as conn:
        if broken is not None:
            store.mark_broken(conn, connection_id, broken)
        else:
            store.record_failure(conn, connection_id, failure or "refresh failed")
    if broken is not None:
        _log_broken(stored.platform.value, connection_id, broken)
        raise ConnectionUnusable(broken, broken=True)
    raise ConnectionUnusable(f"refresh failed: {failure}")


@dataclass
class UpkeepReport:
    """What one upkeep run did."""

    refreshed: int = 0
    validated: int = 0
    broken: list[str] = field(default_factory=list)
    """Connection ids marked broken."""
    failed: int = 0


def upkeep(db: Database, settings: Settings, providers: Providers) -> UpkeepReport:
    """Refresh what expires soon, validate what the platform wants validated."""
    report = UpkeepReport()
    now = providers.clock()
    margin = timedelta(seconds=settings.connection_refresh_margin_s)
    validate = {
        platform: now - timedelta(seconds=p.validate_every_s)
        for platform, p in providers.oauth.items()
        if p.validate_every_s
    }
    with db.service() as conn:
        due = store.due_for_upkeep(conn, refresh_before=now + margin, validate=validate)
    for connection_id in due:
        try:
            _upkeep_one(db, connection_id, settings, providers, report, margin)
        except ConnectionUnusable as exc:
            if exc.broken:
                report.broken.append(str(connection_id))
            else:
                report.failed += 1
    logger.info(
        "connection upkeep",
        extra={
            "refreshed": report.refreshed,
            "validated": report.validated,
            "broken": len(report.broken),
            "failed": report.failed,
        },
    )
    return report


def _upkeep_one(
    db: Database,
    connection_id: UUID,
    settings: Settings,
    providers: Providers,
    report: UpkeepReport,
    margin: timedelta,
) -> None:
    with db.service() as conn:
        stored = store.tokens_of(conn, connection_id)
    if stored is None or stored.status != "active":
        return
    now = providers.clock()
    provider = providers.oauth.get(stored.platform)
    if provider is None:
        return
    token: str | None = None
    if stored.access_expires_at is not None and stored.access_expires_at <= now + margin:
        token = refresh(db, connection_id, settings, providers, margin=margin)
        report.refreshed += 1
    every = provider.validate_every_s
    if every is None:
        return
    if stored.validated_at is not None and stored.validated_at > now - timedelta(seconds=every):
        return
    if token is None:
        token = SecretBox.from_settings(settings).open(stored.access, connection_id)
    try:
        account = provider.owner(token, deadline=time.monotonic() + CALL_BUDGET_S)
    except InvalidGrant as exc:
        reason = f"the platform no longer accepts the token ({exc.message})"
        with db.service() as conn:
            store.mark_broken(conn, connection_id, reason)
        _log_broken(stored.platform.value, connection_id, reason)
        raise ConnectionUnusable(reason, broken=True) from None
    except PlatformError as exc:
        with db.service() as conn:
            store.record_failure(conn, connection_id, str(exc))
        raise ConnectionUnusable(f"validation failed: {exc}") from exc
    if stored.platform_channel_id not in account.channel_ids:
        reason = "the connected account no longer owns the channel"
        with db.service() as conn:
            store.mark_broken(conn, connection_id, reason)
        raise ConnectionUnusable(reason, broken=True)
    with db.service() as conn:
        store.mark_validated(conn, connection_id, now)
    report.validated += 1


def mark_broken(db: Database, connection_id: UUID, reason: str) -> None:
    with db.service() as conn:
        store.mark_broken(conn, connection_id, reason)


def _log_broken(platform: str, connection_id: UUID, reason: str) -> None:
    logger.warning(
        "connection broken: %s",
        reason,
        extra={"platform": platform, "connection_id": str(connection_id)},
    )
