"""Alerts: the team endpoints under /api/teams/{team_id}/alerts and the delivery
timer that sends the outbox (%ALERTS_SCHEDULE%)."""

from http import HTTPStatus
from uuid import UUID

import azure.functions as func

from functions.http import ON_A_TEAM, Api, Reply
from shared.alerts import service
from shared.alerts.models import (
    DeliveriesPublic,
    DeliveriesQuery,
    DestinationCreate,
    DestinationCreated,
    DestinationPublic,
    DestinationsPublic,
    DestinationTestResult,
    DestinationUpdate,
    RuleCreate,
    RulePublic,
    RulesPublic,
    RuleUpdate,
)
from shared.alerts.runner import run_delivery
from shared.auth import AccessClaims
from shared.config import get_settings
from shared.db import get_database

api = Api("alerts")
DESTINATIONS = api.path("/api/teams/{team_id}/alerts/destinations", function="alert_destinations")
DESTINATION = api.path(
    "/api/teams/{team_id}/alerts/destinations/{destination_id}", function="alert_destination"
)
TEST = api.path(
    "/api/teams/{team_id}/alerts/destinations/{destination_id}/test",
    function="alert_destination_test",
)
RULES = api.path("/api/teams/{team_id}/alerts/rules", function="alert_rules")
RULE = api.path("/api/teams/{team_id}/alerts/rules/{rule_id}", function="alert_rule")
DELIVERIES = api.path("/api/teams/{team_id}/alerts/deliveries", function="alert_deliveries")
WRITE_ERRORS = (*ON_A_TEAM, 400, 403, 409, 413)


@DESTINATIONS.get(
    "listAlertDestinations", "The team's alert destinations", response=DestinationsPublic
)
def list_destinations(claims: AccessClaims, team_id: UUID) -> DestinationsPublic:
    return service.list_destinations(get_database(), claims, team_id)


@DESTINATIONS.post(
    "createAlertDestination",
    "Add a Discord, Slack, Teams (Workflows) or signed webhook destination (admins); "
    "a webhook's signing secret is in this answer only",
    ok=HTTPStatus.CREATED,
    response=DestinationCreated,
    errors=(*WRITE_ERRORS, 503),
)
def create_destination(claims: AccessClaims, team_id: UUID, body: DestinationCreate) -> Reply:
    created = service.create_destination(get_database(), claims, team_id, body, get_settings())
    location = f"/api/teams/{team_id}/alerts/destinations/{created.id}"
    return Reply(created, headers={"Location": location})


@DESTINATION.patch(
    "updateAlertDestination",
    "Rename a destination or switch it off and on (admins)",
    response=DestinationPublic,
    errors=WRITE_ERRORS,
)
def update_destination(
    claims: AccessClaims, team_id: UUID, destination_id: UUID, body: DestinationUpdate
) -> DestinationPublic:
    return service.update_destination(get_database(), claims, team_id, destination_id, body)


@DESTINATION.delete(
    "deleteAlertDestination",
    "Delete a destination and its rules (admins); its delivery log stays",
    ok=HTTPStatus.NO_CONTENT,
    errors=(*ON_A_TEAM, 403),
)
def delete_destination(claims: AccessClaims, team_id: UUID, destination_id: UUID) -> None:
    service.delete_destination(get_database(), claims, team_id, destination_id)


@TEST.post(
    "testAlertDestination",
    "Send a sample alert to the destination now (admins) and say what it answered",
    response=DestinationTestResult,
    errors=(*ON_A_TEAM, 403, 503),
)
def test_destination(
    claims: AccessClaims, team_id: UUID, destination_id: UUID
) -> DestinationTestResult:
    return service.send_test_message(
        get_database(), claims, team_id, destination_id, get_settings()
    )


@RULES.get("listAlertRules", "The team's alert rules", response=RulesPublic)
def list_rules(claims: AccessClaims, team_id: UUID) -> RulesPublic:
    return service.list_rules(get_database(), claims, team_id)


@RULES.post(
    "createAlertRule",
    "Alert a destination on an event of one channel or all (admins)",
    ok=HTTPStatus.CREATED,
    response=RulePublic,
    errors=WRITE_ERRORS,
)
def create_rule(claims: AccessClaims, team_id: UUID, body: RuleCreate) -> Reply:
    created = service.create_rule(get_database(), claims, team_id, body)
    return Reply(created, headers={"Location": f"/api/teams/{team_id}/alerts/rules/{created.id}"})


@RULE.patch(
    "updateAlertRule",
    "Change a rule's threshold, template or switch (admins)",
    response=RulePublic,
    errors=WRITE_ERRORS,
)
def update_rule(claims: AccessClaims, team_id: UUID, rule_id: UUID, body: RuleUpdate) -> RulePublic:
    return service.update_rule(get_database(), claims, team_id, rule_id, body)


@RULE.delete(
    "deleteAlertRule", "Delete a rule (admins)", ok=HTTPStatus.NO_CONTENT, errors=(*ON_A_TEAM, 403)
)
def delete_rule(claims: AccessClaims, team_id: UUID, rule_id: UUID) -> None:
    service.delete_rule(get_database(), claims, team_id, rule_id)


@DELIVERIES.get(
    "listAlertDeliveries",
    "The team's alerts, newest first, with their status and last error",
    response=DeliveriesPublic,
)
def list_deliveries(
    claims: AccessClaims, team_id: UUID, query: DeliveriesQuery
) -> DeliveriesPublic:
    return service.list_deliveries(get_database(), claims, team_id, query)


bp = api.blueprint()


@bp.function_name("alerts_deliver")
@bp.timer_trigger(
    schedule="%ALERTS_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True
)
def alerts_deliver(timer: func.TimerRequest) -> None:
    run_delivery()
