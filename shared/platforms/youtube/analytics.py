"""YouTube Analytics API v2 reports, read with the owner's token.

`GET <analytics>/reports?ids=channel==MINE&startDate&endDate&metrics&dimensions`
answers a result table, `{"columnHeaders": [{"name", "columnType", "dataType"}],
"rows": [[...]]}` (`rows` left out when empty). Names as the API reference
lists them:

- channel per day: dimensions `day`, metrics `views`, `estimatedMinutesWatched`,
  `averageViewDuration` (seconds), `subscribersGained`, `subscribersLost`,
  `sort=day`. Days are Pacific time; the last two or three settle late
  (48 to 72 hours), so they are read again on later days.
- live streams: dimensions `video` with `filters=video==id1,id2,...`, the same
  view metrics plus the live-streaming metrics `averageConcurrentViewers` and
  `peakConcurrentViewers`, `sort=-views`, `maxResults=200`. Should the API
  refuse that combination (400), the report is asked again without the two
  live metrics, which are then unknown.

Errors: 401 is a dead grant (`InvalidGrant`); 403 `insufficientPermissions`
an AuthError (the scope was not granted); quota reasons `QuotaExhausted`.
"""

from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.clock import Clock
from shared.config import Settings
from shared.platforms.errors import InvalidResponse, PlatformError
from shared.platforms.oauth import DailyFigures, InvalidGrant, StreamFigures
from shared.platforms.parsing import parse_json
from shared.platforms.registry import Platform
from shared.platforms.retry import Cost, RetryPolicy, Sender
from shared.platforms.youtube.client import PACIFIC, YouTubeClient

DAILY_METRICS = (
    "views",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "subscribersGained",
    "subscribersLost",
)
VIEW_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration")
LIVE_METRICS = ("averageConcurrentViewers", "peakConcurrentViewers")
M = TypeVar("M", bound=BaseModel)
MAX_VIDEOS = 200
"""Videos per per-video report (the top-videos report's maxResults cap)."""


class ColumnHeader(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    column_type: str = Field(default="", alias="columnType")


class ResultTable(BaseModel):
    """A reports.query answer."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    column_headers: list[ColumnHeader] = Field(alias="columnHeaders")
    rows: list[list[Any]] = Field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        names = [h.name for h in self.column_headers]
        return [dict(zip(names, row, strict=True)) for row in self.rows if len(row) == len(names)]


class DailyRow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    day: date
    views: int = Field(ge=0)
    estimated_minutes_watched: int = Field(ge=0, alias="estimatedMinutesWatched")
    average_view_duration: int = Field(ge=0, alias="averageViewDuration")
    subscribers_gained: int = Field(ge=0, alias="subscribersGained")
    subscribers_lost: int = Field(ge=0, alias="subscribersLost")


class VideoRow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    video: str = Field(min_length=1, max_length=128)
    views: int = Field(ge=0)
    estimated_minutes_watched: int = Field(ge=0, alias="estimatedMinutesWatched")
    average_view_duration: int = Field(ge=0, alias="averageViewDuration")
    average_concurrent_viewers: float | None = Field(
        default=None, ge=0, alias="averageConcurrentViewers"
    )
    peak_concurrent_viewers: int | None = Field(default=None, ge=0, alias="peakConcurrentViewers")


class YouTubeAnalytics:
    """The owner reports of a YouTube channel (`OwnerReports`)."""

    day_zone: tzinfo = PACIFIC
    platform = Platform.YOUTUBE

    def __init__(
        self, http: httpx.Client, *, url: str, policy: RetryPolicy, timeout_s: float
    ) -> None:
        self._url = f"{url.rstrip('/')}/reports"
        self._sender = Sender(http, self.platform, policy, timeout_s, self._error)
        self._policy = policy

    def daily(
        self, token: str, first: date, last: date, *, cost: Cost, deadline: float | None
    ) -> list[DailyFigures]:
        params = {
            "ids": "channel==MINE",
            "startDate": first.isoformat(),
            "endDate": last.isoformat(),
            "metrics": ",".join(DAILY_METRICS),
            "dimensions": "day",
            "sort": "day",
        }
        table = self._report(token, params, cost, deadline)
        rows = [self._row(DailyRow, r) for r in table.records()]
        return [
            DailyFigures(
                day=r.day,
                views=r.views,
                estimated_minutes_watched=r.estimated_minutes_watched,
                average_view_duration=r.average_view_duration,
                subscribers_gained=r.subscribers_gained,
                subscribers_lost=r.subscribers_lost,
            )
            for r in rows
            if first <= r.day <= last
        ]

    def streams(
        self,
        token: str,
        stream_ids: Sequence[str],
        first: date,
        last: date,
        *,
        cost: Cost,
        deadline: float | None,
    ) -> list[StreamFigures]:
        wanted = list(dict.fromkeys(stream_ids))[:MAX_VIDEOS]
        if not wanted:
            return []
        params = {
            "ids": "channel==MINE",
            "startDate": first.isoformat(),
            "endDate": last.isoformat(),
            "metrics": ",".join((*VIEW_METRICS, *LIVE_METRICS)),
            "dimensions": "video",
            "filters": "video==" + ",".join(wanted),
            "sort": "-views",
            "maxResults": str(MAX_VIDEOS),
        }
        try:
            table = self._report(token, params, cost, deadline)
        except PlatformError as exc:
            if exc.status != 400:
                raise
            # The live metrics are not offered for this query: the view metrics alone.
            params["metrics"] = ",".join(VIEW_METRICS)
            table = self._report(token, params, cost, deadline)
        rows = [self._row(VideoRow, r) for r in table.records()]
        if not {r.video for r in rows} <= set(wanted):
            raise InvalidResponse("the report names a video not asked for", platform=self.platform)
        return [
            StreamFigures(
                stream_id=r.video,
                views=r.views,
                estimated_minutes_watched=r.estimated_minutes_watched,
                average_view_duration=r.average_view_duration,
                average_concurrent_viewers=r.average_concurrent_viewers,
                peak_concurrent_viewers=r.peak_concurrent_viewers,
            )
            for r in rows
        ]

    def _report(
        self, token: str, params: dict[str, str], cost: Cost, deadline: float | None
    ) -> ResultTable:
        response = self._sender.send(
            "GET",
            self._url,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            cost=cost,
            deadline=deadline,
            extra_secrets=(token,),
            quota_cost=1,
        )
        return parse_json(ResultTable, response, self.platform)

    def _row(self, model: type[M], record: dict[str, Any]) -> M:
        try:
            return model.model_validate(record)
        except ValidationError as exc:
            raise InvalidResponse(
                f"a report row does not have the documented shape ({exc.error_count()} errors)",
                platform=self.platform,
            ) from None

    def _error(self, response: httpx.Response) -> PlatformError:
        error = YouTubeClient.classify_error(response, self._policy)
        if response.status_code == 401:
            return InvalidGrant(error.message, platform=self.platform, status=401)
        return error


def reports(
    settings: Settings, http: httpx.Client, policy: RetryPolicy, clock: Clock
) -> YouTubeAnalytics:
    return YouTubeAnalytics(
        http,
        url=settings.youtube_analytics_url,
        policy=policy,
        timeout_s=settings.platform_timeout_s,
    )
