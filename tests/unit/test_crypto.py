import base64
import os
import uuid

import pytest
from pydantic import SecretStr

from shared.config import Settings
from shared.crypto import CredentialError, Sealed, SecretBox

KEY = os.urandom(32)


def test_round_trip_and_fresh_nonces() -> None:
    box = SecretBox(KEY)
    channel = uuid.uuid4()
    a, b = box.seal("rumble-key-123", channel), box.seal("rumble-key-123", channel)
    assert a.nonce != b.nonce
    assert a.ciphertext != b.ciphertext
    assert b"rumble-key-123" not in a.ciphertext
    assert box.open(a, channel) == "rumble-key-123"


def test_bound_to_its_channel() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("secret", uuid.uuid4())
    with pytest.raises(CredentialError, match="does not open"):
        box.open(sealed, uuid.uuid4())


def test_tampering_and_wrong_key_are_refused() -> None:
    channel = uuid.uuid4()
    sealed = SecretBox(KEY).seal("secret", channel)
    flipped = Sealed(bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:], sealed.nonce, 1)
    with pytest.raises(CredentialError):
        SecretBox(KEY).open(flipped, channel)
    with pytest.raises(CredentialError):
        SecretBox(os.urandom(32)).open(sealed, channel)
    with pytest.raises(CredentialError, match="key version"):
        SecretBox(KEY, key_version=2).open(sealed, channel)


def test_from_settings() -> None:
    encoded = base64.b64encode(KEY).decode()
    box = SecretBox.from_settings(Settings(credentials_encryption_key=SecretStr(encoded)))
    channel = uuid.uuid4()
    assert SecretBox(KEY).open(box.seal("x", channel), channel) == "x"
    with pytest.raises(CredentialError, match="not set"):
        SecretBox.from_settings(Settings(credentials_encryption_key=None))
    with pytest.raises(CredentialError, match="base64"):
        SecretBox.from_settings(Settings(credentials_encryption_key=SecretStr("%%%")))
    with pytest.raises(CredentialError, match="32 bytes"):
        SecretBox(b"short")
