"""Routing and the fault layer between the HTTP server and the platform handlers."""

import threading

from localdev.sandbox import control
from localdev.sandbox.context import Context
from localdev.sandbox.faults import malform
from localdev.sandbox.messages import DROP, Request, Response, json_response
from localdev.sandbox.platforms import fake, routes


class SandboxApp:
    """Answers one request: a control endpoint, or a platform endpoint behind the faults."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.routes = routes()
        self.stopping = threading.Event()
        """Set on shutdown: held requests stop waiting and drop their connection."""

    def handle(self, req: Request) -> Response:
        if req.path == "/_sandbox" or req.path.startswith("/_sandbox/"):
            return control.handle(self.ctx, req)
        found = self.routes.get((req.method, req.path))
        if found is None:
            self.ctx.counters.add("not_found")
            known = any(path == req.path for _, path in self.routes)
            status = 405 if known else 404
            return json_response(status, {"error": "Not Found", "status": status, "message": ""})
        platform, route = found
        ctx = self.ctx
        ctx.counters.add(route.counter)
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
            return fake(platform).fault(ctx, req, d.error_status, d)
        if d.rate_limited:
            ctx.counters.add("fault.429")
            return fake(platform).fault(ctx, req, 429, d)
        response = route.handler(ctx, req, d)
        if d.malformed is not None and response.status == 200:
            ctx.counters.add("fault.malformed")
            response.body = malform(response.body, response.content_type, d.malformed)
        return response
