"""The teams API's invariants and flows through the registered functions:
tokens, bad input, owners and admins, invitations (Supabase Auth faked at
HTTP level), channel tracking against the platform sandbox, the audit log."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
import respx

import functions.http
from localdev.sandbox import Sandbox
from shared.auth import AuthError, TokenVerifier
from shared.crypto import Sealed, SecretBox
from shared.db import Database
from tests.factories import jwks
from tests.factories.attacks import ATTACKS
from tests.factories.auth_mail import INVITE_URL, OTP_URL, fake_auth_mail, supabase_user
from tests.factories.teams import make_crew
from tests.factories.tokens import ENCRYPTION_KEY, mint
from tests.factories.users import claims_for, create_user, email_of
from tests.integration.teams_support import Api, snapshot


def teams_named(database: Database, name: str) -> int:
    with database.service() as conn:
        row = conn.execute("select count(*) from public.teams where name = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


# --- tokens ------------------------------------------------------------------------------


@pytest.fixture
def attack_verifier(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real verifier on the unit attack table's project, keys and clock."""

    def install(secret: str | None) -> TokenVerifier:
        env = jwks.make_env(secret=secret)
        monkeypatch.setattr(functions.http, "get_token_verifier", lambda: env.verifier)
        return env.verifier

    return install


@pytest.mark.parametrize(("make_token", "error", "reason", "secret"), ATTACKS)
def test_every_attack_is_a_401_and_writes_nothing(
    api: Api,
    database: Database,
    attack_verifier: Any,
    make_token: Any,
    error: type[AuthError],
    reason: str,
    secret: str | None,
) -> None:
    attack_verifier(secret)
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    name = f"Attack {uuid.uuid4().hex[:8]}"
    token = make_token()

    created = api("POST", "/api/teams", token=token, body={"name": name})
    invited = api(
        "POST", f"/api/teams/{crew.team_id}/invitations", token=token,
        body={"email": "attacker@example.com", "role": "admin"},
    )  # fmt: skip

    for response in (created, invited):
        assert response.status == 401, response.body
        assert response.is_problem
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert teams_named(database, name) == 0
    assert snapshot(database, crew.team_id) == before


def test_the_attack_verifier_accepts_a_genuine_token(
    api: Api, database: Database, attack_verifier: Any
) -> None:
    """The control row: the same set-up lets a correctly signed token through."""
    attack_verifier(None)
    user = create_user(database)
    token = jwks.es256(jwks.claims(sub=str(user)))
    assert api("GET", "/api/teams", token=token).status == 200


def test_anonymous_sign_ins_cannot_create_teams(api: Api, database: Database) -> None:
    user = create_user(database)
    name = f"Anon {uuid.uuid4().hex[:8]}"
    response = api("POST", "/api/teams", token=mint(user, is_anonymous=True), body={"name": name})
    assert response.status == 403
    assert teams_named(database, name) == 0


# --- bad input ------------------------------------------------------------------------------

BAD_INPUT = [
    ("POST", "/api/teams", b'{"name": 5}', 422, "name"),
    ("POST", "/api/teams", b'{"name": "ok", "plan_id": "business"}', 422, "plan_id"),
    ("POST", "/api/teams", b'{"name": "   "}', 422, "name"),
    ("POST", "/api/teams", b"[1, 2]", 400, "JSON object"),
    ("POST", "/api/teams", b"name=x", 400, "JSON object"),
    ("POST", "/api/teams", b"\xff\xfe", 400, "JSON object"),
    ("POST", "/api/teams", b'{"name": "' + b"x" * 70_000 + b'"}', 413, "bytes"),
    ("PATCH", "/api/teams/{team}", b'{"require_mfa": "yes"}', 422, "require_mfa"),
    ("PATCH", "/api/teams/{team}", b"{}", 422, "nothing to change"),
    ("PATCH", "/api/teams/not-a-uuid", b'{"name": "x"}', 404, "team_id must be a UUID"),
    ("PATCH", "/api/teams/{team}/members/{member}", b'{"role": "god"}', 422, "role"),
    ("PATCH", "/api/teams/{team}/members/12345", b'{"role": "viewer"}', 404, "user_id"),
    ("DELETE", "/api/teams/{team}/channels/%27;drop", b"", 404, "channel_id"),
    ("POST", "/api/teams/{team}/invitations", b'{"email": "not-an-address"}', 422, "email"),
    ("POST", "/api/teams/{team}/invitations", b'{"email": "a@example.com", "role": "owner"}',
     422, "role"),
    ("POST", "/api/teams/{team}/invitations", b'{"email": "a@example.com", "token": "x"}',
     422, "token"),
    ("POST", "/api/teams/{team}/channels", b'{"platform": "mars", "channel": "x"}', 422,
     "platform"),
    ("POST", "/api/teams/{team}/channels", b'{"platform": "twitch", "channel": "a b/c?"}', 422,
     "channel"),
    ("POST", "/api/teams/{team}/channels", b'{"platform": "rumble", "channel": "x"}', 422,
     "api_key"),
    ("POST", "/api/teams/{team}/channels",
     b'{"platform": "twitch", "channel": "x", "api_key": "k"}', 422, "Rumble"),
    ("POST", "/api/invitations/accept", b'{"token": 42}', 422, "token"),
    ("POST", "/api/invitations/accept", b'{"token": "short"}', 422, "token"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "raw", "status", "mentions"), BAD_INPUT)
def test_bad_input_is_a_4xx_problem_and_writes_nothing(
    api: Api, database: Database, method: str, path: str, raw: bytes, status: int, mentions: str
) -> None:
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    path = path.format(team=crew.team_id, member=crew.member)
    response = api(method, path, crew.owner, raw=raw)
    assert response.status == status, response.body
    assert response.is_problem
    assert mentions in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


# --- owners and admins ------------------------------------------------------------------


def test_the_last_owner_can_neither_leave_nor_be_demoted(api: Api, database: Database) -> None:
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    team = f"/api/teams/{crew.team_id}"
    left = api("POST", f"{team}/leave", crew.owner)
    demoted = api("PATCH", f"{team}/members/{crew.owner}", crew.owner, body={"role": "admin"})
    removed = api("DELETE", f"{team}/members/{crew.owner}", crew.owner)
    for response in (left, demoted, removed):
        assert response.status == 409, response.body
        assert "at least one owner" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


def test_ownership_is_handed_over_then_the_old_owner_leaves(api: Api, database: Database) -> None:
    crew = make_crew(database)
    team = f"/api/teams/{crew.team_id}"
    promoted = api("PATCH", f"{team}/members/{crew.admin}", crew.owner, body={"role": "owner"})
    assert promoted.status == 200
    assert promoted.json["role"] == "owner"
    assert api("POST", f"{team}/leave", crew.owner).status == 204
    roles = {
        m["user_id"]: m["role"] for m in api("GET", f"{team}/members", crew.admin).json["data"]
    }
    assert str(crew.owner) not in roles
    assert roles[str(crew.admin)] == "owner"


@pytest.mark.parametrize(
    ("target", "change"),
    [("owner", {"role": "member"}), ("owner", None), ("member", {"role": "owner"}),
     ("member", {"role": "admin"})],
)  # fmt: skip
def test_an_admin_cannot_touch_owners_or_make_admins(
    api: Api, database: Database, target: str, change: dict[str, str] | None
) -> None:
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    path = f"/api/teams/{crew.team_id}/members/{crew.user(target)}"
    response = (
        api("DELETE", path, crew.admin)
        if change is None
        else api("PATCH", path, crew.admin, body=change)
    )
    assert response.status == 403, response.body
    assert "owner" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


def test_an_admin_cannot_remove_another_admin(api: Api, database: Database) -> None:
    crew = make_crew(database)
    with database.service() as conn:
        conn.execute(
            "update public.team_members set role = 'admin' where team_id = %s and user_id = %s",
            (crew.team_id, crew.extra),
        )
    before = snapshot(database, crew.team_id)
    response = api("DELETE", f"/api/teams/{crew.team_id}/members/{crew.extra}", crew.admin)
    assert response.status == 403
    assert snapshot(database, crew.team_id) == before


def test_switching_mfa_is_for_owners(api: Api, database: Database) -> None:
    crew = make_crew(database, require_mfa=True)
    path = f"/api/teams/{crew.team_id}"
    assert api("PATCH", path, crew.admin, aal="aal2", body={"require_mfa": False}).status == 403
    owner = api("PATCH", path, crew.owner, aal="aal2", body={"require_mfa": False})
    assert owner.status == 200
    assert owner.json["require_mfa"] is False
    switched_on = api("PATCH", path, crew.admin, body={"require_mfa": True})
    assert switched_on.status == 403, "switching it on is the owners' too"
    assert "owner" in switched_on.json["detail"]
    same = api("PATCH", path, crew.admin, body={"name": "Renamed", "require_mfa": False})
    assert same.status == 200, "restating the current rule is no change"


def test_an_admin_cannot_switch_mfa_through_the_database_either(database: Database) -> None:
    """The rule holds for a client writing the table directly (PostgREST)."""
    crew = make_crew(database, require_mfa=True)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an owner"),
        database.user(claims_for(crew.admin, aal="aal2")) as conn,
    ):
        conn.execute("update public.teams set require_mfa = false where id = %s", (crew.team_id,))
    assert snapshot(database, crew.team_id)["team"][0][1] is True


def test_a_deleted_team_is_gone_for_everyone(api: Api, database: Database) -> None:
    crew = make_crew(database)
    assert api("DELETE", f"/api/teams/{crew.team_id}", crew.owner).status == 204
    assert api("GET", f"/api/teams/{crew.team_id}", crew.member).status == 404
    assert api("DELETE", f"/api/teams/{crew.team_id}", crew.owner).status == 404


# --- invitations ----------------------------------------------------------------------------


def test_inviting_a_new_address_goes_through_supabase_admin_invite(
    api: Api, database: Database
) -> None:
    crew = make_crew(database)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INVITE_URL).mock(
            return_value=httpx.Response(200, json=supabase_user(email))
        )
        response = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.admin,
            body={"email": email, "role": "viewer"},
        )  # fmt: skip
    assert response.status == 201, response.body
    created = response.json
    assert created["delivery"] == "email"
    assert created["status"] == "pending"
    token = parse_qs(urlsplit(created["accept_url"]).query)["token"][0]
    assert len(token) >= 40

    sent = route.calls.last.request
    assert sent.headers["apikey"] == "test-service-role-key"
    assert sent.headers["authorization"] == "Bearer test-service-role-key"
    assert parse_qs(sent.url.query.decode())["redirect_to"] == [created["accept_url"]]
    payload = json.loads(sent.content)
    assert payload["email"] == email
    assert payload["data"]["team_id"] == str(crew.team_id)
    assert payload["data"]["role"] == "viewer"

    with database.service() as conn:
        row = conn.execute(
            "select token_hash, role from public.team_invitations where id = %s", (created["id"],)
        ).fetchone()
    assert row is not None
    assert bytes(row[0]) != token.encode()
    assert token not in json.dumps(
        api("GET", f"/api/teams/{crew.team_id}/invitations", crew.admin).json
    )


@pytest.mark.parametrize("has_account", [False, True])
@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503, json={"code": 503, "msg": "unavailable"}),
     httpx.Response(422, json={"code": 422, "error_code": "email_address_invalid", "msg": "bad"}),
     httpx.Response(429, json={"code": 429, "error_code": "over_email_send_rate_limit",
                               "msg": "slow down"}),
     httpx.ConnectError("refused")],
)  # fmt: skip
def test_a_failed_supabase_mail_writes_nothing_and_says_the_same(
    api: Api, database: Database, failure: Any, has_account: bool
) -> None:
    crew = make_crew(database)
    email = f"x-{uuid.uuid4().hex[:8]}@example.com"
    if has_account:
        create_user(database, email)
    before = snapshot(database, crew.team_id)
    with respx.mock(assert_all_called=False) as mock:
        for route in (mock.post(INVITE_URL), mock.post(OTP_URL)):
            if isinstance(failure, Exception):
                route.mock(side_effect=failure)
            else:
                route.mock(return_value=failure)
        response = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.owner, body={"email": email}
        )
    assert response.status == 503, response.body
    assert response.is_problem
    # Whatever Supabase said, and whichever call it was: one answer.
    assert response.json["detail"] == "Supabase Auth could not mail the invitation; try again later"
    assert snapshot(database, crew.team_id) == before


@pytest.mark.parametrize("has_account", [False, True])
def test_without_a_service_key_an_invitation_is_refused_clearly(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch, has_account: bool
) -> None:
    from shared.config import get_settings

    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
    get_settings.cache_clear()
    crew = make_crew(database)
    email = f"y-{uuid.uuid4().hex[:8]}@example.com"
    if has_account:
        create_user(database, email)
    before = snapshot(database, crew.team_id)
    response = api(
        "POST", f"/api/teams/{crew.team_id}/invitations", crew.owner, body={"email": email}
    )
    assert response.status == 503
    assert "SUPABASE_SERVICE_ROLE_KEY" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


def invite_existing(
    api: Api, database: Database, crew: Any, role: str = "member", *, inviter: str = "owner"
) -> tuple[uuid.UUID, str]:
    """Invite a fresh account (Supabase mails it a sign-in link); the invitee and the token."""
    invitee = create_user(database, f"{uuid.uuid4().hex[:10]}@example.com")
    # assert_all_mocked: any other outbound call fails the test
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mail = fake_auth_mail(mock)
        response = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.user(inviter),
            body={"email": email_of(database, invitee).upper(), "role": role},
        )  # fmt: skip
    assert response.status == 201, response.body
    assert response.json["delivery"] == "email"
    assert (mail.invite.call_count, mail.otp.call_count) == (0, 1)
    sent = mail.otp.calls.last.request
    assert parse_qs(sent.url.query.decode())["redirect_to"] == [response.json["accept_url"]]
    payload = json.loads(sent.content)
    assert payload["email"] == response.json["email"]
    assert payload["create_user"] is False, "a sign-in link never signs anybody up"
    return invitee, parse_qs(urlsplit(response.json["accept_url"]).query)["token"][0]


def test_an_address_with_an_account_gets_the_same_answer_as_one_without(
    api: Api, database: Database
) -> None:
    """No account enumeration: same status, same fields, same delivery, one mail each."""
    crew = make_crew(database)
    known = email_of(database, create_user(database, f"k-{uuid.uuid4().hex[:8]}@example.com"))
    unknown = f"u-{uuid.uuid4().hex[:8]}@example.com"
    answers = {}
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mail = fake_auth_mail(mock)
        for email in (known, unknown):
            answers[email] = api(
                "POST", f"/api/teams/{crew.team_id}/invitations", crew.admin,
                body={"email": email, "role": "viewer"},
            )  # fmt: skip
    assert mail.invite.call_count == 1
    assert mail.otp.call_count == 1

    def shape(response: Any) -> tuple[Any, ...]:
        body = response.json
        varying = {"id", "email", "accept_url", "created_at", "expires_at"}
        return (
            response.status,
            sorted(response.headers.keys()),
            sorted(body),
            {k: v for k, v in body.items() if k not in varying},
        )

    assert shape(answers[known]) == shape(answers[unknown])
    assert answers[known].json["delivery"] == "email"


def test_accepting_joins_once_with_the_invited_role(api: Api, database: Database) -> None:
    crew = make_crew(database)
    invitee, token = invite_existing(api, database, crew, role="admin")
    accepted = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    assert accepted.status == 200, accepted.body
    assert accepted.json["team"]["id"] == str(crew.team_id)
    assert accepted.json["team"]["role"] == "admin"

    again = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    assert again.status == 409
    assert "used already" in again.json["detail"]
    invitations = api("GET", f"/api/teams/{crew.team_id}/invitations", crew.owner).json["data"]
    assert [i["status"] for i in invitations] == ["accepted"]


def test_an_invitation_is_for_its_address_only(api: Api, database: Database) -> None:
    crew = make_crew(database)
    _, token = invite_existing(api, database, crew)
    before = snapshot(database, crew.team_id)
    stranger = create_user(database)
    response = api("POST", "/api/invitations/accept", stranger, body={"token": token})
    assert response.status == 403
    assert "another email address" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


def test_an_expired_invitation_is_refused_and_can_be_sent_again(
    api: Api, database: Database
) -> None:
    crew = make_crew(database)
    invitee, token = invite_existing(api, database, crew)
    with database.service() as conn:
        conn.execute(
            "update public.team_invitations set created_at = now() - interval '9 days', "
            "expires_at = now() - interval '1 day' where team_id = %s",
            (crew.team_id,),
        )
    expired = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    assert expired.status == 409
    assert "expired" in expired.json["detail"]
    listed = api("GET", f"/api/teams/{crew.team_id}/invitations", crew.owner).json["data"]
    assert [i["status"] for i in listed] == ["expired"]

    with respx.mock(assert_all_called=False) as mock:
        fake_auth_mail(mock)
        again = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.owner,
            body={"email": email_of(database, invitee)},
        )  # fmt: skip
    assert again.status == 201
    fresh = parse_qs(urlsplit(again.json["accept_url"]).query)["token"][0]
    assert api("POST", "/api/invitations/accept", invitee, body={"token": fresh}).status == 200


def test_unknown_revoked_and_duplicate_invitations(api: Api, database: Database) -> None:
    crew = make_crew(database)
    invitee, token = invite_existing(api, database, crew)
    email = email_of(database, invitee)
    team = f"/api/teams/{crew.team_id}"

    unknown = api("POST", "/api/invitations/accept", invitee, body={"token": "z" * 43})
    assert unknown.status == 404
    duplicate = api("POST", f"{team}/invitations", crew.owner, body={"email": email})
    assert duplicate.status == 409
    assert "pending invitation" in duplicate.json["detail"]
    member = api(
        "POST", f"{team}/invitations", crew.owner, body={"email": email_of(database, crew.viewer)}
    )
    assert member.status == 409
    assert "member of the team already" in member.json["detail"]

    invitation_id = api("GET", f"{team}/invitations", crew.owner).json["data"][0]["id"]
    assert api("DELETE", f"{team}/invitations/{invitation_id}", crew.admin).status == 204
    assert api("DELETE", f"{team}/invitations/{invitation_id}", crew.admin).status == 404
    revoked = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    assert revoked.status == 404


def test_an_admin_invites_members_but_not_admins(api: Api, database: Database) -> None:
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    email = email_of(database, create_user(database, f"{uuid.uuid4().hex[:8]}@example.com"))
    response = api(
        "POST", f"/api/teams/{crew.team_id}/invitations", crew.admin,
        body={"email": email, "role": "admin"},
    )  # fmt: skip
    assert response.status == 403
    assert snapshot(database, crew.team_id) == before


def test_an_invitation_dies_with_its_inviters_role(api: Api, database: Database) -> None:
    """The admin who invited is demoted before the invitee accepts: the invitation
    is dead (409), and accepting it writes nothing."""
    crew = make_crew(database)
    invitee, token = invite_existing(api, database, crew, inviter="admin")
    demoted = api(
        "PATCH", f"/api/teams/{crew.team_id}/members/{crew.admin}", crew.owner,
        body={"role": "member"},
    )  # fmt: skip
    assert demoted.status == 200, demoted.body
    before = snapshot(database, crew.team_id)
    response = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    assert response.status == 409, response.body
    assert "no longer valid" in response.json["detail"]
    assert "new invitation" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


def test_accepting_needs_a_confirmed_address(api: Api, database: Database) -> None:
    crew = make_crew(database)
    email = f"unconfirmed-{uuid.uuid4().hex[:8]}@example.com"
    invitee = create_user(database, email, confirmed=False)
    with respx.mock(assert_all_called=False) as mock:
        fake_auth_mail(mock)
        created = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.owner, body={"email": email}
        )
    token = parse_qs(urlsplit(created.json["accept_url"]).query)["token"][0]
    before = snapshot(database, crew.team_id)
    response = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    assert response.status == 403, response.body
    assert "not confirmed" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


@pytest.mark.parametrize(
    ("invited", "account", "joins"),
    [("Kate@Example.com", "\u212aate@example.com", True),  # KELVIN SIGN: the letter K
     ("jos\u00e9@example.com", "JOSE\u0301@example.com", True),  # NFD, upper case
     ("strasse@example.com", "stra\u00dfe@example.com", False),  # sharp s is not ss
     ("ilke@example.com", "\u0131lke@example.com", False),  # dotless i is not i
     ("anna@example.com", "\u0430nna@example.com", False)],  # Cyrillic a
)  # fmt: skip
def test_the_invited_address_in_another_form_joins_a_look_alike_does_not(
    api: Api, database: Database, invited: str, account: str, joins: bool
) -> None:
    crew = make_crew(database)
    local, domain = invited.split("@")
    tag = uuid.uuid4().hex[:6]
    invited = f"{local}@{tag}.{domain}"
    account = account.replace("@", f"@{tag}.")
    invitee = create_user(database, account)
    with respx.mock(assert_all_called=False) as mock:
        fake_auth_mail(mock)
        created = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.owner, body={"email": invited}
        )
    assert created.status == 201, created.body
    token = parse_qs(urlsplit(created.json["accept_url"]).query)["token"][0]
    response = api("POST", "/api/invitations/accept", invitee, body={"token": token})
    if joins:
        assert response.status == 200, response.body
    else:
        assert response.status == 403, response.body
        assert "another email address" in response.json["detail"]


def test_invitations_are_limited_per_team_per_hour(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.config import get_settings

    monkeypatch.setenv("INVITATIONS_PER_TEAM_PER_HOUR", "2")
    get_settings.cache_clear()
    crew = make_crew(database)
    team = f"/api/teams/{crew.team_id}/invitations"
    with respx.mock(assert_all_called=False) as mock:
        mail = fake_auth_mail(mock)
        sent = [
            api("POST", team, crew.user(who), body={"email": f"{who}@{crew.team_id.hex}.com"})
            for who in ("owner", "admin")
        ]
        assert [r.status for r in sent] == [201, 201]
        # Revoking one gives nothing back: the limit counts what was sent.
        assert api("DELETE", f"{team}/{sent[0].json['id']}", crew.owner).status == 204
        before = snapshot(database, crew.team_id)
        refused = api("POST", team, crew.admin, body={"email": "third@example.com"})
    assert refused.status == 429, refused.body
    assert refused.is_problem
    assert "in the last hour" in refused.json["detail"]
    assert 3500 <= int(refused.headers["retry-after"]) <= 3600
    assert mail.mails == 2, "nothing is mailed past the limit"
    assert snapshot(database, crew.team_id) == before


def test_invitations_are_limited_per_inviter_across_teams(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.config import get_settings

    monkeypatch.setenv("INVITATIONS_PER_INVITER_PER_HOUR", "1")
    get_settings.cache_clear()
    crew = make_crew(database)
    other = make_crew(database)
    with database.service() as conn:
        conn.execute(
            "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'admin')",
            (other.team_id, crew.admin),
        )
    with respx.mock(assert_all_called=False) as mock:
        fake_auth_mail(mock)
        first = api(
            "POST", f"/api/teams/{crew.team_id}/invitations", crew.admin,
            body={"email": "a1@example.com"},
        )  # fmt: skip
        second = api(
            "POST", f"/api/teams/{other.team_id}/invitations", crew.admin,
            body={"email": "a2@example.com"},
        )  # fmt: skip
        colleague = api(
            "POST", f"/api/teams/{other.team_id}/invitations", other.owner,
            body={"email": "a3@example.com"},
        )  # fmt: skip
    assert first.status == 201, first.body
    assert second.status == 429, second.body
    assert "you have sent 1 invitations" in second.json["detail"]
    assert second.headers["retry-after"].isdigit()
    assert colleague.status == 201, "the limit is the inviter's, not the team's"


# --- channels -------------------------------------------------------------------------------


def test_tracking_a_twitch_channel_by_url(
    api: Api, database: Database, teams_sandbox: Sandbox
) -> None:
    crew = make_crew(database)
    twitch = teams_sandbox.channels("twitch")[3]
    team = f"/api/teams/{crew.team_id}"
    response = api(
        "POST", f"{team}/channels", crew.member,
        body={"platform": "twitch", "channel": f"https://www.twitch.tv/{twitch['login']}"},
    )  # fmt: skip
    assert response.status == 201, response.body
    tracked = response.json
    assert tracked["platform_channel_id"] == twitch["id"]
    assert tracked["handle"] == twitch["login"]
    assert tracked["added_by"] == str(crew.member)

    again = api(
        "POST",
        f"{team}/channels",
        crew.owner,
        body={"platform": "twitch", "channel": twitch["login"]},
    )
    assert again.status == 409
    listed = api("GET", f"{team}/channels", crew.viewer).json
    assert listed["count"] == 1
    assert listed["max_channels"] == 25


def test_a_rumble_key_is_sealed_and_never_returned(
    api: Api, database: Database, teams_sandbox: Sandbox
) -> None:
    crew = make_crew(database)
    rumble = teams_sandbox.channels("rumble")[0]
    key = rumble["rumble_key"]
    team = f"/api/teams/{crew.team_id}"
    response = api(
        "POST", f"{team}/channels", crew.owner, body={"platform": "rumble", "api_key": key}
    )
    assert response.status == 201, response.body
    channel_id = uuid.UUID(response.json["channel_id"])
    listed = api("GET", f"{team}/channels", crew.owner)
    for body in (response.body, listed.body):
        assert key.encode() not in body

    with database.service() as conn:
        row = conn.execute(
            "select ciphertext, nonce, key_version from public.channel_credentials "
            "where channel_id = %s and team_id = %s",
            (channel_id, crew.team_id),
        ).fetchone()
    assert row is not None
    sealed = Sealed(bytes(row[0]), bytes(row[1]), row[2])
    assert key.encode() not in sealed.ciphertext
    from shared.config import Settings

    box = SecretBox.from_settings(Settings(credentials_encryption_key=ENCRYPTION_KEY))
    assert box.open(sealed, channel_id) == key

    # Stop tracking: the team's key goes with it.
    assert api("DELETE", f"{team}/channels/{channel_id}", crew.member).status == 204
    with database.service() as conn:
        left = conn.execute(
            "select count(*) from public.channel_credentials"
            " where channel_id = %s and team_id = %s",
            (channel_id, crew.team_id),
        ).fetchone()
    assert left == (0,)


def _keys_of(database: Database, channel_id: uuid.UUID) -> set[uuid.UUID]:
    with database.service() as conn:
        rows = conn.execute(
            "select team_id from public.channel_credentials where channel_id = %s", (channel_id,)
        ).fetchall()
    return {row[0] for row in rows}


def _polled_with(database: Database, channel_id: uuid.UUID) -> str | None:
    """The key the monitor's due-channels query hands the Rumble client, opened."""
    from shared.config import Settings
    from shared.monitor.store import due_channels

    with database.service() as conn:
        due = due_channels(conn, datetime.now(UTC), only=[channel_id])
    if not due:
        return None
    box = SecretBox.from_settings(Settings(credentials_encryption_key=ENCRYPTION_KEY))
    sealed = due[0].credential
    return None if sealed is None else box.open(sealed, channel_id)


def test_a_rumble_channel_is_tracked_only_with_a_key_of_the_teams_own(
    api: Api, database: Database, teams_sandbox: Sandbox
) -> None:
    """Team B knows the channel id team A tracks with its owner's key: neither the
    API nor a direct call lets B track it without a key; with one, B's own key is
    stored; when A stops, A's key goes and the monitor polls with B's."""
    a, b = make_crew(database), make_crew(database)
    rumble = teams_sandbox.channels("rumble")[1]
    key = rumble["rumble_key"]
    added = api(
        "POST", f"/api/teams/{a.team_id}/channels", a.member,
        body={"platform": "rumble", "api_key": key},
    )  # fmt: skip
    assert added.status == 201, added.body
    channel_id = uuid.UUID(added.json["channel_id"])

    # The attack: B's member calls the database directly with the known id.
    before = snapshot(database, b.team_id)
    with (
        database.user(claims_for(b.member)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="has not supplied one"),
    ):
        conn.execute("select public.track_team_channel(%s, %s)", (b.team_id, channel_id))
    with (
        database.user(claims_for(b.member)) as conn,
        pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="permission denied for table team_channels"
        ),
    ):
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (b.team_id, channel_id),
        )
    assert snapshot(database, b.team_id) == before
    assert _keys_of(database, channel_id) == {a.team_id}
    assert _polled_with(database, channel_id) == key

    # Through the API with the key, B tracks it with a key of its own.
    own = api(
        "POST", f"/api/teams/{b.team_id}/channels", b.owner,
        body={"platform": "rumble", "api_key": key},
    )  # fmt: skip
    assert own.status == 201, own.body
    assert uuid.UUID(own.json["channel_id"]) == channel_id
    assert _keys_of(database, channel_id) == {a.team_id, b.team_id}

    # A stops: A's key goes at once, B's stays and is the one polled with.
    assert api("DELETE", f"/api/teams/{a.team_id}/channels/{channel_id}", a.member).status == 204
    assert _keys_of(database, channel_id) == {b.team_id}
    with database.service() as conn:
        conn.execute(
            "update public.channel_credentials set ciphertext = %s, nonce = %s"
            " where channel_id = %s and team_id = %s",
            (*_sealed_pair("b-only-key", channel_id), channel_id, b.team_id),
        )
    assert _polled_with(database, channel_id) == "b-only-key"

    # B pauses: nobody polls the channel, so no key is used at all.
    with database.service() as conn:
        conn.execute(
            "update public.team_channels set paused_at = now() where team_id = %s",
            (b.team_id,),
        )
    assert _polled_with(database, channel_id) is None


def _sealed_pair(secret: str, channel_id: uuid.UUID) -> tuple[bytes, bytes]:
    from shared.config import Settings

    sealed = SecretBox.from_settings(Settings(credentials_encryption_key=ENCRYPTION_KEY)).seal(
        secret, channel_id
    )
    return sealed.ciphertext, sealed.nonce


def test_the_monitor_fails_a_credential_channel_no_tracking_team_has_a_key_for(
    database: Database,
) -> None:
    """Data the API never writes (a key removed by hand): the due query hands the
    channel over without a key, and the Rumble client fails it with a credential
    error rather than using another team's."""
    from shared.monitor.store import due_channels

    crew = make_crew(database)
    channel_id = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id, requires_credential)"
            " values (%s, 'rumble', %s, true)",
            (channel_id, f"nokey-{channel_id.hex[:8]}"),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (crew.team_id, channel_id),
        )
        due = due_channels(conn, datetime.now(UTC), only=[channel_id])
    assert [d.id for d in due] == [channel_id]
    assert due[0].credential is None


def test_a_wrong_rumble_key_or_unknown_channel_is_a_422(
    api: Api, database: Database, teams_sandbox: Sandbox
) -> None:
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    team = f"/api/teams/{crew.team_id}"
    wrong = api(
        "POST", f"{team}/channels", crew.owner, body={"platform": "rumble", "api_key": "nope" * 8}
    )
    unknown = api(
        "POST", f"{team}/channels", crew.owner,
        body={"platform": "twitch", "channel": f"nobody{uuid.uuid4().hex[:10]}"},
    )  # fmt: skip
    assert wrong.status == 422, wrong.body
    assert "Rumble" in wrong.json["detail"]
    assert unknown.status == 422, unknown.body
    assert "no channel" in unknown.json["detail"]
    assert snapshot(database, crew.team_id) == before


def test_the_plan_limit_is_enforced(api: Api, database: Database, teams_sandbox: Sandbox) -> None:
    crew = make_crew(database, plan="free")
    team = f"/api/teams/{crew.team_id}"
    logins = [c["login"] for c in teams_sandbox.channels("twitch")[10:14]]
    for login in logins[:3]:
        added = api(
            "POST", f"{team}/channels", crew.owner, body={"platform": "twitch", "channel": login}
        )
        assert added.status == 201, added.body
    before = snapshot(database, crew.team_id)
    full = api(
        "POST", f"{team}/channels", crew.owner, body={"platform": "twitch", "channel": logins[3]}
    )
    assert full.status == 409
    assert "at most 3 channels" in full.json["detail"]
    assert snapshot(database, crew.team_id) == before


def test_a_platform_outage_is_a_503_and_writes_nothing(
    api: Api, database: Database, teams_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.config import get_settings
    from shared.monitor.service import default_fetchers
    from shared.teams.channels import default_resolvers

    monkeypatch.setenv("PLATFORM_MAX_ATTEMPTS", "1")
    for cache in (get_settings, default_fetchers, default_resolvers):
        cache.cache_clear()
    teams_sandbox.set_faults(twitch={"error_rate": 1.0})
    crew = make_crew(database)
    before = snapshot(database, crew.team_id)
    login = teams_sandbox.channels("twitch")[20]["login"]
    response = api("POST", f"/api/teams/{crew.team_id}/channels", crew.owner,
                   body={"platform": "twitch", "channel": login})  # fmt: skip
    assert response.status == 503, response.body
    assert "Twitch" in response.json["detail"]
    assert snapshot(database, crew.team_id) == before


# --- audit log ------------------------------------------------------------------------------


def test_changes_are_audited_and_readable_by_owners_and_admins_only(
    api: Api, database: Database, teams_sandbox: Sandbox
) -> None:
    crew = make_crew(database)
    team = f"/api/teams/{crew.team_id}"
    invitee, token = invite_existing(api, database, crew)
    api("POST", "/api/invitations/accept", invitee, body={"token": token})
    api("PATCH", f"{team}/members/{crew.extra}", crew.admin, body={"role": "viewer"})
    api("DELETE", f"{team}/members/{crew.extra}", crew.admin)
    login = teams_sandbox.channels("twitch")[30]["login"]
    channel = api(
        "POST", f"{team}/channels", crew.member, body={"platform": "twitch", "channel": login}
    )
    api("DELETE", f"{team}/channels/{channel.json['channel_id']}", crew.member)
    api("POST", f"{team}/leave", crew.viewer)

    def visible_to(user: uuid.UUID) -> list[tuple[str, str | None]]:
        with database.user(claims_for(user)) as conn:
            return [
                (r[0], str(r[1]) if r[1] else None)
                for r in conn.execute(
                    "select action, actor_id from public.audit_log where team_id = %s order by id",
                    (crew.team_id,),
                ).fetchall()
            ]

    trail = visible_to(crew.owner)
    assert ("team_invitations.insert", str(crew.owner)) in trail
    assert ("team_members.insert", str(invitee)) in trail
    assert ("team_invitations.update", str(invitee)) in trail
    assert ("team_members.update", str(crew.admin)) in trail
    assert ("team_members.delete", str(crew.admin)) in trail
    assert ("team_channels.insert", str(crew.member)) in trail
    assert ("team_channels.delete", str(crew.member)) in trail
    assert ("team_members.delete", str(crew.viewer)) in trail
    assert visible_to(crew.admin) == trail
    assert visible_to(crew.member) == []
    assert visible_to(crew.outsider) == []
    with database.service() as conn:
        details = conn.execute(
            "select details::text from public.audit_log where team_id = %s", (crew.team_id,)
        ).fetchall()
    assert all(token not in d[0] for d in details)


def test_expiry_is_from_settings(api: Api, database: Database) -> None:
    crew = make_crew(database)
    _, _token = invite_existing(api, database, crew)
    listed = api("GET", f"/api/teams/{crew.team_id}/invitations", crew.owner).json["data"][0]
    expires = datetime.fromisoformat(listed["expires_at"])
    assert timedelta(hours=167) < expires - datetime.now(UTC) <= timedelta(hours=168)
