"""The alerts API's services: destinations, rules, the delivery log, a test message.

Reads run as the user (RLS: the team's members). Rules are written as the
user too (RLS: admins and owners, the team's MFA rule). A destination's URL
is a secret, so creating one runs on the service side: the URL is checked
(https, public addresses only: `shared.alerts.transport`), sealed with the
credentials key, and `public.create_alert_destination` is called on the
user's behalf, checking role and MFA again in the database.
"""

import logging
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import httpx
from psycopg.rows import dict_row

from shared.alerts import messages
from shared.alerts.messages import Alert
from shared.alerts.models import (
    DeliveriesPublic,
    DeliveriesQuery,
    DeliveryPublic,
    DestinationCreate,
    DestinationCreated,
    DestinationPublic,
    DestinationsPublic,
    DestinationTestResult,
    DestinationUpdate,
    RuleCreate,
    RulePublic,
    RulesPublic,
    RuleUpdate,
)
from shared.alerts.targets import Target, new_signing_secret, open_target, seal_target
from shared.alerts.transport import (
    Resolver,
    UnsafeTarget,
    check_url,
    guarded_client,
    system_resolver,
)
from shared.auth import AccessClaims
from shared.config import Settings
from shared.crypto import CredentialError, Sealed, SecretBox
from shared.db import Database
from shared.errors import NotFound, Unavailable, Unprocessable
from shared.platforms.registry import Platform
from shared.teams.access import database_rules, membership, on_behalf_of, require

logger = logging.getLogger(__name__)

_DESTINATION = """
  select id, team_id, kind::text as kind, name, target_host, enabled, disabled_reason,
         disabled_at, created_by, created_at
  from public.alert_destinations
"""
_RULE = """
  select id, team_id, destination_id, channel_id, event::text as event, viewer_threshold,
         template, enabled, created_by, created_at
  from public.alert_rules
"""
# What each kind's URL looks like (its path; the host is checked for safety only,
# so a local sink can stand in for the service).
_PATHS = {
    "discord": (re.compile(r"^/api(/v\d+)?/webhooks/\d+/[\w-]+/?$"),
                "a Discord webhook URL ends in /api/webhooks/<id>/<token>"),
    "slack": (re.compile(r"^/services/[\w/]+$"),
              "a Slack incoming webhook URL looks like https://hooks.slack.com/services/..."),
}  # fmt: skip
NO_DESTINATION = "the team has no alert destination with this id"
NO_RULE = "the team has no alert rule with this id"


@lru_cache(maxsize=4)
def default_client(allow_loopback: bool, timeout_s: float) -> httpx.Client:
    """The process-wide client alerts are sent with (its connections are reused)."""
    return guarded_client(allow_loopback=allow_loopback, timeout_s=timeout_s)


def client_for(settings: Settings) -> httpx.Client:
    return default_client(settings.alerts_allow_loopback, settings.alerts_timeout_s)


def secret_box(settings: Settings) -> SecretBox:
    try:
        return SecretBox.from_settings(settings)
    except CredentialError as exc:
        logger.error("CREDENTIALS_ENCRYPTION_KEY is missing or invalid")
        raise Unavailable(
            "this server cannot store alert destinations (no encryption key configured); "
            "ask its operator"
        ) from exc


def check_destination_url(
    kind: str, url: str, settings: Settings, resolve: Resolver = system_resolver
) -> str:
    """The URL's host when it suits the kind and may be sent to; Unprocessable otherwise."""
    try:
        host = check_url(url, allow_loopback=settings.alerts_allow_loopback, resolve=resolve)
    except UnsafeTarget as exc:
        raise Unprocessable(f"url: {exc}") from None
    shape = _PATHS.get(kind)
    if shape is not None:
        path = httpx.URL(url).path
        if not shape[0].match(path):
            raise Unprocessable(f"url: {shape[1]}")
    return host


# --- destinations -----------------------------------------------------------------------


def list_destinations(db: Database, claims: AccessClaims, team_id: UUID) -> DestinationsPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        membership(conn, team_id)
        rows = cur.execute(
            _DESTINATION + " where team_id = %s order by created_at, id", (team_id,)
        ).fetchall()
    found = [DestinationPublic.model_validate(r) for r in rows]
    return DestinationsPublic(data=found, count=len(found))


def create_destination(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    body: DestinationCreate,
    settings: Settings,
    resolve: Resolver = system_resolver,
) -> DestinationCreated:
    with db.user(claims.raw) as conn:
        require(membership(conn, team_id), claims, "admin", action="add alert destinations")
    url = body.url.get_secret_value().strip()
    host = check_destination_url(body.kind, url, settings, resolve)
    box = secret_box(settings)
    signing = new_signing_secret() if body.kind == "webhook" else None
    destination_id = uuid.uuid4()
    sealed = seal_target(box, destination_id, Target(url, signing))
    with db.service() as conn, database_rules():
        on_behalf_of(conn, claims.raw)
        conn.execute(
            "select public.create_alert_destination(%s, %s, %s, %s, %s, %s, %s, %s)",
            (destination_id, team_id, body.kind, body.name, host, sealed.ciphertext,
             sealed.nonce, sealed.key_version),
        )  # fmt: skip
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(_DESTINATION + " where id = %s", (destination_id,)).fetchone()
    assert row is not None
    return DestinationCreated(**row, signing_secret=signing)


def update_destination(
    db: Database, claims: AccessClaims, team_id: UUID, destination_id: UUID, body: DestinationUpdate
) -> DestinationPublic:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    with db.user(claims.raw) as conn, database_rules(), conn.cursor(row_factory=dict_row) as cur:
        require(membership(conn, team_id), claims, "admin", action="change alert destinations")
        if changes:
            sets = ", ".join(f"{name} = %({name})s" for name in changes)
            cur.execute(
                f"update public.alert_destinations set {sets}"  # names from the model only
                " where id = %(id)s and team_id = %(team)s",
                {**changes, "id": destination_id, "team": team_id},
            )
        row = cur.execute(
            _DESTINATION + " where id = %s and team_id = %s", (destination_id, team_id)
        ).fetchone()
    if row is None:
        raise NotFound(NO_DESTINATION)
    return DestinationPublic.model_validate(row)


def delete_destination(
    db: Database, claims: AccessClaims, team_id: UUID, destination_id: UUID
) -> None:
    """Delete a destination and its rules; its delivery log stays."""
    with db.user(claims.raw) as conn, database_rules():
        require(membership(conn, team_id), claims, "admin", action="delete alert destinations")
        deleted = conn.execute(
            "delete from public.alert_destinations where id = %s and team_id = %s",
            (destination_id, team_id),
        ).rowcount
    if deleted != 1:
        raise NotFound(NO_DESTINATION)


SAMPLE = {
    "channel": "StreamTrack test",
    "platform": next(iter(Platform)).value,
    "title": "A test alert from StreamTrack: this destination works",
    "category": "Just Chatting",
    "viewers": 42,
}


def send_test_message(
    db: Database,
    claims: AccessClaims,
    team_id: UUID,
    destination_id: UUID,
    settings: Settings,
    client: httpx.Client | None = None,
) -> DestinationTestResult:
    """Send a sample `live` alert now (admins) and say what the destination answered."""
    with db.user(claims.raw) as conn:
        require(membership(conn, team_id), claims, "admin", action="test alert destinations",
                mfa=False)  # fmt: skip
        row = conn.execute(
            "select kind::text from public.alert_destinations where id = %s and team_id = %s",
            (destination_id, team_id),
        ).fetchone()
    if row is None:
        raise NotFound(NO_DESTINATION)
    kind = str(row[0])
    box = secret_box(settings)
    with db.service() as conn:
        sealed_row = conn.execute(
            "select ciphertext, nonce, key_version from public.alert_destination_secrets"
            " where destination_id = %s",
            (destination_id,),
        ).fetchone()
    if sealed_row is None:
        raise NotFound(NO_DESTINATION)
    try:
        target = open_target(box, destination_id, Sealed(*sealed_row))
    except CredentialError as exc:
        raise Unavailable("this server cannot open the destination's secret") from exc
    now = datetime.now(UTC)
    alert = Alert(0, "live", {**SAMPLE, "started_at": now.isoformat()}, None, now)
    request = messages.build(kind, [alert], target.signing_secret, now,
                             msg_id=f"alert_test_{uuid.uuid4().hex}")  # fmt: skip
    sender = client or client_for(settings)
    try:
        response = sender.post(target.url, content=request.body, headers=request.headers)
    except UnsafeTarget as exc:
        return DestinationTestResult(delivered=False, status_code=None, error=str(exc))
    except httpx.HTTPError as exc:
        return DestinationTestResult(
            delivered=False, status_code=None, error=f"no answer: {exc.__class__.__name__}"
        )
    ok = 200 <= response.status_code < 300
    detail = None if ok else f"HTTP {response.status_code}: {response.text.strip()[:300]}"
    return DestinationTestResult(delivered=ok, status_code=response.status_code, error=detail)


# --- rules ------------------------------------------------------------------------------


def list_rules(db: Database, claims: AccessClaims, team_id: UUID) -> RulesPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        membership(conn, team_id)
        rows = cur.execute(_RULE + " where team_id = %s order by created_at, id", (team_id,))
        found = [RulePublic.model_validate(r) for r in rows.fetchall()]
    return RulesPublic(data=found, count=len(found))


def _check_rule(event: str, threshold: int | None) -> None:
    if event == "viewers_above" and threshold is None:
        raise Unprocessable("viewer_threshold: required for viewers_above")
    if event != "viewers_above" and threshold is not None:
        raise Unprocessable("viewer_threshold: only for viewers_above; leave it out")


def create_rule(db: Database, claims: AccessClaims, team_id: UUID, body: RuleCreate) -> RulePublic:
    _check_rule(body.event, body.viewer_threshold)
    with db.user(claims.raw) as conn, database_rules(), conn.cursor(row_factory=dict_row) as cur:
        require(membership(conn, team_id), claims, "admin", action="add alert rules")
        if cur.execute(
            "select 1 from public.alert_destinations where id = %s and team_id = %s",
            (body.destination_id, team_id),
        ).fetchone() is None:  # fmt: skip
            raise Unprocessable("destination_id: " + NO_DESTINATION)
        if body.channel_id is not None and cur.execute(
            "select 1 from public.team_channels where team_id = %s and channel_id = %s",
            (team_id, body.channel_id),
        ).fetchone() is None:  # fmt: skip
            raise Unprocessable("channel_id: the team does not track a channel with this id")
        row = cur.execute(
            "insert into public.alert_rules"
            " (team_id, destination_id, channel_id, event, viewer_threshold, template, enabled)"
            " values (%s, %s, %s, %s, %s, %s, %s) returning id",
            (team_id, body.destination_id, body.channel_id, body.event, body.viewer_threshold,
             body.template, body.enabled),
        ).fetchone()  # fmt: skip
        assert row is not None
        created = cur.execute(_RULE + " where id = %s", (row["id"],)).fetchone()
    return RulePublic.model_validate(created)


def update_rule(
    db: Database, claims: AccessClaims, team_id: UUID, rule_id: UUID, body: RuleUpdate
) -> RulePublic:
    changes: dict[str, Any] = {k: getattr(body, k) for k in body.model_fields_set}
    if changes.get("enabled", False) is None:
        raise Unprocessable("enabled: true or false")
    with db.user(claims.raw) as conn, database_rules(), conn.cursor(row_factory=dict_row) as cur:
        require(membership(conn, team_id), claims, "admin", action="change alert rules")
        current = cur.execute(
            _RULE + " where id = %s and team_id = %s", (rule_id, team_id)
        ).fetchone()
        if current is None:
            raise NotFound(NO_RULE)
        threshold = changes.get("viewer_threshold", current["viewer_threshold"])
        _check_rule(current["event"], threshold)
        if changes:
            sets = ", ".join(f"{name} = %({name})s" for name in changes)
            cur.execute(
                f"update public.alert_rules set {sets}"  # names from the model only
                " where id = %(id)s and team_id = %(team)s",
                {**changes, "id": rule_id, "team": team_id},
            )
        row = cur.execute(_RULE + " where id = %s", (rule_id,)).fetchone()
    return RulePublic.model_validate(row)


def delete_rule(db: Database, claims: AccessClaims, team_id: UUID, rule_id: UUID) -> None:
    with db.user(claims.raw) as conn, database_rules():
        require(membership(conn, team_id), claims, "admin", action="delete alert rules")
        deleted = conn.execute(
            "delete from public.alert_rules where id = %s and team_id = %s", (rule_id, team_id)
        ).rowcount
    if deleted != 1:
        raise NotFound(NO_RULE)


# --- deliveries -------------------------------------------------------------------------


def list_deliveries(
    db: Database, claims: AccessClaims, team_id: UUID, query: DeliveriesQuery
) -> DeliveriesPublic:
    with db.user(claims.raw) as conn, conn.cursor(row_factory=dict_row) as cur:
        membership(conn, team_id)
        rows = cur.execute(
            """
            select id, rule_id, destination_id, channel_id, event::text as event, status,
                   attempts, last_status_code, last_error, occurred_at, created_at, delivered_at
            from public.alert_deliveries
            where team_id = %(team)s
              and (%(status)s::text is null or status = %(status)s)
              and (%(before)s::bigint is null or id < %(before)s)
            order by id desc
            limit %(limit)s
            """,
            {"team": team_id, "status": query.status, "before": query.before_id,
             "limit": query.limit},
        ).fetchall()  # fmt: skip
    found = [DeliveryPublic.model_validate(r) for r in rows]
    return DeliveriesPublic(data=found, count=len(found))
