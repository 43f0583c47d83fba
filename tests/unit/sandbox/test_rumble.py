import re
from datetime import datetime

import httpx

from localdev.sandbox import Sandbox
from localdev.sandbox.ids import parse_time
from tests.unit.sandbox.support import find_stream, viewers_at

TOP_LEVEL = {
    "now",
    "type",
    "user_id",
    "username",
    "channel_id",
    "channel_name",
    "since",
    "max_num_results",
    "followers",
    "subscribers",
    "gifted_subs",
    "livestreams",
}
LIVESTREAM = {
    "id",
    "title",
    "created_on",
    "scheduled_on",
    "is_live",
    "visibility",
    "categories",
    "stream_key",
    "server_url",
    "likes",
    "dislikes",
    "watching_now",
    "chat",
}


def _get_data(sb: Sandbox, client: httpx.Client, key: str) -> httpx.Response:
    return client.get(sb.settings_env()["RUMBLE_API_URL"], params={"key": key})


def test_get_data_answers_in_the_documented_shape(sandbox: Sandbox, client: httpx.Client) -> None:
    channel, stream = find_stream(sandbox, "rumble", lambda c, s: True)
    sandbox.clock.set(parse_time(stream["start"]) + 300)
    response = _get_data(
        sandbox,
        client,
        next(c["rumble_key"] for c in sandbox.channels("rumble") if c["key"] == channel["key"]),
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == TOP_LEVEL
    assert body["now"] == int(sandbox.clock.time())
    assert body["type"] in ("user", "channel")
    assert body["user_id"] == channel["id"]
    assert set(body["followers"]) == {
        "num_followers",
        "num_followers_total",
        "latest_follower",
        "recent_followers",
    }
    assert body["followers"]["num_followers_total"] >= body["followers"]["num_followers"]
    [live] = body["livestreams"]
    assert set(live) == LIVESTREAM
    assert live["id"] == stream["id"]
    assert re.fullmatch(r"[0-9a-z]+", live["id"])
    assert live["is_live"] is True
    assert live["created_on"] == stream["created_on"]
    offset = datetime.fromisoformat(live["created_on"]).utcoffset()
    assert offset is not None
    assert offset.total_seconds() in (-4 * 3600, -5 * 3600)
    assert set(live["chat"]) == {"latest_message", "recent_messages", "latest_rant", "recent_rants"}
    truth = sandbox.truth(sandbox.clock.time() - 60, sandbox.clock.time() + 60, channel["key"])
    [exact] = [s for s in truth["channels"][0]["streams"] if s["id"] == stream["id"]]
    assert live["watching_now"] == viewers_at(exact, sandbox.clock.time())


def test_a_stream_is_listed_from_creation_until_it_ends(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    channel, stream = find_stream(sandbox, "rumble", lambda c, s: s["restart_of"] is None)
    key = next(c["rumble_key"] for c in sandbox.channels("rumble") if c["key"] == channel["key"])
    sandbox.clock.set(parse_time(stream["created_on"]) - 1)
    assert all(
        s["id"] != stream["id"] for s in _get_data(sandbox, client, key).json()["livestreams"]
    )
    sandbox.clock.set(parse_time(stream["created_on"]))
    [pending] = _get_data(sandbox, client, key).json()["livestreams"]
    assert pending["is_live"] is False
    assert pending["watching_now"] == 0
    sandbox.clock.set(parse_time(stream["end"]))
    assert all(
        s["id"] != stream["id"] for s in _get_data(sandbox, client, key).json()["livestreams"]
    )


def test_unknown_key_is_refused(sandbox: Sandbox, client: httpx.Client) -> None:
    response = _get_data(sandbox, client, "not-a-key")
    assert response.status_code == 401
    assert "error" in response.json()
    assert sandbox.counters()["rumble.get_data"] == 1
