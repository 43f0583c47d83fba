"""`GET /api/health`: liveness plus database reachability, for probes and people."""

from http import HTTPStatus

from functions.http import Api, Reply
from shared.health import HealthPublic, check_health

api = Api("health")
HEALTH = api.path("/api/health", function="health")


@HEALTH.get(
    "getHealth",
    "Version and database reachability",
    response=HealthPublic,
    errors=(503,),
    error_body=HealthPublic,  # the report itself, with status degraded
    authenticated=False,
)
def health() -> Reply:
    report = check_health()
    # 503 lets a load balancer or Azure's health check see a lost database.
    status = HTTPStatus.OK if report.status == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
    return Reply(report, status=status)


bp = api.blueprint()
