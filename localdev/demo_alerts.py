"""`make demo`'s alerts: one destination per demo team on the local alert sink, rules
for every channel going live and ending, and the count of what arrived.

Destinations and rules are made through the same services as the API, on behalf of
each team's owner (an aal2 session), so the demo exercises the real checks: URL
safety (the sink is on loopback: `alerts_allow_loopback` is on here), sealing, the
database's role rules.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from localdev.alertsink import AlertSink
from shared.alerts import service
from shared.alerts.models import DestinationCreate, RuleCreate
from shared.auth import AccessClaims
from shared.config import Settings
from shared.db import Database

KINDS = ("discord", "slack", "webhook")
PATHS = {
    "discord": "/api/webhooks/{n}/demo-token",
    "slack": "/services/TDEMO/B{n}/demo",
    "webhook": "/hooks/team-{n}",
}


def owner_claims(user: uuid.UUID) -> AccessClaims:
    """An aal2 session of `user`, as a verified token would give it."""
    now = datetime.now(UTC)
    raw = {"sub": str(user), "role": "authenticated", "aud": "authenticated", "aal": "aal2",
           "is_anonymous": False}  # fmt: skip
    return AccessClaims.model_validate(
        {**raw, "iss": "localdev", "exp": now + timedelta(hours=1), "raw": raw}
    )


@dataclass(frozen=True, slots=True)
class DemoDestination:
    team: str
    kind: str
    path: str


def configure(db: Database, sink: AlertSink, settings: Settings) -> list[DemoDestination]:
    """One destination per team (kinds in turn), alerting every channel's live and end."""
    with db.service() as conn:
        teams = conn.execute(
            "select id, name, created_by from public.teams order by name"
        ).fetchall()
    made = []
    for n, (team_id, name, owner) in enumerate(teams):
        kind = KINDS[n % len(KINDS)]
        path = PATHS[kind].format(n=n + 1)
        claims = owner_claims(owner)
        body = DestinationCreate(kind=kind, name=f"{name} {kind}", url=SecretStr(sink.url(path)))  # type: ignore[arg-type]
        destination = service.create_destination(db, claims, team_id, body, settings)
        for event in ("live", "ended"):
            rule = RuleCreate(destination_id=destination.id, event=event)  # type: ignore[arg-type]
            service.create_rule(db, claims, team_id, rule)
        made.append(DemoDestination(name, kind, path))
    return made


def summary(db: Database, sink: AlertSink, destinations: list[DemoDestination]) -> str:
    """One line for the demo's notes: alerts written, delivered, still pending."""
    with db.service() as conn:
        row = conn.execute(
            "select count(*), count(*) filter (where status = 'delivered'),"
            " count(*) filter (where status = 'pending'),"
            " count(*) filter (where event = 'live' and status = 'delivered'),"
            " count(*) filter (where event = 'ended' and status = 'delivered')"
            " from public.alert_deliveries"
        ).fetchone()
    assert row is not None
    total, delivered, pending, live, ended = row
    kinds = ", ".join(sorted({d.kind for d in destinations}))
    return (
        f"Alerts: {delivered:,} of {total:,} delivered ({live:,} live, {ended:,} ended; "
        f"{pending:,} pending) to {len(destinations)} destinations ({kinds}) on the local "
        f"alert sink, which received {len(sink.received()):,} requests."
    )
