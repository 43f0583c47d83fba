"""`GET /api/health`: liveness plus database reachability, for probes and people."""

from http import HTTPStatus

import azure.functions as func

from functions.http import json_response
from shared.health import check_health

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ unannotated


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    report = check_health()
    # 503 lets a load balancer or Azure's health check see a lost database.
    status = HTTPStatus.OK if report.status == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
    return json_response(report, status)
