import httpx
import pytest

from localdev.sandbox import Sandbox
from shared.config import Settings
from tests.unit.sandbox.support import twitch_headers


def test_settings_env_points_streamtracks_settings_at_the_sandbox(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sandbox.settings_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    base = f"http://127.0.0.1:{sandbox.port}"
    assert settings.twitch_auth_url == base + "/twitch/oauth2"
    assert settings.twitch_api_url == base + "/twitch/helix"
    assert settings.youtube_api_url == base + "/youtube/v3"
    assert settings.youtube_feed_url == base + "/youtube/feeds/videos.xml"
    assert settings.rumble_api_url == base + "/rumble/-livestream-api/get-data"
    assert settings.twitch_client_id == env["TWITCH_CLIENT_ID"]
    assert settings.youtube_api_key is not None
    assert settings.youtube_api_key.get_secret_value() == env["YOUTUBE_API_KEY"]


def test_counters_count_and_reset(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    env = sandbox.settings_env()
    for _ in range(3):
        client.get(env["TWITCH_API_URL"] + "/streams", headers=headers)
    client.get(
        env["YOUTUBE_API_URL"] + "/videos",
        params={"part": "snippet", "id": "x", "key": env["YOUTUBE_API_KEY"]},
    )
    client.get(sandbox.url + "/nowhere")
    counters = client.get(sandbox.url + "/_sandbox/counters").json()
    assert counters["twitch.token"] == 1
    assert counters["twitch.streams"] == 3
    assert counters["youtube.videos"] == 1
    assert counters["youtube.quota_used"] == 1
    assert counters["youtube.search"] == 0
    assert counters["rumble.get_data"] == 0
    assert counters["not_found"] == 1
    assert counters == sandbox.counters()
    reset = client.post(sandbox.url + "/_sandbox/counters/reset").json()
    assert set(reset.values()) == {0}


def test_control_index_quota_and_revoke(sandbox: Sandbox, client: httpx.Client) -> None:
    index = client.get(sandbox.url + "/_sandbox/")
    assert "/_sandbox/truth" in index.text
    quota = client.post(sandbox.url + "/_sandbox/quota", json={"limit": 50, "used": 50}).json()
    assert quota["limit"] == quota["used"] == 50
    headers = twitch_headers(sandbox, client)
    assert client.post(sandbox.url + "/_sandbox/twitch/revoke").json() == {"revoked": 1}
    url = sandbox.settings_env()["TWITCH_API_URL"] + "/streams"
    assert client.get(url, headers=headers).status_code == 401
    assert client.get(sandbox.url + "/_sandbox/nothing").status_code == 404


def test_binds_loopback_and_stops(client: httpx.Client) -> None:
    sb = Sandbox(seed=1, channels=5).start()
    assert sb.url.startswith("http://127.0.0.1:")
    url = sb.url
    assert client.get(url + "/_sandbox/clock").json()["simulated"] is False
    sb.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/_sandbox/clock", timeout=1)
    with pytest.raises(RuntimeError):
        _ = sb.url
