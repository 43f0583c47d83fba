"""`GET /api/health`: database, monitor, queue, quota and registered checks, for
probes and people; answers within 2 s whatever is down (see shared/health.py)."""

from http import HTTPStatus

from functions.http import Api, Reply
from shared.health import HealthPublic, check_health

api = Api("health")
HEALTH = api.path("/api/health", function="health")


@HEALTH.get(
    "getHealth",
    "Health: 200 ok or degraded (serving; an operator should look), 503 unhealthy",
    response=HealthPublic,
    errors=(503,),
    error_body=HealthPublic,  # the report itself, with status unhealthy
    authenticated=False,
)
def health() -> Reply:
    report = check_health()
    # 503 only when this instance cannot serve (no database): a load balancer or
    # Azure's health check then takes it out. Degraded is still 200: restarting an
    # instance does not bring back a platform's quota or a late monitor cycle.
    unhealthy = report.status == "unhealthy"
    status = HTTPStatus.SERVICE_UNAVAILABLE if unhealthy else HTTPStatus.OK
    return Reply(report, status=status, headers={"Cache-Control": "no-store"})


bp = api.blueprint()
