"""Access tokens for the API tests, signed the way Supabase Auth signs them with a
project's legacy HS256 secret (the settings in `api_settings` accept them)."""

import base64
import time
import uuid
from typing import Any

import jwt

SUPABASE_URL = "http://127.0.0.1:54321"
SECRET = "test-only-legacy-hs256-secret-0123456789abcdef"
ENCRYPTION_KEY = base64.b64encode(b"k" * 32).decode()


def mint(user: uuid.UUID, email: str | None = None, **overrides: Any) -> str:
    """A user's access token; `overrides` change (or add) claims."""
    now = int(time.time())
    claims = {
        "sub": str(user),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": f"{SUPABASE_URL}/auth/v1",
        "exp": now + 3600,
        "iat": now,
        "aal": "aal1",
        "session_id": str(uuid.uuid4()),
        "email": email or f"{user.hex[:12]}@example.test",
        "is_anonymous": False,
        **overrides,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def api_settings() -> dict[str, str]:
    """The environment under which the API verifies `mint`'s tokens and seals keys."""
    return {
        "SUPABASE_URL": SUPABASE_URL,
        "SUPABASE_JWT_SECRET": SECRET,
        "CREDENTIALS_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SUPABASE_SERVICE_ROLE_KEY": "test-service-role-key",
        "INVITATION_ACCEPT_URL": "https://app.example.test/invitations/accept",
    }
