from typing import Any

import httpx
from defusedxml import ElementTree

from localdev.sandbox import Sandbox
from localdev.sandbox.ids import parse_time
from localdev.sandbox.youtube import QUOTA_MESSAGE, subscriber_count
from tests.unit.sandbox.support import find_stream, viewers_at

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "media": "http://search.yahoo.com/mrss/",
}


def _get(sb: Sandbox, client: httpx.Client, path: str, **params: Any) -> httpx.Response:
    env = sb.settings_env()
    return client.get(
        env["YOUTUBE_API_URL"] + path, params={"key": env["YOUTUBE_API_KEY"], **params}
    )


def _video(sb: Sandbox, client: httpx.Client, video_id: str) -> dict[str, Any]:
    body = _get(sb, client, "/videos", part="snippet,liveStreamingDetails", id=video_id).json()
    assert body["kind"] == "youtube#videoListResponse"
    assert body["pageInfo"]["totalResults"] == len(body["items"]) == 1
    item: dict[str, Any] = body["items"][0]
    return item


def test_feed_lists_the_latest_videos_as_atom(sandbox: Sandbox, client: httpx.Client) -> None:
    url = sandbox.settings_env()["YOUTUBE_FEED_URL"]
    channel = next(c for c in sandbox.channels("youtube") if not c["dormant"])
    response = client.get(url, params={"channel_id": channel["id"]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    entries = root.findall("atom:entry", NS)
    assert 1 <= len(entries) <= 15
    published = [parse_time(e.findtext("atom:published", "", NS)) for e in entries]
    assert published == sorted(published, reverse=True)
    assert max(published) <= sandbox.clock.time()
    for entry in entries:
        assert entry.findtext("yt:channelId", namespaces=NS) == channel["id"]
        video_id = entry.findtext("yt:videoId", "", NS)
        assert len(video_id) == 11
        assert entry.findtext("atom:id", namespaces=NS) == f"yt:video:{video_id}"
    assert client.get(url, params={"channel_id": "UC" + "x" * 22}).status_code == 404
    assert sandbox.counters()["youtube.feed"] == 2
    assert sandbox.counters()["youtube.quota_used"] == 0


def test_videos_follow_a_broadcast_from_upcoming_to_live_to_ended(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    channel, stream = find_stream(
        sandbox, "youtube", lambda c, s: bool(s["start"]) and not s["viewers_hidden"]
    )
    published, start, end = (parse_time(stream[k]) for k in ("published", "start", "end"))
    sandbox.clock.set(published - 1)
    empty = _get(sandbox, client, "/videos", part="snippet", id=stream["id"]).json()
    assert empty["items"] == []

    sandbox.clock.set(max(published, start - 60))
    upcoming = _video(sandbox, client, stream["id"])
    assert upcoming["snippet"]["liveBroadcastContent"] == "upcoming"
    assert upcoming["snippet"]["channelId"] == channel["id"]
    assert set(upcoming["liveStreamingDetails"]) == {"scheduledStartTime", "activeLiveChatId"}

    sandbox.clock.set(start + 600)
    live = _video(sandbox, client, stream["id"])
    details = live["liveStreamingDetails"]
    assert live["snippet"]["liveBroadcastContent"] == "live"
    assert details["actualStartTime"] == stream["start"]
    assert "actualEndTime" not in details
    truth = sandbox.truth(start, end, channel=channel["key"])["channels"][0]["streams"]
    expected = viewers_at(next(s for s in truth if s["id"] == stream["id"]), start + 600)
    # Unknown rather than zero: the count is left out when nobody watches.
    assert details.get("concurrentViewers") == (str(expected) if expected else None)

    sandbox.clock.set(end + 1)
    ended = _video(sandbox, client, stream["id"])
    assert ended["snippet"]["liveBroadcastContent"] == "none"
    assert ended["liveStreamingDetails"]["actualEndTime"] == stream["end"]
    assert "concurrentViewers" not in ended["liveStreamingDetails"]


def test_hidden_viewer_counts_are_left_out(sandbox: Sandbox, client: httpx.Client) -> None:
    _, stream = find_stream(
        sandbox, "youtube", lambda c, s: bool(s["start"] and s["viewers_hidden"])
    )
    sandbox.clock.set(parse_time(stream["start"]) + 900)
    details = _video(sandbox, client, stream["id"])["liveStreamingDetails"]
    assert "actualStartTime" in details
    assert "concurrentViewers" not in details


def test_a_no_show_stays_upcoming_then_disappears(sandbox: Sandbox, client: httpx.Client) -> None:
    _, stream = find_stream(sandbox, "youtube", lambda c, s: s["no_show"], days=30)
    sandbox.clock.set(parse_time(stream["scheduled_start"]) + 600)
    late = _video(sandbox, client, stream["id"])
    assert late["snippet"]["liveBroadcastContent"] == "upcoming"
    assert "actualStartTime" not in late["liveStreamingDetails"]
    sandbox.clock.set(parse_time(stream["deleted"]))
    assert _get(sandbox, client, "/videos", part="snippet", id=stream["id"]).json()["items"] == []


def test_channels_by_id_and_handle(sandbox: Sandbox, client: httpx.Client) -> None:
    channel = sandbox.channels("youtube")[0]
    by_id = _get(sandbox, client, "/channels", part="snippet,statistics", id=channel["id"]).json()
    by_handle = _get(
        sandbox, client, "/channels", part="snippet,statistics", forHandle=channel["handle"]
    ).json()
    assert by_id["items"] == by_handle["items"]
    item = by_id["items"][0]
    assert item["kind"] == "youtube#channel"
    assert item["id"] == channel["id"]
    assert item["snippet"]["customUrl"] == channel["handle"]
    stats = item["statistics"]
    assert stats["hiddenSubscriberCount"] is channel["hide_subscribers"]
    if not channel["hide_subscribers"]:
        assert isinstance(stats["subscriberCount"], str)
        now = sandbox.clock.time()
        followers = sandbox.truth(now, now + 60, channel["key"])["channels"][0]["followers"]
        assert int(stats["subscriberCount"]) == subscriber_count(followers["from"])
    nobody = _get(sandbox, client, "/channels", part="snippet", forHandle="@nobody-here").json()
    assert "items" not in nobody
    assert nobody["pageInfo"]["totalResults"] == 0


def test_subscriber_counts_round_down_to_three_figures() -> None:
    assert [subscriber_count(n) for n in (999, 1234, 98_765, 1_234_567)] == [
        999,
        1230,
        98_700,
        1_230_000,
    ]


def test_keys_are_checked(sandbox: Sandbox, client: httpx.Client) -> None:
    url = sandbox.settings_env()["YOUTUBE_API_URL"] + "/videos"
    missing = client.get(url, params={"part": "snippet", "id": "x"})
    assert missing.status_code == 403
    assert missing.json()["error"]["errors"][0]["reason"] == "forbidden"
    wrong = client.get(url, params={"part": "snippet", "id": "x", "key": "nope"})
    assert wrong.status_code == 400
    assert sandbox.counters()["youtube.quota_used"] == 0


def test_quota_runs_out_with_quota_exceeded(client: httpx.Client) -> None:
    with Sandbox(seed=2, channels=20, youtube_quota=3, rate=0, start="2025-03-04T20:00:00Z") as sb:
        ids = ",".join(c["id"] for c in sb.channels("youtube"))
        answers = [_get(sb, client, "/channels", part="statistics", id=ids) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        over = _get(sb, client, "/videos", part="snippet", id="abc")
        assert over.status_code == 403
        assert over.json() == {
            "error": {
                "code": 403,
                "message": QUOTA_MESSAGE,
                "errors": [
                    {"message": QUOTA_MESSAGE, "domain": "youtube.quota", "reason": "quotaExceeded"}
                ],
            }
        }
        counters = sb.counters()
        assert counters["youtube.quota_used"] == 3
        assert counters["youtube.channels"] == 3
        assert counters["youtube.videos"] == 1
        # The quota day ends at midnight Pacific: 08:00 UTC in March before DST.
        sb.clock.set("2025-03-05T08:00:00Z")
        assert _get(sb, client, "/videos", part="snippet", id="abc").status_code == 200


def test_search_costs_a_hundred_units_and_is_counted(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    assert sandbox.counters()["youtube.search"] == 0
    channel = sandbox.channels("youtube")[0]
    body = _get(
        sandbox,
        client,
        "/search",
        part="snippet",
        channelId=channel["id"],
        eventType="live",
        type="video",
    ).json()
    assert body["kind"] == "youtube#searchListResponse"
    counters = sandbox.counters()
    assert counters["youtube.search"] == 1
    assert counters["youtube.quota_used"] == 100


def test_at_most_fifty_ids(sandbox: Sandbox, client: httpx.Client) -> None:
    response = _get(sandbox, client, "/videos", part="snippet", id=",".join(["abc"] * 51))
    assert response.status_code == 400
