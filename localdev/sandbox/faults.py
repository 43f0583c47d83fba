"""Fault injection: latency, 5xx, 429, timeouts, malformed bodies, quota exhaustion.

Settings live in scopes: `global` and one per registered platform; a platform's own value
wins over the global one, which wins over the default. Whether request n of a
platform is hit is decided by hashing (seed, platform, n, fault kind), so the
sequence of faults is the same for the same seed (which request is n-th is up
to the caller's concurrency).
"""

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localdev.sandbox.ids import unit
from localdev.sandbox.platforms import REGISTERED

SCOPES = ("global", *REGISTERED)
DEFAULTS: dict[str, Any] = {
    "latency_ms": 0.0,
    "jitter_ms": 0.0,
    "error_rate": 0.0,
    "rate_limit_rate": 0.0,
    "retry_after_s": 2,
    "timeout_rate": 0.0,
    "timeout_mode": "hold",
    "hold_s": 30.0,
    "malformed_rate": 0.0,
    "malformed_mode": "truncate",
    "quota_exhausted": False,
    "stale_s": 0.0,
}
_RATES = {"error_rate", "rate_limit_rate", "timeout_rate", "malformed_rate"}
_MODES = {"timeout_mode": ("hold", "close"), "malformed_mode": ("truncate", "types")}
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one platform request."""

    latency_s: float = 0.0
    timeout: str | None = None
    """`hold` (answer only after `hold_s`) or `close` (drop the connection)."""
    hold_s: float = 0.0
    error_status: int | None = None
    rate_limited: bool = False
    retry_after_s: int = 2
    malformed: str | None = None
    quota_exhausted: bool = False
    stale_s: float = 0.0


def _coerce(name: str, value: Any) -> Any:
    if name not in DEFAULTS:
        raise ValueError(f"unknown fault setting {name!r} (known: {', '.join(DEFAULTS)})")
    if value is None:
        return None
    if name in _MODES:
        if value not in _MODES[name]:
            raise ValueError(f"{name} must be one of {_MODES[name]}")
        return value
    if name == "quota_exhausted":
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)
    number = float(value)
    if number < 0 or (name in _RATES and number > 1):
        raise ValueError(f"{name} must be {'in [0, 1]' if name in _RATES else '>= 0'}")
    return int(number) if name == "retry_after_s" else number


class Faults:
    """The current fault settings and the per-platform decision sequence."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._scopes: dict[str, dict[str, Any]] = {s: {} for s in SCOPES}
        self._seq = dict.fromkeys(SCOPES, 0)

    def update(self, spec: Mapping[str, Mapping[str, Any]]) -> None:
        """Merge `{scope: {setting: value}}`; a value of None removes that override."""
        staged = {}
        for scope, settings in spec.items():
            if scope not in SCOPES:
                raise ValueError(f"unknown fault scope {scope!r} (known: {', '.join(SCOPES)})")
            staged[scope] = {k: _coerce(k, v) for k, v in settings.items()}
        with self._lock:
            for scope, settings in staged.items():
                for key, value in settings.items():
                    if value is None:
                        self._scopes[scope].pop(key, None)
                    else:
                        self._scopes[scope][key] = value

    def reset(self) -> None:
        with self._lock:
            self._scopes = {s: {} for s in SCOPES}
            self._seq = dict.fromkeys(SCOPES, 0)

    def effective(self, platform: str) -> dict[str, Any]:
        with self._lock:
            return {**DEFAULTS, **self._scopes["global"], **self._scopes[platform]}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            scopes = {s: dict(v) for s, v in self._scopes.items()}
        return {
            "defaults": dict(DEFAULTS),
            "scopes": scopes,
            "effective": {p: self.effective(p) for p in SCOPES[1:]},
        }

    def decide(self, platform: str) -> Decision:
        cfg = self.effective(platform)
        with self._lock:
            n = self._seq[platform] = self._seq[platform] + 1

        def hit(kind: str, rate: float) -> bool:
            return rate > 0 and unit(self._seed, platform, n, kind) < rate

        jitter = cfg["jitter_ms"] * (2 * unit(self._seed, platform, n, "jitter") - 1)
        return Decision(
            latency_s=max(0.0, cfg["latency_ms"] + jitter) / 1000,
            timeout=cfg["timeout_mode"] if hit("timeout", cfg["timeout_rate"]) else None,
            hold_s=cfg["hold_s"],
            error_status=(500, 502, 503)[int(unit(self._seed, platform, n, "status") * 3)]
            if hit("error", cfg["error_rate"])
            else None,
            rate_limited=hit("429", cfg["rate_limit_rate"]),
            retry_after_s=cfg["retry_after_s"],
            malformed=cfg["malformed_mode"] if hit("malformed", cfg["malformed_rate"]) else None,
            quota_exhausted=bool(cfg["quota_exhausted"]),
            stale_s=cfg["stale_s"],
        )


def malform(body: bytes, content_type: str, mode: str) -> bytes:
    """The body cut in half (`truncate`) or with values of the wrong types (`types`)."""
    if mode == "truncate" or not body:
        return body[: max(1, len(body) // 2)]
    if "xml" in content_type:
        body = re.sub(rb"<yt:videoId>[^<]*</yt:videoId>", b"<yt:videoId></yt:videoId>", body)
        return re.sub(rb"<published>[^<]*</published>", b"<published>soon</published>", body)
    return json.dumps(_wrong_types(json.loads(body))).encode()


def _wrong_types(value: Any) -> Any:
    # Values no lenient parser coerces back: "~12" is not a number, "maybe" not
    # a boolean, "soon" not a timestamp.
    if isinstance(value, dict):
        return {k: _wrong_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrong_types(v) for v in value]
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, int | float):
        return f"~{value}"
    if isinstance(value, str) and value.isdigit():
        return f"~{value}"
    if isinstance(value, str) and _ISO.match(value):
        return "soon"
    return value
