"""A tiny-scale run of `make bench-analytics`: it builds, answers identically, cleans up."""

import json

import pytest

from bench import analytics
from localdev.postgres import Cluster

KEYS = {
    "rows", "overview_p50_ms", "overview_p95_ms", "overview_raw_p95_ms", "timeline_p50_ms",
    "timeline_p95_ms", "timeline_raw_p95_ms", "identical",
}  # fmt: skip


def test_bench_analytics_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    name = "bench-analytics-smoke"
    argv = ["--channels", "12", "--days", "2", "--team-channels", "6", "--runs", "2",
            "--raw-runs", "1", "--cluster", name]  # fmt: skip
    assert analytics.main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert KEYS <= set(result)
    assert result["identical"] is True
    assert result["rows"] > 12 * 2 * 1400  # a few samples per channel-day are holes
    assert 0 < result["timeline_points"] <= 301
    assert not Cluster(name).is_initialised(), "the bench removes its cluster"
