from pathlib import Path

import pytest

from localdev.sandbox import cli


def test_serves_prints_the_environment_and_exits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env_file = tmp_path / "sandbox.env"
    argv = [
        "--channels",
        "12",
        "--start",
        "2025-03-04T20:00:00Z",
        "--rate",
        "60",
        "--duration",
        "0.05",
        "--fault",
        "twitch.error_rate=0.2",
        "--env-file",
        str(env_file),
    ]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    lines = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    assert set(lines) == {
        "TWITCH_CLIENT_ID",
        "TWITCH_CLIENT_SECRET",
        "TWITCH_AUTH_URL",
        "TWITCH_API_URL",
        "YOUTUBE_API_KEY",
        "YOUTUBE_API_URL",
        "YOUTUBE_FEED_URL",
        "YOUTUBE_ANALYTICS_URL",
        "GOOGLE_OAUTH_CLIENT_ID",
        "GOOGLE_OAUTH_CLIENT_SECRET",
        "GOOGLE_AUTHORIZE_URL",
        "GOOGLE_TOKEN_URL",
        "GOOGLE_REVOKE_URL",
        "YOUTUBE_WEBSUB_HUB_URL",
        "RUMBLE_API_URL",
        "KICK_CLIENT_ID",
        "KICK_CLIENT_SECRET",
        "KICK_AUTH_URL",
        "KICK_API_URL",
    }
    assert lines["TWITCH_API_URL"].startswith("http://127.0.0.1:")
    assert lines["TWITCH_API_URL"].endswith("/twitch/helix")
    assert "12 channels" in err
    assert "simulated" in err
    assert env_file.read_text().splitlines()[0] == f"TWITCH_CLIENT_ID={lines['TWITCH_CLIENT_ID']}"


def test_fault_flags() -> None:
    args = cli.build_parser().parse_args(
        [
            "--error-rate",
            "0.1",
            "--quota-exhausted",
            "--fault",
            "rumble.latency_ms=80",
            "--fault",
            "hold_s=3",
        ]
    )
    assert cli.fault_spec(args) == {
        "global": {"error_rate": 0.1, "hold_s": "3"},
        "youtube": {"quota_exhausted": True},
        "rumble": {"latency_ms": "80"},
    }
    bad = cli.build_parser().parse_args(["--fault", "mars.error_rate=1"])
    with pytest.raises(ValueError, match="PLATFORM"):
        cli.fault_spec(bad)


def test_bad_options_fail_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--mix", "twitch=1,mars=1", "--duration", "0"]) == 2
    assert "mars" in capsys.readouterr().err


def test_options_keep_the_order_they_were_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    import localdev.__main__ as localdev_main

    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    typed = ["--channels", "50", "--seed", "3", "--fault", "twitch.error_rate=0.2"]
    assert localdev_main.main(["sandbox", *typed]) == 0
    assert seen == [typed]
