import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from shared.config import Settings
from shared.platforms.base import ChannelTarget, Platform, parse_channel_ref
from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    InvalidResponse,
    NotFound,
    PlatformUnavailable,
    RateLimited,
)
from shared.platforms.pacing import RatePacer
from shared.platforms.twitch import TwitchClient
from tests.unit.platforms.support import (
    FakeTime,
    Recorder,
    fixture_bytes,
    fixture_json,
    fixture_response,
    json_response,
)

TOKEN = fixture_json("twitch", "token.json")["access_token"]


def targets(*ids: str) -> list[ChannelTarget]:
    return [ChannelTarget(platform_channel_id=i) for i in ids]


def stream(user_id: str, viewers: int = 10) -> dict[str, Any]:
    return {
        **fixture_json("twitch", "streams.json")["data"][0],
        "id": f"s{user_id}",
        "user_id": user_id,
        "viewer_count": viewers,
    }


class FakeTwitch:
    """Answers like Helix; `live` user ids have a stream; hooks override answers."""

    def __init__(self, time: FakeTime, live: set[str] | None = None) -> None:
        self.time = time
        self.live = live or set()
        self.tokens_issued = 0
        self.valid_tokens = {TOKEN}
        self.override: dict[str, list[httpx.Response]] = {}
        self.remaining = 799
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        with self.lock:
            if self.override.get(path):
                return self.override[path].pop(0)
        if path == "token":
            with self.lock:
                self.tokens_issued += 1
            return json_response(fixture_json("twitch", "token.json"))
        if request.headers.get("Authorization") not in {f"Bearer {t}" for t in self.valid_tokens}:
            return fixture_response("twitch", "error_401.response.json")
        headers = {
            "Ratelimit-Limit": "800",
            "Ratelimit-Remaining": str(self.remaining),
            "Ratelimit-Reset": str(int(self.time.wall) + 60),
        }
        if path == "streams":
            ids = request.url.params.get_list("user_id")
            data = [stream(i) for i in ids if i in self.live]
            return json_response({"data": data, "pagination": {}}, headers=headers)
        if path == "followers":
            return json_response(fixture_json("twitch", "followers.json"), headers=headers)
        if path == "users":
            logins = request.url.params.get_list("login")
            ids = request.url.params.get_list("id")
            users = fixture_json("twitch", "users.json")["data"]
            found = [u for u in users if u["login"] in logins or u["id"] in ids]
            return json_response({"data": found}, headers=headers)
        return httpx.Response(404)


def make(time: FakeTime, fake: FakeTwitch, **kwargs: Any) -> tuple[TwitchClient, Recorder]:
    rec = Recorder(fake)
    client = TwitchClient(
        rec.client(),
        client_id="uo6dggojyb8d6soh92zknwmi5ej1q2",
        client_secret=SecretStr("nyo51xcdrerl8z9m56w9w6wg"),
        policy=time.policy(),
        clock=time.now,
        **kwargs,
    )
    return client, rec


def helix(rec: Recorder, path: str) -> list[httpx.Request]:
    return [r for r in rec.requests if r.url.path.endswith(path)]


def test_token_by_client_credentials_then_bearer_and_client_id() -> None:
    time = FakeTime()
    client, rec = make(time, FakeTwitch(time, live={"1"}))
    client.fetch_live(targets("1"))
    token, streams = rec.requests
    assert (token.method, str(token.url)) == ("POST", "https://id.twitch.tv/oauth2/token")
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert httpx.QueryParams(token.content.decode()) == httpx.QueryParams(
        client_id="uo6dggojyb8d6soh92zknwmi5ej1q2",
        client_secret="nyo51xcdrerl8z9m56w9w6wg",
        grant_type="client_credentials",
    )
    assert streams.headers["Client-Id"] == "uo6dggojyb8d6soh92zknwmi5ej1q2"
    assert streams.headers["Authorization"] == f"Bearer {TOKEN}"


def test_250_channels_take_exactly_three_get_streams_requests() -> None:
    time = FakeTime()
    ids = [str(1000 + i) for i in range(250)]
    fake = FakeTwitch(time, live={ids[0], ids[120], ids[249]})
    client, rec = make(time, fake)
    batch = client.fetch_live(targets(*ids))
    calls = helix(rec, "/streams")
    assert len(calls) == 3
    assert [len(c.url.params.get_list("user_id")) for c in calls] == [100, 100, 50]
    assert all(c.url.params.get_list("first") == ["100"] for c in calls)
    asked = [i for c in calls for i in c.url.params.get_list("user_id")]
    assert asked == ids
    assert batch.requests == 4  # the token and three pages
    assert batch.quota_units == 0
    assert len(batch.observations) == 250
    assert not batch.failures
    assert {i for i, o in batch.observations.items() if o.is_live} == {ids[0], ids[120], ids[249]}


def test_live_and_offline_observations() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.override["streams"] = [json_response(fixture_json("twitch", "streams.json"))]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("101051819", "459331509", "12826"))
    afro, auron, offline = (batch.observations[i] for i in ("101051819", "459331509", "12826"))
    assert afro.is_live
    assert afro.platform is Platform.TWITCH
    assert afro.platform_stream_id == "40952121085"
    assert afro.title == fixture_json("twitch", "streams.json")["data"][0]["title"]
    assert afro.category == "Grand Theft Auto V"
    assert afro.viewer_count == 1490
    assert afro.started_at == datetime(2021, 3, 10, 3, 18, 11, tzinfo=UTC)
    assert afro.observed_at == time.now()
    assert auron.category is None  # empty game_name
    assert auron.viewer_count == 0  # Twitch's 0 is a real 0
    assert not offline.is_live
    assert offline.viewer_count is None
    assert offline.title is None


def test_empty_data_means_everyone_is_offline() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.override["streams"] = [json_response(fixture_json("twitch", "streams_empty.json"))]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1", "2"))
    assert [o.is_live for o in batch.observations.values()] == [False, False]


def test_follows_the_pagination_cursor() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    page1 = fixture_json("twitch", "streams_page1.json")
    fake.override["streams"] = [
        json_response(page1),
        json_response(fixture_json("twitch", "streams_page2.json")),
    ]
    client, rec = make(time, fake)
    batch = client.fetch_live(targets("101051819", "459331509"))
    first, second = helix(rec, "/streams")
    assert "after" not in first.url.params
    assert second.url.params["after"] == page1["pagination"]["cursor"]
    assert second.url.params.get_list("user_id") == ["101051819", "459331509"]
    assert all(o.is_live for o in batch.observations.values())


def test_an_answer_for_a_user_not_asked_for_is_invalid() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.override["streams"] = [json_response({"data": [stream("999")], "pagination": {}})]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1"))
    assert isinstance(batch.failures["1"], InvalidResponse)


@pytest.mark.parametrize("name", ["streams_malformed.json"])
def test_malformed_payloads_fail_their_batch_as_invalid(name: str) -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.override["streams"] = [httpx.Response(200, content=fixture_bytes("twitch", name))]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("101051819", "2"))
    assert not batch.observations
    assert {type(e) for e in batch.failures.values()} == {InvalidResponse}
    assert batch.failures["2"].status == 200


def test_a_malformed_stream_fails_only_its_own_channel() -> None:
    # streams_wrong_types.json: a readable answer whose one stream has values of the
    # wrong types. Until issue 11 the whole batch failed with it.
    time = FakeTime()
    fake = FakeTwitch(time)
    body = fixture_bytes("twitch", "streams_wrong_types.json")
    fake.override["streams"] = [httpx.Response(200, content=body)]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("101051819", "2"))
    assert set(batch.failures) == {"101051819"}
    assert isinstance(batch.failures["101051819"], InvalidResponse)
    assert batch.failures["101051819"].status == 200
    assert batch.observations["2"].is_live is False


def test_one_malformed_item_among_100_never_sinks_the_batch() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    page = fixture_json("twitch", "streams_one_malformed.json")
    fake.override["streams"] = [json_response(page)]
    client, _ = make(time, fake)
    ids = [s.get("user_id") for s in page["data"] if isinstance(s, dict)]
    asked = [*[i for i in ids if isinstance(i, str)], *[str(n) for n in range(1, 98)]]
    batch = client.fetch_live(targets(*asked))
    assert set(batch.failures) == {"12826"}
    assert isinstance(batch.failures["12826"], InvalidResponse)
    assert "viewer_count" in batch.failures["12826"].message
    assert batch.observations["101051819"].is_live
    assert batch.observations["459331509"].viewer_count == 1213
    assert batch.observations["5"].is_live is False
    assert len(batch.observations) == len(asked) - 1


def test_an_item_naming_no_user_leaves_only_the_live_ones_certain() -> None:
    # Which channel an item without a user id was about cannot be told: every
    # channel not listed live might be it, so none of them is reported offline.
    time = FakeTime()
    fake = FakeTwitch(time)
    nameless = {**stream("101051819"), "user_id": None, "id": "s-nameless"}
    fake.override["streams"] = [
        json_response({"data": [stream("7", viewers=3), nameless], "pagination": {}})
    ]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("7", "8", "9"))
    assert batch.observations["7"].viewer_count == 3
    assert set(batch.failures) == {"8", "9"}
    assert all(isinstance(e, InvalidResponse) for e in batch.failures.values())


def test_ids_that_cannot_be_twitch_ids_fail_alone() -> None:
    time = FakeTime()
    client, rec = make(time, FakeTwitch(time))
    batch = client.fetch_live(targets("1", "shroud"))
    assert isinstance(batch.failures["shroud"], NotFound)
    assert helix(rec, "/streams")[0].url.params.get_list("user_id") == ["1"]


def test_a_failed_batch_does_not_sink_the_others() -> None:
    time = FakeTime()
    fake = FakeTwitch(time, live={"5"})
    fake.override["streams"] = [fixture_response("twitch", "error_503.response.json")] * 4
    client, _ = make(time, fake)
    ids = [str(i) for i in range(1, 151)]
    batch = client.fetch_live(targets(*ids))
    assert len(batch.failures) == 100
    assert all(isinstance(batch.failures[i], PlatformUnavailable) for i in ids[:100])
    assert set(batch.observations) == set(ids[100:])


def test_app_token_is_cached_across_calls_and_threads() -> None:
    time = FakeTime()
    fake = FakeTwitch(time, live={"1"})
    client, _ = make(time, fake)
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda _: client.fetch_live(targets("1", "2")), range(32)))
    assert fake.tokens_issued == 1


def test_token_is_refreshed_before_it_expires() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    client, _ = make(time, fake)
    client.fetch_live(targets("1"))
    time.advance(5011271 - 301)
    client.fetch_live(targets("1"))
    assert fake.tokens_issued == 1
    time.advance(2)  # inside the 300 s safety margin
    client.fetch_live(targets("1"))
    assert fake.tokens_issued == 2


def test_401_refreshes_the_token_once_and_retries() -> None:
    time = FakeTime()
    fake = FakeTwitch(time, live={"1"})
    fake.override["streams"] = [fixture_response("twitch", "error_401.response.json")]
    client, rec = make(time, fake)
    batch = client.fetch_live(targets("1"))
    assert batch.observations["1"].is_live
    assert fake.tokens_issued == 2
    assert rec.paths() == ["/oauth2/token", "/helix/streams", "/oauth2/token", "/helix/streams"]


def test_a_second_401_is_an_auth_error_and_stops_the_batch() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.valid_tokens = set()
    client, rec = make(time, fake)
    ids = [str(i) for i in range(1, 301)]
    batch = client.fetch_live(targets(*ids))
    assert all(isinstance(e, AuthError) and e.status == 401 for e in batch.failures.values())
    assert len(batch.failures) == 300
    assert len(helix(rec, "/streams")) == 2  # one refresh, then the rest short-circuit
    assert "Invalid OAuth token" in str(batch.failures["1"])


@pytest.mark.parametrize(
    "name", ["token_invalid_client.response.json", "token_invalid_secret.response.json"]
)
def test_token_endpoint_rejections_are_auth_errors(name: str) -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.override["token"] = [fixture_response("twitch", name)]
    client, rec = make(time, fake)
    batch = client.fetch_live(targets("1"))
    error = batch.failures["1"]
    assert isinstance(error, AuthError)
    assert "nyo51xcdrerl8z9m56w9w6wg" not in str(error)
    assert len(rec.requests) == 1


def test_a_token_that_cannot_go_into_a_header_is_an_invalid_response() -> None:
    # Found by hypothesis: a non-ASCII access token made httpx raise
    # UnicodeEncodeError while building the Helix request.
    time = FakeTime()
    fake = FakeTwitch(time)
    body = b'{"access_token": "abc\\u0080", "expires_in": 5000, "token_type": "bearer"}'
    fake.override["token"] = [httpx.Response(200, content=body)]
    client, rec = make(time, fake)
    batch = client.fetch_live(targets("1"))
    assert isinstance(batch.failures["1"], InvalidResponse)
    assert [r.url.path for r in rec.requests] == ["/oauth2/token"]


def test_429_waits_until_ratelimit_reset() -> None:
    time = FakeTime()
    fake = FakeTwitch(time, live={"1"})
    fake.override["streams"] = [fixture_response("twitch", "error_429.response.json")]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1"))
    assert batch.observations["1"].is_live
    assert time.sleeps == [12.0]  # Ratelimit-Reset 1700000012 - now 1700000000


def test_429_past_the_deadline_is_given_up() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.override["streams"] = [fixture_response("twitch", "error_429.response.json")]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1"), deadline=time.mono + 5)
    assert isinstance(batch.failures["1"], RateLimited)
    assert time.sleeps == []


def test_paces_before_the_bucket_runs_out() -> None:
    time = FakeTime()
    fake = FakeTwitch(time)
    fake.remaining = 3
    client, _ = make(time, fake, pace_below=10)
    client.fetch_live(targets("1"))  # learns: 3 left, reset in 60 s
    assert time.sleeps == []
    client.fetch_live(targets("2"))
    assert time.sleeps == [pytest.approx(60 / 4)]  # the 3 left (+1) share the 60 s


def test_pacer_reserves_points_across_threads() -> None:
    time = FakeTime()
    pacer = RatePacer(time.policy(), Platform.TWITCH, pace_below=2)
    reset = str(time.wall + 10)
    pacer.observe(
        httpx.Response(200, headers={"Ratelimit-Remaining": "4", "Ratelimit-Reset": reset})
    )
    for _ in range(4):
        pacer.before(None)
    # 4 → 3 → 2 (no wait), then 2 left: 10/3, then 1 left: (10 - 10/3)/2
    assert time.sleeps == [pytest.approx(10 / 3), pytest.approx((10 - 10 / 3) / 2)]
    with pytest.raises(DeadlineExceeded):
        pacer.before(time.mono + 0.1)


def test_pacer_forgets_a_bucket_once_it_resets() -> None:
    time = FakeTime()
    pacer = RatePacer(time.policy(), Platform.TWITCH)
    headers = {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0"}
    pacer.observe(httpx.Response(200, headers={**headers, "Ratelimit-Reset": str(time.wall + 5)}))
    time.advance(6)
    pacer.before(None)
    pacer.before(None)
    assert time.sleeps == []


def test_followers_one_request_per_channel() -> None:
    time = FakeTime()
    client, rec = make(time, FakeTwitch(time))
    batch = client.fetch_stats(targets("141981764", "12826"))
    calls = helix(rec, "/channels/followers")
    assert [c.url.params["broadcaster_id"] for c in calls] == ["141981764", "12826"]
    assert batch.stats["141981764"].followers == 8
    assert batch.stats["141981764"].subscribers is None
    assert batch.stats["141981764"].observed_at == time.now()
    assert batch.requests == 3


def test_resolve_by_login_and_by_id() -> None:
    time = FakeTime()
    client, rec = make(time, FakeTwitch(time))
    by_login = client.resolve(parse_channel_ref(Platform.TWITCH, "https://twitch.tv/TwitchDev"))
    assert by_login.platform_channel_id == "141981764"
    assert by_login.handle == "twitchdev"
    assert by_login.display_name == "TwitchDev"
    assert by_login.url == "https://www.twitch.tv/twitchdev"
    assert by_login.avatar_url
    assert by_login.avatar_url.endswith("profile_image-300x300.png")
    by_id = client.resolve(parse_channel_ref(Platform.TWITCH, "141981764"))
    assert by_id == by_login
    last = helix(rec, "/users")[-1]
    assert last.url.params.get_list("id") == ["141981764"]
    assert last.url.params.get_list("login") == ["141981764"]
    with pytest.raises(NotFound):
        client.resolve(parse_channel_ref(Platform.TWITCH, "nobody_here"))
    fake = FakeTwitch(time)
    fake.override["users"] = [json_response(fixture_json("twitch", "users_empty.json"))]
    client, _ = make(time, fake)
    with pytest.raises(NotFound):
        client.resolve(parse_channel_ref(Platform.TWITCH, "141981764"))


def test_lookup_users_batches_of_100() -> None:
    time = FakeTime()
    client, rec = make(time, FakeTwitch(time))
    client.lookup_users([str(i) for i in range(150)], ["twitchdev"])
    calls = helix(rec, "/users")
    assert [
        len(c.url.params.get_list("id")) + len(c.url.params.get_list("login")) for c in calls
    ] == [100, 51]


def test_from_settings() -> None:
    settings = Settings(
        twitch_client_id="cid",
        twitch_client_secret=SecretStr("secret"),
        twitch_auth_url="http://127.0.0.1:9/auth",
        twitch_api_url="http://127.0.0.1:9/helix",
        platform_max_attempts=2,
    )
    time = FakeTime()
    fake = FakeTwitch(time)
    rec = Recorder(fake)
    client = TwitchClient.from_settings(settings, http_client=rec.client(), clock=time.now)
    client.fetch_live(targets("1"))
    assert [str(r.url).split("?")[0] for r in rec.requests] == [
        "http://127.0.0.1:9/auth/token",
        "http://127.0.0.1:9/helix/streams",
    ]
    with pytest.raises(ValueError, match="TWITCH_CLIENT_ID"):
        TwitchClient.from_settings(Settings())
