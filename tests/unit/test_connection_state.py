"""The signed `state` of a connection: round trip, tampering, forgery, expiry."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from shared.config import Settings
from shared.connections.state import AUDIENCE, InvalidState, State, sign, verify
from shared.errors import Unavailable
from shared.platforms.registry import Platform

KEY = base64.b64encode(b"k" * 32).decode()
SETTINGS = Settings(credentials_encryption_key=SecretStr(KEY))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _state(expires: datetime = NOW + timedelta(minutes=10)) -> State:
    return State(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), Platform.TWITCH, expires)


def test_round_trip() -> None:
    state = _state()
    assert verify(sign(state, SETTINGS), SETTINGS, now=NOW) == state


def test_every_altered_part_is_refused() -> None:
    token = sign(_state(), SETTINGS)
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["team"] = str(uuid.uuid4())
    swapped = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (
        f"{head}.{swapped}.{signature}",
        f"{head}.{payload}.{signature[::-1]}",
        token + "A",
        "",
        "a.b",
        "x" * 500,
    ):
        with pytest.raises(InvalidState):
            verify(bad, SETTINGS, now=NOW)


def test_a_state_signed_with_another_key_or_algorithm_is_refused() -> None:
    other = Settings(credentials_encryption_key=SecretStr(base64.b64encode(b"o" * 32).decode()))
    with pytest.raises(InvalidState):
        verify(sign(_state(), other), SETTINGS, now=NOW)
    claims = {
        "jti": str(uuid.uuid4()), "team": str(uuid.uuid4()), "chan": str(uuid.uuid4()),
        "sub": str(uuid.uuid4()), "plat": "twitch", "aud": AUDIENCE,
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
    }  # fmt: skip
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(InvalidState):
        verify(unsigned, SETTINGS, now=NOW)
    # The raw encryption key itself is not the signing key (HKDF separates them).
    raw = jwt.encode(claims, base64.b64decode(KEY), algorithm="HS256")
    with pytest.raises(InvalidState):
        verify(raw, SETTINGS, now=NOW)


def test_expiry_is_read_on_the_given_clock() -> None:
    token = sign(_state(NOW + timedelta(minutes=10)), SETTINGS)
    verify(token, SETTINGS, now=NOW + timedelta(minutes=9, seconds=59))
    with pytest.raises(InvalidState, match="expired"):
        verify(token, SETTINGS, now=NOW + timedelta(minutes=10))


def test_an_unknown_platform_or_a_missing_claim_is_malformed() -> None:
    key_source = sign(_state(), SETTINGS)
    header = jwt.get_unverified_header(key_source)
    assert header["alg"] == "HS256"
    from shared.connections import state as module

    key = module._key(SETTINGS)
    base = {
        "jti": str(uuid.uuid4()), "team": str(uuid.uuid4()), "chan": str(uuid.uuid4()),
        "sub": str(uuid.uuid4()), "plat": "myspace", "aud": AUDIENCE,
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
    }  # fmt: skip
    with pytest.raises(InvalidState, match="malformed"):
        verify(jwt.encode(base, key, algorithm="HS256"), SETTINGS, now=NOW)
    del base["chan"]
    with pytest.raises(InvalidState):
        verify(jwt.encode(base | {"plat": "twitch"}, key, algorithm="HS256"), SETTINGS, now=NOW)


def test_without_an_encryption_key_connecting_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        sign(_state(), Settings(credentials_encryption_key=None))
