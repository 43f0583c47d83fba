"""The `state` of an authorization: signed, bound, expiring, single use.

It is a JWT (HS256, PyJWT) naming the attempt (`jti`), the team, the channel,
the user and the platform, with `exp`; its key is derived with HKDF from
CREDENTIALS_ENCRYPTION_KEY, so no extra secret is needed and nothing else
signed with that material verifies as a state. The signature makes it
tamper-proof and the expiry short-lived; single use comes from the attempt row
(`channel_connection_attempts.used_at`), which the callback consumes in the
same statement that finds it.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.config import Settings
from shared.errors import Unavailable, Unprocessable
from shared.platforms.registry import Platform

AUDIENCE = "streamtrack:connection-state"
_INFO = b"streamtrack connection state v1"


class InvalidState(Unprocessable):
    """The state is not one this server signed, or it has expired (422)."""


@dataclass(frozen=True, slots=True)
class State:
    attempt_id: UUID
    team_id: UUID
    channel_id: UUID
    user_id: UUID
    platform: Platform
    expires_at: datetime


def _key(settings: Settings) -> bytes:
    if settings.credentials_encryption_key is None:
        raise Unavailable("this server cannot connect channels (no encryption key configured)")
    try:
        material = base64.b64decode(
            settings.credentials_encryption_key.get_secret_value(), validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise Unavailable("CREDENTIALS_ENCRYPTION_KEY is not valid base64") from exc
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


def sign(state: State, settings: Settings) -> str:
    claims = {
        "jti": str(state.attempt_id),
        "team": str(state.team_id),
        "chan": str(state.channel_id),
        "sub": str(state.user_id),
        "plat": state.platform.value,
        "aud": AUDIENCE,
        "exp": int(state.expires_at.timestamp()),
    }
    return jwt.encode(claims, _key(settings), algorithm="HS256")


def verify(token: str, settings: Settings, *, now: datetime) -> State:
    """The state's claims; InvalidState if it was altered, forged or has expired."""
    try:
        claims = jwt.decode(
            token,
            _key(settings),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={
                "require": ["jti", "team", "chan", "sub", "plat", "exp", "aud"],
                "verify_exp": False,
            },
        )
    except jwt.InvalidTokenError:
        raise InvalidState(
            "the state parameter is not one this server issued; start connecting again"
        ) from None
    try:
        state = State(
            attempt_id=UUID(str(claims["jti"])),
            team_id=UUID(str(claims["team"])),
            channel_id=UUID(str(claims["chan"])),
            user_id=UUID(str(claims["sub"])),
            platform=Platform(str(claims["plat"])),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), now.tzinfo),
        )
    except (ValueError, TypeError):
        raise InvalidState("the state parameter is malformed; start connecting again") from None
    # Expiry against the service's clock (simulated in tests), not the wall clock.
    if now >= state.expires_at:
        raise InvalidState("this authorization link has expired; start connecting again")
    return state
