import pytest
from pydantic import ValidationError

from shared.config import Settings


def test_reads_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example.test:6543/postgres")
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "3")
    settings = Settings()
    assert str(settings.database_url) == "postgresql://u:p@db.example.test:6543/postgres"
    assert settings.database_pool_max_size == 3


def test_rejects_a_url_that_is_not_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://u:p@db.example.test/x")
    with pytest.raises(ValidationError, match="database_url"):
        Settings()


def test_rejects_an_unknown_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ValidationError, match="log_level"):
        Settings()


def test_every_example_setting_is_known() -> None:
    """local.settings.example.json documents only keys the app or the host reads."""
    import json
    from pathlib import Path

    values = json.loads(Path("local.settings.example.json").read_text())["Values"]
    host_keys = {"FUNCTIONS_WORKER_RUNTIME"}
    app_keys = {field.alias or name.upper() for name, field in Settings.model_fields.items()}
    assert set(values) - host_keys <= app_keys
    assert app_keys <= set(values), "every setting appears in local.settings.example.json"
