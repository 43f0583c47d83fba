import time
from datetime import datetime

import httpx
import pytest

from localdev.sandbox import Sandbox
from localdev.sandbox.clock import SandboxClock
from localdev.sandbox.ids import parse_time
from tests.unit.sandbox.support import find_stream, twitch_headers


def _live_ids(
    sb: Sandbox, client: httpx.Client, headers: dict[str, str], user_id: str
) -> list[str]:
    url = sb.settings_env()["TWITCH_API_URL"] + "/streams"
    return [
        s["id"]
        for s in client.get(url, params={"user_id": user_id}, headers=headers).json()["data"]
    ]


def test_real_clock_follows_wall_time() -> None:
    clock = SandboxClock()
    assert clock.state()["simulated"] is False
    assert abs(clock.time() - time.time()) < 1


def test_simulated_clock_runs_at_its_rate() -> None:
    clock = SandboxClock("2025-01-01T00:00:00Z", rate=0)
    assert clock.time() == parse_time("2025-01-01T00:00:00Z")
    clock.advance(90)
    assert clock.now().isoformat() == "2025-01-01T00:01:30+00:00"
    wall_before = time.monotonic()
    clock.set_rate(3600)
    time.sleep(0.05)
    simulated = clock.time() - parse_time("2025-01-01T00:01:30Z")
    wall = time.monotonic() - wall_before
    # 3,600 simulated seconds per real one, however long the loaded machine slept.
    assert 3600 * 0.05 * 0.99 <= simulated <= 3600 * wall * 1.01 + 1
    with pytest.raises(ValueError, match="timezone-aware"):
        SandboxClock(start=datetime(2025, 1, 1))  # noqa: DTZ001


def test_clock_endpoint_sets_and_advances(sandbox: Sandbox, client: httpx.Client) -> None:
    url = sandbox.url + "/_sandbox/clock"
    assert client.get(url).json()["now"] == "2025-03-04T20:00:00Z"
    moved = client.post(url, json={"advance_s": 3600}).json()
    assert moved["now"] == "2025-03-04T21:00:00Z"
    moved = client.post(url, json={"set": "2025-06-01T12:00:00Z"}).json()
    assert moved == {
        "now": "2025-06-01T12:00:00Z",
        "epoch": 1748779200.0,
        "simulated": True,
        "rate": 0,
    }
    assert client.post(url, json={"set": "not a time"}).status_code == 400


def test_moving_the_clock_moves_streams_on_and_off(sandbox: Sandbox, client: httpx.Client) -> None:
    channel, stream = find_stream(sandbox, "twitch", lambda c, s: s["restart_of"] is None)
    headers = twitch_headers(sandbox, client)
    start, end = parse_time(stream["start"]), parse_time(stream["end"])
    sandbox.clock.set(start - 1)
    assert _live_ids(sandbox, client, headers, channel["id"]) == []
    sandbox.clock.set(start)
    assert _live_ids(sandbox, client, headers, channel["id"]) == [stream["id"]]
    sandbox.clock.set(end - 1)
    assert _live_ids(sandbox, client, headers, channel["id"]) == [stream["id"]]
    sandbox.clock.set(end)
    assert _live_ids(sandbox, client, headers, channel["id"]) == []


def test_a_brief_restart_is_a_new_stream(sandbox: Sandbox, client: httpx.Client) -> None:
    channel, second = find_stream(
        sandbox, "twitch", lambda c, s: s["restart_of"] is not None, days=30
    )
    day_before = sandbox.truth(
        parse_time(second["start"]) - 86_400, parse_time(second["start"]), channel["key"]
    )
    [first] = [s for s in day_before["channels"][0]["streams"] if s["id"] == second["restart_of"]]
    gap = parse_time(second["start"]) - parse_time(first["end"])
    assert 60 <= gap <= 480
    headers = twitch_headers(sandbox, client)
    sandbox.clock.set(parse_time(first["end"]) - 30)
    assert _live_ids(sandbox, client, headers, channel["id"]) == [first["id"]]
    sandbox.clock.advance(gap / 2)
    assert _live_ids(sandbox, client, headers, channel["id"]) == []
    sandbox.clock.set(parse_time(second["start"]) + 30)
    assert _live_ids(sandbox, client, headers, channel["id"]) == [second["id"]]
