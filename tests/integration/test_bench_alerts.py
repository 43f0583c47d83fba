"""A tiny-scale run of `make bench-alerts`: every alert arrives once, the figures
are printed, the cluster is removed."""

import json

import pytest

from bench import alerts
from localdev.postgres import Cluster

KEYS = {"delivered", "duplicates", "lost", "p50_s", "p95_s", "lower_bound_s", "write_s",
        "write_without_alerts_s"}  # fmt: skip


def test_bench_alerts_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    name = "bench-alerts-smoke"
    argv = ["--teams", "2", "--channels-per-team", "3", "--latency-ms", "5", "--budget-s", "8",
            "--cluster", name]  # fmt: skip
    assert alerts.main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert KEYS <= set(result)
    assert (result["alerts"], result["delivered"], result["lost"]) == (18, 18, 0)
    assert result["duplicates"] == 0
    assert result["unexpected"] == 0
    assert not Cluster(name).is_initialised(), "the bench removes its cluster"
