"""A destination's secret part: its URL (Discord, Slack and Workflows URLs are
bearer credentials) and, for a generic webhook, its signing secret.

Sealed together as JSON with the credentials key (`shared.crypto`, AES-256-GCM)
and the destination's id as associated data, so a ciphertext copied onto
another destination's row does not open.
"""

import base64
import json
import secrets
from dataclasses import dataclass
from uuid import UUID

from shared.crypto import CredentialError, Sealed, SecretBox


@dataclass(frozen=True, slots=True)
class Target:
    """Where a destination's requests go, and how generic webhooks are signed."""

    url: str
    signing_secret: str | None = None


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def seal_target(box: SecretBox, destination_id: UUID, target: Target) -> Sealed:
    data = {"url": target.url, "signing_secret": target.signing_secret}
    return box.seal(json.dumps(data, separators=(",", ":")), destination_id)


def open_target(box: SecretBox, destination_id: UUID, sealed: Sealed) -> Target:
    raw = box.open(sealed, destination_id)
    try:
        data = json.loads(raw)
        url = data["url"]
        signing = data.get("signing_secret")
    except (ValueError, KeyError, TypeError) as exc:
        raise CredentialError("the destination's sealed secret is not readable") from exc
    if not isinstance(url, str) or not (signing is None or isinstance(signing, str)):
        raise CredentialError("the destination's sealed secret is not readable")
    return Target(url, signing)
