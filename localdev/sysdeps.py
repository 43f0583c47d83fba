"""System packages the project needs: the PostgreSQL server, pgTAP and pg_prove.

As root, missing Debian packages are installed with apt-get. Otherwise one line
says what to install, and the exit status is 1.
"""

import os
import shutil
import subprocess
import sys

from localdev.postgres import PG_ROOT


def _installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and result.stdout.strip().endswith("installed")


def required_packages() -> list[str]:
    majors = sorted((int(p.name) for p in PG_ROOT.glob("*") if p.name.isdigit()), reverse=True)
    major = majors[0] if majors else 15
    return [
        f"postgresql-{major}",
        f"postgresql-{major}-pgtap",
        "libtap-parser-sourcehandler-pgtap-perl",  # pg_prove
    ]


def main() -> int:
    if shutil.which("dpkg-query") is None:
        print("localdev: not Debian-based; install PostgreSQL 15, pgTAP and pg_prove yourself")
        return 0 if shutil.which("pg_prove") else 1
    missing = [p for p in required_packages() if not _installed(p)]
    if not missing:
        return 0
    if os.geteuid() != 0:
        print(
            f"localdev: missing system packages; run: sudo apt-get install -y {' '.join(missing)}"
        )
        return 1
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"localdev: installing {' '.join(missing)}", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
