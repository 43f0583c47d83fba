"""Where push meets the other features on main: refused deliveries are counted in the
webhook verification metric, push subscription health is part of `/api/health`, and
the subscription timer treats connected broadcasters as cost-free."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import azure.functions as func
from azure.functions.decorators.function_app import Function
from pydantic import SecretStr

from functions import push as push_functions
from shared.config import Settings
from shared.db import Database
from shared.health import HealthContext
from shared.platforms.push import BadSignature, StaleMessage
from shared.push.health import health_check
from shared.push.receive import receive
from tests.factories import push as signed
from tests.factories.teams import make_team
from tests.factories.telemetry import recording
from tests.integration.push_support import channel, unique_pcid
from tests.unit.platforms.support import fixture_bytes

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ONLINE = fixture_bytes("twitch", "eventsub_stream_online.json")


def _settings(**values: object) -> Settings:
    base: dict[str, object] = {
        "twitch_eventsub_secret": SecretStr(signed.EVENTSUB_SECRET),
        "youtube_websub_secret": SecretStr(signed.WEBSUB_SECRET),
        "kick_webhook_public_key": signed.kick_public_pem(0),
    }
    return Settings(**(base | values))  # type: ignore[arg-type]


def _context(settings: Settings) -> HealthContext:
    return HealthContext(settings=settings, now=datetime.now(UTC), deadline=time.monotonic() + 1.5)


def test_refused_deliveries_are_counted_by_reason(database: Database) -> None:
    forged = signed.eventsub(ONLINE, at=T0, message_id=f"m-{uuid.uuid4()}", secret="not-ours-0123")
    stale = signed.eventsub(ONLINE, at=T0, message_id=f"m-{uuid.uuid4()}")
    with recording() as rec:
        late = T0 + timedelta(minutes=11)  # past the 10-minute replay window
        for request, now, error in ((forged, T0, BadSignature), (stale, late, StaleMessage)):
            try:
                receive(database, "twitch", request, _settings(), now)
            except error:
                pass
            else:
                raise AssertionError(f"{error.__name__} expected")
    metric = "streamtrack.webhook.verification_failures"
    assert rec.total(metric, source="twitch-push", reason="bad_signature") == 1
    assert rec.total(metric, source="twitch-push", reason="stale_message") == 1


def test_health_reports_push_and_stays_200(
    app_env: None, app_functions: dict[str, Function]
) -> None:
    fn = app_functions["health"].get_user_function()
    response = fn(func.HttpRequest("GET", "/api/health", body=b""))
    body = json.loads(response.get_body())
    assert response.status_code == 200
    assert "push" in body["checks"]
    # Push trouble never makes the instance unhealthy: the monitor polls instead.
    assert body["checks"]["push"]["status"] in ("ok", "degraded", "unknown")


def test_configured_push_without_subscriptions_is_degraded(database: Database) -> None:
    settings = _settings(
        push_callback_base_url="https://streamtrack.example",
        twitch_client_id="id",
        twitch_client_secret=SecretStr("secret"),
    )
    context = HealthContext(
        settings=settings, now=datetime.now(UTC), deadline=time.monotonic() + 1.5
    )
    with database.service() as conn:
        conn.execute("delete from public.push_subscriptions where platform = 'twitch'")
    verdict = health_check(context, database)
    assert verdict.status == "degraded"
    assert "twitch" in (verdict.detail or "")
    assert verdict.facts["twitch_enabled"] == 0


def test_no_push_configured_is_ok(database: Database) -> None:
    context = HealthContext(
        settings=Settings(), now=datetime.now(UTC), deadline=time.monotonic() + 1.5
    )
    assert health_check(context, database).status == "ok"


def test_the_subscription_timer_treats_connected_broadcasters_as_cost_free(
    database: Database, app_env: None
) -> None:
    team_id = make_team(database)
    pcid = unique_pcid()
    cid = channel(database, team_id, "twitch", pcid)
    assert pcid not in push_functions._connected_broadcasters("twitch")
    with database.service() as conn:
        conn.execute(
            "insert into public.channel_connections (team_id, channel_id, platform, account_id,"
            " scopes) values (%s, %s, 'twitch', %s, %s)",
            (team_id, cid, pcid, ["channel:bot", "moderator:read:followers"]),
        )
    assert pcid in push_functions._connected_broadcasters("twitch")
