import time

import httpx

from localdev.sandbox import Sandbox
from localdev.sandbox.ids import parse_time
from localdev.sandbox.platforms import fake
from tests.unit.sandbox.support import START, live_at, viewers_at

STREAM_FIELDS = set(
    "broadcaster_user_id channel_id slug stream_title language has_mature_content viewer_count "
    "thumbnail started_at category custom_tags profile_picture".split()
)


def kick_headers(sb: Sandbox, client: httpx.Client) -> dict[str, str]:
    env = sb.settings_env()
    form = {
        "client_id": env["KICK_CLIENT_ID"],
        "client_secret": env["KICK_CLIENT_SECRET"],
        "grant_type": "client_credentials",
    }
    answer = client.post(env["KICK_AUTH_URL"] + "/oauth/token", data=form)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def kick_sandbox(**options: object) -> Sandbox:
    return Sandbox(seed=7, channels=200, mix="twitch=0.5,kick=0.5", start=START, rate=0, **options)


def test_token_is_a_bearer_app_token(client: httpx.Client) -> None:
    with kick_sandbox() as sb:
        env = sb.settings_env()
        url = env["KICK_AUTH_URL"] + "/oauth/token"
        form = {
            "client_id": env["KICK_CLIENT_ID"],
            "client_secret": env["KICK_CLIENT_SECRET"],
            "grant_type": "client_credentials",
        }
        body = client.post(url, data=form).json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["expires_in"] == 7200
        wrong = client.post(url, data=form | {"client_secret": "x"})
        assert (wrong.status_code, wrong.json()) == (400, {"error": "Invalid request"})


def test_livestreams_answer_in_kick_shape_and_match_the_truth(client: httpx.Client) -> None:
    with kick_sandbox() as sb:
        url = sb.settings_env()["KICK_API_URL"] + "/livestreams"
        ids = [c["id"] for c in sb.channels("kick")][:50]
        params = [("broadcaster_user_id", i) for i in ids] + [("limit", "100")]
        body = client.get(url, params=params, headers=kick_headers(sb, client)).json()
        now = sb.clock.time()
        truth = live_at(sb.truth(now - 86_400, now + 60, platform="kick"), now)
    assert set(body) == {"data", "message"}
    live = {f"kick:{s['broadcaster_user_id']}": s for s in body["data"]}
    assert live, "some of 50 channels are live at the start instant"
    assert set(live) == {key for key in truth if key.removeprefix("kick:") in ids}
    for key, stream in live.items():
        assert set(stream) == STREAM_FIELDS
        assert isinstance(stream["broadcaster_user_id"], int)
        assert stream["started_at"] == truth[key]["start"]
        assert stream["viewer_count"] == viewers_at(truth[key], now)
        # No livestream id: the truth names the one StreamTrack derives.
        derived = f"{stream['broadcaster_user_id']}-{int(parse_time(stream['started_at']))}"
        assert truth[key]["platform_stream_id"] == derived
    counts = [s["viewer_count"] for s in body["data"]]
    assert counts == sorted(counts, reverse=True)


def test_limits_are_enforced(client: httpx.Client) -> None:
    with kick_sandbox() as sb:
        url = sb.settings_env()["KICK_API_URL"]
        headers = kick_headers(sb, client)
        ids = [("broadcaster_user_id", c["id"]) for c in sb.channels("kick")]
        assert client.get(url + "/livestreams", params=ids[:51], headers=headers).status_code == 400
        for bad in ({"limit": 101}, {"limit": 0}, {"sort": "random"}):
            assert client.get(url + "/livestreams", params=bad, headers=headers).status_code == 400
        top = client.get(url + "/livestreams", headers=headers).json()["data"]
        assert len(top) <= 25  # Kick's default limit
        mixed = [("slug", "a"), ("broadcaster_user_id", "1")]
        answer = client.get(url + "/channels", params=mixed, headers=headers)
        assert answer.status_code == 400
        assert set(answer.json()) == {"data", "message"}
        assert (
            client.get(url + "/channels", params={"slug": "x" * 26}, headers=headers).status_code
            == 400
        )


def test_channels_by_slug_or_id_leave_unknown_and_banned_ones_out(client: httpx.Client) -> None:
    with kick_sandbox() as sb:
        url = sb.settings_env()["KICK_API_URL"] + "/channels"
        headers = kick_headers(sb, client)
        first, second = sb.channels("kick")[:2]
        by_slug = client.get(
            url, params=[("slug", first["slug"]), ("slug", "nobody")], headers=headers
        )
        assert [c["broadcaster_user_id"] for c in by_slug.json()["data"]] == [int(first["id"])]
        assert {"broadcaster_user_id", "slug", "stream", "stream_title", "category"} <= set(
            by_slug.json()["data"][0]
        )
        client.post(sb.url + "/_sandbox/kick/ban", json={"id": second["id"]})
        both = [("broadcaster_user_id", first["id"]), ("broadcaster_user_id", second["id"])]
        by_id = client.get(url, params=both, headers=headers).json()
        assert [c["slug"] for c in by_id["data"]] == [first["slug"]]
        assert sb.counters()["kick.banned"] == 1


def test_one_banned_or_unknown_id_refuses_the_whole_batch(client: httpx.Client) -> None:
    with kick_sandbox() as sb:
        url = sb.settings_env()["KICK_API_URL"] + "/livestreams"
        headers = kick_headers(sb, client)
        ids = [("broadcaster_user_id", c["id"]) for c in sb.channels("kick")[:10]]
        assert client.get(url, params=ids, headers=headers).status_code == 200
        unknown = client.get(
            url, params=[*ids, ("broadcaster_user_id", "999999999")], headers=headers
        )
        assert unknown.status_code == 400
        assert "999999999" in unknown.json()["message"]
        client.post(sb.url + "/_sandbox/kick/ban", json={"id": ids[3][1]})
        assert client.get(url, params=ids, headers=headers).status_code == 400
        assert client.get(url, params=ids[:3], headers=headers).status_code == 200
        assert sb.counters()["kick.refused"] == 2


def test_tokens_expire_and_can_be_revoked(client: httpx.Client) -> None:
    with kick_sandbox(kick_token_lifetime_s=1) as sb:
        url = sb.settings_env()["KICK_API_URL"] + "/livestreams"
        headers = kick_headers(sb, client)
        assert client.get(url, headers=headers).status_code == 200
        time.sleep(1.1)
        expired = client.get(url, headers=headers)
        assert (expired.status_code, expired.json()) == (
            401,
            {"data": {}, "message": "Unauthorized"},
        )
    with kick_sandbox() as sb:
        headers = kick_headers(sb, client)
        assert ("POST", "/_sandbox/kick/revoke") in fake("kick").controls
        assert client.post(sb.url + "/_sandbox/kick/revoke").json() == {"revoked": 1}
        url = sb.settings_env()["KICK_API_URL"] + "/livestreams"
        assert client.get(url, headers=headers).status_code == 401


def test_an_unpublished_limit_answers_429_without_headers(client: httpx.Client) -> None:
    with kick_sandbox(kick_requests_per_s=2) as sb:
        url = sb.settings_env()["KICK_API_URL"] + "/livestreams"
        headers = kick_headers(sb, client)
        answers = [client.get(url, headers=headers) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert "retry-after" not in answers[-1].headers
        assert not any(h.startswith("ratelimit") for h in answers[-1].headers)
        assert sb.counters()["kick.rate_limited"] == 1


def test_injected_faults_answer_as_kick_does(client: httpx.Client) -> None:
    with kick_sandbox() as sb:
        url = sb.settings_env()["KICK_API_URL"] + "/livestreams"
        headers = kick_headers(sb, client)
        sb.set_faults(kick={"rate_limit_rate": 1.0, "retry_after_s": 3})
        limited = client.get(url, headers=headers)
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
        sb.set_faults(kick={"rate_limit_rate": 1.0, "retry_after_s": 0})
        assert "retry-after" not in client.get(url, headers=headers).headers
        sb.set_faults(reset=True, kick={"error_rate": 1.0})
        failed = client.get(url, headers=headers)
        assert failed.status_code in (500, 502, 503)
        assert set(failed.json()) == {"data", "message"}


def test_every_kick_broadcast_starts_and_names_its_derived_id() -> None:
    with kick_sandbox() as sb:
        start = sb.clock.time()
        truth = sb.truth(start, start + 86_400, platform="kick")
    streams = [s for c in truth["channels"] for s in c["streams"]]
    assert streams
    assert not any(s["no_show"] for s in streams)
    assert all(s["platform_stream_id"].startswith(c["id"] + "-")
               for c in truth["channels"] for s in c["streams"])  # fmt: skip
    assert parse_time(truth["from"]) == start
