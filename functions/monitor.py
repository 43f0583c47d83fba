"""The monitor: a timer every minute, and a queue function for shards of big cycles."""

import logging

import azure.functions as func
from pydantic import ValidationError

from shared import telemetry
from shared.monitor import service
from shared.monitor.shards import ShardMessage

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated
logger = logging.getLogger(__name__)


@bp.function_name("monitor")
@bp.timer_trigger(
    schedule="%MONITOR_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def monitor(timer: func.TimerRequest) -> None:
    with telemetry.invocation("monitor", "timer"):
        service.tick(past_due=timer.past_due)


@bp.function_name("monitor_shard")
@bp.queue_trigger(
    arg_name="message", queue_name="%MONITOR_QUEUE_NAME%", connection="AzureWebJobsStorage"
)
def monitor_shard(message: func.QueueMessage) -> None:
    try:
        shard = ShardMessage.model_validate_json(message.get_body())
    except ValidationError:
        # Raising lets the host retry and then move it to `<queue>-poison`.
        logger.error("monitor: malformed shard message %s", message.id)
        raise
    with telemetry.invocation(
        "monitor_shard", "pubsub", traceparent=shard.traceparent, invocation_id=message.id
    ):
        service.process_shard(shard)
