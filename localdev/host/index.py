"""Index a v2-model FunctionApp into what the local host serves.

Like the Python worker, the index reads each function's bindings as the host
would see them (`Function.get_raw_bindings()`), so route defaults and auth
levels are the ones Azure gets. Supported: `httpTrigger` (with its `$return`
http output), `timerTrigger`, `queueTrigger`. Anything else fails the start
with one line naming the function and the binding.
"""

import importlib
import inspect
import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.decorators.function_app import Function
from azure.functions.decorators.retry_policy import RETRY_POLICY

from localdev.host.settings import HostError

log = logging.getLogger("localdev.host")


@dataclass(frozen=True)
class HttpFunction:
    name: str
    func: Callable[..., Any]
    arg_name: str
    route: str
    methods: frozenset[str] | None
    """Upper-case method names; None accepts every method."""
    auth_level: str


@dataclass(frozen=True)
class TimerFunction:
    name: str
    func: Callable[..., Any]
    arg_name: str
    schedule: str
    """As declared: NCRONTAB, possibly `%APP_SETTING%`."""
    run_on_startup: bool
    use_monitor: bool | None


@dataclass(frozen=True)
class QueueFunction:
    name: str
    func: Callable[..., Any]
    arg_name: str
    queue_name: str
    """As declared, possibly with `%APP_SETTING%`."""
    connection: str
    """The app setting that holds the storage connection string."""


@dataclass(frozen=True)
class FunctionIndex:
    http: tuple[HttpFunction, ...]
    timers: tuple[TimerFunction, ...]
    queues: tuple[QueueFunction, ...]


def load_app(spec: str, script_root: Path) -> func.FunctionApp:
    """Import `module:attribute` (default attribute `app`) with script_root on sys.path."""
    module_name, _, attribute = spec.partition(":")
    root = str(script_root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HostError(f"cannot import {module_name!r} from {script_root}: {exc}") from exc
    app = getattr(module, attribute or "app", None)
    if not isinstance(app, func.FunctionApp):
        raise HostError(f"{spec!r} is not an azure.functions.FunctionApp")
    return app


def _unsupported(name: str, binding: dict[str, Any]) -> HostError:
    return HostError(
        f"function {name!r}: binding {binding.get('name')!r} "
        f"({binding.get('type')}, {str(binding.get('direction', '')).lower()}) "
        "is not supported by the local host; run it under `func start`"
    )


def _check_parameters(name: str, user_func: Callable[..., Any], bound: set[str]) -> None:
    """Every parameter must be a binding: the host has nothing else to pass."""
    for param in inspect.signature(user_func).parameters.values():
        variadic = param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
        if param.name not in bound and param.default is param.empty and not variadic:
            raise HostError(
                f"function {name!r}: parameter {param.name!r} has no binding the local host "
                "can supply (only the trigger's)"
            )


def index_functions(app: func.FunctionApp | Iterable[Function]) -> FunctionIndex:
    """Index an app (calls `get_functions()`, allowed once per app) or already-built functions."""
    try:
        functions = app.get_functions() if isinstance(app, func.FunctionApp) else list(app)
    except ValueError as exc:
        raise HostError(
            f"cannot index the app: {exc} (get_functions() succeeds once per FunctionApp; "
            "to serve an app again, pass the functions it returned)"
        ) from exc
    http: list[HttpFunction] = []
    timers: list[TimerFunction] = []
    queues: list[QueueFunction] = []
    for fn in functions:
        name = str(fn.get_function_name())
        user_func = fn.get_user_function()
        bindings = [json.loads(raw) for raw in fn.get_raw_bindings()]
        # get_raw_bindings() follows get_bindings(), which holds the trigger object.
        declared = fn.get_trigger()
        if declared is None:
            raise HostError(f"function {name!r} has no trigger")
        trigger = bindings[fn.get_bindings().index(declared)]
        kind = trigger["type"]
        for other in bindings:
            is_http_return = kind == "httpTrigger" and other.get("type") == "http"
            if other is not trigger and not (is_http_return and other.get("name") == "$return"):
                raise _unsupported(name, other)
        arg = str(trigger["name"])
        _check_parameters(name, user_func, {arg})
        if fn.get_setting(RETRY_POLICY) is not None:
            log.warning("function %r: its retry policy is not applied by the local host", name)
        if kind == "httpTrigger":
            methods = trigger.get("methods")
            http.append(
                HttpFunction(
                    name=name,
                    func=user_func,
                    arg_name=arg,
                    route=str(trigger.get("route") or name),
                    methods=frozenset(str(m).upper() for m in methods) if methods else None,
                    auth_level=str(trigger.get("authLevel", "FUNCTION")).upper(),
                )
            )
        elif kind == "timerTrigger":
            timers.append(
                TimerFunction(
                    name=name,
                    func=user_func,
                    arg_name=arg,
                    schedule=str(trigger["schedule"]),
                    run_on_startup=bool(trigger.get("runOnStartup", False)),
                    use_monitor=trigger.get("useMonitor"),
                )
            )
        elif kind == "queueTrigger":
            queues.append(
                QueueFunction(
                    name=name,
                    func=user_func,
                    arg_name=arg,
                    queue_name=str(trigger["queueName"]),
                    connection=str(trigger.get("connection") or "AzureWebJobsStorage"),
                )
            )
        else:
            raise _unsupported(name, trigger)
    return FunctionIndex(http=tuple(http), timers=tuple(timers), queues=tuple(queues))
