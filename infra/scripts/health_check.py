"""Probe a deployment's health endpoint until it is healthy or attempts run out.

    python infra/scripts/health_check.py https://<app>.azurewebsites.net/api/health \
        [--attempts 10] [--interval 15] [--timeout 10] [--expect-commit SHA] [--strict]

Healthy means HTTP 200 with a JSON body whose `status` is "ok" or "degraded" (what
`GET /api/health` answers while the instance can serve; 503 "unhealthy" means it
cannot). Degraded is about the running system, not the package (a late monitor
cycle, a platform's spent quota, poisoned shard messages): rolling back would not
cure it, and would block the fix for a late monitor, so it passes with a warning.
`--strict` accepts "ok" only.
When the body carries a `commit` and --expect-commit is given, they must match, so
an instance still serving the previous package does not pass for the new one.
Exit status 0 when healthy, 1 otherwise. Standard library only: it runs on a bare CI
runner before anything is installed.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """The outcome of one request."""

    healthy: bool
    detail: str


def probe(url: str, timeout_s: float, expect_commit: str | None, strict: bool = False) -> Probe:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Probe(False, f"no answer: {exc}")
    try:
        report = json.loads(body)
    except ValueError:
        return Probe(False, f"HTTP {status}, body is not JSON")
    if not isinstance(report, dict):
        return Probe(False, f"HTTP {status}, body is not a JSON object")
    summary = f"HTTP {status} {json.dumps(report, sort_keys=True)}"
    accepted = ("ok",) if strict else ("ok", "degraded")
    if status != 200 or report.get("status") not in accepted:
        return Probe(False, summary)
    if report.get("status") == "degraded":
        summary = f"{summary}: WARNING degraded, see the checks (docs/operations.md)"
    commit = report.get("commit")
    if expect_commit and commit is not None and commit != expect_commit:
        return Probe(False, f"{summary}: still the previous package (want {expect_commit})")
    return Probe(True, summary)


def wait_healthy(
    url: str,
    *,
    attempts: int,
    interval_s: float,
    timeout_s: float,
    expect_commit: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    out: Callable[[str], object] = sys.stdout.write,
    strict: bool = False,
) -> bool:
    for attempt in range(1, attempts + 1):
        result = probe(url, timeout_s, expect_commit, strict)
        out(f"health {attempt}/{attempts}: {result.detail}\n")
        if result.healthy:
            return True
        if attempt < attempts:
            sleep(interval_s)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--attempts", type=int, default=10)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between attempts")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--expect-commit", default=None)
    parser.add_argument("--strict", action="store_true", help='only status "ok" passes')
    args = parser.parse_args(argv)
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    healthy = wait_healthy(
        args.url,
        attempts=args.attempts,
        interval_s=args.interval,
        timeout_s=args.timeout,
        expect_commit=args.expect_commit,
        strict=args.strict,
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
