"""Calling the teams API as the Functions host would: tokens minted the way
Supabase Auth signs them (legacy HS256 secret), requests routed to the
registered function by its route template, responses decoded."""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func
from azure.functions.decorators.function_app import Function

from shared.auth import get_token_verifier
from shared.config import get_settings
from shared.db import Database, reset_database
from shared.monitor.service import default_fetchers
from shared.teams.channels import default_resolvers
from tests.factories.tokens import api_settings, mint


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_problem(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/problem+json")


class Api:
    """Routes `METHOD /api/...` to the registered function, like the host."""

    def __init__(self, functions: dict[str, Function]) -> None:
        self._routes: list[tuple[re.Pattern[str], set[str], Any]] = []
        for fn in functions.values():
            for raw in fn.get_raw_bindings():
                binding = json.loads(raw)
                if binding["type"] != "httpTrigger":
                    continue
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", binding["route"])
                self._routes.append(
                    (
                        re.compile(f"^/api/{pattern}$"),
                        set(binding["methods"]),
                        fn.get_user_function(),
                    )
                )

    def __call__(
        self,
        method: str,
        path: str,
        user: uuid.UUID | None = None,
        *,
        body: Any = None,
        raw: bytes | None = None,
        token: str | None = None,
        aal: str = "aal1",
        headers: dict[str, str] | None = None,
    ) -> Response:
        path, _, query = path.partition("?")
        found = [
            (match, handler)
            for pattern, methods, handler in self._routes
            if (match := pattern.match(path)) and method in methods
        ]
        if not found:
            raise AssertionError(f"no function serves {method} {path}")
        match, handler = found[0]
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is None and user is not None:
            token = mint(user, aal=aal)
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response: func.HttpResponse = handler(
            func.HttpRequest(
                method,
                f"http://localhost{path}",
                headers=sent,
                route_params=match.groupdict(),
                params=dict(parse_qsl(query)),
                body=payload,
            )
        )
        return Response(
            response.status_code,
            {"content-type": response.mimetype or ""}
            | {k.lower(): v for k, v in response.headers.items()},
            response.get_body(),
        )


def snapshot(database: Database, team_id: uuid.UUID) -> dict[str, Any]:
    """Everything a team operation could change, to compare before and after a refusal."""
    queries = {
        "team": "select name, require_mfa, plan_id from public.teams where id = %s",
        "members": "select user_id, role from public.team_members where team_id = %s order by 1",
        "invitations": "select id, email, role, accepted_at from public.team_invitations "
        "where team_id = %s order by 1",
        "channels": "select channel_id, paused_at from public.team_channels "
        "where team_id = %s order by 1",
        "audit": "select count(*) from public.audit_log where team_id = %s",
    }
    with database.service() as conn:
        return {k: conn.execute(q, (team_id,)).fetchall() for k, q in queries.items()}


def api_env() -> dict[str, str]:
    return api_settings()


def clear_caches() -> None:
    """Forget the process-wide settings, verifier, clients and pool (env changed)."""
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    default_fetchers.cache_clear()
    default_resolvers.cache_clear()
    reset_database()
