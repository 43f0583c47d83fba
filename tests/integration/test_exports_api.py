"""`GET /api/teams/{team_id}/exports` through the registered function: token, RLS,
plan feature, the CSV written to Storage (faked at the HTTP boundary in Supabase
Storage's wire format) and the signed URL returned."""

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import azure.functions as func
import httpx
import pytest
import respx
from azure.functions.decorators.function_app import Function

from shared.auth import get_token_verifier
from shared.config import get_settings
from shared.db import Database, reset_database
from tests.factories.tokens import SECRET, SUPABASE_URL
from tests.factories.tokens import mint as token
from tests.factories.users import create_user

SERVICE_KEY = "test-service-role-key"
TTL_S = 600
STORAGE = f"{SUPABASE_URL}/storage/v1"
UPLOAD = re.compile(re.escape(STORAGE) + r"/object/exports/(?P<path>.+)")
SIGN = re.compile(re.escape(STORAGE) + r"/object/sign/exports/(?P<path>.+)")
RANGE = {"from": "2026-10-01", "to": "2026-10-03", "format": "csv"}


@pytest.fixture
def export_fn(
    monkeypatch: pytest.MonkeyPatch, database_url: str, app_functions: dict[str, Function]
) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SUPABASE_URL", SUPABASE_URL)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", SERVICE_KEY)
    monkeypatch.setenv("EXPORT_URL_TTL_S", str(TTL_S))
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    reset_database()
    yield app_functions["team_exports"].get_user_function()
    reset_database()
    get_token_verifier.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def storage() -> Iterator[respx.MockRouter]:
    """Supabase Storage: upload answers {Key, Id}; sign, {signedURL} relative to /storage/v1."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:

        def uploaded(request: httpx.Request, path: str) -> httpx.Response:
            return httpx.Response(200, json={"Key": f"exports/{path}", "Id": str(uuid.uuid4())})

        def signed(request: httpx.Request, path: str) -> httpx.Response:
            return httpx.Response(
                200, json={"signedURL": f"/object/sign/exports/{path}?token=signed-token"}
            )

        mock.post(url__regex=UPLOAD, name="upload").mock(side_effect=uploaded)
        mock.post(url__regex=SIGN, name="sign").mock(side_effect=signed)
        yield mock


def call(fn: Any, team: str, bearer: str | None, params: dict[str, str]) -> func.HttpResponse:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response: func.HttpResponse = fn(
        func.HttpRequest(
            "GET",
            f"http://localhost/api/teams/{team}/exports",
            headers=headers,
            params=params,
            route_params={"team_id": team},
            body=b"",
        )
    )
    return response


def problem(response: func.HttpResponse) -> dict[str, Any]:
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_body())
    assert body["status"] == response.status_code
    return body


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


class World:
    """A pro team (owner, viewer) with two channels, an outsider, a free team."""

    def __init__(self, database: Database) -> None:
        self.owner, self.viewer, self.outsider = (create_user(database) for _ in range(3))
        self.free_owner = create_user(database)
        self.c1, self.c2, self.other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        with database.service() as conn:
            self.team = self._team(conn, "pro", self.owner)
            self.other_team = self._team(conn, "business", self.outsider)
            self.free_team = self._team(conn, "free", self.free_owner)
            conn.execute(
                "insert into public.team_members (team_id, user_id, role)"
                " values (%s, %s, 'viewer')",
                (self.team, self.viewer),
            )
            for cid, name, team in (
                (self.c1, "=HYPERLINK(evil)", self.team),
                (self.c2, "Calm Channel", self.team),
                (self.other, "Not Yours", self.other_team),
            ):
                conn.execute(
                    "insert into public.channels (id, platform, platform_channel_id, display_name)"
                    " values (%s, 'twitch', %s, %s)",
                    (cid, cid.hex, name),
                )
                conn.execute(
                    "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
                    (team, cid),
                )
            conn.execute(
                "insert into public.team_channels (team_id, channel_id) values (%s, %s)",
                (self.free_team, self.c2),
            )
            sessions = [
                # channel, stream, title, start, end, last seen, peak, avg, secs, n, known
                (self.c1, "before", "too early", at(1) - timedelta(hours=5),
                 at(1) - timedelta(hours=1), at(1) - timedelta(hours=1), 5, 5, 100, 2, 2),
                (self.c1, "s1", "=1+2", at(1, 10), at(1, 12), at(1, 12), 300, 150.5, 7200, 4, 4),
                (self.c2, "s2", "+cmd -x @me", at(2, 8), at(2, 9), at(2, 9), 10, None, 0, 3, 0),
                (self.c1, "open", "still live", at(3, 23), None, at(4, 2), 40, 20, 360, 5, 5),
                (self.c1, "after", "too late", at(4, 1), at(4, 3), at(4, 3), 1, 1, 1, 1, 1),
                (self.other, "x", "other team", at(2), at(2, 1), at(2, 1), 1, 1, 1, 1, 1),
            ]  # fmt: skip
            for row in sessions:
                conn.execute(
                    "insert into public.stream_sessions (channel_id, platform_stream_id, title,"
                    " started_at, ended_at, last_seen_at, peak_viewers, avg_viewers,"
                    " viewer_seconds, sample_count, known_viewer_sample_count)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    row,
                )
            daily = [
                # channel, day, live s, viewer s, peak, sum, known, live samples, followers
                (self.c1, date(2026, 9, 30), 3600, 3600, 1, 1, 1, 1, 1),
                (self.c1, date(2026, 10, 1), 7200, 36000, 300, 1000, 3, 3, 12),
                (self.c2, date(2026, 10, 3), 1800, 0, None, 0, 0, 2, -5),
                (self.c1, date(2026, 10, 4), 60, 60, 1, 1, 1, 1, None),
                (self.other, date(2026, 10, 2), 60, 60, 1, 1, 1, 1, 1),
            ]
            for row in daily:
                conn.execute(
                    "insert into public.channel_rollups_daily (channel_id, day, live_seconds,"
                    " viewer_seconds, peak_viewers, viewer_count_sum, known_viewer_sample_count,"
                    " live_sample_count, followers_gained) values (%s, %s, %s, %s, %s, %s, %s,"
                    " %s, %s)",
                    row,
                )

    @staticmethod
    def _team(conn: Any, plan: str, owner: uuid.UUID) -> uuid.UUID:
        row = conn.execute(
            "insert into public.teams (name, plan_id, created_by) values ('x', %s, %s)"
            " returning id",
            (plan, owner),
        ).fetchone()
        return uuid.UUID(str(row[0]))


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


def uploaded_csv(request: httpx.Request) -> tuple[str, list[list[str]]]:
    """The multipart upload's file part: (content type, CSV rows)."""
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(raw + request.content)
    [part] = [p for p in message.iter_parts() if p.get_filename()]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return part.get_content_type(), list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def sections(rows: list[list[str]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    for block in blocks:
        [title], header, *data = block
        out[title] = [dict(zip(header, r, strict=True)) for r in data]
    return out


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
def test_a_member_gets_the_csv_in_storage_and_a_signed_url(
    export_fn: Any, world: World, storage: respx.MockRouter
) -> None:
    before = datetime.now(UTC)
    response = call(export_fn, str(world.team), token(world.owner), RANGE)
    assert response.status_code == 200, response.get_body()
    body = json.loads(response.get_body())

    upload = storage["upload"].calls.last.request
    assert upload.headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert upload.headers["apikey"] == SERVICE_KEY
    path = UPLOAD.fullmatch(str(upload.url))["path"]  # type: ignore[index]
    assert path == body["path"]
    assert path.startswith(f"{world.team}/")
    assert path.endswith(".csv")

    sign = storage["sign"].calls.last.request
    assert SIGN.fullmatch(str(sign.url))["path"] == path  # type: ignore[index]
    assert int(json.loads(sign.content)["expiresIn"]) == TTL_S
    assert body["url"].startswith(f"{STORAGE}/object/sign/exports/{path}?token=signed-token")
    expires = datetime.fromisoformat(body["expires_at"])
    assert (
        before + timedelta(seconds=TTL_S) <= expires <= datetime.now(UTC) + timedelta(seconds=TTL_S)
    )

    content_type, rows = uploaded_csv(upload)
    assert content_type == "text/csv"
    got = sections(rows)
    sessions, daily = got["Sessions"], got["Daily rollups"]
    assert (body["session_rows"], body["daily_rows"], body["rows"]) == (3, 2, 5)

    assert [s["platform_stream_id"] for s in sessions] == ["s1", "s2", "open"]
    s1, s2, still_open = sessions
    assert s1["title"] == "'=1+2", "formula-looking text is defused"
    assert s1["channel"] == "'=HYPERLINK(evil)"
    assert s2["title"] == "'+cmd -x @me"
    assert s1["channel_id"] == str(world.c1)
    assert (s1["started_at"], s1["ended_at"]) == (at(1, 10).isoformat(), at(1, 12).isoformat())
    assert (s1["hours_streamed"], s1["hours_watched"]) == ("2", "2")
    assert (s1["peak_viewers"], s1["average_viewers"], s1["samples"]) == ("300", "150.5", "4")
    assert s2["average_viewers"] == "", "unknown average stays empty"
    assert still_open["ended_at"] == ""
    assert still_open["hours_streamed"] == "3", "an open session counts until last seen"

    first, second = daily
    assert (first["day"], first["channel_id"], first["channel"]) == (
        "2026-10-01", str(world.c1), "'=HYPERLINK(evil)",
    )  # fmt: skip
    assert (first["hours_streamed"], first["hours_watched"]) == ("2", "10")
    assert (first["peak_viewers"], first["average_viewers"]) == ("300", "333.3333")
    assert first["followers_gained"] == "12"
    assert (second["day"], second["channel"]) == ("2026-10-03", "Calm Channel")
    assert (second["hours_streamed"], second["hours_watched"]) == ("0.5", "0")
    assert (second["peak_viewers"], second["average_viewers"]) == ("", "")
    assert second["followers_gained"] == "-5", "numbers are never quoted"


def test_a_datetime_range_is_exclusive_at_its_end(
    export_fn: Any, world: World, storage: respx.MockRouter
) -> None:
    params = {"from": "2026-10-01T11:00:00+01:00", "to": "2026-10-02T08:00:00Z"}
    response = call(export_fn, str(world.team), token(world.owner), params)
    assert response.status_code == 200, response.get_body()
    got = sections(uploaded_csv(storage["upload"].calls.last.request)[1])
    # 10:00Z..08:00Z next day: s1 (10-12 on the 1st); s2 starts at 08:00 on the 2nd.
    assert [s["platform_stream_id"] for s in got["Sessions"]] == ["s1"]
    assert [d["day"] for d in got["Daily rollups"]] == ["2026-10-01"]


def test_a_viewer_may_export(export_fn: Any, world: World, storage: respx.MockRouter) -> None:
    response = call(export_fn, str(world.team), token(world.viewer), RANGE)
    assert response.status_code == 200
    assert storage["upload"].call_count == 1


@pytest.mark.parametrize(
    "team", ["other_team", "unknown", "malformed"], ids=["non-member", "no-such-team", "not-a-uuid"]
)
def test_anything_but_a_member_gets_404(
    export_fn: Any, world: World, storage: respx.MockRouter, team: str
) -> None:
    team_id = {
        "other_team": str(world.other_team),
        "unknown": str(uuid.uuid4()),
        "malformed": "not-a-team",
    }[team]
    response = call(export_fn, team_id, token(world.owner), RANGE)
    assert response.status_code == 404
    expected = "team_id must be a UUID" if team == "malformed" else "no such team"
    assert problem(response)["detail"].startswith(expected)
    assert storage["upload"].call_count == 0


def test_a_plan_without_csv_export_gets_403_naming_the_plans(
    export_fn: Any, world: World, storage: respx.MockRouter
) -> None:
    response = call(export_fn, str(world.free_team), token(world.free_owner), RANGE)
    assert response.status_code == 403
    detail = problem(response)["detail"]
    assert "Free plan" in detail
    assert "Pro and Business" in detail
    assert storage["upload"].call_count == 0


def test_without_a_token_401(export_fn: Any, world: World) -> None:
    response = call(export_fn, str(world.team), None, RANGE)
    assert response.status_code == 401
    assert problem(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-10-03"}, "from"),
        ({"from": "2026-10-01"}, "to"),
        ({"from": "2026-10-03", "to": "2026-10-01"}, "from must be before to"),
        ({"from": "2026-10-01T10:00:00Z", "to": "2026-10-01T10:00:00Z"}, "before"),
        ({"from": "2025-01-01", "to": "2026-10-01"}, "366 days"),
        ({"from": "2026-10-01T00:00:00", "to": "2026-10-03"}, "from"),
        ({"from": "yesterday", "to": "2026-10-03"}, "from"),
        ({**RANGE, "format": "xlsx"}, "format"),
    ],
    ids=["no-from", "no-to", "reversed", "empty", "too-long", "naive", "garbage", "xlsx"],
)
def test_bad_query_parameters_are_422(
    export_fn: Any, world: World, storage: respx.MockRouter, params: dict[str, str], field: str
) -> None:
    response = call(export_fn, str(world.team), token(world.owner), params)
    assert response.status_code == 422
    assert field in problem(response)["detail"]
    assert storage["upload"].call_count == 0


@pytest.mark.parametrize("failure", ["500", "connect"])
def test_storage_down_is_503(export_fn: Any, world: World, failure: str) -> None:
    with respx.mock(assert_all_mocked=True) as mock:
        upload = mock.post(url__regex=UPLOAD)
        if failure == "500":
            upload.respond(
                500, json={"statusCode": "500", "error": "InternalError", "message": "boom"}
            )
        else:
            upload.side_effect = httpx.ConnectError("refused")
        response = call(export_fn, str(world.team), token(world.owner), RANGE)
        assert upload.call_count == 1
    assert response.status_code == 503
    assert "storage" in problem(response)["detail"]


def test_without_the_service_key_503(
    export_fn: Any, world: World, storage: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
    get_settings.cache_clear()
    response = call(export_fn, str(world.team), token(world.owner), RANGE)
    assert response.status_code == 503
    assert "not configured" in problem(response)["detail"]
    assert storage["upload"].call_count == 0
