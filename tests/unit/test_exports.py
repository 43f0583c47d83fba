"""The export's query rules and CSV rendering, without a database."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.exports import DAILY_HEADER, SESSION_HEADER, ExportQuery, render_csv


def test_a_date_range_covers_whole_utc_days() -> None:
    q = ExportQuery.model_validate({"from": "2026-01-01", "to": "2026-01-31"})
    assert q.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert q.end == datetime(2026, 2, 1, tzinfo=UTC)


def test_date_times_keep_their_instant_and_end_exclusively() -> None:
    q = ExportQuery.model_validate(
        {"from": "2026-01-01T01:30:00+02:00", "to": "2026-01-02T00:00:00Z"}
    )
    assert q.start == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert q.end == datetime(2026, 1, 2, tzinfo=UTC)


def test_one_day_is_a_valid_range_and_366_days_the_longest() -> None:
    ExportQuery.model_validate({"from": "2026-03-01", "to": "2026-03-01"})
    ExportQuery.model_validate({"from": "2024-01-01", "to": "2024-12-31"})  # leap year: 366 days
    with pytest.raises(ValidationError, match="366 days"):
        ExportQuery.model_validate({"from": "2025-01-01", "to": "2026-01-02"})


def test_a_date_time_without_offset_is_refused() -> None:
    with pytest.raises(ValidationError, match="UTC offset"):
        ExportQuery.model_validate({"from": "2026-01-01 00:00", "to": "2026-01-02"})


def rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a BOM, so spreadsheets read UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_text_that_a_spreadsheet_would_run_is_defused_and_numbers_are_not() -> None:
    session = [1, "c", "twitch", "@handle", "-1", "=SUM(A1)", "\tcmd", None, None,
               Decimal("1E+2"), Decimal("0.333333333"), -3, None, 4, 0]  # fmt: skip
    out = rows(render_csv([session], []))
    assert out[0] == ["Sessions"]
    assert tuple(out[1]) == SESSION_HEADER
    assert out[2] == ["1", "c", "twitch", "'@handle", "'-1", "'=SUM(A1)", "'\tcmd", "", "",
                      "100", "0.3333", "-3", "", "4", "0"]  # fmt: skip
    assert out[3] == []
    assert out[4] == ["Daily rollups"]
    assert tuple(out[5]) == DAILY_HEADER
    assert len(out) == 6
