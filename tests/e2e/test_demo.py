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
            runs, samples, sessions = conn.execute(
                "select (select count(*) from public.monitor_runs),"
                " (select count(*) from public.viewer_samples),"
                " (select count(*) from public.stream_sessions)"
            ).fetchone() or (0, 0, 0)
    finally:
        Cluster(CLUSTER).destroy()
    assert runs == 12  # one monitor_runs row per cycle
    assert samples >= 40 * 2  # free-plan channels are sampled every 5 minutes only
    assert sessions > 0
    out = capsys.readouterr().out
    assert "platform" in out
    assert "search.list" in out
    html = report.read_text()
    assert "<svg" in html
    assert "StreamTrack demo" in html
