"""Analytics timers: the leaderboard materialized view's refresh."""

import azure.functions as func

from shared import telemetry
from shared.analytics import service

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated


@bp.function_name("analytics_refresh")
@bp.timer_trigger(
    schedule="%ANALYTICS_REFRESH_SCHEDULE%",
    arg_name="timer",
    run_on_startup=False,
    use_monitor=True,
)
def analytics_refresh(timer: func.TimerRequest) -> None:
    with telemetry.invocation("analytics_refresh", "timer"):
        service.refresh_leaderboard()
