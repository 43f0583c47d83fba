"""`/api/teams` through the registered function: token → RLS → problem+json."""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import jwt
import pytest
from azure.functions.decorators.function_app import Function
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import get_token_verifier
from shared.config import get_settings
from shared.db import Database, reset_database
from tests.factories.tokens import SECRET, SUPABASE_URL, mint
from tests.factories.users import create_user


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch, database_url: str, app_functions: dict[str, Function]
) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SUPABASE_URL", SUPABASE_URL)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    reset_database()
    yield app_functions["teams"].get_user_function()
    reset_database()
    get_token_verifier.cache_clear()
    get_settings.cache_clear()


token = mint


def call(fn: Any, method: str, bearer: str | None = None, body: bytes = b"") -> func.HttpResponse:
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    response: func.HttpResponse = fn(
        func.HttpRequest(method, "http://localhost/api/teams", headers=headers, body=body)
    )
    return response


def teams_named(database: Database, name: str) -> int:
    with database.service() as conn:
        row = conn.execute("select count(*) from public.teams where name = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


def test_create_then_list_only_ones_own(api: Any, database: Database) -> None:
    alice, bob = create_user(database), create_user(database)
    name = f"Team {uuid.uuid4().hex[:6]}"
    created = call(api, "POST", token(alice), json.dumps({"name": f"  {name} "}).encode())
    assert created.status_code == 201
    team = json.loads(created.get_body())
    assert team["name"] == name
    assert team["role"] == "owner"
    assert team["plan_id"] == "free"
    assert created.headers["Location"] == f"/api/teams/{team['id']}"

    mine = json.loads(call(api, "GET", token(alice)).get_body())
    assert [t["id"] for t in mine["data"]] == [team["id"]]
    theirs = json.loads(call(api, "GET", token(bob)).get_body())
    assert theirs == {"data": [], "count": 0}


@pytest.mark.parametrize(
    ("bearer", "status", "challenge"),
    [
        (None, 401, "Bearer"),
        ("not-a-token", 401, 'Bearer error="invalid_token"'),
        ("expired", 401, 'Bearer error="invalid_token"'),
        ("forged", 401, 'Bearer error="invalid_token"'),
        ("service_role", 401, 'Bearer error="invalid_token"'),
        # A genuine token whose account was deleted since (was an unmapped foreign-key
        # error, a 500).
        ("deleted", 401, 'Bearer error="invalid_token"'),
    ],
)
def test_bad_tokens_get_401_and_write_nothing(
    api: Any, database: Database, bearer: str | None, status: int, challenge: str
) -> None:
    user = create_user(database)
    value = {
        "expired": token(user, exp=int(time.time()) - 3600),
        "forged": jwt.encode({"sub": str(user)}, "another-secret-of-sufficient-len-0123456789"),
        "service_role": token(user, role="service_role"),
        "deleted": token(user),
    }.get(bearer or "", bearer)
    if bearer == "deleted":
        with database.service() as conn:
            conn.execute("delete from auth.users where id = %s", (user,))
    name = f"Denied {uuid.uuid4().hex[:6]}"
    response = call(api, "POST", value, json.dumps({"name": name}).encode())
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == challenge
    problem = json.loads(response.get_body())
    assert problem["status"] == status
    assert problem["detail"]
    assert teams_named(database, name) == 0


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"not json", 400, "JSON object"),
        (b"[1, 2]", 400, "JSON object"),
        (b"\xff\xfe", 400, "JSON object"),
        (json.dumps({"name": ""}).encode(), 422, "name"),
        (json.dumps({"name": "x" * 101}).encode(), 422, "name"),
        (json.dumps({"name": 12}).encode(), 422, "name"),
        (json.dumps({"name": "ok", "plan_id": "business"}).encode(), 422, "plan_id"),
        (json.dumps({"name": "ok", "require_mfa": "sometimes"}).encode(), 422, "require_mfa"),
        (json.dumps({}).encode(), 422, "name"),
        (json.dumps({"name": "x", "pad": "y" * 70_000}).encode(), 413, "exceeds"),
        # Was a RecursionError, a 500.
        (b"[" * 60_000, 400, "nested too deeply"),
        (b'{"name": "x", "pad": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", 400, "nested too deeply"),
        (b'{"name": "x", "pad": ' + b"[" * 500 + b"]" * 500 + b"}", 400, "nested too deeply"),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(
    api: Any, database: Database, body: bytes, status: int, says: str
) -> None:
    user = create_user(database)
    with database.service() as conn:
        before = conn.execute("select count(*) from public.teams").fetchone()
    response = call(api, "POST", token(user), body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert says in json.loads(response.get_body())["detail"]
    with database.service() as conn:
        assert conn.execute("select count(*) from public.teams").fetchone() == before


@pytest.mark.parametrize(
    ("bearer", "status"),
    [
        (None, 401),
        ("not-a-token", 401),
        ("a.b.c", 401),
        ("es256-garbled-payload", 401),
        ("es256-other-issuer", 401),
        ("es256", 503),  # well-formed: only its signature needs the keys
    ],
)
def test_with_the_jwks_unreachable_only_a_well_formed_token_gets_503(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    app_functions: dict[str, Function],
    bearer: str | None,
    status: int,
) -> None:
    # Signing keys only (no legacy secret), and nothing listens where they are published.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("SUPABASE_JWT_SECRET", raising=False)
    get_settings.cache_clear()
    get_token_verifier.cache_clear()
    reset_database()
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        now = int(time.time())
        good = {
            "sub": str(uuid.uuid4()),
            "role": "authenticated",
            "aud": "authenticated",
            "iss": "http://127.0.0.1:9/auth/v1",
            "exp": now + 600,
            "iat": now,
        }
        header = {"kid": "unknown-kid"}
        value = {
            "es256": jwt.encode(good, key, algorithm="ES256", headers=header),
            "es256-other-issuer": jwt.encode(
                {**good, "iss": "https://elsewhere.example/auth/v1"}, key, "ES256", header
            ),
            "es256-garbled-payload": jwt.encode(good, key, "ES256", header).replace(".", ".e30", 1),
        }.get(bearer or "", bearer)
        fn = app_functions["teams"].get_user_function()
        response = call(fn, "GET", value)
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert json.loads(response.get_body())["status"] == status
    finally:
        reset_database()
        get_token_verifier.cache_clear()
        get_settings.cache_clear()
