"""Small helpers the sandbox tests share."""

from collections.abc import Callable
from typing import Any

import httpx

from localdev.sandbox import Sandbox
from localdev.sandbox.ids import parse_time

START = "2025-03-04T20:00:00Z"
"""Where the sandbox tests' frozen clock stands."""


def twitch_headers(sb: Sandbox, client: httpx.Client) -> dict[str, str]:
    env = sb.settings_env()
    response = client.post(
        env["TWITCH_AUTH_URL"] + "/token",
        data={
            "client_id": env["TWITCH_CLIENT_ID"],
            "client_secret": env["TWITCH_CLIENT_SECRET"],
            "grant_type": "client_credentials",
        },
    )
    response.raise_for_status()
    token = response.json()["access_token"]
    return {"Client-Id": env["TWITCH_CLIENT_ID"], "Authorization": f"Bearer {token}"}


def live_at(truth: dict[str, Any], t: float) -> dict[str, dict[str, Any]]:
    """Channel key -> the truth stream live at t."""
    out = {}
    for channel in truth["channels"]:
        for stream in channel["streams"]:
            if stream["start"] and parse_time(stream["start"]) <= t < parse_time(stream["end"]):
                out[channel["key"]] = stream
    return out


def viewers_at(stream: dict[str, Any], t: float) -> int:
    minute = int(t // 60) * 60
    return int(next(n for at, n in stream["viewers"] if parse_time(at) == minute))


def find_stream(
    sb: Sandbox,
    platform: str,
    match: Callable[[dict[str, Any], dict[str, Any]], bool],
    days: int = 10,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first (channel, stream) in the truth of the next `days` days that matches."""
    start = sb.clock.time()
    truth = sb.truth(start, start + days * 86_400, viewers=False, platform=platform)
    for channel in truth["channels"]:
        for stream in channel["streams"]:
            if match(channel, stream):
                return channel, stream
    raise AssertionError(f"no matching {platform} stream in {days} days")
