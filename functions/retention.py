"""Retention: a daily timer dropping the raw samples no team's plan keeps."""

import azure.functions as func

from shared import telemetry
from shared.retention import run_retention

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated


@bp.function_name("retention")
@bp.timer_trigger(
    schedule="%RETENTION_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def retention(timer: func.TimerRequest) -> None:
    with telemetry.invocation("retention", "timer"):
        run_retention()
