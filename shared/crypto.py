"""Sealing channel credentials (such as a channel owner's API key).

AES-256-GCM with a fresh 96-bit nonce per seal. The channel id is bound as
associated data, so a ciphertext copied onto another channel's row does not
open. `key_version` is stored beside each ciphertext so the key can rotate.
"""

import base64
import binascii
import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.config import Settings


class CredentialError(Exception):
    """A credential cannot be sealed or opened (wrong key, tampered, misconfigured)."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed secret as stored in `channel_credentials`."""

    ciphertext: bytes
    nonce: bytes
    key_version: int


class SecretBox:
    """Seals and opens credentials with one AES-256-GCM key."""

    def __init__(self, key: bytes, key_version: int = 1) -> None:
        if len(key) != 32:
            raise CredentialError("the credentials key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        self.key_version = key_version

    @classmethod
    def from_settings(cls, settings: Settings) -> "SecretBox":
        if settings.credentials_encryption_key is None:
            raise CredentialError("CREDENTIALS_ENCRYPTION_KEY is not set")
        try:
            key = base64.b64decode(
                settings.credentials_encryption_key.get_secret_value(), validate=True
            )
        except (binascii.Error, ValueError) as exc:
            raise CredentialError("CREDENTIALS_ENCRYPTION_KEY is not valid base64") from exc
        return cls(key)

    def seal(self, secret: str, channel_id: UUID) -> Sealed:
        nonce = os.urandom(12)
        ciphertext = self._aead.encrypt(nonce, secret.encode(), channel_id.bytes)
        return Sealed(ciphertext, nonce, self.key_version)

    def open(self, sealed: Sealed, channel_id: UUID) -> str:
        if sealed.key_version != self.key_version:
            raise CredentialError(f"sealed with key version {sealed.key_version}")
        try:
            return self._aead.decrypt(sealed.nonce, sealed.ciphertext, channel_id.bytes).decode()
        except (InvalidTag, ValueError) as exc:
            raise CredentialError("the credential does not open with this key") from exc
