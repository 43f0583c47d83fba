import json
import time

import httpx
import pytest

from localdev.sandbox import Sandbox
from tests.unit.sandbox.support import twitch_headers


def _rumble(sb: Sandbox, client: httpx.Client) -> httpx.Response:
    key = sb.channels("rumble")[0]["rumble_key"]
    return client.get(sb.settings_env()["RUMBLE_API_URL"], params={"key": key})


def _youtube(sb: Sandbox, client: httpx.Client) -> httpx.Response:
    env = sb.settings_env()
    params = {
        "part": "statistics",
        "id": sb.channels("youtube")[0]["id"],
        "key": env["YOUTUBE_API_KEY"],
    }
    return client.get(env["YOUTUBE_API_URL"] + "/channels", params=params)


def _twitch(sb: Sandbox, client: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    return client.get(sb.settings_env()["TWITCH_API_URL"] + "/streams", headers=headers)


def test_latency_is_added(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(rumble={"latency_ms": 150})
    began = time.perf_counter()
    assert _rumble(sandbox, client).status_code == 200
    assert time.perf_counter() - began >= 0.15
    began = time.perf_counter()
    assert _youtube(sandbox, client).status_code == 200
    assert time.perf_counter() - began < 0.15
    assert sandbox.counters()["fault.latency"] == 1


def test_server_errors_in_each_platforms_shape(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    sandbox.set_faults(error_rate=1)
    twitch = _twitch(sandbox, client, headers)
    assert twitch.status_code in (500, 502, 503)
    assert twitch.json()["status"] == twitch.status_code
    youtube = _youtube(sandbox, client)
    assert youtube.status_code in (500, 502, 503)
    if youtube.status_code != 502:  # Google's front end answers 502 in HTML
        assert youtube.json()["error"]["code"] == youtube.status_code
    assert _rumble(sandbox, client).status_code in (500, 502, 503)
    assert sandbox.counters()["fault.5xx"] == 3


def test_injected_429s_carry_the_platforms_headers(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    sandbox.set_faults(rate_limit_rate=1, retry_after_s=7)
    twitch = _twitch(sandbox, client, headers)
    assert twitch.status_code == 429
    assert twitch.headers["Ratelimit-Remaining"] == "0"
    assert int(twitch.headers["Ratelimit-Reset"]) >= int(time.time()) + 7
    for response in (_youtube(sandbox, client), _rumble(sandbox, client)):
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
    assert sandbox.counters()["fault.429"] == 3


def test_held_requests_outlast_the_client_timeout(sandbox: Sandbox) -> None:
    sandbox.set_faults(timeout_rate=1, hold_s=2)
    with httpx.Client(timeout=0.3) as impatient, pytest.raises(httpx.ReadTimeout):
        _rumble(sandbox, impatient)
    assert sandbox.counters()["fault.timeout"] == 1


def test_closed_connections(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(youtube={"timeout_rate": 1, "timeout_mode": "close"})
    with pytest.raises(httpx.RemoteProtocolError):
        _youtube(sandbox, client)
    assert _rumble(sandbox, client).status_code == 200


def test_malformed_bodies(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    sandbox.set_faults(malformed_rate=1)
    truncated = _rumble(sandbox, client)
    assert truncated.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        truncated.json()
    sandbox.set_faults(malformed_mode="types")
    body = _twitch(sandbox, client, headers).json()
    assert body["data"]
    assert all(s["viewer_count"].startswith("~") for s in body["data"])
    assert all(s["started_at"] == "soon" for s in body["data"])
    stats = _youtube(sandbox, client).json()["items"][0]["statistics"]
    assert stats["hiddenSubscriberCount"] == "maybe"
    assert sandbox.counters()["fault.malformed"] == 3


def test_quota_exhaustion_fault(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(youtube={"quota_exhausted": True})
    response = _youtube(sandbox, client)
    assert response.status_code == 403
    assert response.json()["error"]["errors"][0]["reason"] == "quotaExceeded"
    assert sandbox.counters()["fault.quota"] == 1
    sandbox.set_faults(youtube={"quota_exhausted": None})
    assert _youtube(sandbox, client).status_code == 200


def test_faults_are_deterministic_for_the_seed(client: httpx.Client) -> None:
    def statuses(seed: int) -> list[int]:
        with Sandbox(seed=seed, channels=20, rate=0, start="2025-03-04T20:00:00Z") as sb:
            sb.set_faults(error_rate=0.3, rate_limit_rate=0.2)
            return [_rumble(sb, client).status_code for _ in range(30)]

    first = statuses(3)
    assert first == statuses(3)
    assert {200, 429} <= set(first)
    assert set(first) & {500, 502, 503}
    assert first != statuses(4)


def test_faults_endpoint(sandbox: Sandbox, client: httpx.Client) -> None:
    url = sandbox.url + "/_sandbox/faults"
    body = client.post(url, json={"error_rate": 0.5, "twitch": {"error_rate": 0, "latency_ms": 5}})
    effective = body.json()["effective"]
    assert effective["twitch"]["error_rate"] == 0
    assert effective["twitch"]["latency_ms"] == 5
    assert effective["youtube"]["error_rate"] == 0.5
    assert client.post(url, json={"twitch": {"nonsense": 1}}).status_code == 400
    assert client.post(url, json={"error_rate": 2}).status_code == 400
    cleared = client.post(url, json={"reset": True}).json()
    assert cleared["scopes"]["global"] == {}
    assert client.get(url).json() == cleared
