"""Connected channels end to end: the HTTP API, the sandbox's Twitch and Google OAuth
servers and YouTube Analytics, and the real database.

A team tracks sandbox channels through the API; its owner starts a connection,
the test plays the browser (following the sandbox's authorize redirect as the
account it names), and the callback runs through the registered function.
Time is the sandbox's clock, which the service's providers read too.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import azure.functions as func
import httpx
import pytest
from azure.functions.decorators.function_app import Function

import functions.connections
from localdev.sandbox import Sandbox
from shared.config import get_settings
from shared.connections import analytics, tokens
from shared.connections.eventsub import consenting_broadcasters
from shared.connections.providers import Providers, build_providers
from shared.crypto import Sealed, SecretBox
from shared.db import Database
from shared.platforms.retry import RetryPolicy
from tests.factories.teams import Crew, make_crew
from tests.integration.teams_support import Api, Response, api_env, clear_caches

CALLBACK = "http://127.0.0.1:7071/api/connections/callback"
PACIFIC = ZoneInfo("America/Los_Angeles")
START = "2026-11-20T12:00:00Z"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=161, channels=40, mix="twitch=0.5,youtube=0.5", start=START, rate=0
    ) as running:
        yield running


@dataclass
class World:
    api: Api
    sandbox: Sandbox
    database: Database
    functions: dict[str, Function]
    providers: Providers

    def callback(self, query: dict[str, str]) -> Response:
        handler = self.functions["connection_callback"].get_user_function()
        response: func.HttpResponse = handler(
            func.HttpRequest(
                "GET", "http://localhost/api/connections/callback", params=query, body=b""
            )
        )
        return Response(
            response.status_code,
            {"content-type": response.mimetype or ""}
            | {k.lower(): v for k, v in response.headers.items()},
            response.get_body(),
        )

    def consent(self, authorization_url: str, account: str, **extra: str) -> dict[str, str]:
        """Play the owner's browser at the platform: the redirect's query."""
        sep = "&" if "?" in authorization_url else "?"
        extra_q = "".join(f"&{k}={v}" for k, v in extra.items())
        answer = httpx.get(f"{authorization_url}{sep}sandbox_account={account}{extra_q}")
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
        return {k: v[-1] for k, v in parse_qs(location.query).items()}

    def control(self, path: str, body: Any = None) -> Any:
        if body is None:
            return httpx.get(f"{self.sandbox.url}{path}").json()
        return httpx.post(f"{self.sandbox.url}{path}", json=body).json()


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    database: Database,
    app_functions: dict[str, Function],
    sandbox: Sandbox,
) -> Iterator[World]:
    sandbox.set_faults(reset=True)
    sandbox.clock.set(START)
    env = {
        **sandbox.settings_env(),
        **api_env(),
        "DATABASE_URL": database_url,
        "PLATFORM_MAX_ATTEMPTS": "1",
        "CONNECTIONS_CALLBACK_URL": CALLBACK,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clear_caches()
    providers = build_providers(
        get_settings(), policy=RetryPolicy(max_attempts=1), clock=sandbox.clock.now
    )
    monkeypatch.setattr(functions.connections, "default_providers", lambda: providers)
    yield World(Api(app_functions), sandbox, database, app_functions, providers)
    clear_caches()


def channel_of(world: World, platform: str, index: int = 0) -> dict[str, Any]:
    return world.sandbox.channels(platform)[index]


def track(world: World, crew: Crew, platform: str, index: int = 0) -> uuid.UUID:
    ch = channel_of(world, platform, index)
    added = world.api(
        "POST",
        f"/api/teams/{crew.team_id}/channels",
        crew.owner,
        body={"platform": platform, "channel": ch["id"]},
    )
    assert added.status == 201, added.json
    return uuid.UUID(added.json["channel_id"])


def start(
    world: World, crew: Crew, channel_id: uuid.UUID, user: uuid.UUID | None = None
) -> Response:
    return world.api(
        "POST",
        f"/api/teams/{crew.team_id}/channels/{channel_id}/connection",
        user or crew.owner,
        body={},
    )


def connect(world: World, crew: Crew, platform: str, index: int = 0) -> tuple[uuid.UUID, Response]:
    channel_id = track(world, crew, platform, index)
    started = start(world, crew, channel_id)
    assert started.status == 200, started.json
    query = world.consent(
        started.json["authorization_url"], channel_of(world, platform, index)["id"]
    )
    return channel_id, world.callback(query)


def connection_rows(world: World, team_id: uuid.UUID) -> list[tuple[Any, ...]]:
    with world.database.service() as conn:
        return conn.execute(
            "select c.status, c.account_id, t.access_ciphertext is not null "
            "from public.channel_connections c "
            "left join public.channel_connection_tokens t on t.connection_id = c.id "
            "where c.team_id = %s",
            (team_id,),
        ).fetchall()


def audit(world: World, team_id: uuid.UUID) -> list[tuple[Any, ...]]:
    with world.database.service() as conn:
        return conn.execute(
            "select action, actor_id, actor from public.audit_log "
            "where team_id = %s and target_type = 'channel_connections' order by id",
            (team_id,),
        ).fetchall()


# --- the connect round trip ----------------------------------------------------------------


def test_twitch_round_trip_checks_ownership_and_seals_the_tokens(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch")
    started = start(world, crew, channel_id)
    assert started.status == 200
    url = urlsplit(started.json["authorization_url"])
    params = parse_qs(url.query)
    assert url.path.endswith("/twitch/oauth2/authorize")
    assert params["redirect_uri"] == [CALLBACK]
    assert params["scope"] == ["channel:bot moderator:read:followers"]
    assert params["force_verify"] == ["true"]
    assert "code_challenge" not in params  # Twitch does not take PKCE
    query = world.consent(started.json["authorization_url"], channel_of(world, "twitch")["id"])

    done = world.callback(query)
    assert done.status == 200, done.json
    assert done.json["status"] == "active"
    assert done.json["account_id"] == channel_of(world, "twitch")["id"]
    assert set(done.json["scopes"]) >= {"channel:bot", "moderator:read:followers"}

    with world.database.service() as conn:
        row = conn.execute(
            "select t.access_ciphertext, t.access_nonce, t.key_version, t.refresh_ciphertext, "
            "t.refresh_nonce from public.channel_connection_tokens t "
            "where t.connection_id = %s",
            (done.json["id"],),
        ).fetchone()
    assert row is not None
    box = SecretBox.from_settings(get_settings())
    access = box.open(Sealed(bytes(row[0]), bytes(row[1]), row[2]), uuid.UUID(done.json["id"]))
    validated = httpx.get(
        f"{world.sandbox.url}/twitch/oauth2/validate", headers={"Authorization": f"OAuth {access}"}
    )
    assert validated.json()["user_id"] == channel_of(world, "twitch")["id"]
    assert access.encode() not in bytes(row[0])

    listed = world.api("GET", f"/api/teams/{crew.team_id}/connections", crew.viewer)
    assert listed.status == 200
    assert listed.json["count"] == 1
    assert audit(world, crew.team_id) == [("channel_connections.insert", crew.owner, None)]
    assert (
        consenting_broadcasters(world.database, "twitch")[channel_of(world, "twitch")["id"]]
        == channel_id
    )


def test_youtube_round_trip_uses_pkce_offline_access_and_the_mine_check(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "youtube")
    started = start(world, crew, channel_id)
    params = parse_qs(urlsplit(started.json["authorization_url"]).query)
    assert params["access_type"] == ["offline"]
    assert params["prompt"] == ["consent"]
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) == 43
    assert set(params["scope"][0].split()) == {
        "https://www.googleapis.com/auth/yt-analytics.readonly",
        "https://www.googleapis.com/auth/youtube.readonly",
    }
    query = world.consent(started.json["authorization_url"], channel_of(world, "youtube")["id"])
    done = world.callback(query)
    assert done.status == 200, done.json
    assert connection_rows(world, crew.team_id) == [
        ("active", channel_of(world, "youtube")["id"], True)
    ]
    # YouTube has no cost-free push: the hook knows nothing about it.
    assert consenting_broadcasters(world.database, "youtube") == {}


def test_an_account_that_does_not_own_the_channel_is_refused(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch", 1)
    started = start(world, crew, channel_id)
    before = world.control("/_sandbox/twitch/oauth")
    # Someone signs in with another Twitch account (channel 2's).
    query = world.consent(started.json["authorization_url"], channel_of(world, "twitch", 2)["id"])
    refused = world.callback(query)
    assert refused.status == 403
    assert refused.is_problem
    assert "does not own this channel" in refused.json["detail"]
    assert connection_rows(world, crew.team_id) == []
    after = world.control("/_sandbox/twitch/oauth")
    assert after["revocations"] == before["revocations"] + 1  # the grant is handed back


def test_a_dropped_scope_is_refused(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "youtube", 1)
    started = start(world, crew, channel_id)
    query = world.consent(
        started.json["authorization_url"],
        channel_of(world, "youtube", 1)["id"],
        sandbox_drop_scope="https://www.googleapis.com/auth/yt-analytics.readonly",
    )
    refused = world.callback(query)
    assert refused.status == 422
    assert "yt-analytics.readonly" in refused.json["detail"]
    assert connection_rows(world, crew.team_id) == []


def test_the_owner_declining_is_a_clear_422(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch", 3)
    started = start(world, crew, channel_id)
    query = world.consent(
        started.json["authorization_url"], channel_of(world, "twitch", 3)["id"], sandbox_deny="1"
    )
    assert "code" not in query
    refused = world.callback(query)
    assert refused.status == 422
    assert "access_denied" in refused.json["detail"]


# --- the state: tampering, replay, expiry ---------------------------------------------------


def test_state_tampering_replay_and_expiry(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch", 4)
    owner_account = channel_of(world, "twitch", 4)["id"]

    started = start(world, crew, channel_id)
    query = world.consent(started.json["authorization_url"], owner_account)
    head, payload, signature = query["state"].split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    for bad in (f"{head}.{payload}.{flipped}", "not-a-state", "", query["state"] + "x"):
        refused = world.callback({**query, "state": bad})
        assert refused.status == 422, bad
        assert refused.is_problem
    # A state naming another team (payload swapped in) fails its signature too.
    other = make_crew(world.database)
    other_channel = track(world, other, "twitch", 4)
    other_query = world.consent(
        start(world, other, other_channel).json["authorization_url"], owner_account
    )
    _, other_payload, _ = other_query["state"].split(".")
    assert world.callback({**query, "state": f"{head}.{other_payload}.{signature}"}).status == 422

    assert world.callback(query).status == 200
    replay = world.callback(query)
    assert replay.status == 409
    assert "already used" in replay.json["detail"]

    # Expiry: the link is completed after CONNECTION_STATE_TTL_S.
    late_team = make_crew(world.database)
    late_channel = track(world, late_team, "twitch", 4)
    late = world.consent(
        start(world, late_team, late_channel).json["authorization_url"], owner_account
    )
    world.sandbox.clock.advance(601)
    expired = world.callback(late)
    assert expired.status == 422
    assert "expired" in expired.json["detail"]
    assert connection_rows(world, late_team.team_id) == []


def test_only_owners_and_admins_start_and_outsiders_learn_nothing(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch", 5)
    assert start(world, crew, channel_id, crew.admin).status == 200
    assert start(world, crew, channel_id, crew.member).status == 403
    assert start(world, crew, channel_id, crew.viewer).status == 403
    assert start(world, crew, channel_id, crew.outsider).status == 404
    untracked = uuid.uuid4()
    assert start(world, crew, untracked).status == 404
    rumble_free = world.api("GET", f"/api/teams/{crew.team_id}/connections", crew.outsider)
    assert rumble_free.status == 404


def test_a_demoted_admin_cannot_complete_a_started_connection(world: World) -> None:
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch", 6)
    started = start(world, crew, channel_id, crew.admin)
    with world.database.service() as conn:
        conn.execute(
            "update public.team_members set role = 'viewer' where team_id = %s and user_id = %s",
            (crew.team_id, crew.admin),
        )
    query = world.consent(started.json["authorization_url"], channel_of(world, "twitch", 6)["id"])
    assert world.callback(query).status == 403
    assert connection_rows(world, crew.team_id) == []


def _tokens_row(world: World, connection_id: uuid.UUID) -> tuple[Any, ...]:
    with world.database.service() as conn:
        row = conn.execute(
            "select updated_at, refreshed_at, failures from public.channel_connection_tokens "
            "where connection_id = %s",
            (connection_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


# --- token life ----------------------------------------------------------------------------


def test_refresh_before_expiry_then_invalid_grant_breaks_once(world: World) -> None:
    crew = make_crew(world.database)
    _, done = connect(world, crew, "twitch", 7)
    connection_id = uuid.UUID(done.json["id"])
    settings = get_settings()
    first = tokens.access_token(world.database, connection_id, settings, world.providers)

    # Four hours later the access token is about to expire: the upkeep refreshes it
    # (Twitch rotates the refresh token: a second refresh works with the new one).
    world.sandbox.clock.advance(4 * 3600 - 600)
    before = world.control("/_sandbox/twitch/oauth")["refreshes"]
    report = tokens.upkeep(world.database, settings, world.providers)
    assert report.refreshed >= 1
    assert str(connection_id) not in report.broken
    second = tokens.access_token(world.database, connection_id, settings, world.providers)
    assert second != first
    world.sandbox.clock.advance(4 * 3600 - 600)
    tokens.upkeep(world.database, settings, world.providers)
    assert world.control("/_sandbox/twitch/oauth")["refreshes"] >= before + 2

    # The owner removes the app on Twitch: refresh is invalid_grant, the connection
    # is broken (visible, audited) and never tried again.
    world.control(
        "/_sandbox/twitch/oauth/revoke", {"account": channel_of(world, "twitch", 7)["id"]}
    )
    world.sandbox.clock.advance(4 * 3600 - 600)
    report = tokens.upkeep(world.database, settings, world.providers)
    assert str(connection_id) in report.broken
    listed = world.api("GET", f"/api/teams/{crew.team_id}/connections", crew.member).json
    assert listed["data"][0]["status"] == "broken"
    assert "refresh token" in listed["data"][0]["broken_reason"]
    assert audit(world, crew.team_id)[-1] == ("channel_connections.update", None, "connections")
    untouched = _tokens_row(world, connection_id)
    for _ in range(3):
        world.sandbox.clock.advance(3600)
        again = tokens.upkeep(world.database, settings, world.providers)
        assert str(connection_id) not in again.broken
    assert _tokens_row(world, connection_id) == untouched  # nothing tried again
    assert (
        consenting_broadcasters(world.database, "twitch").get(channel_of(world, "twitch", 7)["id"])
        is None
    )
    with pytest.raises(tokens.ConnectionUnusable):
        tokens.access_token(world.database, connection_id, settings, world.providers)


def test_twitch_tokens_are_validated_hourly_and_a_revoked_one_breaks(world: World) -> None:
    crew = make_crew(world.database)
    _, done = connect(world, crew, "twitch", 8)
    settings = get_settings()
    validations = world.sandbox.counters()["twitch.validate"]
    world.sandbox.clock.advance(3601)
    report = tokens.upkeep(world.database, settings, world.providers)
    assert report.validated >= 1
    assert world.sandbox.counters()["twitch.validate"] > validations
    # Revoked on Twitch's side (not by us): the next hourly validation finds out.
    world.control(
        "/_sandbox/twitch/oauth/revoke", {"account": channel_of(world, "twitch", 8)["id"]}
    )
    world.sandbox.clock.advance(3601)
    report = tokens.upkeep(world.database, settings, world.providers)
    assert done.json["id"] in report.broken


def test_a_google_testing_app_refresh_token_dies_after_seven_days(world: World) -> None:
    crew = make_crew(world.database)
    _, done = connect(world, crew, "youtube", 2)
    connection_id = uuid.UUID(done.json["id"])
    settings = get_settings()
    world.sandbox.clock.advance(3000)
    assert tokens.upkeep(world.database, settings, world.providers).refreshed >= 1
    # The sandbox plays Google's Testing status for this grant: 7 days and it is gone.
    state = world.sandbox.ctx.state["youtube"].oauth
    state.refresh_lifetime_s = 7 * 86_400
    try:
        world.sandbox.clock.advance(7 * 86_400)
        report = tokens.upkeep(world.database, settings, world.providers)
    finally:
        state.refresh_lifetime_s = 0.0
    assert str(connection_id) in report.broken


def test_disconnect_revokes_at_the_platform_then_deletes(world: World) -> None:
    crew = make_crew(world.database)
    channel_id, _done = connect(world, crew, "youtube", 3)
    path = f"/api/teams/{crew.team_id}/channels/{channel_id}/connection"
    assert world.api("DELETE", path, crew.member).status == 403

    world.sandbox.set_faults(youtube={"error_rate": 1.0})
    down = world.api("DELETE", path, crew.owner)
    assert down.status == 503
    assert down.is_problem
    assert connection_rows(world, crew.team_id) != []  # nothing lost while Google is down

    world.sandbox.set_faults(reset=True)
    revocations = world.control("/_sandbox/youtube/oauth")["revocations"]
    assert world.api("DELETE", path, crew.owner).status == 204
    assert world.control("/_sandbox/youtube/oauth")["revocations"] == revocations + 1
    assert connection_rows(world, crew.team_id) == []
    assert [a[0] for a in audit(world, crew.team_id)] == [
        "channel_connections.insert",
        "channel_connections.delete",
    ]
    assert world.api("DELETE", path, crew.owner).status == 404


# --- the Analytics import -------------------------------------------------------------------


def _sessions_from_truth(
    world: World, channel_id: uuid.UUID, ref: str, t0: str, t1: str
) -> list[dict[str, Any]]:
    truth = world.sandbox.truth(t0, t1, channel=ref, viewers=False)["channels"][0]["streams"]
    streams = [s for s in truth if s["start"] and s["end"]]
    with world.database.service() as conn:
        for s in streams:
            conn.execute(
                "insert into public.stream_sessions (channel_id, platform_stream_id, started_at, "
                "ended_at, last_seen_at) values (%s, %s, %s, %s, %s) "
                "on conflict do nothing",
                (channel_id, s["id"], s["start"], s["end"], s["end"]),
            )
    return streams


def _daily(world: World, channel_id: uuid.UUID) -> dict[date, tuple[int, ...]]:
    with world.database.service() as conn:
        rows = conn.execute(
            "select day, views, estimated_minutes_watched, average_view_duration, "
            "subscribers_gained, subscribers_lost from public.channel_analytics_daily "
            "where channel_id = %s order by day",
            (channel_id,),
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _mine(report: analytics.ImportReport, channel_id: uuid.UUID) -> list[dict[str, object]]:
    return [e for e in report.errors if e["channel_id"] == str(channel_id)]


def test_the_import_upserts_settling_days_until_they_match_the_truth(world: World) -> None:
    crew = make_crew(world.database)
    index = next(
        i
        for i, c in enumerate(world.sandbox.channels("youtube"))
        if i >= 5 and not c["dormant"]
        and world.sandbox.truth("2026-10-25T00:00:00Z", "2026-11-20T00:00:00Z", channel=c["id"],
                                viewers=False)["channels"][0]["streams"]
    )  # fmt: skip
    ref = channel_of(world, "youtube", index)["id"]
    channel_id, done = connect(world, crew, "youtube", index)
    assert done.status == 200, done.json
    with world.database.service() as conn:  # a database kept from an earlier run
        conn.execute(
            "delete from public.channel_analytics_daily where channel_id = %s", (channel_id,)
        )
        conn.execute(
            "delete from public.channel_analytics_videos where channel_id = %s", (channel_id,)
        )
    streams = _sessions_from_truth(world, channel_id, ref, "2026-10-21T00:00:00Z", START)
    settings = get_settings()

    report = analytics.import_reports(world.database, settings, world.providers)
    assert _mine(report, channel_id) == []
    first = _daily(world, channel_id)
    # Backfill: 28 days ending yesterday (Pacific); yesterday is not reported yet.
    today = datetime.fromisoformat(START).astimezone(PACIFIC).date()
    assert max(first) == today - timedelta(days=2)
    assert min(first) == today - timedelta(days=28)
    truth = {
        date.fromisoformat(d["day"]): (
            d["views"], d["estimatedMinutesWatched"], d["averageViewDuration"],
            d["subscribersGained"], d["subscribersLost"],
        )
        for d in world.control(
            f"/_sandbox/youtube/analytics?channel={ref}&from={min(first)}&to={today}"
        )["days"]
    }  # fmt: skip
    settled = [d for d in first if d <= today - timedelta(days=4)]
    settling = [d for d in first if d > today - timedelta(days=4)]
    assert all(first[d] == truth[d] for d in settled)
    assert len(settling) == 2
    assert any(first[d] != truth[d] for d in settling)  # reported early: still growing
    for d in settling:  # the net subscriber change is right from the start
        assert first[d][3] - first[d][4] == truth[d][3] - truth[d][4]

    # The next two daily runs read those days again: upserted until they equal the truth.
    for _ in range(2):
        world.sandbox.clock.advance(86_400)
        again = analytics.import_reports(world.database, settings, world.providers)
        assert _mine(again, channel_id) == []
    second = _daily(world, channel_id)
    assert all(second[d] == truth[d] for d in settling)
    assert len(second) == len(first) + 2  # one new day a run, no duplicates

    # Live streams: the monitor's sessions, with the report's figures beside them.
    with world.database.service() as conn:
        videos = conn.execute(
            "select video_id, estimated_minutes_watched, peak_concurrent_viewers, first_day "
            "from public.channel_analytics_videos where channel_id = %s",
            (channel_id,),
        ).fetchall()
    by_id = {s["id"]: s for s in streams}
    assert videos
    assert {v[0] for v in videos} <= set(by_id)
    for video_id, minutes, peak, first_day in videos:
        assert peak == by_id[video_id]["peak_viewers"]
        started = datetime.fromisoformat(by_id[video_id]["start"]).astimezone(PACIFIC).date()
        assert first_day == started
        assert minutes > 0

    # The dashboard function, for members of the connected team only.
    span = (min(second), max(second))
    with world.database.user({"sub": str(crew.member), "role": "authenticated"}) as conn:
        rows = conn.execute(
            "select day, views from public.analytics_connected_daily(%s, %s, %s)",
            (channel_id, *span),
        ).fetchall()
    assert {r[0]: r[1] for r in rows if r[1] is not None} == {d: v[0] for d, v in second.items()}
    with world.database.user({"sub": str(crew.outsider), "role": "authenticated"}) as conn:
        row = conn.execute(
            "select count(*) from public.analytics_connected_daily(%s, %s, %s)",
            (channel_id, *span),
        ).fetchone()
    assert row == (0,)
    with world.database.service() as conn:
        run = conn.execute(
            "select status, requests, days_written from public.analytics_import_runs where id = %s",
            (again.run_id,),
        ).fetchone()
    assert run is not None
    assert run[1] >= 1
    assert run[2] >= 3  # the window's 4 days but yesterday, not reported yet


def test_an_import_with_a_revoked_grant_breaks_the_connection_and_records_it(world: World) -> None:
    crew = make_crew(world.database)
    _, done = connect(world, crew, "youtube", 4)
    world.control(
        "/_sandbox/youtube/oauth/revoke", {"account": channel_of(world, "youtube", 4)["id"]}
    )
    world.sandbox.clock.advance(3600)  # the access token has expired: refresh is refused
    report = analytics.import_reports(world.database, get_settings(), world.providers)
    mine = _mine(report, uuid.UUID(done.json["channel_id"]))
    assert mine
    assert mine[0]["broken"] is True
    assert report.status in ("partial", "failed")
    assert connection_rows(world, crew.team_id)[0][0] == "broken"
    with world.database.service() as conn:
        errors = conn.execute(
            "select errors from public.analytics_import_runs where id = %s", (report.run_id,)
        ).fetchone()
    assert errors is not None
    assert errors[0]


def test_the_callback_can_send_the_browser_back_to_the_frontend(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTIONS_RETURN_URL", "https://app.example.test/connections")
    get_settings.cache_clear()
    crew = make_crew(world.database)
    channel_id = track(world, crew, "twitch", 9)
    query = world.consent(
        start(world, crew, channel_id).json["authorization_url"],
        channel_of(world, "twitch", 9)["id"],
    )
    done = world.callback(query)
    assert done.status == 303
    assert done.headers["location"].startswith(
        "https://app.example.test/connections?status=connected&connection_id="
    )
    again = world.callback(query)
    assert again.status == 303
    assert "status=error" in again.headers["location"]
