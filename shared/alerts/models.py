"""Request and response bodies of the alerts API (the OpenAPI document is
generated from these same models)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator

from shared.alerts.messages import TemplateError, check_template

DestinationKind = Literal["discord", "slack", "teams", "webhook"]
AlertEventName = Literal["live", "ended", "title_changed", "category_changed", "viewers_above"]
DeliveryStatus = Literal["pending", "delivered", "failed", "dropped"]
NO_CONTROL = r"^[^\x00-\x1f]*$"
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_CONTROL)
]
Template = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=r"^[^\x00]*$"),
]


class _Body(BaseModel):
    """A request body: unknown fields are refused and types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _template(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_template(value)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None


class DestinationCreate(_Body):
    """Body of `POST /api/teams/{team_id}/alerts/destinations`."""

    kind: DestinationKind
    """discord / slack: the incoming webhook URL; teams: a Power Automate Workflows URL
    (Office 365 connectors are retired); webhook: any https endpoint, signed."""
    name: Name
    url: SecretStr = Field(min_length=8, max_length=2048)
    """https only; it must resolve to public addresses. Stored encrypted, never returned."""


class DestinationUpdate(_Body):
    """Body of `PATCH .../alerts/destinations/{destination_id}`: the fields to change."""

    name: Name | None = None
    enabled: bool | None = None
    """true switches a destination the server turned off back on (failures reset)."""


class DestinationPublic(BaseModel):
    """A destination as the team sees it (never its URL or signing secret)."""

    id: UUID
    team_id: UUID
    kind: DestinationKind
    name: str
    target_host: str
    """The URL's host, the only part of it shown."""
    enabled: bool
    disabled_reason: str | None
    """Why the server switched it off (repeated 401/404 answers), if it did."""
    disabled_at: datetime | None
    created_by: UUID | None
    created_at: datetime


class DestinationCreated(DestinationPublic):
    """A new destination: for a generic webhook, the only answer with its signing secret."""

    signing_secret: str | None = None
    """`whsec_...`: verify the `webhook-signature` header with it (README: Alerts). Shown
    once; null for other kinds."""


class DestinationsPublic(BaseModel):
    data: list[DestinationPublic]
    count: int


class DestinationTestResult(BaseModel):
    """What the destination answered to a sample message."""

    delivered: bool
    status_code: int | None
    error: str | None


class RuleCreate(_Body):
    """Body of `POST /api/teams/{team_id}/alerts/rules`."""

    destination_id: UUID
    channel_id: UUID | None = None
    """One channel the team tracks; null: all of them."""
    event: AlertEventName
    viewer_threshold: int | None = Field(default=None, ge=1, le=100_000_000)
    """viewers_above only (required there): alert once per stream on reaching it."""
    template: Template | None = None
    """The message, with placeholders {channel} {platform} {url} {title} {category}
    {viewers} {threshold} {peak_viewers} {avg_viewers} {hours_watched} {duration}
    {started_at} {ended_at} {event}; null: the default message."""
    enabled: bool = True

    _check_template = field_validator("template")(_template)


class RuleUpdate(_Body):
    """Body of `PATCH .../alerts/rules/{rule_id}`: the fields to change."""

    viewer_threshold: int | None = Field(default=None, ge=1, le=100_000_000)
    template: Template | None = None
    enabled: bool | None = None

    _check_template = field_validator("template")(_template)


class RulePublic(BaseModel):
    id: UUID
    team_id: UUID
    destination_id: UUID
    channel_id: UUID | None
    event: AlertEventName
    viewer_threshold: int | None
    template: str | None
    enabled: bool
    created_by: UUID | None
    created_at: datetime


class RulesPublic(BaseModel):
    data: list[RulePublic]
    count: int


class DeliveriesQuery(BaseModel):
    """Query of `GET .../alerts/deliveries`."""

    model_config = ConfigDict(extra="forbid")

    status: DeliveryStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    before_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    """Paging: deliveries older than this one."""


class DeliveryPublic(BaseModel):
    """One alert and what became of it."""

    id: int
    rule_id: UUID | None
    destination_id: UUID | None
    channel_id: UUID
    event: AlertEventName
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    occurred_at: datetime
    created_at: datetime
    delivered_at: datetime | None


class DeliveriesPublic(BaseModel):
    """A team's deliveries, newest first."""

    data: list[DeliveryPublic]
    count: int
