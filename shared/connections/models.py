"""Bodies of the connection endpoints; the OpenAPI document is generated from them."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.platforms.base import Platform

ConnectionStatus = Literal["active", "broken"]


class ConnectionStart(BaseModel):
    """Body of `POST .../connection`: `{}` (nothing to choose yet; unknown fields refused)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ConnectionStarted(BaseModel):
    """Answer of `POST .../connection`: where to send the channel's owner."""

    authorization_url: str
    """The platform's consent page; open it signed in as the channel's account."""
    expires_at: datetime
    """The URL can be completed once, until then."""
    platform: Platform
    scopes: list[str]
    """What the connection asks the owner for."""


class ConnectionPublic(BaseModel):
    """A team's connection to one of its channels."""

    id: UUID
    team_id: UUID
    channel_id: UUID
    platform: Platform
    account_id: str
    """The platform account that authorized (it owns the channel)."""
    scopes: list[str]
    status: ConnectionStatus
    """broken: the platform refused the tokens (revoked, expired grant): connect again."""
    broken_at: datetime | None = None
    broken_reason: str | None = None
    connected_by: UUID | None = None
    connected_at: datetime


class ConnectionsPublic(BaseModel):
    """The team's connections."""

    data: list[ConnectionPublic]
    count: int


class CallbackQuery(BaseModel):
    """What the platform appends to the callback URL (RFC 6749 section 4.1.2)."""

    # Providers add parameters of their own (Google: authuser, prompt, hd): ignored.
    model_config = ConfigDict(extra="ignore")

    state: str = Field(default="", max_length=4096)
    code: str | None = Field(default=None, min_length=1, max_length=2048)
    error: str | None = Field(default=None, max_length=200)
    """Set when the owner declined or the platform refused (`access_denied`)."""
    error_description: str | None = Field(default=None, max_length=1000)
    scope: str | None = Field(default=None, max_length=4096)
