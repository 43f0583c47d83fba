"""Push: one callback per platform that pushes, a timer applying deliveries, and the
subscription manager's timer.

`/api/push/<platform>` (GET for handshakes, POST for deliveries) verifies the
raw body and records the delivery (`shared.push.receive`); the push timer
applies what was recorded through the monitor's write path
(`shared.push.apply`); the subscription timer keeps the subscriptions the
tracked channels need (`shared.push.manager`).
"""

import logging
from collections.abc import Callable, Collection

import azure.functions as func

from functions.http import Api, problem_response
from shared.clock import utc_now
from shared.config import get_settings
from shared.connections.eventsub import consenting_broadcasters
from shared.db import get_database
from shared.platforms.push import PushRefused, PushRequest
from shared.platforms.registry import specs
from shared.push import apply, manager
from shared.push.health import register as register_push_health
from shared.push.receive import receive

logger = logging.getLogger(__name__)
ERRORS = (400, 403, 404, 413, 503)

api = Api("push")


def _callback(platform: str) -> Callable[[func.HttpRequest], func.HttpResponse]:
    def callback(req: func.HttpRequest) -> func.HttpResponse:
        request = PushRequest(
            method=req.method,
            headers={k.lower(): v for k, v in req.headers.items()},
            query=dict(req.params),
            body=req.get_body() or b"",
        )
        try:
            answer = receive(get_database(), platform, request, get_settings(), utc_now())
        except PushRefused as exc:
            logger.info(
                "push: %s delivery refused (%d): %s", platform, exc.status, exc,
                extra={"platform": platform, "status": exc.status},
            )  # fmt: skip
            return problem_response(exc.status, str(exc))
        return func.HttpResponse(
            answer.body, status_code=answer.status, mimetype=answer.content_type
        )

    return callback


for _declared in specs():
    if _declared.push is None:
        continue
    _value, _name = _declared.platform.value, _declared.display_name
    _route = api.path(f"/api/push/{_value}", function=f"push_{_value}")
    _handler = _callback(_value)
    _route.get(
        f"verifyPush{_name}",
        f"{_name} push handshake: the challenge, echoed as text/plain for a subscription "
        "StreamTrack asked for",
        errors=ERRORS,
        authenticated=False,
    )(_handler)
    _route.post(
        f"receivePush{_name}",
        f"{_name} push delivery, verified by its signature over the raw body",
        errors=ERRORS,
        authenticated=False,
    )(_handler)


register_push_health()
bp = api.blueprint()


@bp.function_name("push_apply")
@bp.timer_trigger(
    schedule="%PUSH_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=False
)
def push_apply(timer: func.TimerRequest) -> None:
    apply.tick()


@bp.function_name("push_subscriptions")
@bp.timer_trigger(
    schedule="%PUSH_SUBSCRIPTIONS_SCHEDULE%",
    arg_name="timer",
    run_on_startup=False,
    use_monitor=True,
)
def push_subscriptions(timer: func.TimerRequest) -> None:
    manager.tick(cost_free=_connected_broadcasters)


def _connected_broadcasters(platform: str) -> Collection[str]:
    """Broadcasters who connected their account: their subscriptions cost nothing."""
    return consenting_broadcasters(get_database(), platform).keys()
