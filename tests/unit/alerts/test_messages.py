"""What alerts say and the requests each destination kind gets."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from shared.alerts import messages
from shared.alerts.messages import Alert, TemplateError, check_template, render
from shared.alerts.targets import new_signing_secret

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PAYLOAD = {
    "channel": "Nightbot",
    "platform": "twitch",
    "url": "https://www.twitch.tv/nightbot",
    "title": "@everyone <b>speedrun</b> & chill",
    "category": "Chess",
    "viewers": 1234,
    "threshold": 1000,
    "started_at": (NOW - timedelta(minutes=95)).isoformat(),
    "ended_at": NOW.isoformat(),
    "peak_viewers": 2000,
}


def alert(event: str = "live", template: str | None = None, n: int = 1) -> Alert:
    return Alert(n, event, PAYLOAD, template, NOW, "rule-1")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{0.__class__}", "unknown placeholder"),
        ("{channel.__class__}", "unknown placeholder"),
        ("{title[0]}", "unknown placeholder"),
        ("{viewers:>99999}", "no format spec"),
        ("{title!r}", "no format spec or conversion"),
        ("{nope}", "unknown placeholder {nope}"),
        ("{channel", "literal braces"),
    ],
)
def test_templates_take_only_the_placeholders(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        check_template(template)
    assert render(template, {"channel": "x"}) == template  # stored anyway: shown as is


def test_default_and_custom_texts() -> None:
    assert alert().text() == "Nightbot is live on Twitch: @everyone <b>speedrun</b> & chill"
    assert alert("ended").text() == "Nightbot ended the stream after 1 h 35 min (peak 2000 viewers)"
    assert alert("viewers_above").text() == "Nightbot passed 1000 viewers (1234 watching)"
    assert alert("live", "{{live}} {channel} in {category}").text() == "{live} Nightbot in Chess"


def test_discord_never_pings_and_batches_embeds() -> None:
    request = messages.build("discord", [alert(n=i) for i in range(10)], None, NOW)
    body = json.loads(request.body)
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["embeds"]) == 10
    assert body["embeds"][0]["url"] == "https://www.twitch.tv/nightbot"
    assert sum(len(json.dumps(e)) for e in body["embeds"]) < 6000


def test_slack_text_is_escaped() -> None:
    body = json.loads(messages.build("slack", [alert()], None, NOW).body)
    text = body["blocks"][0]["text"]["text"]
    assert "&lt;b&gt;speedrun&lt;/b&gt; &amp; chill" in text
    assert "<https://www.twitch.tv/nightbot|Nightbot>" in text


def test_teams_gets_an_adaptive_card() -> None:
    body = json.loads(messages.build("teams", [alert(), alert("ended")], None, NOW).body)
    card = body["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert [b["type"] for b in card["content"]["body"]] == ["TextBlock", "TextBlock"]


def test_webhooks_are_signed_and_keyed_by_delivery() -> None:
    secret = new_signing_secret()
    request = messages.build("webhook", [alert(n=77)], secret, datetime.now(UTC))
    assert request.headers["webhook-id"] == "alert_77"
    data = Webhook(secret).verify(request.body, request.headers)
    assert data["type"] == "alert.live"
    assert data["data"]["delivery_id"] == 77
    with pytest.raises(ValueError, match="one alert"):
        messages.build("webhook", [alert(), alert()], secret, NOW)
