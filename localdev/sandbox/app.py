"""Routing and the fault layer between the HTTP server and the platform handlers."""

import threading
from collections.abc import Callable

from localdev.sandbox import control, rumble, twitch, youtube, youtube_feed
from localdev.sandbox.context import Context
from localdev.sandbox.faults import Decision, malform
from localdev.sandbox.messages import DROP, Request, Response, json_response

Handler = Callable[[Context, Request, Decision], Response]

ROUTES: dict[tuple[str, str], tuple[str, str, Handler]] = {
    ("POST", "/twitch/oauth2/token"): ("twitch", "twitch.token", twitch.token),
    ("GET", "/twitch/helix/streams"): ("twitch", "twitch.streams", twitch.streams),
    ("GET", "/twitch/helix/users"): ("twitch", "twitch.users", twitch.users),
    ("GET", "/twitch/helix/channels/followers"): ("twitch", "twitch.followers", twitch.followers),
    ("GET", "/youtube/feeds/videos.xml"): ("youtube", "youtube.feed", youtube_feed.feed),
    ("GET", "/youtube/v3/videos"): ("youtube", "youtube.videos", youtube.videos),
    ("GET", "/youtube/v3/channels"): ("youtube", "youtube.channels", youtube.channels),
    ("GET", "/youtube/v3/search"): ("youtube", "youtube.search", youtube.search),
    ("GET", "/rumble/-livestream-api/get-data"): ("rumble", "rumble.get_data", rumble.get_data),
}


def _injected(ctx: Context, platform: str, path: str, status: int, d: Decision) -> Response:
    if platform == "twitch":
        return twitch.fault(ctx, status, d)
    if platform == "youtube":
        return youtube.fault(path, status, d)
    return rumble.fault(status, d)


class SandboxApp:
    """Answers one request: a control endpoint, or a platform endpoint behind the faults."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stopping = threading.Event()
        """Set on shutdown: held requests stop waiting and drop their connection."""

    def handle(self, req: Request) -> Response:
        if req.path == "/_sandbox" or req.path.startswith("/_sandbox/"):
            return control.handle(self.ctx, req)
        route = ROUTES.get((req.method, req.path))
        if route is None:
            self.ctx.counters.add("not_found")
            known = any(path == req.path for _, path in ROUTES)
            status = 405 if known else 404
            return json_response(status, {"error": "Not Found", "status": status, "message": ""})
        platform, name, handler = route
        ctx = self.ctx
        ctx.counters.add(name)
        d = ctx.faults.decide(platform)
        if d.latency_s > 0:
            ctx.counters.add("fault.latency")
            if self.stopping.wait(d.latency_s):
                return DROP
        if d.timeout is not None:
            ctx.counters.add("fault.timeout")
            if d.timeout == "close" or self.stopping.wait(d.hold_s):
                return DROP
        if d.error_status is not None:
            ctx.counters.add("fault.5xx")
            return _injected(ctx, platform, req.path, d.error_status, d)
        if d.rate_limited:
            ctx.counters.add("fault.429")
            return _injected(ctx, platform, req.path, 429, d)
        response = handler(ctx, req, d)
        if d.malformed is not None and response.status == 200:
            ctx.counters.add("fault.malformed")
            response.body = malform(response.body, response.content_type, d.malformed)
        return response
