"""Alert destinations and rules made the way the API makes them, pointed at the
local alert sink, and the settings and sender the tests deliver with."""

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from localdev.alertsink import AlertSink
from shared.alerts import service
from shared.alerts.delivery import Deliverer, DeliveryPolicy
from shared.alerts.models import DestinationCreate, RuleCreate
from shared.alerts.transport import guarded_client
from shared.auth import AccessClaims
from shared.config import Settings
from shared.crypto import SecretBox
from shared.db import Database
from tests.factories.teams import Crew, make_crew
from tests.factories.users import claims_for

KEY = b"k" * 32  # tests.factories.tokens.ENCRYPTION_KEY: what the API tests run with
PATHS = {
    "discord": "/api/webhooks/{n}/token-{n}",
    "slack": "/services/T000/B{n}/secret{n}",
    "teams": "/workflows/{n}/triggers/manual/paths/invoke",
    "webhook": "/hooks/{n}",
}


def alert_settings(**overrides: Any) -> Settings:
    """Settings sending to the sink on 127.0.0.1 (loopback allowed, as in development)."""
    values: dict[str, Any] = {
        "credentials_encryption_key": SecretStr(base64.b64encode(KEY).decode()),
        "alerts_allow_loopback": True,
        **overrides,
    }
    return Settings(**values)


def access(user: uuid.UUID, aal: str = "aal1") -> AccessClaims:
    raw = claims_for(user, aal=aal)
    now = datetime.now(UTC)
    return AccessClaims.model_validate(
        {**raw, "iss": "test", "exp": now + timedelta(hours=1), "raw": raw}
    )


def fast_policy(**overrides: Any) -> DeliveryPolicy:
    """No real waiting for backoff (rate-limit waits still sleep, they are short)."""
    values: dict[str, Any] = {"backoff_initial_s": 0.0, "backoff_max_s": 0.0, **overrides}
    return DeliveryPolicy(**values)


def deliverer(database: Database, policy: DeliveryPolicy | None = None) -> Deliverer:
    return Deliverer(
        database,
        SecretBox(KEY),
        guarded_client(allow_loopback=True, timeout_s=5),
        policy or fast_policy(),
    )


@dataclass
class AlertTeam:
    """A crew whose team tracks `channels` and alerts `destinations` (kind -> id)."""

    crew: Crew
    channels: list[uuid.UUID]
    destinations: dict[str, uuid.UUID] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    signing_secrets: dict[str, str] = field(default_factory=dict)


def make_channel(database: Database, team_id: uuid.UUID, name: str | None = None) -> uuid.UUID:
    channel_id = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id, display_name, url)"
            " values (%s, 'twitch', %s, %s, %s)",
            (channel_id, f"alerts-{channel_id.hex}", name or f"chan-{channel_id.hex[:6]}",
             f"https://www.twitch.tv/{channel_id.hex[:8]}"),
        )  # fmt: skip
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (team_id, channel_id),
        )
    return channel_id


def add_destination(
    database: Database, team: AlertTeam, sink: AlertSink, kind: str, settings: Settings
) -> uuid.UUID:
    path = PATHS[kind].format(n=uuid.uuid4().int % 10**12)
    created = service.create_destination(
        database,
        access(team.crew.owner, "aal2"),
        team.crew.team_id,
        DestinationCreate(kind=kind, name=f"{kind} sink", url=SecretStr(sink.url(path))),  # type: ignore[arg-type]
        settings,
    )
    team.destinations[kind] = created.id
    team.paths[kind] = path
    if created.signing_secret:
        team.signing_secrets[kind] = created.signing_secret
    return created.id


def add_rule(
    database: Database, team: AlertTeam, kind: str, event: str, **fields: Any
) -> uuid.UUID:
    rule = service.create_rule(
        database,
        access(team.crew.owner, "aal2"),
        team.crew.team_id,
        RuleCreate(destination_id=team.destinations[kind], event=event, **fields),  # type: ignore[arg-type]
    )
    return rule.id


def make_alert_team(
    database: Database,
    sink: AlertSink,
    kinds: tuple[str, ...] = ("discord",),
    events: tuple[str, ...] = ("live", "ended"),
    channels: int = 1,
    settings: Settings | None = None,
) -> AlertTeam:
    """A team with `channels` channels, one destination per kind on the sink, and a
    rule per kind and event for all its channels."""
    settings = settings or alert_settings()
    crew = make_crew(database)
    team = AlertTeam(crew, [make_channel(database, crew.team_id) for _ in range(channels)])
    for kind in kinds:
        add_destination(database, team, sink, kind, settings)
        for event in events:
            extra = {"viewer_threshold": 100} if event == "viewers_above" else {}
            add_rule(database, team, kind, event, **extra)
    return team


def deliveries(database: Database, team_id: uuid.UUID) -> list[dict[str, Any]]:
    with database.service() as conn, conn.cursor() as cur:
        cur.execute(
            "select id, event::text, status, attempts, last_status_code, last_error,"
            " destination_id, payload from public.alert_deliveries where team_id = %s"
            " order by id",
            (team_id,),
        )
        names = [d.name for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def settle_outbox(database: Database) -> None:
    """Drop every pending alert (the database is shared by the whole test run)."""
    with database.service() as conn:
        conn.execute(
            "update public.alert_deliveries set status = 'dropped', last_error = 'test reset'"
            " where status = 'pending'"
        )


def alert_snapshot(database: Database, team_id: uuid.UUID) -> dict[str, Any]:
    """Everything an alerts operation could change, to compare before and after."""
    queries = {
        "destinations": "select id, name, enabled from public.alert_destinations"
        " where team_id = %s order by 1",
        "rules": "select id, event::text, viewer_threshold, template, enabled"
        " from public.alert_rules where team_id = %s order by 1",
        "audit": "select count(*) from public.audit_log where team_id = %s",
    }
    with database.service() as conn:
        return {k: conn.execute(q, (team_id,)).fetchall() for k, q in queries.items()}
