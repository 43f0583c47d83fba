"""The registry: every Platform member has a package whose spec describes it, the
sandbox fakes the same platforms, and nothing outside the packages names one."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from localdev.sandbox.platforms import REGISTERED, fakes
from shared.config import Settings
from shared.platforms import registry
from shared.platforms.base import InvalidChannelRef, PlatformClient
from shared.platforms.registry import Platform, needing_credentials, quota_day, spec, specs
from shared.platforms.spec import PlatformSpec

ROOT = Path(__file__).resolve().parents[3]


def test_every_member_has_a_package_exporting_its_spec() -> None:
    assert [s.platform for s in specs()] == list(Platform)
    for declared in specs():
        assert isinstance(declared, PlatformSpec)
        assert declared.live_batch_size >= 1
        assert declared.stats_batch_size >= 1
        assert declared.stats_per_request >= 1
        assert declared.display_name
        assert spec(declared.platform.value) is declared


def test_an_unknown_platform_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="mars"):
        spec("mars")


def test_the_sandbox_fakes_exactly_the_registered_platforms() -> None:
    assert list(REGISTERED) == [p.value for p in Platform]
    assert [f.name for f in fakes().values()] == list(REGISTERED)
    assert {f.display_name for f in fakes().values()} == {s.display_name for s in specs()}


def test_credentials_are_declared_by_the_platforms_that_poll_with_them() -> None:
    kinds = [s.credential.kind for s in specs() if s.credential is not None]
    assert len(kinds) == len(set(kinds)) == len(needing_credentials())
    for declared in specs():
        if declared.credential is None:
            continue
        with pytest.raises(InvalidChannelRef, match="empty"):
            registry.parse_channel_ref(declared.platform, "  ")
        ref = registry.parse_channel_ref(declared.platform, "", secret="an-owner-key-0123")
        assert ref.secret is not None
        assert ref.secret.get_secret_value() == "an-owner-key-0123"


def test_quota_days_follow_each_spec() -> None:
    late_utc = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 19:00 the day before in Pacific
    days = {p: quota_day(p, late_utc).isoformat() for p in Platform}
    assert days == {p: spec(p).quota.day(late_utc).isoformat() for p in Platform}
    with pytest.raises(ValueError, match="aware"):
        quota_day(Platform.TWITCH, datetime(2026, 11, 25, 3, 0))  # noqa: DTZ001


def test_clients_are_built_only_for_configured_platforms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each fake's environment names the settings its platform needs (dummy values).
    everything = {k: v for f in fakes().values() for k, v in f.settings_env("http://x").items()}
    for name in everything:
        monkeypatch.delenv(name, raising=False)
    bare = Settings()
    built = registry.build_clients(bare)
    assert set(built) == {s.platform for s in specs() if s.configured(bare)}
    assert set(built) == {p for p in Platform if spec(p).credential is not None}
    full = Settings(**{k.lower(): v for k, v in everything.items()})
    clients: dict[Platform, PlatformClient] = registry.build_clients(full)
    assert set(clients) == set(Platform)
    assert all(client.platform is platform for platform, client in clients.items())


NAMES = re.compile(r"twitch|youtube|rumble|kick", re.IGNORECASE)


def test_outside_the_packages_no_backend_module_names_a_platform() -> None:
    # The registry, the packages and the one Settings may; nothing else in shared/ or
    # functions/, docstrings and comments included (issue 12).
    allowed = {
        ROOT / "shared" / "platforms" / "registry.py",
        ROOT / "shared" / "platforms" / "__init__.py",
        ROOT / "shared" / "config.py",
    }
    packages = [ROOT / "shared" / "platforms" / p.value for p in Platform]
    offenders = []
    for path in sorted(
        [*ROOT.joinpath("shared").rglob("*"), *ROOT.joinpath("functions").rglob("*")]
    ):
        if not path.is_file() or path.suffix == ".pyc" or path in allowed:
            continue
        if any(package in path.parents for package in packages):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if NAMES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
