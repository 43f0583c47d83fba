"""CSV export of a team's analytics: the service behind
`GET /api/teams/{team_id}/exports`.

The data is read in the caller's user-scoped transaction, so RLS decides
what they may see: a team they are not a member of does not exist (404).
The plan must include the `csv_export` feature (403 naming the plans that
do). The CSV is uploaded to the private Storage bucket under the team's
folder, `<team_id>/…`, with the service role key, and the caller gets a
signed URL; no HTTP call is made while the transaction is open.

One file, two sections, each with its own header row:
  Sessions       every stream session of the team's channels overlapping the range
  Daily rollups  per channel per UTC day touched by the range
                 (hours streamed = live_seconds / 3600, hours watched =
                 viewer_seconds / 3600, average = viewer_count_sum /
                 known_viewer_sample_count; empty where unknown)

Text cells starting with = + - @ (or a tab or carriage return) are prefixed
with a single quote so a spreadsheet never runs them as formulas.

Errors come from `shared.errors`: NotFound, Forbidden, Unprocessable,
Unavailable (Storage not configured or down).
"""

import csv
import io
import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from shared.auth import AccessClaims
from shared.clock import utc_now
from shared.config import Settings
from shared.db import Database
from shared.errors import Forbidden, NotFound, Unavailable
from shared.storage import StorageError, StorageNotConfigured, SupabaseStorage

logger = logging.getLogger(__name__)

MAX_RANGE = timedelta(days=366)
CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _no_naive_datetime(value: object) -> object:
    """A date-time without an offset is ambiguous: refuse it rather than read it as a date."""
    if isinstance(value, str) and len(value.strip()) > len("YYYY-MM-DD"):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return value  # pydantic says what is wrong with it
        if parsed.tzinfo is None:
            raise ValueError("a date-time needs its UTC offset (Z or +hh:mm)")
    return value


Instant = Annotated[
    AwareDatetime | date, Field(union_mode="left_to_right"), BeforeValidator(_no_naive_datetime)
]


def _start_of(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(), UTC)


class ExportQuery(BaseModel):
    """Query parameters of `GET /api/teams/{team_id}/exports`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    from_: Instant = Field(alias="from")
    """Start: an ISO 8601 date (that UTC day's start) or a datetime with its offset."""
    to: Instant
    """End: a date counts whole (up to the next UTC midnight); a datetime is exclusive."""
    format: Literal["csv"] = "csv"

    @property
    def start(self) -> datetime:
        return _start_of(self.from_)

    @property
    def end(self) -> datetime:
        if isinstance(self.to, datetime):
            return self.to.astimezone(UTC)
        return _start_of(self.to) + timedelta(days=1)

    @model_validator(mode="after")
    def _valid_range(self) -> "ExportQuery":
        if self.start >= self.end:
            raise ValueError("from must be before to")
        if self.end - self.start > MAX_RANGE:
            raise ValueError(f"the range may span at most {MAX_RANGE.days} days")
        return self


class ExportPublic(BaseModel):
    """A finished export: where to download it, until when."""

    url: str
    """Signed download URL of the CSV (no token needed)."""
    expires_at: datetime
    path: str
    """Object path in the exports bucket: `<team_id>/<file>.csv`."""
    rows: int
    """Data rows written, both sections."""
    session_rows: int
    daily_rows: int


SESSION_HEADER = (
    "session_id", "channel_id", "platform", "channel", "platform_stream_id", "title",
    "category", "started_at", "ended_at", "hours_streamed", "hours_watched", "peak_viewers",
    "average_viewers", "samples", "samples_with_viewer_count",
)  # fmt: skip
DAILY_HEADER = (
    "day", "channel_id", "platform", "channel", "hours_streamed", "hours_watched",
    "peak_viewers", "average_viewers", "followers_gained",
)  # fmt: skip

_TEAM_SQL = """
  select p.name, coalesce((p.features ->> 'csv_export')::boolean, false)
  from public.teams t join public.plans p on p.id = t.plan_id
  where t.id = %s
"""
_PLANS_WITH_EXPORT_SQL = """
  select name from public.plans
  where is_public and coalesce((features ->> 'csv_export')::boolean, false)
  order by sort_order, id
"""
# Sessions overlapping [start, end); an open session counts until last seen.
_SESSIONS_SQL = """
  select s.id, s.channel_id, c.platform::text, coalesce(c.display_name, c.handle),
         s.platform_stream_id, s.title, s.category, s.started_at, s.ended_at,
         extract(epoch from coalesce(s.ended_at, s.last_seen_at) - s.started_at) / 3600,
         s.viewer_seconds / 3600, s.peak_viewers, s.avg_viewers, s.sample_count,
         s.known_viewer_sample_count
  from public.stream_sessions s
  join public.team_channels tc on tc.channel_id = s.channel_id and tc.team_id = %(team)s
  join public.channels c on c.id = s.channel_id
  where s.started_at < %(end)s and coalesce(s.ended_at, s.last_seen_at) >= %(start)s
  order by s.started_at, s.id
"""
# followers_gained is not a column clients read: the database answers it, per
# day, to teams whose plan has followers_history (empty otherwise).
_DAILY_SQL = """
  select r.day, r.channel_id, c.platform::text, coalesce(c.display_name, c.handle),
         r.live_seconds / 3600, r.viewer_seconds / 3600, r.peak_viewers,
         case when r.known_viewer_sample_count > 0
              then r.viewer_count_sum::numeric / r.known_viewer_sample_count end,
         f.followers_gained
  from public.channel_rollups_daily r
  join public.team_channels tc on tc.channel_id = r.channel_id and tc.team_id = %(team)s
  join public.channels c on c.id = r.channel_id
  left join public.analytics_team_daily_followers(%(team)s, %(first_day)s, %(last_day)s) f
    on f.channel_id = r.channel_id and f.day = r.day
  where r.day >= %(first_day)s and r.day <= %(last_day)s
  order by r.day, coalesce(c.display_name, c.handle), r.channel_id
"""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        # Fixed-point, never exponent notation, at most 4 decimals.
        return f"{value.quantize(Decimal('0.0001')).normalize():f}"
    return value


def render_csv(sessions: Iterable[Sequence[Any]], daily: Iterable[Sequence[Any]]) -> bytes:
    """The export file: a UTF-8 (with BOM, for spreadsheets) CSV with two sections."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Sessions"])
    writer.writerow(SESSION_HEADER)
    writer.writerows([_cell(v) for v in row] for row in sessions)
    writer.writerow([])
    writer.writerow(["Daily rollups"])
    writer.writerow(DAILY_HEADER)
    writer.writerows([_cell(v) for v in row] for row in daily)
    return out.getvalue().encode("utf-8-sig")


def _read(
    db: Database, claims: AccessClaims, team_id: uuid.UUID, query: ExportQuery
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    last_instant = query.end - timedelta(microseconds=1)
    params = {
        "team": team_id,
        "start": query.start,
        "end": query.end,
        "first_day": query.start.date(),
        "last_day": last_instant.date(),
    }
    with db.user(claims.raw) as conn:
        team = conn.execute(_TEAM_SQL, (team_id,)).fetchone()
        if team is None:
            raise NotFound("no such team")
        plan_name, allowed = team
        if not allowed:
            plans = [row[0] for row in conn.execute(_PLANS_WITH_EXPORT_SQL).fetchall()]
            offer = f"; it comes with the {' and '.join(plans)} plans" if plans else ""
            raise Forbidden(f"CSV export is not included in the {plan_name} plan{offer}")
        sessions = conn.execute(_SESSIONS_SQL, params).fetchall()
        daily = conn.execute(_DAILY_SQL, params).fetchall()
    return sessions, daily


def create_export(
    db: Database,
    claims: AccessClaims,
    team_id: uuid.UUID,
    query: ExportQuery,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> ExportPublic:
    """Write the team's CSV for the range to Storage; return its signed URL."""
    sessions, daily = _read(db, claims, team_id, query)
    try:
        storage = SupabaseStorage.from_settings(settings)
    except StorageNotConfigured as exc:
        logger.warning("exports: %s", exc)
        raise Unavailable("CSV export is not configured on this server") from exc
    now = now or utc_now()
    path = (
        f"{team_id}/streamtrack-{query.start:%Y%m%d}-{query.end:%Y%m%d}"
        f"-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}.csv"
    )
    body = render_csv(sessions, daily)
    ttl = settings.export_url_ttl_s
    try:
        url = storage.upload_and_sign(path, body, CONTENT_TYPE, ttl)
    except StorageError as exc:
        logger.warning("exports: storage failed: %s", exc, extra={"team_id": str(team_id)})
        raise Unavailable("file storage is unavailable; retry later") from exc
    logger.info(
        "exports: %d sessions, %d days for team %s", len(sessions), len(daily), team_id,
        extra={"team_id": str(team_id), "path": path, "bytes": len(body)},
    )  # fmt: skip
    return ExportPublic(
        url=url,
        expires_at=now + timedelta(seconds=ttl),
        path=path,
        rows=len(sessions) + len(daily),
        session_rows=len(sessions),
        daily_rows=len(daily),
    )
