"""Kick's client against Kick's documented wire format: requests asserted, waits recorded."""

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from shared.config import Settings
from shared.platforms.base import ChannelTarget, Platform, RefKind, parse_channel_ref
from shared.platforms.errors import (
    AuthError,
    DeadlineExceeded,
    InvalidResponse,
    NotFound,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)
from shared.platforms.kick import KickClient, stream_id
from shared.platforms.kick.client import ISOLATION_BUDGET, SET_ASIDE_S
from shared.platforms.pacing import AdaptivePacer
from tests.unit.platforms import support
from tests.unit.platforms.support import (
    FAST,
    FakeTime,
    Recorder,
    fixture_bytes,
    fixture_json,
    fixture_response,
    json_response,
)

TOKEN = fixture_json("kick", "token.json")["access_token"]
SECRET = "kick-client-secret-0123456789"
LIVE = fixture_json("kick", "livestreams.json")["data"]


def targets(*ids: str) -> list[ChannelTarget]:
    return [ChannelTarget(platform_channel_id=i) for i in ids]


def livestream(user_id: str, viewers: int = 10) -> dict[str, Any]:
    return {**LIVE[0], "broadcaster_user_id": int(user_id), "viewer_count": viewers}


class FakeKick:
    """Answers like Kick's public API; `live` ids stream, `refused` ids make Kick refuse
    a whole /livestreams request (400), `override` answers come first."""

    def __init__(self, live: set[str] | None = None, refused: set[str] | None = None) -> None:
        self.live = live or set()
        self.refused = refused or set()
        self.tokens_issued = 0
        self.valid_tokens = {TOKEN}
        self.channels = {"5357": "xposed", "7183419": "amouranth", "12345": "67890"}
        self.override: dict[str, list[httpx.Response]] = {}
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        with self.lock:
            if self.override.get(path):
                return self.override[path].pop(0)
        if path == "token":
            with self.lock:
                self.tokens_issued += 1
            return json_response(fixture_json("kick", "token.json"))
        if request.headers.get("Authorization") not in {f"Bearer {t}" for t in self.valid_tokens}:
            return fixture_response("kick", "error_401.response.json")
        ids = request.url.params.get_list("broadcaster_user_id")
        if path == "livestreams":
            if self.refused & set(ids):
                return fixture_response("kick", "error_400_refused.response.json")
            data = [livestream(i) for i in ids if i in self.live]
            return json_response({"data": data, "message": "OK"})
        if path == "channels":
            slugs = request.url.params.get_list("slug")
            data = [
                {**fixture_json("kick", "channels.json")["data"][0],
                 "broadcaster_user_id": int(i), "slug": s}
                for i, s in self.channels.items()
                if i in ids or s in slugs
            ]  # fmt: skip
            return json_response({"data": data, "message": "OK"})
        return httpx.Response(404)


def make(time: FakeTime, fake: Callable[[httpx.Request], httpx.Response], **kw: Any) -> tuple[
    KickClient, Recorder
]:  # fmt: skip
    rec = Recorder(fake)
    client = KickClient(
        rec.client(),
        client_id="01JQ4Z0KICKCLIENTID",
        client_secret=SecretStr(SECRET),
        policy=time.policy(**kw),
        clock=time.now,
    )
    return client, rec


def calls(rec: Recorder, path: str) -> list[httpx.Request]:
    return [r for r in rec.requests if r.url.path.endswith(path)]


def asked(request: httpx.Request) -> list[str]:
    return request.url.params.get_list("broadcaster_user_id")


# --- requests -----------------------------------------------------------------------


def test_token_by_client_credentials_then_bearer() -> None:
    time = FakeTime()
    client, rec = make(time, FakeKick(live={"5357"}))
    client.fetch_live(targets("5357"))
    token, streams = rec.requests
    assert (token.method, str(token.url)) == ("POST", "https://id.kick.com/oauth/token")
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert httpx.QueryParams(token.content.decode()) == httpx.QueryParams(
        client_id="01JQ4Z0KICKCLIENTID", client_secret=SECRET, grant_type="client_credentials"
    )
    assert streams.method == "GET"
    assert str(streams.url).split("?")[0] == "https://api.kick.com/public/v1/livestreams"
    assert streams.headers["Authorization"] == f"Bearer {TOKEN}"
    assert list(streams.url.params.multi_items()) == [
        ("broadcaster_user_id", "5357"), ("limit", "100"),
    ]  # fmt: skip


def test_120_channels_take_three_requests_of_at_most_50() -> None:
    time = FakeTime()
    ids = [str(1000 + i) for i in range(120)]
    client, rec = make(time, FakeKick(live={ids[0], ids[77], ids[119]}))
    batch = client.fetch_live(targets(*ids))
    got = calls(rec, "/livestreams")
    assert [len(asked(c)) for c in got] == [50, 50, 20]
    assert [i for c in got for i in asked(c)] == ids
    assert all(c.url.params["limit"] == "100" for c in got)
    assert batch.requests == 4  # the token and three batches
    assert len(batch.observations) == 120
    assert not batch.failures
    assert {i for i, o in batch.observations.items() if o.is_live} == {ids[0], ids[77], ids[119]}


def test_live_and_offline_observations() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.override["livestreams"] = [json_response(fixture_json("kick", "livestreams.json"))]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("5357", "7183419", "1820952", "99"))
    xposed, amouranth, uno, offline = (
        batch.observations[i] for i in ("5357", "7183419", "1820952", "99")
    )
    started = datetime(2025, 4, 8, 6, 47, 36, tzinfo=UTC)
    assert xposed.is_live
    assert xposed.platform is Platform.KICK
    assert (
        xposed.platform_stream_id == f"5357-{int(started.timestamp())}" == stream_id(5357, started)
    )
    assert xposed.title == "NOW: OPENING 150,000 WORTH OF BONUSES!"
    assert xposed.category == "Slots & Casino"
    assert xposed.viewer_count == 6908
    assert xposed.started_at == started
    assert xposed.observed_at == time.now()
    assert amouranth.title is None  # an empty title
    assert amouranth.viewer_count == 0  # Kick's 0 is a real 0
    assert uno.category is None  # a category without a name
    assert not offline.is_live
    assert (offline.viewer_count, offline.title, offline.platform_stream_id) == (None, None, None)


def test_the_stream_id_stays_while_the_stream_lasts() -> None:
    time = FakeTime()
    client, _ = make(time, FakeKick(live={"5357"}))
    first = client.fetch_live(targets("5357")).observations["5357"]
    time.advance(600)
    later = client.fetch_live(targets("5357")).observations["5357"]
    assert first.platform_stream_id == later.platform_stream_id
    assert first.observed_at != later.observed_at


def test_empty_data_means_everyone_is_offline() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.override["livestreams"] = [json_response(fixture_json("kick", "livestreams_empty.json"))]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1", "2"))
    assert [o.is_live for o in batch.observations.values()] == [False, False]


def test_truncated_json_fails_its_batch_as_invalid() -> None:
    time = FakeTime()
    fake = FakeKick()
    body = fixture_bytes("kick", "livestreams_malformed.json")
    fake.override["livestreams"] = [httpx.Response(200, content=body)]
    client, rec = make(time, fake)
    batch = client.fetch_live(targets("5357", "2"))
    assert not batch.observations
    assert {type(e) for e in batch.failures.values()} == {InvalidResponse}
    assert batch.failures["2"].status == 200
    assert len(calls(rec, "/livestreams")) == 1  # a 200 is no refusal: nothing is bisected


def test_wrong_types_fail_only_their_own_channel() -> None:
    time = FakeTime()
    fake = FakeKick()
    body = fixture_bytes("kick", "livestreams_wrong_types.json")
    fake.override["livestreams"] = [httpx.Response(200, content=body)]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("5357", "2"))
    assert set(batch.failures) == {"5357"}
    assert isinstance(batch.failures["5357"], InvalidResponse)
    assert batch.observations["2"].is_live is False


def test_one_malformed_item_never_sinks_the_batch() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.override["livestreams"] = [
        json_response(fixture_json("kick", "livestreams_one_malformed.json"))
    ]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("5357", "7183419", "1820952", *map(str, range(1, 48))))
    assert set(batch.failures) == {"7183419"}
    assert "viewer_count" in batch.failures["7183419"].message
    assert batch.observations["5357"].viewer_count == 6908
    assert batch.observations["1820952"].is_live
    assert batch.observations["5"].is_live is False
    assert len(batch.observations) == 49


def test_an_item_naming_no_broadcaster_leaves_only_the_live_ones_certain() -> None:
    time = FakeTime()
    fake = FakeKick()
    nameless = {**livestream("5357"), "broadcaster_user_id": "somebody"}
    fake.override["livestreams"] = [
        json_response({"data": [livestream("7", viewers=3), nameless], "message": "OK"})
    ]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("7", "8", "9"))
    assert batch.observations["7"].viewer_count == 3
    assert set(batch.failures) == {"8", "9"}
    assert all(isinstance(e, InvalidResponse) for e in batch.failures.values())


def test_an_answer_for_a_broadcaster_not_asked_for_is_invalid() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.override["livestreams"] = [json_response({"data": [livestream("999")], "message": ""})]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1"))
    assert isinstance(batch.failures["1"], InvalidResponse)


def test_ids_that_cannot_be_kick_ids_fail_alone_unsent() -> None:
    time = FakeTime()
    client, rec = make(time, FakeKick())
    batch = client.fetch_live(targets("1", "xposed", "0", "-4"))
    assert {i for i, e in batch.failures.items() if isinstance(e, NotFound)} == {
        "xposed",
        "0",
        "-4",
    }
    assert asked(calls(rec, "/livestreams")[0]) == ["1"]


# --- a batch refused for one channel --------------------------------------------------


def test_a_refused_batch_is_bisected_to_the_one_channel_kick_refuses() -> None:
    time = FakeTime()
    ids = [str(2000 + i) for i in range(50)]
    fake = FakeKick(live={ids[3], ids[40]}, refused={ids[17]})
    client, rec = make(time, fake)
    batch = client.fetch_live(targets(*ids))
    assert set(batch.failures) == {ids[17]}
    failure = batch.failures[ids[17]]
    assert isinstance(failure, NotFound)
    assert failure.status == 400
    assert "unknown or banned" in failure.message
    assert len(batch.observations) == 49
    assert {i for i, o in batch.observations.items() if o.is_live} == {ids[3], ids[40]}
    sent = calls(rec, "/livestreams")
    # Every request is counted: the refused one, then two per halving down to ids[17].
    assert batch.requests == 1 + len(sent)
    assert len(sent) <= 1 + 2 * 6
    assert [ids[17]] in [asked(r) for r in sent]  # asked alone, and refused alone
    # The refused channel is set aside: the next cycle asks for the 49 others only.
    rec.requests.clear()
    again = client.fetch_live(targets(*ids))
    assert [len(asked(r)) for r in calls(rec, "/livestreams")] == [49]
    assert again.requests == 1
    assert again.failures == {ids[17]: failure}
    # ...for a while: then it is tried in its batch again.
    time.advance(SET_ASIDE_S + 1)
    rec.requests.clear()
    fake.refused.clear()
    later = client.fetch_live(targets(*ids))
    assert [len(asked(r)) for r in calls(rec, "/livestreams")] == [50]
    assert not later.failures


def test_two_refused_channels_are_both_found() -> None:
    time = FakeTime()
    ids = [str(3000 + i) for i in range(50)]
    client, rec = make(time, FakeKick(refused={ids[0], ids[49]}))
    batch = client.fetch_live(targets(*ids))
    assert set(batch.failures) == {ids[0], ids[49]}
    assert len(batch.observations) == 48
    assert len(calls(rec, "/livestreams")) <= 1 + ISOLATION_BUDGET


def test_isolation_has_a_budget() -> None:
    time = FakeTime()
    ids = [str(4000 + i) for i in range(50)]
    client, rec = make(time, FakeKick(refused=set(ids[1::5])))  # ten refused channels
    batch = client.fetch_live(targets(*ids))
    assert len(calls(rec, "/livestreams")) == 1 + ISOLATION_BUDGET  # the first, then the budget
    assert set(ids[1::5]) <= set(batch.failures)
    assert len(batch.observations) + len(batch.failures) == 50
    assert all(o.is_live is False for o in batch.observations.values())


def test_an_endpoint_refusing_everything_is_not_bisected_channel_by_channel() -> None:
    time = FakeTime()
    ids = [str(5000 + i) for i in range(100)]
    fake = FakeKick()
    always = fixture_response("kick", "error_400_refused.response.json")
    fake.override["livestreams"] = [always] * 1000
    client, rec = make(time, fake)
    batch = client.fetch_live(targets(*ids))
    assert len(batch.failures) == 100
    first = len(calls(rec, "/livestreams"))
    assert first <= 2 * (1 + 6 + 1)  # down one branch to two refused single channels
    rec.requests.clear()
    client.fetch_live(targets(*ids))
    assert len(calls(rec, "/livestreams")) == 2  # one per batch, no bisecting for a while


def test_outages_are_retried_not_bisected_and_spare_the_other_batches() -> None:
    time = FakeTime()
    fake = FakeKick(live={"77"})
    fake.override["livestreams"] = [fixture_response("kick", "error_503.response.json")] * 4
    client, rec = make(time, fake)
    ids = [str(i) for i in range(1, 76)] + ["77"]
    batch = client.fetch_live(targets(*ids))
    assert len(batch.failures) == 50
    assert all(isinstance(batch.failures[i], PlatformUnavailable) for i in ids[:50])
    assert set(batch.observations) == set(ids[50:])
    assert batch.observations["77"].is_live
    assert [len(asked(r)) for r in calls(rec, "/livestreams")] == [50] * 4 + [26]


# --- the app token ----------------------------------------------------------------------


def test_app_token_is_cached_across_calls_and_threads() -> None:
    time = FakeTime()
    fake = FakeKick(live={"1"})
    client, _ = make(time, fake)
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda _: client.fetch_live(targets("1", "2")), range(32)))
    assert fake.tokens_issued == 1


def test_token_is_refreshed_before_it_expires() -> None:
    time = FakeTime()
    fake = FakeKick()
    client, _ = make(time, fake)
    client.fetch_live(targets("1"))
    time.advance(7200 - 301)
    client.fetch_live(targets("1"))
    assert fake.tokens_issued == 1
    time.advance(2)  # inside the 300 s safety margin
    client.fetch_live(targets("1"))
    assert fake.tokens_issued == 2


def test_401_refreshes_the_token_once_and_retries() -> None:
    time = FakeTime()
    fake = FakeKick(live={"1"})
    fake.override["livestreams"] = [fixture_response("kick", "error_401.response.json")]
    client, rec = make(time, fake)
    batch = client.fetch_live(targets("1"))
    assert batch.observations["1"].is_live
    assert fake.tokens_issued == 2
    assert rec.paths() == [
        "/oauth/token", "/public/v1/livestreams", "/oauth/token", "/public/v1/livestreams",
    ]  # fmt: skip
    assert batch.requests == 4


def test_a_second_401_is_an_auth_error_and_stops_the_batch() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.valid_tokens = set()
    client, rec = make(time, fake)
    batch = client.fetch_live(targets(*[str(i) for i in range(1, 151)]))
    assert len(batch.failures) == 150
    assert all(isinstance(e, AuthError) and e.status == 401 for e in batch.failures.values())
    assert len(calls(rec, "/livestreams")) == 2  # one refresh, then the rest short-circuit
    assert "Unauthorized" in str(batch.failures["1"])


def test_token_endpoint_refusals_are_auth_errors_without_the_secret() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.override["token"] = [fixture_response("kick", "token_invalid.response.json")]
    client, rec = make(time, fake)
    error = client.fetch_live(targets("1")).failures["1"]
    assert isinstance(error, AuthError)
    assert "Invalid request" in str(error)
    assert SECRET not in str(error)
    assert len(rec.requests) == 1


# --- pacing -----------------------------------------------------------------------------


def test_429_without_retry_after_backs_off_then_spaces_requests_out() -> None:
    time = FakeTime()
    fake = FakeKick(live={"1"})
    fake.override["livestreams"] = [fixture_response("kick", "error_429.response.json")]
    client, _ = make(time, fake)
    assert client.fetch_live(targets("1")).observations["1"].is_live
    assert time.sleeps == [0.5]  # the retry policy's first backoff (jitter at its top)
    assert client.pacer.interval_s == 0.25
    client.fetch_live(targets("1"))
    assert time.sleeps == [0.5, 0.25]  # Kick said slow down: later requests are spaced


def test_429_with_retry_after_holds_every_request_that_long() -> None:
    time = FakeTime()
    fake = FakeKick(live={"1"})
    fake.override["livestreams"] = [fixture_response("kick", "error_429_retry_after.response.json")]
    client, _ = make(time, fake)
    assert client.fetch_live(targets("1")).observations["1"].is_live
    assert time.sleeps == [7.0]


def test_429_past_the_deadline_is_given_up() -> None:
    time = FakeTime()
    fake = FakeKick()
    fake.override["livestreams"] = [fixture_response("kick", "error_429_retry_after.response.json")]
    client, _ = make(time, fake)
    batch = client.fetch_live(targets("1"), deadline=time.mono + 5)
    assert isinstance(batch.failures["1"], RateLimited)
    assert time.sleeps == []


def test_the_adaptive_pacer_doubles_on_429s_and_eases_off() -> None:
    time = FakeTime()
    pacer = AdaptivePacer(time.policy(), Platform.KICK, initial_s=0.5, max_s=2.0, ease_after=3)
    too_many, ok = httpx.Response(429), httpx.Response(200)
    pacer.before(None)
    assert time.sleeps == []
    for expected in (0.5, 1.0, 2.0, 2.0):
        pacer.observe(too_many)
        assert pacer.interval_s == expected
    for _ in range(3):
        pacer.observe(ok)
    assert pacer.interval_s == 1.0
    for _ in range(3):
        pacer.observe(ok)
    assert pacer.interval_s == 0.5
    for _ in range(3):
        pacer.observe(ok)
    assert pacer.interval_s == 0.0  # below the first step: unpaced again


def test_the_adaptive_pacer_books_one_slot_per_request() -> None:
    time = FakeTime()
    pacer = AdaptivePacer(time.policy(), Platform.KICK, initial_s=1.0)
    pacer.observe(httpx.Response(429))
    for _ in range(4):
        pacer.before(None)
    assert time.sleeps == [1.0, 1.0, 1.0]  # the first goes at once, then a second apart
    with pytest.raises(DeadlineExceeded):
        pacer.before(time.mono + 0.5)
    pacer.before(None)  # the slot the refused request booked was handed back
    assert time.sleeps[-1] == 1.0


# --- stats and resolution ---------------------------------------------------------------


def test_no_follower_counts_and_no_request_for_them() -> None:
    time = FakeTime()
    client, rec = make(time, FakeKick())
    stats = client.fetch_stats(targets("5357", "7183419"))
    assert (stats.stats, stats.failures, stats.requests) == ({}, {}, 0)
    assert rec.requests == []


def test_resolve_by_url_and_by_id_checks_the_channel_can_be_polled() -> None:
    time = FakeTime()
    client, rec = make(time, FakeKick())
    by_url = client.resolve(parse_channel_ref(Platform.KICK, "https://kick.com/Xposed"))
    assert by_url.platform_channel_id == "5357"
    assert by_url.handle == "xposed"
    assert by_url.url == "https://kick.com/xposed"
    lookup, probe = calls(rec, "/channels")[0], calls(rec, "/livestreams")[0]
    assert list(lookup.url.params.multi_items()) == [("slug", "xposed")]
    assert asked(probe) == ["5357"]
    by_id = client.resolve(parse_channel_ref(Platform.KICK, "5357"))
    assert by_id == by_url
    assert list(calls(rec, "/channels")[-1].url.params.multi_items()) == [
        ("broadcaster_user_id", "5357")
    ]


def test_an_all_digit_slug_is_found_after_the_id_lookup() -> None:
    time = FakeTime()
    client, rec = make(time, FakeKick())
    ref = parse_channel_ref(Platform.KICK, "67890")
    assert ref.kind is RefKind.ID
    channel = client.resolve(ref)
    assert channel.platform_channel_id == "12345"
    lookups = [list(r.url.params.multi_items()) for r in calls(rec, "/channels")]
    assert lookups == [[("broadcaster_user_id", "67890")], [("slug", "67890")]]


def test_resolve_refuses_unknown_and_unpollable_channels() -> None:
    time = FakeTime()
    client, _ = make(time, FakeKick(refused={"7183419"}))
    with pytest.raises(NotFound, match="no Kick channel"):
        client.resolve(parse_channel_ref(Platform.KICK, "nobody_here"))
    with pytest.raises(NotFound, match="refuses live checks"):
        client.resolve(parse_channel_ref(Platform.KICK, "amouranth"))
    fake = FakeKick()
    fake.override["channels"] = [json_response(fixture_json("kick", "channels.json"))]
    client, _ = make(time, fake)
    with pytest.raises(InvalidResponse, match="not asked for"):
        client.resolve(parse_channel_ref(Platform.KICK, "amouranth"))


def test_from_settings() -> None:
    settings = Settings(
        kick_client_id="cid",
        kick_client_secret=SecretStr("secret"),
        kick_auth_url="http://127.0.0.1:9/id",
        kick_api_url="http://127.0.0.1:9/public/v1",
    )
    time = FakeTime()
    rec = Recorder(FakeKick())
    client = KickClient.from_settings(settings, http_client=rec.client(), clock=time.now)
    client.fetch_live(targets("1"))
    assert [str(r.url).split("?")[0] for r in rec.requests] == [
        "http://127.0.0.1:9/id/oauth/token",
        "http://127.0.0.1:9/public/v1/livestreams",
    ]
    with pytest.raises(ValueError, match="KICK_CLIENT_ID"):
        KickClient.from_settings(Settings())


# --- whatever Kick answers, only InvalidResponse escapes the parsers ------------------

KEYS = [
    "data", "message", "broadcaster_user_id", "slug", "stream_title", "viewer_count",
    "started_at", "category", "id", "name", "access_token", "expires_in", "error",
]  # fmt: skip
json_values = support.json_values(
    KEYS, ["", "~12", "soon", "5357", "2025-04-08T06:47:36Z", "2025-04-08T06:47"]
)


def bodies(fixture: str) -> st.SearchStrategy[bytes]:
    return support.bodies("kick", fixture, json_values)


def answering(path: str, body: bytes) -> FakeKick:
    fake = FakeKick()
    fake.override[path] = [httpx.Response(200, content=body)] * 4
    return fake


@FAST
@given(bodies("livestreams.json"))
def test_any_livestreams_answer(body: bytes) -> None:
    client, _ = make(FakeTime(), answering("livestreams", body))
    batch = client.fetch_live(targets("5357", "7183419", "1820952", "7"))
    assert all(type(e) is InvalidResponse for e in batch.failures.values()), batch.failures
    assert len(batch.observations) + len(batch.failures) == 4


@FAST
@given(bodies("channels.json"))
def test_any_channels_answer(body: bytes) -> None:
    client, _ = make(FakeTime(), answering("channels", body))
    try:
        client.resolve(parse_channel_ref(Platform.KICK, "xposed"))
    except (InvalidResponse, NotFound):
        pass


@FAST
@given(bodies("token.json"))
def test_any_token_answer(body: bytes) -> None:
    client, _ = make(FakeTime(), answering("token", body))
    failures = client.fetch_live(targets("1")).failures
    assert all(type(e) in (InvalidResponse, AuthError) for e in failures.values()), failures


@FAST
@given(
    st.sampled_from([400, 401, 403, 404, 422, 429, 500, 503]), json_values, st.binary(max_size=60)
)
def test_error_bodies_of_any_shape_map_into_the_tree(status: int, doc: Any, raw: bytes) -> None:
    for content in (json.dumps(doc).encode(), raw):
        fake = FakeKick()
        fake.override["livestreams"] = [httpx.Response(status, content=content)] * 40
        client, _ = make(FakeTime(), fake, max_attempts=1)
        failure = client.fetch_live(targets("1")).failures["1"]
        assert isinstance(failure, PlatformError)
        assert failure.status == status
