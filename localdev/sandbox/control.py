"""Control and introspection under `/_sandbox/`: JSON in, JSON out, never faulted or counted.

GET  /_sandbox/                 this list
GET  /_sandbox/counters         requests per endpoint, quota used, faults injected
POST /_sandbox/counters/reset   zero them (and the YouTube quota used)
GET  /_sandbox/faults           settings per scope and effective per platform
POST /_sandbox/faults           {"global": {...}, "twitch": {...}} merged; {"reset": true}
GET  /_sandbox/channels         the population [?platform=]
GET  /_sandbox/truth            ?from=ISO&to=ISO[&channel=][&viewers=false]
GET  /_sandbox/clock            the sandbox time
POST /_sandbox/clock            {"set": ISO} | {"advance_s": n} | {"rate": r} | {"real": true}
GET  /_sandbox/push             push subscriptions per platform, delivery faults and counts
POST /_sandbox/push             {"faults": {loss_rate, duplicate_rate, bad_signature_rate,
                                delay_s, delay_jitter_s, reorder}}, {"kick_webhook_url": URL},
                                {"deliver": true[, "until": ISO]}, {"reset_stats": true}
GET  /_sandbox/quota            YouTube quota: day, limit, used
POST /_sandbox/quota            {"limit": n} and/or {"used": n}
POST /_sandbox/twitch/revoke    invalidate every issued Twitch token

(the last three are the fakes' own: each platform module may declare such controls)
"""

import json
from typing import Any

from localdev.sandbox import push
from localdev.sandbox.context import Context
from localdev.sandbox.ids import parse_time
from localdev.sandbox.messages import Request, Response, json_response
from localdev.sandbox.platforms import fakes
from localdev.sandbox.truth import truth


def _bad(message: str, status: int = 400) -> Response:
    return json_response(status, {"error": message})


def _body(req: Request) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def set_faults(ctx: Context, body: dict[str, Any]) -> None:
    """Apply a faults body: scopes as keys; bare settings mean `global`."""
    body = dict(body)
    if body.pop("reset", False):
        ctx.faults.reset()
    scoped = {k: v for k, v in body.items() if isinstance(v, dict)}
    bare = {k: v for k, v in body.items() if not isinstance(v, dict)}
    if bare:
        scoped["global"] = {**scoped.get("global", {}), **bare}
    ctx.faults.update(scoped)


def set_clock(ctx: Context, body: dict[str, Any]) -> None:
    if body.get("real"):
        ctx.clock.reset_to_real()
    if "set" in body:
        ctx.clock.set(str(body["set"]))
    if "advance_s" in body:
        ctx.clock.advance(float(body["advance_s"]))
    if "rate" in body:
        ctx.clock.set_rate(float(body["rate"]))


def handle(ctx: Context, req: Request) -> Response:
    route = (req.method, req.path.rstrip("/"))
    try:
        match route:
            case ("GET", "/_sandbox"):
                return Response(200, (__doc__ or "").encode(), "text/plain; charset=utf-8")
            case ("GET", "/_sandbox/counters"):
                return json_response(200, ctx.counter_snapshot())
            case ("POST", "/_sandbox/counters/reset"):
                ctx.reset_counters()
                return json_response(200, ctx.counter_snapshot())
            case ("GET", "/_sandbox/faults"):
                return json_response(200, ctx.faults.snapshot())
            case ("POST", "/_sandbox/faults"):
                set_faults(ctx, _body(req))
                return json_response(200, ctx.faults.snapshot())
            case ("GET", "/_sandbox/channels"):
                platform = req.arg("platform")
                chosen = [
                    c.public() for c in ctx.population.channels if platform in (None, c.platform)
                ]
                return json_response(200, {"seed": ctx.seed, "channels": chosen})
            case ("GET", "/_sandbox/truth"):
                start, end = req.arg("from"), req.arg("to")
                if not start or not end:
                    return _bad("from and to are required (ISO 8601 with an offset or Z)")
                viewers = (req.arg("viewers") or "true").lower() not in ("0", "false", "no")
                answer = truth(
                    ctx,
                    parse_time(start),
                    parse_time(end),
                    channel=req.arg("channel"),
                    viewers=viewers,
                    platform=req.arg("platform"),
                )
                return json_response(200, answer)
            case ("GET", "/_sandbox/clock"):
                return json_response(200, ctx.clock.state())
            case ("POST", "/_sandbox/clock"):
                set_clock(ctx, _body(req))
                return json_response(200, ctx.clock.state())
            case ("GET", "/_sandbox/push"):
                return json_response(200, _push_state(ctx))
            case ("POST", "/_sandbox/push"):
                body = _body(req)
                pushes = push.hub(ctx)
                if "kick_webhook_url" in body:
                    pushes.kick_webhook_url = str(body["kick_webhook_url"])
                if "faults" in body:
                    push.set_faults(ctx, body["faults"])
                if body.get("reset_stats"):
                    pushes.reset()
                if body.get("deliver"):
                    until = body.get("until")
                    at = parse_time(until) if isinstance(until, str) else ctx.clock.time()
                    pushes.deliver_until(ctx, at)
                return json_response(200, _push_state(ctx))
            case _:
                for platform in fakes().values():
                    if own := platform.controls.get(route):
                        return own(ctx, req)
    except LookupError as exc:
        return _bad(str(exc.args[0] if exc.args else exc), 404)
    except (ValueError, json.JSONDecodeError) as exc:
        return _bad(str(exc))
    return _bad(f"no control endpoint {req.method} {req.path}", 404)


def _push_state(ctx: Context) -> dict[str, Any]:
    pushes = push.hub(ctx)
    faults = pushes.faults
    return {
        "subscriptions": {
            p: len(pushes.of(p))
            for p in sorted({s.platform for s in pushes.subscriptions.values()})
        },
        "kick_webhook_url": pushes.kick_webhook_url,
        "faults": {name: getattr(faults, name) for name in faults.__slots__},  # type: ignore[attr-defined]
        "stats": pushes.stats.snapshot(),
        "delivered_until": pushes.delivered_until,
    }
