import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import pytest

from localdev.postgres import LocaldevError, find_bin_dir, free_port, port_is_free


def test_missing_binaries_name_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMTRACK_PG_BIN", raising=False)
    with pytest.raises(LocaldevError, match=r"apt-get install postgresql-15"):
        find_bin_dir(tmp_path)


def test_picks_the_newest_complete_major(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMTRACK_PG_BIN", raising=False)
    for major, progs in {"14": ("initdb", "pg_ctl", "postgres"), "16": ("psql",)}.items():
        bin_dir = tmp_path / major / "bin"
        bin_dir.mkdir(parents=True)
        for prog in progs:
            (bin_dir / prog).touch()
    # 16 has only a client: the server programs of 14 are the usable ones.
    assert find_bin_dir(tmp_path) == tmp_path / "14" / "bin"


def test_free_port_is_free() -> None:
    assert port_is_free(free_port())


def test_cli_honours_the_cluster_name(capsys: pytest.CaptureFixture[str]) -> None:
    from localdev.__main__ import main

    assert main(["db", "status", "--name", "no-such-cluster"]) == 3
    assert capsys.readouterr().out == "no-such-cluster: stopped\n"


def test_cli_rejects_unknown_options() -> None:
    from localdev.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["db", "up", "--no-such-option"])
    assert exc.value.code == 2


def test_a_database_migrated_with_vanished_migrations_is_told_to_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from localdev import supabase

    def cli(*args: str) -> str:
        raise LocaldevError(
            "supabase db push failed:\nRemote migration versions not found in local migrations"
            " directory.\nsupabase migration repair --status reverted 20261124130000"
        )

    monkeypatch.setattr(supabase, "supabase_cli", cli)
    with pytest.raises(LocaldevError, match=r"localdev db reset --name dev"):
        supabase.push_migrations("postgresql://x", cluster_name="dev")


def test_other_push_failures_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from localdev import supabase

    def cli(*args: str) -> str:
        raise LocaldevError("supabase db push failed:\nERROR: syntax error")

    monkeypatch.setattr(supabase, "supabase_cli", cli)
    with pytest.raises(LocaldevError, match=r"syntax error") as exc:
        supabase.push_migrations("postgresql://x", cluster_name="dev")
    assert "db reset" not in str(exc.value)


def test_realtime_janitor_keeps_yesterday_to_three_days_ahead() -> None:
    from localdev.realtime import plan_partitions

    now = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC)
    existing = {
        "messages_2026_11_20",  # older than 72 h: dropped
        "messages_2026_11_21",  # 2026-11-21 is the day 72 h ago: kept, as Realtime does
        "messages_2026_11_24",
        "messages_default_by_hand",  # not one of Realtime's: left alone
    }
    plan = plan_partitions(existing, now)
    assert plan.drop == ("messages_2026_11_20",)
    assert plan.create == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 26),
        dt.date(2026, 11, 27),
    )


def test_realtime_janitor_counts_days_in_utc() -> None:
    from localdev.realtime import partition_name, plan_partitions

    # 23:30 on the 24th in UTC-5 is already the 25th in UTC.
    now = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    plan = plan_partitions(set(), now)
    assert [partition_name(day) for day in plan.create] == [
        "messages_2026_11_24",
        "messages_2026_11_25",
        "messages_2026_11_26",
        "messages_2026_11_27",
        "messages_2026_11_28",
    ]


def test_a_cluster_from_before_the_supabase_roles_asks_for_a_reset(tmp_path: Path) -> None:
    from localdev.postgres import Cluster, ClusterState

    cluster = Cluster("old", root=tmp_path)
    cluster.base.mkdir(parents=True)
    old = ClusterState(port=5, work_dir="w", bin_dir="b", bootstrap_user="postgres")
    cluster.state_file.write_text(json.dumps(asdict(old)))
    assert cluster.url.startswith("postgresql://postgres:")
    with pytest.raises(LocaldevError, match="db reset --name old"):
        _ = cluster.admin_url
