import re
from collections import Counter
from typing import Any

import httpx

from localdev.sandbox import Sandbox
from localdev.sandbox.ids import parse_time
from tests.unit.sandbox.support import START, live_at, twitch_headers, viewers_at


def test_truth_agrees_with_every_endpoint_at_the_same_instant(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    env = sandbox.settings_env()
    for instant in ("2025-03-04T20:00:00Z", "2025-03-05T03:17:30Z", "2025-03-05T14:42:10Z"):
        sandbox.clock.set(instant)
        t = sandbox.clock.time()
        live = live_at(sandbox.truth(t - 3600, t + 3600), t)
        assert live, f"nobody live at {instant}"

        twitch = sandbox.channels("twitch")[:100]
        answer = client.get(
            env["TWITCH_API_URL"] + "/streams",
            params=[("user_id", c["id"]) for c in twitch] + [("first", "100")],
            headers=twitch_headers(sandbox, client),
        ).json()["data"]
        seen = {f"twitch:{s['user_id']}": (s["id"], s["viewer_count"]) for s in answer}
        expected = {
            c["key"]: (live[c["key"]]["id"], viewers_at(live[c["key"]], t))
            for c in twitch
            if c["key"] in live
        }
        assert seen == expected

        youtube_live = {k: s for k, s in live.items() if k.startswith("youtube:")}
        if youtube_live:
            items = client.get(
                env["YOUTUBE_API_URL"] + "/videos",
                params={
                    "part": "snippet,liveStreamingDetails",
                    "id": ",".join(s["id"] for s in youtube_live.values()),
                    "key": env["YOUTUBE_API_KEY"],
                },
            ).json()["items"]
            assert {i["id"] for i in items} == {s["id"] for s in youtube_live.values()}
            for item in items:
                stream = next(s for s in youtube_live.values() if s["id"] == item["id"])
                assert item["snippet"]["liveBroadcastContent"] == "live"
                n = viewers_at(stream, t)
                shown = item["liveStreamingDetails"].get("concurrentViewers")
                assert shown == (None if stream["viewers_hidden"] or n == 0 else str(n))

        for channel in sandbox.channels("rumble"):
            streams = client.get(
                env["RUMBLE_API_URL"], params={"key": channel["rumble_key"]}
            ).json()["livestreams"]
            now_live = [s for s in streams if s["is_live"]]
            if channel["key"] in live:
                [one] = now_live
                assert one["id"] == live[channel["key"]]["id"]
                assert one["watching_now"] == viewers_at(live[channel["key"]], t)
            else:
                assert now_live == []


def test_truth_format(sandbox: Sandbox, client: httpx.Client) -> None:
    response = client.get(
        sandbox.url + "/_sandbox/truth",
        params={"from": "2025-03-04T00:00:00Z", "to": "2025-03-05T00:00:00Z"},
    )
    assert response.status_code == 200
    truth = response.json()
    assert truth["from"] == "2025-03-04T00:00:00Z"
    assert truth["seed"] == 7
    t0, t1 = parse_time(truth["from"]), parse_time(truth["to"])
    for channel in truth["channels"]:
        assert set(channel) == {"key", "platform", "id", "name", "followers", "streams"}
        for stream in channel["streams"]:
            if stream["no_show"]:
                assert stream["start"] is None
                continue
            start, end = parse_time(stream["start"]), parse_time(stream["end"])
            assert start < t1
            assert end > t0
            minutes = [parse_time(at) for at, _ in stream["viewers"]]
            assert minutes == [
                m * 60 for m in range(int(minutes[0] // 60), int(minutes[-1] // 60) + 1)
            ]
            assert minutes[0] == int(max(start, t0) // 60) * 60
            assert max(n for _, n in stream["viewers"]) <= stream["peak_viewers"]
    one = client.get(
        sandbox.url + "/_sandbox/truth",
        params={
            "from": truth["from"],
            "to": truth["to"],
            "channel": truth["channels"][0]["key"],
            "viewers": "false",
        },
    ).json()
    assert [c["key"] for c in one["channels"]] == [truth["channels"][0]["key"]]
    assert all("viewers" not in s for s in one["channels"][0]["streams"])
    bad = client.get(
        sandbox.url + "/_sandbox/truth", params={"from": truth["to"], "to": truth["from"]}
    )
    assert bad.status_code == 400


def test_same_seed_same_world_other_seed_other_world(client: httpx.Client) -> None:
    def world(seed: int) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        with Sandbox(seed=seed, channels=80, start=START, rate=0) as sb:
            url = sb.settings_env()["TWITCH_API_URL"] + "/streams"
            answer = client.get(url, params={"first": 100}, headers=twitch_headers(sb, client))
            return sb.channels(), sb.truth(START, "2025-03-05T20:00:00Z"), answer.json()["data"]

    first, again, other = world(11), world(11), world(12)
    assert first == again
    assert first[0] != other[0]
    assert {c["key"] for c in first[0]}.isdisjoint({c["key"] for c in other[0]})


def test_population_follows_the_mix(client: httpx.Client) -> None:
    with Sandbox(seed=5, channels=200, mix="twitch=0.5,youtube=0.25,rumble=0.25", rate=0) as sb:
        body = client.get(sb.url + "/_sandbox/channels").json()
        channels = body["channels"]
        assert Counter(c["platform"] for c in channels) == {
            "twitch": 100,
            "youtube": 50,
            "rumble": 50,
        }
        for c in channels:
            if c["platform"] == "twitch":
                assert c["id"].isdigit()
                assert c["login"] == c["login"].lower()
            elif c["platform"] == "youtube":
                assert re.fullmatch(r"UC[0-9A-Za-z_-]{22}", c["id"])
                assert c["handle"].startswith("@")
            else:
                assert len(c["rumble_key"]) > 40
        assert len({c["key"] for c in channels}) == 200
        only = client.get(sb.url + "/_sandbox/channels", params={"platform": "rumble"}).json()
        assert len(only["channels"]) == 50
