"""Stage the Function App package: `python infra/scripts/build_package.py [--out DIR]`.

`azd package` / `azd deploy` zip the directory this writes (azure.yaml: `dist`), so
what ships is an allow-list, not "the repository minus an ignore file": the entry
point, host.json, the two packages the app imports, requirements.txt, and the
dependencies vendored into `.python_packages/lib/site-packages` (the path the
Python worker adds to sys.path). Dependencies are resolved here, as wheels for
CPython 3.11 on manylinux x86_64 whatever machine runs this, rather than by a
remote build on Azure: the zip is then the exact bytes that run, and rolling back
to a stored zip restores exactly what ran before.

`build_info.json` records the commit and build time; `/api/health` may report it
so the deploy workflow can tell the new package from the old one.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "dist" / "package"

# What the Functions host needs, and nothing else: no tests, localdev, bench,
# migrations, infra or CI files reach Azure.
INCLUDE_FILES = ("function_app.py", "host.json", "requirements.txt")
INCLUDE_PACKAGES = ("functions", "shared")
SITE_PACKAGES = Path(".python_packages") / "lib" / "site-packages"

# Flex Consumption runs CPython 3.11 on x86_64 Linux (glibc): any of these wheels
# loads there. --only-binary refuses an sdist, which would build for this machine.
PIP_TARGET_FLAGS = (
    "--platform=manylinux_2_28_x86_64",
    "--platform=manylinux_2_17_x86_64",
    "--platform=manylinux2014_x86_64",
    "--implementation=cp",
    "--python-version=3.11",
    "--only-binary=:all:",
)


def commit_id() -> str:
    """The commit being packaged: CI's GITHUB_SHA, else the work tree's HEAD."""
    sha = os.environ.get("GITHUB_SHA")
    if sha:
        return sha
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def stage_sources(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in INCLUDE_FILES:
        shutil.copy2(ROOT / name, out / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    for name in INCLUDE_PACKAGES:
        shutil.copytree(ROOT / name, out / name, ignore=ignore)


def vendor_dependencies(out: Path) -> None:
    target = out / SITE_PACKAGES
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        f"--target={target}",
        *PIP_TARGET_FLAGS,
        "--requirement",
        str(ROOT / "requirements.txt"),
    ]
    subprocess.run(command, check=True)


def write_build_info(out: Path) -> dict[str, str]:
    info = {"commit": commit_id(), "built_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (out / "build_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="staging directory")
    parser.add_argument(
        "--no-deps", action="store_true", help="skip vendoring dependencies (tests, quick checks)"
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    stage_sources(out)
    if not args.no_deps:
        vendor_dependencies(out)
    info = write_build_info(out)
    sys.stdout.write(f"package staged in {out} (commit {info['commit']})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
