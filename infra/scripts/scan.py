"""`make infra-scan`: static checks of the deployment code, failing on any finding.

- checkov over infra/ (Bicep; the Bicep CLI is not installable here) and over
  .github/workflows (GitHub Actions checks);
- the workflow files against the GitHub workflow JSON schema that check-jsonschema
  ships (no network).

checkov skips a Bicep file it cannot parse and still exits 0, so a clean exit is not
enough: the JSON report must show no parsing error, no failed check, and checks
actually run. Findings are fixed in the templates or skipped in place with
`// checkov:skip=<id>: <reason>`; the skipped ones are listed here with their reasons.
Runs with the interpreter of .venv-infra, where checkov and check-jsonschema live
(checkov pins packaging<24, which the dev tools cannot share).
"""

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Verdict:
    """What one checkov report says, reduced to what decides pass or fail."""

    framework: str
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    parsing_errors: int = 0

    @property
    def problems(self) -> list[str]:
        found = [f"{self.framework}: FAILED {line}" for line in self.failed]
        if self.parsing_errors:
            found.append(f"{self.framework}: {self.parsing_errors} file(s) could not be parsed")
        if self.passed + len(self.failed) + len(self.skipped) == 0:
            found.append(f"{self.framework}: no check ran (nothing scanned?)")
        return found


def _describe(check: dict[str, Any]) -> str:
    where = f"{check.get('file_path', '?')}:{check.get('file_line_range', ['?'])[0]}"
    return f"{check.get('check_id')} {check.get('resource')} ({where})"


def verdict(framework: str, report: dict[str, Any]) -> Verdict:
    """Reduce a checkov JSON report (one framework) to a Verdict."""
    summary = report.get("summary", {})
    results = report.get("results", {})
    return Verdict(
        framework=framework,
        passed=int(summary.get("passed", 0)),
        failed=[_describe(c) for c in results.get("failed_checks", [])],
        skipped=[
            f"{_describe(c)}:{(c.get('check_result') or {}).get('suppress_comment', '')}"
            for c in results.get("skipped_checks", [])
        ],
        parsing_errors=int(summary.get("parsing_errors", 0)),
    )


def run_checkov(framework: str, directory: Path) -> Verdict:
    command = [
        str(BIN / "checkov"),
        "--directory",
        str(directory),
        "--framework",
        framework,
        "--skip-download",  # no Prisma Cloud calls: CI reaches package registries only
        "--output",
        "json",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        sys.stderr.write(result.stdout + result.stderr)
        return Verdict(framework, parsing_errors=1)
    # An empty scan prints a bare summary object; a framework report is a dict too.
    if isinstance(report, list):
        report = next((r for r in report if r.get("check_type") == framework), {})
    return verdict(framework, report)


def run_workflow_schema() -> list[str]:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    if not workflows:
        return ["github workflows: no workflow files found"]
    command = [
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, workflows),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return [f"github workflow schema: {result.stdout.strip()} {result.stderr.strip()}"]
    return []


def main() -> int:
    verdicts = [
        run_checkov("bicep", ROOT / "infra"),
        run_checkov("github_actions", ROOT / ".github"),
    ]
    problems = [p for v in verdicts for p in v.problems] + run_workflow_schema()
    for v in verdicts:
        sys.stdout.write(
            f"infra-scan {v.framework}: {v.passed} passed, {len(v.failed)} failed, "
            f"{len(v.skipped)} skipped, {v.parsing_errors} parsing errors\n"
        )
        for line in v.skipped:
            sys.stdout.write(f"  skipped {line}\n")
    for problem in problems:
        sys.stdout.write(f"infra-scan: {problem}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
