"""Schemathesis over `/api/openapi.json`, against the real app on the local host.

Every operation the document lists gets valid and invalid requests (the
coverage phase's boundary and negative cases, then fuzzing of both kinds), and
every answer must be a documented status with a body matching the document;
no request may get a 5xx. The platforms are the localdev sandbox, and Supabase
Auth's mail endpoints, Supabase Storage and Stripe are faked at the HTTP
boundary, so a 503 would be a bug too.

Random UUIDs in the path only ever reach the "not found" branch, so most cases
are pointed at real resources instead: each such case gets a fresh team of
its own (the caller its owner, an admin or a viewer), with a second member, a
pending invitation and a tracked channel, so destructive operations (delete
the team, remove the member...) cannot spoil the cases that come after them.
Valid bodies for tracking a channel name real sandbox channels, valid tokens
for accepting an invitation are real ones, sent by the invitee, and valid
exports ask for a range the export takes.

`STREAMTRACK_FUZZ_EXAMPLES` and `STREAMTRACK_FUZZ_SEED` make a deeper or
different run locally; the default is bounded and reproducible.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
import schemathesis
from azure.functions.decorators.function_app import Function
from httpx import Response
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation

from functions.openapi import OPERATIONS, openapi_document
from localdev.alertsink import AlertSink
from localdev.host.localhost import LocalHost
from localdev.sandbox import Sandbox
from shared.alerts.targets import Target, seal_target
from shared.auth import get_token_verifier
from shared.billing.stripe_client import get_gateway
from shared.config import get_settings
from shared.crypto import SecretBox
from shared.db import Database, reset_database
from shared.monitor.service import default_fetchers
from shared.teams.channels import default_resolvers
from tests.factories.auth_mail import fake_auth_mail
from tests.factories.tokens import ENCRYPTION_KEY, SUPABASE_URL, mint
from tests.factories.users import create_user
from tests.integration.teams_support import api_env
from tests.stripe_fake import PRICE_BUSINESS, PRICE_PRO, WEBHOOK_SECRET, FakeStripe

STORAGE = re.escape(f"{SUPABASE_URL}/storage/v1")
MAX_EXAMPLES = int(os.environ.get("STREAMTRACK_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("STREAMTRACK_FUZZ_SEED", "20261124"))


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str

    def token(self) -> str:
        return mint(self.id, self.email)


@dataclass(frozen=True)
class World:
    """Real resources for one case: ids to put in the path, a token to accept with."""

    team_id: uuid.UUID
    member_id: uuid.UUID
    invitation_id: uuid.UUID
    invitation_token: str
    channel_id: uuid.UUID
    destination_id: uuid.UUID
    rule_id: uuid.UUID


@dataclass
class Hosted:
    """The app on the local host, and the people the cases act as."""

    base_url: str
    database: Database
    caller: User
    member: User
    invitee: User
    sandbox_channels: list[dict[str, Any]]
    alert_sink: AlertSink

    def sandbox_channel(self, body: object) -> dict[str, str]:
        """A body that names a real sandbox channel on the generated body's platform."""
        platform = body.get("platform") if isinstance(body, dict) else None
        mine = [c for c in self.sandbox_channels if c["platform"] == platform] or [
            c for c in self.sandbox_channels if c["platform"] == "twitch"
        ]
        channel = mine[zlib.crc32(json.dumps(body, sort_keys=True).encode()) % len(mine)]
        if channel["platform"] == "rumble":
            return {"platform": "rumble", "api_key": channel["rumble_key"]}
        return {
            "platform": channel["platform"],
            "channel": channel.get("login") or channel["handle"],
        }

    def world(self, caller_role: str, plan: str = "free") -> World:
        """A fresh team where the caller has `caller_role` (the member user owns it
        otherwise), with a pending invitation and a tracked channel; written on the
        service side, as fast as a test needs it."""
        token = secrets.token_urlsafe(32)
        with self.database.service() as conn:
            owner = self.caller.id if caller_role == "owner" else self.member.id
            row = conn.execute(
                "insert into public.teams (name, created_by, plan_id) values (%s, %s, %s)"
                " returning id",
                (f"Fuzz {uuid.uuid4().hex[:8]}", owner, plan),
            ).fetchone()
            assert row is not None
            team_id = row[0]
            other, other_role = (
                (self.member.id, "member")
                if caller_role == "owner"
                else (self.caller.id, caller_role)
            )
            conn.execute(
                "insert into public.team_members (team_id, user_id, role) values (%s, %s, %s)",
                (team_id, other, other_role),
            )
            row = conn.execute(
                "insert into public.team_invitations (team_id, email, role, token_hash, invited_by)"
                " values (%s, %s, 'member', %s, %s) returning id",
                (team_id, self.invitee.email, hashlib.sha256(token.encode()).digest(), owner),
            ).fetchone()
            assert row is not None
            invitation_id = row[0]
            row = conn.execute(
                "insert into public.channels (platform, platform_channel_id, handle)"
                " values ('twitch', %s, 'fuzz') returning id",
                (uuid.uuid4().hex,),
            ).fetchone()
            assert row is not None
            channel_id = row[0]
            conn.execute(
                "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
                (team_id, channel_id),
            )
            # An alert destination on the local sink (as the API would seal it), a rule.
            destination_id = uuid.uuid4()
            box = SecretBox(base64.b64decode(ENCRYPTION_KEY))
            url = self.alert_sink.url("/api/webhooks/1/fuzz")
            sealed = seal_target(box, destination_id, Target(url))
            conn.execute(
                "insert into public.alert_destinations (id, team_id, kind, name, target_host)"
                " values (%s, %s, 'discord', 'fuzz', '127.0.0.1')",
                (destination_id, team_id),
            )
            conn.execute(
                "insert into public.alert_destination_secrets"
                " (destination_id, ciphertext, nonce, key_version) values (%s, %s, %s, %s)",
                (destination_id, sealed.ciphertext, sealed.nonce, sealed.key_version),
            )
            row = conn.execute(
                "insert into public.alert_rules (team_id, destination_id, event)"
                " values (%s, %s, 'live') returning id",
                (team_id, destination_id),
            ).fetchone()
            assert row is not None
            rule_id = row[0]
        # The other person in the team: the member the owner manages, or the owner.
        return World(team_id, self.member.id, invitation_id, token, channel_id, destination_id,
                     rule_id)  # fmt: skip


def _user(database: Database) -> User:
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.test"
    return User(create_user(database, email), email)


@pytest.fixture(scope="module")
def hosted(
    database: Database,
    database_url: str,
    app_functions: dict[str, Function],
    teams_sandbox: Sandbox,
) -> Iterator[Hosted]:
    teams_sandbox.set_faults(reset=True)
    with pytest.MonkeyPatch.context() as mp, respx.mock(assert_all_called=False) as boundary:
        env = {
            **teams_sandbox.settings_env(),
            **api_env(),
            "DATABASE_URL": database_url,
            "STRIPE_SECRET_KEY": "sk_test_schemathesis0123456789",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_PRICE_PRO": PRICE_PRO,
            "STRIPE_PRICE_BUSINESS": PRICE_BUSINESS,
            "ALERTS_ALLOW_LOOPBACK": "true",  # the alert sink below
            # Push callbacks verify with these (unset, they answer 503).
            "TWITCH_EVENTSUB_SECRET": "schemathesis-eventsub-secret",
            "YOUTUBE_WEBSUB_SECRET": "schemathesis-websub-secret",
            # One caller sends every generated invitation: limits are another test's.
            "INVITATIONS_PER_TEAM_PER_HOUR": "10000",
            "INVITATIONS_PER_INVITER_PER_HOUR": "10000",
        }
        for name, value in env.items():
            mp.setenv(name, value)
        # Supabase Auth's invite and sign-in link endpoints (their documented answers).
        fake_auth_mail(boundary)
        FakeStripe(boundary)
        boundary.post(url__regex=rf"^{STORAGE}/object/exports/(?P<path>.+)").mock(
            side_effect=_uploaded
        )
        boundary.post(url__regex=rf"^{STORAGE}/object/sign/exports/(?P<path>.+)").mock(
            side_effect=_signed
        )
        boundary.route().pass_through()  # the sandbox, and the host itself
        _clear_caches()
        try:
            with (
                LocalHost(list(app_functions.values()), port=0, timers=False, queues=False) as host,
                AlertSink() as alert_sink,
            ):
                yield Hosted(
                    base_url=host.base_url,
                    database=database,
                    caller=_user(database),
                    member=_user(database),
                    invitee=_user(database),
                    sandbox_channels=teams_sandbox.channels(),
                    alert_sink=alert_sink,
                )
        finally:
            _clear_caches()


def _clear_caches() -> None:
    get_settings.cache_clear()
    get_gateway.cache_clear()
    get_token_verifier.cache_clear()
    default_resolvers.cache_clear()
    default_fetchers.cache_clear()
    reset_database()


def _uploaded(request: Any, path: str) -> Response:
    return Response(200, json={"Key": f"exports/{path}", "Id": str(uuid.uuid4())})


def _signed(request: Any, path: str) -> Response:
    # Supabase Storage answers the signed URL relative to /storage/v1.
    return Response(200, json={"signedURL": f"/object/sign/exports/{path}?token=signed"})


# Push callbacks (issue 14): signed like the Stripe webhook, so never a valid case.
PUSH_OPERATIONS = tuple(op.operation_id for op in OPERATIONS if op.path.startswith("/api/push/"))

# The document the host serves (a test below checks they are the same), loaded at
# collection so that each operation is a test of its own.
schema = schemathesis.openapi.from_dict(
    openapi_document(),
    config=SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                # 422 is also the documented answer to a request the schema cannot judge:
                # a channel its platform does not know, a Rumble channel without its key,
                # an update that changes nothing.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                },
            },
            "operations": [
                {
                    # What makes a delivery valid is its signature over the raw body,
                    # which the schema cannot say: every generated one must get a 400.
                    "include-operation-id": operation_id,
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                }
                for operation_id in ("stripeWebhook", *PUSH_OPERATIONS)
            ],
        }
    ),
)


def test_the_host_serves_the_tested_document(hosted: Hosted) -> None:
    served = httpx.get(f"{hosted.base_url}/api/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == openapi_document()


@pytest.mark.parametrize(
    ("path", "field"), [("/api/teams", "name"), ("/api/invitations/accept", "token")]
)
def test_nul_in_a_string_is_a_422_not_a_500(hosted: Hosted, path: str, field: str) -> None:
    # Found by this run: PostgreSQL text cannot hold NUL, and the driver's error was a 500.
    marker = f"nul-{uuid.uuid4().hex}"
    response = httpx.post(
        f"{hosted.base_url}{path}",
        json={field: f"{marker}\u0000"},
        headers={"Authorization": f"Bearer {hosted.caller.token()}"},
        timeout=10,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"{field}: String should match pattern")
    with hosted.database.service() as conn:
        row = conn.execute(
            "select count(*) from public.teams where name like %s", (f"{marker}%",)
        ).fetchone()
    assert row == (0,)


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case: Case, hosted: Hosted) -> None:
    caller = hosted.caller
    choice = _choice(case)
    if choice:
        # Viewers' teams are on the free plan, the others on Pro (CSV export...).
        world = hosted.world(ROLES[choice], "free" if choice == 1 else "pro")
        if case.path_parameters:
            real = {
                "team_id": world.team_id,
                "user_id": world.member_id,
                "invitation_id": world.invitation_id,
                "channel_id": world.channel_id,
                "destination_id": world.destination_id,
                "rule_id": world.rule_id,
            }
            # Ids this world has none of (a directory mapping, a sync run): a random one, 404.
            case.path_parameters = {
                name: str(real.get(name) or uuid.uuid4()) for name in case.path_parameters
            }
        if case.operation.label == "POST /api/invitations/accept":
            case.body = {"token": world.invitation_token}
            caller = hosted.invitee
        elif case.operation.label == "POST /api/teams/{team_id}/channels" and _positive(case):
            case.body = hosted.sandbox_channel(case.body)
        elif case.operation.label == "GET /api/teams/{team_id}/exports" and _positive(case):
            # Random instants are rarely a range the export takes (from before to, a
            # bounded span).
            case.query = {"from": "2026-10-01", "to": "2026-10-03", "format": "csv"}
    # A case generated without (or with a broken) Authorization keeps it that way.
    auth = (
        {}
        if _negative(case, ParameterLocation.HEADER)
        else {"Authorization": f"Bearer {caller.token()}"}
    )
    case.call_and_validate(base_url=hosted.base_url, headers=auth)


ROLES = {1: "viewer", 2: "admin", 3: "owner"}


def _positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _negative(case: Case, location: ParameterLocation) -> bool:
    component = case.meta.components.get(location) if case.meta else None
    return component is not None and component.mode.is_negative


def _choice(case: Case) -> int:
    """Where the case points, derived from what was generated, so it is reproducible:
    0: at the generated ids (or nowhere real); else at a fresh team where the caller
    has the role `ROLES[choice]`."""
    params = case.path_parameters or {}
    if params:
        if _negative(case, ParameterLocation.PATH):
            return 0  # an id that is not even a UUID: it must stay in the request
    elif case.operation.label != "POST /api/invitations/accept" or not _positive(case):
        return 0
    body = None if isinstance(case.body, NotSet) else case.body
    generated = json.dumps([params, body], sort_keys=True, default=repr)
    return zlib.crc32(generated.encode()) % 4


# Deeply nested JSON, which generated cases never reach: it was a RecursionError (500).
NESTED = {
    "unterminated": b"[" * 60_000,
    "deep-array": b'{"name": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    "past-the-model-parser": b'{"name": ' + b"[" * 500 + b"]" * 500 + b"}",
}


@pytest.mark.parametrize("body", list(NESTED.values()), ids=list(NESTED))
def test_deeply_nested_bodies_get_a_documented_4xx_problem(hosted: Hosted, body: bytes) -> None:
    world = hosted.world("owner", "pro")
    ids = {
        "team_id": world.team_id,
        "user_id": world.member_id,
        "invitation_id": world.invitation_id,
        "channel_id": world.channel_id,
        "mapping_id": uuid.uuid4(),
        "run_id": uuid.uuid4(),
        "destination_id": uuid.uuid4(),
        "rule_id": uuid.uuid4(),
    }
    headers = {
        "Authorization": f"Bearer {hosted.caller.token()}",
        "Content-Type": "application/json",
    }
    checked = 0
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "patch", "put"):
                continue
            url = hosted.base_url + path.format(**{k: str(v) for k, v in ids.items()})
            response = httpx.request(method, url, content=body, headers=headers, timeout=10)
            label = f"{method.upper()} {path}"
            assert 400 <= response.status_code < 500, (label, response.status_code)
            assert str(response.status_code) in operation["responses"], label
            assert response.headers["content-type"] == "application/problem+json", label
            checked += 1
    assert checked >= 8  # every operation that takes a body, the webhook included
