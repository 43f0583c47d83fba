"""Every alerts endpoint x every role: allowed or refused as the rules say, and a
refusal leaves the database as it was. Also the team MFA rule for every write."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localdev.alertsink import AlertSink
from shared.config import get_settings
from shared.db import Database
from tests.factories.alerts import (
    AlertTeam,
    add_destination,
    add_rule,
    alert_settings,
    alert_snapshot,
    make_channel,
)
from tests.factories.teams import make_crew
from tests.integration.teams_support import Api

ROLES = ("owner", "admin", "member", "viewer", "outsider")
BASE = "/api/teams/{team}/alerts"


@pytest.fixture(scope="module")
def sink() -> Iterator[AlertSink]:
    with AlertSink() as running:
        yield running


@pytest.fixture
def alerts_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("ALERTS_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    return api


@dataclass
class Case:
    method: str
    path: str
    allowed: tuple[str, ...]
    ok: int
    body: Callable[["Prepared"], Any] | None = None
    mfa: bool = True
    changes: bool = True
    """An allowed call changes the team's alert configuration."""


@dataclass
class Prepared:
    team: AlertTeam
    sink: AlertSink

    @property
    def destination(self) -> uuid.UUID:
        return self.team.destinations["discord"]


CASES: dict[str, Case] = {
    "list destinations": Case("GET", BASE + "/destinations", ROLES[:4], 200, mfa=False,
                              changes=False),
    "add a destination": Case("POST", BASE + "/destinations", ("owner", "admin"), 201,
                              body=lambda p: {"kind": "slack", "name": "New",
                                              "url": p.sink.url("/services/T1/B2/c3")}),
    "rename a destination": Case("PATCH", BASE + "/destinations/{destination}",
                                 ("owner", "admin"), 200, body=lambda p: {"name": "Renamed"}),
    "delete a destination": Case("DELETE", BASE + "/destinations/{destination}",
                                 ("owner", "admin"), 204),
    "test a destination": Case("POST", BASE + "/destinations/{destination}/test",
                               ("owner", "admin"), 200, mfa=False, changes=False),
    "list rules": Case("GET", BASE + "/rules", ROLES[:4], 200, mfa=False, changes=False),
    "add a rule": Case("POST", BASE + "/rules", ("owner", "admin"), 201,
                       body=lambda p: {"destination_id": str(p.destination), "event": "ended"}),
    "change a rule": Case("PATCH", BASE + "/rules/{rule}", ("owner", "admin"), 200,
                          body=lambda p: {"enabled": False}),
    "delete a rule": Case("DELETE", BASE + "/rules/{rule}", ("owner", "admin"), 204),
    "list deliveries": Case("GET", BASE + "/deliveries", ROLES[:4], 200, mfa=False,
                            changes=False),
}  # fmt: skip


def prepare(database: Database, sink: AlertSink, *, require_mfa: bool = False) -> Prepared:
    crew = make_crew(database, require_mfa=require_mfa)
    team = AlertTeam(crew, [make_channel(database, crew.team_id)])
    add_destination(database, team, sink, "discord", alert_settings())
    team.rule = add_rule(database, team, "discord", "live")  # type: ignore[attr-defined]
    return Prepared(team, sink)


def call(api: Api, case: Case, prepared: Prepared, role: str, aal: str = "aal1") -> Any:
    crew = prepared.team.crew
    path = case.path.format(team=crew.team_id, destination=prepared.destination,
                            rule=prepared.team.rule)  # type: ignore[attr-defined]  # fmt: skip
    body = case.body(prepared) if case.body else None
    return api(case.method, path, crew.user(role), body=body, aal=aal)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_role_matrix(
    alerts_api: Api, database: Database, sink: AlertSink, name: str, role: str
) -> None:
    case = CASES[name]
    prepared = prepare(database, sink)
    before = alert_snapshot(database, prepared.team.crew.team_id)

    response = call(alerts_api, case, prepared, role)

    after = alert_snapshot(database, prepared.team.crew.team_id)
    if role in case.allowed:
        assert response.status == case.ok, response.body
        assert (after != before) is case.changes
    else:
        assert response.status == (404 if role == "outsider" else 403), response.body
        assert response.is_problem
        assert response.json["detail"]
        assert after == before


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.method != "GET"))
def test_mfa_rule(alerts_api: Api, database: Database, sink: AlertSink, name: str) -> None:
    case = CASES[name]
    prepared = prepare(database, sink, require_mfa=True)
    before = alert_snapshot(database, prepared.team.crew.team_id)

    at_aal1 = call(alerts_api, case, prepared, "admin", aal="aal1")
    if not case.mfa:
        assert at_aal1.status == case.ok, at_aal1.body
        return
    assert at_aal1.status == 403, at_aal1.body
    assert "multi-factor" in at_aal1.json["detail"]
    assert alert_snapshot(database, prepared.team.crew.team_id) == before

    at_aal2 = call(alerts_api, case, prepared, "admin", aal="aal2")
    assert at_aal2.status == case.ok, at_aal2.body
