"""Platform quota left in the current quota day, for the health report and the metrics.

Only platforms whose spec declares a daily allowance (`QuotaAccounting.daily_units`)
are reported; each is counted in its own quota day (`QuotaAccounting.day_zone`),
from `platform_quota_usage`, which the monitor's write transaction keeps.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from shared.platforms.registry import specs


@dataclass(frozen=True, slots=True)
class QuotaLeft:
    """One platform's allowance and use in its current quota day."""

    platform: str
    quota_day: date
    daily_units: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.daily_units - self.used)


def quota_left(conn: psycopg.Connection[Any], now: datetime) -> list[QuotaLeft]:
    """Allowance and use today, per platform with a daily allowance (one query)."""
    limited = [(s.platform.value, s.quota.day(now), s.quota.daily_units) for s in specs()]
    limited = [(p, d, u) for p, d, u in limited if u is not None]
    if not limited:
        return []
    rows = conn.execute(
        """
        select q.platform::text, q.units
        from public.platform_quota_usage q
        join unnest(%s::text[], %s::date[]) as today(platform, quota_day)
          on q.platform::text = today.platform and q.quota_day = today.quota_day
        """,
        ([p for p, _, _ in limited], [d for _, d, _ in limited]),
    ).fetchall()
    used = {str(platform): int(units) for platform, units in rows}
    return [
        QuotaLeft(platform=p, quota_day=d, daily_units=int(u or 0), used=used.get(p, 0))
        for p, d, u in limited
    ]
