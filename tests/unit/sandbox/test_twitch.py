import httpx

from localdev.sandbox import Sandbox
from localdev.sandbox.ids import parse_time
from tests.unit.sandbox.support import twitch_headers

STREAM_FIELDS = set(
    "id user_id user_login user_name game_id game_name type title tags viewer_count started_at "
    "language thumbnail_url tag_ids is_mature".split()
)


Params = list[tuple[str, str | int | float | bool | None]]


def _all_ids(sb: Sandbox) -> Params:
    return [("user_id", c["id"]) for c in sb.channels("twitch")][:100]


def test_token_is_a_bearer_app_token(sandbox: Sandbox, client: httpx.Client) -> None:
    env = sandbox.settings_env()
    form = {
        "client_id": env["TWITCH_CLIENT_ID"],
        "client_secret": env["TWITCH_CLIENT_SECRET"],
        "grant_type": "client_credentials",
    }
    body = client.post(env["TWITCH_AUTH_URL"] + "/token", data=form).json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 86_400
    wrong = client.post(env["TWITCH_AUTH_URL"] + "/token", data=form | {"client_secret": "x"})
    assert wrong.status_code == 403
    assert wrong.json() == {"status": 403, "message": "invalid client secret"}


def test_streams_answer_in_helix_shape(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    url = sandbox.settings_env()["TWITCH_API_URL"] + "/streams"
    response = client.get(url, params=[*_all_ids(sandbox), ("first", "100")], headers=headers)
    assert response.status_code == 200
    assert response.headers["Ratelimit-Limit"] == "800"
    assert int(response.headers["Ratelimit-Remaining"]) == 799
    assert int(response.headers["Ratelimit-Reset"]) > 0
    body = response.json()
    assert set(body) == {"data", "pagination"}
    assert body["data"], "some of 100 channels are live at the start instant"
    assert body["pagination"] == {}
    for stream in body["data"]:
        assert set(stream) == STREAM_FIELDS
        assert stream["type"] == "live"
        assert isinstance(stream["viewer_count"], int)
        assert stream["started_at"].endswith("Z")
        assert parse_time(stream["started_at"]) <= sandbox.clock.time()
        assert stream["user_id"].isdigit()
        assert stream["id"].isdigit()
    counts = [s["viewer_count"] for s in body["data"]]
    assert counts == sorted(counts, reverse=True)


def test_streams_paginate_with_a_cursor(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    url = sandbox.settings_env()["TWITCH_API_URL"] + "/streams"
    everything = client.get(url, params=[*_all_ids(sandbox), ("first", "100")], headers=headers)
    expected = [s["id"] for s in everything.json()["data"]]
    seen: list[str] = []
    params = [*_all_ids(sandbox), ("first", "2")]
    while True:
        page = client.get(url, params=params, headers=headers).json()
        seen += [s["id"] for s in page["data"]]
        if not page["pagination"]:
            break
        params = [*_all_ids(sandbox), ("first", "2"), ("after", page["pagination"]["cursor"])]
    assert seen == expected
    default = client.get(url, params=_all_ids(sandbox), headers=headers).json()
    assert len(default["data"]) == min(20, len(expected))


def test_limits_are_enforced(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    url = sandbox.settings_env()["TWITCH_API_URL"]
    too_many: Params = [("user_id", str(n)) for n in range(101)]
    assert client.get(url + "/streams", params=too_many, headers=headers).status_code == 400
    assert client.get(url + "/streams", params={"first": 101}, headers=headers).status_code == 400
    assert (
        client.get(url + "/users", params=[("id", "1")] * 101, headers=headers).status_code == 400
    )
    missing = client.get(url + "/channels/followers", headers=headers)
    assert missing.status_code == 400
    assert set(missing.json()) == {"error", "status", "message"}


def test_users_and_follower_totals(sandbox: Sandbox, client: httpx.Client) -> None:
    headers = twitch_headers(sandbox, client)
    url = sandbox.settings_env()["TWITCH_API_URL"]
    first, second = sandbox.channels("twitch")[:2]
    params = [("id", first["id"]), ("login", second["login"])]
    users = client.get(url + "/users", params=params, headers=headers).json()["data"]
    assert {u["id"] for u in users} == {first["id"], second["id"]}
    assert {"id", "login", "display_name", "broadcaster_type", "created_at"} <= set(users[0])
    followers = client.get(
        url + "/channels/followers", params={"broadcaster_id": first["id"]}, headers=headers
    ).json()
    assert followers["data"] == []
    assert followers["pagination"] == {}
    truth = sandbox.truth(sandbox.clock.time(), sandbox.clock.time() + 60, channel=first["key"])
    assert followers["total"] == truth["channels"][0]["followers"]["from"]


def test_401_without_a_valid_token(sandbox: Sandbox, client: httpx.Client) -> None:
    env = sandbox.settings_env()
    url = env["TWITCH_API_URL"] + "/streams"
    cases = [
        ({"Client-Id": env["TWITCH_CLIENT_ID"]}, "OAuth token is missing"),
        (
            {"Client-Id": env["TWITCH_CLIENT_ID"], "Authorization": "Bearer nope"},
            "Invalid OAuth token",
        ),
    ]
    good = twitch_headers(sandbox, client)
    cases.append((good | {"Client-Id": "someone-else"}, "Client ID and OAuth token do not match"))
    for headers, message in cases:
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized", "status": 401, "message": message}
    assert client.get(url, headers=good).status_code == 200
    sandbox.revoke_twitch_tokens()
    assert client.get(url, headers=good).status_code == 401


def test_bucket_runs_dry_with_429_and_ratelimit_headers(client: httpx.Client) -> None:
    with Sandbox(seed=1, channels=20, twitch_bucket=3, rate=0, start="2025-03-04T20:00:00Z") as sb:
        headers = twitch_headers(sb, client)
        url = sb.settings_env()["TWITCH_API_URL"] + "/streams"
        answers = [client.get(url, headers=headers) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["Ratelimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
        limited = answers[-1]
        assert limited.headers["Ratelimit-Limit"] == "3"
        assert limited.json()["status"] == 429
        assert sb.counters()["twitch.rate_limited"] == 1
