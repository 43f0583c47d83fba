"""The templates, azure.yaml and workflows agree with each other and with the app.

The Bicep CLI cannot run here (checkov parses the templates in `make infra-scan`);
these tests pin the contracts between files that no scanner knows about: every
secret the app reads is a Key Vault reference, every %SETTING% a trigger names is
set, every parameter azd passes exists, and the deploy workflow keeps its
health-check-then-rollback shape.
"""

import json
import re
import subprocess
from typing import Any

import yaml
from pydantic import PostgresDsn, SecretStr

from shared.config import Settings
from tests.unit.deploy import ROOT, load_script

INFRA = ROOT / "infra"


def bicep(name: str) -> str:
    return (INFRA / name).read_text(encoding="utf-8")


def bicep_params(text: str) -> dict[str, bool]:
    """Parameter name -> whether it has a default."""
    found = re.findall(r"^param (\w+) [\w\[\]]+( =)?", text, flags=re.MULTILINE)
    return {name: bool(default) for name, default in found}


def allowed_block(text: str, param: str) -> list[str]:
    match = re.search(r"@allowed\(\[(.*?)\]\)\s*param " + param, text, flags=re.DOTALL)
    assert match, f"no @allowed list on {param}"
    return re.findall(r"'(\w+)'", match.group(1))


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def secret_settings() -> set[str]:
    """Environment names of the settings that carry credentials."""
    names = set()
    for name, info in Settings.model_fields.items():
        text = repr(info.annotation)
        if SecretStr.__name__ in text or PostgresDsn.__name__ in text:
            names.add((info.alias or name).upper())
    return names


def test_every_secret_setting_can_be_a_key_vault_reference() -> None:
    allowed = set(allowed_block(bicep("main.bicep"), "secretSettingNames"))
    assert allowed == secret_settings()
    assert "DATABASE_URL" in allowed


def test_the_legacy_jwt_secret_is_off_unless_asked_for() -> None:
    # An unresolved reference is its own literal text: as an HS256 key it would let
    # anyone who knows the vault name forge tokens. Opt-in only.
    default = re.search(
        r"param secretSettingNames array = \[(.*?)\]", bicep("main.bicep"), re.DOTALL
    )
    assert default
    names = re.findall(r"'(\w+)'", default.group(1))
    assert "SUPABASE_JWT_SECRET" not in names
    # DATABASE_READ_URL is opt-in too: an unresolved reference would be a broken URL.
    assert "DATABASE_READ_URL" not in names
    assert set(names) == secret_settings() - {"SUPABASE_JWT_SECRET", "DATABASE_READ_URL"}


def test_no_secret_value_is_written_by_the_templates() -> None:
    for path in INFRA.rglob("*.bicep"):
        text = path.read_text(encoding="utf-8")
        assert "Microsoft.KeyVault/vaults/secrets" not in text, path
        assert "listKeys(" not in text, path  # no storage keys either
        assert "AccountKey=" not in text, path


def test_every_app_setting_a_trigger_names_is_set() -> None:
    referenced = set()
    for path in (ROOT / "functions").glob("*.py"):
        referenced |= set(re.findall(r"%([A-Z_]+)%", path.read_text(encoding="utf-8")))
    assert referenced, "expected %SETTING% references in functions/"
    app = bicep("modules/functionapp.bicep")
    defaults = re.search(r"var defaultSettings = \{(.*?)\n\}", app, re.DOTALL)
    assert defaults
    assert referenced <= set(re.findall(r"^\s+(\w+):", defaults.group(1), re.MULTILINE))


def test_host_storage_uses_the_identity_and_no_connection_string() -> None:
    app = bicep("modules/functionapp.bicep")
    assert "AzureWebJobsStorage__credential: 'managedidentity'" in app
    assert "AzureWebJobsStorage__clientId: identityClientId" in app
    assert re.search(r"^\s+AzureWebJobsStorage:", app, re.MULTILINE) is None
    storage = bicep("modules/storage.bicep")
    assert "allowSharedKeyAccess: false" in storage
    for role in ("blobDataOwner", "queueDataContributor", "tableDataContributor"):
        assert role in storage
    assert "type: 'UserAssignedIdentity'" in app  # the deployment container, too


def test_flex_consumption_runtime_is_python_311() -> None:
    app = bicep("modules/functionapp.bicep")
    assert re.search(r"runtime: \{\s+name: 'python'\s+version: '3.11'", app)
    assert "tier: 'FlexConsumption'" in app
    assert "name: 'FC1'" in app
    # Deprecated on Flex Consumption: set there, they break the app or are ignored.
    deprecated_settings = (
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "linuxFxVersion",
    )
    for deprecated in deprecated_settings:
        assert re.search(rf"^\s+{deprecated}:", app, re.MULTILINE) is None, deprecated


def test_azd_passes_only_parameters_main_declares_and_all_it_requires() -> None:
    declared = bicep_params(bicep("main.bicep"))
    passed = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    names = set(passed["parameters"])
    assert names <= set(declared)
    required = {name for name, has_default in declared.items() if not has_default}
    assert required <= names


def test_modules_receive_only_parameters_they_declare() -> None:
    main = bicep("main.bicep")
    for module, body in re.findall(
        r"module \w+ '(modules/[\w.]+)' = \{.*?params: \{(.*?)\n  \}", main, re.DOTALL
    ):
        given = set(re.findall(r"^    (\w+):", body, re.MULTILINE))
        declared = bicep_params(bicep(module))
        assert given <= set(declared), module
        assert {n for n, has_default in declared.items() if not has_default} <= given, module


def test_azure_yaml_deploys_the_staged_package_as_is() -> None:
    config = yaml.safe_load((ROOT / "azure.yaml").read_text(encoding="utf-8"))
    api = config["services"]["api"]
    assert api["host"] == "function"
    assert api["language"] == "python"
    assert api["remoteBuild"] is False
    assert api["dist"] == "dist/package"
    assert "infra/scripts/build_package.py --out dist/package" in api["hooks"]["prepackage"]["run"]
    assert config["infra"]["path"] == "infra"


def test_ci_runs_the_same_entry_point_as_the_merge_gate() -> None:
    ci = workflow("ci.yml")
    assert "workflow_call" in ci["on"]
    steps = ci["jobs"]["test"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)


def test_deploy_workflow_checks_health_and_rolls_back() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["permissions"] == {"contents": "read"}
    plan = deploy["jobs"]["migrations-plan"]
    assert any("supabase db push --dry-run" in step.get("run", "") for step in plan["steps"])

    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "test"
    assert job["permissions"]["id-token"] == "write"
    steps = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("azure/login@") for u in uses)
    runs = [step.get("run", "") for step in steps]
    migrate = next(i for i, r in enumerate(runs) if "supabase db push" in r)
    assert "--dry-run" not in runs[migrate]

    by_id = {step["id"]: (i, step) for i, step in enumerate(steps) if "id" in step}
    deploy_at, deploy_step = by_id["deploy"]
    health_at, health_step = by_id["health"]
    assert migrate < deploy_at < health_at
    assert "azd deploy api --from-package" in deploy_step["run"]
    assert "/api/health" in health_step["run"]

    rollback = next(step for step in steps if step.get("name", "").startswith("Roll back"))
    assert "failure()" in rollback["if"]
    assert "steps.health.outcome == 'failure'" in rollback["if"]
    assert "azd deploy api --from-package rollback.zip" in rollback["run"]
    assert "health_check.py" in rollback["run"]
    record = next(step for step in steps if step.get("name", "").startswith("Record"))
    assert "if" not in record  # only after a passed health check
    assert steps.index(record) > health_at


def test_scan_fails_on_findings_parse_errors_and_empty_scans() -> None:
    scan = load_script("scan")
    clean = {"summary": {"passed": 3, "parsing_errors": 0}, "results": {}}
    assert scan.verdict("bicep", clean).problems == []

    failed = {
        "summary": {"passed": 3, "failed": 1, "parsing_errors": 0},
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AZURE_1",
                    "resource": "r",
                    "file_path": "/m.bicep",
                    "file_line_range": [4, 9],
                }
            ]
        },
    }
    assert scan.verdict("bicep", failed).problems == ["bicep: FAILED CKV_AZURE_1 r (/m.bicep:4)"]

    unparsed = {"summary": {"passed": 3, "parsing_errors": 1}, "results": {}}
    assert "could not be parsed" in scan.verdict("bicep", unparsed).problems[0]

    empty = {"summary": {"passed": 0, "parsing_errors": 0}, "results": {}}
    assert "no check ran" in scan.verdict("bicep", empty).problems[0]


def test_every_bicep_file_is_under_infra() -> None:
    # The scan covers infra/ only; a template elsewhere would ship unscanned.
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.bicep"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked, "expected the templates under infra/"
    assert [p for p in tracked if not p.startswith("infra/")] == []
