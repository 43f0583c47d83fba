"""What an alert says, and the request each kind of destination is sent.

A rule's template is text with `{placeholders}` from `PLACEHOLDERS` only: no
attribute or index access, no conversions or format specs, so a template
cannot reach into Python objects (`{0.__class__}`) or blow up a message
(`{viewers:>999999}`). `check_template` refuses anything else when a rule is
saved; `render` is safe on any text (a template written straight into the
database is rendered literally where it is not valid).

Requests, by destination kind (at most `BATCH[kind]` alerts in one):

- discord: execute-webhook JSON, one embed per alert (≤ 10, text cut so the
  6,000-character total holds), `allowed_mentions: {parse: []}` so a stream
  title cannot ping @everyone;
- slack: incoming-webhook JSON, one mrkdwn section per alert, `&<>` escaped;
- teams: a Power Automate Workflows message with one Adaptive Card;
- webhook: one alert per request, `{"type": "alert.<event>", "timestamp",
  "data"}`, signed by the Standard Webhooks scheme (`webhook-id` is
  `alert_<delivery id>`, the receiver's idempotency key).
"""

import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

from shared.platforms import registry

PLACEHOLDERS = (
    "channel", "platform", "url", "title", "category", "viewers", "threshold",
    "peak_viewers", "avg_viewers", "hours_watched", "duration", "started_at", "ended_at",
    "event",
)  # fmt: skip

DEFAULT_TEMPLATES = {
    "live": "{channel} is live on {platform}: {title}",
    "ended": "{channel} ended the stream after {duration} (peak {peak_viewers} viewers)",
    "title_changed": "{channel} changed the title: {title}",
    "category_changed": "{channel} is now streaming {category}",
    "viewers_above": "{channel} passed {threshold} viewers ({viewers} watching)",
}
LABELS = {
    "live": "went live",
    "ended": "stream ended",
    "title_changed": "new title",
    "category_changed": "new category",
    "viewers_above": "viewer milestone",
}
BATCH = {"discord": 10, "slack": 10, "teams": 10, "webhook": 1}
"""Alerts per request, by destination kind."""
_COLOURS = {"live": 0x2ECC71, "ended": 0x95A5A6, "viewers_above": 0xF1C40F}
_MAX_TEXT = 500


class TemplateError(ValueError):
    """A template that uses something other than the documented placeholders."""


def check_template(template: str) -> str:
    """The template when it is valid; TemplateError naming what is not."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"template: {exc} (write {{{{ and }}}} for literal braces)") from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            raise TemplateError(
                f"template: unknown placeholder {{{field}}}; use {', '.join(PLACEHOLDERS)}"
            )
        if spec or conversion:
            raise TemplateError(f"template: {{{field}}} takes no format spec or conversion")
    return template


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert to send: a delivery row as the sender reads it."""

    delivery_id: int
    event: str
    payload: Mapping[str, Any]
    template: str | None
    occurred_at: datetime
    rule_id: str | None = None
    attempt: int = 1
    """Which attempt this is (1: the first)."""

    def values(self) -> dict[str, str]:
        p = self.payload
        started, ended = _instant(p.get("started_at")), _instant(p.get("ended_at"))
        duration = ""
        if started is not None and ended is not None:
            minutes = max(0, round((ended - started).total_seconds() / 60))
            duration = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else (
                f"{minutes} min")  # fmt: skip
        text = {
            "channel": p.get("channel") or p.get("handle") or "A channel",
            "platform": _platform_name(p.get("platform")),
            "duration": duration,
            "event": LABELS.get(self.event, self.event),
        }
        for key in ("url", "title", "category", "viewers", "threshold", "peak_viewers",
                    "avg_viewers", "hours_watched", "started_at", "ended_at"):  # fmt: skip
            value = p.get(key)
            text[key] = "" if value is None else str(value)
        return {k: str(v) for k, v in text.items()}

    def text(self) -> str:
        return render(self.template or DEFAULT_TEMPLATES.get(self.event, "{channel}: {event}"),
                      self.values())[:_MAX_TEXT]  # fmt: skip


def _platform_name(value: object) -> str:
    """The platform's display name, as its package declares it."""
    try:
        return registry.spec(str(value)).display_name
    except (KeyError, ValueError):
        return str(value or "")


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with its placeholders filled; an invalid template as it is."""
    try:
        check_template(template)
    except TemplateError:
        return template
    return template.format_map({k: values.get(k, "") for k in PLACEHOLDERS})


@dataclass(frozen=True, slots=True)
class Request:
    """What to send for a batch of alerts."""

    body: bytes
    headers: dict[str, str]


def _json(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def discord(alerts: Sequence[Alert]) -> Request:
    embeds = []
    for alert in alerts:
        p = alert.payload
        embed: dict[str, Any] = {
            "title": f"{alert.values()['channel']}: {LABELS.get(alert.event, alert.event)}"[:256],
            "description": alert.text(),
            "timestamp": alert.occurred_at.isoformat(),
            "color": _COLOURS.get(alert.event, 0x9146FF),
        }
        if isinstance(p.get("url"), str) and p["url"].startswith("https://"):
            embed["url"] = p["url"]
        embeds.append(embed)
    return Request(
        _json({"embeds": embeds, "allowed_mentions": {"parse": []}}),
        {"Content-Type": "application/json"},
    )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(alerts: Sequence[Alert]) -> Request:
    blocks = []
    for alert in alerts:
        text = _slack_escape(alert.text())
        url = alert.payload.get("url")
        if isinstance(url, str) and url.startswith("https://"):
            text += f"\n<{_slack_escape(url)}|{_slack_escape(alert.values()['channel'])}>"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    fallback = "\n".join(a.text() for a in alerts)[:3000]
    return Request(
        _json({"text": fallback, "blocks": blocks}), {"Content-Type": "application/json"}
    )


def teams(alerts: Sequence[Alert]) -> Request:
    body = [
        {"type": "TextBlock", "text": a.text(), "wrap": True, "separator": i > 0}
        for i, a in enumerate(alerts)
    ]
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    message = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    return Request(_json(message), {"Content-Type": "application/json"})


def webhook_id(delivery_id: int) -> str:
    """The `webhook-id` of a delivery: the same on every attempt, for deduplication."""
    return f"alert_{delivery_id}"


def webhook(alert: Alert, signing_secret: str, now: datetime, msg_id: str | None = None) -> Request:
    data = {
        "delivery_id": alert.delivery_id,
        "rule_id": alert.rule_id,
        "event": alert.event,
        "message": alert.text(),
        "occurred_at": alert.occurred_at.isoformat(),
        **{k: v for k, v in alert.payload.items() if k not in ("event", "message")},
    }
    body = _json({"type": f"alert.{alert.event}", "timestamp": now.isoformat(), "data": data})
    msg_id = msg_id or webhook_id(alert.delivery_id)
    signature = Webhook(signing_secret).sign(msg_id, now, body.decode())
    return Request(
        body,
        {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )


def build(
    kind: str,
    alerts: Sequence[Alert],
    signing_secret: str | None,
    now: datetime,
    msg_id: str | None = None,
) -> Request:
    """The request for `alerts` (at most `BATCH[kind]`) to a destination of `kind`."""
    if kind == "discord":
        return discord(alerts)
    if kind == "slack":
        return slack(alerts)
    if kind == "teams":
        return teams(alerts)
    if kind == "webhook":
        if signing_secret is None or len(alerts) != 1:
            raise ValueError("a webhook request carries one alert and needs the signing secret")
        return webhook(alerts[0], signing_secret, now, msg_id)
    raise ValueError(f"unknown destination kind {kind!r}")
