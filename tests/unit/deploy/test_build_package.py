"""The deployment package: an allow-list that runs on its own vendored dependencies."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.deploy import load_script

build_package = load_script("build_package")


def test_package_ships_the_app_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "0123abc")
    out = tmp_path / "package"
    (out / "stale").mkdir(parents=True)  # a previous build's leftovers are removed
    assert build_package.main(["--out", str(out), "--no-deps"]) == 0

    shipped = {p.name for p in out.iterdir()}
    assert shipped == {
        "function_app.py",
        "host.json",
        "requirements.txt",
        "functions",
        "shared",
        "build_info.json",
    }
    assert (out / "shared" / "config.py").is_file()
    assert (out / "functions" / "health.py").is_file()
    assert not list(out.rglob("__pycache__"))
    assert not list(out.rglob("*.pyc"))
    info = json.loads((out / "build_info.json").read_text(encoding="utf-8"))
    assert info["commit"] == "0123abc"
    assert info["built_at"].endswith("+00:00")


def test_vendored_package_imports_without_the_dev_environment(tmp_path: Path) -> None:
    """The staged zip content alone (no venv, no site-packages) loads every function.

    Dependencies are resolved from the package registry as manylinux CPython 3.11
    wheels, as they are for Azure; this machine is CPython 3.11 on x86_64 Linux too.
    """
    out = tmp_path / "package"
    assert build_package.main(["--out", str(out)]) == 0
    site_packages = out / ".python_packages" / "lib" / "site-packages"
    assert (site_packages / "pydantic").is_dir()
    assert (site_packages / "psycopg").is_dir()

    probe = (
        "import json, sys, function_app\n"
        "names = sorted(f.get_function_name() for f in function_app.app.get_functions())\n"
        "dev = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('localdev', 'tests', 'bench', 'pytest'))\n"
        "print(json.dumps({'functions': names, 'dev_modules': dev}))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(site_packages), str(out)]),
    }
    # -S: no site module, so nothing from the venv or the system leaks in.
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"health", "monitor", "monitor_shard", "stripe_webhook"} <= set(report["functions"])
    assert report["dev_modules"] == []
