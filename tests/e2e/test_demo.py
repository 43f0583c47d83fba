"""`make demo`'s job, small: fresh database, sandbox, cycles, summary, report."""

from pathlib import Path

import psycopg
import pytest

from localdev import demo
from localdev.postgres import Cluster

CLUSTER = "demo-e2e"


def test_demo_monitors_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "index.html"
    try:
        code = demo.run(
            ["--channels", "40", "--minutes", "12", "--cluster", CLUSTER, "--report", str(report)]
        )
        assert code == 0
        with psycopg.connect(Cluster(CLUSTER).url) as conn:
            runs, samples, sessions, alerts, delivered = conn.execute(
                "select (select count(*) from public.monitor_runs),"
                " (select count(*) from public.viewer_samples),"
                " (select count(*) from public.stream_sessions),"
                " (select count(*) from public.alert_deliveries),"
                " (select count(*) from public.alert_deliveries where status = 'delivered')"
            ).fetchone() or (0, 0, 0, 0, 0)
    finally:
        Cluster(CLUSTER).destroy()
    assert runs == 12  # one monitor_runs row per cycle
    assert samples >= 40 * 2  # free-plan channels are sampled every 5 minutes only
    assert sessions > 0
    assert alerts > 0  # a live alert per session opened, for the team tracking it
    assert delivered == alerts  # all of them reached the demo's alert sink
    out = capsys.readouterr().out
    assert "platform" in out
    assert "search.list" in out
    assert f"Alerts: {delivered:,} of {alerts:,} delivered" in out
    html = report.read_text()
    assert "<svg" in html
    assert "StreamTrack demo" in html
