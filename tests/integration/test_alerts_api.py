"""The alerts API end to end: destinations (secrets never shown, unsafe URLs
refused), rules, the test message, and an alert from a monitor cycle to a signed
webhook verified by the README's own snippet."""

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.alertsink import AlertSink
from shared.config import get_settings
from shared.db import Database
from tests.factories.alerts import deliverer, settle_outbox
from tests.factories.monitor import T0, cycle, live
from tests.factories.teams import make_crew
from tests.integration.teams_support import Api

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verify() -> Callable[[str, dict[str, str], bytes], Any]:
    """The `verify` function of the README's verification snippet, as documented."""
    text = README.read_text()
    block = re.search(r"<!-- alerts-verify-snippet -->\s*```python\n(.*?)```", text, re.S)
    assert block, "the README lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # our own docs
    return namespace["verify"]  # type: ignore[no-any-return]


@pytest.fixture
def sink(database: Database) -> Iterator[AlertSink]:
    settle_outbox(database)
    with AlertSink() as running:
        yield running


@pytest.fixture
def alerts_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("ALERTS_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    return api


def _team_with_channel(database: Database) -> tuple[Any, uuid.UUID]:
    crew = make_crew(database)
    channel = uuid.uuid4()
    with database.service() as conn:
        conn.execute(
            "insert into public.channels (id, platform, platform_channel_id, display_name)"
            " values (%s, 'twitch', %s, 'Api Channel')",
            (channel, f"api-{channel.hex}"),
        )
        conn.execute(
            "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
            (crew.team_id, channel),
        )
    return crew, channel


def test_a_destination_never_shows_its_secrets(
    alerts_api: Api, database: Database, sink: AlertSink
) -> None:
    crew, _ = _team_with_channel(database)
    base = f"/api/teams/{crew.team_id}/alerts/destinations"
    url = sink.url("/hooks/secret-path-1")
    created = alerts_api("POST", base, crew.owner,
                         body={"kind": "webhook", "name": "Ours", "url": url})  # fmt: skip
    assert created.status == 201, created.body
    assert created.json["signing_secret"].startswith("whsec_")
    assert created.headers["location"] == f"{base}/{created.json['id']}"
    listed = alerts_api("GET", base, crew.viewer)
    assert listed.status == 200
    assert listed.json["data"][0]["target_host"] == "127.0.0.1"
    for secret in ("secret-path-1", created.json["signing_secret"]):
        assert secret.encode() not in listed.body
    assert "signing_secret" not in listed.json["data"][0]


@pytest.mark.parametrize(
    ("kind", "url", "says"),
    [
        ("webhook", "http://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("webhook", "https://169.254.169.254/latest/meta-data", "link-local"),
        ("webhook", "https://[::ffff:192.168.0.1]/x", "private address"),
        ("webhook", "https://user:pw@example.com/x", "user name or password"),
        ("webhook", "ftp://example.com/x", "https://"),
        ("discord", "http://127.0.0.1:9/not/a/webhook", "/api/webhooks/<id>/<token>"),
        ("slack", "http://127.0.0.1:9/elsewhere", "hooks.slack.com/services"),
    ],
)
def test_unsafe_or_wrong_urls_are_refused(
    alerts_api: Api, database: Database, kind: str, url: str, says: str
) -> None:
    crew, _ = _team_with_channel(database)
    response = alerts_api("POST", f"/api/teams/{crew.team_id}/alerts/destinations", crew.admin,
                          body={"kind": kind, "name": "x", "url": url})  # fmt: skip
    assert response.status == 422, response.body
    assert response.is_problem
    assert says in response.json["detail"]


def test_rules_are_checked(alerts_api: Api, database: Database, sink: AlertSink) -> None:
    crew, channel = _team_with_channel(database)
    other, _ = _team_with_channel(database)
    base = f"/api/teams/{crew.team_id}/alerts"
    mine = {"kind": "discord", "name": "d", "url": sink.url("/api/webhooks/1/t")}
    destination = alerts_api("POST", base + "/destinations", crew.owner, body=mine).json["id"]
    foreign = alerts_api("POST", f"/api/teams/{other.team_id}/alerts/destinations", other.owner,
                         body={"kind": "discord", "name": "d",
                               "url": sink.url("/api/webhooks/2/t")}).json["id"]  # fmt: skip
    cases = [
        ({"destination_id": destination, "event": "viewers_above"}, "viewer_threshold"),
        ({"destination_id": destination, "event": "live", "viewer_threshold": 5}, "only for"),
        ({"destination_id": destination, "event": "live", "template": "{oops}"}, "{oops}"),
        ({"destination_id": destination, "event": "live", "template": "{title.x}"}, "unknown"),
        ({"destination_id": foreign, "event": "live"}, "no alert destination"),
        ({"destination_id": destination, "event": "live", "channel_id": str(uuid.uuid4())},
         "does not track"),
        ({"destination_id": destination, "event": "sometimes"}, "event"),
    ]  # fmt: skip
    for body, says in cases:
        response = alerts_api("POST", base + "/rules", crew.admin, body=body)
        assert response.status == 422, (body, response.body)
        assert says in response.json["detail"], (body, response.json)
    ok = alerts_api("POST", base + "/rules", crew.admin, body={
        "destination_id": destination, "channel_id": str(channel), "event": "viewers_above",
        "viewer_threshold": 1000, "template": "{channel}: {viewers} watching"})  # fmt: skip
    assert ok.status == 201, ok.body
    changed = alerts_api("PATCH", f"{base}/rules/{ok.json['id']}", crew.admin,
                         body={"template": None, "viewer_threshold": 2000})  # fmt: skip
    assert (changed.json["template"], changed.json["viewer_threshold"]) == (None, 2000)
    refused = alerts_api("PATCH", f"{base}/rules/{ok.json['id']}", crew.admin,
                         body={"viewer_threshold": None})  # fmt: skip
    assert refused.status == 422


def test_the_test_message_says_what_the_destination_answered(
    alerts_api: Api, database: Database, sink: AlertSink
) -> None:
    crew, _ = _team_with_channel(database)
    base = f"/api/teams/{crew.team_id}/alerts/destinations"
    created = alerts_api("POST", base, crew.owner, body={
        "kind": "webhook", "name": "w", "url": sink.url("/hooks/test")}).json  # fmt: skip
    answer = alerts_api("POST", f"{base}/{created['id']}/test", crew.admin)
    assert answer.json == {"delivered": True, "status_code": 204, "error": None}
    [received] = sink.received("/hooks/test")
    data = readme_verify()(created["signing_secret"], dict(received.headers), received.body)
    assert data["type"] == "alert.live"
    assert received.headers["webhook-id"].startswith("alert_test_")

    sink.set_status("/hooks/test", 404)
    refused = alerts_api("POST", f"{base}/{created['id']}/test", crew.admin).json
    assert (refused["delivered"], refused["status_code"]) == (False, 404)
    assert "Unknown Webhook" in refused["error"]
    missing = alerts_api("POST", f"{base}/{uuid.uuid4()}/test", crew.admin)
    assert missing.status == 404


def test_from_a_status_change_to_a_verified_webhook(
    alerts_api: Api, database: Database, sink: AlertSink
) -> None:
    crew, channel = _team_with_channel(database)
    base = f"/api/teams/{crew.team_id}/alerts"
    created = alerts_api("POST", base + "/destinations", crew.owner, body={
        "kind": "webhook", "name": "w", "url": sink.url("/hooks/e2e")}).json  # fmt: skip
    rule = alerts_api("POST", base + "/rules", crew.owner, body={
        "destination_id": created["id"], "event": "live",
        "template": "{channel} live: {title}"})  # fmt: skip
    assert rule.status == 201, rule.body

    cycle(database, {channel: live(0)}, T0)
    pending = alerts_api("GET", base + "/deliveries", crew.viewer).json["data"]
    assert [(d["event"], d["status"]) for d in pending] == [("live", "pending")]

    sender = deliverer(database)
    try:
        assert sender.run_once().delivered == 1
    finally:
        sender.close()
    [received] = sink.received("/hooks/e2e")
    data = readme_verify()(created["signing_secret"], dict(received.headers), received.body)
    assert data["data"]["message"] == "Api Channel live: title"
    assert data["data"]["channel_id"] == str(channel)
    assert received.headers["webhook-id"] == f"alert_{pending[0]['id']}"
    with pytest.raises(ValueError, match="no valid signature"):
        readme_verify()(created["signing_secret"], dict(received.headers), received.body + b" ")

    done = alerts_api("GET", base + "/deliveries?status=delivered", crew.viewer).json["data"]
    assert [(d["id"], d["attempts"], d["last_status_code"]) for d in done] == [
        (pending[0]["id"], 1, 204)
    ]
    bad = alerts_api("GET", base + "/deliveries?limit=0", crew.viewer)
    assert bad.status == 422
