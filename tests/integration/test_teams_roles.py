"""Every teams endpoint x every role: allowed or refused as the rules say, and a
refusal leaves the database exactly as it was. Also the team MFA rule (aal1
vs aal2) for every write."""

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import respx

from localdev.sandbox import Sandbox
from shared.db import Database
from tests.factories.auth_mail import fake_auth_mail
from tests.factories.teams import Crew, make_crew
from tests.factories.users import create_user, email_of
from tests.integration.teams_support import Api, snapshot

ROLES = ("owner", "admin", "member", "viewer", "outsider")


@pytest.fixture(autouse=True)
def auth_mail() -> Iterator[None]:
    """Supabase Auth's mail endpoints faked (an invitation mails its invitee); every
    other request (the platform sandbox) goes through."""
    with respx.mock(assert_all_called=False) as mock:
        fake_auth_mail(mock)
        mock.route().pass_through()
        yield


@dataclass
class Case:
    """One operation: how to call it on a prepared team, who may, what it answers."""

    method: str
    path: str
    allowed: tuple[str, ...]
    ok: int
    body: Callable[["Prepared"], Any] | None = None
    mfa: bool = True
    """Needs aal2 on a team that requires MFA."""
    denied: int = 403


@dataclass
class Prepared:
    crew: Crew
    invitation_id: uuid.UUID
    channel_id: uuid.UUID
    new_channel: str
    invitee_email: str


CASES: dict[str, Case] = {
    "get team": Case("GET", "/api/teams/{team}", ROLES[:4], 200, mfa=False),
    "rename team": Case("PATCH", "/api/teams/{team}", ("owner", "admin"), 200,
                        body=lambda p: {"name": "Renamed"}),
    "delete team": Case("DELETE", "/api/teams/{team}", ("owner",), 204),
    "list members": Case("GET", "/api/teams/{team}/members", ROLES[:4], 200, mfa=False),
    "change a role": Case("PATCH", "/api/teams/{team}/members/{extra}", ("owner", "admin"), 200,
                          body=lambda p: {"role": "viewer"}),
    "remove a member": Case("DELETE", "/api/teams/{team}/members/{extra}", ("owner", "admin"), 204),
    "leave": Case("POST", "/api/teams/{team}/leave", ("admin", "member", "viewer"), 204,
                  mfa=False),
    "invite": Case("POST", "/api/teams/{team}/invitations", ("owner", "admin"), 201,
                   body=lambda p: {"email": p.invitee_email, "role": "member"}),
    "list invitations": Case("GET", "/api/teams/{team}/invitations", ("owner", "admin"), 200,
                             mfa=False),
    "revoke an invitation": Case("DELETE", "/api/teams/{team}/invitations/{invitation}",
                                 ("owner", "admin"), 204),
    "track a channel": Case("POST", "/api/teams/{team}/channels", ("owner", "admin", "member"),
                            201, body=lambda p: {"platform": "twitch", "channel": p.new_channel}),
    "list channels": Case("GET", "/api/teams/{team}/channels", ROLES[:4], 200, mfa=False),
    "untrack a channel": Case("DELETE", "/api/teams/{team}/channels/{channel}",
                              ("owner", "admin", "member"), 204),
}  # fmt: skip


def prepare(database: Database, sandbox: Sandbox, *, require_mfa: bool = False) -> Prepared:
    crew = make_crew(database, require_mfa=require_mfa)
    invitation_id, channel_id = uuid.uuid4(), uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.team_invitations (id, team_id, email, role, token_hash, invited_by)"
            " values (%s, %s, %s, 'viewer', %s, %s)",
            (invitation_id, crew.team_id, f"pending-{invitation_id.hex[:8]}@example.test",
             hashlib.sha256(invitation_id.bytes).digest(), crew.owner),
        )  # fmt: skip
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id) "
            "values (%s, 'twitch', %s)",
            (channel_id, f"roles-{channel_id.hex}"),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (crew.team_id, channel_id),
        )
    twitch = sandbox.channels("twitch")
    return Prepared(
        crew=crew,
        invitation_id=invitation_id,
        channel_id=channel_id,
        new_channel=twitch[uuid.uuid4().int % len(twitch)]["login"],
        invitee_email=email_of(
            database, create_user(database, f"{uuid.uuid4().hex[:10]}@example.com")
        ),
    )


def call(api: Api, case: Case, prepared: Prepared, role: str, aal: str = "aal1") -> Any:
    crew = prepared.crew
    path = case.path.format(
        team=crew.team_id, extra=crew.extra, invitation=prepared.invitation_id,
        channel=prepared.channel_id,
    )  # fmt: skip
    body = case.body(prepared) if case.body else None
    return api(case.method, path, crew.user(role), body=body, aal=aal)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_role_matrix(
    api: Api, database: Database, teams_sandbox: Sandbox, name: str, role: str
) -> None:
    case = CASES[name]
    prepared = prepare(database, teams_sandbox)
    before = snapshot(database, prepared.crew.team_id)

    response = call(api, case, prepared, role)

    if role in case.allowed:
        assert response.status == case.ok, response.body
        if case.method != "GET":
            assert snapshot(database, prepared.crew.team_id) != before
    else:
        expected = 404 if role == "outsider" else case.denied
        if name == "leave" and role == "owner":
            expected = 409  # the last owner cannot leave
        assert response.status == expected, response.body
        assert response.is_problem
        assert response.json["detail"]
        assert snapshot(database, prepared.crew.team_id) == before


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.method != "GET"))
def test_mfa_rule(api: Api, database: Database, teams_sandbox: Sandbox, name: str) -> None:
    """On a team that requires MFA, writes need aal2 (leaving excepted); at aal2
    they succeed for the same user."""
    case = CASES[name]
    role = "admin" if name == "leave" else case.allowed[0]
    prepared = prepare(database, teams_sandbox, require_mfa=True)
    before = snapshot(database, prepared.crew.team_id)

    at_aal1 = call(api, case, prepared, role, aal="aal1")
    if not case.mfa:
        assert at_aal1.status == case.ok, at_aal1.body
        return
    assert at_aal1.status == 403, at_aal1.body
    assert "multi-factor" in at_aal1.json["detail"]
    assert snapshot(database, prepared.crew.team_id) == before

    at_aal2 = call(api, case, prepared, role, aal="aal2")
    assert at_aal2.status == case.ok, at_aal2.body


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.method == "GET"))
def test_reads_need_no_mfa(api: Api, database: Database, teams_sandbox: Sandbox, name: str) -> None:
    prepared = prepare(database, teams_sandbox, require_mfa=True)
    assert call(api, CASES[name], prepared, "owner", aal="aal1").status == 200
