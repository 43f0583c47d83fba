"""The subscription manager: exactly the push subscriptions the tracked channels need.

Each run, per platform whose push is configured (a secret on this server and
`PUSH_CALLBACK_BASE_URL`):

1. The wanted channels: those tracked by at least one team (unpaused),
   ranked by how many teams track them, then by id (a stable order).
2. The budget: a platform that counts cost (EventSub's `max_total_cost`,
   10,000 by default, 1 per subscription without the broadcaster's
   authorization) gets channels in rank order until the next one would not
   fit, with every event type when all of them fit and with the required ones
   only (a stream's start and end) when they do not. `cost_free(platform)`
   names broadcasters whose subscriptions cost 0 (issue 16's connected
   channels: `tick(cost_free=...)` is the one line that wires them). The
   rest stay on polling, deliberately: the least tracked.
   `PUSH_MAX_CHANNELS` caps the count on every platform.
3. Reconcile with the platform's own list where it has one: statuses are
   synced (a verification that arrived before the create answered), orphans
   the platform still holds are adopted or deleted, failed ones recreated.
4. Create what is missing, renew leases that end within the source's
   `renew_before_s`, delete what is no longer wanted.

Every failure is recorded on its row (`status = 'failed'`, `last_error`), and
revocations (recorded by the callback) are recreated on the next run; the
monitor polls any channel whose subscription is not enabled.
"""

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import psycopg

from shared.clock import Clock, utc_now
from shared.config import Settings, get_settings
from shared.db import Database, get_database
from shared.platforms.errors import PlatformError
from shared.platforms.push import PushRefused, PushSource, RemoteSubscription, SubscriptionApi
from shared.platforms.registry import Platform, spec, specs

logger = logging.getLogger(__name__)

CostFree = Callable[[str], Collection[str]]
"""Given a platform, the platform channel ids whose subscriptions cost nothing."""
MAX_CHANGES = 2_000
"""Creates and deletes per platform per run: a big first run spreads over a few (EventSub's
creates also spend Helix points, 800 a minute)."""
CREATE_CONCURRENCY = 8
MAX_ERRORS = 50
"""Errors kept in a run's report (each failed row keeps its own `last_error`)."""
_REPORT_LOCK = threading.Lock()
UNSUBSCRIBED_KEPT = timedelta(days=1)
"""An unsubscribed WebSub row is kept this long to answer the hub's handshake."""


def no_cost_free(platform: str) -> Collection[str]:
    """The default `CostFree`: none (until connected channels exist)."""
    return ()


@dataclass(slots=True)
class PlatformSync:
    """What one platform's run did."""

    platform: str
    wanted: int = 0
    chosen: int = 0
    """Channels within the budget."""
    over_budget: int = 0
    created: int = 0
    renewed: int = 0
    deleted: int = 0
    failed: int = 0
    adopted: int = 0
    total_cost: int = 0
    max_total_cost: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Wanted:
    channel_id: UUID
    platform_channel_id: str
    teams: int


@dataclass(slots=True)
class Row:
    id: int
    channel_id: UUID
    platform_channel_id: str
    event_type: str
    remote_id: str | None
    status: str
    lease_expires_at: datetime | None
    revoked_reason: str | None
    updated_at: datetime


def _wanted(
    conn: psycopg.Connection[Any], platform: str, scope: Collection[UUID] | None
) -> list[Wanted]:
    rows = conn.execute(
        """
        select c.id, c.platform_channel_id, count(distinct tc.team_id) as teams
        from public.channels c
        join public.team_channels tc on tc.channel_id = c.id and tc.paused_at is null
        where c.platform = %s::public.platform
          and (%s::uuid[] is null or c.id = any(%s::uuid[]))
        group by c.id
        order by teams desc, c.id
        """,
        (platform, _ids(scope), _ids(scope)),
    ).fetchall()
    return [Wanted(r[0], r[1], int(r[2])) for r in rows]


def _rows(
    conn: psycopg.Connection[Any], platform: str, scope: Collection[UUID] | None
) -> list[Row]:
    rows = conn.execute(
        """
        select s.id, s.channel_id, c.platform_channel_id, s.event_type, s.remote_id, s.status,
               s.lease_expires_at, s.revoked_reason, s.updated_at
        from public.push_subscriptions s join public.channels c on c.id = s.channel_id
        where s.platform = %s::public.platform
          and (%s::uuid[] is null or c.id = any(%s::uuid[]))
        """,
        (platform, _ids(scope), _ids(scope)),
    ).fetchall()
    return [Row(*r) for r in rows]


def _ids(scope: Collection[UUID] | None) -> list[UUID] | None:
    return None if scope is None else list(scope)


def choose(
    wanted: list[Wanted],
    source: PushSource,
    *,
    max_total_cost: int | None,
    cost_free: Collection[str],
    max_channels: int | None,
) -> tuple[list[Wanted], int, tuple[str, ...]]:
    """The channels that get subscriptions, in rank order, their total cost, and the types.

    Every event type when all the wanted channels fit the budget with all of them;
    otherwise only the required ones (a stream's start and end), so the budget
    covers as many channels as it can: push for more channels is worth more than
    title changes for fewer.
    """
    free = set(cost_free)
    if max_channels is not None:
        wanted = wanted[:max_channels]
    every = source.event_types
    full_cost = source.cost_per_subscription * len(every)
    needed = sum(full_cost for w in wanted if w.platform_channel_id not in free)
    types = every if max_total_cost is None or needed <= max_total_cost else source.required_types
    per_channel = source.cost_per_subscription * len(types)
    chosen: list[Wanted] = []
    total = 0
    for channel in wanted:
        cost = 0 if channel.platform_channel_id in free else per_channel
        if max_total_cost is not None and total + cost > max_total_cost:
            continue  # a cost-free channel further down may still fit
        chosen.append(channel)
        total += cost
    return chosen, total, types


def callback_url(settings: Settings, platform: str) -> str | None:
    base = settings.push_callback_base_url
    return f"{base.rstrip('/')}/api/push/{platform}" if base else None


def sync_platform(
    db: Database,
    platform: str,
    api: SubscriptionApi,
    settings: Settings,
    *,
    cost_free: CostFree = no_cost_free,
    clock: Clock = utc_now,
    max_changes: int = MAX_CHANGES,
    scope: Collection[UUID] | None = None,
) -> PlatformSync:
    """Bring one platform's subscriptions to what the tracked channels need.

    `scope` limits the run to these channels (a canary, or a test's own)."""
    source = spec(platform).push
    report = PlatformSync(platform)
    callback = callback_url(settings, platform)
    if source is None or callback is None:
        return report
    now = clock()
    with db.service() as conn:
        wanted = _wanted(conn, platform, scope)
        rows = _rows(conn, platform, scope)
    report.wanted = len(wanted)
    try:
        remote, budget = api.list()
    except PlatformError as exc:
        report.errors.append(f"list: {exc}"[:300])
        logger.error("push: %s subscriptions could not be listed: %s", platform, exc)
        return report
    free = set(cost_free(platform))
    # Our own subscriptions count against the budget we are about to recompute.
    ours = {r.remote_id for r in rows if r.remote_id}
    foreign_cost = sum(s.cost for s in remote if s.remote_id not in ours)
    limit = None if budget.max_total_cost is None else budget.max_total_cost - foreign_cost
    chosen, total, types = choose(
        wanted, source, max_total_cost=limit, cost_free=free,
        max_channels=settings.push_max_channels,
    )  # fmt: skip
    report.chosen, report.over_budget = len(chosen), len(wanted) - len(chosen)
    report.total_cost, report.max_total_cost = total, budget.max_total_cost
    keep = {(w.platform_channel_id, t): w for w in chosen for t in types}
    by_key = {(r.platform_channel_id, r.event_type): r for r in rows}
    remote_by_key: dict[tuple[str, str], RemoteSubscription] = {}
    changes = 0

    def record(row_sql: str, params: tuple[Any, ...]) -> None:
        with db.service() as conn:
            conn.execute(row_sql, params)

    # Remote subscriptions: sync, adopt, or delete.
    for sub in remote:
        key = (sub.platform_channel_id, sub.event_type)
        row = by_key.get(key)
        if (
            key in keep
            and key not in remote_by_key
            and (row is None or row.remote_id in (None, sub.remote_id))
        ):
            remote_by_key[key] = sub
            continue
        if changes >= max_changes:
            break
        try:
            api.delete(sub.remote_id, sub.platform_channel_id, sub.event_type, callback)
            report.deleted += 1
            changes += 1
        except PlatformError as exc:
            report.errors.append(f"delete {sub.remote_id}: {exc}"[:300])
    lists = api.lists
    creates: list[tuple[Wanted, str, bool]] = []
    renew_before = timedelta(seconds=source.renew_before_s) if source.renew_before_s else None

    for key, channel in keep.items():
        row = by_key.get(key)
        held = remote_by_key.get(key)
        if held is not None and held.status != "failed":
            # The platform holds it: the row follows what the platform says.
            if row is None or row.remote_id != held.remote_id or row.status != held.status:
                record(
                    """
                    insert into public.push_subscriptions
                      (channel_id, platform, event_type, remote_id, status, cost)
                    values (%s, %s::public.platform, %s, %s, %s, %s)
                    on conflict (channel_id, event_type) do update set
                      remote_id = excluded.remote_id, status = excluded.status,
                      cost = excluded.cost,
                      last_error = case when excluded.status = 'enabled' then null
                                        else push_subscriptions.last_error end
                    """,
                    (channel.channel_id, platform, key[1], held.remote_id, held.status, held.cost),
                )
                report.adopted += int(row is None)
            continue
        if held is not None:
            # Failed on the platform's side (a revocation, failed verification): replace it.
            try:
                api.delete(held.remote_id, key[0], key[1], callback)
                report.deleted += 1
            except PlatformError as exc:
                report.errors.append(f"delete {held.remote_id}: {exc}"[:300])
        elif not lists and row is not None and row.status in ("enabled", "pending"):
            due_renewal = renew_before is not None and (
                row.lease_expires_at is None or row.lease_expires_at - now < renew_before
            )
            if not due_renewal:
                continue
        renewal = row is not None and row.status in ("enabled", "pending") and not lists
        if changes >= max_changes:
            continue
        changes += 1
        creates.append((channel, key[1], renewal))
    # Creates wait on the platform and, for a handshake, on our own callback: a few at once.
    with ThreadPoolExecutor(CREATE_CONCURRENCY, thread_name_prefix="push-subscribe") as ex:
        list(
            ex.map(
                lambda job: _create(db, api, platform, job[0], job[1], callback, free, report,
                                    renewal=job[2]),
                creates,
            )
        )  # fmt: skip

    # Rows no longer wanted: unsubscribe, then forget.
    for key, row in by_key.items():
        if key in keep:
            continue
        if row.revoked_reason == "unsubscribed":
            if now - row.updated_at > UNSUBSCRIBED_KEPT:
                record("delete from public.push_subscriptions where id = %s", (row.id,))
            continue
        if changes >= max_changes:
            break
        changes += 1
        try:
            if row.remote_id and row.status != "revoked" and not lists:
                api.delete(row.remote_id, key[0], key[1], callback)
            report.deleted += int(not lists)
        except PlatformError as exc:
            report.errors.append(f"delete {row.remote_id}: {exc}"[:300])
        if lists:
            record("delete from public.push_subscriptions where id = %s", (row.id,))
        else:
            # Kept a day, so the hub's unsubscribe handshake is answered.
            record(
                "update public.push_subscriptions set status = 'revoked',"
                " revoked_reason = 'unsubscribed' where id = %s",
                (row.id,),
            )
    logger.info(
        "push: %s subscriptions: %d wanted, %d within budget, %d created, %d renewed, "
        "%d deleted, %d failed", platform, report.wanted, report.chosen, report.created,
        report.renewed, report.deleted, report.failed,
        extra={"platform": platform, "total_cost": report.total_cost},
    )  # fmt: skip
    return report


def _create(
    db: Database,
    api: SubscriptionApi,
    platform: str,
    channel: Wanted,
    event_type: str,
    callback: str,
    free: set[str],
    report: PlatformSync,
    *,
    renewal: bool,
) -> None:
    known_id = api.remote_id_for(channel.platform_channel_id, event_type)
    with db.service() as conn:
        # Recorded first, so a handshake that arrives before the answer finds it.
        conn.execute(
            """
            insert into public.push_subscriptions
              (channel_id, platform, event_type, remote_id, status)
            values (%s, %s::public.platform, %s, %s, 'pending')
            on conflict (channel_id, event_type) do update set
              remote_id = coalesce(excluded.remote_id, push_subscriptions.remote_id),
              status = case when push_subscriptions.status = 'enabled' then 'enabled'
                            else 'pending' end,
              revoked_reason = null
            """,
            (channel.channel_id, platform, event_type, known_id),
        )
    try:
        made = api.create(
            channel.platform_channel_id, event_type, callback,
            cost_free=channel.platform_channel_id in free,
        )  # fmt: skip
    except (PlatformError, PushRefused) as exc:
        with _REPORT_LOCK:
            report.failed += 1
            if len(report.errors) < MAX_ERRORS:
                report.errors.append(
                    f"create {channel.platform_channel_id} {event_type}: {exc}"[:300]
                )
        with db.service() as conn:
            conn.execute(
                """
                update public.push_subscriptions set status = 'failed', last_error = left(%s, 500)
                where channel_id = %s and event_type = %s
                """,
                (str(exc), channel.channel_id, event_type),
            )
        return
    with db.service() as conn:
        conn.execute(
            """
            update public.push_subscriptions set
              remote_id = coalesce(%s, remote_id),
              status = case when status = 'enabled' then 'enabled' else %s end,
              cost = %s, lease_expires_at = coalesce(%s, lease_expires_at), last_error = null
            where channel_id = %s and event_type = %s
            """,
            (made.remote_id, made.status, made.cost, made.lease_expires_at,
             channel.channel_id, event_type),
        )  # fmt: skip
    with _REPORT_LOCK:
        if renewal:
            report.renewed += 1
        else:
            report.created += 1


def tick(
    *,
    settings: Settings | None = None,
    database: Database | None = None,
    http: httpx.Client | None = None,
    cost_free: CostFree = no_cost_free,
    clock: Clock = utc_now,
    apis: Mapping[str, SubscriptionApi] | None = None,
    scope: Collection[UUID] | None = None,
    max_changes: int = MAX_CHANGES,
) -> dict[str, PlatformSync]:
    """The subscription timer: every platform whose push is configured."""
    settings = settings or get_settings()
    db = database or get_database()
    reports: dict[str, PlatformSync] = {}
    if not settings.push_callback_base_url:
        logger.info("push: PUSH_CALLBACK_BASE_URL is not set; no subscriptions are kept")
        return reports
    client = http or httpx.Client(timeout=settings.platform_timeout_s)
    for declared in specs():
        source = declared.push
        platform = declared.platform.value
        if source is None or not source.configured(settings) or not declared.configured(settings):
            continue
        try:
            api = (
                apis[platform]
                if apis and platform in apis
                else source.subscriptions(settings, client)
            )
            reports[platform] = sync_platform(
                db, platform, api, settings, cost_free=cost_free, clock=clock, scope=scope,
                max_changes=max_changes,
            )  # fmt: skip
        except Exception as exc:  # one platform's failure stays there
            logger.exception("push: %s subscription manager failed", platform)
            reports[platform] = PlatformSync(platform, errors=[f"{type(exc).__name__}: {exc}"])
    return reports


__all__ = ["CostFree", "Platform", "PlatformSync", "choose", "sync_platform", "tick"]
