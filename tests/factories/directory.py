"""Microsoft identity platform, Microsoft Graph, Google's token endpoint and
the Admin SDK Directory API, faked at the HTTP boundary (httpx.MockTransport)
with payloads in their documented wire formats (tests/fixtures/graph,
tests/fixtures/google).

Responses are scripted per route and consumed in order (the last one
repeats); every request is kept, so tests assert on what was sent.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FIXTURES = Path(__file__).parents[1] / "fixtures"
TENANT = "9f2c4a57-3d1e-4b8a-9c6d-2e7f1a0b3c45"
OPS_GROUP = "2e5807ce-58f3-4a94-9b37-1a2b2e085957"
EMPTY_GROUP = "ec22655c-8eb2-432a-b4ea-8b8a254b0001"
USER_A = "693acd06-2877-4339-8ade-b704261fe7a0"
USER_B = "49320844-be99-4164-8167-87ff5d047ace"
USER_C = "632f6bb2-3ec8-4c1f-9073-0027a8c68593"
USER_D = "37de1ae3-408f-4702-8636-20824abda004"
FIRST_DELTA = (
    "sZwAFZibx-LQOdZIo1hHhmmDhHzCY0Hs6snoIHJCSIfCHdqKdWNZ2VX3kErpyna9GygROwBk-rqWWMFxJC3pw"
)
SKIP = "pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjvB7XnF_yllFsCrZJ"
GOOGLE_DOMAIN = "example.com"
GOOGLE_GROUP = "streaming-ops@example.com"
GOOGLE_PAGE2 = "CkYKGAoOMTE0MDA2NDg1ODM5Mjg0EgZYWVoxMjMSKG9uLWNhbGxAZXhhbXBsZS5jb20"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


def fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def reply(provider: str, name: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=fixture(provider, name), headers=headers)


def service_account_json() -> str:
    """A service account key as the Cloud console downloads it (a fresh RSA key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "streamtrack-test",
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": pem,
            "client_email": "directory-sync@streamtrack-test.iam.gserviceaccount.com",
            "client_id": "109876543210987654321",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            "directory-sync%40streamtrack-test.iam.gserviceaccount.com",
            "universe_domain": "googleapis.com",
        }
    )


class DirectoryFake:
    """Scripted answers by route: ("graph", "start"|skiptoken|deltatoken),
    ("google", group key, page token or ""), "entra-token", "google-token",
    "discovery"."""

    def __init__(self) -> None:
        self.script: dict[Any, list[Reply]] = defaultdict(list)
        self.requests: list[httpx.Request] = []
        self.on("discovery", reply("graph", "openid_configuration"))
        self.on("instance-discovery", reply("graph", "instance_discovery"))
        self.on("entra-token", reply("graph", "token"))
        self.on("google-token", reply("google", "token"))

    def on(self, route: Any, *replies: Reply) -> "DirectoryFake":
        self.script[route] = list(replies)
        return self

    def standard_graph(self) -> "DirectoryFake":
        """A full round over two pages (the Ops group split across them), then no changes."""
        self.on(("graph", "start"), reply("graph", "delta_full_page1"))
        self.on(("graph", SKIP), reply("graph", "delta_full_page2"))
        self.on(("graph", FIRST_DELTA), reply("graph", "delta_no_changes"))
        return self

    def standard_google(self) -> "DirectoryFake":
        self.on(("google", GOOGLE_GROUP, ""), reply("google", "members_page1"))
        self.on(("google", GOOGLE_GROUP, GOOGLE_PAGE2), reply("google", "members_page2"))
        return self

    def route(self, request: httpx.Request) -> Any:
        url = urlsplit(str(request.url))
        query = parse_qs(url.query)
        if url.path.endswith("/.well-known/openid-configuration"):
            return "discovery"
        if url.path.endswith("/discovery/instance"):
            return "instance-discovery"
        if url.netloc == "login.microsoftonline.com" and url.path.endswith("/oauth2/v2.0/token"):
            return "entra-token"
        if url.netloc == "oauth2.googleapis.com":
            return "google-token"
        if url.netloc == "graph.microsoft.com":
            for name in ("$skiptoken", "$deltatoken"):
                if name in query:
                    return ("graph", query[name][0])
            return ("graph", "start")
        if url.netloc == "admin.googleapis.com":
            group = unquote(url.path.split("/groups/")[1].split("/members")[0])
            return ("google", group, query.get("pageToken", [""])[0])
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.route(request)
        replies = self.script.get(route)
        if not replies:
            raise AssertionError(f"nothing scripted for {route}")
        answer = replies.pop(0) if len(replies) > 1 else replies[0]
        return answer(request) if callable(answer) else answer

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def sent(self, route_kind: str) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (route := self.route(r)) == route_kind
            or (isinstance(route, tuple) and route[0] == route_kind)
        ]


def directory_env() -> dict[str, str]:
    """Settings for both providers pointing at the fake's hosts."""
    return {
        "ENTRA_CLIENT_ID": "00000000-0000-4000-8000-00000000c1d0",
        "ENTRA_CLIENT_SECRET": "test-only-entra-secret",
        "ENTRA_TENANT_IDS": TENANT,
        "GOOGLE_SERVICE_ACCOUNT_JSON": service_account_json(),
        "GOOGLE_DELEGATED_ADMIN": "admin@example.com",
        "GOOGLE_WORKSPACE_DOMAINS": GOOGLE_DOMAIN,
    }
